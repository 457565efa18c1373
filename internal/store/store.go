// Package store defines Atoll's storage interface: a narrow, driver-shaped
// view of a MongoDB deployment. Two implementations exist — the embedded
// engine (store/embedded, the default) and a real MongoDB deployment
// (store/mongo) — and one conformance suite (store/storetest) holds them to
// the same behaviour.
//
// Documents, filters, updates and pipelines are bson.D values (nested
// documents bson.D, arrays bson.A), as in package mql. Errors carry
// MongoDB's numeric codes (*Error); a missing document from FindOne and the
// FindOneAnd* methods is ErrNoDocuments.
//
// Transactions are scoped by context: operations given the context that
// WithTransaction passes to its function take part in the transaction.
package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Store is one storage deployment.
type Store interface {
	// ListDatabases returns the names of the databases that hold at least
	// one collection, sorted.
	ListDatabases(ctx context.Context) ([]string, error)
	// Database returns a handle; it does not create anything.
	Database(name string) Database
	// WithTransaction runs fn in a multi-document transaction, committing
	// when fn returns nil and aborting otherwise. Operations that use the
	// context passed to fn take part in the transaction. Backends without
	// transactions return an *Error with CodeIllegalOperation.
	WithTransaction(ctx context.Context, fn func(ctx context.Context) error) error
	// Capabilities reports what this deployment supports.
	Capabilities() Capabilities
	// Close releases the store; pending writes are durable when it returns.
	Close(ctx context.Context) error
}

// Capabilities are the optional features of a deployment.
type Capabilities struct {
	ChangeStreams bool
	Transactions  bool
}

// Database is a handle on one database.
type Database interface {
	Name() string
	// ListCollections returns the collection names, sorted.
	ListCollections(ctx context.Context) ([]string, error)
	// CreateCollection creates a collection explicitly (collections are
	// also created implicitly by the first write). Creating one that exists
	// is an *Error with CodeNamespaceExists.
	CreateCollection(ctx context.Context, name string, opts CreateCollectionOptions) error
	Collection(name string) Collection
	// Drop removes the database and all its collections.
	Drop(ctx context.Context) error
	// Watch opens a change stream over every collection of the database.
	Watch(ctx context.Context, pipeline []bson.D, opts WatchOptions) (ChangeStream, error)
}

// CreateCollectionOptions are the options of CreateCollection.
type CreateCollectionOptions struct {
	// ChangeStreamPreAndPostImages stores the before-image of every update,
	// replace and delete so that change streams can report
	// fullDocumentBeforeChange.
	ChangeStreamPreAndPostImages bool
}

// Collection is a handle on one collection. Writes to a collection that
// does not exist create it.
type Collection interface {
	Database() string
	Name() string

	InsertOne(ctx context.Context, doc bson.D) (*InsertOneResult, error)
	// InsertMany inserts docs. Ordered (the default) stops at the first
	// failure; unordered tries every document. Failures are reported as a
	// *BulkWriteError listing each failed index; documents before (ordered)
	// or besides (unordered) the failures stay inserted.
	InsertMany(ctx context.Context, docs []bson.D, opts InsertManyOptions) (*InsertManyResult, error)

	Find(ctx context.Context, filter bson.D, opts FindOptions) (Cursor, error)
	// FindOne returns the first document Find would return, or
	// ErrNoDocuments.
	FindOne(ctx context.Context, filter bson.D, opts FindOptions) (bson.D, error)
	CountDocuments(ctx context.Context, filter bson.D, opts CountOptions) (int64, error)
	// Distinct returns the distinct values of field (a dotted path; array
	// values contribute their elements) among matching documents, in
	// mql.Compare order.
	Distinct(ctx context.Context, field string, filter bson.D) (bson.A, error)

	UpdateOne(ctx context.Context, filter, update bson.D, opts UpdateOptions) (*UpdateResult, error)
	UpdateMany(ctx context.Context, filter, update bson.D, opts UpdateOptions) (*UpdateResult, error)
	ReplaceOne(ctx context.Context, filter, replacement bson.D, opts UpdateOptions) (*UpdateResult, error)
	DeleteOne(ctx context.Context, filter bson.D) (*DeleteResult, error)
	DeleteMany(ctx context.Context, filter bson.D) (*DeleteResult, error)

	// The FindOneAnd* methods modify the first document (by opts.Sort) that
	// matches and return it before or after the change (opts.ReturnAfter),
	// projected by opts.Projection, or ErrNoDocuments.
	FindOneAndUpdate(ctx context.Context, filter, update bson.D, opts FindOneAndModifyOptions) (bson.D, error)
	FindOneAndReplace(ctx context.Context, filter, replacement bson.D, opts FindOneAndModifyOptions) (bson.D, error)
	FindOneAndDelete(ctx context.Context, filter bson.D, opts FindOneAndModifyOptions) (bson.D, error)

	Aggregate(ctx context.Context, pipeline []bson.D, opts AggregateOptions) (Cursor, error)

	// CreateIndex creates an index and returns its name. Creating an index
	// identical to an existing one is a no-op.
	CreateIndex(ctx context.Context, index IndexModel) (string, error)
	// ListIndexes lists the indexes, the _id index first.
	ListIndexes(ctx context.Context) ([]IndexModel, error)
	DropIndex(ctx context.Context, name string) error

	// Watch opens a change stream over this collection.
	Watch(ctx context.Context, pipeline []bson.D, opts WatchOptions) (ChangeStream, error)
	// Drop removes the collection and its indexes; dropping a collection
	// that does not exist is not an error.
	Drop(ctx context.Context) error
}

// InsertManyOptions are the options of InsertMany.
type InsertManyOptions struct {
	// Unordered continues after a failed document. The default is ordered.
	Unordered bool
}

// FindOptions are the options of Find and FindOne.
type FindOptions struct {
	Sort       bson.D
	Projection bson.D
	Skip       int64
	Limit      int64 // 0: no limit
	BatchSize  int32
}

// CountOptions are the options of CountDocuments.
type CountOptions struct {
	Skip  int64
	Limit int64 // 0: no limit
}

// UpdateOptions are the options of UpdateOne, UpdateMany and ReplaceOne.
type UpdateOptions struct {
	Upsert       bool
	ArrayFilters []bson.D // not for ReplaceOne
}

// FindOneAndModifyOptions are the options of the FindOneAnd* methods.
type FindOneAndModifyOptions struct {
	Sort         bson.D
	Projection   bson.D
	Upsert       bool // not for FindOneAndDelete
	ReturnAfter  bool // return the document after the change (not for FindOneAndDelete)
	ArrayFilters []bson.D
}

// AggregateOptions are the options of Aggregate.
type AggregateOptions struct {
	BatchSize int32
}

// IndexModel describes an index.
type IndexModel struct {
	Name string
	// Keys are the indexed paths with 1 (ascending) or -1 (descending).
	Keys                    bson.D
	Unique                  bool
	PartialFilterExpression bson.D
}

// InsertOneResult is the result of InsertOne.
type InsertOneResult struct {
	InsertedID any
}

// InsertManyResult is the result of InsertMany: the _id of every document
// that was inserted, in input order.
type InsertManyResult struct {
	InsertedIDs []any
}

// UpdateResult is the result of an update or replace.
type UpdateResult struct {
	MatchedCount  int64
	ModifiedCount int64
	UpsertedCount int64
	UpsertedID    any // nil unless a document was upserted
}

// DeleteResult is the result of a delete.
type DeleteResult struct {
	DeletedCount int64
}

// Cursor iterates over query results. It is not safe for concurrent use.
type Cursor interface {
	// Next advances to the next document, reporting false at the end or on
	// error (see Err).
	Next(ctx context.Context) bool
	// Doc is the current document; it stays valid after Next.
	Doc() bson.D
	Err() error
	Close(ctx context.Context) error
}

// All drains a cursor and closes it.
func All(ctx context.Context, c Cursor) ([]bson.D, error) {
	defer c.Close(ctx)
	var out []bson.D
	for c.Next(ctx) {
		out = append(out, c.Doc())
	}
	return out, c.Err()
}

// WatchOptions are the options of a change stream.
type WatchOptions struct {
	// FullDocument is "" or "default" (inserts and replaces only),
	// "updateLookup" (updates carry the current document), "whenAvailable"
	// or "required".
	FullDocument string
	// FullDocumentBeforeChange is "" or "off", "whenAvailable" or
	// "required"; it needs a collection created with
	// ChangeStreamPreAndPostImages.
	FullDocumentBeforeChange string
	// ResumeAfter resumes after the event with this resume token.
	ResumeAfter bson.D
	// StartAfter is like ResumeAfter but may follow an invalidate event.
	StartAfter bson.D
	// StartAtOperationTime starts at the first event at or after this
	// cluster time.
	StartAtOperationTime *bson.Timestamp
	// MaxAwaitTime bounds how long one Next waits for an event before
	// returning false with no error; zero waits until ctx ends.
	MaxAwaitTime time.Duration
	BatchSize    int32
}

// ChangeStream iterates over change events. Events are bson.D documents in
// MongoDB's shape: _id (the resume token), operationType, clusterTime,
// wallTime, ns {db, coll}, documentKey, fullDocument,
// fullDocumentBeforeChange, updateDescription {updatedFields,
// removedFields, truncatedArrays}.
type ChangeStream interface {
	// Next waits for the next event. It returns false when ctx ends, when
	// MaxAwaitTime passes without an event (Err is nil), or on error.
	Next(ctx context.Context) bool
	// Event is the current event.
	Event() bson.D
	// ResumeToken is the token to resume after the current event (or the
	// stream's position when no event has been returned yet).
	ResumeToken() bson.D
	Err() error
	Close(ctx context.Context) error
}
