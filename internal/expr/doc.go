// Package expr implements the App Services rule expression language: the
// JSON objects and booleans that appear in apply_when, document_filters,
// read/write/insert/delete, field rules, filter apply_when and sync
// permissions, and the expansions inside filter queries.
//
// The life of an expression follows the performance plan: it is parsed once
// per config version (Parse, ParseJSON), so that a typo in an operator or an
// expansion fails at load time with a path and a reason; the per-request
// values are converted once (Bind gives an Env); the expression is then
// specialised to that Env (Expr.Bind gives a Bound, computing every part
// that does not read the document, %function calls included) and decided
// for each document by walking only the document (Bound.Eval, no
// allocations on the common paths). Expr.Eval does the same without the
// specialisation step, for one-off decisions.
//
// Expr.Compile translates an expression for one Env into a MongoDB filter
// so that the database does the work and indexes apply. The two back ends
// must agree, and the contract is one-sided on purpose: a compiled filter
// may match MORE documents than Eval accepts (Compiled.Exact is then false
// and Reason says why), never fewer, because the rules engine runs the
// per-document decision after the query for non-sync requests. A caller
// that cannot post-filter (sync document filters) must insist on Exact.
// TestCompiledAgreesWithEval* hold the two together through mql's matcher.
//
// Query is the other kind of rule text: a filter's `query`, which is a
// MongoDB filter in the full query language with expansions in its values.
// It is expanded, not evaluated.
//
// Semantics follow spec §5 (rules-and-config.md). Where the spec leaves a
// choice open, the choice is written next to the code that makes it and
// held by a named test; the notable ones: a scalar compared with an array
// is membership (§5.3, the Manager role), paths through arrays follow
// MongoDB exactly, a missing right-hand side equals nothing (not even null),
// and an evaluation error (a throwing %function) denies.
//
// The package is a leaf: it imports only the standard library, the driver's
// bson package and internal/mql for MongoDB's value order and equality, so
// that "equal" means the same thing here as in the query engine.
package expr
