package functions

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The mapping between BSON (Go) and JavaScript values:
//
//	Go / BSON                  JavaScript
//	nil, bson.Null             null
//	bson.Undefined             undefined
//	string, bool               string, boolean
//	int32, float64             number (a returned integral number in int32
//	                           range becomes int32, any other number float64)
//	int64                      BSON.Long (exact; valueOf gives a number)
//	bson.Decimal128            BSON.Decimal128
//	bson.ObjectID              BSON.ObjectId
//	bson.DateTime, time.Time   Date
//	bson.Binary                BSON.Binary
//	bson.Timestamp             BSON.Timestamp
//	bson.Regex                 BSON.BSONRegExp (a JS RegExp returns as bson.Regex)
//	bson.MinKey, bson.MaxKey   BSON.MinKey, BSON.MaxKey
//	bson.D, bson.M             object (keys in order)
//	bson.A, []any              array
//
// BSON.Int32 and BSON.Double objects convert back to int32 and float64.
// In documents, undefined fields and functions are dropped (as JSON does).

// The export types of goja's Promise and ArrayBuffer objects.
var (
	promiseType     = reflect.TypeOf((*goja.Promise)(nil))
	arrayBufferType = reflect.TypeOf(goja.ArrayBuffer{})
)

// maxDepth bounds nesting (and catches cycles).
const maxDepth = 100

var errTooDeep = errors.New("value nested too deeply (or cyclic)")

// bsonClasses are the constructors of the BSON classes in one runtime.
type bsonClasses struct {
	binaryFrom goja.Callable

	objectID, long, decimal, binary, timestamp, regex, minKey, maxKey *goja.Object
	// The prototypes of ObjectId, Long and Decimal128: toJS makes their
	// instances directly (see tagged), the way the constructors do, without
	// running JavaScript. They are the commonest BSON values in documents.
	objectIDProto, longProto, decimalProto *goja.Object
	// objectProto is Object.prototype (see docObject), found on first use.
	objectProto *goja.Object
}

func (rt *jsRuntime) binaryFrom(this goja.Value, args ...goja.Value) (goja.Value, error) {
	return rt.bs.binaryFrom(this, args...)
}

func (rt *jsRuntime) newOf(c *goja.Object, args ...any) goja.Value {
	vals := make([]goja.Value, len(args))
	for i, a := range args {
		vals[i] = rt.vm.ToValue(a)
	}
	o, err := rt.vm.New(c, vals...)
	if err != nil {
		panic(err)
	}
	return o
}

// tagged makes an instance of a BSON class from Go: an object with the
// class's prototype and its one hidden state property (non-enumerable,
// read-only, non-configurable), which is what the class's constructor in
// prelude.js builds after validating its argument. Values coming from Go
// are valid already, so the constructor's JavaScript (and its call back
// into Go to validate) is skipped.
func (rt *jsRuntime) tagged(proto *goja.Object, key, val string) goja.Value {
	o := rt.vm.CreateObject(proto)
	if err := o.DefineDataProperty(key, rt.vm.ToValue(val), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE); err != nil {
		panic(err)
	}
	return o
}

// toJS converts a BSON value into JavaScript.
func (rt *jsRuntime) toJS(v any) goja.Value {
	vm := rt.vm
	switch x := v.(type) {
	case nil, bson.Null:
		return goja.Null()
	case bson.Undefined:
		return goja.Undefined()
	case string:
		return vm.ToValue(x)
	case bool:
		return vm.ToValue(x)
	case int32:
		return vm.ToValue(int64(x))
	case int:
		return vm.ToValue(int64(x))
	case float64:
		return vm.ToValue(x)
	case int64:
		return rt.tagged(rt.bs.longProto, "_s", strconv.FormatInt(x, 10))
	case bson.Decimal128:
		return rt.tagged(rt.bs.decimalProto, "_s", x.String())
	case bson.ObjectID:
		return rt.tagged(rt.bs.objectIDProto, "_hex", x.Hex())
	case bson.DateTime:
		return rt.newDate(int64(x))
	case time.Time:
		return rt.newDate(x.UnixMilli())
	case bson.Binary:
		v, err := rt.binaryFrom(goja.Undefined(), vm.ToValue(b64(x.Data)), vm.ToValue(int(x.Subtype)))
		if err != nil {
			panic(err)
		}
		return v
	case bson.Timestamp:
		return rt.newOf(rt.bs.timestamp, x.I, x.T)
	case bson.Regex:
		return rt.newOf(rt.bs.regex, x.Pattern, x.Options)
	case bson.MinKey:
		return rt.newOf(rt.bs.minKey)
	case bson.MaxKey:
		return rt.newOf(rt.bs.maxKey)
	case bson.D:
		o := rt.docObject()
		for _, e := range x {
			_ = o.Set(e.Key, rt.toJS(e.Value))
		}
		return rt.docDone(o)
	case bson.M:
		o := rt.docObject()
		for k, e := range x {
			_ = o.Set(k, rt.toJS(e))
		}
		return rt.docDone(o)
	case map[string]any:
		return rt.toJS(bson.M(x))
	case bson.A:
		return rt.array([]any(x))
	case []any:
		return rt.array(x)
	case []bson.D:
		vals := make([]any, len(x))
		for i := range x {
			vals[i] = x[i]
		}
		return rt.array(vals)
	case []string:
		vals := make([]any, len(x))
		for i := range x {
			vals[i] = x[i]
		}
		return rt.array(vals)
	case bson.Symbol:
		return vm.ToValue(string(x))
	case bson.JavaScript:
		return vm.ToValue(string(x))
	case goja.Value:
		return x
	}
	return vm.ToValue(v)
}

// docObject starts the object of a document: without a prototype while
// its fields are assigned, so that an assignment finds no setter to call
// (it would look up the prototype chain on every field) and a field named
// __proto__ is an own data property, as JSON.parse makes it; docDone
// then gives it Object.prototype. The fields are the same own enumerable,
// writable, configurable data properties, in order, that defining them
// would make, at fewer allocations.
func (rt *jsRuntime) docObject() *goja.Object {
	return rt.vm.CreateObject(nil)
}

// docDone gives a document's object (see docObject) Object.prototype.
func (rt *jsRuntime) docDone(o *goja.Object) *goja.Object {
	if rt.bs.objectProto == nil {
		rt.bs.objectProto = rt.vm.NewObject().Prototype()
	}
	_ = o.SetPrototype(rt.bs.objectProto)
	return o
}

func (rt *jsRuntime) array(x []any) goja.Value {
	vals := make([]any, len(x))
	for i, e := range x {
		vals[i] = rt.toJS(e)
	}
	return rt.vm.NewArray(vals...)
}

func (rt *jsRuntime) newDate(ms int64) goja.Value {
	o, err := rt.vm.New(rt.dateCtor, rt.vm.ToValue(ms))
	if err != nil {
		panic(err)
	}
	return o
}

// fromJS converts a JavaScript value into BSON terms. top says whether v
// is a whole value (undefined stays bson.Undefined) or a document field.
func (rt *jsRuntime) fromJS(v goja.Value, depth int, top bool) (any, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	if v == nil || goja.IsUndefined(v) {
		return bson.Undefined{}, nil
	}
	if goja.IsNull(v) {
		return nil, nil
	}
	o, ok := v.(*goja.Object)
	if !ok {
		switch x := v.Export().(type) {
		case int64:
			if x >= math.MinInt32 && x <= math.MaxInt32 {
				return int32(x), nil
			}
			return float64(x), nil
		case float64:
			if x == math.Trunc(x) && x >= math.MinInt32 && x <= math.MaxInt32 && !(x == 0 && math.Signbit(x)) {
				return int32(x), nil
			}
			return x, nil
		case string, bool:
			return x, nil
		case nil:
			return nil, nil
		default:
			return v.String(), nil
		}
	}
	if t := o.Get("_bsontype"); t != nil && !goja.IsUndefined(t) {
		return rt.fromBSONObject(o, t.String())
	}
	switch o.ClassName() {
	case "Date":
		t, ok := o.Export().(time.Time)
		if !ok {
			return nil, fmt.Errorf("invalid Date")
		}
		return bson.NewDateTimeFromTime(t), nil
	case "RegExp":
		return bson.Regex{Pattern: o.Get("source").String(), Options: sortFlags(o.Get("flags").String())}, nil
	case "Array":
		n := int(o.Get("length").ToInteger())
		out := make(bson.A, 0, n)
		for i := 0; i < n; i++ {
			x, err := rt.fromJS(o.Get(strconv.Itoa(i)), depth+1, false)
			if err != nil {
				return nil, err
			}
			if _, u := x.(bson.Undefined); u {
				x = nil // arrays keep their positions: undefined reads as null
			}
			out = append(out, x)
		}
		return out, nil
	case "Function":
		if top {
			return bson.Undefined{}, nil
		}
		return nil, nil
	case "Error":
		return bson.D{{Key: "name", Value: o.Get("name").String()}, {Key: "message", Value: o.Get("message").String()}}, nil
	}
	// Promises and ArrayBuffers are told by their export type: Export,
	// the other way to tell them, copies a plain object whole into a map.
	switch o.ExportType() {
	case promiseType:
		return nil, errors.New("a Promise cannot be converted to BSON; await it first")
	case arrayBufferType:
		if ab, ok := o.Export().(goja.ArrayBuffer); ok {
			return bson.Binary{Data: append([]byte(nil), ab.Bytes()...)}, nil
		}
	}
	// Any other object: its enumerable properties, in order.
	keys := o.Keys()
	out := make(bson.D, 0, len(keys))
	for _, k := range keys {
		fv := o.Get(k)
		if fv == nil || goja.IsUndefined(fv) {
			continue
		}
		if fo, ok := fv.(*goja.Object); ok && fo.ClassName() == "Function" {
			continue
		}
		x, err := rt.fromJS(fv, depth+1, false)
		if err != nil {
			return nil, err
		}
		out = append(out, bson.E{Key: k, Value: x})
	}
	return out, nil
}

func (rt *jsRuntime) fromBSONObject(o *goja.Object, t string) (any, error) {
	switch t {
	case "ObjectId":
		return bson.ObjectIDFromHex(o.Get("_hex").String())
	case "Long":
		return strconv.ParseInt(o.Get("_s").String(), 10, 64)
	case "Int32":
		return int32(o.Get("value").ToInteger()), nil
	case "Double":
		return o.Get("value").ToFloat(), nil
	case "Decimal128":
		return bson.ParseDecimal128(o.Get("_s").String())
	case "Binary":
		data, err := unb64(o.Get("_b64").String())
		if err != nil {
			return nil, err
		}
		return bson.Binary{Subtype: byte(o.Get("sub_type").ToInteger()), Data: data}, nil
	case "Timestamp":
		return bson.Timestamp{T: uint32(o.Get("t").ToInteger()), I: uint32(o.Get("i").ToInteger())}, nil
	case "BSONRegExp":
		return bson.Regex{Pattern: o.Get("pattern").String(), Options: o.Get("options").String()}, nil
	case "MinKey":
		return bson.MinKey{}, nil
	case "MaxKey":
		return bson.MaxKey{}, nil
	}
	return nil, fmt.Errorf("unknown BSON type %q", t)
}

// sortFlags turns JS RegExp flags into BSON regex options (sorted).
func sortFlags(f string) string {
	b := []byte(f)
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j] < b[j-1]; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
	return string(b)
}
