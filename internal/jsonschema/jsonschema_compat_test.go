package jsonschema

// Tests for docs/compat.md entries of the jsonschema package that no other
// test held on its own.

import (
	"reflect"
	"testing"
)

// Extra bsonType names: function is javascript with or without scope.
func TestCompatFunctionBSONType(t *testing.T) {
	s, err := Compile([]byte(`{"properties": {"f": {"bsonType": "function"}}}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{`{"f": {"$code": "function() {}"}}`, `{"f": {"$code": "function() {}", "$scope": {"x": 1}}}`} {
		if got := violations(t, s, doc(t, d)); got != nil {
			t.Errorf("%s: %q", d, got)
		}
	}
	if got := violations(t, s, doc(t, `{"f": "function() {}"}`)); len(got) != 1 {
		t.Errorf("a string passed as a function: %q", got)
	}
}

// Violations are listed in schema keyword order, then document order.
func TestCompatViolationOrder(t *testing.T) {
	s, err := Compile([]byte(`{"required": ["z", "y"], "properties": {"b": {"bsonType": "int"}, "a": {"bsonType": "int"}}}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := violations(t, s, doc(t, `{"a": "x", "b": "x"}`))
	want := []string{
		"(root): z is required",
		"(root): y is required",
		"a: Invalid type. Expected: bsonType: int, given: string",
		"b: Invalid type. Expected: bsonType: int, given: string",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// Duplicate property names inside one properties object: the last wins and
// nothing is reported.
func TestCompatDuplicatePropertyLastWins(t *testing.T) {
	s, err := Compile([]byte(`{"properties": {"a": {"bsonType": "string"}, "a": {"bsonType": "int"}}}`), Options{})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if got := violations(t, s, doc(t, `{"a": 1}`)); got != nil {
		t.Errorf("int refused: %q", got)
	}
	if got := violations(t, s, doc(t, `{"a": "x"}`)); len(got) != 1 {
		t.Errorf("string accepted: %q", got)
	}
}
