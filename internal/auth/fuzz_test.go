package auth

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzVerifyTokens: no input panics, and nothing but the genuine tokens
// is accepted.
func FuzzVerifyTokens(f *testing.F) {
	e := newEnvF(f)
	ctx := context.Background()
	r, err := e.svc.Login(ctx, LoginRequest{Provider: "anon-user", Body: bson.D{}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{r.AccessToken, r.RefreshToken, "", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.",
		r.AccessToken + "x", r.RefreshToken[:len(r.RefreshToken)-2]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := e.svc.VerifyAccessToken(ctx, tok)
		if err == nil && tok != r.AccessToken {
			// A different encoding of the same signed token is only
			// possible if the signature still verifies; claims must match.
			if c.UserID != r.UserID {
				t.Fatalf("accepted foreign token %q", tok)
			}
		}
		if err != nil && !errors.Is(err, ErrInvalidSession) {
			t.Fatalf("unexpected error kind %v", err)
		}
		sess, err := e.svc.VerifyRefreshToken(ctx, tok)
		if err == nil && sess.UserID != r.UserID {
			t.Fatalf("accepted foreign refresh token %q", tok)
		}
	})
}

func newEnvF(f *testing.F) *env {
	st, err := openStoreTB(f)
	if err != nil {
		f.Fatal(err)
	}
	svc, err := New(context.Background(), Options{Store: st, App: testApp(), Argon2: cheapArgon, RateLimits: RateLimits{Disabled: true}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { svc.Close() })
	return &env{st: st, svc: svc}
}
