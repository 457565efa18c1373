package auth

import (
	"sync"
	"time"
)

// userCache keeps recently read user documents for GET /auth/profile,
// the one read SDKs repeat often (realm-web after every login and on
// demand). Login, linking and admin operations read the store directly.
//
// Bounds, the same as the session check's: an entry is used for at most
// SessionCacheTTL after it was read, so a change made by another process
// shows within that time; a change made through this process (disable,
// enable, delete, link, identity metadata refresh) drops the entry at
// once, and a read that raced with such a change is not stored
// (generation check). The number of entries is capped.
type userCache struct {
	ttl time.Duration
	max int

	mu  sync.RWMutex
	m   map[string]userEntry
	gen uint64
}

type userEntry struct {
	// u is shared by every reader and never modified.
	u  *User
	at time.Time
}

// maxUserCacheEntries caps the cache (a user document is typically well
// under 1 KB).
const maxUserCacheEntries = 10_000

func newUserCache(ttl time.Duration, maxEntries int) *userCache {
	return &userCache{ttl: ttl, max: maxEntries, m: map[string]userEntry{}}
}

// get returns the cached user, if fresh at now, and the generation to
// pass to put otherwise. Take the generation before reading the store.
func (c *userCache) get(id string, now time.Time) (u *User, gen uint64, ok bool) {
	c.mu.RLock()
	e, found := c.m[id]
	gen = c.gen
	c.mu.RUnlock()
	if found && !now.Before(e.at) && now.Sub(e.at) < c.ttl {
		return e.u, gen, true
	}
	return nil, gen, false
}

// put stores a user read at now, unless this process changed any user
// since gen was taken.
func (c *userCache) put(u *User, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= c.max {
		for id, e := range c.m {
			if now.Sub(e.at) >= c.ttl || now.Before(e.at) {
				delete(c.m, id)
			}
		}
		for id := range c.m {
			if len(c.m) < c.max-c.max/8 {
				break
			}
			delete(c.m, id)
		}
	}
	c.m[u.ID] = userEntry{u: u, at: now}
}

// invalidate drops the user, after this process wrote to their document.
func (c *userCache) invalidate(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.gen++
	c.mu.Unlock()
}

func (c *userCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
