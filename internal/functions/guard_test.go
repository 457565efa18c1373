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
