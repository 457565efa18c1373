package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
	mongostore "github.com/atollhq/atoll/internal/store/mongo"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// cheapArgon keeps tests fast; the real cost is measured by the
// benchmarks.
var cheapArgon = Argon2Params{Time: 1, Memory: 64, Threads: 1}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeFuncs is a FunctionRunner whose functions are Go closures.
type fakeFuncs struct {
	mu    sync.Mutex
	fns   map[string]func(args ...any) (any, error)
	calls []string
}

func (f *fakeFuncs) CallFunction(ctx context.Context, name string, args ...any) (any, error) {
	f.mu.Lock()
	fn := f.fns[name]
	f.calls = append(f.calls, name)
	f.mu.Unlock()
	if fn == nil {
		return nil, fmt.Errorf("function not found: %q", name)
	}
	return fn(args...)
}

// memMailer records emails.
type memMailer struct {
	mu   sync.Mutex
	sent []Mail
}

func (m *memMailer) Send(ctx context.Context, mail Mail) error {
	m.mu.Lock()
	m.sent = append(m.sent, mail)
	m.mu.Unlock()
	return nil
}

// last returns token and tokenId of the last email's link.
func (m *memMailer) last(t *testing.T) (token, tokenID string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		t.Fatal("no email sent")
	}
	text := m.sent[len(m.sent)-1].Text
	for _, f := range strings.Fields(text) {
		if i := strings.Index(f, "?"); i >= 0 && strings.Contains(f, "token=") {
			q := f[i+1:]
			for _, kv := range strings.Split(q, "&") {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "token":
					token = v
				case "tokenId":
					tokenID = v
				}
			}
		}
	}
	if token == "" || tokenID == "" {
		t.Fatalf("no token in email %q", text)
	}
	return token, tokenID
}

type env struct {
	t     *testing.T
	st    store.Store
	svc   *Service
	clk   *clock
	fn    *fakeFuncs
	mail  *memMailer
	logs  *bytes.Buffer
	app   *appconfig.App
	hooks *[]AuthEvent
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := openStoreTB(t)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// openStoreTB opens a fresh embedded store, or, when
// ATOLL_TEST_AUTH_MONGODB_URI names a deployment, that deployment with
// the databases auth and its tests use (__atoll, store) dropped first.
// Tests run one at a time, so they do not share state; the variable is
// separate from ATOLL_TEST_MONGODB_URI because dropping __atoll must not
// happen under another package's tests running in parallel.
func openStoreTB(tb testing.TB) (store.Store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if uri := os.Getenv("ATOLL_TEST_AUTH_MONGODB_URI"); uri != "" {
		st, err := mongostore.Open(ctx, uri)
		if err != nil {
			return nil, err
		}
		for _, db := range []string{store.SystemDatabase, "store"} {
			if err := st.Database(db).Drop(ctx); err != nil {
				return nil, err
			}
		}
		tb.Cleanup(func() { st.Close(context.Background()) })
		return st, nil
	}
	st, err := embedded.Open(ctx, tb.TempDir(), embedded.Options{SyncOff: true})
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { st.Close(context.Background()) })
	return st, nil
}

func testApp() *appconfig.App {
	return &appconfig.App{
		AppID: "myapp-abcde",
		AuthProviders: map[string]*appconfig.AuthProvider{
			"anon-user": {Name: "anon-user", Type: "anon-user"},
			"api-key":   {Name: "api-key", Type: "api-key"},
			"local-userpass": {Name: "local-userpass", Type: "local-userpass",
				Config: &appconfig.ProviderConfig{AutoConfirm: true, ResetPasswordURL: "http://localhost/reset"}},
			"custom-token": {Name: "custom-token", Type: "custom-token",
				Config:       &appconfig.ProviderConfig{SigningAlgorithm: "HS256"},
				SecretConfig: map[string]appconfig.StringList{"signingKeys": {Values: []string{"jwt-secret"}}},
				MetadataFields: []*appconfig.MetadataField{
					{Required: true, Name: "mySecretField", FieldName: "secret"},
					{Name: "id"},
					{Name: "user_data.license"},
				}},
			"custom-function": {Name: "custom-function", Type: "custom-function",
				Config: &appconfig.ProviderConfig{AuthFunctionName: "customAuth"}},
		},
		Secrets: map[string]string{"jwt-secret": "2k66QfKeTRk3MdZ5vpDYgZCu2k66QfKeTRk3MdZ5vpDYgZCu"},
	}
}

func newEnv(t *testing.T, app *appconfig.App, tweak ...func(*Options)) *env {
	t.Helper()
	return newEnvOn(t, openStore(t), app, tweak...)
}

func newEnvOn(t *testing.T, st store.Store, app *appconfig.App, tweak ...func(*Options)) *env {
	t.Helper()
	e := &env{t: t, st: st, clk: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		fn: &fakeFuncs{fns: map[string]func(args ...any) (any, error){}}, mail: &memMailer{},
		logs: &bytes.Buffer{}, app: app, hooks: &[]AuthEvent{}}
	var mu sync.Mutex
	opts := Options{Store: st, App: app, Functions: e.fn, Mailer: e.mail, Now: e.clk.now,
		Logger: slog.New(slog.NewJSONHandler(lockedWriter{&mu, e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Argon2: cheapArgon, RateLimits: RateLimits{Disabled: true},
		Hooks: []EventHook{func(ctx context.Context, ev AuthEvent) { mu.Lock(); *e.hooks = append(*e.hooks, ev); mu.Unlock() }}}
	for _, f := range tweak {
		f(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	e.svc = svc
	return e
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (e *env) login(provider string, body bson.D) (*LoginResult, error) {
	return e.svc.Login(ctxT(e.t), LoginRequest{Provider: provider, Body: body, ClientIP: "127.0.0.1"})
}

func (e *env) mustLogin(provider string, body bson.D) *LoginResult {
	e.t.Helper()
	r, err := e.login(provider, body)
	if err != nil {
		e.t.Fatalf("login %s: %v", provider, err)
	}
	return r
}

func userpass(email, pw string) bson.D {
	return bson.D{{Key: "username", Value: email}, {Key: "password", Value: pw}}
}

// claims decodes a JWT payload without verifying it, as realm-web does.
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func wantCode(t *testing.T, err error, code Code, msgPart string) {
	t.Helper()
	var ae *Error
	if err == nil {
		t.Fatalf("want %s error, got nil", code)
	}
	if !asErr(err, &ae) || ae.Code != code {
		t.Fatalf("want code %s, got %v (%T)", code, err, err)
	}
	if msgPart != "" && !strings.Contains(ae.Message, msgPart) {
		t.Fatalf("want message containing %q, got %q", msgPart, ae.Message)
	}
}
