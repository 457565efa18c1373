package embedded

// Tests for docs/compat.md entries of the embedded engine that no other
// test held on its own.

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

func compatStore(t *testing.T) (context.Context, *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	s := openTest(t, t.TempDir())
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return ctx, s
}

// ListIndexes on a collection that does not exist is an empty list, not an
// error (as the MongoDB driver answers).
func TestCompatListIndexesOfMissingCollection(t *testing.T) {
	ctx, s := compatStore(t)
	idx, err := s.Database("app").Collection("none").ListIndexes(ctx)
	if err != nil || len(idx) != 0 {
		t.Fatalf("ListIndexes: %+v %v", idx, err)
	}
}

// Only ascending/descending key indexes: text, 2dsphere and hashed are code
// 115; a compound index over two array fields of one document is code 171,
// as in MongoDB.
func TestCompatIndexKinds(t *testing.T) {
	ctx, s := compatStore(t)
	c := s.Database("app").Collection("c")
	for _, kind := range []string{"text", "2dsphere", "hashed"} {
		_, err := c.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "a", Value: kind}}})
		if store.ErrorCode(err) != 115 {
			t.Errorf("%s index: %v, want code 115", kind, err)
		}
	}
	if _, err := c.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "a", Value: 1}, {Key: "b", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: bson.A{1, 2}}, {Key: "b", Value: 3}}); err != nil {
		t.Fatalf("one array field: %v", err)
	}
	_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}, {Key: "a", Value: bson.A{1, 2}}, {Key: "b", Value: bson.A{3, 4}}})
	if store.ErrorCode(err) != 171 {
		t.Fatalf("two array fields: %v, want code 171", err)
	}
}

// Known difference: the change events of one transaction carry distinct,
// increasing clusterTimes (MongoDB gives them one).
func TestCompatTransactionEventsClusterTimes(t *testing.T) {
	ctx, s := compatStore(t)
	c := s.Database("app").Collection("c")
	if err := s.Database("app").CreateCollection(ctx, "c", store.CreateCollectionOptions{}); err != nil {
		t.Fatal(err)
	}
	cs, err := c.Watch(ctx, nil, store.WatchOptions{MaxAwaitTime: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close(ctx)
	if err := s.WithTransaction(ctx, func(ctx context.Context) error {
		for i := 1; i <= 2; i++ {
			if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var times []any
	for len(times) < 2 && cs.Next(ctx) {
		times = append(times, mql.Get(cs.Event(), "clusterTime"))
	}
	if len(times) != 2 || mql.Compare(times[1], times[0]) <= 0 {
		t.Fatalf("clusterTimes %v (%v)", times, cs.Err())
	}
}

// fullDocumentBeforeChange "required" on a collection without stored
// images ends the stream with code 280 at the first event that needs one.
func TestCompatRequiredImageWithoutImages(t *testing.T) {
	ctx, s := compatStore(t)
	c := s.Database("app").Collection("plain")
	if err := s.Database("app").CreateCollection(ctx, "plain", store.CreateCollectionOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	cs, err := c.Watch(ctx, nil, store.WatchOptions{FullDocumentBeforeChange: "required", MaxAwaitTime: 5 * time.Second})
	if err == nil {
		defer cs.Close(ctx)
		if _, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
			t.Fatal(err)
		}
		for cs.Next(ctx) {
			t.Fatalf("event without its required pre-image: %v", cs.Event())
		}
		err = cs.Err()
	}
	if store.ErrorCode(err) != 280 {
		t.Fatalf("got %v, want code 280", err)
	}
}
