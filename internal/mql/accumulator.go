package mql

import (
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// accumulator folds values into one, for $group and for the array forms
// of $sum, $avg, $min, $max and $stdDev*.
type accumulator interface {
	add(v any) error
	result() any
}

// groupAccumulators are the names $group accepts.
var groupAccumulators = map[string]bool{
	"$sum": true, "$avg": true, "$min": true, "$max": true, "$first": true,
	"$last": true, "$push": true, "$addToSet": true, "$count": true,
	"$mergeObjects": true, "$stdDevPop": true, "$stdDevSamp": true,
}

// unsupportedAccumulators exist in MongoDB but are not offered here.
var unsupportedAccumulators = map[string]bool{
	"$accumulator": true, "$top": true, "$topN": true, "$bottom": true,
	"$bottomN": true, "$firstN": true, "$lastN": true, "$maxN": true,
	"$minN": true, "$median": true, "$percentile": true,
}

func newAccumulator(name string) accumulator {
	switch name {
	case "$sum", "$count":
		return &sumAcc{sum: int32(0)}
	case "$avg":
		return &avgAcc{sum: &sumAcc{sum: int32(0)}}
	case "$min":
		return &minMaxAcc{sign: -1, best: Missing}
	case "$max":
		return &minMaxAcc{sign: 1, best: Missing}
	case "$first":
		return &firstAcc{}
	case "$last":
		return &lastAcc{v: nil}
	case "$push":
		return &pushAcc{out: bson.A{}}
	case "$addToSet":
		return &pushAcc{out: bson.A{}, set: true}
	case "$mergeObjects":
		return &mergeAcc{out: bson.D{}}
	case "$stdDevPop":
		return &stdDevAcc{}
	case "$stdDevSamp":
		return &stdDevAcc{sample: true}
	case "$firstN", "$lastN", "$maxN", "$minN":
		return &nAcc{name: name}
	}
	return nil
}

// sumAcc adds numbers with the int32 → int64 → double promotion and
// switches to decimal once a decimal is seen; other values are ignored.
type sumAcc struct {
	sum any
	n   int
}

func (a *sumAcc) add(v any) error {
	if IsNumber(v) {
		a.sum = addNumbers(a.sum, v)
		a.n++
	}
	return nil
}

func (a *sumAcc) result() any { return a.sum }

type avgAcc struct{ sum *sumAcc }

func (a *avgAcc) add(v any) error { return a.sum.add(v) }

func (a *avgAcc) result() any {
	if a.sum.n == 0 {
		return nil
	}
	if d, ok := a.sum.sum.(bson.Decimal128); ok {
		return decQuo(toDecimal(d), decimal{coef: bigInt(int64(a.sum.n))}).toDecimal128()
	}
	f, _ := ToFloat64(a.sum.sum)
	return f / float64(a.sum.n)
}

type minMaxAcc struct {
	sign int
	best any
}

func (a *minMaxAcc) add(v any) error {
	if isNullish(v) {
		return nil
	}
	if IsMissing(a.best) || Compare(v, a.best)*a.sign > 0 {
		a.best = v
	}
	return nil
}

func (a *minMaxAcc) result() any {
	if IsMissing(a.best) {
		return nil
	}
	return a.best
}

type firstAcc struct {
	v    any
	seen bool
}

func (a *firstAcc) add(v any) error {
	if !a.seen {
		a.v, a.seen = v, true
	}
	return nil
}

func (a *firstAcc) result() any {
	if IsMissing(a.v) {
		return nil
	}
	return a.v
}

type lastAcc struct{ v any }

func (a *lastAcc) add(v any) error { a.v = v; return nil }

func (a *lastAcc) result() any {
	if IsMissing(a.v) {
		return nil
	}
	return a.v
}

type pushAcc struct {
	out bson.A
	set bool
}

func (a *pushAcc) add(v any) error {
	if IsMissing(v) {
		return nil
	}
	if a.set && containsValue(a.out, v) {
		return nil
	}
	a.out = append(a.out, v)
	return nil
}

func (a *pushAcc) result() any { return a.out }

type mergeAcc struct{ out bson.D }

func (a *mergeAcc) add(v any) error {
	if isNullish(v) {
		return nil
	}
	d, ok := v.(bson.D)
	if !ok {
		return Errorf(40400, "$mergeObjects requires object inputs, but input %s is of type %s", fmtValue(v), TypeName(v))
	}
	a.out = mergeInto(a.out, d)
	return nil
}

func (a *mergeAcc) result() any { return a.out }

// stdDevAcc uses Welford's online algorithm over the numeric values.
type stdDevAcc struct {
	sample bool
	n      int
	mean   float64
	m2     float64
}

func (a *stdDevAcc) add(v any) error {
	f, ok := ToFloat64(v)
	if !ok {
		return nil
	}
	a.n++
	d := f - a.mean
	a.mean += d / float64(a.n)
	a.m2 += d * (f - a.mean)
	return nil
}

func (a *stdDevAcc) result() any {
	switch {
	case a.n == 0, a.sample && a.n < 2:
		return nil
	case a.sample:
		return math.Sqrt(a.m2 / float64(a.n-1))
	}
	return math.Sqrt(a.m2 / float64(a.n))
}
