package mql

import (
	"errors"
	"math"
	"sort"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func dec(t *testing.T, s string) bson.Decimal128 {
	t.Helper()
	d, err := bson.ParseDecimal128(s)
	if err != nil {
		t.Fatalf("ParseDecimal128(%q): %v", s, err)
	}
	return d
}

// TestCompareTypeOrder checks MongoDB's cross-type order: every value in
// the list sorts strictly before every later one.
func TestCompareTypeOrder(t *testing.T) {
	oid := bson.ObjectID{1}
	ordered := []any{
		bson.MinKey{},
		nil,
		int32(-5),
		"a",
		bson.D{{Key: "a", Value: int32(1)}},
		bson.A{int32(1)},
		bson.Binary{Subtype: 0, Data: []byte{1}},
		oid,
		false,
		true,
		bson.DateTime(0),
		bson.Timestamp{T: 1, I: 1},
		bson.Regex{Pattern: "a"},
		bson.MaxKey{},
	}
	for i := range ordered {
		for j := range ordered {
			got := Compare(ordered[i], ordered[j])
			want := cmpInt(i, j)
			if got != want {
				t.Errorf("Compare(%#v, %#v) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestCompareMissingIsNull(t *testing.T) {
	if Compare(Missing, nil) != 0 || Compare(nil, Missing) != 0 {
		t.Fatal("missing and null must compare equal")
	}
	if Compare(bson.Undefined{}, nil) >= 0 {
		t.Fatal("undefined sorts before null")
	}
}

func TestCompareNumbers(t *testing.T) {
	cases := []struct {
		a, b any
		want int
	}{
		{int32(1), 1.0, 0},
		{int64(1), int32(1), 0},
		{int64(1), dec(t, "1.000"), 0},
		{1.5, dec(t, "1.5"), 0},
		{int32(2), 1.5, 1},
		{1.5, int64(2), -1},
		// Beyond 2^53 doubles cannot represent every integer; the comparison
		// must still be exact.
		{int64(9007199254740993), float64(9007199254740992), 1},
		{int64(math.MaxInt64), math.Ldexp(1, 63), -1},
		{int64(math.MinInt64), -math.Ldexp(1, 63), 0},
		{int64(-3), -2.5, -1},
		{math.NaN(), math.Inf(-1), -1},
		{math.NaN(), math.NaN(), 0},
		{math.NaN(), int32(0), -1},
		{dec(t, "NaN"), math.NaN(), 0},
		{dec(t, "Infinity"), math.Inf(1), 0},
		{dec(t, "-Infinity"), int64(math.MinInt64), -1},
		{dec(t, "0.1"), 0.1, -1}, // 0.1 as a double is slightly above 1/10
		{dec(t, "1E+2"), int32(100), 0},
	}
	for _, c := range cases {
		if got := Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%v, %v) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Compare(c.b, c.a); got != -c.want {
			t.Errorf("Compare(%v, %v) = %d, want %d (reversed)", c.b, c.a, got, -c.want)
		}
	}
}

func TestCompareWithinTypes(t *testing.T) {
	cases := []struct {
		a, b any
		want int
	}{
		{"abc", "abd", -1},
		{"B", "a", -1}, // binary order, no collation
		{bson.Symbol("b"), "a", 1},
		{bson.D{{Key: "a", Value: int32(1)}}, bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(0)}}, -1},
		{bson.D{{Key: "a", Value: int32(2)}}, bson.D{{Key: "b", Value: int32(1)}}, -1},
		// Field values compare by type first, then name, then value.
		{bson.D{{Key: "b", Value: int32(9)}}, bson.D{{Key: "a", Value: "x"}}, -1},
		{bson.A{int32(1), int32(2)}, bson.A{int32(1), int32(3)}, -1},
		{bson.A{int32(1)}, bson.A{int32(1), int32(0)}, -1},
		{bson.A{}, bson.A{nil}, -1},
		{bson.Binary{Data: []byte{9}}, bson.Binary{Data: []byte{1, 1}}, -1}, // shorter first
		{bson.Binary{Subtype: 1, Data: []byte{1}}, bson.Binary{Subtype: 2, Data: []byte{0}}, -1},
		{bson.DateTime(-1), bson.DateTime(0), -1},
		{bson.Timestamp{T: 1, I: 9}, bson.Timestamp{T: 2, I: 0}, -1},
		{bson.Regex{Pattern: "a", Options: "i"}, bson.Regex{Pattern: "a", Options: "m"}, -1},
	}
	for _, c := range cases {
		if got := Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%v, %v) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestCompareIsAnOrder sorts a mixed set and checks the result is
// consistent: transitive and antisymmetric over every pair.
func TestCompareIsAnOrder(t *testing.T) {
	vals := []any{int32(3), 2.5, "x", nil, bson.A{int32(1)}, int64(3), bson.D{}, true, math.NaN(),
		dec(t, "2.5"), bson.MinKey{}, bson.MaxKey{}, "", bson.A{}, bson.DateTime(5)}
	sort.SliceStable(vals, func(i, j int) bool { return Compare(vals[i], vals[j]) < 0 })
	for i := range vals {
		for j := i + 1; j < len(vals); j++ {
			if Compare(vals[i], vals[j]) > 0 {
				t.Errorf("sorted order broken: %v before %v", vals[i], vals[j])
			}
		}
	}
}

func TestToInt64AndFloat(t *testing.T) {
	if v, ok := ToInt64(2.0); !ok || v != 2 {
		t.Errorf("ToInt64(2.0) = %v, %v", v, ok)
	}
	if _, ok := ToInt64(2.5); ok {
		t.Error("ToInt64(2.5) should fail")
	}
	if v, ok := ToInt64(dec(t, "42")); !ok || v != 42 {
		t.Errorf("ToInt64(dec 42) = %v, %v", v, ok)
	}
	if _, ok := ToInt64("1"); ok {
		t.Error("ToInt64 of a string should fail")
	}
	if f, ok := ToFloat64(dec(t, "-Infinity")); !ok || !math.IsInf(f, -1) {
		t.Errorf("ToFloat64(-Inf) = %v, %v", f, ok)
	}
}

func TestTruthy(t *testing.T) {
	falsy := []any{nil, Missing, false, int32(0), int64(0), 0.0, dec(t, "0"), bson.Undefined{}}
	truthy := []any{true, int32(1), -0.5, "", bson.A{}, bson.D{}, dec(t, "0.1"), bson.ObjectID{}}
	for _, v := range falsy {
		if Truthy(v) {
			t.Errorf("Truthy(%#v) = true", v)
		}
	}
	for _, v := range truthy {
		if !Truthy(v) {
			t.Errorf("Truthy(%#v) = false", v)
		}
	}
}

func TestTypeNames(t *testing.T) {
	cases := map[string]any{
		"double": 1.0, "string": "s", "object": bson.D{}, "array": bson.A{}, "int": int32(1),
		"long": int64(1), "decimal": dec(t, "1"), "null": nil, "missing": Missing,
		"objectId": bson.ObjectID{}, "bool": true, "date": bson.DateTime(0),
	}
	for want, v := range cases {
		if got := TypeName(v); got != want {
			t.Errorf("TypeName(%#v) = %q, want %q", v, got, want)
		}
	}
	if tt, ok := TypeByAlias("objectId"); !ok || tt != bson.TypeObjectID {
		t.Errorf("TypeByAlias(objectId) = %v, %v", tt, ok)
	}
}

func TestNormalize(t *testing.T) {
	now := time.UnixMilli(1700000000000).UTC()
	got := Normalize(bson.M{"b": []any{1, int64(1) << 40, float32(0.5)}, "a": bson.Null{}, "t": now})
	want := bson.D{
		{Key: "a", Value: nil},
		{Key: "b", Value: bson.A{int32(1), int64(1) << 40, 0.5}},
		{Key: "t", Value: bson.DateTime(1700000000000)},
	}
	if Compare(got, want) != 0 {
		t.Fatalf("Normalize = %#v, want %#v", got, want)
	}
	nested := Normalize(bson.D{{Key: "n", Value: []int{1, 2}}})
	if Compare(nested, bson.D{{Key: "n", Value: bson.A{int32(1), int32(2)}}}) != 0 {
		t.Errorf("typed slice inside a document: %#v", nested)
	}
	// Values already in normal form come back as they are.
	d := bson.D{{Key: "x", Value: bson.A{int32(1)}}}
	if n := Normalize(d).(bson.D); &n[0] != &d[0] {
		t.Error("Normalize copied a document already in normal form")
	}
}

func TestDeepCopyShares(t *testing.T) {
	orig := bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: bson.A{int32(1)}}}}}
	cp := DeepCopy(orig).(bson.D)
	cp[0].Value.(bson.D)[0].Value.(bson.A)[0] = int32(2)
	if orig[0].Value.(bson.D)[0].Value.(bson.A)[0] != int32(1) {
		t.Fatal("DeepCopy shares an array with its source")
	}
}

func TestCheckDepth(t *testing.T) {
	nest := func(n int) bson.D {
		d := bson.D{{Key: "x", Value: int32(1)}}
		for i := 1; i < n; i++ {
			d = bson.D{{Key: "x", Value: d}}
		}
		return d
	}
	if err := CheckDepth(nest(MaxDepth)); err != nil {
		t.Errorf("depth %d refused: %v", MaxDepth, err)
	}
	err := CheckDepth(nest(MaxDepth + 1))
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeOverflow {
		t.Errorf("depth %d: got %v, want code %d", MaxDepth+1, err, CodeOverflow)
	}
}
