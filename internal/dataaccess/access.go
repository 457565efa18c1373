package dataaccess

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/jsonschema"
	"github.com/atollhq/atoll/internal/rules"
	"github.com/atollhq/atoll/internal/store"
)

// Caller is who makes a request; it is the rules engine's caller, so that
// what %%user expands to is defined in one place.
type Caller = rules.Caller

// SystemCaller is the caller of functions running as system and of
// server-side code: rules and schemas do not apply.
func SystemCaller() Caller { return Caller{System: true} }

// UserCaller converts a verified access token and, when the HTTP side
// loaded it, the user record (for %%user.data, type and identities) into a
// Caller. u may be nil: %%user.id and custom data then still work.
func UserCaller(c *auth.Caller, u *auth.User) Caller {
	out := Caller{ID: c.UserID, Type: "normal", CustomData: c.CustomData}
	if u != nil {
		out.Type = u.Type
		out.Data = u.Data
		for _, id := range u.Identities {
			out.Identities = append(out.Identities, expr.Identity{ID: id.ID, ProviderType: id.ProviderType})
		}
	}
	return out
}

// Request is one request's caller and the request context rule expressions
// may read (%%request, %function). %%values and %%environment come from
// the app snapshot.
type Request struct {
	Caller Caller
	// HTTP is what %%request expands to; nil when not an HTTP request.
	HTTP *expr.Request
	// Functions runs %function in rule expressions; nil refuses them.
	Functions expr.FunctionCaller
}

// Options configure an Access.
type Options struct {
	// Rules are the rules engine options; nil means rules.DefaultOptions().
	Rules *rules.Options
	// Schema are the schema validation settings.
	Schema jsonschema.Options
	// MaxResults caps the documents one read returns (App Services: 50,000).
	// Zero means 50,000.
	MaxResults int
	// WatchBuffer is how many events a watch subscriber may fall behind
	// before it is dropped. Zero means 256.
	WatchBuffer int
	// Logger receives feed and internal errors; nil means slog.Default().
	Logger *slog.Logger
}

// Access is the data choke point for one app. It is safe for concurrent
// use; Reload swaps the configuration without disturbing running requests.
type Access struct {
	st   store.Store
	opts Options
	log  *slog.Logger
	snap atomic.Pointer[snapshot]

	feedsMu sync.Mutex
	feeds   map[string]*feed // by database
	closed  bool
	wg      sync.WaitGroup
	deleted deletedImages
	// noExprGuard is set once the store refused the $expr write guard.
	noExprGuard atomic.Bool
}

// New compiles app's data sources, rules and schemas and returns an
// Access over st. A rule or schema that does not compile fails here, never
// at request time.
func New(app *appconfig.App, st store.Store, opts Options) (*Access, error) {
	if opts.MaxResults <= 0 {
		opts.MaxResults = 50000
	}
	if opts.WatchBuffer <= 0 {
		opts.WatchBuffer = 256
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	a := &Access{st: st, opts: opts, log: opts.Logger, feeds: map[string]*feed{}}
	if err := a.Reload(app); err != nil {
		return nil, err
	}
	return a, nil
}

// Reload compiles a new config version and swaps it in; requests already
// running finish on the old one. On error the old version stays.
func (a *Access) Reload(app *appconfig.App) error {
	s, err := compile(app, a.opts)
	if err != nil {
		return err
	}
	a.snap.Store(s)
	return nil
}

// Services lists the data source (service) names of the current config.
func (a *Access) Services() []string {
	s := a.snap.Load()
	return append([]string(nil), s.order...)
}

// Collection resolves service/db/coll for req and binds the caller's
// rules view once: an unknown service is ErrServiceNotFound, an invalid
// namespace ErrInvalidNamespace, a namespace without rules
// NoMatchingRuleFound (rules.ErrNoRule), all wrapped in *Error. The
// handle is for this one request.
func (a *Access) Collection(ctx context.Context, req Request, service, db, coll string) (*Collection, error) {
	return a.collection(ctx, req, service, db, coll)
}

// Collection is one request's handle on one namespace: the caller's bound
// rules view plus the store collection. Not for use across requests (the
// rules view is bound to the request's caller and config version).
type Collection struct {
	a      *Access
	snap   *snapshot
	svc    *service
	req    Request
	db     string
	name   string
	view   *rules.View
	schema *jsonschema.Schema
	coll   store.Collection
}

// Namespace is "<db>.<coll>".
func (c *Collection) Namespace() string { return c.db + "." + c.name }

// View is the caller's bound rules view (for Explain and tests).
func (c *Collection) View() *rules.View { return c.view }

// FindOptions are the options of Find and FindOne.
type FindOptions struct {
	// Projection is the client's projection, applied after redaction.
	Projection bson.D
	Sort       bson.D
	Skip       int64
	// Limit: 0 means none (the result cap still applies).
	Limit int64
}

// CountOptions are the options of Count.
type CountOptions struct {
	Skip  int64
	Limit int64 // 0: none
}

// UpdateOptions are the options of UpdateOne, UpdateMany and ReplaceOne.
type UpdateOptions struct {
	Upsert       bool
	ArrayFilters []bson.D
}

// FindOneAndModifyOptions are the options of the FindOneAnd* methods.
type FindOneAndModifyOptions struct {
	Sort       bson.D
	Projection bson.D
	Upsert     bool // not for FindOneAndDelete
	// ReturnNewDocument returns the post-image instead of the pre-image.
	ReturnNewDocument bool
	ArrayFilters      []bson.D
}

// InsertOneResult is the result of InsertOne.
type InsertOneResult struct{ InsertedID any }

// Document is the client-protocol result shape {insertedId}.
func (r *InsertOneResult) Document() bson.D {
	return bson.D{{Key: "insertedId", Value: r.InsertedID}}
}

// InsertManyResult is the result of InsertMany, ids in input order.
type InsertManyResult struct{ InsertedIDs []any }

// Document is the client-protocol result shape {insertedIds: [...]}.
func (r *InsertManyResult) Document() bson.D {
	return bson.D{{Key: "insertedIds", Value: bson.A(r.InsertedIDs)}}
}

// UpdateResult is the result of UpdateOne, UpdateMany and ReplaceOne.
type UpdateResult struct {
	MatchedCount  int64
	ModifiedCount int64
	// UpsertedID is nil unless a document was upserted.
	UpsertedID any
}

// Document is the client-protocol result shape {matchedCount,
// modifiedCount, upsertedId?}: upsertedId is omitted, not null, when
// nothing was upserted (realm-web tests `=== undefined`).
func (r *UpdateResult) Document() bson.D {
	d := bson.D{{Key: "matchedCount", Value: r.MatchedCount}, {Key: "modifiedCount", Value: r.ModifiedCount}}
	if r.UpsertedID != nil {
		d = append(d, bson.E{Key: "upsertedId", Value: r.UpsertedID})
	}
	return d
}

// DeleteResult is the result of DeleteOne and DeleteMany.
type DeleteResult struct{ DeletedCount int64 }

// Document is the client-protocol result shape {deletedCount}.
func (r *DeleteResult) Document() bson.D {
	return bson.D{{Key: "deletedCount", Value: r.DeletedCount}}
}

// Close stops every change feed and drops their subscribers (each sees
// ErrClosed). It does not close the store.
func (a *Access) Close() error {
	a.feedsMu.Lock()
	a.closed = true
	feeds := a.feeds
	a.feeds = map[string]*feed{}
	a.feedsMu.Unlock()
	for _, f := range feeds {
		f.stop()
	}
	a.wg.Wait()
	return nil
}
