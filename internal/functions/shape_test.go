package functions

import (
	"testing"

	"github.com/dop251/goja"
)

// The guards read goja's own-key bookkeeping through shape (shape.go).
// If a goja upgrade moves those fields the guards silently fall back to
// the slower enumerating check: this test makes that visible.
func TestGuardsUseShape(t *testing.T) {
	rt, err := newRuntime(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range rt.guards.list {
		if !g.fast {
			t.Errorf("guard %d: the allocation-free shape check is not in use", i)
		}
	}
}

// The shape check counts every own key, so it also catches what the
// define wrappers exist for (a non-enumerable or symbol-keyed addition,
// a deletion, a change of extensibility) even when made from Go, past
// the wrappers.
func TestShapeCatchesChangesPastTheWrappers(t *testing.T) {
	changes := map[string]func(vm *goja.Runtime, o *goja.Object) error{
		"hidden name": func(_ *goja.Runtime, o *goja.Object) error {
			return o.DefineDataProperty("hidden", goja.Undefined(), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		},
		"hidden symbol": func(vm *goja.Runtime, o *goja.Object) error {
			return o.DefineDataPropertySymbol(goja.NewSymbol("s"), goja.Undefined(), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		},
		"not extensible": func(vm *goja.Runtime, o *goja.Object) error {
			_, err := vm.RunString(`Object.preventExtensions(globalThis.__target)`)
			return err
		},
	}
	for name, change := range changes {
		for i := range guardedBuiltins {
			rt, err := newRuntime(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			g := rt.guards.list[i+1]
			if !rt.intact(g) {
				t.Fatalf("%s %d: changed before the change", name, i)
			}
			if name == "not extensible" {
				// Reach the object through a global set from Go.
				if err := rt.vm.GlobalObject().Set("__target", g.o); err != nil {
					t.Fatal(err)
				}
			}
			if err := change(rt.vm, g.o); err != nil {
				t.Fatalf("%s %d: %v", name, i, err)
			}
			if rt.intact(g) {
				t.Errorf("%s on %s.%s: not caught", name, guardedBuiltins[i][0], guardedBuiltins[i][1])
			}
		}
	}
}

// The guards read the properties themselves through view (shape.go);
// this makes a fall back to the slower public-API comparisons visible.
func TestGuardsUseView(t *testing.T) {
	rt, err := newRuntime(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range rt.guards.list {
		if !g.viewed {
			t.Errorf("guard %d: the property view is not in use", i)
		}
	}
	if g := rt.guards.list[1]; len(g.pins) == 0 || !g.pinsViewed {
		t.Errorf("the pinned members are not read through the view (%d pins)", len(g.pins))
	}
}

// The view sees a property replaced even when nothing about it differs:
// the last own name (or symbol) of each guarded object deleted and
// defined again with its own descriptor keeps the count, the order of
// names and every value, but not goja's entry. (A non-configurable
// property cannot be deleted: skipped.)
func TestViewCatchesExactRedefinition(t *testing.T) {
	for i := 0; i <= len(guardedBuiltins); i++ {
		for _, keys := range []string{"Object.getOwnPropertyNames", "Object.getOwnPropertySymbols"} {
			rt, err := newRuntime(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			g := rt.guards.list[i]
			f, err := rt.vm.RunString(`(function (O) {
				const ks = ` + keys + `(O);
				if (ks.length === 0) return false;
				const k = ks[ks.length - 1], d = Object.getOwnPropertyDescriptor(O, k);
				if (!delete O[k]) return false;
				Object.defineProperty(O, k, d);
				const d2 = Object.getOwnPropertyDescriptor(O, k), ks2 = ` + keys + `(O);
				return ks2.length === ks.length && ks2[ks2.length - 1] === k && Object.keys(d).every(a => d[a] === d2[a]);
			})`)
			if err != nil {
				t.Fatal(err)
			}
			redefine, _ := goja.AssertFunction(f)
			if !rt.intact(g) {
				t.Fatalf("guard %d: changed before the change", i)
			}
			v, err := redefine(goja.Undefined(), g.o)
			if err != nil {
				t.Fatalf("guard %d %s: %v", i, keys, err)
			}
			if !v.ToBoolean() {
				continue // no symbol, or not configurable
			}
			if rt.intact(g) {
				t.Errorf("guard %d: an exact redefinition (%s) was not seen", i, keys)
			}
		}
	}
}

// A slot of a non-configurable property is compared without looking its
// entry up (slot.fixed): this holds only while goja refuses to delete
// such a property or to replace it by a configurable one, which this
// checks for every such slot, by every way of trying.
func TestFixedEntriesStay(t *testing.T) {
	rt, err := newRuntime(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := rt.vm.RunString(`(function (O, k) {
		const P = new Proxy(O, {}), orig = Object.getOwnPropertyDescriptor(O, k);
		const tries = [() => delete O[k], () => Reflect.deleteProperty(P, k),
			() => Reflect.defineProperty(P, k, {value: 1, writable: true, enumerable: true, configurable: true}),
			() => Reflect.defineProperty(P, k, {get() { return 1 }}),
			() => { class B { constructor() { return O } } class C extends B { [k] = 1 } new C() }];
		for (const f of tries) { try { f() } catch (e) {} }
		const d = Object.getOwnPropertyDescriptor(O, k);
		return Object.keys(orig).every(a => Object.is(d[a], orig[a]));
	})`)
	if err != nil {
		t.Fatal(err)
	}
	try, _ := goja.AssertFunction(f)
	n := 0
	check := func(o *goja.Object, values *propMap, s *keyed) {
		if !s.fixed {
			return
		}
		n++
		same, err := try(goja.Undefined(), o, rt.vm.ToValue(s.key.String()))
		if err != nil || !same.ToBoolean() {
			t.Errorf("%s: changed (%v)", s.key, err)
		}
		if cur := (*values)[s.key]; cur != s.want {
			t.Errorf("%s: its entry was replaced", s.key)
		}
	}
	for _, g := range rt.guards.list {
		for i := range g.view.slots {
			check(g.o, g.view.values, &g.view.slots[i])
		}
	}
	g := rt.guards.list[1]
	for i := range g.pinSlots {
		check(g.pins[i].o, g.pinSlots[i].values, &g.pinSlots[i].keyed)
	}
	if n < len(g.pins) {
		t.Errorf("only %d fixed slots", n)
	}
	for i, g := range rt.guards.list {
		if !rt.intact(g) {
			t.Errorf("guard %d: changed by failed attempts", i)
		}
	}
}
