package dataaccess

// Tests for docs/compat.md entries of the dataaccess package that no other
// test held on its own.

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/rules"
	"github.com/atollhq/atoll/internal/store"
)

// Reads return at most MaxResults documents (App Services: 50,000): more
// is ReadSizeLimitExceeded rather than a silently truncated answer; a
// negative limit means its absolute value.
func TestCompatReadSizeLimitAndNegativeLimit(t *testing.T) {
	f := newFixture(t)
	a, err := New(testApp(), f.st, Options{MaxResults: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	for i := 0; i < 4; i++ {
		f.seed("open", d("_id", int32(i)))
	}
	c, err := a.Collection(f.ctx, f.alice, "mongodb-atlas", "tracker", "open")
	if err != nil {
		t.Fatal(err)
	}
	var de *Error
	if _, err := c.Find(f.ctx, nil, FindOptions{}); !errors.As(err, &de) || de.Code != CodeReadSizeLimit {
		t.Fatalf("find of 4 with a cap of 3: %v", err)
	}
	if _, err := c.Aggregate(f.ctx, nil); !errors.As(err, &de) || de.Code != CodeReadSizeLimit {
		t.Fatalf("aggregate of 4 with a cap of 3: %v", err)
	}
	if got, err := c.Find(f.ctx, nil, FindOptions{Limit: 3}); err != nil || len(got) != 3 {
		t.Fatalf("limit 3: %d %v", len(got), err)
	}
	if got, err := c.Find(f.ctx, nil, FindOptions{Limit: -2}); err != nil || len(got) != 2 {
		t.Fatalf("limit -2: %d %v", len(got), err)
	}
}

// An application user's operator update is stored as its top-level
// $set/$unset difference (the write is decided on the computed post-image),
// so change streams report an update with its updateDescription, not a
// replace; an operator-less updateOne is a replacement and reported as one.
func TestCompatUserUpdatesReportedAsUpdates(t *testing.T) {
	f := newFixture(t)
	f.seed("open", d("_id", int32(1), "a", "x", "b", "y"))
	sub, err := f.coll(f.sys, "open").Watch(f.ctx, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := f.coll(f.alice, "open")
	if _, err := c.UpdateOne(f.ctx, d("_id", int32(1)), d("$set", d("a", "z"), "$unset", d("b", "")), UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := next(t, sub)
	if evField(ev, "operationType") != "update" || evField(ev, "updateDescription", "updatedFields", "a") != "z" {
		t.Fatalf("operator update: %s", ejson(t, ev))
	}
	if _, err := c.UpdateOne(f.ctx, d("_id", int32(1)), d("a", "w"), UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev = next(t, sub)
	if evField(ev, "operationType") != "replace" || evField(ev, "fullDocument", "a") != "w" {
		t.Fatalf("operator-less update: %s", ejson(t, ev))
	}
	if got := f.raw("open"); len(got) != 1 || len(got[0]) != 2 || got[0][1].Value != "w" {
		t.Fatalf("stored %s", ejson(t, got))
	}
}

// With the seed 002 rules (roles only, no document_filters), the role is
// chosen from the pre-image, so the assignee may hand a task to someone
// else; the new assignee may then write it and the old one no longer can.
func TestCompatSeedAssigneeMayReassign(t *testing.T) {
	f := newFixture(t)
	id := bson.NewObjectID()
	f.seed("tasks", task(id, "alice"))
	if _, err := f.coll(f.alice, "tasks").UpdateOne(f.ctx, d("_id", id), d("$set", d("assignee", "bob")), UpdateOptions{}); err != nil {
		t.Fatalf("alice hands her task to bob: %v", err)
	}
	if _, err := f.coll(f.alice, "tasks").UpdateOne(f.ctx, d("_id", id), d("$set", d("status", "Closed")), UpdateOptions{}); !errors.Is(err, rules.ErrUpdateNotPermitted) {
		t.Fatalf("alice writes bob's task: %v", err)
	}
	if _, err := f.coll(f.bob, "tasks").UpdateOne(f.ctx, d("_id", id), d("$set", d("status", "Closed")), UpdateOptions{}); err != nil {
		t.Fatalf("bob writes his task: %v", err)
	}
}

// Multi-document writes: documents the caller cannot see do not match (and
// are not counted); a refusal of any document it can see fails the whole
// call and changes nothing. count counts only documents the caller may
// read.
func TestCompatMultiDocumentWritesAndCount(t *testing.T) {
	f := newFixture(t)
	f.seed("notes", d("_id", int32(1), "owner_id", "alice", "text", "a"), d("_id", int32(2), "owner_id", "bob", "text", "b"))
	notes := f.coll(f.alice, "notes")
	res, err := notes.UpdateMany(f.ctx, nil, d("$set", d("text", "edited")), UpdateOptions{})
	if err != nil || res.MatchedCount != 1 || res.ModifiedCount != 1 {
		t.Fatalf("updateMany over a visible and an invisible note: %+v %v", res, err)
	}
	if got := f.raw("notes"); ejson(t, got[1]) != `{"v":{"_id":2,"owner_id":"bob","text":"b"}}` {
		t.Fatalf("bob's note changed: %s", ejson(t, got))
	}
	if n, err := notes.Count(f.ctx, nil, CountOptions{}); err != nil || n != 1 {
		t.Fatalf("count: %d %v", n, err)
	}
	// tasks: every task is readable, only her own writable: one refusal
	// fails the call and nothing is written.
	f.seed("tasks", task(bson.NewObjectID(), "alice"), task(bson.NewObjectID(), "bob"))
	before := ejson(t, f.raw("tasks"))
	if _, err := f.coll(f.alice, "tasks").UpdateMany(f.ctx, nil, d("$set", d("status", "Closed")), UpdateOptions{}); !errors.Is(err, rules.ErrUpdateNotPermitted) {
		t.Fatalf("updateMany reaching bob's task: %v", err)
	}
	if after := ejson(t, f.raw("tasks")); after != before {
		t.Fatalf("a refused updateMany wrote:\n%s\n%s", before, after)
	}
}

// standalone is a store that reports what a standalone MongoDB server
// supports: neither change streams nor transactions.
type standalone struct{ store.Store }

func (standalone) Capabilities() store.Capabilities { return store.Capabilities{} }

// On a deployment without change streams (a standalone MongoDB server),
// watch is refused with MongoDBError (400); multi-document writes still
// work, committed document by document without a transaction.
func TestCompatWatchWithoutChangeStreams(t *testing.T) {
	f := newFixture(t)
	a, err := New(testApp(), standalone{f.st}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	c, err := a.Collection(f.ctx, f.alice, "mongodb-atlas", "tracker", "open")
	if err != nil {
		t.Fatal(err)
	}
	var de *Error
	if _, err := c.Watch(f.ctx, WatchOptions{}); !errors.As(err, &de) || de.Code != CodeMongoDBError || de.Status != 400 {
		t.Fatalf("watch: %v", err)
	}
	f.seed("open", d("_id", int32(1)), d("_id", int32(2)))
	if res, err := c.UpdateMany(f.ctx, nil, d("$set", d("x", int32(1))), UpdateOptions{}); err != nil || res.ModifiedCount != 2 {
		t.Fatalf("updateMany: %+v %v", res, err)
	}
}
