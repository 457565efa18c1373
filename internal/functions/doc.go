// Package functions runs an app's JavaScript functions on goja: the
// sources of functions/ compiled once per config version, a pool of warm
// runtimes reused across calls (with the global object restored after each
// call so that nothing one call sets is seen by the next), the App Services
// globals (context, utils, BSON, EJSON, console) and the run-as modes of
// the manifest. Data access from functions goes through internal/dataaccess
// with the execution identity, so rules apply to application functions and
// are bypassed for system ones.
//
// Values cross between Go and JavaScript in BSON terms: documents (bson.D),
// arrays (bson.A) and driver scalars on the Go side; ObjectId, Long,
// Decimal128, Binary, Timestamp, regular expressions, MinKey and MaxKey
// become BSON.* objects in JavaScript, dates become Date, Int32 and Double
// become numbers. See convert.go for the exact mapping.
package functions
