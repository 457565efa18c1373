package mql

import (
	"math"
	"regexp"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// eqPred is $eq and implicit equality: same canonical type and value.
type eqPred struct {
	value any
	rank  int
}

func newEqPred(value any) *eqPred { return &eqPred{value: value, rank: typeRank(value)} }

func (p *eqPred) matchValue(v any) bool {
	return typeRank(v) == p.rank && compareSameRank(p.rank, v, p.value) == 0
}

// compareSameRank is Compare for two values already known to share the
// canonical type rank, with the common kinds handled without Compare's
// second look at the types.
func compareSameRank(rank int, a, b any) int {
	switch rank {
	case rankNumber:
		return compareNumbers(a, b)
	case rankString:
		return strings.Compare(stringOf(a), stringOf(b))
	}
	return Compare(a, b)
}

// Comparison operators for cmpPred.
const (
	cmpLT = iota
	cmpLTE
	cmpGT
	cmpGTE
)

// cmpPred is $gt, $gte, $lt and $lte. Values of another canonical type
// never match, except that every value is above MinKey and below MaxKey;
// NaN only relates to NaN, and only by the inclusive operators.
type cmpPred struct {
	op    int
	value any
	rank  int
	nan   bool
}

func newCmpPred(op int, value any) *cmpPred {
	return &cmpPred{op: op, value: value, rank: typeRank(value), nan: matchIsNaN(value)}
}

func (p *cmpPred) matchValue(v any) bool {
	if typeRank(v) != p.rank {
		switch p.rank {
		case rankMinKey:
			return p.op == cmpGT || p.op == cmpGTE
		case rankMaxKey:
			return p.op == cmpLT || p.op == cmpLTE
		}
		return false
	}
	if p.rank == rankNumber {
		vn := matchIsNaN(v)
		if vn || p.nan {
			return vn && p.nan && (p.op == cmpLTE || p.op == cmpGTE)
		}
	}
	c := compareSameRank(p.rank, v, p.value)
	switch p.op {
	case cmpLT:
		return c < 0
	case cmpLTE:
		return c <= 0
	case cmpGT:
		return c > 0
	}
	return c >= 0
}

func matchIsNaN(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsNaN(x)
	case bson.Decimal128:
		return x.IsNaN()
	}
	return false
}

// inPred is $in: equal to any listed value or matching any listed regex.
// values is sorted in Compare order so that long lists are searched by
// bisection.
type inPred struct {
	values  []any
	regexes []*regexPred
}

// inLinearMax is the list length up to which a linear scan beats bisection.
const inLinearMax = 8

func newInPred(values []any, regexes []*regexPred) *inPred {
	sorted := append([]any(nil), values...)
	sort.SliceStable(sorted, func(i, j int) bool { return Compare(sorted[i], sorted[j]) < 0 })
	return &inPred{values: sorted, regexes: regexes}
}

func (p *inPred) matchValue(v any) bool {
	if len(p.values) <= inLinearMax {
		for _, x := range p.values {
			if Compare(v, x) == 0 {
				return true
			}
		}
	} else {
		lo, hi := 0, len(p.values)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if Compare(p.values[mid], v) < 0 {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo < len(p.values) && Compare(p.values[lo], v) == 0 {
			return true
		}
	}
	for _, r := range p.regexes {
		if r.matchValue(v) {
			return true
		}
	}
	return false
}

// regexPred is $regex and regex literals: strings and symbols matching the
// pattern, and regex values with exactly the same pattern and options.
type regexPred struct {
	re    *regexp.Regexp
	value bson.Regex
}

func (p *regexPred) matchValue(v any) bool {
	switch x := v.(type) {
	case string:
		return p.re.MatchString(x)
	case bson.Symbol:
		return p.re.MatchString(string(x))
	case bson.Regex:
		return x.Pattern == p.value.Pattern && x.Options == p.value.Options
	}
	return false
}

// existsPred matches any value that is present; $exists: false is its
// negation over the whole path.
type existsPred struct{}

func (existsPred) matchValue(v any) bool { return !IsMissing(v) }

// typePred is $type: any of a set of BSON types, "number" standing for all
// four numeric types.
type typePred struct {
	types  []bson.Type
	number bool
}

func (p *typePred) matchValue(v any) bool {
	if IsMissing(v) {
		return false
	}
	if p.number && IsNumber(v) {
		return true
	}
	t := TypeOf(v)
	for _, x := range p.types {
		if x == t {
			return true
		}
	}
	return false
}

// sizePred is $size: arrays of exactly n elements.
type sizePred struct{ n int64 }

func (p *sizePred) matchValue(v any) bool {
	a, ok := v.(bson.A)
	return ok && int64(len(a)) == p.n
}

// modPred is $mod: numbers whose truncated value has the given remainder.
type modPred struct{ divisor, remainder int64 }

func (p *modPred) matchValue(v any) bool {
	n, ok := matchTruncate(v)
	return ok && n%p.divisor == p.remainder
}

// matchTruncate converts a number to int64 by truncating toward zero; NaN,
// infinities, values outside the int64 range and non-numbers fail.
func matchTruncate(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64, bson.Decimal128:
		if i, ok := ToInt64(v); ok {
			return i, true
		}
		f, _ := ToFloat64(x)
		if math.IsNaN(f) || f >= 9.223372036854775807e18 || f < -9.223372036854775807e18 {
			return 0, false
		}
		return int64(math.Trunc(f)), true
	}
	return 0, false
}

// Bit test kinds for bitsPred.
const (
	bitsAllSet = iota
	bitsAnySet
	bitsAllClear
	bitsAnyClear
)

// bitsPred is $bitsAllSet, $bitsAnySet, $bitsAllClear and $bitsAnyClear
// over integral numbers (two's complement, sign-extended beyond bit 63) and
// binary data (little-endian bytes, zero beyond their length).
type bitsPred struct {
	kind      int
	positions []uint64
}

func (p *bitsPred) matchValue(v any) bool {
	switch x := v.(type) {
	case bson.Binary:
		data := x.Data
		return p.test(func(pos uint64) bool {
			i := pos / 8
			return i < uint64(len(data)) && data[i]&(1<<(pos%8)) != 0
		})
	case int32, int64, float64, bson.Decimal128:
		n, ok := ToInt64(v)
		return ok && p.testInt(n)
	}
	return false
}

// testInt avoids the closure of the binary case for the common numeric one.
func (p *bitsPred) testInt(n int64) bool {
	for _, pos := range p.positions {
		set := n < 0
		if pos < 64 {
			set = n&(1<<pos) != 0
		}
		if r, done := p.step(set); done {
			return r
		}
	}
	return p.kind == bitsAllSet || p.kind == bitsAllClear
}

func (p *bitsPred) test(bit func(uint64) bool) bool {
	for _, pos := range p.positions {
		if r, done := p.step(bit(pos)); done {
			return r
		}
	}
	return p.kind == bitsAllSet || p.kind == bitsAllClear
}

// step decides the test early from one bit when it can.
func (p *bitsPred) step(set bool) (result, done bool) {
	switch p.kind {
	case bitsAllSet:
		if !set {
			return false, true
		}
	case bitsAnySet:
		if set {
			return true, true
		}
	case bitsAllClear:
		if set {
			return false, true
		}
	case bitsAnyClear:
		if !set {
			return true, true
		}
	}
	return false, false
}

// elemMatchPred is $elemMatch: an array with at least one element
// satisfying either a sub-filter (query form, on document elements) or a
// conjunction of value predicates (value form).
type elemMatchPred struct {
	filter matchNode // query form
	values valuePred // value form
}

func (p *elemMatchPred) matchValue(v any) bool { return p.matchIndex(v) >= 0 }

// matchIndex returns the index of the first matching element, or -1.
func (p *elemMatchPred) matchIndex(v any) int {
	a, ok := v.(bson.A)
	if !ok {
		return -1
	}
	for i, e := range a {
		if p.filter != nil {
			var d bson.D
			switch x := e.(type) {
			case bson.D:
				d = x
			case bson.A:
				d = arrayAsDoc(x)
			default:
				continue
			}
			if ok, _ := p.filter.matchDoc(d); ok {
				return i
			}
			continue
		}
		if p.values.matchValue(e) {
			return i
		}
	}
	return -1
}

// andPred, orPred and notPred combine value predicates inside the value
// form of $elemMatch, where every operator applies to the same element.
type andPred struct{ preds []valuePred }

func (p *andPred) matchValue(v any) bool {
	for _, x := range p.preds {
		if !x.matchValue(v) {
			return false
		}
	}
	return true
}

type notPred struct{ pred valuePred }

func (p *notPred) matchValue(v any) bool { return !p.pred.matchValue(v) }

// constPred matches everything or nothing ($all: [], $in: []).
type constPred struct{ value bool }

func (p *constPred) matchValue(any) bool { return p.value }
