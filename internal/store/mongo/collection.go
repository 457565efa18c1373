package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

// codeCannotCreateIndex is MongoDB's CannotCreateIndex.
const codeCannotCreateIndex = 67

type collection struct {
	s    *Store
	db   string
	name string
	coll *mongo.Collection
}

func (c *collection) Database() string { return c.db }
func (c *collection) Name() string     { return c.name }

func (c *collection) valid() error { return validNames(c.db, c.name) }

// prepare checks a document against MongoDB's limits and gives it an _id
// (a new ObjectId, first) when it has none, so that the id reported back
// is the one stored.
func prepare(doc bson.D) (bson.D, any, error) {
	if err := mql.CheckDepth(doc); err != nil {
		return nil, nil, err
	}
	for _, e := range doc {
		if e.Key == "_id" {
			return doc, e.Value, checkSize(doc)
		}
	}
	id := bson.NewObjectID()
	withID := make(bson.D, 0, len(doc)+1)
	withID = append(withID, bson.E{Key: "_id", Value: id})
	withID = append(withID, doc...)
	return withID, id, checkSize(withID)
}

func checkSize(doc bson.D) error {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return mql.Errorf(mql.CodeBadValue, "document cannot be encoded as BSON: %v", err)
	}
	if len(raw) > mql.MaxDocumentSize {
		return mql.Errorf(mql.CodeBSONObjectTooLarge, "object to insert too large: %d bytes, the maximum is %d", len(raw), mql.MaxDocumentSize)
	}
	return nil
}

func (c *collection) InsertOne(ctx context.Context, doc bson.D) (*store.InsertOneResult, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	doc, id, err := prepare(doc)
	if err != nil {
		return nil, err
	}
	if _, err := c.coll.InsertOne(ctx, doc); err != nil {
		return nil, mapError(err)
	}
	return &store.InsertOneResult{InsertedID: id}, nil
}

// InsertMany checks every document first; the ones that fail the check
// are reported as write errors at their index exactly as if the server had
// refused them (an ordered insert sends only what comes before the first
// bad document).
func (c *collection) InsertMany(ctx context.Context, docs []bson.D, opts store.InsertManyOptions) (*store.InsertManyResult, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	res := &store.InsertManyResult{InsertedIDs: []any{}}
	if len(docs) == 0 {
		return res, nil
	}
	var bulk store.BulkWriteError
	send := make([]any, 0, len(docs))
	sendIdx := make([]int, 0, len(docs)) // input index of each document sent
	ids := make([]any, len(docs))
	sent := make([]bool, len(docs)) // ids[i] may be nil: {_id: null} is valid
	for i, d := range docs {
		d, id, err := prepare(d)
		if err != nil {
			var e *store.Error
			if !errors.As(err, &e) {
				return nil, err
			}
			bulk.WriteErrors = append(bulk.WriteErrors, store.WriteError{Index: i, Code: e.Code, Message: e.Message})
			if !opts.Unordered {
				break
			}
			continue
		}
		ids[i], sent[i] = id, true
		send = append(send, d)
		sendIdx = append(sendIdx, i)
	}
	failed := map[int]bool{}
	firstFail := len(docs)
	for _, we := range bulk.WriteErrors {
		failed[we.Index] = true
		firstFail = min(firstFail, we.Index)
	}
	if len(send) > 0 {
		_, err := c.coll.InsertMany(ctx, send, options.InsertMany().SetOrdered(!opts.Unordered))
		if err != nil {
			var bwe mongo.BulkWriteException
			if !errors.As(err, &bwe) || len(bwe.WriteErrors) == 0 {
				// Nothing says which documents made it: report the error
				// alone, as the driver does.
				return nil, mapError(err)
			}
			for _, we := range bwe.WriteErrors {
				if we.Index < 0 || we.Index >= len(sendIdx) {
					return nil, mapError(err)
				}
				in := sendIdx[we.Index]
				failed[in] = true
				firstFail = min(firstFail, in)
				bulk.WriteErrors = append(bulk.WriteErrors, store.WriteError{Index: in, Code: we.Code, Message: we.Message})
			}
		}
	}
	for i := range docs {
		if !opts.Unordered && i >= firstFail {
			break
		}
		if !failed[i] && sent[i] {
			res.InsertedIDs = append(res.InsertedIDs, ids[i])
		}
	}
	if len(bulk.WriteErrors) > 0 {
		sort.Slice(bulk.WriteErrors, func(a, b int) bool { return bulk.WriteErrors[a].Index < bulk.WriteErrors[b].Index })
		if !opts.Unordered {
			// An ordered insert stops at its first failure: a document the
			// check refused after a document the server refused was never
			// reached.
			bulk.WriteErrors = bulk.WriteErrors[:1]
		}
		return res, &bulk
	}
	return res, nil
}

func (c *collection) Find(ctx context.Context, filter bson.D, opts store.FindOptions) (store.Cursor, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	o := options.Find()
	if opts.Sort != nil {
		o.SetSort(opts.Sort)
	}
	if opts.Projection != nil {
		o.SetProjection(opts.Projection)
	}
	if opts.Skip != 0 {
		o.SetSkip(opts.Skip)
	}
	if opts.Limit != 0 {
		o.SetLimit(opts.Limit)
	}
	if opts.BatchSize != 0 {
		o.SetBatchSize(opts.BatchSize)
	}
	cur, err := c.coll.Find(ctx, filterOf(filter), o)
	if err != nil {
		return nil, mapError(err)
	}
	return &cursor{cur: cur}, nil
}

func (c *collection) FindOne(ctx context.Context, filter bson.D, opts store.FindOptions) (bson.D, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	o := options.FindOne()
	if opts.Sort != nil {
		o.SetSort(opts.Sort)
	}
	if opts.Projection != nil {
		o.SetProjection(opts.Projection)
	}
	if opts.Skip != 0 {
		o.SetSkip(opts.Skip)
	}
	return singleResult(c.coll.FindOne(ctx, filterOf(filter), o))
}

func singleResult(r *mongo.SingleResult) (bson.D, error) {
	raw, err := r.Raw()
	if err != nil {
		return nil, mapError(err)
	}
	return decode(raw)
}

func (c *collection) CountDocuments(ctx context.Context, filter bson.D, opts store.CountOptions) (int64, error) {
	if err := c.valid(); err != nil {
		return 0, err
	}
	o := options.Count()
	if opts.Skip != 0 {
		o.SetSkip(opts.Skip)
	}
	if opts.Limit != 0 {
		o.SetLimit(opts.Limit)
	}
	n, err := c.coll.CountDocuments(ctx, filterOf(filter), o)
	return n, mapError(err)
}

func (c *collection) Distinct(ctx context.Context, field string, filter bson.D) (bson.A, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	r := c.coll.Distinct(ctx, field, filterOf(filter))
	if err := r.Err(); err != nil {
		return nil, mapError(err)
	}
	var vals bson.A
	if err := r.Decode(&vals); err != nil {
		return nil, fmt.Errorf("mongodb: decoding distinct values: %w", err)
	}
	if vals == nil {
		vals = bson.A{}
	}
	// The server's order is an implementation detail; the interface
	// promises mql.Compare order.
	slices.SortStableFunc(vals, mql.Compare)
	return vals, nil
}

// checkUpdate refuses what the driver would refuse on the client with an
// untyped error, giving the error a code instead.
func checkUpdate(update bson.D) error {
	if len(update) == 0 {
		return mql.Errorf(mql.CodeFailedToParse, "update document must have at least one element")
	}
	for _, e := range update {
		if len(e.Key) == 0 || e.Key[0] != '$' {
			return mql.Errorf(mql.CodeFailedToParse, "update document must contain only update operators (keys beginning with '$'), found %q", e.Key)
		}
	}
	return nil
}

func checkReplacement(doc bson.D) error {
	for _, e := range doc {
		if len(e.Key) > 0 && e.Key[0] == '$' {
			return mql.Errorf(mql.CodeDollarPrefixedFieldName, "replacement document cannot contain update operators, found %q", e.Key)
		}
	}
	if err := mql.CheckDepth(doc); err != nil {
		return err
	}
	return checkSize(doc)
}

func arrayFilters(af []bson.D) []any {
	out := make([]any, len(af))
	for i, f := range af {
		out[i] = f
	}
	return out
}

func updateResult(r *mongo.UpdateResult) *store.UpdateResult {
	return &store.UpdateResult{
		MatchedCount:  r.MatchedCount,
		ModifiedCount: r.ModifiedCount,
		UpsertedCount: r.UpsertedCount,
		UpsertedID:    r.UpsertedID,
	}
}

func (c *collection) UpdateOne(ctx context.Context, filter, update bson.D, opts store.UpdateOptions) (*store.UpdateResult, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	if err := checkUpdate(update); err != nil {
		return nil, err
	}
	o := options.UpdateOne().SetUpsert(opts.Upsert)
	if opts.ArrayFilters != nil {
		o.SetArrayFilters(arrayFilters(opts.ArrayFilters))
	}
	r, err := c.coll.UpdateOne(ctx, filterOf(filter), update, o)
	if err != nil {
		return nil, mapError(err)
	}
	return updateResult(r), nil
}

func (c *collection) UpdateMany(ctx context.Context, filter, update bson.D, opts store.UpdateOptions) (*store.UpdateResult, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	if err := checkUpdate(update); err != nil {
		return nil, err
	}
	o := options.UpdateMany().SetUpsert(opts.Upsert)
	if opts.ArrayFilters != nil {
		o.SetArrayFilters(arrayFilters(opts.ArrayFilters))
	}
	r, err := c.coll.UpdateMany(ctx, filterOf(filter), update, o)
	if err != nil {
		return nil, mapError(err)
	}
	return updateResult(r), nil
}

func (c *collection) ReplaceOne(ctx context.Context, filter, replacement bson.D, opts store.UpdateOptions) (*store.UpdateResult, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	if replacement == nil {
		replacement = bson.D{}
	}
	if err := checkReplacement(replacement); err != nil {
		return nil, err
	}
	r, err := c.coll.ReplaceOne(ctx, filterOf(filter), replacement, options.Replace().SetUpsert(opts.Upsert))
	if err != nil {
		return nil, mapError(err)
	}
	return updateResult(r), nil
}

func (c *collection) DeleteOne(ctx context.Context, filter bson.D) (*store.DeleteResult, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	r, err := c.coll.DeleteOne(ctx, filterOf(filter))
	if err != nil {
		return nil, mapError(err)
	}
	return &store.DeleteResult{DeletedCount: r.DeletedCount}, nil
}

func (c *collection) DeleteMany(ctx context.Context, filter bson.D) (*store.DeleteResult, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	r, err := c.coll.DeleteMany(ctx, filterOf(filter))
	if err != nil {
		return nil, mapError(err)
	}
	return &store.DeleteResult{DeletedCount: r.DeletedCount}, nil
}

func returnDocument(after bool) options.ReturnDocument {
	if after {
		return options.After
	}
	return options.Before
}

func (c *collection) FindOneAndUpdate(ctx context.Context, filter, update bson.D, opts store.FindOneAndModifyOptions) (bson.D, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	if err := checkUpdate(update); err != nil {
		return nil, err
	}
	o := options.FindOneAndUpdate().SetUpsert(opts.Upsert).SetReturnDocument(returnDocument(opts.ReturnAfter))
	if opts.Sort != nil {
		o.SetSort(opts.Sort)
	}
	if opts.Projection != nil {
		o.SetProjection(opts.Projection)
	}
	if opts.ArrayFilters != nil {
		o.SetArrayFilters(arrayFilters(opts.ArrayFilters))
	}
	return singleResult(c.coll.FindOneAndUpdate(ctx, filterOf(filter), update, o))
}

func (c *collection) FindOneAndReplace(ctx context.Context, filter, replacement bson.D, opts store.FindOneAndModifyOptions) (bson.D, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	if replacement == nil {
		replacement = bson.D{}
	}
	if err := checkReplacement(replacement); err != nil {
		return nil, err
	}
	o := options.FindOneAndReplace().SetUpsert(opts.Upsert).SetReturnDocument(returnDocument(opts.ReturnAfter))
	if opts.Sort != nil {
		o.SetSort(opts.Sort)
	}
	if opts.Projection != nil {
		o.SetProjection(opts.Projection)
	}
	return singleResult(c.coll.FindOneAndReplace(ctx, filterOf(filter), replacement, o))
}

func (c *collection) FindOneAndDelete(ctx context.Context, filter bson.D, opts store.FindOneAndModifyOptions) (bson.D, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	o := options.FindOneAndDelete()
	if opts.Sort != nil {
		o.SetSort(opts.Sort)
	}
	if opts.Projection != nil {
		o.SetProjection(opts.Projection)
	}
	return singleResult(c.coll.FindOneAndDelete(ctx, filterOf(filter), o))
}

func (c *collection) Aggregate(ctx context.Context, pipeline []bson.D, opts store.AggregateOptions) (store.Cursor, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	o := options.Aggregate()
	if opts.BatchSize != 0 {
		o.SetBatchSize(opts.BatchSize)
	}
	cur, err := c.coll.Aggregate(ctx, pipelineOf(pipeline), o)
	if err != nil {
		return nil, mapError(err)
	}
	return &cursor{cur: cur}, nil
}

func (c *collection) CreateIndex(ctx context.Context, index store.IndexModel) (string, error) {
	if err := c.valid(); err != nil {
		return "", err
	}
	if len(index.Keys) == 0 {
		return "", mql.Errorf(store.CodeInvalidIndexSpecification, "index keys cannot be empty")
	}
	keys := make(bson.D, len(index.Keys))
	copy(keys, index.Keys)
	for i, k := range keys {
		switch v := k.Value.(type) {
		case int32, int64, float64, string, bson.Decimal128:
		case int:
			// Go ints are how most callers write a direction; send the
			// number MongoDB expects rather than refusing it.
			keys[i].Value = int64(v)
		default:
			// The driver refuses these itself, without a code.
			return "", mql.Errorf(codeCannotCreateIndex, "Values in v:2 index key pattern cannot be of type %s. Only numbers > 0, numbers < 0, and strings are allowed.", mql.TypeName(k.Value))
		}
	}
	o := options.Index()
	if index.Name != "" {
		o.SetName(index.Name)
	} else if len(keys) == 1 && keys[0].Key == "_id" && mql.Compare(keys[0].Value, int32(1)) == 0 {
		// The driver would name it "_id_1"; the _id index is "_id_", so
		// asking for it is the no-op MongoDB's documentation describes.
		o.SetName("_id_")
	}
	if index.Unique {
		o.SetUnique(true)
	}
	if index.PartialFilterExpression != nil {
		o.SetPartialFilterExpression(index.PartialFilterExpression)
	}
	name, err := c.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: keys, Options: o})
	if err != nil {
		return "", mapError(err)
	}
	return name, nil
}

func (c *collection) ListIndexes(ctx context.Context) ([]store.IndexModel, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	cur, err := c.coll.Indexes().List(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	defer cur.Close(ctx)
	var out []store.IndexModel
	for cur.Next(ctx) {
		spec, err := decode(cur.Current)
		if err != nil {
			return nil, err
		}
		var m store.IndexModel
		for _, e := range spec {
			switch e.Key {
			case "name":
				m.Name, _ = e.Value.(string)
			case "key":
				m.Keys, _ = e.Value.(bson.D)
			case "unique":
				m.Unique, _ = e.Value.(bool)
			case "partialFilterExpression":
				m.PartialFilterExpression, _ = e.Value.(bson.D)
			}
		}
		out = append(out, m)
	}
	if err := cur.Err(); err != nil {
		return nil, mapError(err)
	}
	// The server lists _id_ first; make it a guarantee.
	sort.SliceStable(out, func(a, b int) bool { return out[a].Name == "_id_" && out[b].Name != "_id_" })
	return out, nil
}

func (c *collection) DropIndex(ctx context.Context, name string) error {
	if err := c.valid(); err != nil {
		return err
	}
	if name == "" || name == "*" {
		return mql.Errorf(mql.CodeInvalidOptions, "invalid index name %q", name)
	}
	return mapError(c.coll.Indexes().DropOne(ctx, name))
}

func (c *collection) Watch(ctx context.Context, pipeline []bson.D, opts store.WatchOptions) (store.ChangeStream, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	if !c.s.caps.ChangeStreams {
		return nil, c.s.errNoChangeStreams()
	}
	cs, err := newChangeStream(ctx, pipeline, opts, c.coll.Watch)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return cs, nil
}

func (c *collection) Drop(ctx context.Context) error {
	if err := c.valid(); err != nil {
		return err
	}
	return mapError(c.coll.Drop(ctx))
}
