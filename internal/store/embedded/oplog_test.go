package embedded

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

func TestOplogRetention(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{OplogRetention: 10})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Database("app").Collection("r")
	cs, err := c.Watch(ctx, nil, store.WatchOptions{MaxAwaitTime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	first := cs.ResumeToken()
	for i := range 40 {
		if _, err := c.InsertOne(ctx, bson.D{{Key: "i", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Watch(ctx, nil, store.WatchOptions{ResumeAfter: first}); store.ErrorCode(err) != store.CodeChangeStreamHistoryLost {
		t.Fatalf("resume from a trimmed token: %v", err)
	}
	// A stream that fell behind the trim reports the loss too.
	if cs.Next(ctx) || store.ErrorCode(cs.Err()) != store.CodeChangeStreamHistoryLost {
		t.Fatalf("lagging stream: %v", cs.Err())
	}
	// Trimming survives a restart.
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, dir, Options{OplogRetention: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if _, err := s.Database("app").Collection("r").Watch(ctx, nil, store.WatchOptions{ResumeAfter: first}); store.ErrorCode(err) != store.CodeChangeStreamHistoryLost {
		t.Fatalf("resume from a trimmed token after restart: %v", err)
	}
	if _, err := s.Database("app").Collection("r").Watch(ctx, nil, store.WatchOptions{ResumeAfter: bson.D{{Key: "_data", Value: "zz"}}}); store.ErrorCode(err) != store.CodeInvalidResumeToken {
		t.Fatalf("bad token: %v", err)
	}
}

func TestWatchDatabaseDropAndStartAt(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	db := s.Database("app")
	a, b := db.Collection("a"), db.Collection("b")
	if _, err := a.InsertOne(ctx, bson.D{{Key: "_id", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	dbs, err := db.Watch(ctx, nil, store.WatchOptions{MaxAwaitTime: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := a.Watch(ctx, nil, store.WatchOptions{MaxAwaitTime: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	b.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}})
	s.Database("other").Collection("a").InsertOne(ctx, bson.D{{Key: "_id", Value: 3}})
	if err := a.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for dbs.Next(ctx) {
		ev := dbs.Event()
		got = append(got, mql.Get(ev, "operationType").(string)+":"+mql.Get(mql.Get(ev, "ns").(bson.D), "coll").(string))
		if len(got) == 4 {
			break
		}
	}
	want := []string{"insert:a", "insert:b", "drop:a"}
	if len(got) != 3 {
		t.Fatalf("database stream: %v %v", got, dbs.Err())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("database stream: %v", got)
		}
	}
	got = nil
	for cs.Next(ctx) {
		got = append(got, mql.Get(cs.Event(), "operationType").(string))
	}
	if len(got) != 3 || got[0] != "insert" || got[1] != "drop" || got[2] != "invalidate" {
		t.Fatalf("collection stream: %v %v", got, cs.Err())
	}
	// StartAtOperationTime from the first event replays everything.
	all, err := db.Watch(ctx, nil, store.WatchOptions{StartAtOperationTime: &bson.Timestamp{T: 1}, MaxAwaitTime: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for all.Next(ctx) {
		n++
	}
	if n != 4 {
		t.Fatalf("startAtOperationTime: %d events", n)
	}
	if err := db.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if names, _ := db.ListCollections(ctx); len(names) != 0 {
		t.Fatalf("after dropDatabase: %v", names)
	}
}

func TestBadInputLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	c := s.Database("app").Collection("bad")
	if _, err := c.InsertMany(ctx, []bson.D{
		{{Key: "_id", Value: 1}, {Key: "n", Value: 1}},
		{{Key: "_id", Value: 2}, {Key: "n", Value: "text"}},
		{{Key: "_id", Value: 3}, {Key: "n", Value: 3}},
	}, store.InsertManyOptions{}); err != nil {
		t.Fatal(err)
	}
	cs, err := c.Watch(ctx, nil, store.WatchOptions{MaxAwaitTime: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// $inc fails on the second document: the first is not left updated.
	if _, err := c.UpdateMany(ctx, nil, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, store.UpdateOptions{}); store.ErrorCode(err) == 0 {
		t.Fatalf("$inc on a string: %v", err)
	}
	d, _ := c.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}, store.FindOptions{})
	if mql.Get(d, "n") != int32(1) {
		t.Fatalf("partial update visible: %v", d)
	}
	for _, u := range []bson.D{
		{{Key: "$bogus", Value: bson.D{{Key: "n", Value: 1}}}},
		{{Key: "n", Value: 1}},
		{},
	} {
		if _, err := c.UpdateOne(ctx, nil, u, store.UpdateOptions{}); store.ErrorCode(err) == 0 {
			t.Fatalf("malformed update %v: %v", u, err)
		}
	}
	if _, err := c.DeleteMany(ctx, bson.D{{Key: "n", Value: bson.D{{Key: "$bogus", Value: 1}}}}); store.ErrorCode(err) == 0 {
		t.Fatalf("malformed filter: %v", err)
	}
	if _, err := c.ReplaceOne(ctx, nil, bson.D{{Key: "$set", Value: 1}}, store.UpdateOptions{}); store.ErrorCode(err) == 0 {
		t.Fatalf("replacement with operators: %v", err)
	}
	if cs.Next(ctx) {
		t.Fatalf("failed writes produced an event: %v", cs.Event())
	}
	// Document-valued _id is found through the primary key.
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "a", Value: 1}, {Key: "b", Value: "x"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FindOne(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "a", Value: 1.0}, {Key: "b", Value: "x"}}}}, store.FindOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestTransactionLifetime: a transaction left open past the limit is
// rolled back and stops blocking other writers.
func TestTransactionLifetime(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	s.txLifetime = 300 * time.Millisecond
	c := s.Database("app").Collection("tx")
	err := s.WithTransaction(ctx, func(tctx context.Context) error {
		if _, err := c.InsertOne(tctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
			return err
		}
		// Another writer is served once the transaction expires.
		if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}}); err != nil {
			return err
		}
		_, err := c.InsertOne(tctx, bson.D{{Key: "_id", Value: 3}})
		return err
	})
	if store.ErrorCode(err) != store.CodeNoSuchTransaction {
		t.Fatalf("expired transaction: %v", err)
	}
	n, _ := c.CountDocuments(ctx, nil, store.CountOptions{})
	if n != 1 {
		t.Fatalf("%d documents, want only the outside insert", n)
	}
}
