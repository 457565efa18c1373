package functions

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/applog"
)

func TestCallLogAndConsole(t *testing.T) {
	var buf bytes.Buffer
	files := fnFiles(map[string]string{
		"chatty": `exports = function(x){ console.log("hello", {n: BSON.Long.fromNumber(5)}); console.error(new Error("bad")); return EJSON.stringify({a: 1}, null, 2) }`,
		"quiet":  `exports = function(x){ return 1 }`,
	}, `[{"name":"chatty"},{"name":"quiet","disable_arg_logs":true}]`)
	e := testEngine(t, testApp(t, files), Config{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx := tctx(t)
	x, err := e.Run(ctx, ClientCaller(alice(), nil), "chatty", []any{"visible-arg"})
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Logs) != 2 || x.Logs[0] != `hello {"n":5}` || x.Logs[1] != "ERROR Error: bad" {
		t.Errorf("logs: %q", x.Logs)
	}
	if x.Result != "{\n  \"a\": 1\n}" {
		t.Errorf("indented EJSON: %q", x.Result)
	}
	if _, err := e.Call(ctx, ClientCaller(alice(), nil), "quiet", []any{"hidden-arg"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"function=chatty", "visible-arg", "user_id=alice", "function=quiet", "hello"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden-arg") {
		t.Errorf("disable_arg_logs ignored:\n%s", out)
	}
}

// entries collects app log entries in memory.
type entries struct {
	mu  sync.Mutex
	got []applog.Entry
}

func (r *entries) Record(e applog.Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, e)
}

func TestAppLogEntries(t *testing.T) {
	files := fnFiles(map[string]string{
		"chatty": `exports = function(x){ console.log("hi", x); return context.functions.execute("inner", x) }`,
		"inner":  `exports = function(x){ console.log("inner"); return {n: x} }`,
		"quiet":  `exports = function(x){ throw new Error("nope") }`,
	}, `[{"name":"chatty"},{"name":"inner","private":true},{"name":"quiet","disable_arg_logs":true,"run_as_system":true}]`)
	rec := &entries{}
	e := testEngine(t, testApp(t, files), Config{AppLog: rec})
	ctx := tctx(t)
	if _, err := e.Call(ctx, ClientCaller(alice(), nil), "chatty", []any{int32(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Call(ctx, ClientCaller(alice(), nil), "quiet", []any{"secret-arg"}); err == nil {
		t.Fatal("quiet did not fail")
	}
	if _, err := e.ForCaller(ClientCaller(alice(), nil)).CallFunction(ctx, "inner", []any{int32(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := (AuthRunner{E: e}).CallFunction(ctx, "inner", int32(2)); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != 4 {
		t.Fatalf("want 4 entries (nested execute is part of its caller's), got %d: %+v", len(rec.got), rec.got)
	}
	c := rec.got[0]
	if c.Type != "function" || c.Name != "chatty" || c.UserID != "alice" || c.System || c.Trigger != TriggerClient ||
		c.Arguments != `[{"$numberInt":"7"}]` || c.Result != `{"n":{"$numberInt":"7"}}` || c.Error != "" ||
		len(c.Logs) != 2 || c.Logs[0] != "hi 7" || c.Logs[1] != "inner" || c.Time.IsZero() || c.Duration <= 0 {
		t.Errorf("client entry: %+v", c)
	}
	q := rec.got[1]
	if q.Name != "quiet" || q.Arguments != "" || !strings.Contains(q.Error, "nope") || q.Result != "" || !q.System || q.UserID != "alice" {
		t.Errorf("failing run_as_system entry without arguments: %+v", q)
	}
	if r := rec.got[2]; r.Trigger != TriggerRule || r.UserID != "alice" {
		t.Errorf("%%function entry: %+v", r)
	}
	if a := rec.got[3]; a.Trigger != TriggerAuth || !a.System || a.UserID != "" {
		t.Errorf("auth entry: %+v", a)
	}
}

// TestEJSONOf: the app log renders arguments and results as canonical
// Extended JSON (internal/ejson, which is held to the driver's encoder),
// and a value that has none as a note instead of failing the entry.
func TestEJSONOf(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{bson.A{1.5, int32(1), bson.Undefined{}}, `[{"$numberDouble":"1.5"},{"$numberInt":"1"},{"$undefined":true}]`},
		{bson.D{{Key: "s", Value: "bad\xff"}, {Key: "d", Value: bson.Decimal128{}}}, `{"s":"bad\ufffd","d":{"$numberDecimal":"0E-6176"}}`},
	} {
		if got := ejsonOf(c.v); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
	self := bson.A{nil}
	self[0] = self
	if got := ejsonOf(self); !strings.HasPrefix(got, "(not representable: ") {
		t.Errorf("self-containing array: %s", got)
	}
}
