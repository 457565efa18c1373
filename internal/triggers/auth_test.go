package triggers

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/functions"
	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
)

// tasktracker is the seed 002 task tracker app kept in appconfig's test
// data; the test runs its function and trigger files unchanged.
const tasktracker = "../appconfig/testdata/apps/tasktracker/"

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type stack struct {
	st     store.Store
	auth   *auth.Service
	engine *functions.Engine
	runner *Runner
	// triggers and cfg build another Runner on the same store.
	triggers []*Trigger
	cfg      Config
}

// newStack builds the embedded store, auth, data access, the functions
// engine and a started Runner, wired as `atoll serve` wires them.
func newStack(t *testing.T, files map[string]string) *stack {
	t.Helper()
	return newStackWith(t, files, nil)
}

// newStackWith is newStack with the Runner's Config adjusted by mod.
func newStackWith(t testing.TB, files map[string]string, mod func(*Config)) *stack {
	t.Helper()
	return openStack(t, t.TempDir(), files, mod)
}

// openStack is newStackWith on the embedded store in dir.
func openStack(t testing.TB, dir string, files map[string]string, mod func(*Config)) *stack {
	t.Helper()
	return openStackOpts(t, dir, embedded.Options{SyncOff: true}, files, mod)
}

// openStackOpts is openStack with the embedded store opened with opts
// (benchmarks use the production setting, synchronous=FULL).
func openStackOpts(t testing.TB, dir string, opts embedded.Options, files map[string]string, mod func(*Config)) *stack {
	t.Helper()
	ctx := tctx(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	app := testApp(t, files)
	st, err := embedded.Open(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	svc, err := auth.New(ctx, auth.Options{Store: st, App: app, Logger: quiet, Argon2: auth.Argon2Params{Time: 1, Memory: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	da, err := dataaccess.New(app, st, dataaccess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { da.Close() })
	e, err := functions.New(app, functions.Config{Data: da, Store: st, Users: functions.AuthUsers{S: svc}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	ts, err := Compile(app, e.Has)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Functions: e, Store: st, Logger: quiet, PollInterval: 10 * time.Millisecond, Heartbeat: 50 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	r := New(ts, cfg)
	svc.OnEvent(r.OnAuthEvent)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &stack{st: st, auth: svc, engine: e, runner: r, triggers: ts, cfg: cfg}
}

// waitFind polls coll until filter matches a document or ctx ends: auth
// triggers run asynchronously, after the request returned.
func waitFind(ctx context.Context, t *testing.T, c store.Collection, filter bson.D) bson.D {
	t.Helper()
	for {
		d, err := c.FindOne(ctx, filter, store.FindOptions{})
		if err == nil && d != nil {
			return d
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no document matching %v in %s.%s", filter, c.Database(), c.Name())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestAuthTriggerSeedCreateNewUser: registering an email/password user
// runs seed 002's createNewUserDocument from its onNewUser CREATE trigger, which
// writes {_partition, user_id, name} to tracker.users.
func TestAuthTriggerSeedCreateNewUser(t *testing.T) {
	ctx := tctx(t)
	s := newStack(t, map[string]string{
		"auth/providers.json": `{"local-userpass":{"name":"local-userpass","type":"local-userpass","config":{"autoConfirm":true,"resetFunctionName":"r","runResetFunction":false},"disabled":false},
			"anon-user":{"name":"anon-user","type":"anon-user","disabled":false}}`,
		"functions/config.json":              `[{"name":"createNewUserDocument","private":true},{"name":"r","private":true},{"name":"countLogins","private":true}]`,
		"functions/createNewUserDocument.js": readFile(t, tasktracker+"functions/createNewUserDocument.js"),
		"functions/r.js":                     `exports = () => ({status: "fail"})`,
		"functions/countLogins.js": `exports = async (ev) => context.services.get("mongodb-atlas").db("tracker").collection("logins").insertOne(
			{user_id: ev.user.id, op: ev.operationType, providers: ev.providers, at: ev.time, type: ev.user.identities[0].provider_type})`,
		"triggers/onNewUser.json": readFile(t, tasktracker+"triggers/onNewUser.json"),
		"triggers/onLogin.json":   `{"name":"onLogin","type":"AUTHENTICATION","config":{"operation_type":["LOGIN"],"providers":["local-userpass"]},"function_name":"countLogins"}`,
	})
	if err := s.auth.RegisterUser(ctx, "127.0.0.1", "ann@x.org", "password1"); err != nil {
		t.Fatal(err)
	}
	res, err := s.auth.Login(ctx, auth.LoginRequest{Provider: "local-userpass", ClientIP: "127.0.0.1",
		Body: bson.D{{Key: "username", Value: "ann@x.org"}, {Key: "password", Value: "password1"}}})
	if err != nil {
		t.Fatal(err)
	}
	users := s.st.Database("tracker").Collection("users")
	doc := waitFind(ctx, t, users, bson.D{{Key: "user_id", Value: res.UserID}})
	want := map[string]any{"_partition": "My Project", "user_id": res.UserID, "name": "ann@x.org"}
	for k, v := range want {
		if got := lookup(doc, k); got != v {
			t.Errorf("%s = %#v, want %#v (doc %v)", k, got, v, doc)
		}
	}
	login := waitFind(ctx, t, s.st.Database("tracker").Collection("logins"), bson.D{{Key: "user_id", Value: res.UserID}})
	if lookup(login, "op") != "LOGIN" || lookup(login, "type") != "local-userpass" {
		t.Errorf("login event %v", login)
	}
	if _, ok := lookup(login, "at").(bson.DateTime); !ok {
		t.Errorf("time is not a date: %v", login)
	}

	// An anonymous login fires neither trigger (provider filter); a
	// second login fires LOGIN only.
	anon, err := s.auth.Login(ctx, auth.LoginRequest{Provider: "anon-user", ClientIP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.auth.Login(ctx, auth.LoginRequest{Provider: "local-userpass", ClientIP: "127.0.0.1",
		Body: bson.D{{Key: "username", Value: "ann@x.org"}, {Key: "password", Value: "password1"}}}); err != nil {
		t.Fatal(err)
	}
	// Events run in order, one at a time: once the second LOGIN is in,
	// everything queued before it (the anonymous events) has been handled.
	for {
		n, err := s.st.Database("tracker").Collection("logins").CountDocuments(ctx, bson.D{}, store.CountOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("second login not recorded (%d)", n)
		case <-time.After(5 * time.Millisecond):
		}
	}
	for _, c := range []string{"users", "logins"} {
		if n, _ := s.st.Database("tracker").Collection(c).CountDocuments(ctx, bson.D{{Key: "user_id", Value: anon.UserID}}, store.CountOptions{}); n != 0 {
			t.Errorf("anonymous login fired a local-userpass trigger into %s", c)
		}
	}
	if n, _ := users.CountDocuments(ctx, bson.D{}, store.CountOptions{}); n != 1 {
		t.Errorf("users = %d, want 1 (CREATE fired once)", n)
	}
}

func lookup(d bson.D, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

// blockingFunctions never finishes a call before its context ends: a
// process that dies before its handler ran to completion.
type blockingFunctions struct{ called chan string }

func (b blockingFunctions) Call(ctx context.Context, _ functions.Caller, name string, _ []any) (any, error) {
	select {
	case b.called <- name:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestAuthEventSurvivesCrash: an authentication event is recorded under
// __atoll before the auth request returns; a runner stopped before the
// handler completed leaves it recorded, and the next runner delivers it
// (after the dead process's lease expires) and removes it.
func TestAuthEventSurvivesCrash(t *testing.T) {
	ctx := tctx(t)
	block := blockingFunctions{called: make(chan string, 1)}
	s := newStackWith(t, map[string]string{
		"auth/providers.json":   `{"anon-user":{"name":"anon-user","type":"anon-user","disabled":false}}`,
		"functions/config.json": `[{"name":"countLogins","private":true}]`,
		"functions/countLogins.js": `exports = async (ev) => context.services.get("mongodb-atlas").db("tracker").collection("logins").insertOne(
			{user_id: ev.user.id, op: ev.operationType})`,
		"triggers/onLogin.json": `{"name":"onLogin","type":"AUTHENTICATION","config":{"operation_type":"LOGIN","providers":["anon-user"]},"function_name":"countLogins"}`,
	}, func(c *Config) {
		c.Functions = block
		c.LeaseTTL = 300 * time.Millisecond
		c.ShutdownGrace = 10 * time.Millisecond
	})
	res, err := s.auth.Login(ctx, auth.LoginRequest{Provider: "anon-user", ClientIP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	events := s.st.Database(StateDatabase).Collection(AuthEventCollection)
	// Recorded by the time the login returned.
	if n, err := events.CountDocuments(ctx, bson.D{{Key: "trigger", Value: "onLogin"}, {Key: "event.user.id", Value: res.UserID}}, store.CountOptions{}); err != nil || n != 1 {
		t.Fatalf("recorded events for the login: %d (%v), want 1", n, err)
	}
	select {
	case <-block.called:
	case <-ctx.Done():
		t.Fatal("the handler was never called")
	}
	s.runner.Close()
	if n, _ := events.CountDocuments(ctx, bson.D{}, store.CountOptions{}); n != 1 {
		t.Fatalf("after a cut-short delivery %d events are recorded, want 1", n)
	}
	// The process died holding the delivery lease.
	if _, err := leaseColl(s.st).InsertOne(ctx, bson.D{{Key: "_id", Value: authLease + "#99"}, {Key: "trigger", Value: authLease}, {Key: "epoch", Value: int64(99)},
		{Key: "holder", Value: "dead"}, {Key: "expires", Value: bson.NewDateTimeFromTime(time.Now().Add(300 * time.Millisecond))}}); err != nil {
		t.Fatal(err)
	}
	cfg := s.cfg
	cfg.Functions = s.engine
	r := New(s.triggers, cfg)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	login := waitFind(ctx, t, s.st.Database("tracker").Collection("logins"), bson.D{{Key: "user_id", Value: res.UserID}})
	if lookup(login, "op") != "LOGIN" {
		t.Errorf("delivered event %v", login)
	}
	for {
		n, err := events.CountDocuments(ctx, bson.D{}, store.CountOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d events still recorded after delivery", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if h, _, _ := LeaseHolder(ctx, s.st, authLease); h != r.id {
		t.Errorf("delivery lease held by %q, want the new runner", h)
	}
}
