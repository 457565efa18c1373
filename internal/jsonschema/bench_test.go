package jsonschema

import (
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// bench20 builds a 20-property schema (mixed types, 10 required, a few
// bounds) and a 20-field document that satisfies it.
func bench20(b *testing.B) (*Schema, bson.D) {
	b.Helper()
	kinds := []struct{ schema, value string }{
		{`{"bsonType": "string", "maxLength": 100}`, `"some text"`},
		{`{"bsonType": "int", "minimum": 0}`, `42`},
		{`{"bsonType": "double", "maximum": 1000}`, `3.5`},
		{`{"bsonType": "objectId"}`, `{"$oid": "5f2c1b2a9d1e8a0001a1b2c3"}`},
		{`{"bsonType": "date"}`, `{"$date": "2024-05-01T10:00:00Z"}`},
		{`{"bsonType": "bool"}`, `true`},
		{`{"bsonType": "array", "items": {"bsonType": "string"}}`, `["a", "b", "c"]`},
		{`{"bsonType": "object", "properties": {"x": {"bsonType": "int"}}}`, `{"x": 1}`},
		{`{"bsonType": "string", "enum": ["a", "b", "c"]}`, `"b"`},
		{`{"bsonType": "long"}`, `{"$numberLong": "7"}`},
	}
	var props, fields, req []string
	for i := 0; i < 20; i++ {
		k := kinds[i%len(kinds)]
		name := fmt.Sprintf("field%02d", i)
		props = append(props, fmt.Sprintf("%q: %s", name, k.schema))
		fields = append(fields, fmt.Sprintf("%q: %s", name, k.value))
		if i%2 == 0 {
			req = append(req, fmt.Sprintf("%q", name))
		}
	}
	schema := `{"title": "Bench", "bsonType": "object", "required": [` + strings.Join(req, ",") + `], "properties": {` + strings.Join(props, ",") + `}}`
	s, err := Compile([]byte(schema), Options{})
	if err != nil {
		b.Fatal(err)
	}
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte("{"+strings.Join(fields, ",")+"}"), false, &d); err != nil {
		b.Fatal(err)
	}
	if len(d) != 20 {
		b.Fatalf("document has %d fields", len(d))
	}
	return s, d
}

// BenchmarkValidate20 validates a valid 20-field document against a
// 20-property schema: the cost added to every schema-checked write.
func BenchmarkValidate20(b *testing.B) {
	s, d := bench20(b)
	if err := s.Validate(d); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if s.Validate(d) != nil {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkValidate20Invalid validates the same document with two fields
// of the wrong type: the refusal path, which formats violations.
func BenchmarkValidate20Invalid(b *testing.B) {
	s, d := bench20(b)
	d = append(bson.D(nil), d...)
	d[0].Value = int32(1)
	d[1].Value = "x"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if s.Validate(d) == nil {
			b.Fatal("valid")
		}
	}
}
