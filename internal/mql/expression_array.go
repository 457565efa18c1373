package mql

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	operators["$size"] = unary(evalSize)
	operators["$arrayElemAt"] = nary(2, 2, evalArrayElemAt)
	operators["$first"] = unary(evalFirstLast)
	operators["$last"] = unary(evalFirstLast)
	operators["$in"] = nary(2, 2, evalIn)
	operators["$filter"] = opFilter
	operators["$map"] = opMap
	operators["$reduce"] = opReduce
	operators["$concatArrays"] = nary(0, -1, evalConcatArrays)
	operators["$slice"] = nary(2, 3, evalSlice)
	operators["$reverseArray"] = unary(evalReverseArray)
	operators["$range"] = nary(2, 3, evalRange)
	operators["$indexOfArray"] = nary(2, 4, evalIndexOfArray)
	operators["$isArray"] = unary(func(_ string, v any) (any, error) { _, ok := v.(bson.A); return ok, nil })
	operators["$arrayToObject"] = unary(evalArrayToObject)
	operators["$objectToArray"] = unary(evalObjectToArray)
	operators["$zip"] = opZip
	for _, op := range []string{"$sum", "$avg", "$min", "$max", "$stdDevPop", "$stdDevSamp"} {
		operators[op] = opArrayAccumulator
	}
	operators["$mergeObjects"] = nary(0, -1, evalMergeObjects)
	operators["$getField"] = opGetField
	operators["$setField"] = opSetField
	operators["$unsetField"] = opSetField
	operators["$setUnion"] = nary(0, -1, evalSetUnion)
	operators["$setIntersection"] = nary(0, -1, evalSetIntersection)
	operators["$setDifference"] = nary(2, 2, evalSetDifference)
	operators["$setEquals"] = nary(2, -1, evalSetEquals)
	operators["$setIsSubset"] = nary(2, 2, evalSetIsSubset)
	operators["$anyElementTrue"] = nary(1, 1, evalAnyAllElementTrue)
	operators["$allElementTrue"] = nary(1, 1, evalAnyAllElementTrue)
}

func evalSize(name string, v any) (any, error) {
	a, ok := v.(bson.A)
	if !ok {
		return nil, Errorf(17124, "The argument to $size must be an array. Type of argument: %s", TypeName(v))
	}
	return int32(len(a)), nil
}

func evalArrayElemAt(name string, vals []any) (any, error) {
	arr, idx := vals[0], vals[1]
	if isNullish(arr) || isNullish(idx) {
		return nil, nil
	}
	a, ok := arr.(bson.A)
	if !ok {
		return nil, Errorf(28689, "$arrayElemAt's first argument must be an array, but is %s", TypeName(arr))
	}
	if !IsNumber(idx) {
		return nil, Errorf(28690, "$arrayElemAt's second argument must be a numeric value, but is %s", TypeName(idx))
	}
	i, ok := ToInt64(idx)
	if !ok || i > 1<<31-1 || i < -(1<<31) {
		return nil, Errorf(28691, "$arrayElemAt's second argument must be representable as a 32-bit integer: %s", fmtValue(idx))
	}
	if i < 0 {
		i += int64(len(a))
	}
	if i < 0 || i >= int64(len(a)) {
		return Missing, nil
	}
	return a[i], nil
}

func evalFirstLast(name string, v any) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	a, ok := v.(bson.A)
	if !ok {
		return nil, Errorf(28689, "%s's argument must be an array, but is %s", name, TypeName(v))
	}
	if len(a) == 0 {
		return Missing, nil
	}
	if name == "$first" {
		return a[0], nil
	}
	return a[len(a)-1], nil
}

func evalIn(name string, vals []any) (any, error) {
	a, ok := vals[1].(bson.A)
	if !ok {
		return nil, Errorf(40081, "$in requires an array as a second argument, found: %s", TypeName(vals[1]))
	}
	for _, e := range a {
		if aggCompare(e, vals[0]) == 0 {
			return true, nil
		}
	}
	return false, nil
}

// iterArgs compiles the {input, as, cond|in, ...} operand shared by
// $filter and $map and validates the variable name.
func iterArgs(name string, arg any, depth int, body string, optional ...string) (map[string]exprFn, string, error) {
	as := "this"
	d, ok := Normalize(arg).(bson.D)
	if !ok {
		return nil, "", Errorf(28646, "%s only supports an object as its argument", name)
	}
	rest := make(bson.D, 0, len(d))
	for _, e := range d {
		if e.Key == "as" {
			s, ok := e.Value.(string)
			if !ok {
				return nil, "", Errorf(CodeFailedToParse, "%s: 'as' must be a string", name)
			}
			if err := checkVarName(s, false); err != nil {
				return nil, "", err
			}
			as = s
			continue
		}
		rest = append(rest, e)
	}
	args, err := namedArgs(name, rest, depth, []string{"input", body}, optional)
	if err != nil {
		return nil, "", err
	}
	return args, as, nil
}

func opFilter(name string, arg any, depth int) (exprFn, error) {
	args, as, err := iterArgs(name, arg, depth, "cond", "limit")
	if err != nil {
		return nil, err
	}
	input, cond, limit := args["input"], args["cond"], args["limit"]
	return func(c *evalCtx) (any, error) {
		v, err := input(c)
		if err != nil {
			return nil, err
		}
		max := int64(-1)
		if limit != nil {
			l, err := limit(c)
			if err != nil {
				return nil, err
			}
			if !isNullish(l) {
				n, ok := ToInt64(l)
				if !ok || n < 1 || n > 1<<31-1 {
					return nil, Errorf(327, "$filter: limit must be greater than 0: %s", fmtValue(l))
				}
				max = n
			}
		}
		if isNullish(v) {
			return nil, nil
		}
		a, ok := v.(bson.A)
		if !ok {
			return nil, Errorf(28651, "input to $filter must be an array not %s", TypeName(v))
		}
		out := bson.A{}
		for _, e := range a {
			keep, err := cond(c.bind(as, e))
			if err != nil {
				return nil, err
			}
			if Truthy(keep) {
				out = append(out, e)
				if max > 0 && int64(len(out)) >= max {
					break
				}
			}
		}
		return out, nil
	}, nil
}

func opMap(name string, arg any, depth int) (exprFn, error) {
	args, as, err := iterArgs(name, arg, depth, "in")
	if err != nil {
		return nil, err
	}
	input, in := args["input"], args["in"]
	return func(c *evalCtx) (any, error) {
		v, err := input(c)
		if err != nil {
			return nil, err
		}
		if isNullish(v) {
			return nil, nil
		}
		a, ok := v.(bson.A)
		if !ok {
			return nil, Errorf(16883, "input to $map must be an array not %s", TypeName(v))
		}
		out := make(bson.A, len(a))
		for i, e := range a {
			r, err := in(c.bind(as, e))
			if err != nil {
				return nil, err
			}
			if IsMissing(r) {
				r = nil
			}
			out[i] = r
		}
		return out, nil
	}, nil
}

func opReduce(name string, arg any, depth int) (exprFn, error) {
	args, err := namedArgs(name, arg, depth, []string{"input", "initialValue", "in"}, nil)
	if err != nil {
		return nil, err
	}
	input, initial, in := args["input"], args["initialValue"], args["in"]
	return func(c *evalCtx) (any, error) {
		v, err := input(c)
		if err != nil {
			return nil, err
		}
		if isNullish(v) {
			return nil, nil
		}
		a, ok := v.(bson.A)
		if !ok {
			return nil, Errorf(40080, "$reduce requires that 'input' be an array, found: %s", fmtValue(v))
		}
		acc, err := initial(c)
		if err != nil {
			return nil, err
		}
		for _, e := range a {
			acc, err = in(c.bind("value", acc).bind("this", e))
			if err != nil {
				return nil, err
			}
		}
		return acc, nil
	}, nil
}

func evalConcatArrays(name string, vals []any) (any, error) {
	out := bson.A{}
	for _, v := range vals {
		if isNullish(v) {
			return nil, nil
		}
		a, ok := v.(bson.A)
		if !ok {
			return nil, Errorf(28664, "$concatArrays only supports arrays, not %s", TypeName(v))
		}
		out = append(out, a...)
	}
	return out, nil
}

func evalSlice(name string, vals []any) (any, error) {
	for _, v := range vals {
		if isNullish(v) {
			return nil, nil
		}
	}
	a, ok := vals[0].(bson.A)
	if !ok {
		return nil, Errorf(28724, "First argument to $slice must be an array, but is of type: %s", TypeName(vals[0]))
	}
	n := int64(len(a))
	first, ok := ToInt64(vals[1])
	if !ok {
		return nil, Errorf(28725, "Second argument to $slice must be a numeric value, but is of type: %s", TypeName(vals[1]))
	}
	if len(vals) == 2 {
		if first >= 0 {
			return bson.A(append(bson.A{}, a[:min(first, n)]...)), nil
		}
		return bson.A(append(bson.A{}, a[max(0, n+first):]...)), nil
	}
	count, ok := ToInt64(vals[2])
	if !ok {
		return nil, Errorf(28727, "Third argument to $slice must be numeric, but is of type: %s", TypeName(vals[2]))
	}
	if count <= 0 {
		return nil, Errorf(28729, "Third argument to $slice must be positive: %s", fmtValue(vals[2]))
	}
	start := first
	if start < 0 {
		start = max(0, n+start)
	}
	if start >= n {
		return bson.A{}, nil
	}
	end := min(n, start+count)
	return bson.A(append(bson.A{}, a[start:end]...)), nil
}

func evalReverseArray(name string, v any) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	a, ok := v.(bson.A)
	if !ok {
		return nil, Errorf(34435, "The argument to $reverseArray must be an array, but was of type: %s", TypeName(v))
	}
	out := make(bson.A, len(a))
	for i, e := range a {
		out[len(a)-1-i] = e
	}
	return out, nil
}

func evalRange(name string, vals []any) (any, error) {
	int32Arg := func(v any, what string, code int) (int64, error) {
		if !IsNumber(v) {
			return 0, Errorf(code, "$range requires a numeric %s value, found value of type: %s", what, TypeName(v))
		}
		n, ok := ToInt64(v)
		if !ok || n > 1<<31-1 || n < -(1<<31) {
			return 0, Errorf(code+1, "$range requires a %s value that can be represented as a 32-bit integer, found value: %s", what, fmtValue(v))
		}
		return n, nil
	}
	start, err := int32Arg(vals[0], "starting", 34443)
	if err != nil {
		return nil, err
	}
	end, err := int32Arg(vals[1], "ending", 34445)
	if err != nil {
		return nil, err
	}
	step := int64(1)
	if len(vals) == 3 {
		if step, err = int32Arg(vals[2], "step", 34447); err != nil {
			return nil, err
		}
		if step == 0 {
			return nil, Errorf(34449, "$range requires a non-zero step value")
		}
	}
	n := int64(0)
	if (step > 0 && end > start) || (step < 0 && end < start) {
		n = (end - start + step - sign64(step)) / step
	}
	// MongoDB bounds $range by memory; this bound is in elements.
	if n > 1<<22 {
		return nil, Errorf(CodeBadValue, "$range would produce too many elements (%d)", n)
	}
	out := make(bson.A, 0, n)
	for i := start; (step > 0 && i < end) || (step < 0 && i > end); i += step {
		out = append(out, int32(i))
	}
	return out, nil
}

func evalIndexOfArray(name string, vals []any) (any, error) {
	if isNullish(vals[0]) {
		return nil, nil
	}
	a, ok := vals[0].(bson.A)
	if !ok {
		return nil, Errorf(40090, "$indexOfArray requires an array as a first argument, found: %s", TypeName(vals[0]))
	}
	start, end := int64(0), int64(len(a))
	if len(vals) > 2 {
		n, ok := ToInt64(vals[2])
		if !ok || n < 0 {
			return nil, Errorf(40097, "$indexOfArray requires a nonnegative integral starting index, found: %s", fmtValue(vals[2]))
		}
		start = n
	}
	if len(vals) > 3 {
		n, ok := ToInt64(vals[3])
		if !ok || n < 0 {
			return nil, Errorf(40097, "$indexOfArray requires a nonnegative integral ending index, found: %s", fmtValue(vals[3]))
		}
		end = min(end, n)
	}
	for i := start; i < end; i++ {
		if aggCompare(a[i], vals[1]) == 0 {
			return int32(i), nil
		}
	}
	return int32(-1), nil
}

func evalArrayToObject(name string, v any) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	a, ok := v.(bson.A)
	if !ok {
		return nil, Errorf(40386, "$arrayToObject requires an array input, found: %s", TypeName(v))
	}
	out := bson.D{}
	set := func(k string, val any) error {
		if strings.ContainsRune(k, 0) {
			return Errorf(4940400, "Key field cannot contain an embedded null byte")
		}
		for i := range out {
			if out[i].Key == k {
				out[i].Value = val
				return nil
			}
		}
		out = append(out, bson.E{Key: k, Value: val})
		return nil
	}
	var pairs bool
	for i, e := range a {
		switch x := e.(type) {
		case bson.A:
			if i > 0 && !pairs {
				return nil, Errorf(40391, "$arrayToObject requires a consistent input format. Elements must all be arrays or all be objects.")
			}
			pairs = true
			if len(x) != 2 {
				return nil, Errorf(40397, "$arrayToObject requires an array of size 2 arrays,found array of size: %d", len(x))
			}
			k, ok := x[0].(string)
			if !ok {
				return nil, Errorf(40395, "$arrayToObject requires an array of key-value pairs, where the key must be of type string. Found key type: %s", TypeName(x[0]))
			}
			if err := set(k, x[1]); err != nil {
				return nil, err
			}
		case bson.D:
			if i > 0 && pairs {
				return nil, Errorf(40391, "$arrayToObject requires a consistent input format. Elements must all be arrays or all be objects.")
			}
			if len(x) != 2 {
				return nil, Errorf(40392, "$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect number of keys:%d", len(x))
			}
			k, vv := Get(x, "k"), Get(x, "v")
			if IsMissing(k) || IsMissing(vv) {
				return nil, Errorf(40393, "$arrayToObject requires an object with keys 'k' and 'v'. Missing either or both keys from: %s", fmtValue(x))
			}
			ks, ok := k.(string)
			if !ok {
				return nil, Errorf(40394, "$arrayToObject requires an object with keys 'k' and 'v', where the value of 'k' must be of type string. Found type: %s", TypeName(k))
			}
			if err := set(ks, vv); err != nil {
				return nil, err
			}
		default:
			return nil, Errorf(40398, "Unrecognised input type format for $arrayToObject: %s", TypeName(e))
		}
	}
	return out, nil
}

func evalObjectToArray(name string, v any) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	d, ok := v.(bson.D)
	if !ok {
		return nil, Errorf(40390, "$objectToArray requires a document input, found: %s", TypeName(v))
	}
	out := make(bson.A, len(d))
	for i, e := range d {
		out[i] = bson.D{{Key: "k", Value: e.Key}, {Key: "v", Value: e.Value}}
	}
	return out, nil
}

func opZip(name string, arg any, depth int) (exprFn, error) {
	args, err := namedArgs(name, arg, depth, []string{"inputs"}, []string{"useLongestLength", "defaults"})
	if err != nil {
		return nil, err
	}
	return func(c *evalCtx) (any, error) {
		iv, err := args["inputs"](c)
		if err != nil {
			return nil, err
		}
		inputs, ok := iv.(bson.A)
		if !ok {
			return nil, Errorf(34461, "$zip found a non-array expression in input: %s", fmtValue(iv))
		}
		longest := false
		if f := args["useLongestLength"]; f != nil {
			l, err := f(c)
			if err != nil {
				return nil, err
			}
			b, ok := l.(bool)
			if !ok {
				return nil, Errorf(34463, "useLongestLength must be a bool, found %s", TypeName(l))
			}
			longest = b
		}
		var defaults bson.A
		if f := args["defaults"]; f != nil {
			if !longest {
				return nil, Errorf(34466, "cannot specify defaults unless useLongestLength is true")
			}
			dv, err := f(c)
			if err != nil {
				return nil, err
			}
			if defaults, ok = dv.(bson.A); !ok {
				return nil, Errorf(34462, "defaults must be an array of expressions, found %s", TypeName(dv))
			}
			if len(defaults) != len(inputs) {
				return nil, Errorf(34467, "defaults and inputs must have the same length")
			}
		}
		arrays := make([]bson.A, len(inputs))
		n := -1
		for i, in := range inputs {
			if isNullish(in) {
				return nil, nil
			}
			a, ok := in.(bson.A)
			if !ok {
				return nil, Errorf(34468, "$zip found a non-array expression in input: %s", fmtValue(in))
			}
			arrays[i] = a
			if n < 0 || (longest && len(a) > n) || (!longest && len(a) < n) {
				n = len(a)
			}
		}
		out := bson.A{}
		for j := 0; j < n; j++ {
			row := make(bson.A, len(arrays))
			for i, a := range arrays {
				switch {
				case j < len(a):
					row[i] = a[j]
				case defaults != nil:
					row[i] = defaults[i]
				}
			}
			out = append(out, row)
		}
		return out, nil
	}, nil
}

// opArrayAccumulator is the expression form of $sum, $avg, $min, $max and
// $stdDev*: with one argument that is an array, over its elements; with
// several arguments, over the arguments.
func opArrayAccumulator(name string, arg any, depth int) (exprFn, error) {
	fns, err := compileArgs(arg, depth)
	if err != nil {
		return nil, err
	}
	single := true
	if _, ok := arg.(bson.A); ok {
		single = false
	}
	if a, ok := arg.(bson.A); ok && len(a) == 1 {
		single = true
	}
	return func(c *evalCtx) (any, error) {
		vals, err := evalArgs(c, fns)
		if err != nil {
			return nil, err
		}
		if single && len(vals) == 1 {
			if a, ok := vals[0].(bson.A); ok {
				vals = a
			}
		}
		acc := newAccumulator(name)
		for _, v := range vals {
			acc.add(v)
		}
		return acc.result(), nil
	}, nil
}

func evalMergeObjects(name string, vals []any) (any, error) {
	out := bson.D{}
	for _, v := range vals {
		if isNullish(v) {
			continue
		}
		d, ok := v.(bson.D)
		if !ok {
			return nil, Errorf(40400, "$mergeObjects requires object inputs, but input %s is of type %s", fmtValue(v), TypeName(v))
		}
		out = mergeInto(out, d)
	}
	return out, nil
}

func mergeInto(out, d bson.D) bson.D {
	for _, e := range d {
		found := false
		for i := range out {
			if out[i].Key == e.Key {
				out[i].Value = e.Value
				found = true
				break
			}
		}
		if !found {
			out = append(out, e)
		}
	}
	return out
}

func opGetField(name string, arg any, depth int) (exprFn, error) {
	d, isDoc := Normalize(arg).(bson.D)
	if !isDoc || len(d) == 0 || d[0].Key == "" || strings.HasPrefix(d[0].Key, "$") {
		d = bson.D{{Key: "field", Value: arg}}
	}
	args, err := namedArgs(name, d, depth, []string{"field"}, []string{"input"})
	if err != nil {
		return nil, err
	}
	if err := literalFieldName(name, d); err != nil {
		return nil, err
	}
	return func(c *evalCtx) (any, error) {
		f, err := args["field"](c)
		if err != nil {
			return nil, err
		}
		key, ok := f.(string)
		if !ok {
			return nil, Errorf(3041704, "%s requires 'field' to evaluate to type String, but got %s", name, TypeName(f))
		}
		var in any = c.current
		if fn := args["input"]; fn != nil {
			if in, err = fn(c); err != nil {
				return nil, err
			}
		}
		if isNullish(in) {
			return Missing, nil
		}
		doc, ok := in.(bson.D)
		if !ok {
			return nil, Errorf(3041705, "%s requires 'input' to evaluate to type Object, but got %s", name, TypeName(in))
		}
		return Get(doc, key), nil
	}, nil
}

// literalFieldName rejects a 'field' that is a path: MongoDB requires a
// string constant (or $literal) there.
func literalFieldName(name string, d bson.D) error {
	for _, e := range d {
		if e.Key != "field" {
			continue
		}
		switch x := e.Value.(type) {
		case string:
			if strings.HasPrefix(x, "$") {
				return Errorf(5654602, "%s requires 'field' to evaluate to a constant, but got a non-constant argument", name)
			}
			return nil
		case bson.D:
			if len(x) == 1 && x[0].Key == "$literal" {
				return nil
			}
		}
		return Errorf(5654601, "%s requires 'field' to evaluate to a constant, but got a non-constant argument", name)
	}
	return nil
}

func opSetField(name string, arg any, depth int) (exprFn, error) {
	required := []string{"field", "input", "value"}
	if name == "$unsetField" {
		required = []string{"field", "input"}
	}
	args, err := namedArgs(name, arg, depth, required, nil)
	if err != nil {
		return nil, err
	}
	if err := literalFieldName(name, Normalize(arg).(bson.D)); err != nil {
		return nil, err
	}
	return func(c *evalCtx) (any, error) {
		f, err := args["field"](c)
		if err != nil {
			return nil, err
		}
		key, ok := f.(string)
		if !ok {
			return nil, Errorf(4161106, "%s requires 'field' to evaluate to type String, but got %s", name, TypeName(f))
		}
		in, err := args["input"](c)
		if err != nil {
			return nil, err
		}
		if isNullish(in) {
			return nil, nil
		}
		doc, ok := in.(bson.D)
		if !ok {
			return nil, Errorf(4161105, "%s requires 'input' to evaluate to type Object, but got %s", name, TypeName(in))
		}
		var val any = Missing
		if fn := args["value"]; fn != nil {
			if val, err = fn(c); err != nil {
				return nil, err
			}
		}
		out := make(bson.D, 0, len(doc)+1)
		found := false
		for _, e := range doc {
			if e.Key == key {
				found = true
				if IsMissing(val) {
					continue
				}
				e.Value = val
			}
			out = append(out, e)
		}
		if !found && !IsMissing(val) {
			out = append(out, bson.E{Key: key, Value: val})
		}
		return out, nil
	}, nil
}

// Sets are arrays without duplicates; results keep first-seen order.

func setArgs(name string, vals []any, code int) ([]bson.A, bool, error) {
	out := make([]bson.A, len(vals))
	null := false
	for i, v := range vals {
		if isNullish(v) {
			null = true
			continue
		}
		a, ok := v.(bson.A)
		if !ok {
			return nil, false, Errorf(code, "All operands of %s must be arrays. One argument is of type: %s", name, TypeName(v))
		}
		out[i] = a
	}
	return out, null, nil
}

func dedupe(vals bson.A) bson.A {
	out := bson.A{}
	for _, v := range vals {
		if !containsValue(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func containsValue(a bson.A, v any) bool {
	for _, e := range a {
		if Equal(e, v) {
			return true
		}
	}
	return false
}

func evalSetUnion(name string, vals []any) (any, error) {
	sets, null, err := setArgs(name, vals, 17043)
	if err != nil || null {
		return nil, err
	}
	var all bson.A
	for _, s := range sets {
		all = append(all, s...)
	}
	return dedupe(all), nil
}

func evalSetIntersection(name string, vals []any) (any, error) {
	sets, null, err := setArgs(name, vals, 17047)
	if err != nil || null {
		return nil, err
	}
	if len(sets) == 0 {
		return bson.A{}, nil
	}
	out := bson.A{}
	for _, v := range dedupe(sets[0]) {
		in := true
		for _, s := range sets[1:] {
			if !containsValue(s, v) {
				in = false
				break
			}
		}
		if in {
			out = append(out, v)
		}
	}
	return out, nil
}

func evalSetDifference(name string, vals []any) (any, error) {
	if isNullish(vals[0]) || isNullish(vals[1]) {
		return nil, nil
	}
	a, ok := vals[0].(bson.A)
	if !ok {
		return nil, Errorf(17048, "both operands of $setDifference must be arrays. First argument is of type: %s", TypeName(vals[0]))
	}
	b, ok := vals[1].(bson.A)
	if !ok {
		return nil, Errorf(17049, "both operands of $setDifference must be arrays. Second argument is of type: %s", TypeName(vals[1]))
	}
	out := bson.A{}
	for _, v := range dedupe(a) {
		if !containsValue(b, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

func evalSetEquals(name string, vals []any) (any, error) {
	sets := make([]bson.A, len(vals))
	for i, v := range vals {
		a, ok := v.(bson.A)
		if !ok {
			return nil, Errorf(17044, "All operands of $setEquals must be arrays. One argument is of type: %s", TypeName(v))
		}
		sets[i] = a
	}
	for _, s := range sets[1:] {
		if !subset(sets[0], s) || !subset(s, sets[0]) {
			return false, nil
		}
	}
	return true, nil
}

func subset(a, b bson.A) bool {
	for _, v := range a {
		if !containsValue(b, v) {
			return false
		}
	}
	return true
}

func evalSetIsSubset(name string, vals []any) (any, error) {
	a, ok := vals[0].(bson.A)
	if !ok {
		return nil, Errorf(17046, "both operands of $setIsSubset must be arrays. First argument is of type: %s", TypeName(vals[0]))
	}
	b, ok := vals[1].(bson.A)
	if !ok {
		return nil, Errorf(17042, "both operands of $setIsSubset must be arrays. Second argument is of type: %s", TypeName(vals[1]))
	}
	return subset(a, b), nil
}

func evalAnyAllElementTrue(name string, vals []any) (any, error) {
	a, ok := vals[0].(bson.A)
	if !ok {
		code := 17041
		if name == "$allElementTrue" {
			code = 17040
		}
		return nil, Errorf(code, "%s's argument must be an array, but is %s", name, TypeName(vals[0]))
	}
	any := name == "$anyElementTrue"
	for _, v := range a {
		if Truthy(v) == any {
			return any, nil
		}
	}
	return !any, nil
}

func sign64(x int64) int64 {
	if x < 0 {
		return -1
	}
	return 1
}
