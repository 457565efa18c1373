package mql

import "go.mongodb.org/mongo-driver/v2/bson"

// Projection is a compiled find projection.
type Projection struct{}

// CompileProjection parses and validates a find projection.
func CompileProjection(spec bson.D) (*Projection, error) {
	return nil, errUnsupported("projection", "projections are not implemented yet")
}

// Apply returns the projected document. position is the array index the
// positional $ projection refers to (from Filter.MatchPosition), or -1.
func (p *Projection) Apply(doc bson.D, position int) (bson.D, error) {
	return nil, errUnsupported("projection", "projections are not implemented yet")
}
