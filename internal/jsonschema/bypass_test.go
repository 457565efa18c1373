package jsonschema

import (
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestBypassAttempts are documents shaped to slip past a schema; each must
// be refused with the violation named.
func TestBypassAttempts(t *testing.T) {
	s, err := Compile([]byte(`{"required": ["owner_id"], "properties": {"owner_id": {"bsonType": "string"}, "profile": {"bsonType": "object", "properties": {"role": {"enum": ["user"]}}}}, "additionalProperties": {"bsonType": ["string", "int", "objectId", "object"]}}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		doc  bson.D
		want []string
	}{
		{
			// A second owner_id after a valid one: every occurrence is
			// checked, not just the first that a lookup would find.
			"duplicate key", bson.D{{Key: "owner_id", Value: "u1"}, {Key: "owner_id", Value: int32(5)}},
			[]string{"owner_id: Invalid type. Expected: bsonType: string, given: int"},
		},
		{
			// A dotted key is a different field, never the nested one, so
			// it does not satisfy required and is checked as an extra.
			"dotted key is not the nested field", bson.D{{Key: "owner_id", Value: "u1"}, {Key: "profile.role", Value: bson.A{"admin"}}},
			[]string{"profile.role: Invalid type. Expected: bsonType: string, int, objectId, object, given: array"},
		},
		{
			"nested enum", bson.D{{Key: "owner_id", Value: "u1"}, {Key: "profile", Value: bson.D{{Key: "role", Value: "admin"}}}},
			[]string{`profile.role: must be one of the following: "user"`},
		},
		{
			// null is a value, not an absence: required is satisfied but
			// the type is not.
			"null for required", bson.D{{Key: "owner_id", Value: nil}},
			[]string{"owner_id: Invalid type. Expected: bsonType: string, given: null"},
		},
		{
			"required inside an extended JSON lookalike", bson.D{{Key: "$set", Value: bson.D{{Key: "owner_id", Value: "u1"}}}},
			[]string{"(root): owner_id is required"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := violations(t, s, c.doc)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
