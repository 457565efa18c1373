package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// ErrorCode is the App Services error_code of a write refused because a
// document does not satisfy its collection's schema.
const ErrorCode = "SchemaValidationFailedWrite"

// Sentinel errors, for errors.Is.
var (
	// ErrInvalidSchema is wrapped by every *SchemaError.
	ErrInvalidSchema = errors.New("invalid schema")
	// ErrValidation is wrapped by every *ValidationError.
	ErrValidation = errors.New("schema validation failed")
)

// Options are the app settings that change how documents are validated.
type Options struct {
	// NullTypeValidation is App Services' "null type schema validation"
	// setting (validation_settings/null_type_schema_validation): when on,
	// null satisfies the schema of any property not listed in required.
	NullTypeValidation bool
}

// Schema is a compiled schema.json.
type Schema struct {
	schema *mql.Schema
	title  string
}

// SchemaError is a schema.json that cannot be compiled. Path locates the
// offending keyword by its keys from the schema root (for example
// "properties.age.minimum"), "" for the root itself.
type SchemaError struct {
	Path   string
	Reason string
}

func (e *SchemaError) Error() string {
	if e.Path == "" {
		return "invalid schema: " + e.Reason
	}
	return "invalid schema at " + e.Path + ": " + e.Reason
}

func (e *SchemaError) Unwrap() error { return ErrInvalidSchema }

// Violation is one way a document fails its schema: Path is the dotted
// path of the offending value ("" for the document itself, array
// elements by index) and Reason says what is wrong.
type Violation = mql.SchemaViolation

// ValidationError lists every violation of a document, in document order.
type ValidationError struct {
	Violations []Violation
}

// Error renders the violations one per line, each as "<path>: <reason>"
// with "(root)" for the document itself.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("could not validate document:")
	for _, v := range e.Violations {
		b.WriteString("\n\t")
		b.WriteString(v.String())
	}
	return b.String()
}

// ErrorCode returns the App Services error_code for the error envelope.
func (e *ValidationError) ErrorCode() string { return ErrorCode }

func (e *ValidationError) Unwrap() error { return ErrValidation }

// Compile compiles the text of a schema.json file. The text is JSON (or
// Extended JSON); a file that is not one JSON object is a *SchemaError.
func Compile(raw []byte, opts Options) (*Schema, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, &SchemaError{Reason: "a schema must be a JSON object"}
	}
	if !json.Valid(raw) {
		return nil, &SchemaError{Reason: "schema is not valid JSON"}
	}
	var d bson.D
	if err := bson.UnmarshalExtJSON(raw, false, &d); err != nil {
		return nil, &SchemaError{Reason: "cannot read schema: " + err.Error()}
	}
	return CompileDoc(d, opts)
}

// CompileDoc compiles a schema already decoded into a document.
func CompileDoc(d bson.D, opts Options) (*Schema, error) {
	if err := checkRoot(d); err != nil {
		return nil, err
	}
	s, err := mql.CompileSchema(d, mql.SchemaOptions{
		Types:            appServicesTypes,
		Draft7:           true,
		NullableOptional: opts.NullTypeValidation,
	})
	if err != nil {
		var ce *mql.SchemaCompileError
		if errors.As(err, &ce) {
			return nil, &SchemaError{Path: ce.Path, Reason: ce.Err.Message}
		}
		return nil, &SchemaError{Reason: err.Error()}
	}
	title, _ := mql.Get(d, "title").(string)
	return &Schema{schema: s, title: title}, nil
}

// checkRoot enforces that the root describes a document: bsonType or type
// "object", or no type at all (some exports omit it).
func checkRoot(d bson.D) error {
	for _, key := range []string{"bsonType", "type"} {
		v := mql.Get(d, key)
		if mql.IsMissing(v) {
			continue
		}
		if s, ok := v.(string); !ok || s != "object" {
			return &SchemaError{Path: key, Reason: fmt.Sprintf("the root schema must have %s \"object\"", key)}
		}
	}
	return nil
}

// Title is the schema's title: the type name GraphQL and sync use for the
// collection; "" when the schema has none.
func (s *Schema) Title() string { return s.title }

// Validate checks doc against the schema and returns nil or a
// *ValidationError listing every violation. doc must be in mql's normal
// form (nested documents bson.D, arrays bson.A), which is what decoding
// BSON into a bson.D produces; see mql.Normalize for hand-built values.
func (s *Schema) Validate(doc bson.D) error {
	if s.schema.Matches(doc) {
		return nil
	}
	return &ValidationError{Violations: s.schema.Validate(doc)}
}

// Valid reports whether doc satisfies the schema, without describing why
// not.
func (s *Schema) Valid(doc bson.D) bool { return s.schema.Matches(doc) }
