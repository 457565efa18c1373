// Package mql implements MongoDB's query language over the driver's bson
// types: value comparison in MongoDB's cross-type order, query filters,
// update documents, projections, sorts and aggregation pipelines.
//
// It is a leaf package: it imports nothing from the rest of Atoll. The
// embedded store, the rules engine, change-stream filtering and trigger
// match expressions all share this one implementation, so that a filter
// means the same thing wherever it is evaluated.
//
// Documents are bson.D values whose nested documents are bson.D and whose
// arrays are bson.A, which is what bson.Unmarshal produces for a bson.D
// target. Scalars are the driver's Go types: float64, string, int32, int64,
// bool, nil, bson.ObjectID, bson.DateTime, bson.Decimal128, bson.Binary,
// bson.Timestamp, bson.Regex, bson.MinKey, bson.MaxKey and the deprecated
// types. Normalize converts other shapes (bson.M, []any, Go ints) into this
// form for callers that build values by hand.
//
// Everything is compiled once and applied many times: CompileFilter,
// CompileUpdate, CompileProjection, CompileSort and CompilePipeline parse
// and validate their input and report problems as *Error values carrying
// MongoDB's numeric error codes; the compiled forms are safe for concurrent
// use.
//
// CompileSchema is the one JSON Schema evaluator in Atoll: the $jsonSchema
// query operator uses it as a boolean test, and internal/jsonschema uses
// it, with SchemaOptions for App Services' dialect, to list every
// violation of a document being written.
package mql
