package functions

import (
	"testing"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/rules"
)

// fullUser is a caller with data, custom data and an identity.
func fullUser() rules.Caller {
	return rules.Caller{
		ID: "alice", Type: "normal",
		Data:       bson.D{{Key: "email", Value: "alice@example.com"}},
		CustomData: bson.D{{Key: "role", Value: "admin"}},
		Identities: []expr.Identity{{ID: "i1", ProviderType: "local-userpass"}},
	}
}

// userJSON is JSON.stringify(context.user) for fullUser.
const userJSON = `{"id":"alice","type":"normal","data":{"email":"alice@example.com"},"custom_data":{"role":"admin"},"identities":[{"id":"i1","provider_type":"local-userpass"}]}`

// TestLazyUserMembers: context.user's data, custom_data and identities,
// converted on first read, behave as the plain data properties they
// stand for: listed in order, serialized, spread, stable, assignable and
// writable into, inherited, and plain properties once read.
func TestLazyUserMembers(t *testing.T) {
	cases := map[string]struct{ src, want string }{
		"stringify":  {`JSON.stringify(context.user)`, userJSON},
		"ejson":      {`EJSON.stringify(context.user)`, userJSON},
		"spread":     {`JSON.stringify({...context.user})`, userJSON},
		"assign":     {`JSON.stringify(Object.assign({}, context.user))`, userJSON},
		"keys":       {`Object.keys(context.user).join()`, "id,type,data,custom_data,identities"},
		"keysRead":   {`context.user.data; context.user.identities; Object.keys(context.user).join()`, "id,type,data,custom_data,identities"},
		"entries":    {`Object.entries(context.user).map(([k, v]) => k + ":" + typeof v).join()`, "id:string,type:string,data:object,custom_data:object,identities:object"},
		"forIn":      {`const ks = []; for (const k in context.user) ks.push(k + ":" + typeof context.user[k]); ks.join()`, "id:string,type:string,data:object,custom_data:object,identities:object"},
		"stable":     {`String(context.user.data === context.user.data && context.user.identities === context.user.identities)`, "true"},
		"writeInto":  {`context.user.data.foo = 1; context.user.custom_data.n = 2; JSON.stringify([context.user.data, context.user.custom_data])`, `[{"email":"alice@example.com","foo":1},{"role":"admin","n":2}]`},
		"replace":    {`context.user.custom_data = {z: 1}; JSON.stringify(context.user)`, `{"id":"alice","type":"normal","data":{"email":"alice@example.com"},"custom_data":{"z":1},"identities":[{"id":"i1","provider_type":"local-userpass"}]}`},
		"replaceRd":  {`context.user.data; context.user.data = 5; String(context.user.data)`, "5"},
		"descriptor": {`context.user.data; const d = Object.getOwnPropertyDescriptor(context.user, "data"); [d.get, d.writable, d.enumerable, d.configurable, d.value.email].join()`, ",true,true,true,alice@example.com"},
		"inherited":  {`const c = Object.create(context.user); c.identities[0].provider_type`, "local-userpass"},
		"childWrite": {`const c = Object.create(context.user); c.custom_data = 1; [c.custom_data, context.user.custom_data.role].join()`, "1,admin"},
		"delete":     {`delete context.user.data; Object.keys(context.user).join() + ":" + typeof context.user.data`, "id,type,custom_data,identities:undefined"},
		"frozen":     {`Object.freeze(context.user); context.user.custom_data = 5; [Object.isFrozen(context.user), context.user.custom_data.role, context.user.custom_data === context.user.custom_data].join()`, "true,admin,true"},
		"detached":   {`const g = Object.getOwnPropertyDescriptor(context.user, "data").get; String(g.call({}))`, "undefined"},
	}
	srcs := map[string]string{
		"returned": `exports = function(){ return context.user }`,
		// The user object's accessors are shared by the calls on a
		// runtime: frozen, they carry nothing to the next caller.
		"shared": `exports = function(){
			const d = Object.getOwnPropertyDescriptor(context.user, "custom_data");
			const seen = d.get.seen;
			try { d.get.seen = context.user.id } catch (e) {}
			return String(seen) + "," + Object.isFrozen(d.get) + "," + Object.isFrozen(d.set);
		}`,
	}
	manifest := `[{"name":"returned"},{"name":"shared"}`
	for name, c := range cases {
		srcs["u_"+name] = "exports = function(){ return (() => { " + lastReturns(c.src) + " })() }"
		manifest += `,{"name":"u_` + name + `"}`
	}
	e := testEngine(t, testApp(t, fnFiles(srcs, manifest+"]")), Config{MaxIdleRuntimes: 1})
	ctx := tctx(t)
	for name, c := range cases {
		got, err := e.Call(ctx, ClientCaller(fullUser(), nil), "u_"+name, nil)
		if err != nil || got != c.want {
			t.Errorf("%s: %#v %v, want %q", name, got, err, c.want)
		}
	}
	got, err := e.Call(ctx, ClientCaller(fullUser(), nil), "returned", nil)
	want := bson.D{{Key: "id", Value: "alice"}, {Key: "type", Value: "normal"},
		{Key: "data", Value: bson.D{{Key: "email", Value: "alice@example.com"}}},
		{Key: "custom_data", Value: bson.D{{Key: "role", Value: "admin"}}},
		{Key: "identities", Value: bson.A{bson.D{{Key: "id", Value: "i1"}, {Key: "provider_type", Value: "local-userpass"}}}}}
	if d, ok := got.(bson.D); err != nil || !ok || !mql.Identical(d, want) {
		t.Errorf("returned: %#v %v", got, err)
	}
	for _, who := range []string{"alice", "bob"} {
		got, err := e.Call(ctx, ClientCaller(rules.Caller{ID: who}, nil), "shared", nil)
		if err != nil || got != "undefined,true,true" {
			t.Errorf("shared accessors, %s: %#v %v", who, got, err)
		}
	}
	// A system caller's user: empty members.
	got, err = e.Call(ctx, SystemCaller(), "u_stringify", nil)
	if err != nil || got != `{"id":"","type":"system","data":{},"custom_data":{},"identities":[]}` {
		t.Errorf("system user: %#v %v", got, err)
	}
	// The next call on the same runtime sees its own, unchanged user.
	got, err = e.Call(ctx, ClientCaller(rules.Caller{ID: "bob"}, nil), "u_stringify", nil)
	if err != nil || got != `{"id":"bob","type":"normal","data":{},"custom_data":{},"identities":[]}` {
		t.Errorf("bob: %#v %v", got, err)
	}
}

// lastReturns makes the last statement of src a return statement.
func lastReturns(src string) string {
	for i := len(src) - 1; i >= 0; i-- {
		if src[i] == ';' {
			return src[:i+1] + " return " + src[i+1:]
		}
	}
	return "return " + src
}

// BenchmarkContextUser is context.user as most functions use it: made,
// then its id read (the other members are left unconverted).
func BenchmarkContextUser(b *testing.B) {
	rt, err := newRuntime(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	c := &call{caller: ClientCaller(fullUser(), nil)}
	rt.cur = c
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if id := rt.makeLazy(0, &lazyCtx{c: c}).(*goja.Object).Get("id"); id.String() != "alice" {
			b.Fatal(id)
		}
		clear(rt.lazy)
	}
}
