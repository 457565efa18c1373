package mql

import "go.mongodb.org/mongo-driver/v2/bson"

// Expression is a compiled aggregation expression.
type Expression struct{}

// CompileExpression parses an aggregation expression such as
// {$add: ["$a", 1]}.
func CompileExpression(v any) (*Expression, error) {
	return nil, errUnsupported("expression", "expressions are not implemented yet")
}

// Eval evaluates the expression with $$ROOT and $$CURRENT bound to doc and
// the given extra variables.
func (e *Expression) Eval(doc bson.D, vars map[string]any) (any, error) {
	return nil, errUnsupported("expression", "expressions are not implemented yet")
}
