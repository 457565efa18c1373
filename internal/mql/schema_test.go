package mql

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestSchemaValidateAgreesWithMatches holds the two evaluation modes
// together: over every $jsonSchema case of the match golden file,
// Validate reports no violation exactly when Matches is true.
func TestSchemaValidateAgreesWithMatches(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "match", "jsonschema.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "//") {
			continue
		}
		c := ejson(t, text)
		filter, _ := Get(c, "filter").(bson.D)
		sd, ok := Get(filter, "$jsonSchema").(bson.D)
		if !ok || len(filter) != 1 {
			continue
		}
		s, err := CompileSchema(sd, SchemaOptions{})
		if err != nil {
			continue
		}
		doc, _ := Get(c, "doc").(bson.D)
		vs := s.Validate(doc)
		if s.Matches(doc) != (len(vs) == 0) {
			t.Errorf("%s: Matches=%v but Validate=%v", text, s.Matches(doc), vs)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d schema cases found", n)
	}
}

func TestSchemaValidateReportsEveryViolation(t *testing.T) {
	s, err := CompileSchema(ejson(t, `{
		"required": ["a", "z"],
		"properties": {
			"a": {"bsonType": "int", "minimum": 5},
			"b": {"bsonType": "object", "properties": {"c": {"bsonType": "string", "maxLength": 2}}},
			"l": {"items": {"bsonType": "string"}}
		},
		"additionalProperties": false
	}`), SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Validate(ejson(t, `{"a": 3, "b": {"c": "long"}, "l": ["x", 1, "y", true], "extra": 1}`))
	want := []SchemaViolation{
		{Path: "", Keyword: "required", Reason: "z is required"},
		{Path: "a", Keyword: "minimum", Reason: "Must be greater than or equal to 5"},
		{Path: "b.c", Keyword: "maxLength", Reason: "String length must be less than or equal to 2"},
		{Path: "l.1", Keyword: "bsonType", Reason: "Invalid type. Expected: bsonType: string, given: int"},
		{Path: "l.3", Keyword: "bsonType", Reason: "Invalid type. Expected: bsonType: string, given: bool"},
		{Path: "", Keyword: "additionalProperties", Reason: "Additional property extra is not allowed"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func TestSchemaCompileErrorPath(t *testing.T) {
	_, err := CompileSchema(ejson(t, `{"properties": {"a": {"items": [{}, {"minimum": "x"}]}}}`), SchemaOptions{})
	var se *SchemaCompileError
	if !errors.As(err, &se) || se.Path != "properties.a.items.1.minimum" || se.Err.Code != CodeTypeMismatch {
		t.Fatalf("got %#v", err)
	}
}

func TestSchemaOptions(t *testing.T) {
	sd := ejson(t, `{"required": ["r"], "properties": {"r": {"bsonType": "string"}, "o": {"bsonType": "string"}, "u": {"bsonType": "uuid"}}, "const": 1}`)
	if _, err := CompileSchema(sd, SchemaOptions{}); err == nil {
		t.Fatal("MongoDB dialect accepted const and uuid")
	}
	isUUID := func(v any) bool { b, ok := v.(bson.Binary); return ok && b.Subtype == 4 }
	s, err := CompileSchema(ejson(t, `{"required": ["r"], "properties": {"r": {"bsonType": "string"}, "o": {"bsonType": "string"}, "u": {"bsonType": "uuid"}}}`),
		SchemaOptions{Types: map[string]func(any) bool{"uuid": isUUID}, NullableOptional: true, Draft7: true})
	if err != nil {
		t.Fatal(err)
	}
	if vs := s.Validate(bson.D{{Key: "r", Value: "x"}, {Key: "o", Value: nil}, {Key: "u", Value: bson.Binary{Subtype: 4, Data: make([]byte, 16)}}}); len(vs) != 0 {
		t.Errorf("valid document rejected: %v", vs)
	}
	if vs := s.Validate(bson.D{{Key: "r", Value: nil}, {Key: "u", Value: bson.Binary{Subtype: 0}}}); len(vs) != 2 {
		t.Errorf("want a violation for required null r and for non-uuid u, got %v", vs)
	}
}
