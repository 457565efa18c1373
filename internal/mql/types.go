package mql

import "go.mongodb.org/mongo-driver/v2/bson"

// BSON type numbers and aliases, as used by $type and the $type
// aggregation expression.
var typeAliases = map[string]bson.Type{
	"double":              bson.TypeDouble,
	"string":              bson.TypeString,
	"object":              bson.TypeEmbeddedDocument,
	"array":               bson.TypeArray,
	"binData":             bson.TypeBinary,
	"undefined":           bson.TypeUndefined,
	"objectId":            bson.TypeObjectID,
	"bool":                bson.TypeBoolean,
	"date":                bson.TypeDateTime,
	"null":                bson.TypeNull,
	"regex":               bson.TypeRegex,
	"dbPointer":           bson.TypeDBPointer,
	"javascript":          bson.TypeJavaScript,
	"symbol":              bson.TypeSymbol,
	"javascriptWithScope": bson.TypeCodeWithScope,
	"int":                 bson.TypeInt32,
	"timestamp":           bson.TypeTimestamp,
	"long":                bson.TypeInt64,
	"decimal":             bson.TypeDecimal128,
	"minKey":              bson.TypeMinKey,
	"maxKey":              bson.TypeMaxKey,
}

// TypeByAlias returns the BSON type for a $type alias such as "objectId".
// "number" is not a single type and is handled by callers.
func TypeByAlias(alias string) (bson.Type, bool) {
	t, ok := typeAliases[alias]
	return t, ok
}

// TypeOf returns the BSON type of a value. Missing reports type 0 (EOO).
func TypeOf(v any) bson.Type {
	switch v.(type) {
	case float64:
		return bson.TypeDouble
	case string:
		return bson.TypeString
	case bson.D, bson.M:
		return bson.TypeEmbeddedDocument
	case bson.A:
		return bson.TypeArray
	case bson.Binary:
		return bson.TypeBinary
	case bson.Undefined:
		return bson.TypeUndefined
	case bson.ObjectID:
		return bson.TypeObjectID
	case bool:
		return bson.TypeBoolean
	case bson.DateTime:
		return bson.TypeDateTime
	case nil, bson.Null:
		return bson.TypeNull
	case bson.Regex:
		return bson.TypeRegex
	case bson.DBPointer:
		return bson.TypeDBPointer
	case bson.JavaScript:
		return bson.TypeJavaScript
	case bson.Symbol:
		return bson.TypeSymbol
	case bson.CodeWithScope:
		return bson.TypeCodeWithScope
	case int32:
		return bson.TypeInt32
	case bson.Timestamp:
		return bson.TypeTimestamp
	case int64:
		return bson.TypeInt64
	case bson.Decimal128:
		return bson.TypeDecimal128
	case bson.MinKey:
		return bson.TypeMinKey
	case bson.MaxKey:
		return bson.TypeMaxKey
	}
	return 0
}

// TypeName returns the $type alias of v's type ("missing" for Missing), as
// the $type aggregation expression reports it.
func TypeName(v any) string {
	if IsMissing(v) {
		return "missing"
	}
	t := TypeOf(v)
	for name, tt := range typeAliases {
		if tt == t {
			return name
		}
	}
	return "unknown"
}
