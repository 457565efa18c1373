package mql

import "go.mongodb.org/mongo-driver/v2/bson"

// This file wires the $jsonSchema query operator to the schema evaluator
// in schema.go: MongoDB's dialect (the zero SchemaOptions), used as a
// boolean test on the whole document, with compile errors reported as
// plain MongoDB errors.

// schemaFilter is the top-level $jsonSchema: the document must satisfy it.
type schemaFilter struct{ schema *Schema }

func (n *schemaFilter) matchDoc(doc bson.D) (bool, int) { return n.schema.Matches(doc), -1 }

func compileJSONSchema(v any) (matchNode, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, Errorf(CodeTypeMismatch, "$jsonSchema must be an object")
	}
	s, err := CompileSchema(d, SchemaOptions{})
	if err != nil {
		return nil, schemaPlainError(err)
	}
	return &schemaFilter{schema: s}, nil
}
