package mql

import (
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// $firstN, $lastN, $maxN and $minN: as expressions over an array and as
// $group accumulators. Their operand is {input, n}; in $group the operand
// is evaluated per document as an object expression, so the accumulator
// receives {input: value, n: value}.

func init() {
	for _, op := range []string{"$firstN", "$lastN", "$maxN", "$minN"} {
		delete(unsupportedOperators, op)
		delete(unsupportedAccumulators, op)
		groupAccumulators[op] = true
		operators[op] = opNArray
	}
}

func readN(name string, v any) (int64, error) {
	n, ok := ToInt64(v)
	if !ok {
		return 0, Errorf(5787902, "Value for 'n' must be of integral type, but found %s", fmtValue(v))
	}
	if n <= 0 {
		return 0, Errorf(5787908, "Value for 'n' must be greater than 0, but found %d", n)
	}
	return n, nil
}

// pickN applies the operator to values already collected in input order.
func pickN(name string, vals []any, n int64) bson.A {
	switch name {
	case "$firstN":
		return append(bson.A{}, vals[:min(int64(len(vals)), n)]...)
	case "$lastN":
		return append(bson.A{}, vals[max(0, int64(len(vals))-n):]...)
	}
	kept := make([]any, 0, len(vals))
	for _, v := range vals {
		if !isNullish(v) {
			kept = append(kept, v)
		}
	}
	slices.SortStableFunc(kept, func(a, b any) int {
		if name == "$maxN" {
			return Compare(b, a)
		}
		return Compare(a, b)
	})
	return append(bson.A{}, kept[:min(int64(len(kept)), n)]...)
}

func opNArray(name string, arg any, depth int) (exprFn, error) {
	fns, err := namedArgs(name, arg, depth, []string{"input", "n"}, nil)
	if err != nil {
		return nil, err
	}
	return func(c *evalCtx) (any, error) {
		nv, err := fns["n"](c)
		if err != nil {
			return nil, err
		}
		n, err := readN(name, nv)
		if err != nil {
			return nil, err
		}
		in, err := fns["input"](c)
		if err != nil {
			return nil, err
		}
		if isNullish(in) {
			return nil, nil
		}
		a, ok := in.(bson.A)
		if !ok {
			return nil, Errorf(5788200, "Input must be an array, but found %s", TypeName(in))
		}
		return pickN(name, a, n), nil
	}, nil
}

// nAcc collects {input, n} operands for the $group forms.
type nAcc struct {
	name string
	n    int64
	vals []any
}

func (a *nAcc) add(v any) error {
	d, ok := v.(bson.D)
	if !ok {
		return Errorf(5787900, "%s requires an object of the form {input: <expr>, n: <expr>}", a.name)
	}
	if a.n == 0 {
		n, err := readN(a.name, Get(d, "n"))
		if err != nil {
			return err
		}
		a.n = n
	}
	in := Get(d, "input")
	if IsMissing(in) {
		in = nil
	}
	a.vals = append(a.vals, in)
	// Bound memory for $firstN, which never needs more than n values.
	if a.name == "$firstN" && int64(len(a.vals)) > a.n {
		a.vals = a.vals[:a.n]
	}
	return nil
}

func (a *nAcc) result() any {
	if a.n == 0 {
		return bson.A{}
	}
	return pickN(a.name, a.vals, a.n)
}
