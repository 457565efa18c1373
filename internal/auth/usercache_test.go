package auth

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Profile reads through the user cache; changes made through this
// process show at once, a disabled user is refused.
func TestProfileCacheInvalidatedByOwnWrites(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	c, err := e.svc.VerifyAccessToken(ctx, r.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Profile(ctx, c)
	if err != nil || len(p.Identities) != 1 {
		t.Fatalf("profile %+v %v", p, err)
	}
	if e.svc.users.len() != 1 {
		t.Fatal("user not cached")
	}

	// Link: the new identity is in the next profile.
	e.fn.fns["customAuth"] = func(args ...any) (any, error) { return "ext-1", nil }
	if _, err := e.svc.Login(ctx, LoginRequest{Provider: "custom-function", Body: bson.D{}, Link: c}); err != nil {
		t.Fatal(err)
	}
	if p, err = e.svc.Profile(ctx, c); err != nil || len(p.Identities) != 2 {
		t.Fatalf("after link: %+v %v", p, err)
	}

	// Disable: refused at once, through the token and through Profile
	// with a caller verified before.
	if err := e.svc.DisableUser(ctx, r.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("disabled user's token: %v", err)
	}
	if _, err := e.svc.Profile(ctx, c); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("disabled user's profile: %v", err)
	}

	// Delete: no profile.
	if err := e.svc.EnableUser(ctx, r.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Profile(ctx, c); err != nil {
		t.Fatalf("enabled again: %v", err)
	}
	if err := e.svc.DeleteUser(ctx, r.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Profile(ctx, c); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("deleted user's profile: %v", err)
	}
}

// A user disabled by another process: its token and profile are refused
// here within SessionCacheTTL.
func TestProfileCacheDisabledElsewhereWithinBound(t *testing.T) {
	st := openStore(t)
	a := newEnvOn(t, st, testApp())
	b := newEnvOn(t, st, testApp())
	ctx := ctxT(t)
	r := a.mustLogin("anon-user", bson.D{})
	c, err := a.svc.VerifyAccessToken(ctx, r.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Profile(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.DisableUser(ctx, r.UserID); err != nil {
		t.Fatal(err)
	}
	a.clk.advance(DefaultSessionCacheTTL)
	if _, err := a.svc.VerifyAccessToken(ctx, r.AccessToken); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("token past the bound: %v", err)
	}
	if _, err := a.svc.Profile(ctx, c); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("profile past the bound: %v", err)
	}
}

// A read that raced with a write through this process is not cached, and
// the cache holds at most its cap.
func TestUserCacheBounds(t *testing.T) {
	c := newUserCache(5*time.Second, 8)
	now := time.Unix(1000, 0)
	_, gen, _ := c.get("u", now)
	c.invalidate("u") // a write landed while "u" was being read
	c.put(&User{ID: "u"}, now, gen)
	if _, _, ok := c.get("u", now); ok {
		t.Fatal("stale read cached")
	}
	for i := range 50 {
		id := fmt.Sprint(i)
		_, gen, _ := c.get(id, now)
		c.put(&User{ID: id}, now, gen)
		if c.len() > 8 {
			t.Fatalf("%d entries", c.len())
		}
	}
	if _, _, ok := c.get("49", now); !ok {
		t.Fatal("newest entry evicted")
	}
	if _, _, ok := c.get("49", now.Add(5*time.Second)); ok {
		t.Fatal("entry served past the TTL")
	}
}

// CachedUser (the data API's read) shares the cache: a link through this
// process shows at once, a delete makes it ErrUserNotFound.
func TestCachedUserInvalidatedByOwnWrites(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	c, err := e.svc.VerifyAccessToken(ctx, r.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.svc.CachedUser(ctx, r.UserID)
	if err != nil || len(u.Identities) != 1 {
		t.Fatalf("cached user %+v %v", u, err)
	}
	if e.svc.users.len() != 1 {
		t.Fatal("user not cached")
	}
	e.fn.fns["customAuth"] = func(args ...any) (any, error) { return "ext-2", nil }
	if _, err := e.svc.Login(ctx, LoginRequest{Provider: "custom-function", Body: bson.D{}, Link: c}); err != nil {
		t.Fatal(err)
	}
	if u, err = e.svc.CachedUser(ctx, r.UserID); err != nil || len(u.Identities) != 2 {
		t.Fatalf("after link: %+v %v", u, err)
	}
	if err := e.svc.DeleteUser(ctx, r.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CachedUser(ctx, r.UserID); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("deleted user: %v", err)
	}
}
