package functions

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/rules"
)

var moreSources = map[string]string{
	"spin":     `exports = function(){ while(true){} }`,
	"id":       `exports = (x) => x`,
	"isAlice":  `exports = (id) => id === "alice"`,
	"jwt":      `exports = function(){ const t = utils.jwt.encode("HS256", {sub: "42", n: 1}, "k", {kid: "x"}); const d = utils.jwt.decode(t, "k", true); let bad = ""; try { utils.jwt.decode(t, "other") } catch (e) { bad = e.message } return [d.payload.sub, d.header.kid, bad !== ""]; }`,
	"env":      `exports = () => context.environment.values.baseUrl`,
	"req":      `exports = () => [context.request.remoteIPAddress, context.request.rawQueryString, context.request.requestHeaders["X-A"], context.request.httpUserAgent]`,
	"deep":     `exports = function(n){ return context.functions.execute("deep", n + 1) }`,
	"denied":   `exports = async function(){ const c = context.services.get("mongodb-atlas").db("Item").collection("User"); try { await c.insertOne({_id: "x"}); return "inserted" } catch (e) { return "refused: " + e.message } }`,
	"bigStr":   `exports = () => "x".repeat(2000)`,
	"noExport": `const x = 1;`,
	"modExp":   `module.exports = function(){ return "module" }`,
	"sleep":    `exports = async function(){ const order = []; const t = setTimeout(() => order.push("cleared"), 1); clearTimeout(t); setTimeout((x) => order.push(x), 5, "late"); setImmediate(() => order.push("soon")); await new Promise(r => setTimeout(r, 10)); return order }`,
	"dates":    `exports = function(d){ return {pi: 3.14159, today: d, y: d.getUTCFullYear(), oid: new BSON.ObjectId("5d505646cf6d4fe581014ab2"), oidStr: BSON.ObjectId("5d505646cf6d4fe581014ab2").toString(), long: BSON.Long.fromNumber(7), dec: BSON.Decimal128.fromString("1.5"), i: BSON.Int32(3), bin: BSON.Binary.fromHex("0102")} }`,
}

const moreManifest = `[{"name":"spin"},{"name":"id"},{"name":"isAlice","private":true},{"name":"jwt"},{"name":"env"},{"name":"req"},
 {"name":"deep"},{"name":"denied"},{"name":"bigStr"},{"name":"noExport"},{"name":"modExp"},{"name":"dates"},{"name":"sleep"}]`

func moreFiles() map[string]string {
	f := fnFiles(moreSources, moreManifest)
	f["data_sources/mongodb-atlas/Item/User/rules.json"] = userRules
	f["environments/development.json"] = `{"values":{"baseUrl":"https://dev.example.com"}}`
	f["environments/production.json"] = `{"values":{"baseUrl":"https://prod.example.com"}}`
	return f
}

func TestConcurrencyLimitAndCancel(t *testing.T) {
	e := testEngine(t, testApp(t, moreFiles()), Config{MaxConcurrent: 1, Timeout: 1e9})
	ctx := tctx(t)
	done := make(chan error, 1)
	go func() { _, err := e.Call(ctx, SystemCaller(), "spin", nil); done <- err }()
	for len(e.sem) == 0 {
		select {
		case err := <-done:
			t.Fatalf("spin ended early: %v", err)
		default:
		}
	}
	if _, err := e.Call(ctx, SystemCaller(), "id", []any{1.5}); !errors.Is(err, ErrTooManyRequests) {
		t.Errorf("second call: %v", err)
	} else if code, status := Code(err); code != "TooManyRequests" || status != 429 {
		t.Errorf("code %s %d", code, status)
	}
	if err := <-done; !errors.Is(err, ErrTimeout) {
		t.Errorf("spin: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	go cancel()
	if _, err := e.Call(cctx, SystemCaller(), "spin", nil); !errors.Is(err, ErrCanceled) && !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func TestMoreGlobals(t *testing.T) {
	files := moreFiles()
	app := testApp(t, files)
	e := testEngine(t, app, Config{MaxResultBytes: 1000})
	ctx := tctx(t)
	alice := ClientCaller(rules.Caller{ID: "alice", Type: "normal"}, nil)
	got, err := e.Call(ctx, alice, "jwt", nil)
	if a, ok := got.(bson.A); err != nil || !ok || a[0] != "42" || a[1] != "x" || a[2] != true {
		t.Errorf("jwt: %#v %v", got, err)
	}
	if got, _ := e.Call(ctx, alice, "env", nil); got != "https://dev.example.com" {
		t.Errorf("env: %#v", got)
	}
	prod := testApp(t, files)
	prod.Root.Environment = "production"
	if err := e.Reload(prod); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Call(ctx, alice, "env", nil); got != "https://prod.example.com" {
		t.Errorf("env after switch: %#v", got)
	}
	r := httptest.NewRequest("POST", "/x?secret=hello&someParam=42", nil)
	r.Header.Set("X-A", "1")
	r.Header.Set("User-Agent", "ua")
	c := alice
	c.Request = RequestOf(r, "", "req")
	got, err = e.Call(ctx, c, "req", nil)
	if a, ok := got.(bson.A); err != nil || !ok || a[0] != "192.0.2.1" || a[1] != "someParam=42" || a[3] != "ua" {
		t.Errorf("request: %#v %v", got, err)
	}
	var ee *ExecutionError
	if _, err := e.Call(ctx, alice, "deep", []any{int32(0)}); !errors.As(err, &ee) || !strings.Contains(err.Error(), "depth") {
		t.Errorf("deep: %v", err)
	}
	if got, err := e.Call(ctx, alice, "denied", nil); err != nil || !strings.HasPrefix(got.(string), "refused: ") {
		t.Errorf("denied: %#v %v", got, err)
	}
	if _, err := e.Call(ctx, alice, "bigStr", nil); !errors.Is(err, ErrResultTooLarge) {
		t.Errorf("bigStr: %v", err)
	}
	if _, err := e.Call(ctx, alice, "noExport", nil); err == nil {
		t.Errorf("noExport: no error")
	}
	if got, err := e.Call(ctx, alice, "modExp", nil); err != nil || got != "module" {
		t.Errorf("modExp: %#v %v", got, err)
	}
	got, err = e.Call(ctx, alice, "sleep", nil)
	if a, ok := got.(bson.A); err != nil || !ok || len(a) != 2 || a[0] != "soon" || a[1] != "late" {
		t.Errorf("timers: %#v %v", got, err)
	}
	date := bson.DateTime(1641954803067)
	got, err = e.Call(ctx, alice, "dates", []any{date})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := bson.MarshalExtJSON(got, true, false)
	want := `{"pi":{"$numberDouble":"3.14159"},"today":{"$date":{"$numberLong":"1641954803067"}},"y":{"$numberInt":"2022"},"oid":{"$oid":"5d505646cf6d4fe581014ab2"},"oidStr":"5d505646cf6d4fe581014ab2","long":{"$numberLong":"7"},"dec":{"$numberDecimal":"1.5"},"i":{"$numberInt":"3"},"bin":{"$binary":{"base64":"AQI=","subType":"00"}}}`
	if string(b) != want {
		t.Errorf("dates:\n got %s\nwant %s", b, want)
	}
}

// TestPercentFunction runs %function in a rule expression through the
// engine: private functions are allowed there.
func TestPercentFunction(t *testing.T) {
	e := testEngine(t, testApp(t, moreFiles()), Config{})
	x, err := expr.ParseJSON([]byte(`{"%%true": {"%function": {"name": "isAlice", "arguments": ["%%user.id"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		want bool
	}{{"alice", true}, {"bob", false}} {
		c := ClientCaller(rules.Caller{ID: tc.id}, nil)
		env, err := expr.Bind(expr.Binding{User: &expr.User{ID: tc.id}, Functions: e.ForCaller(c)})
		if err != nil {
			t.Fatal(err)
		}
		ok, err := x.Eval(tctx(t), env, expr.NoDocument)
		if err != nil || ok != tc.want {
			t.Errorf("%s: %v %v", tc.id, ok, err)
		}
	}
}
