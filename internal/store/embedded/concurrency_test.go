package embedded

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

// TestGroupCommitIsolation: concurrent writers share transactions; a
// failing operation (a duplicate _id) fails alone, its batch-mates commit,
// and a watcher sees exactly the successful writes.
func TestGroupCommitIsolation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	c := s.Database("app").Collection("g")
	cs, err := c.Watch(ctx, nil, store.WatchOptions{MaxAwaitTime: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, dup := 0, 0
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Writers 0 and 1 insert the same _ids: one of each pair fails.
				id := w*1000 + i
				if w < 2 {
					id = i
				}
				_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "w", Value: w}})
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case store.IsDuplicateKey(err):
					dup++
				default:
					t.Error(err)
				}
				mu.Unlock()
				// Readers run beside the writers.
				if _, err := c.CountDocuments(ctx, bson.D{{Key: "w", Value: w}}, store.CountOptions{}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if dup != each || ok != writers*each-each {
		t.Fatalf("ok %d dup %d", ok, dup)
	}
	n, err := c.CountDocuments(ctx, nil, store.CountOptions{})
	if err != nil || n != int64(ok) {
		t.Fatalf("count %d %v", n, err)
	}
	events := 0
	for cs.Next(ctx) {
		if mql.Get(cs.Event(), "operationType") == "insert" {
			events++
		}
		if events == ok {
			break
		}
	}
	if events != ok {
		t.Fatalf("%d events for %d inserts (%v)", events, ok, cs.Err())
	}
}
