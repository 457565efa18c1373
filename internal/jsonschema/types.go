package jsonschema

import "go.mongodb.org/mongo-driver/v2/bson"

// appServicesTypes are the bsonType names App Services accepts beyond
// MongoDB's $type aliases.
var appServicesTypes = map[string]func(v any) bool{
	// uuid is binary subtype 4, the standard UUID representation the
	// SDKs write.
	"uuid": func(v any) bool {
		b, ok := v.(bson.Binary)
		return ok && b.Subtype == bson.TypeBinaryUUID
	},
	// mixed is Realm's any-value type, which cannot hold an embedded
	// object.
	"mixed": func(v any) bool {
		switch v.(type) {
		case bson.D, bson.M:
			return false
		}
		return true
	},
	// binary and function are the admin API's spellings of binData and
	// javascript.
	"binary": func(v any) bool {
		_, ok := v.(bson.Binary)
		return ok
	},
	"function": func(v any) bool {
		switch v.(type) {
		case bson.JavaScript, bson.CodeWithScope:
			return true
		}
		return false
	},
}
