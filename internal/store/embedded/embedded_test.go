package embedded

import (
	"bytes"
	"context"
	"errors"
	"math"
	"sort"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

func openTest(t testing.TB, dir string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeyOrder(t *testing.T) {
	vals := []any{
		bson.MinKey{}, nil, math.Inf(-1), int64(math.MinInt64), -1.5, int32(-1), 0.0, int32(0), 0.5, int32(1), int64(1), 1.0,
		float64(1 << 53), int64(1<<53 + 1), int64(math.MaxInt64), math.Inf(1),
		"", "a", "a\x00", "ab", "b",
		bson.D{}, bson.D{{Key: "a", Value: int32(1)}}, bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: nil}},
		bson.A{}, bson.A{int32(1)}, bson.A{int32(1), int32(2)},
		bson.Binary{Data: []byte{9}}, bson.Binary{Data: []byte{1, 2}},
		bson.ObjectID{1}, bson.ObjectID{2},
		false, true,
		bson.DateTime(-5), bson.DateTime(0), bson.DateTime(7),
		bson.Timestamp{T: 1, I: 2}, bson.Timestamp{T: 2, I: 1},
		bson.Regex{Pattern: "a"},
		bson.MaxKey{},
	}
	dec := func(s string) bson.Decimal128 {
		d, err := bson.ParseDecimal128(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// Decimals equal to an int64 or a double order and equate exactly.
	vals = append(vals, dec("1"), dec("1.000"), dec("0.5"), dec("-1.5"), dec("9007199254740993"), dec("-0"), dec("1E+3"))
	for i := range vals {
		for j := range vals {
			want := mql.Compare(vals[i], vals[j])
			got := bytes.Compare(appendKey(nil, vals[i]), appendKey(nil, vals[j]))
			if want != got {
				t.Errorf("order of %#v vs %#v: key %d, mql %d", vals[i], vals[j], got, want)
			}
		}
	}
}

// TestDecimalKeys: a decimal that no int64 or double equals gets a key of
// its own (never colliding), and equal decimals (0.1, 0.10) share one.
func TestDecimalKeys(t *testing.T) {
	d1, _ := bson.ParseDecimal128("0.1")
	d2, _ := bson.ParseDecimal128("0.10")
	d3, _ := bson.ParseDecimal128("0.2")
	k1, k2, k3 := appendKey(nil, d1), appendKey(nil, d2), appendKey(nil, d3)
	if bytes.Equal(k1, appendKey(nil, 0.1)) || bytes.Equal(k1, k3) || bytes.Compare(k1, k3) >= 0 || !bytes.Equal(k1, k2) {
		t.Fatal("inexact decimal keys collide, differ when equal, or misorder")
	}
}

// TestDecimalRange: a range query with a double bound finds stored
// decimals whose nearest double is the bound, through an index and _id.
func TestDecimalRange(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	c := s.Database("app").Collection("dec")
	if _, err := c.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "a", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	below, _ := bson.ParseDecimal128("0.09999999999999999999") // < 0.1 (double), nearest double 0.1
	above, _ := bson.ParseDecimal128("0.1000000000000000056")  // > 0.1 (double), nearest double 0.1
	c.InsertMany(ctx, []bson.D{{{Key: "_id", Value: below}, {Key: "a", Value: below}}, {{Key: "_id", Value: above}, {Key: "a", Value: above}}}, store.InsertManyOptions{})
	for _, f := range []string{"a", "_id"} {
		for op, want := range map[string]any{"$lt": below, "$gt": above} {
			got, err := store.All(ctx, must(c.Find(ctx, bson.D{{Key: f, Value: bson.D{{Key: op, Value: 0.1}}}}, store.FindOptions{})))
			if err != nil || len(got) != 1 || !mql.Equal(mql.Get(got[0], "a"), want) {
				t.Fatalf("%s %s 0.1: %v %v", f, op, got, err)
			}
		}
	}
}

func TestBasics(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	if _, err := Open(ctx, dir, Options{}); err == nil {
		t.Fatal("second Open of the same directory succeeded")
	}
	c := s.Database("app").Collection("items")
	res, err := c.InsertOne(ctx, bson.D{{Key: "x", Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.InsertedID.(bson.ObjectID); !ok {
		t.Fatalf("generated _id %T", res.InsertedID)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "v", Value: "first"}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}})
	if !store.IsDuplicateKey(err) || err.Error() != `E11000 duplicate key error collection: app.items index: _id_ dup key: { _id: "a" }` {
		t.Fatalf("duplicate insert: %v", err)
	}
	got, err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}, store.FindOptions{})
	if err != nil || mql.Get(got, "v") != "first" {
		t.Fatalf("FindOne: %v %v", got, err)
	}
	if _, err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "zz"}}, store.FindOptions{}); err != store.ErrNoDocuments {
		t.Fatalf("FindOne missing: %v", err)
	}
	// ordered / unordered InsertMany
	docs := []bson.D{{{Key: "_id", Value: 10}}, {{Key: "_id", Value: "a"}}, {{Key: "_id", Value: 11}}}
	r, err := c.InsertMany(ctx, docs, store.InsertManyOptions{})
	var bwe *store.BulkWriteError
	if !errors.As(err, &bwe) || len(bwe.WriteErrors) != 1 || bwe.WriteErrors[0].Index != 1 || len(r.InsertedIDs) != 1 {
		t.Fatalf("ordered InsertMany: %v %+v", err, r)
	}
	docs = []bson.D{{{Key: "_id", Value: 10}}, {{Key: "_id", Value: 12}}, {{Key: "_id", Value: bson.A{1}}}, {{Key: "_id", Value: 13}}}
	r, err = c.InsertMany(ctx, docs, store.InsertManyOptions{Unordered: true})
	if !errors.As(err, &bwe) || len(bwe.WriteErrors) != 2 || len(r.InsertedIDs) != 2 || bwe.WriteErrors[1].Code != 2 {
		t.Fatalf("unordered InsertMany: %v %+v", err, r)
	}
	all, err := store.All(ctx, must(c.Find(ctx, nil, store.FindOptions{})))
	if err != nil || len(all) != 5 {
		t.Fatalf("Find all: %d %v", len(all), err)
	}
	// _id range through the primary key
	rng, err := store.All(ctx, must(c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: 11}}}}, store.FindOptions{})))
	if err != nil || len(rng) != 2 {
		t.Fatalf("range: %v %v", rng, err)
	}
	// bad names and limits
	if _, err := s.Database("a.b").Collection("x").InsertOne(ctx, bson.D{}); store.ErrorCode(err) != store.CodeInvalidNamespace {
		t.Fatalf("bad db name: %v", err)
	}
	if _, err := s.Database("a").Collection("system.x").InsertOne(ctx, bson.D{}); store.ErrorCode(err) != store.CodeInvalidNamespace {
		t.Fatalf("bad coll name: %v", err)
	}
	big := bson.D{{Key: "b", Value: bson.Binary{Data: make([]byte, 17<<20)}}}
	if _, err := c.InsertOne(ctx, big); store.ErrorCode(err) != mql.CodeBSONObjectTooLarge {
		t.Fatalf("big doc: %v", err)
	}
	deep := bson.D{{Key: "x", Value: 1}}
	for range 120 {
		deep = bson.D{{Key: "d", Value: deep}}
	}
	if _, err := c.InsertOne(ctx, deep); err == nil {
		t.Fatal("deep doc accepted")
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "$set", Value: 1}}); store.ErrorCode(err) != mql.CodeDollarPrefixedFieldName {
		t.Fatalf("$ field: %v", err)
	}
	// unique index: existing duplicates (missing = null) refuse it
	if _, err := c.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "v", Value: 1}}, Unique: true}); !store.IsDuplicateKey(err) {
		t.Fatalf("unique index over duplicates: %v", err)
	}
	u := s.Database("app").Collection("uniq")
	if _, err := u.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "v", Value: 1}}, Unique: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := u.InsertOne(ctx, bson.D{{Key: "v", Value: "first"}}); err != nil {
		t.Fatal(err)
	}
	_, err = u.InsertOne(ctx, bson.D{{Key: "v", Value: "first"}})
	if err == nil || err.Error() != `E11000 duplicate key error collection: app.uniq index: v_1 dup key: { v: "first" }` {
		t.Fatalf("unique: %v", err)
	}
	if _, err := c.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "v", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	idx, _ := c.ListIndexes(ctx)
	if len(idx) != 2 || idx[0].Name != "_id_" || idx[1].Name != "v_1" {
		t.Fatalf("indexes %+v", idx)
	}
	dbs, _ := s.ListDatabases(ctx)
	if n, _ := u.CountDocuments(ctx, nil, store.CountOptions{}); n != 1 {
		t.Fatalf("uniq count %d", n)
	}
	if len(dbs) != 1 || dbs[0] != "app" {
		t.Fatalf("dbs %v", dbs)
	}
	// change stream sees an insert; reopen keeps data and oplog
	cs, err := c.Watch(ctx, nil, store.WatchOptions{MaxAwaitTime: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "w"}}); err != nil {
		t.Fatal(err)
	}
	if !cs.Next(ctx) {
		t.Fatalf("no event: %v", cs.Err())
	}
	ev := cs.Event()
	if mql.Get(ev, "operationType") != "insert" || !mql.Equal(mql.Get(ev, "documentKey"), bson.D{{Key: "_id", Value: "w"}}) {
		t.Fatalf("event %v", ev)
	}
	tok := cs.ResumeToken()
	// transaction: abort leaves nothing, commit keeps both
	boom := errors.New("boom")
	err = s.WithTransaction(ctx, func(ctx context.Context) error {
		if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "t1"}}); err != nil {
			return err
		}
		if _, err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "t1"}}, store.FindOptions{}); err != nil {
			t.Errorf("tx does not see own write: %v", err)
		}
		return boom
	})
	if err != boom {
		t.Fatal(err)
	}
	if _, err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "t1"}}, store.FindOptions{}); err != store.ErrNoDocuments {
		t.Fatalf("aborted write visible: %v", err)
	}
	err = s.WithTransaction(ctx, func(ctx context.Context) error {
		for _, id := range []string{"t2", "t3"} {
			if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	defer s.Close(ctx)
	c = s.Database("app").Collection("items")
	n, err := c.CountDocuments(ctx, nil, store.CountOptions{})
	if err != nil || n != 8 {
		t.Fatalf("after reopen: %d %v", n, err)
	}
	cs, err = c.Watch(ctx, nil, store.WatchOptions{ResumeAfter: tok, MaxAwaitTime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for cs.Next(ctx) {
		ids = append(ids, mql.Get(mql.Get(cs.Event(), "documentKey").(bson.D), "_id").(string))
	}
	sort.Strings(ids)
	if len(ids) != 2 || ids[0] != "t2" || ids[1] != "t3" {
		t.Fatalf("resumed events %v (%v)", ids, cs.Err())
	}
	// drop
	if err := c.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if names, _ := s.Database("app").ListCollections(ctx); len(names) != 1 {
		t.Fatalf("after drop %v", names)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
