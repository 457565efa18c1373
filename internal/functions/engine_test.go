package functions

import (
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/rules"
)

const basicManifest = `[
 {"name":"sum"},{"name":"firstArg"},{"name":"void"},{"name":"nullFn"},
 {"name":"utils/add"},{"name":"secret","private":true},{"name":"callSecret"},
 {"name":"thrower"},{"name":"throwObj"},{"name":"loop"},{"name":"spam"},{"name":"alloc"},
 {"name":"setGlobal"},{"name":"readGlobal"},{"name":"counter"},{"name":"pollute"},{"name":"readPolluted"},
 {"name":"hiddenChanges"},{"name":"readHidden"},{"name":"throwingGlobal"},
 {"name":"values"},{"name":"whoami"},{"name":"sysWho","run_as_system":true},{"name":"callSys"},
 {"name":"onlyAlice","can_evaluate":{"%%user.data.email":"alice@example.com"}},
 {"name":"asBob","run_as_user_id":"bob"},
 {"name":"scripted","run_as_user_id_script_source":"exports = function(){ return {runAsSystem: true}; }"},
 {"name":"crypto"},{"name":"ejson"},{"name":"pending"},{"name":"rejecter"},{"name":"recurse"}
]`

var basicSources = map[string]string{
	"sum":            `exports = function(...a){ return a.reduce((x,y)=>x+y,0) }`,
	"firstArg":       `exports = (x) => x;`,
	"void":           `exports = function(){}`,
	"nullFn":         `function f(){ return null }; exports = f;`,
	"utils/add":      `exports = async function(a, b) { return a + b; };`,
	"secret":         `exports = () => "hidden";`,
	"callSecret":     `exports = async () => "got " + await context.functions.execute("secret");`,
	"thrower":        `exports = function(){ throw new Error("boom") }`,
	"throwObj":       `exports = function(){ throw {code: 42} }`,
	"loop":           `exports = function(){ while(true){} }`,
	"spam":           `exports = function(){ for (let i=0;i<20000;i++) console.log("line " + i + " " + "x".repeat(100)); return "done" }`,
	"alloc":          `exports = function(){ const a=[]; for (let i = 0; ; i++) a.push("x".repeat(1 << 20) + i); }`,
	"setGlobal":      `exports = function(){ leaked = 1; globalThis.other = 2; JSON = null; return typeof JSON }`,
	"readGlobal":     `exports = function(){ return [typeof leaked, typeof other, typeof JSON.stringify] }`,
	"pollute":        `exports = function(){ Object.prototype.polluted = 1; Array.prototype.evil = 2; return ({}).polluted }`,
	"hiddenChanges":  `exports = function(){ delete globalThis.JSON; Object.defineProperty(globalThis, "hid", {value: 1}); Object.defineProperty(Object.prototype, "quiet", {value: 2}); return typeof JSON }`,
	"throwingGlobal": `exports = function(){ Object.defineProperty(globalThis, "JSON", {get(){ throw new Error("boom") }, configurable: true}); return 1 }`,
	"readHidden":     `exports = function(){ return [typeof JSON, typeof hid, typeof ({}).quiet] }`,
	"readPolluted":   `exports = function(){ return [typeof ({}).polluted, typeof [].evil] }`,
	"counter":        `var n = 0; exports = function(){ n++; return n }`,
	"values":         `exports = function(){ return [context.values.get("greeting"), context.values.get("tw"), context.values.get("nope"), context.environment.tag, context.environment.values.baseUrl] }`,
	"whoami":         `exports = function(){ return {id: context.user.id, type: context.user.type, sys: context.runningAsSystem()} }`,
	"sysWho":         `exports = function(){ return {id: context.user.id, sys: context.runningAsSystem()} }`,
	"callSys":        `exports = async function(){ const inner = await context.functions.execute("sysWho"); return [inner.sys, context.runningAsSystem()] }`,
	"onlyAlice":      `exports = () => "hi alice"`,
	"asBob":          `exports = function(){ return [context.user.id, context.runningAsSystem()] }`,
	"scripted":       `exports = function(){ return context.runningAsSystem() }`,
	"crypto":         `exports = function(){ return [utils.crypto.hmac("hello!","super-secret","sha256","base64"), utils.crypto.hash("sha256","hello!").toBase64(), utils.crypto.decrypt("aes", utils.crypto.encrypt("aes","plain","0123456789abcdef"), "0123456789abcdef").text()] }`,
	"ejson":          `exports = function(s){ const v = EJSON.parse(s); return [EJSON.stringify(v, {relaxed:false}), v] }`,
	"pending":        `exports = function(){ return new Promise(() => {}) }`,
	"rejecter":       `exports = async function(){ await null; throw new TypeError("nope") }`,
	"recurse":        `exports = function f(n){ return f(n+1) }`,
}

var basicExtra = map[string]string{
	"values/greeting.json":          `{"name":"greeting","value":"beautiful world"}`,
	"values/tw.json":                `{"name":"tw","value":"twilioSecret","from_secret":true}`,
	"environments/development.json": `{"values":{"baseUrl":"https://dev.example.com"}}`,
	"environments/production.json":  `{"values":{"baseUrl":"https://prod.example.com"}}`,
}

func basicEngine(t testing.TB, cfg Config) *Engine {
	files := fnFiles(basicSources, basicManifest)
	for k, v := range basicExtra {
		files[k] = v
	}
	return testEngine(t, testApp(t, files), cfg)
}

func alice() rules.Caller {
	return rules.Caller{ID: "alice", Type: "normal", Data: bson.D{{Key: "email", Value: "alice@example.com"}}}
}

func TestTypesRoundTrip(t *testing.T) {
	e := basicEngine(t, Config{})
	ctx := tctx(t)
	oid := bson.NewObjectID()
	dec, _ := bson.ParseDecimal128("9823.1297")
	date := bson.DateTime(1641954803067)
	in := []any{
		int32(32), int64(1) << 60, 3.5, "s", true, nil, oid, dec, date,
		bson.Binary{Subtype: 5, Data: []byte{1, 2, 3}}, bson.Timestamp{T: 1565545664, I: 1},
		bson.Regex{Pattern: "^H", Options: "i"}, bson.MinKey{}, bson.MaxKey{},
		bson.D{{Key: "b", Value: int32(1)}, {Key: "a", Value: bson.A{bson.A{int64(2), oid}, date}}},
	}
	for _, v := range in {
		got, err := e.Call(ctx, ClientCaller(alice(), nil), "firstArg", []any{v})
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		want, _ := bson.Marshal(bson.D{{Key: "v", Value: v}})
		have, _ := bson.Marshal(bson.D{{Key: "v", Value: got}})
		if string(want) != string(have) {
			t.Errorf("round trip of %#v gave %#v", v, got)
		}
	}
	got, err := e.Call(ctx, ClientCaller(alice(), nil), "void", nil)
	if _, ok := got.(bson.Undefined); err != nil || !ok {
		t.Errorf("void: %#v %v", got, err)
	}
	got, err = e.Call(ctx, ClientCaller(alice(), nil), "nullFn", nil)
	if got != nil || err != nil {
		t.Errorf("null: %#v %v", got, err)
	}
	got, err = e.Call(ctx, ClientCaller(alice(), nil), "sum", []any{int64(1), int64(2), int64(3), int64(4), int64(5)})
	if err != nil || got != float64(15) && got != int32(15) {
		t.Errorf("sum of longs: %#v %v", got, err)
	}
	got, err = e.Call(ctx, ClientCaller(alice(), nil), "sum", []any{0.5, 0.25})
	if err != nil || got != 0.75 {
		t.Errorf("sum of doubles: %#v %v", got, err)
	}
	got, err = e.Call(ctx, ClientCaller(alice(), nil), "utils/add", []any{int32(2), int32(3)})
	if err != nil || got != int32(5) {
		t.Errorf("utils/add: %#v %v", got, err)
	}
}

func TestErrors(t *testing.T) {
	e := basicEngine(t, Config{})
	ctx := tctx(t)
	c := ClientCaller(alice(), nil)
	if _, err := e.Call(ctx, c, "error", nil); !errors.Is(err, ErrFunctionNotFound) {
		t.Errorf("unknown: %v", err)
	} else if code, _ := Code(err); code != "FunctionNotFound" {
		t.Errorf("code %s", code)
	}
	if _, err := e.Call(ctx, c, "secret", nil); !errors.Is(err, ErrPrivate) {
		t.Errorf("private from client: %v", err)
	}
	if got, err := e.Call(ctx, c, "callSecret", nil); err != nil || got != "got hidden" {
		t.Errorf("private via execute: %#v %v", got, err)
	}
	var ee *ExecutionError
	if _, err := e.Call(ctx, c, "thrower", nil); !errors.As(err, &ee) || ee.Message != "boom" {
		t.Errorf("thrower: %v", err)
	}
	if _, err := e.Call(ctx, c, "throwObj", nil); !errors.As(err, &ee) || !strings.Contains(ee.Message, "42") {
		t.Errorf("throwObj: %v", err)
	} else if d, ok := ee.Value.(bson.D); !ok || len(d) != 1 || d[0].Value != int32(42) {
		t.Errorf("thrown value: %#v", ee.Value)
	}
	if _, err := e.Call(ctx, c, "rejecter", nil); !errors.As(err, &ee) || ee.Message != "nope" {
		t.Errorf("rejecter: %v", err)
	}
	if _, err := e.Call(ctx, c, "pending", nil); !errors.Is(err, ErrUnsettled) {
		t.Errorf("pending: %v", err)
	}
	if _, err := e.Call(ctx, c, "recurse", []any{int32(0)}); !errors.As(err, &ee) {
		t.Errorf("recurse: %v", err)
	}
	// The runtime still works after all of that.
	if got, err := e.Call(ctx, c, "firstArg", []any{"ok"}); err != nil || got != "ok" {
		t.Errorf("after errors: %#v %v", got, err)
	}
}

func TestLimits(t *testing.T) {
	e := basicEngine(t, Config{Timeout: 2 * 1e9, MaxConsoleBytes: 10000, MemoryLimit: 64 << 20})
	ctx := tctx(t)
	c := ClientCaller(alice(), nil)
	if _, err := e.Call(ctx, c, "loop", nil); !errors.Is(err, ErrTimeout) {
		t.Errorf("loop: %v", err)
	} else if code, _ := Code(err); code != "ExecutionTimeLimitExceeded" {
		t.Errorf("loop code %s", code)
	}
	x, err := e.Run(ctx, c, "spam", nil)
	if err != nil || x.Result != "done" {
		t.Fatalf("spam: %v", err)
	}
	total := 0
	for _, l := range x.Logs {
		total += len(l)
	}
	if total > 10100 || x.Logs[len(x.Logs)-1] != "[console output truncated]" {
		t.Errorf("console not capped: %d bytes, %d lines", total, len(x.Logs))
	}
	// A generous wall clock, so that only the memory limit can stop it.
	e2 := basicEngine(t, Config{Timeout: 60 * 1e9, MemoryLimit: 64 << 20})
	if _, err := e2.Call(ctx, c, "alloc", nil); !errors.Is(err, ErrMemoryLimit) {
		t.Errorf("alloc: %v", err)
	}
	if got, err := e.Call(ctx, c, "firstArg", []any{"alive"}); err != nil || got != "alive" {
		t.Errorf("after limits: %#v %v", got, err)
	}
}

func TestNoStateLeak(t *testing.T) {
	e := basicEngine(t, Config{MaxIdleRuntimes: 1})
	ctx := tctx(t)
	bob := rules.Caller{ID: "bob", Type: "normal"}
	if got, err := e.Call(ctx, ClientCaller(alice(), nil), "setGlobal", nil); err != nil || got != "object" {
		t.Fatalf("setGlobal: %#v %v", got, err)
	}
	got, err := e.Call(ctx, ClientCaller(bob, nil), "readGlobal", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := got.(bson.A); !ok || a[0] != "undefined" || a[1] != "undefined" || a[2] != "function" {
		t.Errorf("state leaked: %#v", got)
	}
	if got, err := e.Call(ctx, ClientCaller(alice(), nil), "pollute", nil); err != nil || got != int32(1) {
		t.Fatalf("pollute: %#v %v", got, err)
	}
	got, err = e.Call(ctx, ClientCaller(bob, nil), "readPolluted", nil)
	if a, ok := got.(bson.A); err != nil || !ok || a[0] != "undefined" || a[1] != "undefined" {
		t.Errorf("prototype pollution leaked: %#v %v", got, err)
	}
	// Deleted globals, non-enumerable globals and non-enumerable
	// prototype additions do not leak either.
	if got, err := e.Call(ctx, ClientCaller(alice(), nil), "hiddenChanges", nil); err != nil || got != "undefined" {
		t.Fatalf("hiddenChanges: %#v %v", got, err)
	}
	got, err = e.Call(ctx, ClientCaller(bob, nil), "readHidden", nil)
	if a, ok := got.(bson.A); err != nil || !ok || a[0] != "object" || a[1] != "undefined" || a[2] != "undefined" {
		t.Errorf("hidden change leaked: %#v %v", got, err)
	}
	// A global turned into a throwing getter drops the runtime rather
	// than failing the next call or the server.
	if got, err := e.Call(ctx, ClientCaller(alice(), nil), "throwingGlobal", nil); err != nil || got != int32(1) {
		t.Fatalf("throwingGlobal: %#v %v", got, err)
	}
	if got, err := e.Call(ctx, ClientCaller(bob, nil), "readGlobal", nil); err != nil {
		t.Errorf("after throwingGlobal: %#v %v", got, err)
	}
	for i := 0; i < 3; i++ {
		if got, err := e.Call(ctx, ClientCaller(bob, nil), "counter", nil); err != nil || got != int32(1) {
			t.Errorf("module state leaked: %#v %v", got, err)
		}
	}
}

func TestRunAsAndValues(t *testing.T) {
	e := basicEngine(t, Config{})
	ctx := tctx(t)
	c := ClientCaller(alice(), nil)
	got, err := e.Call(ctx, c, "values", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := got.(bson.A); a[0] != "beautiful world" || a[1] != "s3cr3t" || a[2] != (bson.Undefined{}) && a[2] != nil || a[3] != "development" || a[4] != "https://dev.example.com" {
		t.Errorf("values: %#v", got)
	}
	got, _ = e.Call(ctx, c, "whoami", nil)
	if d := got.(bson.D); d[0].Value != "alice" || d[1].Value != "normal" || d[2].Value != false {
		t.Errorf("whoami: %#v", got)
	}
	got, _ = e.Call(ctx, c, "sysWho", nil)
	if d := got.(bson.D); d[0].Value != "alice" || d[1].Value != true {
		t.Errorf("sysWho (context.user stays the caller): %#v", got)
	}
	got, _ = e.Call(ctx, c, "callSys", nil)
	if a := got.(bson.A); a[0] != true || a[1] != false {
		t.Errorf("callSys: %#v", got)
	}
	got, _ = e.Call(ctx, SystemCaller(), "whoami", nil)
	if d := got.(bson.D); d[0].Value != "" || d[1].Value != "system" || d[2].Value != true {
		t.Errorf("system whoami: %#v", got)
	}
	if got, err := e.Call(ctx, c, "onlyAlice", nil); err != nil || got != "hi alice" {
		t.Errorf("onlyAlice as alice: %#v %v", got, err)
	}
	if _, err := e.Call(ctx, ClientCaller(rules.Caller{ID: "bob"}, nil), "onlyAlice", nil); !errors.Is(err, ErrCanEvaluate) {
		t.Errorf("onlyAlice as bob: %v", err)
	}
	got, _ = e.Call(ctx, c, "asBob", nil)
	if a := got.(bson.A); a[0] != "alice" || a[1] != false {
		t.Errorf("asBob: %#v", got)
	}
	if got, err := e.Call(ctx, c, "scripted", nil); err != nil || got != true {
		t.Errorf("scripted: %#v %v", got, err)
	}
	got, err = e.Call(ctx, c, "crypto", nil)
	if a, ok := got.(bson.A); err != nil || !ok || a[0] != "SUXd6PRMaTXXgBGaGsIHzaDWgTSa6C3D44lRGrvRak0=" || a[1] != "zgYJL7lI2f+sfRo3bkBLJrdXW8wR7gWkYV/vT+w6MIs=" || a[2] != "plain" {
		t.Errorf("crypto: %#v %v", got, err)
	}
	got, err = e.Call(ctx, c, "ejson", []any{`{"a":{"$numberLong":"5"},"d":{"$date":{"$numberLong":"1641954803067"}},"i":{"$numberInt":"7"}}`})
	if a, ok := got.(bson.A); err != nil || !ok || a[0] != `{"a":{"$numberLong":"5"},"d":{"$date":{"$numberLong":"1641954803067"}},"i":{"$numberInt":"7"}}` {
		t.Errorf("ejson: %#v %v", got, err)
	}
}

func TestSyntaxError(t *testing.T) {
	app := testApp(t, fnFiles(map[string]string{"bad": "exports = function(){\n  return (;\n}"}, `[{"name":"bad"}]`))
	_, err := New(app, Config{})
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(se.Error(), "functions/bad.js") || !strings.Contains(se.Error(), "Line 2:") {
		t.Errorf("syntax error: %v", err)
	}
}
