package mql

import (
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	delete(unsupportedOperators, "$sortArray")
	operators["$sortArray"] = opSortArray
}

// opSortArray sorts by value for sortBy 1/-1 and with the shared sort
// engine (CompileSort) for a document sortBy, which applies to document
// elements; other elements sort as empty documents.
func opSortArray(name string, arg any, depth int) (exprFn, error) {
	d, ok := Normalize(arg).(bson.D)
	if !ok {
		return nil, Errorf(2942500, "$sortArray requires an object as an argument, found: %s", TypeName(arg))
	}
	var input exprFn
	var sortBy any = Missing
	for _, e := range d {
		switch e.Key {
		case "input":
			fn, err := compileExpr(e.Value, depth+1)
			if err != nil {
				return nil, err
			}
			input = fn
		case "sortBy":
			sortBy = e.Value
		default:
			return nil, Errorf(2942501, "$sortArray found an unknown argument: %s", e.Key)
		}
	}
	if input == nil {
		return nil, Errorf(2942502, "$sortArray requires 'input' to be specified")
	}
	if IsMissing(sortBy) {
		return nil, Errorf(2942503, "$sortArray requires 'sortBy' to be specified")
	}
	var cmp func(a, b any) int
	switch x := sortBy.(type) {
	case bson.D:
		s, err := CompileSort(x)
		if err != nil {
			return nil, err
		}
		cmp = func(a, b any) int {
			da, _ := a.(bson.D)
			db, _ := b.(bson.D)
			return s.Compare(da, db)
		}
	default:
		n, isInt := ToInt64(sortBy)
		if !isInt || (n != 1 && n != -1) {
			return nil, Errorf(CodeBadValue, "$sortArray: sortBy must be 1, -1 or a sort specification, found %s", fmtValue(sortBy))
		}
		cmp = func(a, b any) int { return int(n) * Compare(a, b) }
	}
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
			return nil, Errorf(2942504, "The input argument to $sortArray must be an array, but was of type: %s", TypeName(v))
		}
		out := append(bson.A{}, a...)
		slices.SortStableFunc(out, cmp)
		return out, nil
	}, nil
}
