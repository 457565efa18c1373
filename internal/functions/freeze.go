package functions

import (
	_ "embed"
	"errors"
	"fmt"

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

// pin is one writable member of a hardened prototype and its value when
// the runtime was made.
type pin struct {
	o *goja.Object
	k string
	v goja.Value
}

// harden makes the built-ins immutable (see the top of this file),
// leaving the objects of skip as they are. It returns the pinned members
// and the hardened prototypes (whose redefinition, through the wrapped
// define functions, taints the runtime).
func (rt *jsRuntime) harden(skip []*goja.Object) ([]pin, []*goja.Object, error) {
	vm := rt.vm
	hv, err := vm.RunProgram(hardenProgram)
	if err != nil {
		return nil, nil, fmt.Errorf("functions: harden: %w", err)
	}
	hf, ok := goja.AssertFunction(hv)
	if !ok {
		return nil, nil, errors.New("functions: harden: not a function")
	}
	skipVals := make([]any, len(skip))
	for i, o := range skip {
		skipVals[i] = o
	}
	// Errors thrown from Go have their own prototype, reachable only
	// from such an error.
	extra := []any{vm.NewGoError(errors.New("harden")), vm.NewTypeError("harden")}
	res, err := hf(goja.Undefined(), vm.NewArray(skipVals...), vm.NewArray(extra...))
	if err != nil {
		return nil, nil, fmt.Errorf("functions: harden: %w", err)
	}
	out, ok := res.(*goja.Object)
	if !ok {
		return nil, nil, errors.New("functions: harden: no result")
	}
	items := func(v goja.Value) []goja.Value {
		a, ok := v.(*goja.Object)
		if !ok {
			return nil
		}
		n := int(a.Get("length").ToInteger())
		vs := make([]goja.Value, n)
		for i := range vs {
			vs[i] = a.Get(fmt.Sprint(i))
		}
		return vs
	}
	pv := items(out.Get("0"))
	pins := make([]pin, 0, len(pv)/2)
	for i := 0; i+1 < len(pv); i += 2 {
		o, ok := pv[i].(*goja.Object)
		if !ok {
			return nil, nil, errors.New("functions: harden: bad pin")
		}
		k := pv[i+1].String()
		pins = append(pins, pin{o: o, k: k, v: o.Get(k)})
	}
	var protos []*goja.Object
	for _, v := range items(out.Get("1")) {
		if o, ok := v.(*goja.Object); ok {
			protos = append(protos, o)
		}
	}
	return pins, protos, nil
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
