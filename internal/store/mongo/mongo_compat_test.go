package mongo

// Tests for docs/compat.md entries of the MongoDB backend that the shared
// conformance suite does not hold. They need a deployment
// (ATOLL_TEST_MONGODB_URI; scripts/test.sh starts FerretDB and sets it).

import (
	"context"
	"testing"
	"time"
)

// ListIndexes on a collection that does not exist returns an empty list
// with no error (the driver's behaviour; the embedded engine matches it).
func TestCompatListIndexesOfMissingCollection(t *testing.T) {
	s, _ := openTestStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := s.Database("atoll_compat_listindexes")
	t.Cleanup(func() { _ = db.Drop(context.Background()) })
	idx, err := db.Collection("none").ListIndexes(ctx)
	if err != nil || len(idx) != 0 {
		t.Fatalf("ListIndexes: %+v %v", idx, err)
	}
}

// ListDatabases leaves out MongoDB's own admin, local and config.
func TestCompatListDatabasesHidesServerDatabases(t *testing.T) {
	s, _ := openTestStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names, err := s.ListDatabases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n == "admin" || n == "local" || n == "config" {
			t.Fatalf("ListDatabases lists %q: %v", n, names)
		}
	}
}
