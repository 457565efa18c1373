package mql

import "go.mongodb.org/mongo-driver/v2/bson"

// Filter is a compiled query filter.
type Filter struct{}

// CompileFilter parses and validates a query filter.
func CompileFilter(filter bson.D) (*Filter, error) {
	return nil, errUnsupported("query", "filters are not implemented yet")
}

// Match reports whether doc satisfies the filter.
func (f *Filter) Match(doc bson.D) bool { return false }

// MatchPosition reports whether doc satisfies the filter and, when it does,
// the index of the array element that the first array traversed while
// matching refers to (what the positional $ operator of updates and
// projections means), or -1 when no array was traversed.
func (f *Filter) MatchPosition(doc bson.D) (bool, int) { return false, -1 }
