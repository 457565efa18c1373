package jsonschema

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func doc(t testing.TB, s string) bson.D {
	t.Helper()
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		t.Fatalf("bad test document %s: %v", s, err)
	}
	return d
}

// violations validates d and returns each violation as "<path>: <reason>".
func violations(t testing.TB, s *Schema, d bson.D) []string {
	t.Helper()
	err := s.Validate(d)
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrValidation) {
		t.Fatalf("Validate returned %T %v, want *ValidationError", err, err)
	}
	if len(ve.Violations) == 0 {
		t.Fatalf("ValidationError without violations")
	}
	if s.Valid(d) {
		t.Fatalf("Valid true but Validate failed")
	}
	out := make([]string, len(ve.Violations))
	for i, v := range ve.Violations {
		out[i] = v.String()
	}
	return out
}

type keywordCase struct {
	name   string
	schema string
	doc    string
	want   []string // nil: valid
}

// TestKeywords has, per keyword, documents that pass and documents that
// fail with the exact violations reported.
func TestKeywords(t *testing.T) {
	cases := []keywordCase{
		// bsonType, single and array, every alias.
		{"bsonType objectId ok", `{"properties": {"a": {"bsonType": "objectId"}}}`, `{"a": {"$oid": "5f0000000000000000000001"}}`, nil},
		{"bsonType objectId bad", `{"properties": {"a": {"bsonType": "objectId"}}}`, `{"a": 666}`, []string{"a: Invalid type. Expected: bsonType: objectId, given: int"}},
		{"bsonType string bad", `{"properties": {"a": {"bsonType": "string"}}}`, `{"a": true}`, []string{"a: Invalid type. Expected: bsonType: string, given: bool"}},
		{"bsonType date ok", `{"properties": {"a": {"bsonType": "date"}}}`, `{"a": {"$date": "2020-01-01T00:00:00Z"}}`, nil},
		{"bsonType date bad", `{"properties": {"a": {"bsonType": "date"}}}`, `{"a": "2020-01-01"}`, []string{"a: Invalid type. Expected: bsonType: date, given: string"}},
		{"bsonType decimal ok", `{"properties": {"a": {"bsonType": "decimal"}}}`, `{"a": {"$numberDecimal": "1.5"}}`, nil},
		{"bsonType decimal bad", `{"properties": {"a": {"bsonType": "decimal"}}}`, `{"a": 1.5}`, []string{"a: Invalid type. Expected: bsonType: decimal, given: double"}},
		{"bsonType long ok", `{"properties": {"a": {"bsonType": "long"}}}`, `{"a": {"$numberLong": "5"}}`, nil},
		{"bsonType long rejects int", `{"properties": {"a": {"bsonType": "long"}}}`, `{"a": 5}`, []string{"a: Invalid type. Expected: bsonType: long, given: int"}},
		{"bsonType int ok", `{"properties": {"a": {"bsonType": "int"}}}`, `{"a": 5}`, nil},
		{"bsonType int rejects double", `{"properties": {"a": {"bsonType": "int"}}}`, `{"a": 5.5}`, []string{"a: Invalid type. Expected: bsonType: int, given: double"}},
		{"bsonType double ok", `{"properties": {"a": {"bsonType": "double"}}}`, `{"a": 5.5}`, nil},
		{"bsonType number any numeric", `{"properties": {"a": {"bsonType": "number"}, "b": {"bsonType": "number"}, "c": {"bsonType": "number"}, "d": {"bsonType": "number"}}}`,
			`{"a": 1, "b": {"$numberLong": "2"}, "c": 1.5, "d": {"$numberDecimal": "3"}}`, nil},
		{"bsonType number bad", `{"properties": {"a": {"bsonType": "number"}}}`, `{"a": "1"}`, []string{"a: Invalid type. Expected: bsonType: number, given: string"}},
		{"bsonType bool", `{"properties": {"a": {"bsonType": "bool"}}}`, `{"a": false}`, nil},
		{"bsonType null", `{"properties": {"a": {"bsonType": "null"}}}`, `{"a": null}`, nil},
		{"bsonType regex", `{"properties": {"a": {"bsonType": "regex"}}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, nil},
		{"bsonType timestamp", `{"properties": {"a": {"bsonType": "timestamp"}}}`, `{"a": {"$timestamp": {"t": 1, "i": 1}}}`, nil},
		{"bsonType binData", `{"properties": {"a": {"bsonType": "binData"}}}`, `{"a": {"$binary": {"base64": "AA==", "subType": "00"}}}`, nil},
		{"bsonType binary", `{"properties": {"a": {"bsonType": "binary"}}}`, `{"a": {"$binary": {"base64": "AA==", "subType": "00"}}}`, nil},
		{"bsonType uuid ok", `{"properties": {"a": {"bsonType": "uuid"}}}`, `{"a": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAA==", "subType": "04"}}}`, nil},
		{"bsonType uuid rejects other binary", `{"properties": {"a": {"bsonType": "uuid"}}}`, `{"a": {"$binary": {"base64": "AA==", "subType": "00"}}}`, []string{"a: Invalid type. Expected: bsonType: uuid, given: binData"}},
		{"bsonType mixed scalar and array", `{"properties": {"a": {"bsonType": "mixed"}, "b": {"bsonType": "mixed"}}}`, `{"a": 1, "b": [1, "x"]}`, nil},
		{"bsonType mixed rejects object", `{"properties": {"a": {"bsonType": "mixed"}}}`, `{"a": {"x": 1}}`, []string{"a: Invalid type. Expected: bsonType: mixed, given: object"}},
		{"bsonType minKey maxKey", `{"properties": {"a": {"bsonType": "minKey"}, "b": {"bsonType": "maxKey"}}}`, `{"a": {"$minKey": 1}, "b": {"$maxKey": 1}}`, nil},
		{"bsonType function", `{"properties": {"a": {"bsonType": "function"}}}`, `{"a": {"$code": "1"}}`, nil},
		{"bsonType array of types ok", `{"properties": {"a": {"bsonType": ["string", "null"]}}}`, `{"a": null}`, nil},
		{"bsonType array of types bad", `{"properties": {"a": {"bsonType": ["string", "int"]}}}`, `{"a": 1.5}`, []string{"a: Invalid type. Expected: bsonType: string, int, given: double"}},
		// type (JSON types).
		{"type number", `{"properties": {"a": {"type": "number"}}}`, `{"a": {"$numberLong": "1"}}`, nil},
		{"type boolean bad", `{"properties": {"a": {"type": "boolean"}}}`, `{"a": 0}`, []string{"a: Invalid type. Expected: type: boolean, given: int"}},
		{"type array list", `{"properties": {"a": {"type": ["array", "object"]}}}`, `{"a": {"b": 1}}`, nil},
		// Null handling: null is rejected for an optional non-null field by default.
		{"null rejected for optional", `{"properties": {"breed": {"bsonType": "string"}}}`, `{"breed": null}`, []string{"breed: Invalid type. Expected: bsonType: string, given: null"}},
		// required.
		{"required ok", `{"required": ["a", "b"]}`, `{"a": 1, "b": null}`, nil},
		{"required every missing", `{"required": ["a", "b", "c"]}`, `{"b": 1}`, []string{"(root): a is required", "(root): c is required"}},
		{"required nested", `{"properties": {"o": {"bsonType": "object", "required": ["x"]}}}`, `{"o": {}}`, []string{"o: x is required"}},
		// properties / additionalProperties.
		{"additionalProperties false", `{"properties": {"a": {}}, "additionalProperties": false}`, `{"a": 1, "b": 2, "c": 3}`,
			[]string{"(root): Additional property b is not allowed", "(root): Additional property c is not allowed"}},
		{"additionalProperties schema (dictionary)", `{"properties": {"d": {"bsonType": "object", "additionalProperties": {"bsonType": "int"}}}}`, `{"d": {"x": 1, "y": "no"}}`,
			[]string{"d.y: Invalid type. Expected: bsonType: int, given: string"}},
		{"additionalProperties true", `{"properties": {"a": {}}, "additionalProperties": true}`, `{"z": 1}`, nil},
		{"patternProperties", `{"patternProperties": {"^n_": {"bsonType": "int"}}, "additionalProperties": false}`, `{"n_a": 1, "n_b": "x", "o": 1}`,
			[]string{"n_b: Invalid type. Expected: bsonType: int, given: string", "(root): Additional property o is not allowed"}},
		{"minProperties maxProperties", `{"properties": {"o": {"minProperties": 2}, "p": {"maxProperties": 1}}}`, `{"o": {"a": 1}, "p": {"a": 1, "b": 2}}`,
			[]string{"o: Must have at least 2 properties", "p: Must have at most 1 properties"}},
		{"dependencies", `{"dependencies": {"card": ["billing"], "x": {"required": ["y"]}}}`, `{"card": 1, "x": 1}`,
			[]string{"(root): billing is required when card is present", "(root): y is required"}},
		// items, single and tuple.
		{"items schema", `{"properties": {"l": {"bsonType": "array", "items": {"bsonType": "string"}}}}`, `{"l": ["a", 1, "b", 2]}`,
			[]string{"l.1: Invalid type. Expected: bsonType: string, given: int", "l.3: Invalid type. Expected: bsonType: string, given: int"}},
		{"items tuple", `{"properties": {"l": {"items": [{"bsonType": "string"}, {"bsonType": "int"}]}}}`, `{"l": ["a", "b", true]}`,
			[]string{"l.1: Invalid type. Expected: bsonType: int, given: string"}},
		{"items tuple additionalItems false", `{"properties": {"l": {"items": [{}], "additionalItems": false}}}`, `{"l": [1, 2, 3]}`, []string{"l: Must have at most 1 items"}},
		{"items tuple additionalItems schema", `{"properties": {"l": {"items": [{}], "additionalItems": {"bsonType": "int"}}}}`, `{"l": [1, 2, "x"]}`,
			[]string{"l.2: Invalid type. Expected: bsonType: int, given: string"}},
		{"items of objects", `{"properties": {"l": {"items": {"bsonType": "object", "required": ["n"], "properties": {"n": {"bsonType": "string"}}}}}}`, `{"l": [{"n": "a"}, {}, {"n": 1}]}`,
			[]string{"l.1: n is required", "l.2.n: Invalid type. Expected: bsonType: string, given: int"}},
		{"minItems maxItems", `{"properties": {"a": {"minItems": 2}, "b": {"maxItems": 1}}}`, `{"a": [1], "b": [1, 2]}`,
			[]string{"a: Must have at least 2 items", "b: Must have at most 1 items"}},
		{"uniqueItems (set) ok", `{"properties": {"s": {"uniqueItems": true}}}`, `{"s": [1, 2, "1"]}`, nil},
		{"uniqueItems (set) bad", `{"properties": {"s": {"uniqueItems": true}}}`, `{"s": [1, 2, 1.0]}`, []string{"s: array items must be unique"}},
		// numbers.
		{"minimum", `{"properties": {"n": {"minimum": 5}}}`, `{"n": 4}`, []string{"n: Must be greater than or equal to 5"}},
		{"minimum boundary", `{"properties": {"n": {"minimum": 5}}}`, `{"n": 5}`, nil},
		{"exclusiveMinimum", `{"properties": {"n": {"minimum": 5, "exclusiveMinimum": true}}}`, `{"n": 5}`, []string{"n: Must be greater than 5"}},
		{"maximum", `{"properties": {"n": {"maximum": 1.5}}}`, `{"n": {"$numberDecimal": "1.6"}}`, []string{"n: Must be less than or equal to 1.5"}},
		{"exclusiveMaximum", `{"properties": {"n": {"maximum": 10, "exclusiveMaximum": true}}}`, `{"n": {"$numberLong": "10"}}`, []string{"n: Must be less than 10"}},
		{"minimum ignores strings", `{"properties": {"n": {"minimum": 5}}}`, `{"n": "1"}`, nil},
		{"multipleOf", `{"properties": {"n": {"multipleOf": 0.1}, "m": {"multipleOf": 3}}}`, `{"n": 0.3, "m": 7}`, []string{"m: Must be a multiple of 3"}},
		// strings.
		{"minLength", `{"properties": {"s": {"minLength": 3}}}`, `{"s": "ab"}`, []string{"s: String length must be greater than or equal to 3"}},
		{"maxLength counts code points", `{"properties": {"s": {"maxLength": 2}}}`, `{"s": "éé"}`, nil},
		{"maxLength", `{"properties": {"s": {"maxLength": 2}}}`, `{"s": "abc"}`, []string{"s: String length must be less than or equal to 2"}},
		{"pattern", `{"properties": {"s": {"pattern": "^[a-z]+$"}}}`, `{"s": "ab1"}`, []string{"s: Does not match pattern '^[a-z]+$'"}},
		// enum, const, title, description.
		{"enum ok", `{"properties": {"status": {"bsonType": "string", "enum": ["Open", "In Progress", "Closed"]}}}`, `{"status": "Open"}`, nil},
		{"enum bad", `{"properties": {"status": {"enum": ["Open", "Closed", 1]}}}`, `{"status": "open"}`, []string{`status: must be one of the following: "Open", "Closed", 1`}},
		{"const", `{"properties": {"v": {"const": 2}}}`, `{"v": 3}`, []string{"v: Does not match: 2"}},
		{"title and description are metadata", `{"title": "T", "description": "d", "properties": {"a": {"title": "A", "description": "x", "bsonType": "int"}}}`, `{"a": 1}`, nil},
		// combinators.
		{"anyOf", `{"properties": {"a": {"anyOf": [{"bsonType": "int"}, {"bsonType": "string"}]}}}`, `{"a": true}`, []string{"a: Must validate at least one schema (anyOf)"}},
		{"oneOf", `{"properties": {"a": {"oneOf": [{"minimum": 1}, {"minimum": 2}]}}}`, `{"a": 3}`, []string{"a: Must validate one and only one schema (oneOf)"}},
		{"allOf", `{"properties": {"a": {"allOf": [{"minimum": 1}, {"maximum": 2}]}}}`, `{"a": 3}`, []string{"a: Must be less than or equal to 2"}},
		{"not", `{"properties": {"a": {"not": {"bsonType": "string"}}}}`, `{"a": "x"}`, []string{"a: Must not validate the schema (not)"}},
		{"contains", `{"properties": {"a": {"contains": {"bsonType": "string"}}}}`, `{"a": [1, 2]}`, []string{"a: At least one of the items must match"}},
		{"if then", `{"if": {"properties": {"k": {"const": "a"}}}, "then": {"required": ["x"]}, "else": {"required": ["y"]}}`, `{"k": "a"}`, []string{`(root): Must validate "then" as "if" was valid`}},
		{"if else", `{"if": {"properties": {"k": {"const": "a"}}}, "then": {"required": ["x"]}, "else": {"required": ["y"]}}`, `{"k": "b", "y": 1}`, nil},
		{"format is an annotation", `{"properties": {"e": {"bsonType": "string", "format": "email"}}}`, `{"e": "not an email"}`, nil},
		// deep nesting.
		{"nested object path", `{"properties": {"a": {"bsonType": "object", "properties": {"b": {"bsonType": "array", "items": {"bsonType": "object", "properties": {"c": {"bsonType": "int"}}}}}}}}`,
			`{"a": {"b": [{"c": 1}, {"c": "x"}]}}`, []string{"a.b.1.c: Invalid type. Expected: bsonType: int, given: string"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Compile([]byte(c.schema), Options{})
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got := violations(t, s, doc(t, c.doc))
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestNullTypeValidation(t *testing.T) {
	const schema = `{"required": ["name"], "properties": {"name": {"bsonType": "string"}, "breed": {"bsonType": "string"}}}`
	off, err := Compile([]byte(schema), Options{})
	if err != nil {
		t.Fatal(err)
	}
	on, err := Compile([]byte(schema), Options{NullTypeValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	d := doc(t, `{"name": "n", "breed": null}`)
	if off.Validate(d) == nil {
		t.Error("null for optional breed accepted with null type validation off")
	}
	if err := on.Validate(d); err != nil {
		t.Errorf("null for optional breed rejected with null type validation on: %v", err)
	}
	// Required fields are never nullable.
	got := violations(t, on, doc(t, `{"name": null}`))
	want := []string{"name: Invalid type. Expected: bsonType: string, given: null"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		schema string
		path   string
		reason string
	}{
		{`[]`, "", "a schema must be a JSON object"},
		{`{"a":`, "", "schema is not valid JSON"},
		{`{"bsonType": "string"}`, "bsonType", `the root schema must have bsonType "object"`},
		{`{"type": "array"}`, "type", `the root schema must have type "object"`},
		{`{"bsonType": ["object", "null"]}`, "bsonType", `the root schema must have bsonType "object"`},
		{`{"properties": {"a": {"bsonType": "objectID"}}}`, "properties.a.bsonType", "Unknown type name alias: objectID"},
		{`{"properties": {"a": {"type": "integer"}}}`, "properties.a.type", "$jsonSchema type 'integer' is not currently supported."},
		{`{"properties": {"a": {"type": "string", "bsonType": "string"}}}`, "properties.a.type", "Cannot specify both $jsonSchema keywords 'type' and 'bsonType'"},
		{`{"properties": {"a": {"bsonType": "int", "minimun": 1}}}`, "properties.a.minimun", "Unknown $jsonSchema keyword: minimun"},
		{`{"properties": {"a": {"items": [{"bsonType": "int"}, {"maxLength": -1}]}}}`, "properties.a.items.1.maxLength", "$jsonSchema keyword 'maxLength' must be a non-negative integer"},
		{`{"properties": {"a": {"pattern": "("}}}`, "properties.a.pattern", ""},
		{`{"required": "a"}`, "required", "$jsonSchema keyword 'required' must be an array"},
		{`{"properties": {"a": 1}}`, "properties.a", "$jsonSchema keyword 'properties' must be an object"},
		{`{"$ref": "#/definitions/x"}`, "$ref", "$jsonSchema keyword '$ref' is not currently supported"},
		{`{"title": 5}`, "title", "$jsonSchema keyword 'title' must be a string"},
		{`{"properties": {"a": {"exclusiveMinimum": true}}}`, "properties.a.exclusiveMinimum", "$jsonSchema keyword 'minimum' must be a present if exclusiveMinimum is present"},
		{`{"if": {}, "then": 1}`, "then", "$jsonSchema keyword 'then' must be an object"},
	}
	for _, c := range cases {
		_, err := Compile([]byte(c.schema), Options{})
		var se *SchemaError
		if !errors.As(err, &se) || !errors.Is(err, ErrInvalidSchema) {
			t.Errorf("%s: got %v, want *SchemaError", c.schema, err)
			continue
		}
		if se.Path != c.path || (c.reason != "" && se.Reason != c.reason) {
			t.Errorf("%s: got path %q reason %q, want %q %q", c.schema, se.Path, se.Reason, c.path, c.reason)
		}
	}
}

func TestRootType(t *testing.T) {
	for _, s := range []string{`{}`, `{"type": "object"}`, `{"bsonType": "object", "title": "X"}`} {
		if _, err := Compile([]byte(s), Options{}); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestValidationErrorForm(t *testing.T) {
	s, err := Compile([]byte(`{"title": "Task", "required": ["name"], "properties": {"n": {"bsonType": "int"}}}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Title() != "Task" {
		t.Errorf("Title = %q", s.Title())
	}
	err = s.Validate(doc(t, `{"n": "x"}`))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	if ve.ErrorCode() != "SchemaValidationFailedWrite" {
		t.Errorf("ErrorCode = %q", ve.ErrorCode())
	}
	want := "could not validate document:\n\t(root): name is required\n\tn: Invalid type. Expected: bsonType: int, given: string"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if ve.Violations[0].Keyword != "required" || ve.Violations[1].Path != "n" {
		t.Errorf("violations %+v", ve.Violations)
	}
	if !strings.Contains(err.Error(), "(root)") {
		t.Error("root path not rendered as (root)")
	}
}

// TestConcurrentValidate exercises one compiled schema from several
// goroutines (meaningful under -race).
func TestConcurrentValidate(t *testing.T) {
	s, err := Compile([]byte(`{"required": ["a"], "properties": {"a": {"bsonType": "int"}, "l": {"items": {"bsonType": "string"}}}}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	good, bad := doc(t, `{"a": 1, "l": ["x"]}`), doc(t, `{"l": [1, "x", 2]}`)
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			ok := true
			for i := 0; i < 200; i++ {
				ok = ok && s.Validate(good) == nil
				var ve *ValidationError
				ok = ok && errors.As(s.Validate(bad), &ve) && len(ve.Violations) == 3
			}
			done <- ok
		}()
	}
	for g := 0; g < 4; g++ {
		if !<-done {
			t.Error("concurrent validation gave a wrong answer")
		}
	}
}
