package jsonschema

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzCompileValidate checks that compiling any schema text and validating
// any document never panics, that a schema either compiles or fails with
// a *SchemaError, and that Valid and Validate always agree.
func FuzzCompileValidate(f *testing.F) {
	for _, name := range []string{"seed002/users.schema.json", "seed002/tasks.schema.json", "item.schema.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(raw), `{"_id": {"$oid": "5f2c1b2a9d1e8a0001a1b2c3"}, "name": 1, "tags": ["a", "a"]}`)
	}
	f.Add(`{"properties": {"a": {"items": [{"bsonType": "int"}], "additionalItems": {"uniqueItems": true}}}, "additionalProperties": {"bsonType": "mixed"}}`, `{"a": [1, [2, 2]], "b": {"c": 1}}`)
	f.Add(`{"if": {"required": ["k"]}, "then": {"properties": {"k": {"const": {"x": [1]}}}}, "else": {"not": {"minProperties": 1}}}`, `{"k": {"x": [1.0]}}`)
	f.Add(`{"dependencies": {"a": ["b"], "c": {"anyOf": [{"required": ["d"]}, {"maxProperties": 1}]}}, "patternProperties": {"^x": {"pattern": "(a|b)*c"}}}`, `{"a": 1, "c": 2, "xy": "abab"}`)
	f.Add(`{"properties": {"n": {"bsonType": "number", "multipleOf": 0.01, "minimum": {"$numberDecimal": "-1E+6144"}, "exclusiveMinimum": true}}}`, `{"n": {"$numberDouble": "NaN"}}`)
	f.Fuzz(func(t *testing.T, schemaText, docJSON string) {
		var d bson.D
		if bson.UnmarshalExtJSON([]byte(docJSON), false, &d) != nil {
			d = bson.D{}
		}
		for _, opts := range []Options{{}, {NullTypeValidation: true}} {
			s, err := Compile([]byte(schemaText), opts)
			if err != nil {
				var se *SchemaError
				if !errors.As(err, &se) {
					t.Fatalf("Compile error %T %v is not a *SchemaError", err, err)
				}
				return
			}
			err = s.Validate(d)
			if s.Valid(d) != (err == nil) {
				t.Fatalf("Valid and Validate disagree: %v", err)
			}
			if err != nil {
				var ve *ValidationError
				if !errors.As(err, &ve) || len(ve.Violations) == 0 {
					t.Fatalf("Validate error %T %v", err, err)
				}
				_ = ve.Error()
			}
		}
	})
}
