package mql

import (
	"math"
	"math/rand/v2"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	operators["$replaceOne"] = opReplace
	operators["$replaceAll"] = opReplace
	operators["$rand"] = func(name string, arg any, _ int) (exprFn, error) {
		if d, ok := arg.(bson.D); !ok || len(d) != 0 {
			return nil, Errorf(CodeFailedToParse, "$rand not allowed to have arguments; it takes an empty object: {}")
		}
		return func(*evalCtx) (any, error) { return rand.Float64(), nil }, nil
	}
	operators["$binarySize"] = unary(func(name string, v any) (any, error) {
		switch x := v.(type) {
		case string:
			return int32(len(x)), nil
		case bson.Binary:
			return int32(len(x.Data)), nil
		}
		if isNullish(v) {
			return nil, nil
		}
		return nil, Errorf(51276, "$binarySize requires a string or BinData argument, found: %s", TypeName(v))
	})
	operators["$bsonSize"] = unary(func(name string, v any) (any, error) {
		if isNullish(v) {
			return nil, nil
		}
		d, ok := v.(bson.D)
		if !ok {
			return nil, Errorf(31393, "$bsonSize requires a document input, found: %s", TypeName(v))
		}
		b, err := bson.Marshal(d)
		if err != nil {
			return nil, Errorf(CodeBadValue, "$bsonSize: %v", err)
		}
		return int32(len(b)), nil
	})
	tsPart := func(name string, v any) (any, error) {
		if isNullish(v) {
			return nil, nil
		}
		ts, ok := v.(bson.Timestamp)
		if !ok {
			return nil, Errorf(5687301, "Argument to %s must be a timestamp, but is %s", name, TypeName(v))
		}
		if name == "$tsSecond" {
			return int64(ts.T), nil
		}
		return int64(ts.I), nil
	}
	operators["$tsSecond"] = unary(tsPart)
	operators["$tsIncrement"] = unary(tsPart)
	for _, op := range []string{"$bitAnd", "$bitOr", "$bitXor"} {
		operators[op] = nary(0, -1, evalBitwise)
	}
	operators["$bitNot"] = unary(func(name string, v any) (any, error) {
		switch x := v.(type) {
		case int32:
			return ^x, nil
		case int64:
			return ^x, nil
		}
		if isNullish(v) {
			return nil, nil
		}
		return nil, Errorf(CodeTypeMismatch, "$bitNot only supports int and long, not: %s", TypeName(v))
	})
	trig := map[string]func(float64) float64{
		"$sin": math.Sin, "$cos": math.Cos, "$tan": math.Tan, "$asin": math.Asin, "$acos": math.Acos,
		"$atan": math.Atan, "$sinh": math.Sinh, "$cosh": math.Cosh, "$tanh": math.Tanh,
		"$asinh": math.Asinh, "$acosh": math.Acosh, "$atanh": math.Atanh,
		"$degreesToRadians": func(x float64) float64 { return x * math.Pi / 180 },
		"$radiansToDegrees": func(x float64) float64 { return x * 180 / math.Pi },
	}
	bounds := map[string][2]float64{
		"$sin": {math.Inf(-1), math.Inf(1)}, "$cos": {math.Inf(-1), math.Inf(1)}, "$tan": {math.Inf(-1), math.Inf(1)},
		"$asin": {-1, 1}, "$acos": {-1, 1}, "$atanh": {-1, 1}, "$acosh": {1, math.Inf(1)},
	}
	for op, f := range trig {
		operators[op] = unary(func(name string, v any) (any, error) {
			if isNullish(v) {
				return nil, nil
			}
			x, ok := ToFloat64(v)
			if !ok {
				return nil, Errorf(28765, "%s only supports numeric types, not %s", name, TypeName(v))
			}
			if b, has := bounds[name]; has && !math.IsNaN(x) {
				if x < b[0] || x > b[1] || (math.IsInf(x, 0) && (name == "$sin" || name == "$cos" || name == "$tan")) {
					return nil, Errorf(50989, "cannot apply %s to %s, value must be in [%g,%g]", name, fmtValue(v), b[0], b[1])
				}
			}
			return floatOrDecimal(v, f(x)), nil
		})
	}
	operators["$atan2"] = nary(2, 2, func(name string, vals []any) (any, error) {
		if isNullish(vals[0]) || isNullish(vals[1]) {
			return nil, nil
		}
		y, ok1 := ToFloat64(vals[0])
		x, ok2 := ToFloat64(vals[1])
		if !ok1 || !ok2 {
			return nil, Errorf(51044, "$atan2 only supports numeric types")
		}
		r := math.Atan2(y, x)
		if numKind(vals[0]) == kindDecimal || numKind(vals[1]) == kindDecimal {
			return toDecimal(r).toDecimal128(), nil
		}
		return r, nil
	})
}

func evalBitwise(name string, vals []any) (any, error) {
	var acc int64
	switch name {
	case "$bitAnd":
		acc = -1
	}
	long := false
	for _, v := range vals {
		if isNullish(v) {
			return nil, nil
		}
		var n int64
		switch x := v.(type) {
		case int32:
			n = int64(x)
		case int64:
			n, long = x, true
		default:
			return nil, Errorf(CodeTypeMismatch, "%s only supports int and long operands.", name)
		}
		switch name {
		case "$bitAnd":
			acc &= n
		case "$bitOr":
			acc |= n
		default:
			acc ^= n
		}
	}
	if long {
		return acc, nil
	}
	return int32(acc), nil
}

func opReplace(name string, arg any, depth int) (exprFn, error) {
	args, err := namedArgs(name, arg, depth, []string{"input", "find", "replacement"}, nil)
	if err != nil {
		return nil, err
	}
	return func(c *evalCtx) (any, error) {
		var vals [3]any
		null := false
		for i, k := range []string{"input", "find", "replacement"} {
			v, err := args[k](c)
			if err != nil {
				return nil, err
			}
			if isNullish(v) {
				null = true
				continue
			}
			if _, ok := v.(string); !ok {
				return nil, Errorf(51746, "%s requires that '%s' be a string, found: %s", name, k, fmtValue(v))
			}
			vals[i] = v
		}
		if null {
			return nil, nil
		}
		in, find, repl := vals[0].(string), vals[1].(string), vals[2].(string)
		if name == "$replaceOne" {
			return strings.Replace(in, find, repl, 1), nil
		}
		return strings.ReplaceAll(in, find, repl), nil
	}, nil
}
