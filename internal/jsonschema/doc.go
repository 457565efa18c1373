// Package jsonschema validates documents against App Services collection
// schemas (schema.json): the bsonType dialect of JSON Schema that App
// Services enforces on every non-system write.
//
// The keyword semantics are not implemented here: they live in
// internal/mql (mql.CompileSchema), which also serves MongoDB's
// $jsonSchema query operator, so the two cannot drift apart. This package
// adds what is specific to App Services: reading schema.json, the root
// object rule, the extra bsonType names ("uuid", "mixed", "binary",
// "function"), the draft-7 keywords App Services accepts (const,
// contains, if/then/else, format), the "null type schema validation"
// setting, and errors in the form the data-access layer returns to
// clients (error code SchemaValidationFailedWrite).
//
// Compile once per configuration version; a *Schema is safe for
// concurrent use.
package jsonschema
