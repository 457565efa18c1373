package embedded

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// guard bounds every wait in these tests so that a regression fails
// instead of hanging; it is a deadlock guard, not a timing assertion.
const guard = 30 * time.Second

// waitQueued waits until n requests sit in the writer's queue (the writer
// is busy holding a transaction, so they stay there).
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for len(s.reqs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", len(s.reqs), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// oplogEntries counts the oplog entries of one collection.
func oplogEntries(t *testing.T, s *Store, db, coll string) int {
	t.Helper()
	var n int
	if err := s.rdb.QueryRowContext(context.Background(), `SELECT count(*) FROM oplog WHERE db = ? AND coll = ?`, db, coll).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// outsideInsert inserts doc with ctx in its own goroutine and delivers
// the result.
func outsideInsert(ctx context.Context, c store.Collection, doc bson.D) <-chan error {
	res := make(chan error, 1)
	go func() {
		_, err := c.InsertOne(ctx, doc)
		res <- err
	}()
	return res
}

func receive(t *testing.T, res <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-res:
		return err
	case <-time.After(guard):
		t.Fatalf("%s: no answer after %s", what, guard)
		return nil
	}
}

// TestQueuedWriteCancelled: a write queued behind an open transaction
// returns its context's error as soon as the context is cancelled (while
// the transaction is still open), is never applied, not even after the
// transaction commits, and leaves the writer serving later writes.
func TestQueuedWriteCancelled(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	db := s.Database("app")
	c, log := db.Collection("c"), db.Collection("log")
	if err := db.CreateCollection(ctx, "log", store.CreateCollectionOptions{}); err != nil {
		t.Fatal(err)
	}
	before := oplogEntries(t, s, "app", "log")
	err := s.WithTransaction(ctx, func(tctx context.Context) error {
		if _, err := c.InsertOne(tctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
			return err
		}
		octx, cancel := context.WithCancel(ctx)
		defer cancel()
		res := outsideInsert(octx, log, bson.D{{Key: "_id", Value: "cancelled"}})
		waitQueued(t, s, 1)
		cancel()
		// Answered while the transaction is still open: the caller did
		// not wait for the writer.
		if err := receive(t, res, "cancelled queued write"); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled queued write: %v, want context.Canceled", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("WithTransaction: %v", err)
	}
	// A later write goes through the writer after the dropped request,
	// so once it is answered the writer has passed (and skipped) it.
	if _, err := log.InsertOne(ctx, bson.D{{Key: "_id", Value: "later"}}); err != nil {
		t.Fatalf("a write after the cancelled one: %v", err)
	}
	docs := findAll(t, log)
	if len(docs) != 1 || docs[0][0].Value != "later" {
		t.Fatalf("log holds %v, want only the later document", docs)
	}
	if n := oplogEntries(t, s, "app", "log"); n != before+1 {
		t.Fatalf("%d oplog entries for log, want %d (only the later insert)", n, before+1)
	}
	if n, _ := c.CountDocuments(ctx, nil, store.CountOptions{}); n != 1 {
		t.Fatalf("the transaction's collection holds %d documents, want 1", n)
	}
}

// TestOutsideWriteWaitsForTransaction asserts the embedded engine's known
// difference from MongoDB that the conformance test TransactionOutsideWrite
// would flag (the harness skips it by name): a write outside an open
// transaction waits for the single writer until the transaction ends,
// then succeeds; with a short context it returns the context's error
// instead and is never applied (TransactionOutsideWriteContext).
func TestOutsideWriteWaitsForTransaction(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	db := s.Database("app")
	c, log := db.Collection("c"), db.Collection("log")
	if err := db.CreateCollection(ctx, "log", store.CreateCollectionOptions{}); err != nil {
		t.Fatal(err)
	}
	before := oplogEntries(t, s, "app", "log")

	// Without a deadline: the write waits, then succeeds after the commit.
	wctx, cancel := context.WithTimeout(ctx, guard)
	defer cancel()
	var waited <-chan error
	err := s.WithTransaction(ctx, func(tctx context.Context) error {
		if _, err := c.InsertOne(tctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
			return err
		}
		waited = outsideInsert(wctx, log, bson.D{{Key: "_id", Value: "waited"}})
		waitQueued(t, s, 1)
		select {
		case err := <-waited:
			t.Errorf("the outside write finished (%v) while the transaction was open", err)
		default:
		}
		if n, _ := log.CountDocuments(ctx, nil, store.CountOptions{}); n != 0 {
			t.Errorf("the outside write is visible while the transaction is open")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("WithTransaction: %v", err)
	}
	if err := receive(t, waited, "outside write after the commit"); err != nil {
		t.Fatalf("outside write after the commit: %v", err)
	}

	// With a short deadline: DeadlineExceeded while the transaction is
	// still open, and never applied.
	err = s.WithTransaction(ctx, func(tctx context.Context) error {
		if _, err := c.InsertOne(tctx, bson.D{{Key: "_id", Value: 2}}); err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		res := outsideInsert(sctx, log, bson.D{{Key: "_id", Value: "late"}})
		if err := receive(t, res, "outside write with a short deadline"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("outside write with a short deadline: %v, want context.DeadlineExceeded", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("WithTransaction: %v", err)
	}
	if _, err := log.InsertOne(ctx, bson.D{{Key: "_id", Value: "after"}}); err != nil {
		t.Fatalf("a write after the timed-out one: %v", err)
	}
	docs := findAll(t, log)
	if len(docs) != 2 || docs[0][0].Value != "after" || docs[1][0].Value != "waited" {
		t.Fatalf("log holds %v, want the waited and after documents only", docs)
	}
	if n := oplogEntries(t, s, "app", "log"); n != before+2 {
		t.Fatalf("%d oplog entries for log, want %d", n, before+2)
	}
	if n, _ := c.CountDocuments(ctx, nil, store.CountOptions{}); n != 2 {
		t.Fatalf("the transactions' collection holds %d documents, want 2", n)
	}
}

// TestTransactionStartCancelled: WithTransaction waiting for the writer
// (held by another transaction) returns when its context is cancelled,
// never runs its function, and leaves the writer serving later
// transactions.
func TestTransactionStartCancelled(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	c := s.Database("app").Collection("c")
	ran := make(chan struct{}, 1)
	err := s.WithTransaction(ctx, func(tctx context.Context) error {
		if _, err := c.InsertOne(tctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
			return err
		}
		octx, cancel := context.WithCancel(ctx)
		defer cancel()
		res := make(chan error, 1)
		go func() {
			res <- s.WithTransaction(octx, func(context.Context) error {
				ran <- struct{}{}
				return nil
			})
		}()
		waitQueued(t, s, 1)
		cancel()
		if err := receive(t, res, "cancelled transaction start"); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled transaction start: %v, want context.Canceled", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("WithTransaction: %v", err)
	}
	err = s.WithTransaction(ctx, func(tctx context.Context) error {
		_, err := c.InsertOne(tctx, bson.D{{Key: "_id", Value: 2}})
		return err
	})
	if err != nil {
		t.Fatalf("a transaction after the cancelled one: %v", err)
	}
	select {
	case <-ran:
		t.Fatal("the cancelled transaction's function ran")
	default:
	}
	if n, _ := c.CountDocuments(ctx, nil, store.CountOptions{}); n != 2 {
		t.Fatalf("%d documents, want 2", n)
	}
}

func findAll(t *testing.T, c store.Collection) []bson.D {
	t.Helper()
	ctx := context.Background()
	cur, err := c.Find(ctx, bson.D{}, store.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := store.All(ctx, cur)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}
