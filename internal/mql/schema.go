package mql

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// This file is the one implementation of JSON Schema semantics in Atoll:
// MongoDB's draft-4 dialect with the bsonType keyword. The $jsonSchema
// query operator uses it as a boolean test; internal/jsonschema uses it,
// with SchemaOptions selecting App Services' extensions, to list every
// violation of a document written through the data-access layer.
//
// Each keyword constrains only values of the kind it is about (minimum
// ignores strings, properties ignores arrays, and so on), properties of a
// document are looked up without array traversal, and an absent property
// satisfies everything but required.

// SchemaOptions selects the dialect a schema is compiled in. The zero value
// is exactly MongoDB's $jsonSchema.
type SchemaOptions struct {
	// Types adds bsonType names beyond MongoDB's type aliases, each with
	// the test a value must pass (App Services' "uuid" and "mixed").
	Types map[string]func(v any) bool
	// Draft7 accepts the later JSON Schema keywords App Services reports
	// validation errors for but MongoDB's $jsonSchema refuses: const,
	// contains, if/then/else, and format (an annotation only).
	Draft7 bool
	// NullableOptional lets null satisfy the schema of a property that is
	// not listed in its object's required: App Services' "null type
	// schema validation" setting.
	NullableOptional bool
}

// Schema is a compiled schema, safe for concurrent use.
type Schema struct {
	root *schemaNode
}

// SchemaViolation is one reason a value fails a schema.
type SchemaViolation struct {
	// Path locates the offending value from the validated root: field
	// names and array indexes joined by dots, "" for the root itself.
	Path string
	// Keyword is the schema keyword that failed, such as "required".
	Keyword string
	// Reason says what is wrong in words.
	Reason string
}

func (v SchemaViolation) String() string {
	p := v.Path
	if p == "" {
		p = "(root)"
	}
	return p + ": " + v.Reason
}

// SchemaCompileError is a schema that cannot be compiled: Path locates the
// offending keyword ("properties.age.minimum"), Err says why with
// MongoDB's code for the problem.
type SchemaCompileError struct {
	Path string
	Err  *Error
}

func (e *SchemaCompileError) Error() string {
	if e.Path == "" {
		return e.Err.Message
	}
	return e.Path + ": " + e.Err.Message
}

func (e *SchemaCompileError) Unwrap() error { return e.Err }

// CompileSchema compiles a schema object. Errors are *SchemaCompileError.
func CompileSchema(d bson.D, opts SchemaOptions) (*Schema, error) {
	c := &schemaCompiler{opts: opts}
	root, err := c.compile(d)
	if err != nil {
		return nil, err
	}
	return &Schema{root: root}, nil
}

// Matches reports whether v satisfies the schema, stopping at the first
// failure.
func (s *Schema) Matches(v any) bool { return s.root.eval(v, nil) }

// Validate returns every violation of the schema by v, in document order;
// none means v is valid.
func (s *Schema) Validate(v any) []SchemaViolation {
	r := &schemaRun{}
	s.root.eval(v, r)
	return r.out
}

// schemaRun collects violations while a value is validated. A nil run is
// the boolean mode: checks stop at the first failure and format nothing.
type schemaRun struct {
	path []string
	out  []SchemaViolation
}

func (r *schemaRun) push(seg string) {
	if r != nil {
		r.path = append(r.path, seg)
	}
}

func (r *schemaRun) pushIndex(i int) {
	if r != nil {
		r.path = append(r.path, strconv.Itoa(i))
	}
}

func (r *schemaRun) pop() {
	if r != nil {
		r.path = r.path[:len(r.path)-1]
	}
}

// fail records a violation at the current path (or at the current path
// plus field, when field is not empty) and returns false so checks can
// `return r.fail(...)`.
func (r *schemaRun) fail(keyword, field, format string, args ...any) bool {
	if r == nil {
		return false
	}
	p := strings.Join(r.path, ".")
	if field != "" {
		if p != "" {
			p += "."
		}
		p += field
	}
	r.out = append(r.out, SchemaViolation{Path: p, Keyword: keyword, Reason: fmt.Sprintf(format, args...)})
	return false
}

// schemaCheck tests one keyword against v, recording violations in r.
type schemaCheck func(v any, r *schemaRun) bool

// schemaNode is a compiled schema: a conjunction of keyword checks.
type schemaNode struct {
	checks []schemaCheck
}

func (s *schemaNode) eval(v any, r *schemaRun) bool {
	ok := true
	for _, c := range s.checks {
		if !c(v, r) {
			if r == nil {
				return false
			}
			ok = false
		}
	}
	return ok
}

// valid is the boolean test used inside combinators, whose sub-schemas'
// own violations are not reported.
func (s *schemaNode) valid(v any) bool { return s.eval(v, nil) }

// schemaCompiler carries the dialect and the keyword path for errors.
type schemaCompiler struct {
	opts SchemaOptions
	path []string
}

func (c *schemaCompiler) errorf(code int, format string, args ...any) error {
	return &SchemaCompileError{Path: strings.Join(c.path, "."), Err: Errorf(code, format, args...)}
}

// schemaPlainError returns the *Error inside a compile error, for the
// $jsonSchema operator whose errors are plain MongoDB errors.
func schemaPlainError(err error) error {
	var se *SchemaCompileError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// schemaTypeName names v's type in violations the way bsonType spells it.
func schemaTypeName(v any) string {
	if IsMissing(v) {
		return "missing"
	}
	switch v.(type) {
	case bson.D:
		return "object"
	case bson.A:
		return "array"
	case bool:
		return "bool"
	case nil, bson.Null:
		return "null"
	}
	return TypeName(v)
}
