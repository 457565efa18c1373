package expr

import (
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// MaxDepth bounds the nesting of expressions and of the values inside them,
// as MongoDB bounds documents, so that hostile config cannot exhaust the
// stack.
const MaxDepth = 100

// canonical converts a Go value into the BSON shapes mql works on (bson.D,
// bson.A, driver scalars). Unlike mql.Normalize it reports unknown Go types
// as errors instead of panicking, because its inputs come from function
// results and callers' bindings, which we do not control. Already canonical
// values are returned as they are: no copy, no allocation.
func canonical(v any, depth int) (any, error) {
	out, _, err := canon(v, depth)
	return out, err
}

// canon is canonical that also reports whether the result differs from v,
// so that documents and arrays are copied only when something in them
// changes.
func canon(v any, depth int) (any, bool, error) {
	if depth > MaxDepth {
		return nil, false, fmt.Errorf("value nesting exceeds the maximum depth of %d", MaxDepth)
	}
	switch x := v.(type) {
	case nil, string, bool, float64, int32, int64, bson.ObjectID, bson.DateTime,
		bson.Decimal128, bson.Binary, bson.Timestamp, bson.Regex, bson.MinKey,
		bson.MaxKey, bson.Undefined, bson.Symbol, bson.JavaScript, bson.DBPointer,
		bson.CodeWithScope:
		return v, false, nil
	case bson.Null:
		return nil, true, nil
	case int:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int32(x), true, nil
		}
		return int64(x), true, nil
	case int8:
		return int32(x), true, nil
	case int16:
		return int32(x), true, nil
	case uint8:
		return int32(x), true, nil
	case uint16:
		return int32(x), true, nil
	case uint32:
		return int64(x), true, nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return nil, false, fmt.Errorf("unsigned integer %d does not fit a BSON long", x)
		}
		return int64(x), true, nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, false, fmt.Errorf("unsigned integer %d does not fit a BSON long", x)
		}
		return int64(x), true, nil
	case float32:
		return float64(x), true, nil
	case time.Time:
		return bson.NewDateTimeFromTime(x), true, nil
	case bson.D:
		out, changed, err := canonicalD(x, depth)
		if err != nil {
			return nil, false, err
		}
		if !changed {
			return v, false, nil
		}
		return out, true, nil
	case bson.M:
		out, _, err := canon(map[string]any(x), depth)
		return out, true, err
	case map[string]any:
		d, err := sortedDoc(x)
		if err != nil {
			return nil, false, err
		}
		// sortedDoc canonicalizes its values at a fixed depth; recheck
		// the real depth of what it produced.
		out, _, err := canon(d, depth)
		return out, true, err
	case bson.A:
		var out bson.A
		for i, e := range x {
			n, changed, err := canon(e, depth+1)
			if err != nil {
				return nil, false, fmt.Errorf("[%d]: %w", i, err)
			}
			if out == nil && changed {
				out = make(bson.A, len(x))
				copy(out, x[:i])
			}
			if out != nil {
				out[i] = n
			}
		}
		if out == nil {
			return v, false, nil
		}
		return out, true, nil
	case []any:
		out, _, err := canon(bson.A(x), depth)
		return out, true, err
	case []string:
		out := make(bson.A, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, true, nil
	case []bson.D:
		out := make(bson.A, len(x))
		for i, d := range x {
			n, err := canonical(d, depth+1)
			if err != nil {
				return nil, false, err
			}
			out[i] = n
		}
		return out, true, nil
	}
	return nil, false, fmt.Errorf("a Go %T has no BSON form", v)
}

// canonicalD is canon for a document, without boxing it: x itself when
// nothing in it changes.
func canonicalD(x bson.D, depth int) (bson.D, bool, error) {
	if depth > MaxDepth {
		return nil, false, fmt.Errorf("value nesting exceeds the maximum depth of %d", MaxDepth)
	}
	var out bson.D
	for i, e := range x {
		n, changed, err := canon(e.Value, depth+1)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", e.Key, err)
		}
		if out == nil && changed {
			out = make(bson.D, len(x))
			copy(out, x[:i])
		}
		if out != nil {
			out[i] = bson.E{Key: e.Key, Value: n}
		}
	}
	if out == nil {
		return x, false, nil
	}
	return out, true, nil
}

// source names where a value or a key's left-hand side comes from.
type source uint8

const (
	srcNone        source = iota
	srcConst              // %%true / %%false
	srcUser               // %%user
	srcValues             // %%values
	srcEnvironment        // %%environment
	srcRequest            // %%request
	srcPartition          // %%partition
	srcArgs               // %%args, and bare fields under ScopeArgs
	srcRoot               // %%root, and bare fields under ScopeDocument
	srcPrevRoot           // %%prevRoot
	srcThis               // %%this
	srcPrev               // %%prev
	srcElem               // bare fields inside an $elemMatch query: the array element
)

// documentDependent reports whether a source changes from document to
// document; everything else is fixed once the Env is bound.
func (s source) documentDependent() bool {
	return s == srcRoot || s == srcPrevRoot || s == srcThis || s == srcPrev || s == srcElem
}

// ref is a resolved reference: an expansion or a field path.
type ref struct {
	src   source
	path  []string // segments after the expansion or of the field path
	text  string   // as written, for messages
	konst any      // the boolean of %%true / %%false
}

// valueKind tells how a value position is computed.
type valueKind uint8

const (
	valLiteral  valueKind = iota // lit, fixed at parse time
	valRef                       // an expansion
	valConvert                   // %stringToOid and friends over arg
	valFunction                  // %function
	valArray                     // an array with some non-literal element
	valDoc                       // a document with some non-literal field
)

// convOp is one of the four converters.
type convOp uint8

const (
	convStringToOid convOp = iota + 1
	convOidToString
	convStringToUUID
	convUUIDToString
)

var convNames = map[string]convOp{
	"%stringToOid":  convStringToOid,
	"%oidToString":  convOidToString,
	"%stringToUuid": convStringToUUID,
	"%uuidToString": convUUIDToString,
}

func (c convOp) String() string {
	for k, v := range convNames {
		if v == c {
			return k
		}
	}
	return "%convert"
}

// value is a compiled value position: a literal, or something computed from
// the Env and the document.
type value struct {
	kind  valueKind
	lit   any
	ref   ref
	conv  convOp
	name  string  // function name
	kids  []value // array elements, document field values, function arguments, converter argument
	keys  []string
	deps  Uses // what computing the value reads
	where string
}

// convert applies a converter. Missing stays missing, so that a conversion
// of an absent expansion simply fails to match; an input of the wrong
// shape is an error, which denies the request (spec W-13 treats failures
// in expressions that way).
func convert(op convOp, v any) (any, error) {
	if mql.IsMissing(v) {
		return v, nil
	}
	switch op {
	case convStringToOid:
		switch x := v.(type) {
		case bson.ObjectID:
			return x, nil
		case string:
			if len(x) == 24 {
				oid, err := bson.ObjectIDFromHex(x)
				if err != nil {
					return nil, fmt.Errorf("%%stringToOid: %q is not a 24-digit hex string", x)
				}
				return oid, nil
			}
			if len(x) == 12 {
				var oid bson.ObjectID
				copy(oid[:], x)
				return oid, nil
			}
			return nil, fmt.Errorf("%%stringToOid: %q is neither 24 hex digits nor 12 bytes", x)
		}
	case convOidToString:
		switch x := v.(type) {
		case bson.ObjectID:
			return x.Hex(), nil
		case string:
			return x, nil
		}
	case convStringToUUID:
		switch x := v.(type) {
		case bson.Binary:
			if x.Subtype == bson.TypeBinaryUUID && len(x.Data) == 16 {
				return x, nil
			}
		case string:
			b, err := parseUUID(x)
			if err != nil {
				return nil, err
			}
			return bson.Binary{Subtype: bson.TypeBinaryUUID, Data: b}, nil
		}
	case convUUIDToString:
		switch x := v.(type) {
		case bson.Binary:
			if (x.Subtype == bson.TypeBinaryUUID || x.Subtype == bson.TypeBinaryUUIDOld) && len(x.Data) == 16 {
				return formatUUID(x.Data), nil
			}
		case string:
			return x, nil
		}
	}
	return nil, fmt.Errorf("%s: cannot convert a %s", op, mql.TypeName(v))
}

func parseUUID(s string) ([]byte, error) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, fmt.Errorf("%%stringToUuid: %q is not a 36-character UUID", s)
	}
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		return nil, fmt.Errorf("%%stringToUuid: %q is not a 36-character UUID", s)
	}
	return b, nil
}

func formatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// lookup follows path from v the way an aggregation variable path does:
// documents by key, arrays by numeric index, and an array met with a
// field name maps the rest of the path over its elements. It is used for
// values (right-hand sides, function arguments), which are single values;
// keys use the existential walk in eval.go instead.
func lookup(v any, path []string) any {
	for i, seg := range path {
		switch x := v.(type) {
		case bson.D:
			v = mql.Get(x, seg)
		case bson.A:
			if n, ok := arrayIndex(seg); ok {
				if n >= len(x) {
					return mql.Missing
				}
				v = x[n]
				continue
			}
			out := bson.A{}
			for _, e := range x {
				if _, isDoc := e.(bson.D); !isDoc {
					continue
				}
				if r := lookup(e, path[i:]); !mql.IsMissing(r) {
					out = append(out, r)
				}
			}
			return out
		default:
			return mql.Missing
		}
	}
	return v
}

// lookupDoc is lookup starting at a document, without boxing it.
func lookupDoc(d bson.D, path []string) any {
	if len(path) == 0 {
		return d
	}
	return lookup(mql.Get(d, path[0]), path[1:])
}

// arrayIndex parses a path segment that is a non-negative decimal index.
func arrayIndex(seg string) (int, bool) {
	if seg == "" || len(seg) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if len(seg) > 1 && seg[0] == '0' {
		return 0, false
	}
	return n, true
}
