package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

func indexSummary(idx []store.IndexModel) bson.A {
	a := bson.A{}
	for _, ix := range idx {
		d := bson.D{{Key: "name", Value: ix.Name}, {Key: "key", Value: ix.Keys}}
		if ix.Unique {
			d = append(d, bson.E{Key: "unique", Value: true})
		}
		if ix.PartialFilterExpression != nil {
			d = append(d, bson.E{Key: "partial", Value: ix.PartialFilterExpression})
		}
		a = append(a, d)
	}
	return a
}

// testIndexesGoIntKeys: callers write key directions as Go ints
// (bson.D{{Key: "a", Value: 1}}), as the driver's own examples do; every
// backend takes them as the numbers they are.
func testIndexesGoIntKeys(t *testing.T, e *Env) {
	c := e.C("c")
	name, err := c.CreateIndex(e.Ctx, store.IndexModel{Name: "user_id_1", Keys: bson.D{{Key: "user_id", Value: 1}}})
	NoErr(t, err)
	if name != "user_id_1" {
		t.Errorf("index name %q, want user_id_1", name)
	}
	name, err = c.CreateIndex(e.Ctx, store.IndexModel{Keys: bson.D{{Key: "a", Value: 1}, {Key: "b", Value: -1}}})
	NoErr(t, err)
	if name != "a_1_b_-1" {
		t.Errorf("index name %q, want a_1_b_-1", name)
	}
	idx, err := c.ListIndexes(e.Ctx)
	NoErr(t, err)
	Equal(t, indexSummary(sortIndexes(idx)), `[{"name": "_id_", "key": {"_id": 1}}, {"name": "a_1_b_-1", "key": {"a": 1, "b": -1}},
		{"name": "user_id_1", "key": {"user_id": 1}}]`)
}

func testIndexesCreateListDrop(t *testing.T, e *Env) {
	c := e.C("c")
	// Creating an index creates the collection.
	name, err := c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"a": 1}`)})
	NoErr(t, err)
	if name != "a_1" {
		t.Errorf("index name %q, want a_1", name)
	}
	name, err = c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"a": 1, "b": -1}`)})
	NoErr(t, err)
	if name != "a_1_b_-1" {
		t.Errorf("index name %q, want a_1_b_-1", name)
	}
	name, err = c.CreateIndex(e.Ctx, store.IndexModel{Name: "custom", Keys: D(t, `{"x.y": -1}`)})
	NoErr(t, err)
	if name != "custom" {
		t.Errorf("index name %q, want custom", name)
	}
	names, err := e.DB.ListCollections(e.Ctx)
	NoErr(t, err)
	Equal(t, toA(names), `["c"]`)
	idx, err := c.ListIndexes(e.Ctx)
	NoErr(t, err)
	Equal(t, indexSummary(sortIndexes(idx)), `[{"name": "_id_", "key": {"_id": 1}}, {"name": "a_1", "key": {"a": 1}},
		{"name": "a_1_b_-1", "key": {"a": 1, "b": -1}}, {"name": "custom", "key": {"x.y": -1}}]`)
	// The same index again is a no-op.
	name, err = c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"a": 1}`)})
	NoErr(t, err)
	if name != "a_1" {
		t.Errorf("re-created index name %q, want a_1", name)
	}
	// The same keys under another name, or the same name with other keys.
	_, err = c.CreateIndex(e.Ctx, store.IndexModel{Name: "other", Keys: D(t, `{"a": 1}`)})
	Code(t, err, store.CodeIndexOptionsConflict)
	_, err = c.CreateIndex(e.Ctx, store.IndexModel{Name: "custom", Keys: D(t, `{"z": 1}`)})
	Code(t, err, store.CodeIndexKeySpecsConflict)
	// Empty keys.
	_, err = c.CreateIndex(e.Ctx, store.IndexModel{Keys: bson.D{}})
	if err == nil {
		t.Errorf("an index without keys was created")
	}
	NoErr(t, c.DropIndex(e.Ctx, "a_1"))
	Code(t, c.DropIndex(e.Ctx, "a_1"), store.CodeIndexNotFound)
	Code(t, c.DropIndex(e.Ctx, "nope"), store.CodeIndexNotFound)
	Code(t, c.DropIndex(e.Ctx, "_id_"), mql.CodeInvalidOptions)
	idx, err = c.ListIndexes(e.Ctx)
	NoErr(t, err)
	Equal(t, indexSummary(sortIndexes(idx)), `[{"name": "_id_", "key": {"_id": 1}}, {"name": "a_1_b_-1", "key": {"a": 1, "b": -1}}, {"name": "custom", "key": {"x.y": -1}}]`)
	// Dropping the collection drops its indexes.
	NoErr(t, c.Drop(e.Ctx))
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 1}`))
	NoErr(t, err)
	idx, err = c.ListIndexes(e.Ctx)
	NoErr(t, err)
	Equal(t, indexSummary(idx), `[{"name": "_id_", "key": {"_id": 1}}]`)
}

// testIndexesOnID: the _id index exists already; asking for it again is
// a no-op, and it cannot be dropped.
func testIndexesOnID(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1}]`)
	name, err := c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"_id": 1}`)})
	NoErr(t, err)
	if name != "_id_" {
		t.Errorf("CreateIndex({_id: 1}) = %q, want _id_", name)
	}
	idx, err := c.ListIndexes(e.Ctx)
	NoErr(t, err)
	Equal(t, indexSummary(idx), `[{"name": "_id_", "key": {"_id": 1}}]`)
}

// testIndexesBadSpec: malformed key patterns are refused with a typed
// error and create nothing.
func testIndexesBadSpec(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1}]`)
	for _, keys := range []string{`{"a": "nope"}`, `{"a": 0}`, `{"a": {"x": 1}}`, `{"": 1}`} {
		_, err := c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, keys)})
		if _, ok := errors.AsType[*store.Error](err); !ok {
			t.Errorf("CreateIndex(%s): %v (%T), want a *store.Error", keys, err, err)
		}
	}
	idx, err := c.ListIndexes(e.Ctx)
	NoErr(t, err)
	Equal(t, indexSummary(idx), `[{"name": "_id_", "key": {"_id": 1}}]`)
}

func testIndexesUnique(t *testing.T, e *Env) {
	c := e.C("c")
	_, err := c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"email": 1}`), Unique: true})
	NoErr(t, err)
	Insert(t, e, c, `[{"_id": 1, "email": "x"}, {"_id": 2, "email": "y"}]`)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 3, "email": "x"}`))
	Code(t, err, store.CodeDuplicateKey)
	// Freeing a key makes it usable again.
	_, err = c.DeleteOne(e.Ctx, D(t, `{"_id": 1}`))
	NoErr(t, err)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 6, "email": "x"}`))
	NoErr(t, err)
	// A unique compound index (created while every document has a and b:
	// documents without them would all have the key {a: null, b: null}).
	Insert(t, e, c, `[{"_id": 10, "email": "p", "a": 1, "b": "x"}, {"_id": 11, "email": "q", "a": 1, "b": "y"}]`)
	_, err = c.UpdateMany(e.Ctx, D(t, `{"a": {"$exists": false}}`), D(t, `{"$set": {"a": 0}, "$inc": {"b": 1}}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 6}`), D(t, `{"$set": {"b": 2}}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"a": 1, "b": 1}`), Unique: true})
	NoErr(t, err)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 12, "email": "r", "a": 1, "b": "x"}`))
	Code(t, err, store.CodeDuplicateKey)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 13, "email": "s", "a": 1}`))
	NoErr(t, err)
	// Unordered InsertMany reports each duplicate.
	r, err := c.InsertMany(e.Ctx, Docs(t, `[{"_id": 20, "email": "y"}, {"_id": 21, "email": "z"}, {"_id": 22, "email": "z"}]`), store.InsertManyOptions{Unordered: true})
	Equal(t, failedIndexes(bulkError(t, err)), `[0, 2]`)
	Equal(t, toA(r.InsertedIDs), `[21]`)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}),
		`[{"_id": 2, "email": "y", "a": 0, "b": 1}, {"_id": 6, "email": "x", "a": 0, "b": 2}, {"_id": 10, "email": "p", "a": 1, "b": "x"},
		  {"_id": 11, "email": "q", "a": 1, "b": "y"}, {"_id": 13, "email": "s", "a": 1}, {"_id": 21, "email": "z"}]`)
	idx, err := c.ListIndexes(e.Ctx)
	NoErr(t, err)
	Equal(t, indexSummary(sortIndexes(idx)), `[{"name": "_id_", "key": {"_id": 1}}, {"name": "a_1_b_1", "key": {"a": 1, "b": 1}, "unique": true}, {"name": "email_1", "key": {"email": 1}, "unique": true}]`)
}

// sortIndexes orders indexes by name after _id_: MongoDB's documentation
// does not promise an order beyond that.
func sortIndexes(idx []store.IndexModel) []store.IndexModel {
	out := slices.Clone(idx)
	slices.SortStableFunc(out, func(a, b store.IndexModel) int {
		switch {
		case a.Name == "_id_":
			return -1
		case b.Name == "_id_":
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func testIndexesUniqueUpdate(t *testing.T, e *Env) {
	c := e.C("c")
	_, err := c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"email": 1}`), Unique: true})
	NoErr(t, err)
	Insert(t, e, c, `[{"_id": 1, "email": "x"}, {"_id": 2, "email": "y"}]`)
	// Writes that would duplicate a key fail and change nothing.
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 2}`), D(t, `{"$set": {"email": "x"}}`), store.UpdateOptions{})
	Code(t, err, store.CodeDuplicateKey)
	_, err = c.UpdateMany(e.Ctx, D(t, `{}`), D(t, `{"$set": {"email": "z"}}`), store.UpdateOptions{})
	Code(t, err, store.CodeDuplicateKey)
	_, err = c.ReplaceOne(e.Ctx, D(t, `{"_id": 2}`), D(t, `{"email": "x"}`), store.UpdateOptions{})
	Code(t, err, store.CodeDuplicateKey)
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 7}`), D(t, `{"$set": {"email": "y"}}`), store.UpdateOptions{Upsert: true})
	Code(t, err, store.CodeDuplicateKey)
	_, err = c.FindOneAndUpdate(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"email": "y"}}`), store.FindOneAndModifyOptions{})
	Code(t, err, store.CodeDuplicateKey)
	docs := Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)})
	// UpdateMany is not atomic in MongoDB: the first document may have
	// been changed before the second failed. Nothing else may change.
	if len(docs) != 2 || ejson(docs[1]) != ejson(D(t, `{"_id": 2, "email": "y"}`)) {
		t.Errorf("after the failed writes: %s", ejson(docs))
	}
}

func testIndexesUniqueMissingField(t *testing.T, e *Env) {
	c := e.C("c")
	_, err := c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"email": 1}`), Unique: true})
	NoErr(t, err)
	// Missing fields are indexed as null: only one document may lack it.
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 4}`))
	NoErr(t, err)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 5}`))
	Code(t, err, store.CodeDuplicateKey)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 6, "email": null}`))
	Code(t, err, store.CodeDuplicateKey)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{}), `[{"_id": 4}]`)
}

func testIndexesUniqueOnExistingDuplicates(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "k": 1}, {"_id": 2, "k": 1}]`)
	_, err := c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"k": 1}`), Unique: true})
	Code(t, err, store.CodeDuplicateKey)
	idx, err := c.ListIndexes(e.Ctx)
	NoErr(t, err)
	Equal(t, indexSummary(idx), `[{"name": "_id_", "key": {"_id": 1}}]`)
	// The failed index leaves no trace: duplicates can still be written.
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 3, "k": 1}`))
	NoErr(t, err)
}

// testIndexesUniqueMultikey: a unique index on an array field keys every
// element; one document may repeat a value, two documents may not share
// one.
func testIndexesUniqueMultikey(t *testing.T, e *Env) {
	c := e.C("c")
	_, err := c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"tags": 1}`), Unique: true})
	NoErr(t, err)
	Insert(t, e, c, `[{"_id": 1, "tags": ["a", "b", "a"]}, {"_id": 2, "tags": ["c"]}, {"_id": 3, "tags": "d"}]`)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 4, "tags": ["x", "b"]}`))
	Code(t, err, store.CodeDuplicateKey)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 5, "tags": ["d"]}`))
	Code(t, err, store.CodeDuplicateKey)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 6, "tags": ["e", "f"]}`))
	NoErr(t, err)
	// Removing a value from an array frees it.
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$pull": {"tags": "b"}}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 7, "tags": ["b"]}`))
	NoErr(t, err)
	EqualDocs(t, Find(t, e, c, `{"tags": {"$in": ["a", "b"]}}`, store.FindOptions{Sort: D(t, `{"_id": 1}`), Projection: D(t, `{"_id": 1}`)}), `[{"_id": 1}, {"_id": 7}]`)
}

func testIndexesPartial(t *testing.T, e *Env) {
	c := e.C("c")
	name, err := c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"u": 1}`), Unique: true, PartialFilterExpression: D(t, `{"active": true}`)})
	NoErr(t, err)
	Insert(t, e, c, `[{"_id": 1, "u": 1, "active": false}, {"_id": 2, "u": 1, "active": false}, {"_id": 3, "u": 1, "active": true}, {"_id": 4, "u": 2}]`)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 5, "u": 1, "active": true}`))
	Code(t, err, store.CodeDuplicateKey)
	// Entering the filter through an update is checked too.
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"active": true}}`), store.UpdateOptions{})
	Code(t, err, store.CodeDuplicateKey)
	// Leaving it frees the key.
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 3}`), D(t, `{"$set": {"active": false}}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"active": true}}`), store.UpdateOptions{})
	NoErr(t, err)
	idx, err := c.ListIndexes(e.Ctx)
	NoErr(t, err)
	Equal(t, indexSummary(idx), `[{"name": "_id_", "key": {"_id": 1}}, {"name": "`+name+`", "key": {"u": 1}, "unique": true, "partial": {"active": true}}]`)
	// Queries see every document, whatever the index covers.
	EqualDocs(t, Find(t, e, c, `{"u": 1}`, store.FindOptions{Sort: D(t, `{"_id": 1}`), Projection: D(t, `{"_id": 1}`)}), `[{"_id": 1}, {"_id": 2}, {"_id": 3}]`)
}

// testIndexesQueryResults holds an indexed collection to the results of an
// identical unindexed one, over values of mixed types: whatever plan the
// backend picks, an index never changes what a query returns.
func testIndexesQueryResults(t *testing.T, e *Env) {
	plain, indexed := e.C("plain"), e.C("indexed")
	var docs []bson.D
	for i := 0; i < 300; i++ {
		var n any
		switch i % 10 {
		case 0:
			n = int32(i)
		case 1:
			n = float64(i) + 0.5
		case 2:
			n = int64(i)
		case 3:
			n = fmt.Sprintf("s%03d", i)
		case 4:
			n = bson.A{int32(i), int32(i + 1), "x"}
		case 5:
			n = nil
		case 6:
			// missing
		case 7:
			n = bson.D{{Key: "t", Value: int32(i)}}
		case 8:
			n = i%3 == 0
		case 9:
			n = bson.A{}
		}
		d := bson.D{{Key: "_id", Value: int32(i)}}
		if i%10 != 6 {
			d = append(d, bson.E{Key: "n", Value: n})
		}
		d = append(d, bson.E{Key: "m", Value: int32(i % 7)}, bson.E{Key: "s", Value: bson.D{{Key: "t", Value: int32(i % 5)}}})
		docs = append(docs, d)
	}
	_, err := plain.InsertMany(e.Ctx, docs, store.InsertManyOptions{})
	NoErr(t, err)
	for _, keys := range []string{`{"n": 1}`, `{"m": 1, "n": -1}`, `{"s.t": 1}`} {
		_, err := indexed.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, keys)})
		NoErr(t, err)
	}
	_, err = indexed.InsertMany(e.Ctx, docs, store.InsertManyOptions{})
	NoErr(t, err)
	filters := []string{
		`{"n": 20}`, `{"n": 20.0}`, `{"n": {"$numberLong": "22"}}`, `{"n": 24}`, `{"n": [24, 25, "x"]}`,
		`{"n": {"$gt": 10, "$lte": 60}}`, `{"n": {"$gte": 290}}`, `{"n": {"$lt": 15}}`,
		`{"n": {"$in": [10, 11.5, "s013", null, true]}}`, `{"n": null}`, `{"n": {"$exists": false}}`,
		`{"n": {"$lt": "s100"}}`, `{"n": {"$gte": "s"}}`, `{"n": {"$type": "array"}}`, `{"n": []}`,
		`{"n": {"t": 17}}`, `{"n.t": {"$gt": 100}}`, `{"n": {"$ne": 20}}`, `{"n": {"$nin": [20, null]}}`,
		`{"n": {"$gt": 5}, "m": 1}`, `{"m": 3, "n": {"$lt": 100}}`, `{"m": {"$in": [1, 2]}}`,
		`{"s.t": 3}`, `{"s.t": {"$gte": 3}}`, `{"_id": 17}`, `{"_id": {"$in": [1, 5, 299, 300]}}`,
		`{"_id": {"$gt": 250}}`, `{"_id": {"$gte": 10, "$lt": 13.5}}`, `{"$or": [{"n": 20}, {"m": 2}]}`,
		`{"n": false}`, `{"n": {"$gte": false}}`, `{"n": {"$elemMatch": {"$gt": 100}}}`,
	}
	for _, f := range filters {
		opts := store.FindOptions{Sort: D(t, `{"_id": 1}`), Projection: D(t, `{"_id": 1}`)}
		want := ejson(docsA(Find(t, e, plain, f, opts)))
		got := ejson(docsA(Find(t, e, indexed, f, opts)))
		if got != want {
			t.Errorf("filter %s\nindexed   %s\nunindexed %s", f, got, want)
		}
		n1, err := plain.CountDocuments(e.Ctx, D(t, f), store.CountOptions{})
		NoErr(t, err)
		n2, err := indexed.CountDocuments(e.Ctx, D(t, f), store.CountOptions{})
		NoErr(t, err)
		if n1 != n2 {
			t.Errorf("filter %s: count %d indexed, %d unindexed", f, n2, n1)
		}
	}
	// A few answers checked by hand, so that both being wrong shows.
	EqualDocs(t, Find(t, e, indexed, `{"n": {"$in": [20, 21.5, "s023"]}}`, store.FindOptions{Sort: D(t, `{"_id": 1}`), Projection: D(t, `{"_id": 1}`)}),
		`[{"_id": 20}, {"_id": 21}, {"_id": 23}]`)
	EqualDocs(t, Find(t, e, indexed, `{"n": 25}`, store.FindOptions{Projection: D(t, `{"_id": 1}`)}), `[{"_id": 24}]`)
	n, err := indexed.CountDocuments(e.Ctx, D(t, `{"n": null}`), store.CountOptions{})
	NoErr(t, err)
	if n != 60 { // 30 nulls and 30 missing
		t.Errorf("count of n: null is %d, want 60", n)
	}
}

func docsA(ds []bson.D) bson.A {
	a := bson.A{}
	for _, d := range ds {
		a = append(a, d)
	}
	return a
}
