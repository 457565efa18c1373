package mql

import "go.mongodb.org/mongo-driver/v2/bson"

// Filter is a compiled query filter. It is a tree of small matcher nodes
// built once by CompileFilter; matching walks the tree without allocating
// (except for $elemMatch queries over elements that are themselves arrays)
// and a Filter is safe for concurrent use.
//
// Semantics are MongoDB 8.0's: each operator of {a: {$gt: 1, $lt: 5}}
// applies to the path on its own; a path yields every value it reaches
// through embedded documents and arrays (see pathNode) and a predicate
// matches when any of them satisfies it; $ne, $nin, $not and
// $exists: false negate the whole path; null equals null and missing but
// no longer undefined; range operators only relate values of one
// canonical type, except that MinKey and MaxKey bound everything.
type Filter struct {
	root matchNode
}

// CompileFilter parses and validates a query filter.
func CompileFilter(filter bson.D) (f *Filter, err error) {
	norm, err := matchNormalize(filter)
	if err != nil {
		return nil, err
	}
	if err := CheckDepth(norm); err != nil {
		return nil, err
	}
	root, err := compileFilterDoc(norm, false)
	if err != nil {
		return nil, err
	}
	return &Filter{root: root}, nil
}

// matchNormalize brings hand-built filters (Go ints, bson.M) into the
// package's normal form; Normalize panics on Go types that have no BSON
// equivalent, which for a filter is bad input rather than a bug.
func matchNormalize(filter bson.D) (out bson.D, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, Errorf(CodeBadValue, "invalid value in query filter: %v", r)
		}
	}()
	return Normalize(filter).(bson.D), nil
}

// Match reports whether doc satisfies the filter.
func (f *Filter) Match(doc bson.D) bool {
	ok, _ := f.root.matchDoc(doc)
	return ok
}

// MatchPosition reports whether doc satisfies the filter and, when it does,
// the index of the array element that the first array traversed while
// matching refers to (what the positional $ operator of updates and
// projections means), or -1 when no array was traversed.
func (f *Filter) MatchPosition(doc bson.D) (bool, int) {
	ok, pos := f.root.matchDoc(doc)
	if !ok {
		return false, -1
	}
	return true, pos
}
