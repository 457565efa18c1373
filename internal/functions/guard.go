package functions

import (
	"errors"
	"strconv"

	"github.com/dop251/goja"
)

// Between two calls on one warm runtime nothing a call did may survive
// (spec: functions share no state between runs). Module-level state is
// fresh per call by construction (see modulePrefix); what is left is the
// state every call shares: the global object and the built-in objects.
// A guard watches one of them.
//
// Checking a guarded object must be cheap, since it runs after every
// call, and it must not miss a change. A guard compares:
//
//   - the number of own string and symbol keys and the extensible flag,
//     read without allocating (shape.go): any addition, in whatever way
//     (assignment, a define function, a Proxy's default trap, a class
//     field, a symbol key), grows a count;
//   - every starting property where goja keeps it (shape.go's view): its
//     map entry by identity and, for a *valueProperty, its value,
//     accessors and attributes. A property deleted (and perhaps added
//     back), redefined or assigned differs there, whichever way it was
//     done, and no getter is called, so none can answer the check
//     differently from the next caller;
//   - the object's prototype.
//
// The define functions (Object.defineProperty, Object.defineProperties,
// Reflect.defineProperty) and Object.freeze are also replaced in every
// runtime by wrappers that mark the runtime dirty when their target is a
// guarded object or a hardened prototype (freeze.go); user code cannot
// reach the originals, though a Proxy's default traps define on its
// target past them, which the comparisons above catch.
//
// Where the view cannot be set up (goja's layout is not the expected
// one; TestGuardsUseView fails then), every starting property is
// compared with (*goja.Object).Get by identity with its starting value,
// and where shape cannot either, the counts are those of Object.keys
// and Object.getOwnPropertySymbols: slower, and blind to a getter that
// returns the starting value to the check only, or to a redefinition
// that keeps the value.
//
// A changed global object is restored (restoreGlobals); a changed
// built-in prototype taints the runtime, which is then dropped. The
// other built-ins are made immutable when the runtime is made, except a
// few prototype members that stay writable and are compared here too
// (freeze.go).
type guard struct {
	o     *goja.Object
	proto *goja.Object
	// names and vals are the starting string-keyed properties; for a name
	// whose getter throws (Function.prototype.caller), vals holds nil and
	// nameVals the name, checked with hasOwnProperty instead.
	names    []string
	vals     []goja.Value
	nameVals []goja.Value
	syms     []*goja.Symbol
	symVals  []goja.Value
	// enum and enumSyms count the enumerable string and symbol keys.
	enum, enumSyms int
	// shape reads the own key counts and extensibility without
	// allocating (shape.go); fast is false when it could not be set up,
	// and the enumerating checks are used instead.
	shape shape
	fast  bool
	// view reads every starting property where goja keeps it, without
	// calling getters (shape.go); viewed is false when it could not be
	// set up, and the public-API comparisons are used instead.
	view   view
	viewed bool
	// pins are the writable members of the hardened prototypes
	// (freeze.go), checked with the first built-in guard; pinSlots read
	// them like view when pinsViewed.
	pins       []pin
	pinSlots   []pinSlot
	pinOwners  []owner
	pinsViewed bool
}

// guards are a runtime's guarded objects (global object first) and the
// built-ins the checks call, captured when the runtime was made so that
// user code cannot replace them for us.
type guards struct {
	list                         []*guard
	keys, symbols, isExt, hasOwn goja.Callable
	// dirtyGlobal and dirtyBuiltin are set by the define wrappers when
	// their target is the global object or another guarded object.
	dirtyGlobal, dirtyBuiltin bool
	// targets are the objects whose redefinition marks the runtime
	// dirty: true for the global object, false for the guarded and the
	// hardened prototypes.
	targets map[*goja.Object]bool
	// freezeFn is the original Object.freeze and unfrozen the objects
	// freeze.go's freeze leaves alone, captured on first use.
	freezeFn goja.Callable
	unfrozen map[*goja.Object]bool
}

// installGuards wraps the defineProperty family and snapshots the global
// object and protos. It runs once per runtime, after every global is
// installed.
func (rt *jsRuntime) installGuards(protos []*goja.Object) error {
	vm := rt.vm
	if rt.guards == nil {
		rt.guards = &guards{}
	}
	gs := rt.guards
	objCtor, ok := vm.Get("Object").(*goja.Object)
	if !ok {
		return errors.New("functions: Object missing")
	}
	reflect, ok := vm.Get("Reflect").(*goja.Object)
	if !ok {
		return errors.New("functions: Reflect missing")
	}
	callable := func(o *goja.Object, name string) goja.Callable {
		f, _ := goja.AssertFunction(o.Get(name))
		return f
	}
	gs.keys, gs.symbols, gs.isExt = callable(objCtor, "keys"), callable(objCtor, "getOwnPropertySymbols"), callable(objCtor, "isExtensible")
	if op, ok := objCtor.Get("prototype").(*goja.Object); ok {
		gs.hasOwn = callable(op, "hasOwnProperty")
	}
	if gs.keys == nil || gs.symbols == nil || gs.isExt == nil || gs.hasOwn == nil {
		return errors.New("functions: Object built-ins missing")
	}
	nat := natives{freeze: callable(objCtor, "freeze"), defineProperty: callable(objCtor, "defineProperty"),
		preventExtensions: callable(objCtor, "preventExtensions"), getOwnPropertyDescriptor: callable(objCtor, "getOwnPropertyDescriptor")}
	if nat.freeze == nil || nat.defineProperty == nil || nat.preventExtensions == nil || nat.getOwnPropertyDescriptor == nil {
		return errors.New("functions: Object built-ins missing")
	}
	guarded := append([]*goja.Object{vm.GlobalObject()}, protos...)
	gs.targets = map[*goja.Object]bool{guarded[0]: true}
	for _, o := range protos {
		gs.targets[o] = false
	}
	// wrap replaces o[name] (a define function whose first argument is
	// the target) with one that marks the runtime dirty when the target
	// is guarded, then calls the original.
	wrap := func(o *goja.Object, name string) error {
		orig := callable(o, name)
		if orig == nil {
			return errors.New("functions: " + name + " missing")
		}
		w := vm.ToValue(func(c goja.FunctionCall) goja.Value {
			if t, ok := c.Argument(0).(*goja.Object); ok {
				if global, ok := gs.targets[t]; ok {
					if global {
						gs.dirtyGlobal = true
					} else {
						gs.dirtyBuiltin = true
					}
				}
			}
			v, err := orig(c.This, c.Arguments...)
			if err != nil {
				rethrow(err)
			}
			return v
		}).(*goja.Object)
		_ = w.DefineDataProperty("name", vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		if of, ok := o.Get(name).(*goja.Object); ok {
			_ = w.DefineDataProperty("length", of.Get("length"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		}
		return o.DefineDataProperty(name, w, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	for _, d := range []struct {
		o    *goja.Object
		name string
	}{{objCtor, "defineProperty"}, {objCtor, "defineProperties"}, {reflect, "defineProperty"}, {objCtor, "freeze"}} {
		if err := wrap(d.o, d.name); err != nil {
			return err
		}
	}
	// Object.freeze is wrapped too: on a hardened prototype it would make
	// a pinned member non-writable while keeping its value.
	var pins []pin
	var hardened []*goja.Object
	if !skipHarden {
		var err error
		if pins, hardened, err = rt.harden(nat, guarded); err != nil {
			return err
		}
	}
	for _, o := range hardened {
		gs.targets[o] = false
	}
	gs.dirtyGlobal, gs.dirtyBuiltin = false, false
	for _, o := range guarded {
		g, err := rt.snapshot(gs, o)
		if err != nil {
			return err
		}
		gs.list = append(gs.list, g)
	}
	if len(gs.list) > 1 {
		g := gs.list[1]
		g.pins = pins
		g.pinSlots, g.pinOwners, g.pinsViewed = viewPins(pins)
	}
	return nil
}

// skipHarden leaves the built-ins as goja makes them: only for
// benchmarks comparing the cost of hardening.
var skipHarden = false

// rethrow raises the error a goja.Callable returned again in the calling
// JavaScript: a thrown value as itself, an interrupt as an interrupt.
func rethrow(err error) {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		panic(ex.Value())
	}
	panic(err)
}

// snapshot records o as it is now.
func (rt *jsRuntime) snapshot(gs *guards, o *goja.Object) (*guard, error) {
	g := &guard{o: o, proto: o.Prototype()}
	for _, k := range o.GetOwnPropertyNames() {
		v, ok := safeGet(o, k)
		g.names = append(g.names, k)
		if ok {
			g.vals = append(g.vals, v)
			g.nameVals = append(g.nameVals, nil)
		} else {
			g.vals = append(g.vals, nil)
			g.nameVals = append(g.nameVals, rt.vm.ToValue(k))
		}
	}
	sv, err := gs.symbols(goja.Undefined(), o)
	if err != nil {
		return nil, err
	}
	if a, ok := sv.(*goja.Object); ok {
		n := int(a.Get("length").ToInteger())
		for i := 0; i < n; i++ {
			if sym, ok := a.Get(strconv.Itoa(i)).(*goja.Symbol); ok {
				g.syms = append(g.syms, sym)
				g.symVals = append(g.symVals, o.GetSymbol(sym))
			}
		}
	}
	g.enum, g.enumSyms = rt.length(gs.keys, o), len(o.Symbols())
	if g.enum < 0 || rt.length(gs.symbols, o) != len(g.syms) {
		return nil, errors.New("functions: cannot snapshot a built-in object")
	}
	if ext, err := gs.isExt(goja.Undefined(), o); err == nil && ext.ToBoolean() {
		g.shape, g.fast = newShape(o, len(g.names), len(g.syms), true)
		if g.fast {
			g.view, g.viewed = newView(o, g.names, g.syms)
		}
	}
	return g, nil
}

// safeGet reads o[k]; ok is false when its getter throws.
func safeGet(o *goja.Object, k string) (v goja.Value, ok bool) {
	defer func() {
		if recover() != nil {
			v, ok = nil, false
		}
	}()
	return o.Get(k), true
}

// length calls f(o) and returns the length of the array it returns, or
// -1.
func (rt *jsRuntime) length(f goja.Callable, o *goja.Object) int {
	v, err := f(goja.Undefined(), o)
	if err != nil {
		return -1
	}
	a, ok := v.(*goja.Object)
	if !ok {
		return -1
	}
	return int(a.Get("length").ToInteger())
}

// intact reports whether g's object is as it was snapshot (see guard).
// A getter the call installed may throw: reset recovers.
func (rt *jsRuntime) intact(g *guard) bool {
	gs := rt.guards
	o := g.o
	if o.Prototype() != g.proto {
		return false
	}
	if g.fast && g.viewed {
		// Same number of own keys, the extensible flag, and every
		// starting property still bound to the same entry with the same
		// contents: nothing was added, deleted, replaced or redefined.
		if n, ns, ext, good := g.shape.read(); !good || !ext || n != len(g.names) || ns != len(g.syms) {
			return false
		}
		return g.view.intact() && rt.pinsIntact(g)
	}
	if g.fast {
		// Same number of own string and symbol keys, and (below) every
		// starting key still bound to its starting value: nothing was
		// added, deleted or replaced.
		if n, ns, ext, good := g.shape.read(); !good || !ext || n != len(g.names) || ns != len(g.syms) {
			return false
		}
	} else {
		if ext, err := gs.isExt(goja.Undefined(), o); err != nil || !ext.ToBoolean() {
			return false
		}
		if len(o.Symbols()) != g.enumSyms || rt.length(gs.keys, o) != g.enum {
			return false
		}
	}
	for i, k := range g.names {
		if base := g.vals[i]; base != nil {
			if cur := o.Get(k); cur == nil || !cur.SameAs(base) {
				return false
			}
			continue
		}
		if has, err := gs.hasOwn(o, g.nameVals[i]); err != nil || !has.ToBoolean() {
			return false
		}
	}
	for i, s := range g.syms {
		if cur := o.GetSymbol(s); cur == nil || !cur.SameAs(g.symVals[i]) {
			return false
		}
	}
	return rt.pinsIntact(g)
}

// pinsIntact reports whether g's pinned members (if any) are as they
// were, through the view when it could be set up.
func (rt *jsRuntime) pinsIntact(g *guard) bool {
	if !g.pinsViewed {
		return pinsIntact(g.pins)
	}
	for i := range g.pinOwners {
		if !g.pinOwners[i].same() {
			return false
		}
	}
	for i := range g.pinSlots {
		if !g.pinSlots[i].intact() {
			return false
		}
	}
	return true
}

// viewPins captures the pinned members like view (shape.go), so that
// they are read without Get and a change of their attributes (made
// read-only past the define wrappers, through a Proxy) is seen too. ok
// is false when any of them cannot be captured.
func viewPins(pins []pin) (slots []pinSlot, owners []owner, ok bool) {
	seen := map[*goja.Object]bool{}
	for _, p := range pins {
		s, w, good := viewProp(p.o, p.k)
		if !good {
			return nil, nil, false
		}
		if !seen[p.o] {
			seen[p.o] = true
			owners = append(owners, w)
		}
		cur := s.want
		if s.prop != nil {
			if s.was.accessor {
				return nil, nil, false
			}
			cur = s.was.value
		}
		if cur == nil || !cur.SameAs(p.v) {
			return nil, nil, false
		}
		slots = append(slots, s)
	}
	return slots, owners, true
}

// pinsIntact reports whether every pinned member still has its value:
// the check where the view cannot be set up. A pinned member is
// non-configurable, so it cannot have become an accessor or been
// deleted; making it read-only through a wrapped define function or
// Object.freeze taints the runtime, but through a Proxy is not seen.
func pinsIntact(pins []pin) bool {
	for i := range pins {
		p := &pins[i]
		if cur := p.o.Get(p.k); cur == nil || !cur.SameAs(p.v) {
			return false
		}
	}
	return true
}
