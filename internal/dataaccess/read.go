package dataaccess

import (
	"context"
	"iter"
	"net/http"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/rules"
	"github.com/atollhq/atoll/internal/store"
)

// checkRead refuses a client filter, sort or projection that uses a
// system-only operator or names a field the caller may not read (§4.7):
// such a query's result, order or count would be an oracle on withheld
// values even though the values themselves are redacted.
func (c *Collection) checkRead(filter, sort, proj bson.D) error {
	if err := checkInput(filter); err != nil {
		return err
	}
	if err := c.view.CheckFilter(filter); err != nil {
		return AsError(err)
	}
	if err := c.view.CheckSort(sort); err != nil {
		return AsError(err)
	}
	if err := c.view.CheckProjection(proj); err != nil {
		return AsError(err)
	}
	return nil
}

// checkInput bounds what any caller may send: nesting beyond MongoDB's
// limit is refused before anything walks the value recursively.
func checkInput(vals ...any) error {
	for _, v := range vals {
		if v == nil {
			continue
		}
		if err := mql.CheckDepth(v); err != nil {
			return AsError(err)
		}
	}
	return nil
}

// norm converts a caller's document into mql's normal form (Go ints,
// bson.M, []any), so that every check below sees the same shapes the
// query engine will: a check that missed a Go int could let a projection
// of a protected field through.
func norm(d bson.D) bson.D {
	if d == nil {
		return nil
	}
	n, _ := mql.Normalize(d).(bson.D)
	return n
}

func normAll(ds []bson.D) []bson.D {
	if ds == nil {
		return nil
	}
	out := make([]bson.D, len(ds))
	for i, d := range ds {
		out[i] = norm(d)
	}
	return out
}

// clientProjection compiles the client's projection (nil when none).
func clientProjection(proj bson.D) (*mql.Projection, error) {
	if len(proj) == 0 {
		return nil, nil
	}
	p, err := mql.CompileProjection(proj)
	if err != nil {
		return nil, AsError(err)
	}
	return p, nil
}

// present turns a stored document into what the caller receives: the read
// decision and redaction, then the client projection (positional
// projections resolved against the redacted document, so a position can
// only come from readable fields). nil means withheld.
func (c *Collection) present(ctx context.Context, doc bson.D, proj *mql.Projection, filter *mql.Filter) (bson.D, error) {
	out := c.view.Redact(ctx, doc)
	if out == nil {
		return nil, nil
	}
	if proj == nil {
		return out, nil
	}
	pos := -1
	if proj.UsesPosition() && filter != nil {
		_, pos = filter.MatchPosition(out)
	}
	return proj.Apply(out, pos)
}

// storeFind runs a find on the store with the rules pushed down and the
// filters' projection applied at the source.
func (c *Collection) storeFind(ctx context.Context, filter bson.D, opts store.FindOptions) (store.Cursor, error) {
	q := simplify(c.view.PushDown(filter))
	if p := c.view.Projection(); p != nil {
		opts.Projection = p
	}
	cur, err := c.coll.Find(ctx, q, opts)
	if err != nil {
		return nil, AsError(err)
	}
	return cur, nil
}

// Find returns the documents matching filter that the caller may read,
// redacted, then projected by the client's projection. Sort, skip and
// limit are pushed to the store, so a page may come back short when rules
// withhold documents the store returned (§4.6).
func (c *Collection) Find(ctx context.Context, filter bson.D, opts FindOptions) ([]bson.D, error) {
	filter, opts.Sort, opts.Projection = norm(filter), norm(opts.Sort), norm(opts.Projection)
	if err := c.checkRead(filter, opts.Sort, opts.Projection); err != nil {
		return nil, err
	}
	proj, err := clientProjection(opts.Projection)
	if err != nil {
		return nil, err
	}
	var posFilter *mql.Filter
	if proj != nil && proj.UsesPosition() {
		if posFilter, err = mql.CompileFilter(filter); err != nil {
			return nil, AsError(err)
		}
	}
	max := int64(c.a.opts.MaxResults)
	limit := opts.Limit
	if limit < 0 {
		limit = -limit // MongoDB: a negative limit is a single batch of |n|
	}
	capped := limit == 0 || limit > max
	if capped {
		limit = max + 1
	}
	cur, err := c.storeFind(ctx, filter, store.FindOptions{Sort: opts.Sort, Skip: opts.Skip, Limit: limit})
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	out := []bson.D{}
	var seen int64
	for cur.Next(ctx) {
		seen++
		if capped && seen > max {
			return nil, AsError(ErrTooManyResults)
		}
		d, err := c.present(ctx, cur.Doc(), proj, posFilter)
		if err != nil {
			return nil, AsError(err)
		}
		if d != nil {
			out = append(out, d)
		}
	}
	if err := cur.Err(); err != nil {
		return nil, AsError(err)
	}
	return out, nil
}

// FindOne returns the first document (by opts.Sort) matching filter that
// the caller may read, redacted and projected, or nil. Unlike Find it
// reads on past withheld documents, so a readable match is never missed.
func (c *Collection) FindOne(ctx context.Context, filter bson.D, opts FindOptions) (bson.D, error) {
	filter, opts.Sort, opts.Projection = norm(filter), norm(opts.Sort), norm(opts.Projection)
	if err := c.checkRead(filter, opts.Sort, opts.Projection); err != nil {
		return nil, err
	}
	proj, err := clientProjection(opts.Projection)
	if err != nil {
		return nil, err
	}
	var posFilter *mql.Filter
	if proj != nil && proj.UsesPosition() {
		if posFilter, err = mql.CompileFilter(filter); err != nil {
			return nil, AsError(err)
		}
	}
	// Read in growing batches: most often the first match is readable
	// and the store decodes one document, not every match; a withheld
	// batch is followed by the next, larger one.
	skip, batch := opts.Skip, int64(1)
	for {
		d, n, err := c.findOneIn(ctx, filter, store.FindOptions{Sort: opts.Sort, Skip: skip, Limit: batch}, proj, posFilter)
		if d != nil || err != nil || n < batch {
			return d, err
		}
		skip += n
		batch = min(batch*findOneGrowth, findOneMaxBatch)
	}
}

// findOneGrowth and findOneMaxBatch shape FindOne's batches: 1, 16, 256,
// then 1,024 documents at a time.
const (
	findOneGrowth   = 16
	findOneMaxBatch = 1024
)

// findOneIn reads one batch for FindOne: the first presentable document,
// or nil and the number of documents the store returned.
func (c *Collection) findOneIn(ctx context.Context, filter bson.D, fo store.FindOptions, proj *mql.Projection, posFilter *mql.Filter) (bson.D, int64, error) {
	cur, err := c.storeFind(ctx, filter, fo)
	if err != nil {
		return nil, 0, err
	}
	defer cur.Close(ctx)
	var n int64
	for cur.Next(ctx) {
		n++
		d, err := c.present(ctx, cur.Doc(), proj, posFilter)
		if err != nil {
			return nil, n, AsError(err)
		}
		if d != nil {
			return d, n, nil
		}
	}
	if err := cur.Err(); err != nil {
		return nil, n, AsError(err)
	}
	return nil, n, nil
}

// Count counts the matching documents the caller may read (§4.6: only
// documents that pass the read decision count). For system callers it is
// the store's count; for users every candidate is decided.
func (c *Collection) Count(ctx context.Context, filter bson.D, opts CountOptions) (int64, error) {
	filter = norm(filter)
	if err := c.checkRead(filter, nil, nil); err != nil {
		return 0, err
	}
	if c.view.System() {
		n, err := c.coll.CountDocuments(ctx, filter, store.CountOptions{Skip: opts.Skip, Limit: opts.Limit})
		if err != nil {
			return 0, AsError(err)
		}
		return n, nil
	}
	cur, err := c.storeFind(ctx, filter, store.FindOptions{})
	if err != nil {
		return 0, err
	}
	defer cur.Close(ctx)
	var n, skipped int64
	for cur.Next(ctx) {
		if c.view.Decide(ctx, cur.Doc()).Level == rules.Withhold {
			continue
		}
		if skipped < opts.Skip {
			skipped++
			continue
		}
		n++
		if opts.Limit > 0 && n >= opts.Limit {
			break
		}
	}
	if err := cur.Err(); err != nil {
		return 0, AsError(err)
	}
	return n, nil
}

// readable streams the documents of this collection the caller may read,
// redacted: the source of $lookup/$unionWith into this collection.
func (c *Collection) readable(ctx context.Context, filter bson.D, sort bson.D) iter.Seq2[bson.D, error] {
	return func(yield func(bson.D, error) bool) {
		cur, err := c.storeFind(ctx, filter, store.FindOptions{Sort: sort})
		if err != nil {
			yield(nil, err)
			return
		}
		defer cur.Close(ctx)
		for cur.Next(ctx) {
			d := c.view.Redact(ctx, cur.Doc())
			if d == nil {
				continue
			}
			if !yield(d, nil) {
				return
			}
		}
		if err := cur.Err(); err != nil {
			yield(nil, AsError(err))
		}
	}
}

// Aggregate runs pipeline over the documents the caller may read
// (§4.6–§4.7): system-only stages and operators are refused; leading $match
// stages (checked like a find filter) and a $sort right after them go to
// the store together with the rules filter; every document is decided and
// redacted before the rest of the pipeline sees it; $lookup and $unionWith
// read other collections under those collections' own rules. System
// callers run the pipeline on the store unchanged.
func (c *Collection) Aggregate(ctx context.Context, pipeline []bson.D) ([]bson.D, error) {
	pipeline = normAll(pipeline)
	if pipeline == nil {
		pipeline = []bson.D{}
	}
	if err := checkInput(pipelineValue(pipeline)); err != nil {
		return nil, err
	}
	if err := c.view.CheckPipeline(pipeline); err != nil {
		return nil, AsError(err)
	}
	if c.view.System() {
		cur, err := c.coll.Aggregate(ctx, pipeline, store.AggregateOptions{})
		if err != nil {
			return nil, AsError(err)
		}
		out, err := store.All(ctx, cur)
		if err != nil {
			return nil, AsError(err)
		}
		if out == nil {
			out = []bson.D{}
		}
		return out, nil
	}
	// Leading $match stages and a following $sort are pushed down.
	var matches bson.A
	i := 0
	for ; i < len(pipeline) && pipeline[i][0].Key == "$match"; i++ {
		q, _ := pipeline[i][0].Value.(bson.D)
		matches = append(matches, q)
	}
	var filter bson.D
	switch len(matches) {
	case 0:
		filter = bson.D{}
	case 1:
		filter = matches[0].(bson.D)
	default:
		filter = bson.D{{Key: "$and", Value: matches}}
	}
	var sort bson.D
	if i < len(pipeline) && pipeline[i][0].Key == "$sort" {
		s, ok := pipeline[i][0].Value.(bson.D)
		if !ok {
			return nil, newError(CodeMongoDBError, http.StatusBadRequest, nil, "$sort needs a document")
		}
		sort = s
		i++
	}
	rest, err := mql.CompilePipeline(pipeline[i:])
	if err != nil {
		return nil, AsError(err)
	}
	env := &mql.Env{Collection: func(ctx context.Context, name string) iter.Seq2[bson.D, error] {
		sib, err := c.sibling(ctx, c.db, name)
		if err != nil {
			return func(yield func(bson.D, error) bool) { yield(nil, err) }
		}
		return sib.readable(ctx, bson.D{}, nil)
	}}
	out, err := rest.Run(ctx, c.readable(ctx, filter, sort), env)
	if err != nil {
		return nil, AsError(err)
	}
	if len(out) > c.a.opts.MaxResults {
		return nil, AsError(ErrTooManyResults)
	}
	if out == nil {
		out = []bson.D{}
	}
	return out, nil
}

func pipelineValue(p []bson.D) bson.A {
	a := make(bson.A, len(p))
	for i, s := range p {
		a[i] = s
	}
	return a
}
