package dataaccess

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/rules"
	"github.com/atollhq/atoll/internal/store"
)

// Writes by application users follow one plan (§4.5):
//
//  1. check the request: filter and sort like a read, the update document
//     (rules.CheckUpdateDoc: operators, and which roles hide a path it
//     names);
//  2. select candidates with the write push-down; decide each one's role
//     on the stored document before anything else. Only a document a read
//     would return is a candidate (§4.5 pre-image rule): one the caller
//     cannot see at all is skipped as not matching, for updates, deletes
//     and upserts alike, so whether the selector matched it never shows
//     (rules.ErrNotVisible). rules.CheckUpdateBefore: a role hiding a path
//     the update names refuses the request before the update is applied,
//     so no outcome depends on a hidden value;
//     compute every post-image in memory with mql (Apply, UpsertSeed);
//  3. decide every candidate (CheckUpdate / CheckDelete / CheckInsert) and
//     validate every post-image against the schema; a single refusal fails
//     the request before anything is written;
//  4. commit each document with a guarded write: replace (or delete) by
//     _id AND "the stored document still equals the pre-image we decided
//     on" ($expr {$eq: [$$ROOT, {$literal: pre}]}). If another writer got
//     there first the guard matches nothing; the document is re-read and
//     steps 2–3 run again for it (a bounded number of times). So a decision
//     is never applied to a document other than the one it was made on,
//     without holding a lock across the request and on every backend.
//     When several documents are written and the store has transactions,
//     the commit phase runs in one, so a refusal found on a retry leaves
//     nothing applied; without transactions (FerretDB) documents committed
//     before such a late refusal stay written (docs/compat.md).
//
// System callers bypass rules and schemas: their writes go to the store as
// they are, with MongoDB's own semantics.

// maxWriteRetries bounds how often one document is re-read after a
// concurrent change before the request fails with ErrWriteConflict.
const maxWriteRetries = 8

// errSkip marks a candidate the caller cannot see: it does not match
// (§4.5 pre-image rule), silently.
var errSkip = errors.New("skip")

type opKind uint8

const (
	opUpdate opKind = iota
	opReplace
	opDelete
)

// modifySpec is one update, replace or delete request.
type modifySpec struct {
	kind         opKind
	filter       bson.D
	update       bson.D
	arrayFilters []bson.D
	multi        bool
	upsert       bool
	sort         bson.D
	// targets is what the update names, per role (compileModify).
	targets rules.UpdateTargets
}

// change is one candidate document with its decided post-image.
type change struct {
	pre, post bson.D
	changed   bool
	gone      bool // vanished or became invisible during commit
}

type modifyOutcome struct {
	changes  []change
	upserted bson.D
	matched  int64
	modified int64
}

func isOperatorDoc(d bson.D) bool { return len(d) > 0 && strings.HasPrefix(d[0].Key, "$") }

// checkStoredKeys refuses field names a stored document may not have:
// "$"-prefixed names anywhere (EJSON wrappers such as {"$where": ...} or
// an unparsed {"$oid": ...} are not data) and duplicate names in one
// document, which MongoDB would keep and a later reader would resolve
// differently from the rules engine.
func checkStoredKeys(v any, depth int) error {
	if depth > mql.MaxDepth {
		return mql.Errorf(mql.CodeOverflow, "document nesting exceeds the maximum depth of %d", mql.MaxDepth)
	}
	switch x := v.(type) {
	case bson.D:
		seen := make(map[string]struct{}, len(x))
		for _, e := range x {
			if strings.HasPrefix(e.Key, "$") {
				return newError(CodeInvalidParameter, http.StatusBadRequest, nil, "field name %q may not start with '$'", e.Key)
			}
			if _, dup := seen[e.Key]; dup {
				return newError(CodeInvalidParameter, http.StatusBadRequest, nil, "duplicate field name %q", e.Key)
			}
			seen[e.Key] = struct{}{}
			if err := checkStoredKeys(e.Value, depth+1); err != nil {
				return err
			}
		}
	case bson.A:
		for _, el := range x {
			if err := checkStoredKeys(el, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// withID returns doc with an ObjectId _id first when it has none.
func withID(doc bson.D) bson.D {
	for _, e := range doc {
		if e.Key == "_id" {
			return doc
		}
	}
	out := make(bson.D, 0, len(doc)+1)
	out = append(out, bson.E{Key: "_id", Value: bson.NewObjectID()})
	return append(out, doc...)
}

// validate checks a post-image against the collection schema; the error
// says which operation was refused, as SDKs display it (§7.1).
func (c *Collection) validate(doc bson.D, what error) error {
	if c.schema == nil {
		return nil
	}
	if err := c.schema.Validate(doc); err != nil {
		return &Error{Code: CodeSchemaValidation, Status: http.StatusBadRequest,
			Message: fmt.Sprintf("%s: %s", what.Error(), err.Error()), Err: errors.Join(what, err)}
	}
	return nil
}

// prepareInsert decides one new document.
func (c *Collection) prepareInsert(ctx context.Context, doc bson.D) (bson.D, error) {
	doc = norm(doc)
	if doc == nil {
		doc = bson.D{}
	}
	doc = withID(doc)
	if err := checkStoredKeys(doc, 0); err != nil {
		return nil, AsError(err)
	}
	if err := c.view.CheckInsert(ctx, doc); err != nil {
		return nil, AsError(err)
	}
	if err := c.validate(doc, rules.ErrInsertNotPermitted); err != nil {
		return nil, err
	}
	return doc, nil
}

// InsertOne inserts doc (an ObjectId _id is added when missing) after the
// insert decision and the schema.
func (c *Collection) InsertOne(ctx context.Context, doc bson.D) (*InsertOneResult, error) {
	if c.view.System() {
		doc = withID(doc)
		res, err := c.coll.InsertOne(ctx, doc)
		if err != nil {
			return nil, AsError(err)
		}
		return &InsertOneResult{InsertedID: res.InsertedID}, nil
	}
	d, err := c.prepareInsert(ctx, doc)
	if err != nil {
		return nil, err
	}
	res, err := c.coll.InsertOne(ctx, d)
	if err != nil {
		return nil, AsError(err)
	}
	return &InsertOneResult{InsertedID: res.InsertedID}, nil
}

// InsertMany inserts docs in order; every document is decided and
// validated first, and any refusal refuses the whole request with nothing
// written. A store failure part-way (a duplicate key) leaves the documents
// before it inserted, as MongoDB's ordered insert does.
func (c *Collection) InsertMany(ctx context.Context, docs []bson.D) (*InsertManyResult, error) {
	if len(docs) == 0 {
		return nil, newError(CodeInvalidParameter, http.StatusBadRequest, nil, "insertMany needs at least one document")
	}
	prepared := make([]bson.D, len(docs))
	for i, d := range docs {
		if c.view.System() {
			prepared[i] = withID(d)
			continue
		}
		p, err := c.prepareInsert(ctx, d)
		if err != nil {
			return nil, err
		}
		prepared[i] = p
	}
	res, err := c.coll.InsertMany(ctx, prepared, store.InsertManyOptions{})
	if err != nil {
		return nil, AsError(err)
	}
	return &InsertManyResult{InsertedIDs: res.InsertedIDs}, nil
}

// compileModify checks the request and compiles its update.
func (c *Collection) compileModify(spec *modifySpec) (*mql.Update, *mql.Filter, error) {
	spec.filter, spec.update, spec.sort, spec.arrayFilters = norm(spec.filter), norm(spec.update), norm(spec.sort), normAll(spec.arrayFilters)
	if spec.filter == nil {
		spec.filter = bson.D{}
	}
	vals := []any{spec.filter, spec.update, spec.sort}
	for _, af := range spec.arrayFilters {
		vals = append(vals, af)
	}
	if err := checkInput(vals...); err != nil {
		return nil, nil, err
	}
	if err := c.view.CheckFilter(spec.filter); err != nil {
		return nil, nil, AsError(err)
	}
	if err := c.view.CheckSort(spec.sort); err != nil {
		return nil, nil, AsError(err)
	}
	f, err := mql.CompileFilter(spec.filter)
	if err != nil {
		return nil, nil, AsError(err)
	}
	if spec.kind == opDelete {
		return nil, f, nil
	}
	if spec.update == nil {
		spec.update = bson.D{}
	}
	switch {
	case spec.kind == opReplace && isOperatorDoc(spec.update):
		return nil, nil, newError(CodeMongoDBError, http.StatusBadRequest, nil, "the replacement document must not contain update operators")
	case spec.kind == opUpdate && spec.multi && !isOperatorDoc(spec.update) && len(spec.update) > 0:
		// MongoDB refuses replacements in multi-updates; realm-web's tests
		// send operator-less documents to updateMany and expect $set
		// semantics (client-protocol §5).
		spec.update = bson.D{{Key: "$set", Value: spec.update}}
	}
	if !isOperatorDoc(spec.update) {
		spec.kind = opReplace
		if !c.view.System() {
			if err := checkStoredKeys(spec.update, 0); err != nil {
				return nil, nil, AsError(err)
			}
		}
	}
	targets, err := c.view.CheckUpdateDoc(spec.update, spec.arrayFilters)
	if err != nil {
		return nil, nil, AsError(err)
	}
	spec.targets = targets
	u, err := mql.CompileUpdate(spec.update, mql.UpdateOptions{ArrayFilters: spec.arrayFilters})
	if err != nil {
		return nil, nil, AsError(err)
	}
	return u, f, nil
}

// decide computes and decides the change of one stored document; errSkip
// means the caller cannot see it.
func (c *Collection) decide(ctx context.Context, spec *modifySpec, u *mql.Update, f *mql.Filter, pre bson.D) (change, error) {
	if spec.kind == opDelete {
		if err := c.view.CheckDelete(ctx, pre); err != nil {
			if errors.Is(err, rules.ErrNotVisible) {
				return change{}, errSkip
			}
			return change{}, AsError(err)
		}
		return change{pre: pre}, nil
	}
	// Visibility and the role first, before the update touches the
	// document: a document that shows the caller nothing is skipped (it
	// does not match); under a role that hides a field the update names,
	// the update is refused whatever the document holds, so that no error
	// (a type mismatch), no accepted no-op and no count can reveal a
	// value the caller may not read.
	if err := c.view.CheckUpdateBefore(ctx, pre, spec.targets); err != nil {
		if errors.Is(err, rules.ErrNotVisible) {
			return change{}, errSkip
		}
		return change{}, AsError(err)
	}
	_, pos := f.MatchPosition(pre)
	post, changed, err := u.Apply(pre, mql.ApplyOptions{Position: pos})
	if err != nil {
		return change{}, AsError(err)
	}
	if err := c.view.CheckUpdate(ctx, pre, post); err != nil {
		if errors.Is(err, rules.ErrNotVisible) {
			return change{}, errSkip
		}
		return change{}, AsError(err)
	}
	if changed {
		if err := checkStoredKeys(post, 0); err != nil {
			return change{}, AsError(err)
		}
		if err := c.validate(post, rules.ErrUpdateNotPermitted); err != nil {
			return change{}, err
		}
	}
	return change{pre: pre, post: post, changed: changed}, nil
}

// guard selects the stored document only while it still equals pre.
func (c *Collection) guard(pre bson.D) bson.D {
	if c.a.noExprGuard.Load() {
		return fieldGuard(pre)
	}
	return bson.D{
		{Key: "_id", Value: mql.Get(pre, "_id")},
		{Key: "$expr", Value: bson.D{{Key: "$eq", Value: bson.A{"$$ROOT", bson.D{{Key: "$literal", Value: pre}}}}}},
	}
}

// fieldGuard is the guard for backends without $expr (FerretDB 1.x):
// every top-level field of pre must still be equal. It misses a field
// added concurrently by another writer, which the $expr guard catches.
func fieldGuard(pre bson.D) bson.D {
	out := make(bson.D, 0, len(pre))
	for _, e := range pre {
		out = append(out, bson.E{Key: e.Key, Value: bson.D{{Key: "$eq", Value: e.Value}}})
	}
	return out
}

// exprUnsupported reports whether err says the backend cannot run the
// $expr guard.
func exprUnsupported(err error) bool {
	switch store.ErrorCode(err) {
	case 238, store.CodeCommandNotSupported: // NotImplemented
		return true
	}
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "$expr") || strings.Contains(msg, "not implemented")
}

// modify runs an update, replace or delete for an application user.
func (c *Collection) modify(ctx context.Context, spec *modifySpec) (*modifyOutcome, error) {
	u, f, err := c.compileModify(spec)
	if err != nil {
		return nil, err
	}
	out := &modifyOutcome{}
	cur, err := c.coll.Find(ctx, simplify(c.view.PushDownWrite(spec.filter)), store.FindOptions{Sort: spec.sort})
	if err != nil {
		return nil, AsError(err)
	}
	for cur.Next(ctx) {
		ch, err := c.decide(ctx, spec, u, f, cur.Doc())
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			cur.Close(ctx)
			return nil, err
		}
		out.changes = append(out.changes, ch)
		if !spec.multi {
			break
		}
	}
	err = cur.Err()
	cur.Close(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	if len(out.changes) == 0 && spec.upsert && spec.kind != opDelete {
		doc, err := c.upsertDoc(ctx, spec, u)
		if err != nil {
			return nil, err
		}
		if _, err := c.coll.InsertOne(ctx, doc); err != nil {
			return nil, AsError(err)
		}
		out.upserted = doc
		return out, nil
	}
	commit := func(ctx context.Context) error {
		for i := range out.changes {
			if err := c.commit(ctx, spec, u, f, &out.changes[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if len(out.changes) > 1 && c.a.st.Capabilities().Transactions && !InTransaction(ctx) {
		err = c.a.st.WithTransaction(ctx, commit)
	} else {
		err = commit(ctx)
	}
	if err != nil {
		return nil, AsError(err)
	}
	for _, ch := range out.changes {
		if ch.gone {
			continue
		}
		out.matched++
		if ch.changed || spec.kind == opDelete {
			out.modified++
		}
	}
	return out, nil
}

// upsertDoc builds and decides the document an upsert inserts (§4.5: an
// upsert that inserts is an insert: insert rights, field writes, schema).
// An upsert whose selector matched only documents the caller cannot see
// inserts, as when nothing matched: what it tells the caller is what an
// insertOne of the same document tells (a duplicate key error when its
// _id is taken), never whether a withheld document matched.
func (c *Collection) upsertDoc(ctx context.Context, spec *modifySpec, u *mql.Update) (bson.D, error) {
	seed, err := mql.UpsertSeed(spec.filter)
	if err != nil {
		return nil, AsError(err)
	}
	doc, _, err := u.Apply(seed, mql.ApplyOptions{Position: -1, Insert: true})
	if err != nil {
		return nil, AsError(err)
	}
	doc = withID(doc)
	if err := checkStoredKeys(doc, 0); err != nil {
		return nil, AsError(err)
	}
	if err := c.view.CheckUpsertInsert(ctx, doc); err != nil {
		return nil, AsError(err)
	}
	if err := c.validate(doc, rules.ErrInsertNotPermitted); err != nil {
		return nil, err
	}
	return doc, nil
}

// commit writes one decided change with the pre-image guard, re-reading
// and re-deciding the document when a concurrent writer changed it.
func (c *Collection) commit(ctx context.Context, spec *modifySpec, u *mql.Update, f *mql.Filter, ch *change) error {
	for attempt := 0; ; attempt++ {
		if spec.kind != opDelete && !ch.changed {
			return nil
		}
		var done bool
		if spec.kind == opDelete {
			// Remembered before the delete: the feed may see the event
			// before DeleteOne returns.
			c.a.rememberDeleted(c.db, c.name, ch.pre)
			res, err := c.coll.DeleteOne(ctx, c.guard(ch.pre))
			if exprUnsupported(err) && !c.a.noExprGuard.Swap(true) {
				c.a.log.Info("dataaccess: the store cannot run $expr; guarding writes by field equality")
				continue
			}
			if err != nil {
				return err
			}
			done = res.DeletedCount == 1
		} else {
			var res *store.UpdateResult
			var err error
			if spec.kind == opReplace {
				res, err = c.coll.ReplaceOne(ctx, c.guard(ch.pre), ch.post, store.UpdateOptions{})
			} else {
				// An update is stored as one (the top-level difference), so
				// that change streams report it as an update with its
				// updateDescription, not as a replace.
				res, err = c.coll.UpdateOne(ctx, c.guard(ch.pre), diff(ch.pre, ch.post), store.UpdateOptions{})
			}
			if exprUnsupported(err) && !c.a.noExprGuard.Swap(true) {
				c.a.log.Info("dataaccess: the store cannot run $expr; guarding writes by field equality")
				continue
			}
			if err != nil {
				return err
			}
			done = res.MatchedCount == 1
		}
		if done {
			return nil
		}
		if attempt >= maxWriteRetries {
			return ErrWriteConflict
		}
		id := mql.Get(ch.pre, "_id")
		q := simplify(c.view.PushDownWrite(bson.D{{Key: "$and", Value: bson.A{spec.filter, bson.D{{Key: "_id", Value: id}}}}}))
		doc, err := c.coll.FindOne(ctx, q, store.FindOptions{})
		if errors.Is(err, store.ErrNoDocuments) {
			ch.gone = true
			return nil
		}
		if err != nil {
			return err
		}
		next, err := c.decide(ctx, spec, u, f, doc)
		if errors.Is(err, errSkip) {
			ch.gone = true
			return nil
		}
		if err != nil {
			return err
		}
		*ch = next
	}
}

// diff is the update document turning pre into post at the top level.
func diff(pre, post bson.D) bson.D {
	set, unset := bson.D{}, bson.D{}
	for _, e := range post {
		if before := mql.Get(pre, e.Key); mql.IsMissing(before) || !reflect.DeepEqual(before, e.Value) {
			set = append(set, e)
		}
	}
	for _, e := range pre {
		if mql.IsMissing(mql.Get(post, e.Key)) {
			unset = append(unset, bson.E{Key: e.Key, Value: ""})
		}
	}
	out := bson.D{}
	if len(set) > 0 {
		out = append(out, bson.E{Key: "$set", Value: set})
	}
	if len(unset) > 0 {
		out = append(out, bson.E{Key: "$unset", Value: unset})
	}
	return out
}

// systemUpdate runs a system caller's write on the store unchanged.
func (c *Collection) systemUpdate(ctx context.Context, spec *modifySpec) (*UpdateResult, error) {
	if err := checkInput(spec.filter, spec.update); err != nil {
		return nil, err
	}
	opts := store.UpdateOptions{Upsert: spec.upsert, ArrayFilters: spec.arrayFilters}
	var res *store.UpdateResult
	var err error
	switch {
	case spec.kind == opReplace || !isOperatorDoc(spec.update) && !spec.multi:
		res, err = c.coll.ReplaceOne(ctx, spec.filter, spec.update, opts)
	case !isOperatorDoc(spec.update):
		res, err = c.coll.UpdateMany(ctx, spec.filter, bson.D{{Key: "$set", Value: spec.update}}, opts)
	case spec.multi:
		res, err = c.coll.UpdateMany(ctx, spec.filter, spec.update, opts)
	default:
		res, err = c.coll.UpdateOne(ctx, spec.filter, spec.update, opts)
	}
	if err != nil {
		return nil, AsError(err)
	}
	return &UpdateResult{MatchedCount: res.MatchedCount, ModifiedCount: res.ModifiedCount, UpsertedID: res.UpsertedID}, nil
}

func (c *Collection) update(ctx context.Context, spec *modifySpec) (*UpdateResult, error) {
	if spec.filter == nil {
		spec.filter = bson.D{}
	}
	if c.view.System() {
		return c.systemUpdate(ctx, spec)
	}
	out, err := c.modify(ctx, spec)
	if err != nil {
		return nil, err
	}
	r := &UpdateResult{MatchedCount: out.matched, ModifiedCount: out.modified}
	if out.upserted != nil {
		r.UpsertedID = mql.Get(out.upserted, "_id")
	}
	return r, nil
}

// UpdateOne updates the first visible document matching filter. An
// operator-less update document replaces the document (MongoDB's update
// semantics).
func (c *Collection) UpdateOne(ctx context.Context, filter, update bson.D, opts UpdateOptions) (*UpdateResult, error) {
	return c.update(ctx, &modifySpec{kind: opUpdate, filter: filter, update: update, arrayFilters: opts.ArrayFilters, upsert: opts.Upsert})
}

// UpdateMany updates every visible document matching filter; an
// operator-less update document is applied as $set. If any visible
// document may not be changed so, nothing is.
func (c *Collection) UpdateMany(ctx context.Context, filter, update bson.D, opts UpdateOptions) (*UpdateResult, error) {
	return c.update(ctx, &modifySpec{kind: opUpdate, filter: filter, update: update, arrayFilters: opts.ArrayFilters, upsert: opts.Upsert, multi: true})
}

// ReplaceOne replaces the first visible document matching filter.
func (c *Collection) ReplaceOne(ctx context.Context, filter, replacement bson.D, opts UpdateOptions) (*UpdateResult, error) {
	return c.update(ctx, &modifySpec{kind: opReplace, filter: filter, update: replacement, upsert: opts.Upsert})
}

func (c *Collection) delete(ctx context.Context, filter bson.D, multi bool) (*DeleteResult, error) {
	if filter == nil {
		filter = bson.D{}
	}
	if c.view.System() {
		if err := checkInput(filter); err != nil {
			return nil, err
		}
		var res *store.DeleteResult
		var err error
		if multi {
			res, err = c.coll.DeleteMany(ctx, filter)
		} else {
			res, err = c.coll.DeleteOne(ctx, filter)
		}
		if err != nil {
			return nil, AsError(err)
		}
		return &DeleteResult{DeletedCount: res.DeletedCount}, nil
	}
	out, err := c.modify(ctx, &modifySpec{kind: opDelete, filter: filter, multi: multi})
	if err != nil {
		return nil, err
	}
	return &DeleteResult{DeletedCount: out.modified}, nil
}

// DeleteOne deletes the first visible document matching filter.
func (c *Collection) DeleteOne(ctx context.Context, filter bson.D) (*DeleteResult, error) {
	return c.delete(ctx, filter, false)
}

// DeleteMany deletes every visible document matching filter; if any of
// them may not be deleted, none is.
func (c *Collection) DeleteMany(ctx context.Context, filter bson.D) (*DeleteResult, error) {
	return c.delete(ctx, filter, true)
}

// findOneAnd runs a findOneAnd* request and presents the returned image.
func (c *Collection) findOneAnd(ctx context.Context, spec *modifySpec, opts FindOneAndModifyOptions) (bson.D, error) {
	opts.Projection = norm(opts.Projection)
	if err := c.view.CheckProjection(opts.Projection); err != nil {
		return nil, AsError(err)
	}
	proj, err := clientProjection(opts.Projection)
	if err != nil {
		return nil, err
	}
	if c.view.System() {
		if err := checkInput(spec.filter, spec.update); err != nil {
			return nil, err
		}
		mo := store.FindOneAndModifyOptions{Sort: spec.sort, Projection: opts.Projection, Upsert: spec.upsert,
			ReturnAfter: opts.ReturnNewDocument, ArrayFilters: spec.arrayFilters}
		var doc bson.D
		switch {
		case spec.kind == opDelete:
			doc, err = c.coll.FindOneAndDelete(ctx, spec.filter, mo)
		case spec.kind == opReplace || !isOperatorDoc(spec.update):
			doc, err = c.coll.FindOneAndReplace(ctx, spec.filter, spec.update, mo)
		default:
			doc, err = c.coll.FindOneAndUpdate(ctx, spec.filter, spec.update, mo)
		}
		if errors.Is(err, store.ErrNoDocuments) {
			return nil, nil
		}
		if err != nil {
			return nil, AsError(err)
		}
		return doc, nil
	}
	out, err := c.modify(ctx, spec)
	if err != nil {
		return nil, err
	}
	var img bson.D
	switch {
	case out.upserted != nil:
		if !opts.ReturnNewDocument {
			return nil, nil
		}
		img = out.upserted
	case len(out.changes) == 0 || out.changes[0].gone:
		return nil, nil
	case opts.ReturnNewDocument && spec.kind != opDelete:
		img = out.changes[0].post
	default:
		img = out.changes[0].pre
	}
	var posFilter *mql.Filter
	if proj != nil && proj.UsesPosition() {
		if posFilter, err = mql.CompileFilter(spec.filter); err != nil {
			return nil, AsError(err)
		}
	}
	d, err := c.present(ctx, img, proj, posFilter)
	if err != nil {
		return nil, AsError(err)
	}
	return d, nil
}

// FindOneAndUpdate updates the first visible match (by opts.Sort) and
// returns its pre-image, or post-image with ReturnNewDocument, redacted
// and projected for the caller; nil when nothing matched. An
// operator-less update document replaces (findAndModify semantics).
func (c *Collection) FindOneAndUpdate(ctx context.Context, filter, update bson.D, opts FindOneAndModifyOptions) (bson.D, error) {
	return c.findOneAnd(ctx, &modifySpec{kind: opUpdate, filter: filter, update: update, arrayFilters: opts.ArrayFilters, upsert: opts.Upsert, sort: opts.Sort}, opts)
}

// FindOneAndReplace replaces the first visible match and returns it like
// FindOneAndUpdate. realm-web sends findOneAndDelete as a
// findOneAndReplace without a replacement; App Services then replaces the
// document with an empty one, which is what a nil replacement does here.
func (c *Collection) FindOneAndReplace(ctx context.Context, filter, replacement bson.D, opts FindOneAndModifyOptions) (bson.D, error) {
	if replacement == nil {
		replacement = bson.D{}
	}
	return c.findOneAnd(ctx, &modifySpec{kind: opReplace, filter: filter, update: replacement, upsert: opts.Upsert, sort: opts.Sort}, opts)
}

// FindOneAndDelete deletes the first visible match and returns its
// pre-image, redacted and projected, or nil.
func (c *Collection) FindOneAndDelete(ctx context.Context, filter bson.D, opts FindOneAndModifyOptions) (bson.D, error) {
	return c.findOneAnd(ctx, &modifySpec{kind: opDelete, filter: filter, sort: opts.Sort}, opts)
}
