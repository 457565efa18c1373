package auth

import (
	"crypto/sha256"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Every authenticated request verifies its access token, and a client
// presents the same token for up to 30 minutes. accessCache remembers the
// outcome of the signature, algorithm, kid, type and time checks of
// access tokens that passed them, so a repeated token costs one SHA-256
// and a map lookup instead of base64, JSON and HMAC work.
//
// What it does not cache is whether the session is alive: that answer
// comes from the session cache on every request, so a revocation through
// this process still takes effect at once and one through another process
// within SessionCacheTTL, exactly as without this cache.
//
// Bounds: an entry is trusted for at most SessionCacheTTL after the
// verification and never at or past the token's exp. Only tokens that
// verified are stored (garbage cannot fill the cache), keyed by the
// SHA-256 of the whole compact token, so neither the token nor a usable
// part of it is kept in memory and a token differing in any byte misses.
// The number of entries is capped (maxAccessCacheEntries).
type accessCache struct {
	ttl time.Duration
	max int

	mu sync.RWMutex
	m  map[[sha256.Size]byte]*verifiedAccess
	// gen changes when the signing keys change (reset): a verification
	// that started under the old keys does not store its result.
	gen uint64
}

// verifiedAccess is what verifying an access token established. It is
// shared by every request presenting the same token and never modified.
type verifiedAccess struct {
	userID, sessionID, deviceID string
	issuedAt, expiresAt         time.Time
	// customData is the token's user_data claim, decoded once (nil when
	// there is none).
	customData bson.D
	// at is when the token was verified.
	at time.Time
}

// maxAccessCacheEntries caps the cache: ~200 bytes an entry, so the cap
// holds the memory to a few megabytes whatever the traffic.
const maxAccessCacheEntries = 20_000

func newAccessCache(ttl time.Duration, maxEntries int) *accessCache {
	return &accessCache{ttl: ttl, max: maxEntries, m: map[[sha256.Size]byte]*verifiedAccess{}}
}

func accessKey(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// usable reports whether v may still be trusted at now.
func (c *accessCache) usable(v *verifiedAccess, now time.Time) bool {
	return !now.Before(v.at) && now.Sub(v.at) < c.ttl && now.Before(v.expiresAt)
}

// get returns the cached verification of the token with key k, if it may
// still be trusted at now, and the generation to pass to put otherwise.
func (c *accessCache) get(k [sha256.Size]byte, now time.Time) (v *verifiedAccess, gen uint64, ok bool) {
	c.mu.RLock()
	v, found := c.m[k]
	gen = c.gen
	c.mu.RUnlock()
	if found && c.usable(v, now) {
		return v, gen, true
	}
	return nil, gen, false
}

// put stores a verification made under generation gen. When the cache is
// full it drops what is no longer usable, then arbitrary entries (a miss
// only costs a verification), down to 7/8 of the cap.
func (c *accessCache) put(k [sha256.Size]byte, v *verifiedAccess, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= c.max {
		for key, e := range c.m {
			if !c.usable(e, v.at) {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) < c.max-c.max/8 {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = v
}

// reset forgets every entry, for when signing keys were reloaded or
// retired: tokens of a removed key must stop verifying here at once.
func (c *accessCache) reset() {
	c.mu.Lock()
	clear(c.m)
	c.gen++
	c.mu.Unlock()
}

func (c *accessCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
