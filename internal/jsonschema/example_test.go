package jsonschema_test

import (
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/jsonschema"
)

func Example() {
	schema, err := jsonschema.Compile([]byte(`{
		"title": "Task",
		"required": ["_id", "_partition", "name", "status"],
		"properties": {
			"_id": {"bsonType": "objectId"},
			"_partition": {"bsonType": "string"},
			"name": {"bsonType": "string"},
			"status": {"bsonType": "string"}
		}
	}`), jsonschema.Options{})
	if err != nil {
		panic(err)
	}
	err = schema.Validate(bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "name", Value: int32(42)}, {Key: "status", Value: "Open"}})
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.ErrorCode())
		for _, v := range ve.Violations {
			fmt.Println(v)
		}
	}
	// Output:
	// SchemaValidationFailedWrite
	// (root): _partition is required
	// name: Invalid type. Expected: bsonType: string, given: int
}
