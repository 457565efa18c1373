package mql

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Get returns the value of a top-level field of doc, or Missing.
func Get(doc bson.D, key string) any {
	for i := range doc {
		if doc[i].Key == key {
			return doc[i].Value
		}
	}
	return Missing
}

// Normalize converts a Go value into the form this package works on:
// bson.M becomes bson.D (keys sorted, for determinism), []any and typed
// slices become bson.A, Go int kinds become int32 when they fit and int64
// otherwise, float32 becomes float64, and bson.Null becomes nil. Values
// already in normal form are returned without copying when possible.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, int32, int64, bson.ObjectID, bson.DateTime,
		bson.Decimal128, bson.Binary, bson.Timestamp, bson.Regex, bson.MinKey,
		bson.MaxKey, bson.Undefined, bson.Symbol, bson.JavaScript, bson.DBPointer,
		bson.CodeWithScope:
		return v
	case bson.Null:
		return nil
	case int:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int32(x)
		}
		return int64(x)
	case int8:
		return int32(x)
	case int16:
		return int32(x)
	case uint8:
		return int32(x)
	case uint16:
		return int32(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case bson.D:
		var out bson.D
		for i, e := range x {
			n := Normalize(e.Value)
			if out == nil && !sameValue(n, e.Value) {
				out = make(bson.D, len(x))
				copy(out, x[:i])
			}
			if out != nil {
				out[i] = bson.E{Key: e.Key, Value: n}
			}
		}
		if out == nil {
			return x
		}
		return out
	case bson.M:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(bson.D, len(keys))
		for i, k := range keys {
			out[i] = bson.E{Key: k, Value: Normalize(x[k])}
		}
		return out
	case map[string]any:
		return Normalize(bson.M(x))
	case bson.A:
		var out bson.A
		for i, e := range x {
			n := Normalize(e)
			if out == nil && !sameValue(n, e) {
				out = make(bson.A, len(x))
				copy(out, x[:i])
			}
			if out != nil {
				out[i] = n
			}
		}
		if out == nil {
			return x
		}
		return out
	case []any:
		return Normalize(bson.A(x))
	case []bson.D:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = Normalize(e)
		}
		return out
	case time.Time:
		return bson.NewDateTimeFromTime(x)
	case []byte:
		return bson.Binary{Data: x}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		out := make(bson.A, rv.Len())
		for i := range out {
			out[i] = Normalize(rv.Index(i).Interface())
		}
		return out
	}
	panic(fmt.Sprintf("mql.Normalize: unsupported Go type %T", v))
}

// sameValue reports whether normalizing left v untouched: containers that
// come back as the same backing array, and scalars already in normal form.
func sameValue(n, v any) bool {
	switch x := v.(type) {
	case bson.D:
		y, ok := n.(bson.D)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case bson.A:
		y, ok := n.(bson.A)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case bson.M, map[string]any, []any, []bson.D, []byte, bson.Null, int, int8, int16, uint8, uint16, uint32, float32, time.Time:
		return false
	}
	// Typed slices such as []int become bson.A.
	return reflect.ValueOf(v).Kind() != reflect.Slice
}

// DeepCopy returns a copy of v that shares no bson.D or bson.A with it, so
// that the copy can be modified freely.
func DeepCopy(v any) any {
	switch x := v.(type) {
	case bson.D:
		out := make(bson.D, len(x))
		for i, e := range x {
			out[i] = bson.E{Key: e.Key, Value: DeepCopy(e.Value)}
		}
		return out
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = DeepCopy(e)
		}
		return out
	}
	return v
}

// CheckDepth reports an error when v nests documents or arrays more than
// MaxDepth levels deep.
func CheckDepth(v any) error {
	if depth(v, 0) > MaxDepth {
		return Errorf(CodeOverflow, "document nesting exceeds the maximum depth of %d", MaxDepth)
	}
	return nil
}

func depth(v any, d int) int {
	if d > MaxDepth {
		return d
	}
	max := d
	switch x := v.(type) {
	case bson.D:
		for _, e := range x {
			if n := depth(e.Value, d+1); n > max {
				max = n
			}
		}
	case bson.A:
		for _, e := range x {
			if n := depth(e, d+1); n > max {
				max = n
			}
		}
	}
	return max
}
