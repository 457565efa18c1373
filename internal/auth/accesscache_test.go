package auth

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A verified token stays cached, yet a logout through this process
// refuses it on the next request.
func TestAccessCacheRevocationHereIsImmediate(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := e.svc.access.get(accessKey(r.AccessToken), e.clk.now()); !ok {
		t.Fatal("verified token not cached")
	}
	if err := e.svc.Logout(ctx, r.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("after logout here: %v", err)
	}
	// The same through disable and delete.
	for name, end := range map[string]func(userID string) error{
		"disable": func(id string) error { return e.svc.DisableUser(ctx, id) },
		"delete":  func(id string) error { return e.svc.DeleteUser(ctx, id) },
		"revoke":  func(id string) error { return e.svc.RevokeSessions(ctx, id) },
	} {
		r := e.mustLogin("anon-user", bson.D{})
		if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); err != nil {
			t.Fatal(err)
		}
		if err := end(r.UserID); err != nil {
			t.Fatal(name, err)
		}
		if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); !errors.Is(err, ErrInvalidSession) {
			t.Fatalf("after %s here: %v", name, err)
		}
	}
}

// The token cache does not extend the session check: a session ended by
// another process is refused once the session answer is SessionCacheTTL
// old, even when the token presented was verified (and cached) later.
func TestAccessCacheRevocationElsewhereWithinBound(t *testing.T) {
	st := openStore(t)
	a := newEnvOn(t, st, testApp())
	b := newEnvOn(t, st, testApp())
	ctx := ctxT(t)
	r := a.mustLogin("anon-user", bson.D{})
	if _, err := a.svc.VerifyAccessToken(ctx, r.AccessToken); err != nil { // session answer cached at t0
		t.Fatal(err)
	}
	a.clk.advance(3 * time.Second)
	// Same session, a newer access token (a refresh), verified at t0+3s.
	// The clock moved, so it is a different token.
	fresh, err := a.svc.RefreshAccessToken(ctx, r.RefreshToken)
	if err != nil || fresh == r.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
	if _, err := a.svc.VerifyAccessToken(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.Logout(ctx, r.RefreshToken); err != nil {
		t.Fatal(err)
	}
	a.clk.advance(DefaultSessionCacheTTL - 3*time.Second)
	if _, _, ok := a.svc.access.get(accessKey(fresh), a.clk.now()); !ok {
		t.Fatal("the test needs the fresh token still cached")
	}
	for _, tok := range []string{r.AccessToken, fresh} {
		if _, err := a.svc.VerifyAccessToken(ctx, tok); !errors.Is(err, ErrInvalidSession) {
			t.Fatalf("session ended elsewhere, past the bound: %v", err)
		}
	}
}

// A cached token is refused from its exp on, although the cache entry is
// younger than SessionCacheTTL.
func TestAccessCacheRefusesExpiredToken(t *testing.T) {
	e := newEnv(t, testApp(), func(o *Options) { o.AccessTokenTTL = 3 * time.Second })
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); err != nil {
		t.Fatal(err)
	}
	e.clk.advance(2 * time.Second)
	if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); err != nil {
		t.Fatalf("before exp: %v", err)
	}
	e.clk.advance(time.Second) // now == exp
	if e.svc.access.len() == 0 {
		t.Fatal("the test needs the entry still in the cache")
	}
	if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("expired token accepted: %v", err)
	}
}

// The cache key is the whole token: a token differing from a cached one
// in its signature or payload is verified afresh, and refused.
func TestAccessCacheKeyIsWholeToken(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(r.AccessToken, ".")
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	for _, bad := range []string{
		parts[0] + "." + parts[1] + "." + flip(parts[2], 5),
		parts[0] + "." + flip(parts[1], 10) + "." + parts[2],
		flip(parts[0], 3) + "." + parts[1] + "." + parts[2],
		r.AccessToken + ".",
		r.RefreshToken, // a refresh token is never an access token
	} {
		if _, err := e.svc.VerifyAccessToken(ctx, bad); !errors.Is(err, ErrInvalidSession) {
			t.Fatalf("altered token accepted: %v", err)
		}
	}
	if e.svc.access.len() != 1 {
		t.Fatalf("refused tokens were cached: %d entries", e.svc.access.len())
	}
}

// The custom user data of a cached token is served as verified.
func TestAccessCacheKeepsClaims(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	first, err := e.svc.VerifyAccessToken(ctx, r.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.VerifyAccessToken(ctx, r.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if first == second || first.UserID != second.UserID || first.SessionID != second.SessionID ||
		!first.ExpiresAt.Equal(second.ExpiresAt) || second.UserID != r.UserID || second.SessionID == "" ||
		second.ExpiresAt.Sub(second.IssuedAt) != DefaultAccessTokenTTL {
		t.Fatalf("callers %+v %+v", first, second)
	}
}

// The cache never holds more than its cap, and drops what expired first.
func TestAccessCacheIsBounded(t *testing.T) {
	c := newAccessCache(5*time.Second, 16)
	now := time.Unix(1000, 0)
	for i := range 100 {
		k := sha256.Sum256([]byte(fmt.Sprint(i)))
		_, gen, _ := c.get(k, now)
		c.put(k, &verifiedAccess{at: now, expiresAt: now.Add(time.Hour)}, gen)
		if c.len() > 16 {
			t.Fatalf("%d entries after %d puts", c.len(), i+1)
		}
	}
	last := sha256.Sum256([]byte("99"))
	if _, _, ok := c.get(last, now); !ok {
		t.Fatal("the newest entry was evicted")
	}
	// Past the TTL nothing is served, and a fill sweeps the stale ones.
	later := now.Add(5 * time.Second)
	if _, _, ok := c.get(last, later); ok {
		t.Fatal("entry served past the TTL")
	}
	k := sha256.Sum256([]byte("new"))
	_, gen, _ := c.get(k, later)
	c.put(k, &verifiedAccess{at: later, expiresAt: later.Add(time.Hour)}, gen)
	if c.len() != 1 {
		t.Fatalf("%d entries after the sweep, want 1", c.len())
	}
}

// A verification that started before the keys changed is not stored.
func TestAccessCacheResetBeatsStaleFill(t *testing.T) {
	c := newAccessCache(5*time.Second, 16)
	now := time.Unix(1000, 0)
	k := sha256.Sum256([]byte("t"))
	_, gen, _ := c.get(k, now)
	c.reset()
	c.put(k, &verifiedAccess{at: now, expiresAt: now.Add(time.Hour)}, gen)
	if _, _, ok := c.get(k, now); ok {
		t.Fatal("a verification from before the reset was stored")
	}
}
