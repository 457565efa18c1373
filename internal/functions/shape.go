package functions

import (
	"reflect"

	"github.com/dop251/goja"
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
