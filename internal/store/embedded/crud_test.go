package embedded

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

func ids(docs []bson.D) []any {
	var out []any
	for _, d := range docs {
		out = append(out, mql.Get(d, "_id"))
	}
	return out
}

func TestCRUDAndIndexes(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	db := s.Database("app")
	if err := db.CreateCollection(ctx, "people", store.CreateCollectionOptions{ChangeStreamPreAndPostImages: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCollection(ctx, "people", store.CreateCollectionOptions{}); store.ErrorCode(err) != store.CodeNamespaceExists {
		t.Fatalf("create twice: %v", err)
	}
	c := db.Collection("people")
	if _, err := c.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "age", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "tags", Value: 1}, {Key: "age", Value: -1}}}); err != nil {
		t.Fatal(err)
	}
	cs, err := c.Watch(ctx, []bson.D{{{Key: "$match", Value: bson.D{{Key: "operationType", Value: bson.D{{Key: "$ne", Value: "insert"}}}}}}},
		store.WatchOptions{FullDocument: "updateLookup", FullDocumentBeforeChange: "whenAvailable", MaxAwaitTime: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	docs := []bson.D{
		{{Key: "_id", Value: 1}, {Key: "name", Value: "ann"}, {Key: "age", Value: 30}, {Key: "tags", Value: bson.A{"a", "b"}}},
		{{Key: "_id", Value: 2}, {Key: "name", Value: "bob"}, {Key: "age", Value: 25.5}, {Key: "tags", Value: bson.A{"b"}}},
		{{Key: "_id", Value: 3}, {Key: "name", Value: "cy"}, {Key: "age", Value: int64(40)}, {Key: "tags", Value: bson.A{}}},
		{{Key: "_id", Value: 4}, {Key: "name", Value: "di"}},
	}
	if _, err := c.InsertMany(ctx, docs, store.InsertManyOptions{}); err != nil {
		t.Fatal(err)
	}
	find := func(filter bson.D, opts store.FindOptions) []any {
		t.Helper()
		cur, err := c.Find(ctx, filter, opts)
		if err != nil {
			t.Fatalf("find %v: %v", filter, err)
		}
		all, err := store.All(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		return ids(all)
	}
	check := func(got []any, want ...any) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %v want %v", got, want)
		}
		for i := range got {
			if !mql.Equal(got[i], mql.Normalize(want[i])) {
				t.Fatalf("got %v want %v", got, want)
			}
		}
	}
	byID := store.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}}
	check(find(bson.D{{Key: "age", Value: bson.D{{Key: "$gte", Value: 26}}}}, byID), 1, 3)
	check(find(bson.D{{Key: "age", Value: bson.D{{Key: "$in", Value: bson.A{25.5, 40}}}}}, byID), 2, 3)
	check(find(bson.D{{Key: "tags", Value: "b"}}, byID), 1, 2)
	check(find(bson.D{{Key: "age", Value: 30}, {Key: "name", Value: "zz"}}, byID))
	check(find(bson.D{{Key: "age", Value: nil}}, byID), 4)
	check(find(nil, store.FindOptions{Sort: bson.D{{Key: "age", Value: -1}}, Skip: 1, Limit: 2}), 1, 2)
	got, err := c.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}, store.FindOptions{Projection: bson.D{{Key: "name", Value: 1}, {Key: "_id", Value: 0}}})
	if err != nil || len(got) != 1 || mql.Get(got, "name") != "ann" {
		t.Fatalf("projection: %v %v", got, err)
	}
	if _, err := c.Find(ctx, bson.D{{Key: "$bogus", Value: 1}}, store.FindOptions{}); err == nil {
		t.Fatal("bad filter accepted")
	}
	n, _ := c.CountDocuments(ctx, bson.D{{Key: "tags", Value: bson.D{{Key: "$exists", Value: true}}}}, store.CountOptions{})
	if n != 3 {
		t.Fatalf("count %d", n)
	}
	dv, err := c.Distinct(ctx, "tags", nil)
	if err != nil || len(dv) != 2 {
		t.Fatalf("distinct %v %v", dv, err)
	}
	// updates
	ur, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "age", Value: 31}}}, {Key: "$pop", Value: bson.D{{Key: "tags", Value: 1}}}}, store.UpdateOptions{})
	if err != nil || ur.MatchedCount != 1 || ur.ModifiedCount != 1 {
		t.Fatalf("update: %+v %v", ur, err)
	}
	check(find(bson.D{{Key: "age", Value: 31}}, byID), 1)
	check(find(bson.D{{Key: "age", Value: 30}}, byID))
	check(find(bson.D{{Key: "tags", Value: "a"}}, byID), 1)
	check(find(bson.D{{Key: "tags", Value: "b"}}, byID), 2)
	if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "_id", Value: 9}}}}, store.UpdateOptions{}); store.ErrorCode(err) != mql.CodeImmutableField {
		t.Fatalf("_id change: %v", err)
	}
	ur, err = c.UpdateMany(ctx, bson.D{{Key: "age", Value: bson.D{{Key: "$exists", Value: true}}}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, store.UpdateOptions{})
	if err != nil || ur.MatchedCount != 3 || ur.ModifiedCount != 3 {
		t.Fatalf("updateMany: %+v %v", ur, err)
	}
	ur, err = c.UpdateOne(ctx, bson.D{{Key: "name", Value: "ed"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "age", Value: 50}}}}, store.UpdateOptions{Upsert: true})
	if err != nil || ur.UpsertedCount != 1 {
		t.Fatalf("upsert: %+v %v", ur, err)
	}
	check(find(bson.D{{Key: "age", Value: 50}}, byID), ur.UpsertedID)
	rr, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "name", Value: "bobby"}}, store.UpdateOptions{})
	if err != nil || rr.ModifiedCount != 1 {
		t.Fatalf("replace: %+v %v", rr, err)
	}
	check(find(bson.D{{Key: "tags", Value: "b"}}, byID))
	before, err := c.FindOneAndUpdate(ctx, bson.D{{Key: "age", Value: bson.D{{Key: "$gt", Value: 0}}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: true}}}},
		store.FindOneAndModifyOptions{Sort: bson.D{{Key: "age", Value: -1}}})
	if err != nil || mql.Get(before, "age") != int32(50) || !mql.IsMissing(mql.Get(before, "x")) {
		t.Fatalf("findOneAndUpdate: %v %v", before, err)
	}
	after, err := c.FindOneAndReplace(ctx, bson.D{{Key: "_id", Value: 3}}, bson.D{{Key: "z", Value: 1}}, store.FindOneAndModifyOptions{ReturnAfter: true})
	if err != nil || len(after) != 2 || mql.Get(after, "z") != int32(1) {
		t.Fatalf("findOneAndReplace: %v %v", after, err)
	}
	del, err := c.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: 4}}, store.FindOneAndModifyOptions{})
	if err != nil || mql.Get(del, "name") != "di" {
		t.Fatalf("findOneAndDelete: %v %v", del, err)
	}
	if _, err := c.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: 4}}, store.FindOneAndModifyOptions{}); err != store.ErrNoDocuments {
		t.Fatalf("findOneAndDelete missing: %v", err)
	}
	dr, err := c.DeleteMany(ctx, bson.D{{Key: "z", Value: 1}})
	if err != nil || dr.DeletedCount != 1 {
		t.Fatalf("deleteMany: %+v %v", dr, err)
	}
	// aggregate with a pushed-down $match and $lookup on another collection
	o := db.Collection("orders")
	o.InsertOne(ctx, bson.D{{Key: "_id", Value: "o1"}, {Key: "who", Value: 1}})
	agg, err := c.Aggregate(ctx, []bson.D{
		{{Key: "$match", Value: bson.D{{Key: "_id", Value: 1}}}},
		{{Key: "$lookup", Value: bson.D{{Key: "from", Value: "orders"}, {Key: "localField", Value: "_id"}, {Key: "foreignField", Value: "who"}, {Key: "as", Value: "orders"}}}},
	}, store.AggregateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := store.All(ctx, agg)
	if len(res) != 1 || len(mql.Get(res[0], "orders").(bson.A)) != 1 {
		t.Fatalf("aggregate: %v", res)
	}
	// change events: update (with description, lookup and pre-image), replace, deletes
	var types []string
	for range 7 {
		if !cs.Next(ctx) {
			t.Fatalf("missing event after %v: %v", types, cs.Err())
		}
		ev := cs.Event()
		types = append(types, mql.Get(ev, "operationType").(string))
		if len(types) == 1 {
			ud := mql.Get(ev, "updateDescription").(bson.D)
			want := bson.D{{Key: "updatedFields", Value: bson.D{{Key: "age", Value: int32(31)}, {Key: "tags", Value: bson.A{"a"}}}}, {Key: "removedFields", Value: bson.A{}},
				{Key: "truncatedArrays", Value: bson.A{}}}
			if !mql.Identical(ud, want) {
				t.Errorf("updateDescription %v", ud)
			}
			if pre, ok := mql.Get(ev, "fullDocumentBeforeChange").(bson.D); !ok || mql.Get(pre, "age") != int32(30) {
				t.Errorf("pre-image %v", ev)
			}
			if _, ok := mql.Get(ev, "fullDocument").(bson.D); !ok {
				t.Errorf("updateLookup %v", ev)
			}
		}
	}
	want := []string{"update", "update", "update", "update", "replace", "update", "replace"}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("event types %v", types)
		}
	}
}

// TestMultikeyRange: on an array field, the two bounds of a range may be
// met by different elements, and the index plan must still find it.
func TestMultikeyRange(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	c := s.Database("app").Collection("mk")
	if _, err := c.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "a", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	c.InsertMany(ctx, []bson.D{
		{{Key: "_id", Value: 1}, {Key: "a", Value: bson.A{0, 5}}},
		{{Key: "_id", Value: 2}, {Key: "a", Value: 2}},
		{{Key: "_id", Value: 3}, {Key: "a", Value: 7}},
	}, store.InsertManyOptions{})
	n, err := c.CountDocuments(ctx, bson.D{{Key: "a", Value: bson.D{{Key: "$gt", Value: 1}, {Key: "$lt", Value: 3}}}}, store.CountOptions{})
	if err != nil || n != 2 {
		t.Fatalf("count %d %v", n, err)
	}
}

// TestScanCursor: an unsorted full scan streams batch by batch with
// filter, skip, limit and projection across batch boundaries.
func TestScanCursor(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	c := s.Database("app").Collection("scan")
	var docs []bson.D
	for i := range 1500 {
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "even", Value: i%2 == 0}})
	}
	if _, err := c.InsertMany(ctx, docs, store.InsertManyOptions{}); err != nil {
		t.Fatal(err)
	}
	cur, err := c.Find(ctx, bson.D{{Key: "even", Value: true}}, store.FindOptions{Skip: 100, Limit: 500, Projection: bson.D{{Key: "even", Value: 0}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cur.(*scanCursor); !ok {
		t.Fatalf("cursor %T is not streaming", cur)
	}
	got, err := store.All(ctx, cur)
	if err != nil || len(got) != 500 {
		t.Fatalf("%d docs, %v", len(got), err)
	}
	for i, d := range got {
		if len(d) != 1 || !mql.Equal(mql.Get(d, "_id"), int32(200+2*i)) {
			t.Fatalf("doc %d = %v", i, d)
		}
	}
	all, _ := store.All(ctx, must(c.Find(ctx, nil, store.FindOptions{})))
	if len(all) != 1500 {
		t.Fatalf("full scan %d", len(all))
	}
}

func TestUniqueOnUpdateAndUpsertReplace(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	c := s.Database("app").Collection("u")
	if _, err := c.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "e", Value: 1}}, Unique: true,
		PartialFilterExpression: bson.D{{Key: "e", Value: bson.D{{Key: "$exists", Value: true}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertMany(ctx, []bson.D{
		{{Key: "_id", Value: 1}, {Key: "e", Value: "a"}},
		{{Key: "_id", Value: 2}, {Key: "e", Value: "b"}},
		{{Key: "_id", Value: 3}}, {{Key: "_id", Value: 4}}, // partial: missing e is not indexed
	}, store.InsertManyOptions{}); err != nil {
		t.Fatal(err)
	}
	// A document refused by a secondary unique index leaves no trace, alone
	// or in a batch.
	for _, batch := range [][]bson.D{{{{Key: "_id", Value: 30}, {Key: "e", Value: "a"}}},
		{{{Key: "_id", Value: 31}}, {{Key: "_id", Value: 32}, {Key: "e", Value: "b"}}}} {
		if _, err := c.InsertMany(ctx, batch, store.InsertManyOptions{}); !store.IsDuplicateKey(err) {
			t.Fatalf("InsertMany duplicate: %v", err)
		}
	}
	for _, id := range []int{30, 32} {
		if _, err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, store.FindOptions{}); err != store.ErrNoDocuments {
			t.Fatalf("refused document %d is visible: %v", id, err)
		}
	}
	c.DeleteOne(ctx, bson.D{{Key: "_id", Value: 31}})
	// UpdateMany setting the same e on two documents: E11000, nothing changed.
	_, err := c.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{3, 4}}}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "e", Value: "z"}}}}, store.UpdateOptions{})
	if !store.IsDuplicateKey(err) {
		t.Fatalf("UpdateMany duplicate: %v", err)
	}
	if n, _ := c.CountDocuments(ctx, bson.D{{Key: "e", Value: "z"}}, store.CountOptions{}); n != 0 {
		t.Fatalf("partial UpdateMany visible: %d", n)
	}
	// An update moving a key frees the old one.
	if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "e", Value: bson.A{"c", "d"}}}}}, store.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 5}, {Key: "e", Value: "a"}}); err != nil {
		t.Fatalf("freed key: %v", err)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 6}, {Key: "e", Value: "d"}}); !store.IsDuplicateKey(err) {
		t.Fatalf("multikey unique: %v", err)
	}
	// ReplaceOne upsert takes _id from the filter.
	r, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 9}}, bson.D{{Key: "x", Value: 1}}, store.UpdateOptions{Upsert: true})
	if err != nil || !mql.Equal(r.UpsertedID, int32(9)) {
		t.Fatalf("replace upsert: %+v %v", r, err)
	}
	d, err := c.FindOne(ctx, bson.D{{Key: "_id", Value: 9}}, store.FindOptions{})
	if err != nil || len(d) != 2 || d[0].Key != "_id" {
		t.Fatalf("upserted %v %v", d, err)
	}
	// Transactions see and undo index changes too.
	err = s.WithTransaction(ctx, func(ctx context.Context) error {
		if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 20}, {Key: "e", Value: "tx"}}); err != nil {
			return err
		}
		if n, _ := c.CountDocuments(ctx, bson.D{{Key: "e", Value: "tx"}}, store.CountOptions{}); n != 1 {
			t.Errorf("tx does not see its index entry")
		}
		_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 21}, {Key: "e", Value: "tx"}})
		return err
	})
	if !store.IsDuplicateKey(err) {
		t.Fatalf("tx: %v", err)
	}
	if n, _ := c.CountDocuments(ctx, bson.D{{Key: "e", Value: "tx"}}, store.CountOptions{}); n != 0 {
		t.Fatalf("aborted tx left %d", n)
	}
}

func TestSortByIDPushdown(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	c := s.Database("app").Collection("sid")
	var docs []bson.D
	for i := range 1200 {
		docs = append(docs, bson.D{{Key: "_id", Value: (i * 7) % 1200}, {Key: "odd", Value: i%2 == 1}})
	}
	if _, err := c.InsertMany(ctx, docs, store.InsertManyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []int{1, -1} {
		got, err := store.All(ctx, must(c.Find(ctx, bson.D{{Key: "odd", Value: true}}, store.FindOptions{Sort: bson.D{{Key: "_id", Value: dir}}, Skip: 10, Limit: 700})))
		if err != nil || len(got) != 590 {
			t.Fatalf("dir %d: %d docs %v", dir, len(got), err)
		}
		for i := 1; i < len(got); i++ {
			if mql.Compare(mql.Get(got[i-1], "_id"), mql.Get(got[i], "_id")) != -dir {
				t.Fatalf("dir %d: out of order at %d", dir, i)
			}
		}
	}
	got, err := store.All(ctx, must(c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{900, 5, 300}}}}}, store.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}, Limit: 2})))
	if err != nil || len(got) != 2 || !mql.Equal(mql.Get(got[0], "_id"), int32(5)) || !mql.Equal(mql.Get(got[1], "_id"), int32(300)) {
		t.Fatalf("$in sorted: %v %v", got, err)
	}
}
