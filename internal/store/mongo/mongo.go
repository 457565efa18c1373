// Package mongo is the store backend for a real MongoDB deployment, on the
// official Go driver v2. It is deliberately thin: every store method is one
// driver call, results are copied into the store types, and driver errors
// become the same typed errors the embedded engine reports (*store.Error
// with the server's code and message, store.ErrNoDocuments,
// *store.BulkWriteError), so code above the store cannot tell the
// backends apart.
//
// Names and document limits are checked before anything is sent, with the
// same functions the embedded engine uses, so that both backends reject bad
// input with the same error.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

// Store is a store.Store on a MongoDB deployment.
type Store struct {
	client *mongo.Client
	caps   store.Capabilities
	kind   string // "standalone", "replica set" or "sharded cluster", for messages
}

var _ store.Store = (*Store)(nil)

// bsonOptions pins how the driver decodes documents: nested documents as
// bson.D and arrays as bson.A (the driver v2 defaults, set explicitly so a
// driver upgrade cannot silently change the shape of what the store
// returns), binary as bson.Binary and times in UTC.
func bsonOptions() *options.BSONOptions {
	return &options.BSONOptions{
		DefaultDocumentM:    false,
		DefaultDocumentMap:  false,
		BinaryAsSlice:       false,
		ObjectIDAsHexString: false,
		UseLocalTimeZone:    false,
	}
}

// Open connects to the deployment at uri, checks that it answers, and finds
// out whether it can serve change streams and transactions (a replica set
// or a sharded cluster can; a standalone server cannot).
func Open(ctx context.Context, uri string) (*Store, error) {
	opts := options.Client().ApplyURI(uri).SetBSONOptions(bsonOptions())
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("mongodb: invalid uri: %w", err)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("mongodb: connect: %w", err)
	}
	s := &Store{client: client, kind: "standalone"}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("mongodb: ping %s: %w", redact(uri), err)
	}
	var hello bson.D
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("mongodb: hello: %w", err)
	}
	if setName, ok := lookup(hello, "setName").(string); ok && setName != "" {
		s.kind = "replica set"
	} else if msg, _ := lookup(hello, "msg").(string); msg == "isdbgrid" {
		s.kind = "sharded cluster"
	}
	if s.kind != "standalone" {
		s.caps = store.Capabilities{ChangeStreams: true, Transactions: true}
	}
	return s, nil
}

// redact hides the password of a connection string in messages.
func redact(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return "(uri)"
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if user, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
			return scheme + "://" + user + ":***" + rest[at:]
		}
	}
	return uri
}

func lookup(d bson.D, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

// Client is the underlying driver client, for tests and tools that need
// what the store interface does not offer.
func (s *Store) Client() *mongo.Client { return s.client }

// Capabilities implements store.Store.
func (s *Store) Capabilities() store.Capabilities { return s.caps }

// Close implements store.Store.
func (s *Store) Close(ctx context.Context) error {
	return s.client.Disconnect(ctx)
}

// systemDatabases are MongoDB's own databases; they are not application
// data and the embedded engine has no counterpart, so they are not listed.
var systemDatabases = map[string]bool{"admin": true, "local": true, "config": true}

// ListDatabases implements store.Store.
func (s *Store) ListDatabases(ctx context.Context) ([]string, error) {
	names, err := s.client.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		return nil, mapError(err)
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !systemDatabases[n] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Database implements store.Store.
func (s *Store) Database(name string) store.Database {
	return &database{s: s, name: name, db: s.client.Database(name)}
}

// WithTransaction implements store.Store with a driver session: fn gets the
// session context, so store operations given it join the transaction. The
// driver retries fn on transient transaction errors, as MongoDB's
// documentation prescribes; fn must therefore be safe to run again.
func (s *Store) WithTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	if !s.caps.Transactions {
		return mql.Errorf(store.CodeIllegalOperation,
			"Transaction numbers are only allowed on a replica set member or mongos: this MongoDB deployment is a %s, and multi-document transactions need a replica set or a sharded cluster", s.kind)
	}
	sess, err := s.client.StartSession()
	if err != nil {
		return mapError(err)
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	_, err = sess.WithTransaction(ctx, func(sctx context.Context) (any, error) {
		if err := fn(sctx); err != nil {
			return nil, &fnError{err}
		}
		return nil, nil
	})
	var fe *fnError
	if errors.As(err, &fe) {
		// fn's own error (already typed by the store operations, or the
		// caller's) is returned as it is.
		return fe.err
	}
	return mapError(err)
}

// fnError marks the error of a transaction's function, so that it comes
// back unchanged; Unwrap lets the driver see its retry labels.
type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }
func (e *fnError) Unwrap() error { return e.err }

func (s *Store) errNoChangeStreams() error {
	return mql.Errorf(store.CodeChangeStreamNotSupported,
		"The $changeStream stage is only supported on replica sets: this MongoDB deployment is a %s; change streams need a replica set or a sharded cluster", s.kind)
}

type database struct {
	s    *Store
	name string
	db   *mongo.Database
}

func (d *database) Name() string { return d.name }

func (d *database) ListCollections(ctx context.Context) ([]string, error) {
	if err := store.ValidateDatabaseName(d.name); err != nil {
		return nil, err
	}
	names, err := d.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, mapError(err)
	}
	// system.* collections (system.views, system.profile, ...) belong to
	// the server; user collections can never have such names.
	out := names[:0]
	for _, n := range names {
		if !strings.HasPrefix(n, "system.") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (d *database) CreateCollection(ctx context.Context, name string, opts store.CreateCollectionOptions) error {
	if err := validNames(d.name, name); err != nil {
		return err
	}
	o := options.CreateCollection()
	// Pre-images only matter to change streams; a deployment without them
	// is not asked to store any (a standalone server refuses the option).
	if opts.ChangeStreamPreAndPostImages && d.s.caps.ChangeStreams {
		o.SetChangeStreamPreAndPostImages(bson.D{{Key: "enabled", Value: true}})
	}
	return mapError(d.db.CreateCollection(ctx, name, o))
}

func (d *database) Collection(name string) store.Collection {
	return &collection{s: d.s, db: d.name, name: name, coll: d.db.Collection(name)}
}

func (d *database) Drop(ctx context.Context) error {
	if err := store.ValidateDatabaseName(d.name); err != nil {
		return err
	}
	return mapError(d.db.Drop(ctx))
}

func (d *database) Watch(ctx context.Context, pipeline []bson.D, opts store.WatchOptions) (store.ChangeStream, error) {
	if err := store.ValidateDatabaseName(d.name); err != nil {
		return nil, err
	}
	if !d.s.caps.ChangeStreams {
		return nil, d.s.errNoChangeStreams()
	}
	cs, err := newChangeStream(ctx, pipeline, opts, d.db.Watch)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return cs, nil
}

func validNames(db, coll string) error {
	if err := store.ValidateDatabaseName(db); err != nil {
		return err
	}
	return store.ValidateCollectionName(db, coll)
}

// pipelineOf gives the driver a non-nil pipeline (it refuses nil).
func pipelineOf(p []bson.D) mongo.Pipeline {
	if p == nil {
		return mongo.Pipeline{}
	}
	return mongo.Pipeline(p)
}

// filterOf turns a nil filter into the empty filter (the driver refuses
// nil documents).
func filterOf(f bson.D) bson.D {
	if f == nil {
		return bson.D{}
	}
	return f
}

func decode(raw bson.Raw) (bson.D, error) {
	var d bson.D
	if err := bson.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("mongodb: decoding a document: %w", err)
	}
	return d, nil
}
