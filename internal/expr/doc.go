// Package expr implements the App Services rule expression language: the
// JSON objects and booleans that appear in apply_when, document_filters,
// read/write/insert/delete, field rules, filter apply_when and sync
// permissions.
//
// An expression is parsed once per config version (Parse, ParseJSON), its
// per-request values are bound once per request (Bind produces an Env), and
// it is then either evaluated against each document in memory (Expr.Eval)
// or translated once per request into a MongoDB filter (Expr.Compile) so
// that the database does the work and indexes apply.
//
// The two back ends answer the same question, so they must agree. The
// contract is one-sided on purpose: a compiled filter may match MORE
// documents than Eval accepts (Compiled.Exact is then false and Reason says
// why), never fewer, because the rules engine always runs the per-document
// decision after the query for non-sync requests. A caller that cannot
// post-filter (sync document filters) must insist on Exact.
//
// The package is a leaf: it imports only the standard library, the driver's
// bson package and internal/mql for MongoDB's value order and equality, so
// that "equal" means the same thing here as in the query engine.
package expr
