package functions

import (
	"net/http/httptest"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/rules"
)

// TestLazyContextMembers: context.user and context.request, made on
// first read, behave as the plain properties they were: listed, stable,
// assignable, and each context object (nested evaluations included) has
// its own.
func TestLazyContextMembers(t *testing.T) {
	srcs := map[string]string{
		"members": `exports = function(){
			const k = Object.keys(context);
			const same = context.user === context.user && context.request === context.request;
			const ua = context.request.httpUserAgent, id = context.user.id;
			context.user.extra = 1;
			const kept = context.user.extra;
			const { user } = context;
			context.request = "replaced";
			return [k.includes("user") && k.includes("request"), same, ua, id, kept, user.id, context.request,
				JSON.parse(JSON.stringify(context)).user.id];
		}`,
		"outer": `exports = async function(){
			context.user.mark = "outer";
			const inner = await context.functions.execute("inner");
			return [inner, context.user.mark];
		}`,
		"inner": `exports = function(){ return [context.user.id, typeof context.user.mark, context.runningAsSystem()] }`,
		"detached": `exports = async function(){
			const ex = context.functions.execute, ras = context.runningAsSystem;
			const inner = await ex("innerDetached");
			return [Object.keys(context).join(), ras(), inner];
		}`,
		"innerDetached": `exports = function(){
			const ras = context.runningAsSystem, { services } = context, get = services.get;
			return [ras(), typeof get("mongodb-atlas").db, typeof get("nope")];
		}`,
	}
	e := testEngine(t, testApp(t, fnFiles(srcs, `[{"name":"members"},{"name":"outer"},{"name":"inner","run_as_system":true},{"name":"detached"},{"name":"innerDetached","run_as_system":true}]`)), Config{MaxIdleRuntimes: 1})
	ctx := tctx(t)
	r := httptest.NewRequest("POST", "/x", nil)
	r.Header.Set("User-Agent", "lazy-test/1")
	got, err := e.Call(ctx, ClientCaller(alice(), RequestOf(r, "", "members")), "members", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := bson.A{true, true, "lazy-test/1", "alice", int32(1), "alice", "replaced", "alice"}
	if a, ok := got.(bson.A); !ok || len(a) != len(want) {
		t.Fatalf("members: %#v", got)
	} else {
		for i := range want {
			if a[i] != want[i] {
				t.Errorf("members[%d] = %#v, want %#v", i, a[i], want[i])
			}
		}
	}
	got, err = e.Call(ctx, ClientCaller(alice(), nil), "outer", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := got.(bson.A); !ok || a[1] != "outer" {
		t.Fatalf("outer: %#v", got)
	} else if in, ok := a[0].(bson.A); !ok || in[0] != "alice" || in[1] != "undefined" || in[2] != true {
		t.Errorf("inner evaluation's context: %#v", a[0])
	}
	// Members read detached from context keep their frame's identity.
	got, err = e.Call(ctx, ClientCaller(alice(), nil), "detached", nil)
	if a, ok := got.(bson.A); err != nil || !ok || a[0] != "app,environment,values,user,request,runningAsSystem,functions,services,http" || a[1] != false {
		t.Errorf("detached: %#v %v", got, err)
	} else if in, ok := a[2].(bson.A); !ok || in[0] != true || in[1] != "function" || in[2] != "undefined" {
		t.Errorf("detached inner: %#v", a[2])
	}
	// The next caller on the same runtime sees its own user.
	got, err = e.Call(ctx, ClientCaller(rules.Caller{ID: "bob", Type: "normal"}, nil), "inner", nil)
	if a, ok := got.(bson.A); err != nil || !ok || a[0] != "bob" || a[1] != "undefined" {
		t.Errorf("bob: %#v %v", got, err)
	}
}

// TestDatabaseObjectBinding: db objects carry their frame; a database
// object not made by db() (the prototype borrowed) is refused, and so
// are detached methods.
func TestDatabaseObjectBinding(t *testing.T) {
	srcs := map[string]string{
		"forged": `exports = function(){
			const db = context.services.get("mongodb-atlas").db("d");
			const fake = Object.create(Object.getPrototypeOf(db));
			const out = [];
			try { fake.collection("c"); out.push("forged ok") } catch (e) { out.push(e.name) }
			const detached = db.collection;
			try { detached("c"); out.push("detached ok") } catch (e) { out.push(e.name) }
			out.push(typeof db.collection("c").findOne);
			const fc = Object.create(Object.getPrototypeOf(db.collection("c")));
			try { fc.findOne({}); out.push("forged coll ok") } catch (e) { out.push(e.name) }
			return out;
		}`,
		"sysNames": `exports = async function(){ return context.services.get("mongodb-atlas").db("d").getCollectionNames() }`,
		"userNames": `exports = async function(){
			try { await context.services.get("mongodb-atlas").db("d").getCollectionNames(); return "listed" } catch (e) { return e.message }
		}`,
	}
	e := testEngine(t, testApp(t, fnFiles(srcs, `[{"name":"forged"},{"name":"sysNames","run_as_system":true},{"name":"userNames"}]`)), Config{})
	ctx := tctx(t)
	got, err := e.Call(ctx, ClientCaller(alice(), nil), "forged", nil)
	if a, ok := got.(bson.A); err != nil || !ok || a[0] != "TypeError" || a[1] != "TypeError" || a[2] != "function" || a[3] != "TypeError" {
		t.Errorf("forged: %#v %v", got, err)
	}
	if _, err := e.Call(ctx, ClientCaller(alice(), nil), "sysNames", nil); err != nil {
		t.Errorf("sysNames: %v", err)
	}
	got, err = e.Call(ctx, ClientCaller(alice(), nil), "userNames", nil)
	if s, _ := got.(string); err != nil || !strings.Contains(s, "only available to functions running as system") {
		t.Errorf("userNames: %#v %v", got, err)
	}
}

// TestPromiseAndArrayBufferFields: objects are told apart by export type
// (not exported whole): an ArrayBuffer becomes Binary, a Promise inside
// a document is refused, a plain object stays a document.
func TestPromiseAndArrayBufferFields(t *testing.T) {
	srcs := map[string]string{
		"buf":     `exports = function(){ const b = new Uint8Array([1, 2, 3]); return {b: b.buffer, o: {x: 1}} }`,
		"promise": `exports = function(){ return {p: Promise.resolve(1)} }`,
	}
	e := testEngine(t, testApp(t, fnFiles(srcs, `[{"name":"buf"},{"name":"promise"}]`)), Config{})
	ctx := tctx(t)
	got, err := e.Call(ctx, ClientCaller(alice(), nil), "buf", nil)
	d, ok := got.(bson.D)
	if err != nil || !ok || len(d) != 2 {
		t.Fatalf("buf: %#v %v", got, err)
	}
	if b, ok := d[0].Value.(bson.Binary); !ok || string(b.Data) != "\x01\x02\x03" {
		t.Errorf("ArrayBuffer field: %#v", d[0].Value)
	}
	if o, ok := d[1].Value.(bson.D); !ok || len(o) != 1 || o[0].Value != int32(1) {
		t.Errorf("object field: %#v", d[1].Value)
	}
	if _, err := e.Call(ctx, ClientCaller(alice(), nil), "promise", nil); err == nil || !strings.Contains(err.Error(), "Promise cannot be converted") {
		t.Errorf("promise field: %v", err)
	}
}

// TestRequestOfQueryString: secret=… pairs and empty pairs are dropped,
// other queries pass unchanged.
func TestRequestOfQueryString(t *testing.T) {
	for q, want := range map[string]string{
		"a=1&b=2": "a=1&b=2", "secret=x&a=1": "a=1", "a=1&&b=2&": "a=1&b=2", "": "", "secretive=1": "secretive=1", "secret": "",
	} {
		r := httptest.NewRequest("GET", "/x?"+q, nil)
		if got := RequestOf(r, "", "f").RawQueryString; got != want {
			t.Errorf("%q: %q, want %q", q, got, want)
		}
	}
}

// TestProtoFieldStaysData: a document field named __proto__ (from the
// database, or from the arguments) is an own field in JavaScript, not a
// change of the object's prototype, and comes back as a field.
func TestProtoFieldStaysData(t *testing.T) {
	srcs := map[string]string{"echo": `exports = function(d){ return [typeof d.polluted, Object.keys(d).join(), d] }`}
	e := testEngine(t, testApp(t, fnFiles(srcs, `[{"name":"echo"}]`)), Config{})
	arg := bson.D{{Key: "__proto__", Value: bson.D{{Key: "polluted", Value: int32(1)}}}, {Key: "a", Value: int32(2)}}
	got, err := e.Call(tctx(t), ClientCaller(alice(), nil), "echo", []any{arg})
	a, ok := got.(bson.A)
	if err != nil || !ok || a[0] != "undefined" || a[1] != "__proto__,a" {
		t.Fatalf("echo: %#v %v", got, err)
	}
	if d, ok := a[2].(bson.D); !ok || len(d) != 2 || d[0].Key != "__proto__" {
		t.Errorf("round trip: %#v", a[2])
	}
}
