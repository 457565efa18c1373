package mql

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestExpressionOperatorsNeverPanic calls every operator with random
// arguments drawn from awkward values (NaN, infinities, extreme integers,
// decimals, nulls, absent fields, nested containers) in both the array
// and the named-argument forms.
func TestExpressionOperatorsNeverPanic(t *testing.T) {
	dec := func(s string) bson.Decimal128 { d, _ := bson.ParseDecimal128(s); return d }
	pool := []any{
		nil, "$missing", "$a", "$s", "$d", "$arr", "$doc", "$$ROOT", "$$REMOVE", "$$this",
		int32(0), int32(-1), int32(math.MaxInt32), int32(math.MinInt32), int64(math.MaxInt64), int64(math.MinInt64),
		0.0, math.Copysign(0, -1), 0.5, 2.5, math.NaN(), math.Inf(1), math.Inf(-1), 1e300,
		dec("0"), dec("-1.5"), dec("NaN"), dec("Infinity"), dec("1E+6144"), dec("1E-6176"),
		"", "abc", "héllo", "%Y-%m-%d %%", "+05:30", "day", "month", "week", "UTC", "x.y",
		true, false, bson.A{}, bson.A{int32(1), "a", nil}, bson.A{bson.A{"k", int32(1)}}, bson.D{},
		bson.D{{Key: "k", Value: "a"}, {Key: "v", Value: int32(1)}}, bson.DateTime(0), bson.DateTime(math.MaxInt64),
		bson.Timestamp{T: 1, I: 2}, bson.ObjectID{1, 2, 3}, bson.Regex{Pattern: "a(", Options: "z"},
		bson.Binary{Data: []byte{1}}, bson.MinKey{}, bson.MaxKey{},
	}
	keys := []string{"input", "as", "cond", "in", "initialValue", "date", "format", "timezone", "unit",
		"amount", "startDate", "endDate", "binSize", "field", "value", "regex", "options", "chars",
		"find", "replacement", "to", "onError", "onNull", "branches", "default", "inputs",
		"useLongestLength", "defaults", "limit", "if", "then", "else", "vars", "startOfWeek"}
	doc := bson.D{
		{Key: "a", Value: int32(5)}, {Key: "s", Value: "str"}, {Key: "d", Value: bson.DateTime(1e12)},
		{Key: "arr", Value: bson.A{int32(1), bson.D{{Key: "x", Value: int32(2)}}, bson.A{}}},
		{Key: "doc", Value: bson.D{{Key: "x", Value: nil}}},
	}
	names := make([]string, 0, len(operators))
	for n := range operators {
		names = append(names, n)
	}
	sort.Strings(names)
	r := rand.New(rand.NewPCG(7, 11))
	pick := func() any { return pool[r.IntN(len(pool))] }
	for _, name := range names {
		for i := 0; i < 400; i++ {
			var arg any
			switch i % 3 {
			case 0:
				arg = pick()
			case 1:
				a := bson.A{}
				for j := r.IntN(5); j > 0; j-- {
					a = append(a, pick())
				}
				arg = a
			default:
				d := bson.D{}
				for j := r.IntN(5); j > 0; j-- {
					d = append(d, bson.E{Key: keys[r.IntN(len(keys))], Value: pick()})
				}
				arg = d
			}
			expr := bson.D{{Key: name, Value: arg}}
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s panicked: %v", fmt.Sprint(expr), p)
					}
				}()
				e, err := CompileExpression(expr)
				if err != nil {
					return
				}
				start := time.Now()
				_, _ = e.Eval(doc, map[string]any{"this": int32(1)})
				if el := time.Since(start); el > 2*time.Second {
					t.Errorf("%s took %v", fmt.Sprint(expr), el)
				}
			}()
		}
	}
}
