package clientapi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/server/apierror"
)

// The MongoDB service of a data source over `functions/call`
// (client-protocol §5): every collection method of realm-web's remote
// MongoDB client arrives as a call named after the method, with one
// argument document. This file decodes those documents (with the SDK's
// quirks), runs the operation through internal/dataaccess as the calling
// user, and returns the result in the shape the SDK expects.

// serviceOp is one operation's handler and the argument keys it accepts.
type serviceOp struct {
	keys []string
	run  func(ctx context.Context, c *dataaccess.Collection, args *serviceArgs) (any, error)
}

// serviceOps are the operations realm-web sends. Unknown argument keys are
// refused rather than ignored: an ignored option (a collation, a hint, a
// write concern) would silently change what the client asked for.
var serviceOps = map[string]serviceOp{
	"find": {
		keys: []string{"query", "project", "projection", "sort", "limit", "skip"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			docs, err := c.Find(ctx, a.filter, dataaccess.FindOptions{Projection: a.projection, Sort: a.sort, Limit: a.limit, Skip: a.skip})
			if err != nil {
				return nil, err
			}
			out := make(bson.A, len(docs))
			for i, d := range docs {
				out[i] = d
			}
			return out, nil
		},
	},
	"findOne": {
		keys: []string{"query", "project", "projection", "sort", "skip"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			return nilIfEmpty(c.FindOne(ctx, a.filter, dataaccess.FindOptions{Projection: a.projection, Sort: a.sort, Skip: a.skip}))
		},
	},
	"count": {
		keys: []string{"query", "limit", "skip"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			n, err := c.Count(ctx, a.filter, dataaccess.CountOptions{Limit: a.limit, Skip: a.skip})
			if err != nil {
				return nil, err
			}
			return n, nil
		},
	},
	"aggregate": {
		keys: []string{"pipeline"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			docs, err := c.Aggregate(ctx, a.pipeline)
			if err != nil {
				return nil, err
			}
			out := make(bson.A, len(docs))
			for i, d := range docs {
				out[i] = d
			}
			return out, nil
		},
	},
	"insertOne": {
		keys: []string{"document"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			return resultDocument(c.InsertOne(ctx, a.document))
		},
	},
	"insertMany": {
		keys: []string{"documents"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			return resultDocument(c.InsertMany(ctx, a.documents))
		},
	},
	"updateOne": {
		keys: []string{"query", "update", "upsert", "arrayFilters"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			opts := dataaccess.UpdateOptions{Upsert: a.upsert, ArrayFilters: a.arrayFilters}
			var (
				r   *dataaccess.UpdateResult
				err error
			)
			// An operator-less update is a replacement, as in MongoDB's
			// own updateOne (client-protocol §5, open question 4).
			if isReplacement(a.update) {
				r, err = c.ReplaceOne(ctx, a.filter, a.update, opts)
			} else {
				r, err = c.UpdateOne(ctx, a.filter, a.update, opts)
			}
			return resultDocument(r, err)
		},
	},
	"updateMany": {
		keys: []string{"query", "update", "upsert", "arrayFilters"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			update := a.update
			// MongoDB refuses replacements in multi-updates; App Services
			// treats an operator-less document as the fields to set
			// (realm-web's updateMany test expects 3 of 3 modified).
			if isReplacement(update) {
				update = bson.D{{Key: "$set", Value: update}}
			}
			return resultDocument(c.UpdateMany(ctx, a.filter, update, dataaccess.UpdateOptions{Upsert: a.upsert, ArrayFilters: a.arrayFilters}))
		},
	},
	"deleteOne": {
		keys: []string{"query"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			return resultDocument(c.DeleteOne(ctx, a.filter))
		},
	},
	"deleteMany": {
		keys: []string{"query"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			return resultDocument(c.DeleteMany(ctx, a.filter))
		},
	},
	"findOneAndUpdate": {
		keys: []string{"filter", "query", "update", "sort", "projection", "project", "upsert", "returnNewDocument", "arrayFilters"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			if !a.hasUpdate {
				return nil, missingParam("update")
			}
			opts := a.modifyOptions()
			// findAndModify treats an operator-less update as a
			// replacement; realm-web's test expects exactly the new
			// fields back.
			if isReplacement(a.update) {
				return nilIfEmpty(c.FindOneAndReplace(ctx, a.filter, a.update, opts))
			}
			return nilIfEmpty(c.FindOneAndUpdate(ctx, a.filter, a.update, opts))
		},
	},
	"findOneAndReplace": {
		keys: []string{"filter", "query", "update", "replacement", "sort", "projection", "project", "upsert", "returnNewDocument"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			opts := a.modifyOptions()
			if !a.hasUpdate {
				// realm-web's findOneAndDelete sends findOneAndReplace
				// without a replacement (realm-js #6497). The caller
				// meant a delete, so it runs as one, under delete rules,
				// rather than as a replacement by {} that no rule set with
				// a schema or an owner field would allow.
				if opts.Upsert || opts.ReturnNewDocument {
					return nil, missingParam("update")
				}
				return nilIfEmpty(c.FindOneAndDelete(ctx, a.filter, opts))
			}
			if !isReplacement(a.update) {
				return nil, invalidParam("update", "a replacement document may not contain update operators")
			}
			return nilIfEmpty(c.FindOneAndReplace(ctx, a.filter, a.update, opts))
		},
	},
	"findOneAndDelete": {
		keys: []string{"filter", "query", "sort", "projection", "project"},
		run: func(ctx context.Context, c *dataaccess.Collection, a *serviceArgs) (any, error) {
			return nilIfEmpty(c.FindOneAndDelete(ctx, a.filter, a.modifyOptions()))
		},
	},
}

// nilIfEmpty turns "no document" into a JSON null, never `{}`.
func nilIfEmpty(d bson.D, err error) (any, error) {
	if err != nil || d == nil {
		return nil, err
	}
	return d, nil
}

// isReplacement reports whether an update document has no update
// operators (a replacement, `{}` included). Mixed documents go to the
// update path, which refuses them.
func isReplacement(update bson.D) bool {
	for _, e := range update {
		if strings.HasPrefix(e.Key, "$") {
			return false
		}
	}
	return true
}

// serviceArgs is one decoded argument document.
type serviceArgs struct {
	database, collection string
	filter               bson.D
	projection           bson.D
	sort                 bson.D
	limit, skip          int64
	update               bson.D
	hasUpdate            bool
	upsert               bool
	returnNew            bool
	arrayFilters         []bson.D
	pipeline             []bson.D
	document             bson.D
	documents            []bson.D
}

func (a *serviceArgs) modifyOptions() dataaccess.FindOneAndModifyOptions {
	return dataaccess.FindOneAndModifyOptions{Sort: a.sort, Projection: a.projection, Upsert: a.upsert,
		ReturnNewDocument: a.returnNew, ArrayFilters: a.arrayFilters}
}

func missingParam(key string) *apierror.Error {
	return apierror.New(http.StatusBadRequest, apierror.CodeMissingParameter,
		fmt.Sprintf("expected argument %q", key))
}

func invalidParam(key, why string) *apierror.Error {
	return apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
		fmt.Sprintf("argument %q: %s", key, why))
}

// parseServiceArgs decodes the single argument document of operation op.
func parseServiceArgs(op string, keys []string, args bson.A) (*serviceArgs, *apierror.Error) {
	if len(args) != 1 {
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
			fmt.Sprintf("%s takes exactly one argument document, got %d arguments", op, len(args)))
	}
	doc, ok := args[0].(bson.D)
	if !ok {
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
			fmt.Sprintf("%s takes one argument document", op))
	}
	out := &serviceArgs{}
	allowed := func(k string) bool {
		for _, a := range keys {
			if a == k {
				return true
			}
		}
		return false
	}
	var (
		sawFilter, sawProjection bool
		e                        *apierror.Error
	)
	for _, el := range doc {
		switch k := el.Key; {
		case k == "database" || k == "collection":
			s, ok := el.Value.(string)
			if !ok || s == "" {
				return nil, invalidParam(k, "must be a non-empty string")
			}
			if k == "database" {
				out.database = s
			} else {
				out.collection = s
			}
		case !allowed(k):
			return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
				fmt.Sprintf("%s does not take argument %q", op, truncate(k, 64)))
		case k == "query" || k == "filter":
			// find/count/update*/delete* say query, findOneAnd* say
			// filter; other SDKs mix them, so either is accepted, once.
			if sawFilter {
				return nil, invalidParam(k, "give either query or filter, not both")
			}
			sawFilter = true
			if out.filter, e = optDoc(k, el.Value); e != nil {
				return nil, e
			}
		case k == "project" || k == "projection":
			// realm-web sends project for find/findOne and projection for
			// findOneAnd* (client-protocol §5).
			if sawProjection {
				return nil, invalidParam(k, "give either project or projection, not both")
			}
			sawProjection = true
			if out.projection, e = optDoc(k, el.Value); e != nil {
				return nil, e
			}
		case k == "sort":
			if out.sort, e = optDoc(k, el.Value); e != nil {
				return nil, e
			}
		case k == "limit":
			if out.limit, e = count(k, el.Value); e != nil {
				return nil, e
			}
		case k == "skip":
			if out.skip, e = count(k, el.Value); e != nil {
				return nil, e
			}
			if out.skip < 0 {
				return nil, invalidParam(k, "must not be negative")
			}
		case k == "update" || k == "replacement":
			if out.hasUpdate {
				return nil, invalidParam(k, "give either update or replacement, not both")
			}
			d, ok := el.Value.(bson.D)
			if !ok {
				return nil, invalidParam(k, "must be a document")
			}
			out.update, out.hasUpdate = d, true
		case k == "upsert":
			if out.upsert, e = boolArg(k, el.Value); e != nil {
				return nil, e
			}
		case k == "returnNewDocument":
			if out.returnNew, e = boolArg(k, el.Value); e != nil {
				return nil, e
			}
		case k == "arrayFilters":
			if out.arrayFilters, e = docList(k, el.Value, false); e != nil {
				return nil, e
			}
		case k == "pipeline":
			if out.pipeline, e = docList(k, el.Value, false); e != nil {
				return nil, e
			}
		case k == "document":
			d, ok := el.Value.(bson.D)
			if !ok {
				return nil, invalidParam(k, "must be a document")
			}
			out.document = d
		case k == "documents":
			if out.documents, e = docList(k, el.Value, true); e != nil {
				return nil, e
			}
		}
	}
	switch {
	case out.database == "":
		return nil, missingParam("database")
	case out.collection == "":
		return nil, missingParam("collection")
	}
	if out.filter == nil {
		out.filter = bson.D{}
	}
	switch op {
	case "updateOne", "updateMany":
		if !out.hasUpdate {
			return nil, missingParam("update")
		}
	case "aggregate":
		if out.pipeline == nil {
			return nil, missingParam("pipeline")
		}
	case "insertOne":
		if out.document == nil {
			return nil, missingParam("document")
		}
	case "insertMany":
		if out.documents == nil {
			return nil, missingParam("documents")
		}
	}
	for _, d := range append([]bson.D{out.document}, out.documents...) {
		if k, ok := dollarKey(d, 0); ok {
			return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
				fmt.Sprintf("document field names may not start with '$' (%q)", truncate(k, 64)))
		}
	}
	if out.hasUpdate && isReplacement(out.update) {
		if k, ok := dollarKey(out.update, 0); ok {
			return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
				fmt.Sprintf("document field names may not start with '$' (%q)", truncate(k, 64)))
		}
	}
	return out, nil
}

// dollarKey finds a `$`-prefixed field name at any depth of a document to
// be stored. Such a name is an operator or an Extended JSON wrapper that
// did not decode ({"$where": ...}, {"$oid": 5}); stored, it would turn
// into an operator the next time the document is used as a filter.
func dollarKey(v any, depth int) (string, bool) {
	switch x := v.(type) {
	case bson.D:
		for _, e := range x {
			if strings.HasPrefix(e.Key, "$") {
				return e.Key, true
			}
			if k, ok := dollarKey(e.Value, depth+1); ok {
				return k, true
			}
		}
	case bson.A:
		for _, e := range x {
			if k, ok := dollarKey(e, depth+1); ok {
				return k, true
			}
		}
	}
	return "", false
}

// optDoc is a document argument; null means absent.
func optDoc(key string, v any) (bson.D, *apierror.Error) {
	if v == nil {
		return nil, nil
	}
	d, ok := v.(bson.D)
	if !ok {
		return nil, invalidParam(key, "must be a document")
	}
	return d, nil
}

// docList is an array of documents.
func docList(key string, v any, nonEmpty bool) ([]bson.D, *apierror.Error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, invalidParam(key, "must be an array of documents")
	}
	if nonEmpty && len(arr) == 0 {
		return nil, invalidParam(key, "must not be empty")
	}
	out := make([]bson.D, len(arr))
	for i, x := range arr {
		d, ok := x.(bson.D)
		if !ok {
			return nil, invalidParam(key, "must be an array of documents")
		}
		out[i] = d
	}
	return out, nil
}

// count is a limit or skip: an integral number (int32, int64 or a double
// without fraction). A negative limit means its absolute value, as in
// MongoDB.
func count(key string, v any) (int64, *apierror.Error) {
	var n int64
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int32:
		n = int64(x)
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) || math.Abs(x) > 1<<53 {
			return 0, invalidParam(key, "must be an integer")
		}
		n = int64(x)
	default:
		return 0, invalidParam(key, "must be a number")
	}
	if n < 0 && key == "limit" {
		if n == math.MinInt64 {
			return 0, invalidParam(key, "out of range")
		}
		n = -n
	}
	return n, nil
}

func boolArg(key string, v any) (bool, *apierror.Error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	}
	return false, invalidParam(key, "must be a boolean")
}

func serviceNotFound(name string) *apierror.Error {
	return apierror.New(http.StatusNotFound, "ServiceNotFound",
		fmt.Sprintf("service not found: '%s'", truncate(name, 64)))
}

// callService runs one MongoDB service operation for the caller.
func (a *API) callService(r *http.Request, caller *auth.Caller, call functionRequest) (any, error) {
	if a.data == nil {
		return nil, serviceNotFound(call.service)
	}
	if !a.hasService(call.service) {
		return nil, serviceNotFound(call.service)
	}
	op, ok := serviceOps[call.name]
	if !ok {
		if call.name == "watch" {
			return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
				"watch is a streaming call: use GET .../functions/call?baas_request=...")
		}
		return nil, apierror.New(http.StatusNotFound, "ServiceCommandNotFound",
			fmt.Sprintf("function not found: '%s'", truncate(call.name, 64)))
	}
	args, e := parseServiceArgs(call.name, op.keys, call.args)
	if e != nil {
		return nil, e
	}
	coll, err := a.collection(r, caller, call.service, call.name, args.database, args.collection)
	if err != nil {
		return nil, err
	}
	return op.run(r.Context(), coll, args)
}

// hasService reports whether name is one of the app's MongoDB data sources.
func (a *API) hasService(name string) bool {
	for _, s := range a.data.Services() {
		if s == name {
			return true
		}
	}
	return false
}

// collection binds the caller's rules view on db.coll of service. The
// user record is read for %%user.type, %%user.data and identities,
// through auth's user cache (at most SessionCacheTTL stale for changes
// made by another process; see docs/auth.md).
func (a *API) collection(r *http.Request, caller *auth.Caller, service, action, db, coll string) (*dataaccess.Collection, error) {
	u, err := a.auth.CachedUser(r.Context(), caller.UserID)
	if err != nil {
		return nil, a.authError(r, err)
	}
	req := dataaccess.Request{
		Caller: dataaccess.UserCaller(caller, u),
		HTTP:   requestExpansion(r, service, action),
	}
	if a.ruleFunctions != nil {
		req.Functions = a.ruleFunctions(req.Caller, req.HTTP)
	}
	return a.data.Collection(r.Context(), req, service, db, coll)
}

// requestExpansion is what %%request expands to for a client call.
// Authorization and cookies are left out: rules have no business with
// the bearer token.
func requestExpansion(r *http.Request, service, action string) *expr.Request {
	headers := make(map[string][]string, len(r.Header))
	for k, v := range r.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Cookie":
			continue
		}
		headers[k] = v
	}
	return &expr.Request{
		HTTPMethod:      r.Method,
		HTTPReferrer:    r.Referer(),
		HTTPUserAgent:   r.UserAgent(),
		RawQueryString:  r.URL.RawQuery,
		RemoteIPAddress: clientIP(r),
		RequestHeaders:  headers,
		Service:         service,
		Action:          action,
	}
}

// serviceError maps a dataaccess error to the envelope; nil when err is
// not one of its classified errors (then it is logged as internal).
func serviceError(err error) *apierror.Error {
	de := dataaccess.AsError(err)
	if de == nil || de.Code == dataaccess.CodeInternalServerError {
		return nil
	}
	return apierror.New(de.Status, de.Code, de.Message)
}

// resultDocument answers a write with its client-protocol shape
// ({insertedId}, {matchedCount, modifiedCount}, ...), or its error.
func resultDocument[R interface{ Document() bson.D }](r R, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return r.Document(), nil
}
