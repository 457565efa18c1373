package embedded

import (
	"context"
	"errors"
	"iter"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

// collection is a handle on one collection.
type collection struct {
	s        *Store
	db, name string
}

var _ store.Collection = (*collection)(nil)

func (c *collection) Database() string { return c.db }
func (c *collection) Name() string     { return c.name }

// Writes.

// insert stores one prepared document with its index entries and oplog
// entry.
// raw is the document's BSON when the caller already encoded it (outside
// the writer goroutine, so that encoding runs in parallel), else nil.
func (w *wtx) insert(m *collMeta, doc bson.D, id any, raw []byte) error {
	if raw == nil {
		var err error
		if raw, err = encodeDoc(doc); err != nil {
			return err
		}
	}
	k := appendKey(nil, id)
	if _, err := w.exec(`INSERT INTO `+m.table()+`(k, doc) VALUES(?, ?)`, k, raw); err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint failed") || strings.Contains(err.Error(), "PRIMARY KEY") {
			return dupKeyError(m.db, m.name, "_id_", []string{"_id"}, []any{id})
		}
		return err
	}
	for _, x := range m.indexes {
		keys, err := indexKeys(x, doc)
		if err != nil {
			return err
		}
		if err := w.addIndexKeys(m, x, k, keys); err != nil {
			return err
		}
	}
	return w.logOp(m.db, m.name, "insert", bson.D{{Key: "dk", Value: bson.D{{Key: "_id", Value: id}}}, {Key: "post", Value: bson.Raw(raw)}})
}

func (w *wtx) addIndexKeys(m *collMeta, x *indexMeta, pk []byte, keys []idxKey) error {
	for _, ik := range keys {
		if x.unique {
			rows, err := w.reader().query(bg, `SELECT pk FROM `+x.table()+` WHERE k = ? AND pk <> ? LIMIT 1`, ik.key, pk)
			if err != nil {
				return err
			}
			dup := rows.Next()
			rows.Close()
			if dup {
				return dupKeyError(m.db, m.name, x.name, x.paths, ik.vals)
			}
		}
		if _, err := w.exec(`INSERT OR IGNORE INTO `+x.table()+`(k, pk) VALUES(?, ?)`, ik.key, pk); err != nil {
			return err
		}
	}
	return nil
}

func (w *wtx) removeIndexKeys(x *indexMeta, pk []byte, keys []idxKey) error {
	for _, ik := range keys {
		if _, err := w.exec(`DELETE FROM `+x.table()+` WHERE k = ? AND pk = ?`, ik.key, pk); err != nil {
			return err
		}
	}
	return nil
}

// replaceDoc rewrites a stored document, keeping its indexes and logging
// the change (op "update" or "replace").
func (w *wtx) replaceDoc(m *collMeta, k []byte, old, doc bson.D, op string) error {
	if err := mql.CheckDepth(doc); err != nil {
		return err
	}
	raw, err := encodeDoc(doc)
	if err != nil {
		return err
	}
	if _, err := w.exec(`UPDATE `+m.table()+` SET doc = ? WHERE k = ?`, raw, k); err != nil {
		return err
	}
	for _, x := range m.indexes {
		oldKeys, err := indexKeys(x, old)
		if err != nil {
			oldKeys = nil
		}
		newKeys, err := indexKeys(x, doc)
		if err != nil {
			return err
		}
		oldSet := map[string]bool{}
		for _, ik := range oldKeys {
			oldSet[string(ik.key)] = true
		}
		newSet := map[string]bool{}
		var added []idxKey
		for _, ik := range newKeys {
			newSet[string(ik.key)] = true
			if !oldSet[string(ik.key)] {
				added = append(added, ik)
			}
		}
		var removed []idxKey
		for _, ik := range oldKeys {
			if !newSet[string(ik.key)] {
				removed = append(removed, ik)
			}
		}
		if err := w.removeIndexKeys(x, k, removed); err != nil {
			return err
		}
		if err := w.addIndexKeys(m, x, k, added); err != nil {
			return err
		}
	}
	entry := bson.D{{Key: "dk", Value: bson.D{{Key: "_id", Value: mql.Get(doc, "_id")}}}}
	if op == "update" {
		entry = append(entry, bson.E{Key: "ud", Value: updateDescription(old, doc)})
		if m.preImages {
			entry = append(entry, bson.E{Key: "post", Value: doc})
		}
	} else {
		entry = append(entry, bson.E{Key: "post", Value: bson.Raw(raw)})
	}
	if m.preImages {
		entry = append(entry, bson.E{Key: "pre", Value: old})
	}
	return w.logOp(m.db, m.name, op, entry)
}

func (w *wtx) deleteDoc(m *collMeta, k []byte, old bson.D) error {
	if _, err := w.exec(`DELETE FROM `+m.table()+` WHERE k = ?`, k); err != nil {
		return err
	}
	for _, x := range m.indexes {
		keys, _ := indexKeys(x, old)
		if err := w.removeIndexKeys(x, k, keys); err != nil {
			return err
		}
	}
	entry := bson.D{{Key: "dk", Value: bson.D{{Key: "_id", Value: mql.Get(old, "_id")}}}}
	if m.preImages {
		entry = append(entry, bson.E{Key: "pre", Value: old})
	}
	return w.logOp(m.db, m.name, "delete", entry)
}

func (c *collection) InsertOne(ctx context.Context, doc bson.D) (*store.InsertOneResult, error) {
	if err := validateNS(c.db, c.name); err != nil {
		return nil, err
	}
	d, id, err := prepareInsert(doc)
	if err != nil {
		return nil, err
	}
	raw, err := encodeDoc(d)
	if err != nil {
		return nil, err
	}
	err = c.s.submit(ctx, func(w *wtx) error {
		m, err := w.collFor(c.db, c.name)
		if err != nil {
			return err
		}
		return w.insert(m, d, id, raw)
	})
	if err != nil {
		return nil, err
	}
	return &store.InsertOneResult{InsertedID: id}, nil
}

// InsertMany inserts in one operation: ordered stops at the first failure
// (what came before stays), unordered tries each document. Each document
// is its own savepoint, so a failed one leaves nothing behind.
func (c *collection) InsertMany(ctx context.Context, docs []bson.D, opts store.InsertManyOptions) (*store.InsertManyResult, error) {
	if err := validateNS(c.db, c.name); err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, mqlErr(mql.CodeInvalidLength, "Write batch sizes must be between 1 and 100000. Got 0 operations.")
	}
	prepared := make([]bson.D, len(docs))
	ids := make([]any, len(docs))
	perr := make([]error, len(docs))
	raws := make([][]byte, len(docs))
	for i, d := range docs {
		prepared[i], ids[i], perr[i] = prepareInsert(d)
		if perr[i] == nil {
			raws[i], perr[i] = encodeDoc(prepared[i])
		}
	}
	var inserted []any
	var werrs []store.WriteError
	err := c.s.submit(ctx, func(w *wtx) error {
		inserted, werrs = nil, nil
		m, err := w.collFor(c.db, c.name)
		if err != nil {
			return err
		}
		for i := range prepared {
			err := perr[i]
			if err == nil {
				err = w.nested(func() error { return w.insert(m, prepared[i], ids[i], raws[i]) })
			}
			if err != nil {
				werrs = append(werrs, writeError(i, err))
				if !opts.Unordered {
					break
				}
				continue
			}
			inserted = append(inserted, ids[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &store.InsertManyResult{InsertedIDs: inserted}
	if len(werrs) > 0 {
		return res, &store.BulkWriteError{WriteErrors: werrs}
	}
	return res, nil
}

func writeError(i int, err error) store.WriteError {
	var e *mql.Error
	if errors.As(err, &e) {
		return store.WriteError{Index: i, Code: e.Code, Message: e.Message}
	}
	return store.WriteError{Index: i, Code: 1, Message: err.Error()}
}

// nested runs fn in an inner savepoint, undoing only fn on failure.
func (w *wtx) nested(fn func() error) error {
	snap, nd := w.st, len(w.dropped)
	if _, err := w.exec("SAVEPOINT doc"); err != nil {
		return err
	}
	err := fn()
	if err != nil {
		w.exec("ROLLBACK TO doc")
		w.st, w.dropped = snap, w.dropped[:nd]
	}
	w.exec("RELEASE doc")
	return err
}

// Reads.

func (c *collection) meta(r *reader) *collMeta { return r.cat.get(c.db, c.name) }

func projectionNeedsPosition(spec bson.D) bool {
	for _, e := range spec {
		if strings.HasSuffix(e.Key, ".$") || e.Key == "$" {
			return true
		}
	}
	return false
}

func (c *collection) Find(ctx context.Context, filter bson.D, opts store.FindOptions) (store.Cursor, error) {
	if (len(opts.Sort) == 0 || idSortDir(opts.Sort) != 0) && txFrom(ctx, c.s) == nil {
		cur, ok, err := c.streamFind(filter, opts)
		if ok || err != nil {
			return cur, err
		}
	}
	docs, err := c.findDocs(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	return &sliceCursor{docs: docs}, nil
}

func (c *collection) findDocs(ctx context.Context, filter bson.D, opts store.FindOptions) ([]bson.D, error) {
	if err := validateNS(c.db, c.name); err != nil {
		return nil, err
	}
	if opts.Skip < 0 || opts.Limit < 0 {
		return nil, mqlErr(mql.CodeBadValue, "skip and limit must not be negative")
	}
	var srt *mql.Sort
	var proj *mql.Projection
	var err error
	if len(opts.Sort) > 0 {
		if srt, err = mql.CompileSort(normD(opts.Sort)); err != nil {
			return nil, err
		}
	}
	if len(opts.Projection) > 0 {
		if proj, err = mql.CompileProjection(normD(opts.Projection)); err != nil {
			return nil, err
		}
	}
	filter, _ = mql.Normalize(filter).(bson.D)
	r := c.s.readerFor(ctx)
	defer r.done()
	m := c.meta(r)
	if m == nil {
		if len(filter) > 0 {
			if _, err := mql.CompileFilter(filter); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	p := planFilter(m, filter)
	if srt != nil && idSortDir(opts.Sort) == 1 && p.inIDOrder() {
		srt = nil // the scan already returns _id order
	}
	var stop int64
	if srt == nil && opts.Limit > 0 {
		stop = opts.Skip + opts.Limit
	}
	hits, err := r.findPlan(ctx, m, filter, p, stop, proj != nil && projectionNeedsPosition(opts.Projection))
	if err != nil {
		return nil, err
	}
	if srt != nil {
		sort.SliceStable(hits, func(i, j int) bool { return srt.Compare(hits[i].doc, hits[j].doc) < 0 })
	}
	if opts.Skip > 0 {
		if opts.Skip >= int64(len(hits)) {
			hits = nil
		} else {
			hits = hits[opts.Skip:]
		}
	}
	if opts.Limit > 0 && int64(len(hits)) > opts.Limit {
		hits = hits[:opts.Limit]
	}
	out := make([]bson.D, len(hits))
	for i, h := range hits {
		out[i] = h.doc
		if proj != nil {
			if out[i], err = proj.Apply(h.doc, h.pos); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (c *collection) FindOne(ctx context.Context, filter bson.D, opts store.FindOptions) (bson.D, error) {
	opts.Limit = 1
	docs, err := c.findDocs(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, store.ErrNoDocuments
	}
	return docs[0], nil
}

// CountDocuments counts matches without keeping them.
func (c *collection) CountDocuments(ctx context.Context, filter bson.D, opts store.CountOptions) (int64, error) {
	if err := validateNS(c.db, c.name); err != nil {
		return 0, err
	}
	if opts.Skip < 0 || opts.Limit < 0 {
		return 0, mqlErr(mql.CodeBadValue, "skip and limit must not be negative")
	}
	filter = normD(filter)
	r := c.s.readerFor(ctx)
	defer r.done()
	m := c.meta(r)
	if m == nil {
		if len(filter) > 0 {
			if _, err := mql.CompileFilter(filter); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}
	p := planFilter(m, filter)
	mt, err := compileMatcher(filter, p)
	if err != nil {
		return 0, err
	}
	var n int64
	err = r.scan(ctx, m, p, func(k, raw []byte) (bool, error) {
		if mt.f != nil {
			doc, err := decodeDoc(raw)
			if err != nil {
				return false, err
			}
			if !mt.f.Match(doc) {
				return true, nil
			}
		}
		n++
		if opts.Limit > 0 && n >= opts.Skip+opts.Limit {
			return false, nil
		}
		return true, ctx.Err()
	})
	if err != nil {
		return 0, err
	}
	return max(0, n-opts.Skip), nil
}

func (c *collection) Distinct(ctx context.Context, field string, filter bson.D) (bson.A, error) {
	if field == "" || strings.HasPrefix(field, "$") {
		return nil, mqlErr(mql.CodeBadValue, "distinct field %q is invalid", field)
	}
	docs, err := c.findDocs(ctx, filter, store.FindOptions{})
	if err != nil {
		return nil, err
	}
	var vals []any
	for _, d := range docs {
		var out []any
		var arr bool
		collectPath(d, strings.Split(field, "."), &out, &arr)
		vals = append(vals, out...)
	}
	sort.SliceStable(vals, func(i, j int) bool { return mql.Compare(vals[i], vals[j]) < 0 })
	res := bson.A{}
	for i, v := range vals {
		if _, ok := v.(bson.Undefined); ok {
			continue
		}
		if i > 0 && mql.Compare(vals[i-1], v) == 0 {
			continue
		}
		res = append(res, v)
	}
	return res, nil
}

// Updates.

// modify is the shared core of updates, replaces and findAndModify.
type modify struct {
	filter  bson.D
	upd     *mql.Update
	replace bson.D // the replacement, for replaces
	multi   bool
	upsert  bool
	sort    *mql.Sort
	remove  bool
}

type modifyResult struct {
	matched, modified int64
	upsertedID        any
	before, after     bson.D
	pos               int
}

func compileUpdate(update bson.D, arrayFilters []bson.D, replace bool) (*mql.Update, error) {
	update, _ = mql.Normalize(update).(bson.D)
	if replace {
		for _, e := range update {
			if strings.HasPrefix(e.Key, "$") {
				return nil, mqlErr(mql.CodeDollarPrefixedFieldName, "replacement document must not contain update operators (found %s)", e.Key)
			}
		}
		if err := mql.CheckDepth(update); err != nil {
			return nil, err
		}
	} else if len(update) == 0 {
		return nil, mqlErr(mql.CodeFailedToParse, "update document must not be empty")
	} else if !strings.HasPrefix(update[0].Key, "$") {
		return nil, mqlErr(mql.CodeFailedToParse, "update document requires atomic operators")
	}
	u, err := mql.CompileUpdate(update, mql.UpdateOptions{ArrayFilters: normStages(arrayFilters)})
	if err != nil {
		return nil, err
	}
	if u.IsReplacement() != replace {
		return nil, mqlErr(mql.CodeFailedToParse, "update document requires atomic operators")
	}
	return u, nil
}

// apply computes a document's new version, keeping _id.
func (op *modify) apply(old bson.D, pos int, insert bool) (bson.D, error) {
	oldID := mql.Get(old, "_id")
	doc, _, err := op.upd.Apply(old, mql.ApplyOptions{Position: pos, Insert: insert})
	if err != nil {
		return nil, err
	}
	id := mql.Get(doc, "_id")
	switch {
	case mql.IsMissing(id) && !mql.IsMissing(oldID):
		doc = append(bson.D{{Key: "_id", Value: oldID}}, doc...)
	case !mql.IsMissing(id) && !mql.IsMissing(oldID) && !insert && !mql.Identical(id, oldID):
		return nil, mqlErr(mql.CodeImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'")
	}
	return doc, nil
}

func (w *wtx) modify(ctx context.Context, db, name string, op *modify) (*modifyResult, error) {
	res := &modifyResult{pos: -1}
	m := w.st.cat.get(db, name)
	if m != nil {
		var limit int64 = 1
		if op.multi || op.sort != nil {
			limit = 0
		}
		hits, err := w.reader().find(ctx, m, op.filter, limit, op.upd != nil)
		if err != nil {
			return nil, err
		}
		if op.sort != nil && len(hits) > 1 {
			sort.SliceStable(hits, func(i, j int) bool { return op.sort.Compare(hits[i].doc, hits[j].doc) < 0 })
			hits = hits[:1]
		}
		for _, h := range hits {
			res.matched++
			if res.before == nil {
				res.before, res.after, res.pos = h.doc, h.doc, h.pos
			}
			if op.remove {
				if err := w.deleteDoc(m, h.k, h.doc); err != nil {
					return nil, err
				}
				continue
			}
			doc, err := op.apply(h.doc, h.pos, false)
			if err != nil {
				return nil, err
			}
			if res.matched == 1 {
				res.after = doc
			}
			if mql.Identical(doc, h.doc) {
				continue
			}
			kind := "update"
			if op.replace != nil {
				kind = "replace"
			}
			if err := w.replaceDoc(m, h.k, h.doc, doc, kind); err != nil {
				return nil, err
			}
			res.modified++
		}
	} else if len(op.filter) > 0 {
		if _, err := mql.CompileFilter(op.filter); err != nil {
			return nil, err
		}
	}
	if res.matched > 0 || !op.upsert || op.remove {
		return res, nil
	}
	seed, err := mql.UpsertSeed(op.filter)
	if err != nil {
		return nil, err
	}
	doc, _, err := op.upd.Apply(seed, mql.ApplyOptions{Position: -1, Insert: true})
	if err != nil {
		return nil, err
	}
	doc, id, err := prepareInsert(doc)
	if err != nil {
		return nil, err
	}
	if m == nil {
		if m, err = w.collFor(db, name); err != nil {
			return nil, err
		}
	}
	if err := w.insert(m, doc, id, nil); err != nil {
		return nil, err
	}
	res.upsertedID = id
	res.after = doc
	return res, nil
}

func (c *collection) runModify(ctx context.Context, op *modify) (*modifyResult, error) {
	if err := validateNS(c.db, c.name); err != nil {
		return nil, err
	}
	op.filter, _ = mql.Normalize(op.filter).(bson.D)
	var res *modifyResult
	err := c.s.submit(ctx, func(w *wtx) error {
		var err error
		res, err = w.modify(ctx, c.db, c.name, op)
		return err
	})
	return res, err
}

func (c *collection) update(ctx context.Context, filter, update bson.D, opts store.UpdateOptions, multi, replace bool) (*store.UpdateResult, error) {
	u, err := compileUpdate(update, opts.ArrayFilters, replace)
	if err != nil {
		return nil, err
	}
	op := &modify{filter: filter, upd: u, multi: multi, upsert: opts.Upsert}
	if replace {
		op.replace, _ = mql.Normalize(update).(bson.D)
	}
	res, err := c.runModify(ctx, op)
	if err != nil {
		return nil, err
	}
	out := &store.UpdateResult{MatchedCount: res.matched, ModifiedCount: res.modified}
	if res.upsertedID != nil {
		out.UpsertedCount, out.UpsertedID = 1, res.upsertedID
	}
	return out, nil
}

func (c *collection) UpdateOne(ctx context.Context, filter, update bson.D, opts store.UpdateOptions) (*store.UpdateResult, error) {
	return c.update(ctx, filter, update, opts, false, false)
}

func (c *collection) UpdateMany(ctx context.Context, filter, update bson.D, opts store.UpdateOptions) (*store.UpdateResult, error) {
	return c.update(ctx, filter, update, opts, true, false)
}

func (c *collection) ReplaceOne(ctx context.Context, filter, replacement bson.D, opts store.UpdateOptions) (*store.UpdateResult, error) {
	return c.update(ctx, filter, replacement, store.UpdateOptions{Upsert: opts.Upsert}, false, true)
}

func (c *collection) DeleteOne(ctx context.Context, filter bson.D) (*store.DeleteResult, error) {
	res, err := c.runModify(ctx, &modify{filter: filter, remove: true})
	if err != nil {
		return nil, err
	}
	return &store.DeleteResult{DeletedCount: res.matched}, nil
}

func (c *collection) DeleteMany(ctx context.Context, filter bson.D) (*store.DeleteResult, error) {
	res, err := c.runModify(ctx, &modify{filter: filter, remove: true, multi: true})
	if err != nil {
		return nil, err
	}
	return &store.DeleteResult{DeletedCount: res.matched}, nil
}

func (c *collection) findAndModify(ctx context.Context, filter, update bson.D, opts store.FindOneAndModifyOptions, replace, remove bool) (bson.D, error) {
	op := &modify{filter: filter, upsert: opts.Upsert && !remove, remove: remove}
	if !remove {
		u, err := compileUpdate(update, opts.ArrayFilters, replace)
		if err != nil {
			return nil, err
		}
		op.upd = u
		if replace {
			op.replace, _ = mql.Normalize(update).(bson.D)
		}
	}
	if len(opts.Sort) > 0 {
		s, err := mql.CompileSort(normD(opts.Sort))
		if err != nil {
			return nil, err
		}
		op.sort = s
	}
	var proj *mql.Projection
	if len(opts.Projection) > 0 {
		p, err := mql.CompileProjection(normD(opts.Projection))
		if err != nil {
			return nil, err
		}
		proj = p
	}
	res, err := c.runModify(ctx, op)
	if err != nil {
		return nil, err
	}
	doc := res.before
	if opts.ReturnAfter && !remove {
		doc = res.after
	}
	if doc == nil || (res.matched == 0 && !opts.ReturnAfter) {
		return nil, store.ErrNoDocuments
	}
	if proj != nil {
		return proj.Apply(doc, res.pos)
	}
	return doc, nil
}

func (c *collection) FindOneAndUpdate(ctx context.Context, filter, update bson.D, opts store.FindOneAndModifyOptions) (bson.D, error) {
	return c.findAndModify(ctx, filter, update, opts, false, false)
}

func (c *collection) FindOneAndReplace(ctx context.Context, filter, replacement bson.D, opts store.FindOneAndModifyOptions) (bson.D, error) {
	return c.findAndModify(ctx, filter, replacement, opts, true, false)
}

func (c *collection) FindOneAndDelete(ctx context.Context, filter bson.D, opts store.FindOneAndModifyOptions) (bson.D, error) {
	return c.findAndModify(ctx, filter, nil, opts, false, true)
}

// Aggregate runs a pipeline; a leading $match is pushed into the scan.
func (c *collection) Aggregate(ctx context.Context, pipeline []bson.D, opts store.AggregateOptions) (store.Cursor, error) {
	if err := validateNS(c.db, c.name); err != nil {
		return nil, err
	}
	var filter bson.D
	rest := pipeline
	if len(pipeline) > 0 && len(pipeline[0]) == 1 && pipeline[0][0].Key == "$match" {
		if f, ok := mql.Normalize(pipeline[0][0].Value).(bson.D); ok {
			filter, rest = f, pipeline[1:]
		}
	}
	var p *mql.Pipeline
	if len(rest) > 0 {
		var err error
		if p, err = mql.CompilePipeline(normStages(rest)); err != nil {
			return nil, err
		}
	}
	docs, err := c.findDocs(ctx, filter, store.FindOptions{})
	if err != nil {
		return nil, err
	}
	if p == nil {
		return &sliceCursor{docs: docs}, nil
	}
	env := &mql.Env{Collection: func(ctx context.Context, name string) iter.Seq2[bson.D, error] {
		return func(yield func(bson.D, error) bool) {
			other := &collection{s: c.s, db: c.db, name: name}
			docs, err := other.findDocs(ctx, nil, store.FindOptions{})
			if err != nil {
				yield(nil, err)
				return
			}
			for _, d := range docs {
				if !yield(d, nil) {
					return
				}
			}
		}
	}}
	out, err := p.Run(ctx, func(yield func(bson.D, error) bool) {
		for _, d := range docs {
			if !yield(d, nil) {
				return
			}
		}
	}, env)
	if err != nil {
		return nil, err
	}
	return &sliceCursor{docs: out}, nil
}

func (c *collection) Drop(ctx context.Context) error {
	if err := validateNS(c.db, c.name); err != nil {
		return err
	}
	return c.s.submit(ctx, func(w *wtx) error {
		m := w.st.cat.get(c.db, c.name)
		if m == nil {
			return nil
		}
		return w.dropCollection(m)
	})
}

// sliceCursor iterates over materialized results.
type sliceCursor struct {
	docs []bson.D
	i    int
	cur  bson.D
}

func (s *sliceCursor) Next(ctx context.Context) bool {
	if s.i >= len(s.docs) || ctx.Err() != nil {
		return false
	}
	s.cur = s.docs[s.i]
	s.i++
	return true
}
func (s *sliceCursor) Doc() bson.D                     { return s.cur }
func (s *sliceCursor) Err() error                      { return nil }
func (s *sliceCursor) Close(ctx context.Context) error { s.docs = nil; return nil }

// Watch opens a change stream over this collection.
func (c *collection) Watch(ctx context.Context, pipeline []bson.D, opts store.WatchOptions) (store.ChangeStream, error) {
	if err := validateNS(c.db, c.name); err != nil {
		return nil, err
	}
	return c.s.watch(ctx, c.db, c.name, pipeline, opts)
}

// normD brings a caller's document into mql's normal form (Go ints become
// int32/int64, bson.M becomes bson.D).
func normD(d bson.D) bson.D {
	if d == nil {
		return nil
	}
	out, _ := mql.Normalize(d).(bson.D)
	return out
}

func normStages(ds []bson.D) []bson.D {
	if ds == nil {
		return nil
	}
	out := make([]bson.D, len(ds))
	for i, d := range ds {
		out[i] = normD(d)
	}
	return out
}
