package functions

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/rules"
)

// idleRuntime is the engine's only idle runtime (tests use
// MaxIdleRuntimes 1), or nil.
func idleRuntime(e *Engine) *jsRuntime {
	e.idleMu.Lock()
	defer e.idleMu.Unlock()
	if len(e.idle) == 0 {
		return nil
	}
	return e.idle[len(e.idle)-1]
}

// isolationChanges are attempts by one caller to change what every call
// on a warm runtime shares, beyond the global object and the four
// prototypes guard.go compares (TestGuardsCatchEveryChange): namespaces,
// constructors' statics, the other prototypes (pinned members included),
// iterators and generators, built-in function objects, Atoll's own
// globals and context objects. probe is what the next caller evaluates
// (awaited, then String()ed) and want what it must see.
var isolationChanges = map[string]struct{ change, probe, want string }{
	// Namespaces.
	"JSON.stringify":      {`JSON.stringify = () => "x"`, `JSON.stringify({a: 1})`, `{"a":1}`},
	"JSON.parse":          {`JSON.parse = () => [9]`, `JSON.parse("[1]")[0]`, "1"},
	"JSON.define":         {`Object.defineProperty(JSON, "stringify", {value: () => "x"})`, `JSON.stringify(1)`, "1"},
	"JSON.delete":         {`delete JSON.stringify`, `typeof JSON.stringify`, "function"},
	"Math.random":         {`Math.random = () => 4`, `Math.random() < 1`, "true"},
	"Math.add":            {`Math.hid = 1`, `typeof Math.hid`, "undefined"},
	"Math.setPrototypeOf": {`Object.setPrototypeOf(Math, {hid: 1})`, `typeof Math.hid`, "undefined"},
	"Reflect.ownKeys":     {`Reflect.ownKeys = () => ["x"]`, `Reflect.ownKeys({a: 1}).join()`, "a"},
	"Reflect.defineProp":  {`Reflect.defineProperty(Reflect, "apply", {value: () => 7})`, `Reflect.apply(Math.max, null, [1, 2])`, "2"},
	// Constructors' statics.
	"Object.keys":           {`Object.keys = () => ["x"]`, `Object.keys({a: 1}).join()`, "a"},
	"Object.assign":         {`Object.assign = () => ({})`, `Object.assign({}, {a: 1}).a`, "1"},
	"Object.add":            {`Object.hid = 1`, `typeof Object.hid`, "undefined"},
	"Object.defineProperty": {`Object.defineProperty = () => 0`, `typeof Object.defineProperty({}, "a", {value: 1})`, "object"},
	"Array.isArray":         {`Array.isArray = () => true`, `Array.isArray(1)`, "false"},
	"Array.from":            {`delete Array.from`, `Array.from("ab").join()`, "a,b"},
	"Promise.resolve":       {`Promise.resolve = () => 3`, `Promise.resolve(2)`, "2"},
	"Date.now":              {`Date.now = () => 0`, `Date.now() > 0`, "true"},
	"Date.UTC":              {`Object.defineProperty(Date, "UTC", {get() { return () => 0 }})`, `Date.UTC(1970, 0, 2)`, "86400000"},
	"Number.isInteger":      {`Number.isInteger = () => false`, `Number.isInteger(1)`, "true"},
	"String.fromCharCode":   {`String.fromCharCode = () => "x"`, `String.fromCharCode(65)`, "A"},
	"Error.add":             {`Error.stackTraceLimit = 0; Error.hid = 1`, `typeof Error.hid`, "undefined"},
	"Symbol.for":            {`Symbol.for = () => Symbol("x")`, `Symbol.keyFor(Symbol.for("k"))`, "k"},
	"Function.ctor":         {`Function.prototype.constructor.hid = 1`, `typeof Function.hid`, "undefined"},
	// Prototype methods.
	"Date.getTime":        {`Date.prototype.getTime = () => 0`, `new Date(5).getTime()`, "5"},
	"Date.toISOString":    {`Date.prototype.toISOString = () => "x"`, `new Date(0).toISOString()`, "1970-01-01T00:00:00.000Z"},
	"Date.toJSON":         {`Date.prototype.toJSON = () => "x"`, `JSON.stringify(new Date(0))`, `"1970-01-01T00:00:00.000Z"`},
	"Date.toJSON.define":  {`Object.defineProperty(Date.prototype, "toJSON", {value: () => "x"})`, `JSON.stringify(new Date(0))`, `"1970-01-01T00:00:00.000Z"`},
	"Date.add":            {`Date.prototype.hid = 1`, `typeof new Date().hid`, "undefined"},
	"Date.setPrototypeOf": {`Object.setPrototypeOf(Date.prototype, {hid: 1})`, `typeof new Date().hid`, "undefined"},
	"Date.toPrimitive":    {`Date.prototype[Symbol.toPrimitive] = () => 1`, `typeof (new Date(0) + "")`, "string"},
	"RegExp.test":         {`RegExp.prototype.test = () => true`, `/a/.test("b")`, "false"},
	"RegExp.exec":         {`RegExp.prototype.exec = () => null`, `/a/.exec("a")[0]`, "a"},
	"RegExp.flags":        {`Object.defineProperty(RegExp.prototype, "flags", {get: () => "x"})`, `/a/g.flags`, "g"},
	"Promise.then":        {`Promise.prototype.then = function () { return 3 }`, `Promise.resolve(2).then(x => x * 2)`, "4"},
	"Promise.catch":       {`delete Promise.prototype.catch`, `Promise.reject(1).catch(x => x + 1)`, "2"},
	"Number.toFixed":      {`Number.prototype.toFixed = () => "x"`, `(1.5).toFixed(1)`, "1.5"},
	"Number.toString":     {`Number.prototype.toString = () => "x"`, `(5).toString()`, "5"},
	"Boolean.toString":    {`Boolean.prototype.toString = () => "x"`, `true.toString()`, "true"},
	"Symbol.toString":     {`Symbol.prototype.toString = () => "x"`, `Symbol("a").toString()`, "Symbol(a)"},
	"Symbol.description":  {`Object.defineProperty(Symbol.prototype, "description", {get: () => "x"})`, `Symbol("a").description`, "a"},
	"Error.toString":      {`Error.prototype.toString = () => "x"`, `String(new Error("m"))`, "Error: m"},
	"Error.name":          {`Error.prototype.name = "X"`, `new Error("m").name`, "Error"},
	"TypeError.message":   {`TypeError.prototype.message = "x"`, `new TypeError().message`, ""},
	"Error.freeze":        {`Object.freeze(Error.prototype)`, `(() => { class E extends Error { constructor() { super("m"); this.name = "E" } } return new E().name })()`, "E"},
	"Error.readOnlyName":  {`Object.defineProperty(Error.prototype, "name", {writable: false})`, `(() => { class E extends Error { constructor() { super("m"); this.name = "E" } } return new E().name })()`, "E"},
	"Error.proxyReadOnly": {`Object.defineProperty(new Proxy(Error.prototype, {}), "name", {writable: false})`, `(() => { class E extends Error { constructor() { super("m"); this.name = "E" } } return new E().name })()`, "E"},
	"Error.proxyFreeze":   {`Object.freeze(new Proxy(Error.prototype, {}))`, `(() => { class E extends Error { constructor() { super("m"); this.name = "E" } } return new E().name })()`, "E"},
	"Date.proxyToJSON":    {`Reflect.defineProperty(new Proxy(Date.prototype, {}), "toJSON", {value: () => "x"})`, `JSON.stringify(new Date(0))`, `"1970-01-01T00:00:00.000Z"`},
	"Map.get":             {`Map.prototype.get = () => 1`, `typeof new Map().get("a")`, "undefined"},
	"Map.size":            {`Object.defineProperty(Map.prototype, "size", {get: () => 9})`, `new Map().size`, "0"},
	"Set.has":             {`Set.prototype.has = () => true`, `new Set().has(1)`, "false"},
	"WeakMap.set":         {`WeakMap.prototype.set = function () { return 1 }`, `typeof new WeakMap().set({}, 1)`, "object"},
	"WeakSet.add":         {`WeakSet.prototype.add = function () { return 1 }`, `typeof new WeakSet().add({})`, "object"},
	"ArrayBuffer.slice":   {`ArrayBuffer.prototype.slice = () => 1`, `new ArrayBuffer(4).slice(2).byteLength`, "2"},
	"TypedArray.join":     {`Object.getPrototypeOf(Uint8Array.prototype).join = () => "x"`, `new Uint8Array([1, 2]).join()`, "1,2"},
	"Uint8Array.add":      {`Uint8Array.prototype.hid = 1`, `typeof new Uint8Array(1).hid`, "undefined"},
	"DataView.getUint8":   {`DataView.prototype.getUint8 = () => 9`, `new DataView(new ArrayBuffer(1)).getUint8(0)`, "0"},
	// Iterators and generators.
	"ArrayIterator.next":  {`Object.getPrototypeOf([][Symbol.iterator]()).next = () => ({done: true})`, `[...[1, 2]].join()`, "1,2"},
	"IteratorPrototype":   {`Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()))[Symbol.iterator] = () => 1`, `[...new Map([[1, 2]]).keys()].join()`, "1"},
	"MapIterator.next":    {`Object.getPrototypeOf(new Map().entries()).next = () => ({done: true})`, `[...new Map([[1, 2]]).keys()].join()`, "1"},
	"StringIterator.next": {`Object.getPrototypeOf(""[Symbol.iterator]()).next = () => ({done: true})`, `[..."ab"].join()`, "a,b"},
	"Generator.next":      {`Object.getPrototypeOf(function* () {}).prototype.next = () => ({done: true})`, `[...(function* () { yield 1 })()].join()`, "1"},
	"AsyncFunction.add":   {`Object.getPrototypeOf(async function () {}).hid = 1`, `typeof (async function () {}).hid`, "undefined"},
	// Built-in function objects.
	"JSON.stringify.prop": {`JSON.stringify.hid = 1`, `typeof JSON.stringify.hid`, "undefined"},
	"Array.map.prop":      {`Array.prototype.map.hid = 1`, `typeof [].map.hid`, "undefined"},
	"parseInt.prop":       {`parseInt.hid = 1`, `typeof parseInt.hid`, "undefined"},
	// Atoll's globals and context objects.
	"ObjectId.toString":    {`BSON.ObjectId.prototype.toString = () => "x"`, `new BSON.ObjectId("5f0000000000000000000001").toString()`, "5f0000000000000000000001"},
	"ObjectId.isValid":     {`BSON.ObjectId.isValid = () => false`, `BSON.ObjectId.isValid("5f0000000000000000000001")`, "true"},
	"ObjectId.fn.prop":     {`BSON.ObjectId.prototype.toString.hid = 1`, `typeof BSON.ObjectId.prototype.toString.hid`, "undefined"},
	"EJSON.stringify":      {`EJSON.stringify = () => "x"`, `EJSON.stringify({a: 1})`, `{"a":1}`},
	"EJSON.stringify.prop": {`EJSON.stringify.hid = 1`, `typeof EJSON.stringify.hid`, "undefined"},
	"utils.crypto.hash":    {`utils.crypto.hash = () => "x"`, `typeof utils.crypto.hash("sha256", "a")`, "object"},
	"utils.jwt.add":        {`utils.jwt.hid = 1`, `typeof utils.jwt.hid`, "undefined"},
	"console.log":          {`console.log = () => { throw new Error("x") }`, `(console.log("a"), "ok")`, "ok"},
	"console.log.prop":     {`console.log.hid = 1`, `typeof console.log.hid`, "undefined"},
	"setTimeout.prop":      {`setTimeout.hid = 1`, `typeof setTimeout.hid`, "undefined"},
	"GoError.proto":        {`try { EJSON.parse("{") } catch (e) { Object.getPrototypeOf(e).hid = 1 }`, `(() => { try { EJSON.parse("{") } catch (e) { return typeof e.hid } })()`, "undefined"},
	"context.app":          {`context.app.hid = 1`, `typeof context.app.hid`, "undefined"},
	"context.http.get":     {`context.http.get.hid = 1`, `typeof context.http.get.hid`, "undefined"},
	"collection proto":     {`Object.getPrototypeOf(context.services.get("mongodb-atlas").db("d").collection("c")).findOne = () => 7`, `typeof context.services.get("mongodb-atlas").db("d").collection("c").findOne`, "function"},
	"collection fn.prop":   {`context.services.get("mongodb-atlas").db("d").collection("c").findOne.hid = 1`, `typeof context.services.get("mongodb-atlas").db("d").collection("c").findOne.hid`, "undefined"},
}

// TestIsolationBetweenCallers: for every change in isolationChanges, in
// sloppy and in strict code, one user's call makes the change and the
// next user's call on the same warm runtime sees pristine behaviour.
// The change must fail (a TypeError, or ignored in sloppy code) or the
// runtime must be dropped; which one happened is logged.
func TestIsolationBetweenCallers(t *testing.T) {
	srcs := map[string]string{}
	manifest := "["
	names := make([]string, 0, len(isolationChanges))
	for name, c := range isolationChanges {
		id := fnID(name)
		names = append(names, name)
		srcs["set_"+id] = `exports = function(){ ` + c.change + `; return "done" }`
		srcs["sset_"+id] = `exports = function(){ 'use strict'; ` + c.change + `; return "done" }`
		srcs["get_"+id] = `exports = async function(){ return String(await (` + c.probe + `)) }`
		manifest += `{"name":"set_` + id + `"},{"name":"sset_` + id + `"},{"name":"get_` + id + `"},`
	}
	sort.Strings(names)
	manifest = manifest[:len(manifest)-1] + "]"
	e := testEngine(t, testApp(t, fnFiles(srcs, manifest)), Config{MaxIdleRuntimes: 1})
	ctx := tctx(t)
	bob := ClientCaller(rules.Caller{ID: "bob", Type: "normal"}, nil)
	if len(names) < 30 {
		t.Fatalf("only %d changes", len(names))
	}
	for _, name := range names {
		c := isolationChanges[name]
		id := fnID(name)
		// A pristine probe first: it also warms the runtime.
		if got, err := e.Call(ctx, bob, "get_"+id, nil); err != nil || got != c.want {
			t.Errorf("%s: before any change: %#v (%v), want %q", name, got, err, c.want)
			continue
		}
		for _, set := range []string{"set_", "sset_"} {
			before := idleRuntime(e)
			_, err := e.Call(ctx, ClientCaller(alice(), nil), set+id, nil)
			outcome := "ignored"
			switch {
			case err != nil && strings.Contains(err.Error(), "TypeError"):
				outcome = "TypeError"
			case err != nil:
				outcome = "error " + err.Error()
			}
			if idleRuntime(e) != before {
				outcome += ", runtime dropped"
			}
			t.Logf("%-22s %-5s %s", name, set[:len(set)-1], outcome)
			got, err := e.Call(ctx, bob, "get_"+id, nil)
			if err != nil || got != c.want {
				t.Errorf("%s (%s): next caller sees %#v (%v), want %q", name, set[:len(set)-1], got, err, c.want)
			}
		}
	}
}

// fnID turns a change's name into a function name.
func fnID(name string) string {
	return strings.NewReplacer(".", "_", " ", "_").Replace(name)
}

// TestOrdinaryCodeStillWorks: code that shadows or extends built-ins the
// ordinary way keeps working on hardened runtimes, and does not make its
// runtime be dropped (which would cost a new runtime per call).
func TestOrdinaryCodeStillWorks(t *testing.T) {
	cases := map[string]struct{ src, want string }{
		"classError": {`class MyError extends Error {
			constructor(m) { super(m); this.name = "MyError"; this.code = 7 }
		}
		const e = new MyError("boom");
		return [e.name, e.message, String(e), e instanceof Error, e instanceof MyError, e.code].join("|")`,
			"MyError|boom|MyError: boom|true|true|7"},
		"legacyError": {`function Legacy(m) { this.message = m; this.stack = "s" }
		Legacy.prototype = Object.create(Error.prototype);
		Legacy.prototype.constructor = Legacy;
		Legacy.prototype.name = "Legacy";
		Legacy.prototype.toString = function () { return "L:" + this.message };
		const e = new Legacy("x");
		return [String(e), e.name, e instanceof Error, e.constructor === Legacy].join("|")`,
			"L:x|Legacy|true|true"},
		"typeErrorSubclass": {`class Bad extends TypeError { constructor() { super("b"); this.name = "Bad"; this.message = "m2" } }
		return String(new Bad())`, "Bad: m2"},
		"errorInstanceFields": {`const e = new Error("a"); e.message = "b"; e.name = "N"; e.toString = function () { return "own" };
		return [e.message, e.name, String(e)].join("|")`, "b|N|own"},
		"ownToStringToJSON": {`const o = {toString() { return "o" }}; o.toJSON = () => 1; o.valueOf = () => 2;
		const p = {}; p.toString = () => "p"; p.constructor = "c";
		const d = new Date(0); d.toJSON = () => "mine"; d.toString = () => "dd";
		return [String(o), JSON.stringify({o}), o + 1, String(p), p.constructor, JSON.stringify(d), String(d)].join("|")`,
			`o|{"o":1}|3|p|c|"mine"|dd`},
		"arraySubclass": {`class Stack extends Array { peek() { return this[this.length - 1] } }
		const s = Stack.from([1, 2]); s.push(3);
		const m = s.map(x => x * 2);
		return [s.peek(), m instanceof Stack, m.peek(), Array.isArray(s), s.length].join("|")`,
			"3|true|6|true|3"},
		"promiseChains": {`const a = await Promise.resolve(1).then(x => x + 1).then(x => { throw x }).catch(x => x * 10).finally(() => 0);
		const b = await Promise.all([1, Promise.resolve(2), new Promise(r => setTimeout(() => r(3), 0))]);
		const c = await Promise.allSettled([Promise.reject(new Error("no")), 4]);
		class P extends Promise {}
		const d = await P.resolve(5).then(x => x + 1);
		return [a, b.join(), c[0].status, c[1].value, d, P.resolve(1) instanceof P].join("|")`,
			"20|1,2,3|rejected|4|6|true"},
		"dateMath": {`const d = new Date(Date.UTC(2020, 0, 31));
		d.setUTCMonth(1);
		const days = (new Date(Date.UTC(2021, 0, 1)) - new Date(Date.UTC(2020, 0, 1))) / 864e5;
		class D extends Date { year() { return this.getUTCFullYear() } }
		return [d.toISOString(), days, new D(0).year(), JSON.stringify({t: new Date(0)})].join("|")`,
			`2020-03-02T00:00:00.000Z|366|1970|{"t":"1970-01-01T00:00:00.000Z"}`},
		"collections": {`class Counter extends Map { inc(k) { this.set(k, (this.get(k) || 0) + 1); return this } }
		const c = new Counter().inc("a").inc("a");
		const s = new Set([1, 1, 2]);
		const w = new WeakMap(); const k = {}; w.set(k, 1);
		function* g() { yield 1; yield 2 }
		return [c.get("a"), s.size, w.get(k), [...g()].join(), [...new Map([[1, 2]])].join(), new Uint8Array([1, 2]).map(x => x * 2).join()].join("|")`,
			"2|2|1|1,2|1,2|2,4"},
		"userObjects": {`'use strict';
		const o = {};
		Object.defineProperty(o, "a", {value: 1, enumerable: true});
		Object.freeze(o);
		class A { static x = 1; toString() { return "A" } }
		class B extends A { static y = 2 }
		B.z = 3;
		const f = function () {}; f.displayName = "f"; f.prototype.toString = () => "fp";
		return [Object.isFrozen(o), o.a, String(new B()), B.x, B.y, B.z, String(new f()), Object.keys(JSON).length].join("|")`,
			"true|1|A|1|2|3|fp|0"},
		"bson": {`class Id extends BSON.ObjectId {}
		const id = new BSON.ObjectId("5f0000000000000000000001");
		return [String(id), EJSON.stringify({id}), new Id("5f0000000000000000000002").toHexString(), utils.crypto.hash("sha256", "a").toBase64().length].join("|")`,
			`5f0000000000000000000001|{"id":{"$oid":"5f0000000000000000000001"}}|5f0000000000000000000002|44`},
	}
	srcs := map[string]string{}
	manifest := "["
	for name, c := range cases {
		srcs[name] = "exports = async function(){ " + c.src + " }"
		manifest += `{"name":"` + name + `"},`
	}
	manifest = manifest[:len(manifest)-1] + "]"
	e := testEngine(t, testApp(t, fnFiles(srcs, manifest)), Config{MaxIdleRuntimes: 1})
	ctx := tctx(t)
	for name, c := range cases {
		for i := 0; i < 2; i++ {
			before := idleRuntime(e)
			got, err := e.Call(ctx, ClientCaller(alice(), nil), name, nil)
			if err != nil || got != c.want {
				t.Errorf("%s: %#v (%v), want %q", name, got, err, c.want)
			}
			if after := idleRuntime(e); before != nil && after != before {
				t.Errorf("%s: the runtime was dropped (%s)", name, fmt.Sprint(i))
			}
		}
	}
}

// BenchmarkNewRuntime is the cost of a new runtime (a cold start, or a
// dropped runtime's replacement), hardening included.
func BenchmarkNewRuntime(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := newRuntime(nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPinsCheck is the per-call cost of comparing the pinned
// prototype members (freeze.go), as the guards do.
func BenchmarkPinsCheck(b *testing.B) {
	rt, err := newRuntime(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	g := rt.guards.list[1]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !rt.pinsIntact(g) {
			b.Fatal("changed")
		}
	}
	b.ReportMetric(float64(len(g.pins)), "pins")
}

// BenchmarkGuardCheck is the per-call check of the guards (guard.go) on
// a hardened runtime and, for comparison in the same process, on one
// left as goja makes it: the difference is the pinned members.
func BenchmarkGuardCheck(b *testing.B) {
	hardened, err := newRuntime(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	skipHarden = true
	plain, err := newRuntime(nil, nil)
	skipHarden = false
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		rt   *jsRuntime
	}{{"hardened", hardened}, {"plain", plain}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for _, g := range c.rt.guards.list {
					if !c.rt.intact(g) {
						b.Fatal("changed")
					}
				}
			}
		})
	}
}

// BenchmarkGuardCheckCold is BenchmarkGuardCheck on a hardened runtime
// with the processor's caches emptied before each check, as a real
// request leaves them: check-ns/op is the check alone (a real request's
// profile shows about that much, against the few µs of a check with warm
// caches).
func BenchmarkGuardCheckCold(b *testing.B) {
	rt, err := newRuntime(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	junk := make([]byte, 4<<20)
	var total time.Duration
	for i := 0; i < b.N; i++ {
		for j := 0; j < len(junk); j += 64 {
			junk[j]++
		}
		start := time.Now()
		for _, g := range rt.guards.list {
			if !rt.intact(g) {
				b.Fatal("changed")
			}
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "check-ns/op")
}

// Objects every call on a runtime shares but that no built-in list names:
// a function file's module wrapper (sloppy code's arguments.callee at the
// top level) and the accessors of context's lazily made members. What
// alice stores on them, bob must not read.
func TestIsolationOfSharedWrappers(t *testing.T) {
	srcs := map[string]string{
		"callee": `var seen = arguments.callee.seen; arguments.callee.seen = context.user.id;
exports = function(){ return String(seen) }`,
		"accessor": `exports = function(){
  const d = Object.getOwnPropertyDescriptor(context, "user");
  const seen = d.get.seen;
  try { d.get.seen = context.user.id } catch (e) {}
  return String(seen)
}`,
	}
	e := testEngine(t, testApp(t, fnFiles(srcs, `[{"name":"callee"},{"name":"accessor"}]`)), Config{MaxIdleRuntimes: 1})
	ctx := tctx(t)
	bob := ClientCaller(rules.Caller{ID: "bob", Type: "normal"}, nil)
	for _, name := range []string{"callee", "accessor"} {
		if _, err := e.Call(ctx, ClientCaller(alice(), nil), name, nil); err != nil {
			t.Fatalf("%s as alice: %v", name, err)
		}
		got, err := e.Call(ctx, bob, name, nil)
		if err != nil || got != "undefined" {
			t.Errorf("%s: bob saw %#v (%v), want \"undefined\"", name, got, err)
		}
	}
}
