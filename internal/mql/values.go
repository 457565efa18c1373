package mql

import (
	"bytes"
	"math"
	"math/big"
	"reflect"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Missing stands for a field that is absent from a document. It is distinct
// from nil (BSON null); comparisons treat it as null, as MongoDB's sort and
// range queries do.
type missingType struct{}

// Missing is the value Lookup returns for an absent field.
var Missing any = missingType{}

// IsMissing reports whether v is the Missing sentinel.
func IsMissing(v any) bool { _, ok := v.(missingType); return ok }

// Canonical type ranks, from MongoDB's canonicalizeBSONType. Values of
// different ranks compare by rank; values of one rank compare by value.
const (
	rankMinKey    = -1
	rankUndefined = 0
	rankNull      = 5
	rankNumber    = 10
	rankString    = 15
	rankObject    = 20
	rankArray     = 25
	rankBinary    = 30
	rankObjectID  = 35
	rankBool      = 40
	rankDate      = 45
	rankTimestamp = 47
	rankRegex     = 50
	rankDBPointer = 55
	rankCode      = 60
	rankCodeScope = 65
	rankMaxKey    = 127
)

// typeRank returns v's canonical rank. Missing ranks with null.
func typeRank(v any) int {
	switch v.(type) {
	case nil, missingType, bson.Null:
		return rankNull
	case float64, int32, int64, bson.Decimal128:
		return rankNumber
	case string, bson.Symbol:
		return rankString
	case bson.D, bson.M:
		return rankObject
	case bson.A:
		return rankArray
	case bson.Binary:
		return rankBinary
	case bson.ObjectID:
		return rankObjectID
	case bool:
		return rankBool
	case bson.DateTime:
		return rankDate
	case bson.Timestamp:
		return rankTimestamp
	case bson.Regex:
		return rankRegex
	case bson.DBPointer:
		return rankDBPointer
	case bson.JavaScript:
		return rankCode
	case bson.CodeWithScope:
		return rankCodeScope
	case bson.MinKey:
		return rankMinKey
	case bson.MaxKey:
		return rankMaxKey
	case bson.Undefined:
		return rankUndefined
	}
	return rankMaxKey + 1 // not a BSON value; sorts after everything
}

// SameTypeBracket reports whether a and b have the same canonical type, so
// that a comparison query operator ($gt, $lt, ...) may relate them. MongoDB
// range operators only match values of the operand's canonical type.
func SameTypeBracket(a, b any) bool { return typeRank(a) == typeRank(b) }

// Compare orders two BSON values the way MongoDB sorts them: first by
// canonical type (MinKey < null < numbers < strings < objects < arrays <
// binData < ObjectId < bool < date < timestamp < regex < MaxKey), then by
// value. Numbers compare exactly across int32, int64, double and decimal128;
// NaN sorts below every other number and equals NaN. The result is -1, 0
// or +1.
func Compare(a, b any) int {
	ra, rb := typeRank(a), typeRank(b)
	if ra != rb {
		return cmpInt(ra, rb)
	}
	switch ra {
	case rankNull, rankMinKey, rankMaxKey, rankUndefined:
		return 0
	case rankNumber:
		return compareNumbers(a, b)
	case rankString:
		return strings.Compare(stringOf(a), stringOf(b))
	case rankObject:
		return compareDocs(asDoc(a), asDoc(b))
	case rankArray:
		return compareArrays(a.(bson.A), b.(bson.A))
	case rankBinary:
		x, y := a.(bson.Binary), b.(bson.Binary)
		if c := cmpInt(len(x.Data), len(y.Data)); c != 0 {
			return c
		}
		if c := cmpInt(int(x.Subtype), int(y.Subtype)); c != 0 {
			return c
		}
		return bytes.Compare(x.Data, y.Data)
	case rankObjectID:
		x, y := a.(bson.ObjectID), b.(bson.ObjectID)
		return bytes.Compare(x[:], y[:])
	case rankBool:
		x, y := a.(bool), b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case rankDate:
		return cmpInt64(int64(a.(bson.DateTime)), int64(b.(bson.DateTime)))
	case rankTimestamp:
		x, y := a.(bson.Timestamp), b.(bson.Timestamp)
		if c := cmpUint32(x.T, y.T); c != 0 {
			return c
		}
		return cmpUint32(x.I, y.I)
	case rankRegex:
		x, y := a.(bson.Regex), b.(bson.Regex)
		if c := strings.Compare(x.Pattern, y.Pattern); c != 0 {
			return c
		}
		return strings.Compare(x.Options, y.Options)
	case rankDBPointer:
		x, y := a.(bson.DBPointer), b.(bson.DBPointer)
		if c := cmpInt(len(x.DB), len(y.DB)); c != 0 {
			return c
		}
		if c := strings.Compare(x.DB, y.DB); c != 0 {
			return c
		}
		return bytes.Compare(x.Pointer[:], y.Pointer[:])
	case rankCode:
		return strings.Compare(string(a.(bson.JavaScript)), string(b.(bson.JavaScript)))
	case rankCodeScope:
		x, y := a.(bson.CodeWithScope), b.(bson.CodeWithScope)
		if c := strings.Compare(string(x.Code), string(y.Code)); c != 0 {
			return c
		}
		return Compare(Normalize(x.Scope), Normalize(y.Scope))
	}
	return 0
}

// Equal reports whether a and b are equal in MongoDB's sense: the same
// canonical type and the same value (1, 1.0 and NumberLong(1) are equal).
func Equal(a, b any) bool { return Compare(a, b) == 0 }

func compareDocs(x, y bson.D) int {
	for i := 0; i < len(x) && i < len(y); i++ {
		ex, ey := x[i], y[i]
		if c := cmpInt(typeRank(ex.Value), typeRank(ey.Value)); c != 0 {
			return c
		}
		if c := strings.Compare(ex.Key, ey.Key); c != 0 {
			return c
		}
		if c := Compare(ex.Value, ey.Value); c != 0 {
			return c
		}
	}
	return cmpInt(len(x), len(y))
}

func compareArrays(x, y bson.A) int {
	for i := 0; i < len(x) && i < len(y); i++ {
		if c := Compare(x[i], y[i]); c != 0 {
			return c
		}
	}
	return cmpInt(len(x), len(y))
}

func asDoc(v any) bson.D {
	switch d := v.(type) {
	case bson.D:
		return d
	case bson.M:
		return Normalize(d).(bson.D)
	}
	return nil
}

func stringOf(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case bson.Symbol:
		return string(s)
	}
	return ""
}

// IsNumber reports whether v is a BSON number (int32, int64, double or
// decimal128).
func IsNumber(v any) bool {
	switch v.(type) {
	case int32, int64, float64, bson.Decimal128:
		return true
	}
	return false
}

// compareNumbers compares two numeric values exactly.
func compareNumbers(a, b any) int {
	// Fast paths for the common cases avoid big arithmetic.
	switch x := a.(type) {
	case int32:
		switch y := b.(type) {
		case int32:
			return cmpInt64(int64(x), int64(y))
		case int64:
			return cmpInt64(int64(x), y)
		case float64:
			return cmpIntFloat(int64(x), y)
		}
	case int64:
		switch y := b.(type) {
		case int32:
			return cmpInt64(x, int64(y))
		case int64:
			return cmpInt64(x, y)
		case float64:
			return cmpIntFloat(x, y)
		}
	case float64:
		switch y := b.(type) {
		case int32:
			return -cmpIntFloat(int64(y), x)
		case int64:
			return -cmpIntFloat(y, x)
		case float64:
			return cmpFloat(x, y)
		}
	}
	return compareDecimal(a, b)
}

// cmpFloat orders doubles with NaN below everything and equal to NaN.
func cmpFloat(x, y float64) int {
	xn, yn := math.IsNaN(x), math.IsNaN(y)
	switch {
	case xn && yn:
		return 0
	case xn:
		return -1
	case yn:
		return 1
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// cmpIntFloat compares an integer with a double without losing precision.
func cmpIntFloat(i int64, f float64) int {
	if math.IsNaN(f) {
		return 1
	}
	if f >= 9.223372036854775807e18 { // 2^63: above every int64
		return -1
	}
	if f < -9.223372036854775807e18 {
		return 1
	}
	t := math.Trunc(f)
	if c := cmpInt64(i, int64(t)); c != 0 {
		return c
	}
	// Same integer part: the fraction decides.
	frac := f - t
	switch {
	case frac > 0:
		return -1
	case frac < 0:
		return 1
	}
	return 0
}

// numClass is a number decomposed for exact comparison with decimals.
type numClass struct {
	nan bool
	inf int // -1, 0, +1
	rat *big.Rat
}

func classify(v any) numClass {
	switch x := v.(type) {
	case int32:
		return numClass{rat: new(big.Rat).SetInt64(int64(x))}
	case int64:
		return numClass{rat: new(big.Rat).SetInt64(x)}
	case float64:
		switch {
		case math.IsNaN(x):
			return numClass{nan: true}
		case math.IsInf(x, 1):
			return numClass{inf: 1}
		case math.IsInf(x, -1):
			return numClass{inf: -1}
		}
		return numClass{rat: new(big.Rat).SetFloat64(x)}
	case bson.Decimal128:
		if x.IsNaN() {
			return numClass{nan: true}
		}
		if inf := x.IsInf(); inf != 0 {
			return numClass{inf: inf}
		}
		coef, exp, err := x.BigInt()
		if err != nil {
			return numClass{nan: true}
		}
		r := new(big.Rat).SetInt(coef)
		if exp != 0 {
			p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil)
			if exp > 0 {
				r.Mul(r, new(big.Rat).SetInt(p))
			} else {
				r.Quo(r, new(big.Rat).SetInt(p))
			}
		}
		return numClass{rat: r}
	}
	return numClass{nan: true}
}

func compareDecimal(a, b any) int {
	x, y := classify(a), classify(b)
	switch {
	case x.nan && y.nan:
		return 0
	case x.nan:
		return -1
	case y.nan:
		return 1
	case x.inf != 0 || y.inf != 0:
		return cmpInt(x.inf, y.inf)
	}
	return x.rat.Cmp(y.rat)
}

// ToFloat64 converts a BSON number to float64 (decimals are rounded). ok is
// false for non-numbers.
func ToFloat64(v any) (f float64, ok bool) {
	switch x := v.(type) {
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case bson.Decimal128:
		c := classify(x)
		switch {
		case c.nan:
			return math.NaN(), true
		case c.inf != 0:
			return math.Inf(c.inf), true
		}
		f, _ := c.rat.Float64()
		return f, true
	}
	return 0, false
}

// ToInt64 converts a BSON number with an integral value that fits in int64.
func ToInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if x != math.Trunc(x) || x < -9.223372036854775807e18 || x >= 9.223372036854775807e18 {
			return 0, false
		}
		return int64(x), true
	case bson.Decimal128:
		c := classify(x)
		if c.rat == nil || !c.rat.IsInt() || !c.rat.Num().IsInt64() {
			return 0, false
		}
		return c.rat.Num().Int64(), true
	}
	return 0, false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpUint32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Truthy reports whether v counts as true in aggregation expressions and
// $expr: false, null, Missing, undefined and numeric zero are false;
// everything else (including empty strings, arrays and documents) is true.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil, missingType, bson.Undefined, bson.Null:
		return false
	case bool:
		return x
	case int32:
		return x != 0
	case int64:
		return x != 0
	case float64:
		return x != 0
	case bson.Decimal128:
		// IsZero only recognises one encoding of zero; 0E+5 is zero too.
		c := classify(x)
		return c.nan || c.inf != 0 || c.rat.Sign() != 0
	}
	return true
}

// Identical reports whether a and b are the same BSON value bit for bit, in
// MongoDB's sense: same types, same values, same field names in the same
// order. Equal says 1 and 1.0 are equal; Identical says they differ. It is
// what decides whether an update modified a document and which fields a
// change event reports as updated.
func Identical(a, b any) bool {
	switch x := a.(type) {
	case bson.D:
		y, ok := b.(bson.D)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].Key != y[i].Key || !Identical(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	case bson.A:
		y, ok := b.(bson.A)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Identical(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y) || ok && math.IsNaN(x) && math.IsNaN(y)
	case bson.Binary:
		y, ok := b.(bson.Binary)
		return ok && x.Subtype == y.Subtype && bytes.Equal(x.Data, y.Data)
	case nil, string, bool, int32, int64, bson.ObjectID, bson.DateTime, bson.Timestamp, bson.Decimal128,
		bson.Regex, bson.MinKey, bson.MaxKey, bson.Undefined, bson.Symbol, bson.JavaScript, bson.DBPointer, missingType:
		return reflect.TypeOf(a) == reflect.TypeOf(b) && a == b
	}
	return reflect.DeepEqual(a, b)
}
