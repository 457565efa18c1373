package functions

import (
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/dop251/goja"
)

// A warm runtime is shared by calls of different users one after
// another, so nothing a call changes in the objects every call sees may
// survive it. guard.go compares the global object and the four
// prototypes ordinary code inherits from most by identity after each
// call; everything else built in (the other prototypes, constructors and
// their statics, JSON, Math, Reflect, every built-in method, iterator
// and generator prototypes) and Atoll's own globals (BSON, EJSON, utils,
// console, timers) is made immutable once, when the runtime is made
// (harden.js): that costs nothing per call. A change attempt then fails
// as it does on any frozen object (a TypeError in strict code, ignored
// in sloppy code) rather than leaking. The few prototype members that
// instances and ES5-style subclasses legitimately assign (constructor,
// toString, valueOf, toJSON, name, message, ...) stay writable, since a
// non-writable inherited property forbids assigning an own one; they
// are pinned: compared by identity after each call, and a changed one
// taints the runtime.

//go:embed harden.js
var hardenSource string

var hardenProgram = goja.MustCompile("harden.js", hardenSource, true)

// rootsProgram makes the roots of the walk (see harden.js): the global
// object and objects only reachable through syntax or instances, whose
// prototypes are the built-in function, generator and iterator
// prototypes; and the prototypes of the errors given.
var rootsProgram = goja.MustCompile("roots.js", `(function (errs) {
  'use strict';
  // goja has no async generators; the other objects each lead to a
  // prototype (generator, async function, iterators, arguments).
  var objs = [globalThis, function* () {}, (function* () {})(), async function () {},
    [][Symbol.iterator](), new Map().entries(), new Set().values(), ""[Symbol.iterator](),
    /a/g[Symbol.matchAll](""), (function () { return arguments })()];
  var protos = [];
  for (var j = 0; j < errs.length; j++) protos.push(Object.getPrototypeOf(errs[j]));
  return [objs, protos];
})`, true)

// hardenPlan is harden.js's result, in Go: computed once per process and
// replayed on every runtime, whose built-ins and globals are made the
// same way.
type hardenPlan struct {
	parent []int
	kind   []string
	key    []string
	action []int
	// protoKeys holds, for a prototype (action 2), its keys and modes.
	protoKeys [][]protoKey
}

type protoKey struct {
	key  string
	mode int // 0 pin, 1 read-only, 2 accessor
}

var (
	planOnce sync.Once
	plan     *hardenPlan
	planErr  error
)

// pin is one writable member of a hardened prototype and its value when
// the runtime was made.
type pin struct {
	o *goja.Object
	k string
	v goja.Value
}

// natives are the original Object functions harden applies the plan
// with, captured before user code runs.
type natives struct {
	freeze, defineProperty, preventExtensions, getOwnPropertyDescriptor goja.Callable
}

// harden makes the built-ins immutable (see the top of this file),
// leaving the objects of skip as they are. It returns the pinned members
// and the hardened prototypes (whose redefinition, through the wrapped
// define functions, taints the runtime).
func (rt *jsRuntime) harden(nat natives, skip []*goja.Object) ([]pin, []*goja.Object, error) {
	vm := rt.vm
	rv, err := vm.RunProgram(rootsProgram)
	if err != nil {
		return nil, nil, fmt.Errorf("functions: harden: %w", err)
	}
	rf, _ := goja.AssertFunction(rv)
	// Errors thrown from Go have their own prototype, reachable only
	// from such an error.
	res, err := rf(goja.Undefined(), vm.NewArray(vm.NewGoError(errors.New("harden"))))
	if err != nil {
		return nil, nil, fmt.Errorf("functions: harden: %w", err)
	}
	pair := items(res)
	if len(pair) != 2 {
		return nil, nil, errors.New("functions: harden: bad roots")
	}
	objs, protoRoots := items(pair[0]), items(pair[1])
	planOnce.Do(func() { plan, planErr = makePlan(vm, pair[0], pair[1], skip) })
	if planErr != nil {
		return nil, nil, planErr
	}
	wellKnown := map[string]*goja.Symbol{}
	if symCtor, ok := vm.Get("Symbol").(*goja.Object); ok {
		for _, n := range symCtor.GetOwnPropertyNames() {
			if s, ok := symCtor.Get(n).(*goja.Symbol); ok {
				wellKnown["@@"+n] = s
			}
		}
	}
	keyVal := func(k string) goja.Value {
		if s, ok := wellKnown[k]; ok {
			return s
		}
		return vm.ToValue(k)
	}
	get := func(o *goja.Object, k string) goja.Value {
		if s, ok := wellKnown[k]; ok {
			return o.GetSymbol(s)
		}
		return o.Get(k)
	}
	// Resolve every object first, then change them.
	resolved := make([]*goja.Object, len(plan.parent))
	for i, p := range plan.parent {
		var v goja.Value
		switch plan.kind[i] {
		case "r", "q":
			n, _ := strconv.Atoi(plan.key[i])
			src := objs
			if plan.kind[i] == "q" {
				src = protoRoots
			}
			if n < len(src) {
				v = src[n]
			}
		case "p":
			if p >= 0 && resolved[p] != nil {
				if proto := resolved[p].Prototype(); proto != nil {
					v = proto
				}
			}
		case "d":
			v = get(resolved[p], plan.key[i])
		case "g", "s":
			d, err := nat.getOwnPropertyDescriptor(goja.Undefined(), resolved[p], keyVal(plan.key[i]))
			if err == nil {
				if dobj, ok := d.(*goja.Object); ok {
					v = dobj.Get(map[string]string{"g": "get", "s": "set"}[plan.kind[i]])
				}
			}
		}
		o, ok := v.(*goja.Object)
		if !ok {
			return nil, nil, fmt.Errorf("functions: harden: object %d (%s %q) not found", i, plan.kind[i], plan.key[i])
		}
		resolved[i] = o
	}
	pinDesc, roDesc := vm.NewObject(), vm.NewObject()
	_ = pinDesc.Set("configurable", false)
	_ = roDesc.Set("configurable", false)
	_ = roDesc.Set("writable", false)
	var pins []pin
	var protos []*goja.Object
	call := func(f goja.Callable, args ...goja.Value) error {
		_, err := f(goja.Undefined(), args...)
		return err
	}
	for i, o := range resolved {
		switch plan.action[i] {
		case 1:
			if err := call(nat.freeze, o); err != nil {
				return nil, nil, fmt.Errorf("functions: harden: freeze: %w", err)
			}
		case 2:
			protos = append(protos, o)
			for _, pk := range plan.protoKeys[i] {
				desc := pinDesc
				if pk.mode == 1 {
					desc = roDesc
				}
				if err := call(nat.defineProperty, o, keyVal(pk.key), desc); err != nil {
					return nil, nil, fmt.Errorf("functions: harden: %q: %w", pk.key, err)
				}
				if pk.mode == 0 {
					pins = append(pins, pin{o: o, k: pk.key, v: o.Get(pk.key)})
				}
			}
			if err := call(nat.preventExtensions, o); err != nil {
				return nil, nil, fmt.Errorf("functions: harden: %w", err)
			}
		}
	}
	return pins, protos, nil
}

// makePlan runs harden.js on vm, which must not have been changed yet.
func makePlan(vm *goja.Runtime, objs, protoRoots goja.Value, skip []*goja.Object) (*hardenPlan, error) {
	hv, err := vm.RunProgram(hardenProgram)
	if err != nil {
		return nil, fmt.Errorf("functions: harden: %w", err)
	}
	hf, _ := goja.AssertFunction(hv)
	skipVals := make([]any, len(skip))
	for i, o := range skip {
		skipVals[i] = o
	}
	res, err := hf(goja.Undefined(), objs, protoRoots, vm.NewArray(skipVals...))
	if err != nil {
		return nil, fmt.Errorf("functions: harden: %w", err)
	}
	parts := items(res)
	if len(parts) != 5 {
		return nil, errors.New("functions: harden: bad plan")
	}
	pl := &hardenPlan{}
	for _, v := range items(parts[0]) {
		pl.parent = append(pl.parent, int(v.ToInteger()))
	}
	for _, v := range items(parts[1]) {
		pl.kind = append(pl.kind, v.String())
	}
	for _, v := range items(parts[2]) {
		pl.key = append(pl.key, v.String())
	}
	for _, v := range items(parts[3]) {
		pl.action = append(pl.action, int(v.ToInteger()))
	}
	for _, v := range items(parts[4]) {
		kv := items(v)
		var pks []protoKey
		for i := 0; i+1 < len(kv); i += 2 {
			pks = append(pks, protoKey{key: kv[i].String(), mode: int(kv[i+1].ToInteger())})
		}
		pl.protoKeys = append(pl.protoKeys, pks)
	}
	n := len(pl.parent)
	if len(pl.kind) != n || len(pl.key) != n || len(pl.action) != n || len(pl.protoKeys) != n {
		return nil, errors.New("functions: harden: inconsistent plan")
	}
	return pl, nil
}

// items are the elements of the JavaScript array v.
func items(v goja.Value) []goja.Value {
	a, ok := v.(*goja.Object)
	if !ok {
		return nil
	}
	n := int(a.Get("length").ToInteger())
	vs := make([]goja.Value, n)
	for i := range vs {
		vs[i] = a.Get(strconv.Itoa(i))
	}
	return vs
}

// freeze freezes o and every object reachable from it through own
// property values (not prototypes), and returns o. Atoll's own objects
// are made with it: EJSON, utils, console and the per-runtime context
// objects (context.app, context.environment, service prototypes, ...).
// It runs in Go, not JavaScript, since it may run while a call is being
// interrupted. The prototypes guard.go watches and the global object are
// never frozen: freezing a prototype would forbid assigning an inherited
// name on any object.
func (rt *jsRuntime) freeze(o *goja.Object) *goja.Object {
	if rt.guards == nil {
		rt.guards = &guards{}
	}
	gs := rt.guards
	if gs.freezeFn == nil {
		vm := rt.vm
		objCtor, ok := vm.Get("Object").(*goja.Object)
		if !ok {
			panic("functions: Object missing")
		}
		gs.freezeFn, ok = goja.AssertFunction(objCtor.Get("freeze"))
		if !ok {
			panic("functions: Object.freeze missing")
		}
		gs.unfrozen = map[*goja.Object]bool{vm.GlobalObject(): true}
		for _, n := range []string{"Object", "Array", "Function", "String"} {
			if c, ok := vm.Get(n).(*goja.Object); ok {
				if p, ok := c.Get("prototype").(*goja.Object); ok {
					gs.unfrozen[p] = true
				}
			}
		}
	}
	seen := map[*goja.Object]bool{}
	queue := []*goja.Object{o}
	for len(queue) > 0 {
		x := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[x] || gs.unfrozen[x] {
			continue
		}
		seen[x] = true
		if _, err := gs.freezeFn(goja.Undefined(), x); err != nil {
			panic(fmt.Sprintf("functions: freeze: %v", err))
		}
		for _, k := range x.GetOwnPropertyNames() {
			if v, ok := safeGet(x, k); ok {
				if vo, ok := v.(*goja.Object); ok {
					queue = append(queue, vo)
				}
			}
		}
		for _, s := range x.Symbols() {
			if vo, ok := x.GetSymbol(s).(*goja.Object); ok {
				queue = append(queue, vo)
			}
		}
	}
	return o
}
