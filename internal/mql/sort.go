package mql

import "go.mongodb.org/mongo-driver/v2/bson"

// Sort is a compiled sort specification.
type Sort struct{}

// CompileSort parses and validates a sort specification such as {a: 1, b: -1}.
func CompileSort(spec bson.D) (*Sort, error) {
	return nil, errUnsupported("sort", "sorts are not implemented yet")
}

// Compare orders two documents by the sort specification.
func (s *Sort) Compare(a, b bson.D) int { return 0 }

// Sort sorts docs in place, stably.
func (s *Sort) Sort(docs []bson.D) {}
