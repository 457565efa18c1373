package auth

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// BenchmarkVerifyAccessToken is the per-request cost of an authenticated
// call with a token seen in the last SessionCacheTTL: the verification
// and the session answer both come from the caches.
func BenchmarkVerifyAccessToken(b *testing.B) {
	e := newEnvB(b)
	r, err := e.svc.Login(context.Background(), LoginRequest{Provider: "anon-user", Body: bson.D{}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAccessTokenUncached is the first request with a token
// (or one every SessionCacheTTL): the full HS256 and claims check, with
// the session answer still cached.
func BenchmarkVerifyAccessTokenUncached(b *testing.B) {
	e := newEnvB(b)
	r, err := e.svc.Login(context.Background(), LoginRequest{Provider: "anon-user", Body: bson.D{}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.svc.access.reset()
		if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefreshAccessToken is POST /auth/session: refresh token check,
// session read, custom user data lookup (disabled here), signing.
func BenchmarkRefreshAccessToken(b *testing.B) {
	e := newEnvB(b)
	ctx := context.Background()
	r, err := e.svc.Login(ctx, LoginRequest{Provider: "anon-user", Body: bson.D{}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.svc.RefreshAccessToken(ctx, r.RefreshToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginPassword is an email/password login with DefaultArgon2:
// the argon2id verification dominates.
func BenchmarkLoginPassword(b *testing.B) {
	e := newEnvB(b, func(o *Options) { o.Argon2 = DefaultArgon2 })
	ctx := context.Background()
	if _, err := e.svc.CreateEmailPasswordUser(ctx, "bench@x.y", "benchpassword"); err != nil {
		b.Fatal(err)
	}
	body := userpass("bench@x.y", "benchpassword")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.svc.Login(ctx, LoginRequest{Provider: "local-userpass", Body: body}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginPasswordParallel shows logins per second on all cores.
func BenchmarkLoginPasswordParallel(b *testing.B) {
	e := newEnvB(b, func(o *Options) { o.Argon2 = DefaultArgon2 })
	ctx := context.Background()
	if _, err := e.svc.CreateEmailPasswordUser(ctx, "bench@x.y", "benchpassword"); err != nil {
		b.Fatal(err)
	}
	body := userpass("bench@x.y", "benchpassword")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.svc.Login(ctx, LoginRequest{Provider: "local-userpass", Body: body}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// newEnvB is newEnv for benchmarks: real clock, limits off.
func newEnvB(b *testing.B, tweak ...func(*Options)) *env {
	b.Helper()
	ctx := context.Background()
	st, err := openStoreTB(b)
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Store: st, App: testApp(), Argon2: cheapArgon, RateLimits: RateLimits{Disabled: true}}
	for _, f := range tweak {
		f(&opts)
	}
	svc, err := New(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	return &env{st: st, svc: svc}
}
