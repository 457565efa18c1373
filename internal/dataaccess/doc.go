// Package dataaccess is the one choke point through which every non-system
// caller reaches application data: the client API's `mongodb-atlas`
// service, functions running as a user, and later GraphQL, the Data API and
// sync. System callers (functions running as system) go through it too, so
// that there is one path, but bypass rules and schemas (§4.1 step 1).
//
// An Access is built from the loaded app (data sources, per-collection
// rules and schemas) and a store. The compiled configuration is an
// immutable snapshot swapped atomically by Reload, so a request always sees
// one config version from start to end.
//
// Per request, Access.Collection resolves service/database/collection
// (unknown ones fail with the App Services errors) and binds the caller's
// rules view once. Reads check the client's filter, sort and projection,
// push the rules filter into the store query, decide and redact every
// returned document and apply the client projection to what is left.
// Writes compute each document's post-image in memory (package mql), check
// it against the rules (pre- and post-image) and the collection schema for
// every affected document first, and only then commit, each document with
// a guarded write that fails when the stored document changed since it was
// read (see write.go for the concurrency argument). Aggregations run the
// rules filter as the first $match in the store, redact the documents, and
// run the rest of the pipeline in memory over the redacted stream, with
// $lookup/$unionWith reading foreign collections under their own rules.
// Watch fans one change feed per database out to subscribers, each event
// decided and redacted like a read.
//
// Multi-document transactions (transaction.go) are scoped by context, as in
// package store: operations given a transaction's context take part in it
// and still pass the caller's rules. WithTransaction and BeginTransaction
// never nest; inside a transaction a write's own commit joins it.
package dataaccess
