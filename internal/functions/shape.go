package functions

import (
	"reflect"
	"sync"
	"unsafe"

	"github.com/dop251/goja"
	"github.com/dop251/goja/unistring"
)

// shape reads, without allocating, the bookkeeping goja keeps for an
// object's own properties: the number of own string keys (every one,
// enumerable or not, in the order list goja maintains), the number of
// own symbol keys and the extensible flag. goja exports no such reader:
// Object.keys and (*goja.Object).Keys enumerate, and on goja's lazily
// built ("templated") built-ins every enumeration walks the whole
// template map, which was over half of the post-call check (see
// docs/performance.md, "functions: cheaper guard").
//
// The fields are reached with package reflect, read-only (no unsafe, no
// writes). That ties the fast path to goja's internal layout, so it
// fails closed: newShape returns ok false unless every field is found
// with the expected kind and the counts it reads agree with what the
// public API reports at the time, and the guard then keeps the slower
// public-API check. A test fails if the fast path is not taken, so an
// upgrade of goja that moves the fields is noticed.
type shape struct {
	self  reflect.Value // the *goja.Object's implementation field
	impl  uintptr       // its pointer when the shape was made
	names reflect.Value // []unistring.String of own string keys
	syms  reflect.Value // *orderedMap of own symbol keys (may be nil)
	size  int           // index of orderedMap's size field
	ext   reflect.Value // bool
}

// newShape prepares the reader for o, checking it against want (own
// string key count), wantSyms (own symbol key count) and wantExt.
func newShape(o *goja.Object, want, wantSyms int, wantExt bool) (s shape, ok bool) {
	defer func() {
		// reflect panics on an unexpected layout: take the slow path.
		if recover() != nil {
			s, ok = shape{}, false
		}
	}()
	ov := reflect.ValueOf(o)
	if ov.Kind() != reflect.Pointer || ov.IsNil() {
		return shape{}, false
	}
	self := ov.Elem().FieldByName("self")
	if !self.IsValid() || self.Kind() != reflect.Interface || self.IsNil() {
		return shape{}, false
	}
	impl := self.Elem()
	if impl.Kind() != reflect.Pointer || impl.IsNil() || impl.Elem().Kind() != reflect.Struct {
		return shape{}, false
	}
	st := impl.Elem()
	s = shape{self: self, impl: impl.Pointer(),
		names: st.FieldByName("propNames"), syms: st.FieldByName("symValues"), ext: st.FieldByName("extensible")}
	if !s.names.IsValid() || s.names.Kind() != reflect.Slice ||
		!s.syms.IsValid() || s.syms.Kind() != reflect.Pointer ||
		!s.ext.IsValid() || s.ext.Kind() != reflect.Bool {
		return shape{}, false
	}
	sf, found := s.syms.Type().Elem().FieldByName("size")
	if !found || len(sf.Index) != 1 || sf.Type.Kind() != reflect.Int {
		return shape{}, false
	}
	s.size = sf.Index[0]
	if n, ns, ext, good := s.read(); !good || n != want || ns != wantSyms || ext != wantExt {
		return shape{}, false
	}
	return s, true
}

// read returns the own string key count, the own symbol key count and
// the extensible flag; good is false when the object's implementation
// is no longer the one the shape was made for.
func (s *shape) read() (names, syms int, ext, good bool) {
	if s.self.IsNil() || s.self.Elem().Pointer() != s.impl {
		return 0, 0, false, false
	}
	if !s.syms.IsNil() {
		syms = int(s.syms.Elem().Field(s.size).Int())
	}
	return s.names.Len(), syms, s.ext.Bool(), true
}

// A view reads a guarded object's own properties where goja keeps them,
// so that the post-call check (guard.go) is a map lookup and a few word
// comparisons per property instead of a (*goja.Object).Get, which
// resolves the name, walks goja's lazily built template and calls
// getters.
//
// goja keeps an object's string-keyed properties in a
// map[unistring.String]goja.Value (the field values of the baseObject
// every object embeds): a plain data property (writable, enumerable and
// configurable) is its value; any other property is a *valueProperty
// holding the value or the accessor functions and the attributes. A
// property only changes in one of these ways:
//
//   - its map entry is replaced (a plain property assigned; a delete and
//     a new definition; a definition with all attributes true), which
//     makes the entry differ from the one captured;
//   - its *valueProperty is changed in place (assignment, or a
//     definition of the value, the attributes or the accessors), which
//     makes its contents differ from the copy captured.
//
// Symbol-keyed properties live in an ordered map whose entries goja
// changes in place when assigned and clears when deleted: the entry, its
// key and value, and the *valueProperty contents are compared the same
// way.
//
// Go's reflect cannot read a map entry of an unexported field without
// allocating, so the view reads the two maps and *valueProperty through
// pointers to types declared here, after reflect has checked that goja's
// types have exactly these fields (name, type and offset). Nothing is
// ever written through them. As with shape, anything unexpected makes
// newView fail and the guard keeps the public-API check; a test fails
// then (TestGuardsUseShape).

// propView mirrors goja's valueProperty.
type propView struct {
	value                                        goja.Value
	writable, configurable, enumerable, accessor bool
	getterFunc, setterFunc                       *goja.Object
}

// entryHead mirrors the first two fields of goja's mapEntry, the entry
// of its ordered map (symbol-keyed properties).
type entryHead struct {
	key, value goja.Value
}

// propMap is the type of goja's string-keyed property map.
type propMap = map[unistring.String]goja.Value

// slot is one captured property: its map entry and, for a
// *valueProperty, the contents.
type slot struct {
	want goja.Value // the map entry
	prop *propView  // want as a *valueProperty, or nil
	was  propView   // its contents when captured
	// wantBy and wasBy say how want and was.value compare (see same).
	wantBy, wasBy uint8
	// fixed: the property was not configurable, so goja never replaces
	// its entry (it refuses to delete it or to redefine it as
	// configurable, and writes any other definition into the same
	// *valueProperty), and only the contents are compared.
	fixed bool
}

// How two values compare: their interface words (a pointer type, whose
// identity is its pointer), == (another comparable type) or SameAs (a
// float, which may be NaN; an incomparable type).
const (
	byWords uint8 = iota
	byEqual
	bySameAs
)

// ifaceWords is the layout of an interface value (checked by
// checkLayout).
type ifaceWords struct {
	tab, data unsafe.Pointer
}

// same compares *cur with *want as by says.
func same(cur, want *goja.Value, by uint8) bool {
	switch by {
	case byWords:
		a, b := (*ifaceWords)(unsafe.Pointer(cur)), (*ifaceWords)(unsafe.Pointer(want))
		return a.data == b.data && a.tab == b.tab
	case byEqual:
		return *cur == *want
	}
	return *cur != nil && (*cur).SameAs(*want)
}

// compareBy chooses how values compare with v.
func compareBy(v goja.Value) uint8 {
	if v == nil {
		return byWords
	}
	t := reflect.TypeOf(v)
	switch {
	case t.Kind() == reflect.Pointer:
		return byWords
	case t.Comparable() && t.Kind() != reflect.Float32 && t.Kind() != reflect.Float64:
		return byEqual
	}
	return bySameAs
}

// intact reports whether cur, the property's current entry, is the one
// captured and, for a *valueProperty, its contents are as captured.
func (s *slot) intact(cur goja.Value) bool {
	// The common case, a pointer compared by its words, is spelt out.
	if s.wantBy == byWords {
		a, b := (*ifaceWords)(unsafe.Pointer(&cur)), (*ifaceWords)(unsafe.Pointer(&s.want))
		if a.data != b.data || a.tab != b.tab {
			return false
		}
	} else if !same(&cur, &s.want, s.wantBy) {
		return false
	}
	p := s.prop
	if p == nil {
		return true
	}
	w := &s.was
	if p.writable != w.writable || p.configurable != w.configurable || p.enumerable != w.enumerable ||
		p.accessor != w.accessor || p.getterFunc != w.getterFunc || p.setterFunc != w.setterFunc {
		return false
	}
	if s.wasBy == byWords {
		a, b := (*ifaceWords)(unsafe.Pointer(&p.value)), (*ifaceWords)(unsafe.Pointer(&w.value))
		return a.data == b.data && a.tab == b.tab
	}
	return same(&p.value, &w.value, s.wasBy)
}

// keyed is a string-keyed slot.
type keyed struct {
	key unistring.String
	slot
}

// symSlot is a symbol-keyed slot: the ordered map's entry, which goja
// clears when the property is deleted.
type symSlot struct {
	entry *entryHead
	sym   goja.Value
	slot
}

// view is the captured own properties of one object.
type view struct {
	values *propMap // the object's string-keyed property map
	slots  []keyed
	syms   []symSlot
	symsF  reflect.Value  // the symbol map field (*orderedMap)
	symMap unsafe.Pointer // its value when captured
}

// intact reports whether every captured property is as it was and the
// symbol map is the same. It does not count, nor check that the object
// still has the implementation captured: shape.read does both, and must
// have been called first.
func (v *view) intact() bool {
	m := *v.values
	for i := range v.slots {
		s := &v.slots[i]
		cur := s.want
		if !s.fixed {
			cur = m[s.key]
		}
		if !s.intact(cur) {
			return false
		}
	}
	if v.symsF.UnsafePointer() != v.symMap {
		return false
	}
	for i := range v.syms {
		s := &v.syms[i]
		if e := s.entry; e.key != s.sym || !s.intact(e.value) {
			return false
		}
	}
	return true
}

// Layout checks, done once per process.
var (
	layoutOnce sync.Once
	layoutOK   bool
	propType   reflect.Type // *goja.valueProperty
)

// objectStruct returns the struct implementing o (addressable) and the
// *goja.Object's field holding it.
func objectStruct(o *goja.Object) (st, self reflect.Value, ok bool) {
	ov := reflect.ValueOf(o)
	if ov.Kind() != reflect.Pointer || ov.IsNil() {
		return reflect.Value{}, reflect.Value{}, false
	}
	self = ov.Elem().FieldByName("self")
	if !self.IsValid() || self.Kind() != reflect.Interface || self.IsNil() {
		return reflect.Value{}, reflect.Value{}, false
	}
	impl := self.Elem()
	if impl.Kind() != reflect.Pointer || impl.IsNil() || impl.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, reflect.Value{}, false
	}
	return impl.Elem(), self, true
}

// mirrors reports whether struct type got has, in order and at the same
// offsets, the fields of want with the same names and types, and (when
// whole) no others.
func mirrors(got, want reflect.Type, whole bool) bool {
	if got.Kind() != reflect.Struct || got.NumField() < want.NumField() ||
		whole && (got.NumField() != want.NumField() || got.Size() != want.Size()) {
		return false
	}
	for i := 0; i < want.NumField(); i++ {
		g, w := got.Field(i), want.Field(i)
		if g.Name != w.Name || g.Type != w.Type || g.Offset != w.Offset {
			return false
		}
	}
	return true
}

// checkLayout finds goja's valueProperty and mapEntry through a fresh
// object and checks them against propView and entryHead.
func checkLayout() bool {
	layoutOnce.Do(func() {
		defer func() {
			if recover() != nil {
				layoutOK = false
			}
		}()
		vm := goja.New()
		o := vm.NewObject()
		sym := goja.NewSymbol("layout")
		if o.DefineDataProperty("p", goja.Undefined(), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE) != nil ||
			o.SetSymbol(sym, goja.Undefined()) != nil {
			return
		}
		st, _, ok := objectStruct(o)
		if !ok {
			return
		}
		vf := st.FieldByName("values")
		if !vf.IsValid() || vf.Type() != reflect.TypeFor[propMap]() {
			return
		}
		m := *(*propMap)(vf.Addr().UnsafePointer())
		p := m["p"]
		if p == nil {
			return
		}
		pt := reflect.TypeOf(p)
		if pt.Kind() != reflect.Pointer || pt.Elem().Name() != "valueProperty" ||
			!mirrors(pt.Elem(), reflect.TypeFor[propView](), true) {
			return
		}
		sf := st.FieldByName("symValues")
		if !sf.IsValid() || sf.Kind() != reflect.Pointer || sf.IsNil() {
			return
		}
		first := sf.Elem().FieldByName("iterFirst")
		if !first.IsValid() || first.Kind() != reflect.Pointer || first.IsNil() ||
			first.Type().Elem().Name() != "mapEntry" || !mirrors(first.Type().Elem(), reflect.TypeFor[entryHead](), false) {
			return
		}
		e := (*entryHead)(first.UnsafePointer())
		if e.key != sym || e.value != goja.Undefined() {
			return
		}
		var iv goja.Value = o
		if w := *(*ifaceWords)(unsafe.Pointer(&iv)); w.data != unsafe.Pointer(o) || w.tab == nil {
			return
		}
		iv = nil
		if *(*ifaceWords)(unsafe.Pointer(&iv)) != (ifaceWords{}) {
			return
		}
		propType, layoutOK = pt, true
	})
	return layoutOK
}

// capture makes the slot of value want (read from the property map or
// a symbol entry).
func capture(want goja.Value) slot {
	s := slot{want: want, wantBy: compareBy(want)}
	if reflect.TypeOf(want) == propType {
		s.prop = (*propView)(reflect.ValueOf(want).UnsafePointer())
		s.was = *s.prop
		s.wasBy = compareBy(s.was.value)
		s.fixed = !s.was.configurable
	}
	return s
}

// newView captures o's own properties; names and syms are what the
// public API reports, in order. ok is false when goja's layout is not
// the expected one or disagrees with them.
func newView(o *goja.Object, names []string, syms []*goja.Symbol) (v view, ok bool) {
	defer func() {
		if recover() != nil {
			v, ok = view{}, false
		}
	}()
	if !checkLayout() {
		return view{}, false
	}
	st, _, ok := objectStruct(o)
	if !ok {
		return view{}, false
	}
	vf, pn := st.FieldByName("values"), st.FieldByName("propNames")
	if !vf.IsValid() || vf.Type() != reflect.TypeFor[propMap]() ||
		!pn.IsValid() || pn.Type() != reflect.TypeFor[[]unistring.String]() || pn.Len() != len(names) {
		return view{}, false
	}
	values := (*propMap)(vf.Addr().UnsafePointer())
	v.values = values
	for i, name := range names {
		key := unistring.String(pn.Index(i).String())
		want := (*values)[key]
		if want == nil || key.String() != name {
			return view{}, false
		}
		v.slots = append(v.slots, keyed{key: key, slot: capture(want)})
	}
	v.symsF = st.FieldByName("symValues")
	if !v.symsF.IsValid() || v.symsF.Kind() != reflect.Pointer {
		return view{}, false
	}
	v.symMap = v.symsF.UnsafePointer()
	if len(syms) > 0 {
		if v.symMap == nil {
			return view{}, false
		}
		e := v.symsF.Elem().FieldByName("iterFirst")
		for _, sym := range syms {
			if e.IsNil() {
				return view{}, false
			}
			head := (*entryHead)(e.UnsafePointer())
			if head.key != goja.Value(sym) || head.value == nil {
				return view{}, false
			}
			v.syms = append(v.syms, symSlot{entry: head, sym: sym, slot: capture(head.value)})
			e = e.Elem().FieldByName("iterNext")
		}
		if !e.IsNil() {
			return view{}, false
		}
	}
	return v, true
}

// owner is an object whose properties pinSlots read: goja replaces an
// object's implementation in a few cases (an array becoming sparse),
// and the captured map would then be stale.
type owner struct {
	self *ifaceWords    // the *goja.Object's implementation field
	impl unsafe.Pointer // its pointer when captured
}

// same reports whether the object has the implementation captured.
func (w *owner) same() bool {
	return w.self.data == w.impl
}

// pinSlot is a captured property of some object.
type pinSlot struct {
	values *propMap
	keyed
}

// intact reports whether the property is as captured (its owner
// checked first).
func (s *pinSlot) intact() bool {
	if s.fixed {
		return s.slot.intact(s.want)
	}
	return s.slot.intact((*s.values)[s.key])
}

// viewProp captures o's own string-keyed property k.
func viewProp(o *goja.Object, k string) (s pinSlot, w owner, ok bool) {
	defer func() {
		if recover() != nil {
			s, w, ok = pinSlot{}, owner{}, false
		}
	}()
	if !checkLayout() {
		return pinSlot{}, owner{}, false
	}
	st, self, ok := objectStruct(o)
	if !ok {
		return pinSlot{}, owner{}, false
	}
	vf := st.FieldByName("values")
	if !vf.IsValid() || vf.Type() != reflect.TypeFor[propMap]() {
		return pinSlot{}, owner{}, false
	}
	values := (*propMap)(vf.Addr().UnsafePointer())
	key := unistring.NewFromString(k)
	want := (*values)[key]
	if want == nil {
		return pinSlot{}, owner{}, false
	}
	w = owner{self: (*ifaceWords)(self.Addr().UnsafePointer()), impl: self.Elem().UnsafePointer()}
	if w.self.data != w.impl {
		return pinSlot{}, owner{}, false
	}
	return pinSlot{values: values, keyed: keyed{key: key, slot: capture(want)}}, w, true
}
