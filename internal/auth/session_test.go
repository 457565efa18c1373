package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/store"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestSessionRevocation(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	if _, err := e.CreateUser("s@x.y", "password1"); err != nil {
		t.Fatal(err)
	}
	login := func() *LoginResult { return e.mustLogin("local-userpass", userpass("s@x.y", "password1")) }
	alive := func(r *LoginResult) (access, refresh bool) {
		_, errA := e.svc.VerifyAccessToken(ctx, r.AccessToken)
		_, errR := e.svc.RefreshAccessToken(ctx, r.RefreshToken)
		return errA == nil, errR == nil
	}

	// A3: logout ends one session.
	a, b := login(), login()
	if err := e.svc.Logout(ctx, a.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if x, y := alive(a); x || y {
		t.Fatalf("after logout: access %v refresh %v", x, y)
	}
	if x, y := alive(b); !x || !y {
		t.Fatal("logout ended another session")
	}
	var ae *Error
	if err := e.svc.Logout(ctx, a.RefreshToken); !errors.As(err, &ae) || ae.Message != "invalid session: failed to find refresh token" {
		t.Fatalf("second logout: %v", err)
	}

	// Revoke ends them all.
	if err := e.svc.RevokeSessions(ctx, b.UserID); err != nil {
		t.Fatal(err)
	}
	if x, y := alive(b); x || y {
		t.Fatal("revoked session alive")
	}

	// A4: disable kills tokens and blocks login; enable restores login.
	c := login()
	if err := e.svc.DisableUser(ctx, c.UserID); err != nil {
		t.Fatal(err)
	}
	if x, y := alive(c); x || y {
		t.Fatal("disabled user's session alive")
	}
	_, err := e.login("local-userpass", userpass("s@x.y", "password1"))
	wantCode(t, err, CodeUserDisabled, "disabled")
	if err := e.svc.EnableUser(ctx, c.UserID); err != nil {
		t.Fatal(err)
	}
	d := login()

	// A5: delete, then the same credentials fail as unknown.
	if err := e.svc.DeleteUser(ctx, d.UserID); err != nil {
		t.Fatal(err)
	}
	if x, y := alive(d); x || y {
		t.Fatal("deleted user's session alive")
	}
	_, err = e.login("local-userpass", userpass("s@x.y", "password1"))
	wantCode(t, err, CodeInvalidPassword, "unauthorized")
	if _, err := e.svc.User(ctx, d.UserID); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("deleted user found: %v", err)
	}
	for _, f := range []func() error{
		func() error { return e.svc.DisableUser(ctx, d.UserID) },
		func() error { return e.svc.EnableUser(ctx, d.UserID) },
		func() error { return e.svc.DeleteUser(ctx, d.UserID) },
		func() error { return e.svc.DeleteUser(ctx, "not-an-id") },
	} {
		if err := f(); !errors.Is(err, ErrUserNotFound) {
			t.Fatalf("on a missing user: %v", err)
		}
	}
	// The email can be registered again.
	if err := e.svc.RegisterUser(ctx, "", "s@x.y", "password2"); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.st.Database("__atoll").Collection(collIdentities).CountDocuments(ctx, bson.D{{Key: "user_id", Value: mustOID(d.UserID)}}, store.CountOptions{}); n != 0 {
		t.Fatalf("%d identities left", n)
	}
}

func mustOID(h string) bson.ObjectID { o, _ := bson.ObjectIDFromHex(h); return o }

// A session revoked through another process is refused here once the
// cache entry is older than SessionCacheTTL.
func TestSessionCacheBound(t *testing.T) {
	st := openStore(t)
	a := newEnvOn(t, st, testApp())
	b := newEnvOn(t, st, testApp())
	ctx := ctxT(t)
	r := a.mustLogin("anon-user", bson.D{})
	if _, err := a.svc.VerifyAccessToken(ctx, r.AccessToken); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.Logout(ctx, r.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.VerifyAccessToken(ctx, r.AccessToken); err == nil {
		t.Fatal("the revoking process accepts the token")
	}
	// Within the bound process a may still trust its cache; past it, not.
	a.clk.advance(DefaultSessionCacheTTL)
	if _, err := a.svc.VerifyAccessToken(ctx, r.AccessToken); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("after the cache bound: %v", err)
	}
}

func TestSessionCacheTTLIsCapped(t *testing.T) {
	e := newEnv(t, testApp(), func(o *Options) { o.SessionCacheTTL = time.Hour })
	if e.svc.cacheTTL != MaxSessionCacheTTL {
		t.Fatalf("cache ttl %v", e.svc.cacheTTL)
	}
}

func TestAuthEvents(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	caller, _ := e.svc.VerifyAccessToken(ctx, r.AccessToken)
	if _, err := e.CreateUser("ev@x.y", "password1"); err != nil {
		t.Fatal(err)
	}
	// link: no CREATE, no LOGIN.
	if _, err := e.svc.Login(ctx, LoginRequest{Provider: "local-userpass", Body: userpass("ev@x.y", "password1"), Link: caller}); err == nil {
		t.Fatal("linking an identity that has its own user succeeded")
	}
	if _, err := e.svc.RefreshAccessToken(ctx, r.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteUser(ctx, r.UserID); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range *e.hooks {
		got = append(got, string(ev.Operation)+":"+ev.Providers[0])
		if ev.User == nil || ev.Time.IsZero() {
			t.Fatalf("event %+v", ev)
		}
	}
	want := []string{"CREATE:anon-user", "LOGIN:anon-user", "CREATE:local-userpass", "DELETE:anon-user"}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
}

func TestExpiredSessionsAreDeleted(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	if _, err := e.CreateUser("j@x.y", "password1"); err != nil {
		t.Fatal(err)
	}
	old := e.mustLogin("local-userpass", userpass("j@x.y", "password1"))
	e.clk.advance(59 * 24 * time.Hour)
	fresh := e.mustLogin("local-userpass", userpass("j@x.y", "password1"))
	e.clk.advance(2 * 24 * time.Hour)
	e.svc.deleteExpired(ctx)
	n, _ := e.st.Database("__atoll").Collection(collSessions).CountDocuments(ctx, bson.D{}, store.CountOptions{})
	if n != 1 {
		t.Fatalf("%d sessions left, want 1", n)
	}
	if _, err := e.svc.RefreshAccessToken(ctx, fresh.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RefreshAccessToken(ctx, old.RefreshToken); err == nil {
		t.Fatal("expired session refreshed")
	}
}

// A lookup that read the session before a revocation cannot put it back
// into the cache afterwards.
func TestRevocationBeatsStaleCacheFill(t *testing.T) {
	c := newSessionCache(5 * time.Second)
	now := time.Unix(1000, 0)
	c.forget("s", now)
	c.put("s", "user", now) // a stale read finishing late
	if owner, ok := c.get("s", now); !ok || owner != "" {
		t.Fatalf("owner %q ok %v", owner, ok)
	}
	later := now.Add(6 * time.Second)
	c.put("s", "", later)
	if owner, ok := c.get("s", later); !ok || owner != "" {
		t.Fatal("expired tombstone blocks a fresh answer")
	}
}

// A full session cache makes room without forgetting a recent
// revocation, and never exceeds its cap.
func TestSessionCacheFullKeepsRevocations(t *testing.T) {
	c := newSessionCache(5 * time.Second)
	now := time.Unix(1000, 0)
	c.forget("revoked", now)
	for range maxSessionCacheEntries + 10 {
		c.put(bson.NewObjectID().Hex(), "user", now)
		if len(c.m) > maxSessionCacheEntries {
			t.Fatalf("%d entries", len(c.m))
		}
	}
	c.put("revoked", "user", now) // a stale lookup finishing late
	if owner, ok := c.get("revoked", now); !ok || owner != "" {
		t.Fatalf("revocation lost when the cache filled: owner %q ok %v", owner, ok)
	}
}
