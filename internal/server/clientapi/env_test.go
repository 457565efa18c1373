package clientapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/server"
	"github.com/atollhq/atoll/internal/server/clientapi"
	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
)

const (
	testAppID  = "test-app-abcde"
	jwtKey     = "2k66QfKeTRk3MdZ5vpDYgZCu2k66QfKeTRk3MdZ5vpDYgZCu"
	allowedOrg = "http://allowed.example"
)

// testApp is an App Services export with every provider the client API
// serves, a disabled one, custom user data and a request-origin list.
func testApp(extra map[string]string) fstest.MapFS {
	fs := fstest.MapFS{
		"root_config.json": {Data: []byte(`{"app_id":"` + testAppID + `","name":"test-app",
			"allowed_request_origins":["` + allowedOrg + `","https://other.example:443"]}`)},
		"auth/providers.json": {Data: []byte(`{
			"anon-user": {"name":"anon-user","type":"anon-user","disabled":false},
			"api-key": {"name":"api-key","type":"api-key","disabled":false},
			"local-userpass": {"name":"local-userpass","type":"local-userpass","disabled":false,
				"config":{"autoConfirm":true,"resetPasswordUrl":"http://localhost/reset","runResetFunction":false}},
			"custom-token": {"name":"custom-token","type":"custom-token","disabled":false,
				"config":{"audience":["` + testAppID + `"],"signingAlgorithm":"HS256","useJWKURI":false},
				"secret_config":{"signingKeys":["jwtKey"]},
				"metadata_fields":[{"required":true,"name":"mySecretField","field_name":"secret"}]},
			"custom-function": {"name":"custom-function","type":"custom-function","disabled":true,
				"config":{"authFunctionName":"auth"}}
		}`)},
		"auth/custom_user_data.json": {Data: []byte(`{"enabled":true,"mongo_service_name":"mongodb-atlas",
			"database_name":"app","collection_name":"userData","user_id_field":"user_id"}`)},
		"functions/config.json":                  {Data: []byte(`[{"name":"auth","private":true,"run_as_system":true}]`)},
		"functions/auth.js":                      {Data: []byte("exports = function(payload) { return payload.username; };")},
		"data_sources/mongodb-atlas/config.json": {Data: []byte(`{"name":"mongodb-atlas","type":"mongodb-atlas","config":{"clusterName":"c"}}`)},
	}
	for k, v := range extra {
		fs[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return fs
}

// env is one app served over httptest with the real auth service on an
// embedded store.
type env struct {
	t       testing.TB
	st      store.Store
	auth    *auth.Service
	handler http.Handler
	logs    *syncBuffer
	mails   *mailbox
	now     *clock
	data    *dataaccess.Access
	// done ends every watch stream when closed (server shutdown).
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type mailbox struct {
	mu   sync.Mutex
	sent []auth.Mail
}

func (m *mailbox) Send(_ context.Context, mail auth.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, mail)
	return nil
}

func (m *mailbox) last() (auth.Mail, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		return auth.Mail{}, false
	}
	return m.sent[len(m.sent)-1], true
}

// clock is a settable time source, so token expiry is tested without
// waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type envOptions struct {
	files      map[string]string
	rateLimits *auth.RateLimits
	// quiet logs at Info, not Debug (benchmarks: the per-request debug
	// line would dominate).
	quiet bool
	// maxBody is the request body bound; 0 means 64 KiB.
	maxBody int64
	// heartbeat and watchBuffer tune watch streams (0: defaults).
	heartbeat   time.Duration
	watchBuffer int
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	if o.maxBody == 0 {
		o.maxBody = 64 << 10
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	app, err := appconfig.LoadFS(ctx, testApp(o.files), appconfig.Options{Secrets: map[string]string{"jwtKey": jwtKey}})
	if err != nil {
		t.Fatalf("load app: %v", err)
	}
	st, err := embedded.Open(ctx, t.TempDir(), embedded.Options{SyncOff: true})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	logs := &syncBuffer{}
	level := slog.LevelDebug
	if o.quiet {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}))
	e := &env{t: t, st: st, logs: logs, mails: &mailbox{}, now: &clock{t: time.Now()}}
	rl := auth.RateLimits{Disabled: true}
	if o.rateLimits != nil {
		rl = *o.rateLimits
	}
	svc, err := auth.New(ctx, auth.Options{
		Store:      st,
		App:        app,
		Logger:     logger,
		Mailer:     e.mails,
		RateLimits: rl,
		Argon2:     auth.Argon2Params{Time: 1, Memory: 1024, Threads: 1},
		Now:        e.now.Now,
	})
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	e.auth = svc
	data, err := dataaccess.New(app, st, dataaccess.Options{Logger: logger, WatchBuffer: o.watchBuffer})
	if err != nil {
		t.Fatalf("dataaccess.New: %v", err)
	}
	t.Cleanup(func() { _ = data.Close() })
	e.data = data
	e.done = make(chan struct{})
	api, err := clientapi.New(clientapi.Config{App: app, Auth: svc, Data: data, Done: e.done,
		WatchHeartbeat: o.heartbeat, Logger: logger, MaxBodyBytes: o.maxBody})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Logger: logger})
	api.Register(srv)
	e.handler = srv.Handler()
	return e
}

// response is a recorded answer.
type response struct {
	status int
	header http.Header
	body   string
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, r.body)
	}
	return m
}

// do sends one request. body "" sends none; headers are "Name: value".
func (e *env) do(method, path, body string, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = "127.0.0.1:40000"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

const (
	appPath  = "/api/client/v2.0/app/" + testAppID
	userPath = "/api/client/v2.0/auth"
	device   = `"options":{"device":{"sdkVersion":"2.0.1","platform":"node","platformVersion":"20.20.2"}}`
)

// tokens is a logged-in user.
type tokens struct {
	UserID  string `json:"user_id"`
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
	Device  string `json:"device_id"`
}

func (e *env) login(provider, body string) tokens {
	e.t.Helper()
	r := e.do("POST", appPath+"/auth/providers/"+provider+"/login", body)
	if r.status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", provider, r.status, r.body)
	}
	var tk tokens
	if err := json.Unmarshal([]byte(r.body), &tk); err != nil {
		e.t.Fatal(err)
	}
	return tk
}

func (e *env) anon() tokens { return e.login("anon-user", "{"+device+"}") }

// emailUser registers (auto-confirm) and logs in.
func (e *env) emailUser(email, password string) tokens {
	e.t.Helper()
	r := e.do("POST", appPath+"/auth/providers/local-userpass/register",
		fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	if r.status != http.StatusCreated {
		e.t.Fatalf("register: %d %s", r.status, r.body)
	}
	return e.login("local-userpass", fmt.Sprintf(`{"username":%q,"password":%q,%s}`, email, password, device))
}

// snapshot renders every document of every database, to prove a refused
// request wrote nothing.
func (e *env) snapshot() string {
	e.t.Helper()
	ctx := context.Background()
	dbs, err := e.st.ListDatabases(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	sort.Strings(dbs)
	var b strings.Builder
	for _, db := range dbs {
		colls, err := e.st.Database(db).ListCollections(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		sort.Strings(colls)
		for _, c := range colls {
			cur, err := e.st.Database(db).Collection(c).Find(ctx, bson.D{}, store.FindOptions{})
			if err != nil {
				e.t.Fatal(err)
			}
			docs, err := store.All(ctx, cur)
			if err != nil {
				e.t.Fatal(err)
			}
			for _, d := range docs {
				j, _ := bson.MarshalExtJSON(d, true, false)
				fmt.Fprintf(&b, "%s.%s %s\n", db, c, j)
			}
		}
	}
	return b.String()
}

// jwtHS256 signs claims with key (the way a custom-token issuer would, or a
// forger with the wrong key).
func jwtHS256(header, claims map[string]any, key string) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	signing := b64(h) + "." + b64(c)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(signing))
	return signing + "." + b64(mac.Sum(nil))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwtParts splits a JWT into its decoded header and claims.
func jwtParts(t testing.TB, tok string) (header, claims map[string]any) {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("token has %d parts", len(p))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(p[i])
		if err != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
	}
	return header, claims
}

// reheader replaces a token's header, keeping its claims and signature.
func reheader(t testing.TB, tok string, header map[string]any) string {
	t.Helper()
	p := strings.Split(tok, ".")
	h, _ := json.Marshal(header)
	return b64(h) + "." + p[1] + "." + p[2]
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
