package functions

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/rules"
)

// TestGuardsCatchEveryChange: each way of changing a guarded built-in or
// the global object that the cheap checks rely on (guard.go) is undone
// for, or hidden from, the next caller on the same runtime.
func TestGuardsCatchEveryChange(t *testing.T) {
	changes := map[string]struct{ change, probe, want string }{
		"replace":        {`Array.prototype.push = function(){ return "hijacked" }`, `String([].push(1))`, "1"},
		"replaceString":  {`String.prototype.trim = function(){ return "hijacked" }`, `" a ".trim()`, "a"},
		"delete":         {`delete Array.prototype.map`, `typeof [].map`, "function"},
		"defineHidden":   {`Object.defineProperty(Array.prototype, "hid", {value: 1, configurable: true})`, `typeof [].hid`, "undefined"},
		"defineMany":     {`Object.defineProperties(Function.prototype, {hid: {value: 1}})`, `typeof (function(){}).hid`, "undefined"},
		"reflectDefine":  {`Reflect.defineProperty(Object.prototype, "hid", {value: 1})`, `typeof ({}).hid`, "undefined"},
		"redefine":       {`Object.defineProperty(Array.prototype, "map", {value: function(){ return "hijacked" }})`, `String([1].map(x => x))`, "1"},
		"assignNew":      {`Object.prototype.hid = 1`, `typeof ({}).hid`, "undefined"},
		"symbol":         {`Array.prototype[Symbol.for("leak")] = 1`, `typeof [][Symbol.for("leak")]`, "undefined"},
		"symbolReplace":  {`Array.prototype[Symbol.iterator] = function*(){ yield "hijacked" }`, `String([...[1]])`, "1"},
		"setPrototype":   {`Object.setPrototypeOf(String.prototype, {hid: 1})`, `typeof "".hid`, "undefined"},
		"preventExtends": {`Object.preventExtensions(Object.prototype)`, `String(Object.isExtensible(Object.prototype))`, "true"},
		"freezeProto":    {`Object.freeze(Array.prototype)`, `String(Object.isFrozen(Array.prototype))`, "false"},
		"throwerDelete":  {`delete Function.prototype.caller`, `String(Object.getOwnPropertyNames(Function.prototype).includes("caller"))`, "true"},
		"globalHidden":   {`Reflect.defineProperty(globalThis, "hid", {value: 1, configurable: true})`, `typeof hid`, "undefined"},
		"globalReplace":  {`Object.defineProperty(globalThis, "JSON", {value: 1, configurable: true, writable: true})`, `typeof JSON`, "object"},
		"globalProto":    {`Object.setPrototypeOf(globalThis, {hid: 1})`, `typeof hid`, "undefined"},
		"globalSealed":   {`Object.preventExtensions(globalThis)`, `String(Object.isExtensible(globalThis))`, "true"},
		// Past the define wrappers: a Proxy's default traps and a class
		// field on a constructor's returned object define on the target
		// itself. A getter may also answer the check differently from
		// the next caller.
		"proxyLyingGetter": {`const p = Array.prototype.push;
			Reflect.defineProperty(new Proxy(Array.prototype, {}), "push", {get() { return this === Array.prototype ? p : () => "hijacked" }, configurable: true})`,
			`String([].push(1))`, "1"},
		"proxyEnumerable": {`Object.defineProperty(new Proxy(Array.prototype, {}), "push", {enumerable: true})`, forIn("[]"), ""},
		"proxyReadOnly":   {`Object.defineProperty(new Proxy(Object.prototype, {}), "toString", {writable: false})`, `(() => { const o = {}; o.toString = () => "own"; return String(o) })()`, "own"},
		"proxyFreeze":     {`Object.freeze(new Proxy(Function.prototype, {}))`, `String(Object.isFrozen(Function.prototype))`, "false"},
		"proxyProto":      {`Object.setPrototypeOf(new Proxy(String.prototype, {}), {hid: 1})`, `typeof "".hid`, "undefined"},
		"proxySymbolGetter": {`const it = Array.prototype[Symbol.iterator];
			Reflect.defineProperty(new Proxy(Array.prototype, {}), Symbol.iterator, {get() { return this === Array.prototype ? it : function* () { yield "hijacked" } }, configurable: true})`,
			`String([...[1]])`, "1"},
		"proxyGlobalGetter": {`const j = JSON; Reflect.defineProperty(new Proxy(globalThis, {}), "JSON", {get() { return j }, configurable: true})`,
			`typeof Object.getOwnPropertyDescriptor(globalThis, "JSON").get`, "undefined"},
		"classField": {`class B { constructor() { return Array.prototype } }
			class C extends B { push = Array.prototype.push }
			new C()`, forIn("[]"), ""},
		"classFieldString": {`class B { constructor() { return String.prototype } }
			class C extends B { trim = () => "hijacked" }
			new C()`, `" a ".trim()`, "a"},
		"protoAssign":     {`Array.prototype.__proto__ = {hid: 1}`, `typeof [].hid`, "undefined"},
		"protoLiteral":    {`Object.prototype.__proto__ = null`, `typeof ({}).__proto__`, "object"},
		"reflectSetProto": {`Reflect.setPrototypeOf(Function.prototype, {hid: 1})`, `typeof (function () {}).hid`, "undefined"},
		// Deleting a property and adding it back keeps the count; the last
		// one keeps the order of names too.
		"readdLast":       {readd("Array.prototype", "O[k] = v"), forIn("[]"), ""},
		"readdLastObject": {readd("Object.prototype", "O[k] = v"), forIn("{}"), ""},
		"readdLastFn":     {readd("Function.prototype", "O[k] = v"), forIn("function () {}"), ""},
		"readdLastString": {readd("String.prototype", "O[k] = v"), forIn(`new String("")`), ""},
		"readdLastGlobal": {readd("globalThis", "O[k] = v"), `(() => { const ks = Object.getOwnPropertyNames(globalThis); return String(Object.getOwnPropertyDescriptor(globalThis, ks[ks.length - 1]).enumerable) })()`, "false"},
		"readdLastGetter": {readd("Array.prototype", `Reflect.defineProperty(new Proxy(O, {}), k, {get() { return v }, configurable: true})`),
			`(() => { const ks = Object.getOwnPropertyNames(Array.prototype); return typeof Object.getOwnPropertyDescriptor(Array.prototype, ks[ks.length - 1]).get })()`, "undefined"},
		"readdOther": {`const v = Array.prototype.map; delete Array.prototype.map; Array.prototype.map = v`, forIn("[]"), ""},
		"readdSymbol": {`const it = Array.prototype[Symbol.iterator]; delete Array.prototype[Symbol.iterator]; Array.prototype[Symbol.iterator] = it`,
			`String(Object.getOwnPropertyDescriptor(Array.prototype, Symbol.iterator).enumerable)`, "false"},
		"readdThrower": {`const d = Object.getOwnPropertyDescriptor(Function.prototype, "caller"); delete Function.prototype.caller;
			Reflect.defineProperty(new Proxy(Function.prototype, {}), "caller", {get: d.get, set: d.set, configurable: true, enumerable: true})`,
			forIn("function () {}"), ""},
	}
	srcs := map[string]string{}
	manifest := "["
	for name, c := range changes {
		srcs["set_"+name] = `exports = function(){ ` + c.change + `; return 1 }`
		srcs["get_"+name] = `exports = function(){ return ` + c.probe + ` }`
		manifest += `{"name":"set_` + name + `"},{"name":"get_` + name + `"},`
	}
	manifest = manifest[:len(manifest)-1] + "]"
	e := testEngine(t, testApp(t, fnFiles(srcs, manifest)), Config{MaxIdleRuntimes: 1})
	ctx := tctx(t)
	bob := ClientCaller(rules.Caller{ID: "bob", Type: "normal"}, nil)
	for name, c := range changes {
		if _, err := e.Call(ctx, ClientCaller(alice(), nil), "set_"+name, nil); err != nil {
			t.Errorf("%s: change: %v", name, err)
			continue
		}
		got, err := e.Call(ctx, bob, "get_"+name, nil)
		if err != nil || got != c.want {
			t.Errorf("%s: next caller sees %#v (%v), want %q", name, got, err, c.want)
		}
	}
}

// TestDefineWrappersBehave: the wrapped Object.defineProperty and kin
// return and throw as the originals do.
func TestDefineWrappersBehave(t *testing.T) {
	srcs := map[string]string{"defs": `exports = function(){
		const o = {};
		const r1 = Object.defineProperty(o, "a", {value: 1, enumerable: true}) === o;
		const r2 = Object.defineProperties(o, {b: {value: 2, enumerable: true}}) === o;
		const r3 = Reflect.defineProperty(o, "c", {value: 3, enumerable: true});
		Object.freeze(o);
		const r4 = Reflect.defineProperty(o, "d", {value: 4});
		let thrown = "";
		try { Object.defineProperty(o, "e", {value: 5}) } catch (err) { thrown = err.name }
		return [r1, r2, r3, r4, thrown, Object.keys(o).join(","), Object.defineProperty.name, Object.defineProperty.length];
	}`}
	e := testEngine(t, testApp(t, fnFiles(srcs, `[{"name":"defs"}]`)), Config{})
	got, err := e.Call(tctx(t), ClientCaller(alice(), nil), "defs", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := bson.A{true, true, true, false, "TypeError", "a,b,c", "defineProperty", int32(3)}
	a, ok := got.(bson.A)
	if !ok || len(a) < len(want) {
		t.Fatalf("defs: %#v", got)
	}
	for i := range want {
		if a[i] != want[i] {
			t.Errorf("defs[%d] = %#v, want %#v", i, a[i], want[i])
		}
	}
}

// forIn is a probe listing the enumerable names o (an expression)
// inherits or owns.
func forIn(o string) string {
	return `(() => { let s = ""; for (const k in ` + o + `) s += k; return s })()`
}

// readd is a change deleting the last own name of o (an expression) and
// adding it back with its value v (its getter for an accessor) by add
// (which sees O, k and v).
func readd(o, add string) string {
	return `const O = ` + o + `; const ks = Object.getOwnPropertyNames(O); const k = ks[ks.length - 1];
	const d = Object.getOwnPropertyDescriptor(O, k); const v = "value" in d ? d.value : d.get;
	delete O[k]; ` + add
}

// TestGuardsIgnoreReads: reading, enumerating and assigning a guarded
// object's own values to themselves leaves it intact, so such calls keep
// their runtime.
func TestGuardsIgnoreReads(t *testing.T) {
	srcs := map[string]string{"reads": `exports = function(){
		let n = 0;
		for (const O of [globalThis, Object.prototype, Array.prototype, Function.prototype, String.prototype]) {
			for (const k of Object.getOwnPropertyNames(O)) { try { if (O[k] !== undefined) n++ } catch (e) {} }
			for (const s of Object.getOwnPropertySymbols(O)) { if (O[s] !== undefined) n++ }
			for (const k in O) n++;
			n += Object.keys(O).length + Reflect.ownKeys(O).length;
			Object.getOwnPropertyDescriptors(O);
		}
		Array.prototype.push = Array.prototype.push;
		String.prototype.trim = String.prototype.trim;
		for (const k in {a: 1}) n++;
		return n > 0
	}`}
	e := testEngine(t, testApp(t, fnFiles(srcs, `[{"name":"reads"}]`)), Config{MaxIdleRuntimes: 1})
	ctx := tctx(t)
	for i := 0; i < 3; i++ {
		before := idleRuntime(e)
		got, err := e.Call(ctx, ClientCaller(alice(), nil), "reads", nil)
		if err != nil || got != true {
			t.Fatalf("reads: %#v (%v)", got, err)
		}
		if after := idleRuntime(e); before != nil && after != before {
			t.Errorf("call %d: the runtime was dropped", i)
		}
	}
}

// TestGlobalsRestored: a global assigned or added is put back without
// dropping the runtime; a global deleted comes back as it was (the
// runtime is dropped: putting it back by assignment would make it
// enumerable).
func TestGlobalsRestored(t *testing.T) {
	srcs := map[string]string{
		"assign": `exports = function(){ JSON = null; globalThis.added = 1; return 1 }`,
		"del":    `exports = function(){ delete globalThis.JSON; return 1 }`,
		"probe": `exports = function(){ const d = Object.getOwnPropertyDescriptor(globalThis, "JSON");
			return [typeof JSON.stringify, d.enumerable, typeof added].join("|") }`,
	}
	e := testEngine(t, testApp(t, fnFiles(srcs, `[{"name":"assign"},{"name":"del"},{"name":"probe"}]`)), Config{MaxIdleRuntimes: 1})
	ctx := tctx(t)
	bob := ClientCaller(rules.Caller{ID: "bob", Type: "normal"}, nil)
	for _, c := range []struct {
		name string
		kept bool
	}{{"assign", true}, {"del", false}} {
		if _, err := e.Call(ctx, bob, "probe", nil); err != nil {
			t.Fatal(err)
		}
		before := idleRuntime(e)
		if _, err := e.Call(ctx, ClientCaller(alice(), nil), c.name, nil); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if kept := idleRuntime(e) == before; kept != c.kept {
			t.Errorf("%s: runtime kept %v, want %v", c.name, kept, c.kept)
		}
		got, err := e.Call(ctx, bob, "probe", nil)
		if err != nil || got != "function|false|undefined" {
			t.Errorf("%s: next caller sees %#v (%v)", c.name, got, err)
		}
	}
}
