package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/store/embedded"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	var code int
	switch args[0] {
	case "users":
		code = usersCmd(args[1:], strings.NewReader(stdin), &out, &errb)
	default:
		code = run(args, &out, &errb)
	}
	return code, out.String(), errb.String()
}

// withService opens the data directory the CLI wrote, as the server would.
func withService(t *testing.T, dir string, fn func(ctx context.Context, svc *auth.Service)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := embedded.Open(ctx, dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	app := &appconfig.App{AppID: "cli-test", AuthProviders: map[string]*appconfig.AuthProvider{
		"local-userpass": {Name: "local-userpass", Type: "local-userpass", Config: &appconfig.ProviderConfig{AutoConfirm: true}},
		"api-key":        {Name: "api-key", Type: "api-key"},
	}}
	svc, err := auth.New(ctx, auth.Options{Store: st, App: app, RateLimits: auth.RateLimits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	fn(ctx, svc)
}

func TestUsersCLI(t *testing.T) {
	dir := t.TempDir()
	d := "--data=" + dir
	code, out, stderr := runCLI(t, "s3cret-password\n", "users", "create", d, "--email", "cli@x.y", "--password-stdin")
	if code != 0 {
		t.Fatalf("create: %d %s", code, stderr)
	}
	id := strings.TrimSpace(out)
	if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id) {
		t.Fatalf("create printed %q", out)
	}
	if code, _, stderr := runCLI(t, "", "users", "create", d, "--email", "cli@x.y", "--password", "another-password"); code != 1 || !strings.Contains(stderr, "name already in use") {
		t.Fatalf("duplicate: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "", "users", "create", d, "--email", "short@x.y", "--password", "abc"); code != 1 || !strings.Contains(stderr, "between 6 and 128") {
		t.Fatalf("short password: %d %s", code, stderr)
	}
	code, out, _ = runCLI(t, "", "users", "list", d)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "cli@x.y") || !strings.Contains(out, "local-userpass") {
		t.Fatalf("list: %d %s", code, out)
	}
	var refresh string
	withService(t, dir, func(ctx context.Context, svc *auth.Service) {
		r, err := svc.Login(ctx, auth.LoginRequest{Provider: "local-userpass", Body: bson.D{{Key: "username", Value: "cli@x.y"}, {Key: "password", Value: "s3cret-password"}}})
		if err != nil || r.UserID != id {
			t.Fatalf("login as the CLI-created user: %v", err)
		}
		refresh = r.RefreshToken
	})
	for _, sub := range []string{"revoke-sessions", "disable", "enable"} {
		if code, _, stderr := runCLI(t, "", "users", sub, d, id); code != 0 {
			t.Fatalf("%s: %d %s", sub, code, stderr)
		}
	}
	withService(t, dir, func(ctx context.Context, svc *auth.Service) {
		if _, err := svc.RefreshAccessToken(ctx, refresh); err == nil {
			t.Fatal("session survived revoke-sessions")
		}
	})
	if code, _, _ := runCLI(t, "", "users", "delete", d, id); code != 0 {
		t.Fatal("delete failed")
	}
	for _, sub := range []string{"delete", "disable", "revoke-sessions"} {
		if code, _, stderr := runCLI(t, "", "users", sub, d, id); code != 1 || !strings.Contains(stderr, "user not found") {
			t.Fatalf("%s of a deleted user: %d %s", sub, code, stderr)
		}
	}
	if code, _, _ := runCLI(t, "", "users", "disable", d); code != 2 {
		t.Fatal("missing id accepted")
	}
	if code, _, _ := runCLI(t, "", "users", "frobnicate"); code != 2 {
		t.Fatal("unknown subcommand accepted")
	}
}

func TestAPIKeysCLI(t *testing.T) {
	dir := t.TempDir()
	d := "--data=" + dir
	code, out, stderr := runCLI(t, "", "apikeys", "create", d, "--name", "backend")
	if code != 0 {
		t.Fatalf("create: %d %s", code, stderr)
	}
	m := regexp.MustCompile(`id:\s+([0-9a-f]{24})\nname:\s+backend\nkey:\s+([0-9a-f]{64})\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create printed %q", out)
	}
	id, key := m[1], m[2]
	code, out, _ = runCLI(t, "", "apikeys", "list", d)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "backend") || strings.Contains(out, key) {
		t.Fatalf("list: %s", out)
	}
	withService(t, dir, func(ctx context.Context, svc *auth.Service) {
		r, err := svc.Login(ctx, auth.LoginRequest{Provider: "api-key", Body: bson.D{{Key: "key", Value: key}}})
		if err != nil {
			t.Fatalf("login with the CLI key: %v", err)
		}
		if u, _ := svc.User(ctx, r.UserID); u.Type != "server" {
			t.Fatalf("user type %s", u.Type)
		}
	})
	if code, _, stderr := runCLI(t, "", "apikeys", "delete", d, id); code != 0 {
		t.Fatalf("delete: %s", stderr)
	}
	withService(t, dir, func(ctx context.Context, svc *auth.Service) {
		if _, err := svc.Login(ctx, auth.LoginRequest{Provider: "api-key", Body: bson.D{{Key: "key", Value: key}}}); err == nil {
			t.Fatal("deleted key logs in")
		}
	})
	if code, _, stderr := runCLI(t, "", "apikeys", "delete", d, id); code != 1 || !strings.Contains(stderr, "API key not found") {
		t.Fatalf("second delete: %d %s", code, stderr)
	}
	if code, _, _ := runCLI(t, "", "apikeys", "create", d); code != 2 {
		t.Fatal("create without a name accepted")
	}
}
