package auth

import (
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestRateLimits(t *testing.T) {
	e := newEnv(t, testApp(), func(o *Options) {
		o.RateLimits = RateLimits{PerIP: Rate{Burst: 8, Interval: time.Second}, PerIdentity: Rate{Burst: 3, Interval: time.Minute}}
	})
	ctx := ctxT(t)
	if _, err := e.CreateUser("victim@x.y", "password1"); err != nil {
		t.Fatal(err)
	}
	try := func(ip, email, pw string) error {
		_, err := e.svc.Login(ctx, LoginRequest{Provider: "local-userpass", Body: userpass(email, pw), ClientIP: ip})
		return err
	}
	// Per identity: 3 guesses, then refused even from new IPs and even
	// with the right password.
	for i := range 3 {
		if err := try("10.0.0.1", "victim@x.y", "guess"); !errors.Is(err, ErrInvalidPassword) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	for _, ip := range []string{"10.0.0.1", "10.0.0.2"} {
		if err := try(ip, "victim@x.y", "password1"); !errors.Is(err, ErrLimitExceeded) {
			t.Fatalf("from %s: %v", ip, err)
		}
	}
	e.clk.advance(time.Minute)
	if err := try("10.0.0.3", "victim@x.y", "password1"); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	// Per IP: 8 attempts across many identities, then refused.
	for i := range 8 {
		err := try("10.9.9.9", string(rune('a'+i))+"@x.y", "password1")
		if errors.Is(err, ErrLimitExceeded) {
			t.Fatalf("attempt %d limited", i)
		}
	}
	if err := try("10.9.9.9", "zz@x.y", "password1"); !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("ninth attempt: %v", err)
	}
	if err := e.svc.RegisterUser(ctx, "10.9.9.9", "new@x.y", "password1"); !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("register from a limited IP: %v", err)
	}
	if err := e.svc.ConfirmUser(ctx, "10.9.9.9", "t", "id"); !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("confirm from a limited IP: %v", err)
	}
	if err := e.svc.SendPasswordReset(ctx, "10.9.9.9", "victim@x.y"); !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("reset from a limited IP: %v", err)
	}
	if _, err := e.svc.Login(ctx, LoginRequest{Provider: "anon-user", Body: bson.D{}, ClientIP: "10.9.9.9"}); !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("anonymous login from a limited IP: %v", err)
	}
	if _, err := e.svc.Login(ctx, LoginRequest{Provider: "anon-user", Body: bson.D{}, ClientIP: "10.9.9.10"}); err != nil {
		t.Fatalf("anonymous login from another IP: %v", err)
	}
	if c := ErrLimitExceeded.Code.HTTPStatus(); c != 429 {
		t.Fatalf("status %d", c)
	}
}

func TestRateLimitsOnByDefault(t *testing.T) {
	e := newEnv(t, testApp(), func(o *Options) { o.RateLimits = RateLimits{} })
	if e.svc.limits.cfg.Disabled || e.svc.limits.cfg.PerIdentity != DefaultRateLimits.PerIdentity {
		t.Fatalf("limits %+v", e.svc.limits.cfg)
	}
	var err error
	for range DefaultRateLimits.PerIdentity.Burst + 1 {
		_, err = e.login("local-userpass", userpass("nobody@x.y", "password1"))
	}
	if !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("default limits: %v", err)
	}
}
