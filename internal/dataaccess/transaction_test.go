package dataaccess

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

func txTask(assignee, name string) bson.D {
	return d("_id", bson.NewObjectID(), "_partition", "p", "assignee", assignee, "name", name, "status", "open")
}

func TestWithTransactionCommitsAll(t *testing.T) {
	f := newFixture(t)
	err := f.a.WithTransaction(f.ctx, func(ctx context.Context) error {
		c := f.coll(f.alice, "tasks")
		for _, n := range []string{"a", "b"} {
			if _, err := c.InsertOne(ctx, txTask("alice", n)); err != nil {
				return err
			}
		}
		// The transaction reads its own writes, through the rules.
		n, err := c.Count(ctx, d(), CountOptions{})
		if err != nil || n != 2 {
			t.Errorf("count inside the transaction = %d, %v; want 2", n, err)
		}
		if got := len(f.raw("tasks")); got != 0 {
			t.Errorf("%d documents visible outside before commit", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.raw("tasks")); got != 2 {
		t.Fatalf("%d documents after commit, want 2", got)
	}
}

func TestWithTransactionErrorKeepsNothing(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("boom")
	err := f.a.WithTransaction(f.ctx, func(ctx context.Context) error {
		if _, err := f.coll(f.alice, "tasks").InsertOne(ctx, txTask("alice", "a")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want fn's error", err)
	}
	if got := len(f.raw("tasks")); got != 0 {
		t.Fatalf("%d documents after rollback", got)
	}
}

// A write the rules deny fails inside the transaction like outside it, and
// returning that error rolls back the writes before it.
func TestTransactionRulesStillApply(t *testing.T) {
	f := newFixture(t)
	f.seed("users", d("_id", bson.NewObjectID(), "_partition", "p", "user_id", "u", "name", "n"))
	err := f.a.WithTransaction(f.ctx, func(ctx context.Context) error {
		if _, err := f.coll(f.alice, "tasks").InsertOne(ctx, txTask("alice", "mine")); err != nil {
			return err
		}
		// alice may not insert a task assigned to bob, nor write users.
		if _, err := f.coll(f.alice, "tasks").InsertOne(ctx, txTask("bob", "his")); err == nil {
			t.Error("insert for bob allowed inside a transaction")
		}
		_, err := f.coll(f.alice, "users").UpdateMany(ctx, d(), d("$set", d("name", "x")), UpdateOptions{})
		return err
	})
	if !isCode(err, CodeMongoDBError) {
		t.Fatalf("err = %v, want the update denial", err)
	}
	if got := len(f.raw("tasks")); got != 0 {
		t.Fatalf("%d tasks kept after a denied write aborted the transaction", got)
	}
	if got := f.raw("users"); len(got) != 1 || got[0][3].Value != "n" {
		t.Fatalf("users changed: %v", got)
	}
}

// A multi-document update commits its changes in a transaction of its
// own (on the rules path); inside a caller's transaction it joins it
// instead of nesting (the embedded store refuses nested transactions).
func TestNestedWritesJoinTheTransaction(t *testing.T) {
	f := newFixture(t)
	f.seed("open", d("_id", 1, "n", 0), d("_id", 2, "n", 0), d("_id", 3, "n", 0))
	c := f.coll(f.alice, "open")
	boom := errors.New("boom")
	err := f.a.WithTransaction(f.ctx, func(ctx context.Context) error {
		r, err := c.UpdateMany(ctx, d(), d("$inc", d("n", 1)), UpdateOptions{})
		if err != nil {
			return err
		}
		if r.ModifiedCount != 3 {
			t.Errorf("modified %d", r.ModifiedCount)
		}
		// Joining works for WithTransaction itself too.
		if err := f.a.WithTransaction(ctx, func(ctx context.Context) error {
			_, err := c.DeleteMany(ctx, d("_id", 3))
			return err
		}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	docs := f.raw("open")
	if len(docs) != 3 || docs[0][1].Value != int32(0) {
		t.Fatalf("rolled-back writes are visible: %v", docs)
	}
	err = f.a.WithTransaction(f.ctx, func(ctx context.Context) error {
		_, err := c.UpdateMany(ctx, d(), d("$inc", d("n", 1)), UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if docs := f.raw("open"); docs[2][1].Value != int32(1) {
		t.Fatalf("committed update missing: %v", docs)
	}
}

func TestBeginTransactionCommitAndAbort(t *testing.T) {
	f := newFixture(t)
	c := f.coll(f.alice, "tasks")

	tx, err := f.a.BeginTransaction(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !InTransaction(tx.Context()) || InTransaction(f.ctx) {
		t.Fatal("InTransaction")
	}
	if _, err := f.a.BeginTransaction(tx.Context()); !errors.Is(err, ErrTransactionInProgress) {
		t.Fatalf("nested begin: %v", err)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := c.InsertOne(tx.Context(), txTask("alice", n)); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(f.raw("tasks")); got != 0 {
		t.Fatalf("%d visible before commit", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("second commit: %v", err)
	}
	tx.Abort() // after commit: nothing
	if got := len(f.raw("tasks")); got != 2 {
		t.Fatalf("%d visible after commit", got)
	}

	tx, err = f.a.BeginTransaction(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteMany(tx.Context(), d()); err != nil {
		t.Fatal(err)
	}
	tx.Abort()
	if err := tx.Commit(); !errors.Is(err, ErrTransactionAborted) || store.ErrorCode(err) != store.CodeNoSuchTransaction {
		t.Fatalf("commit after abort: %v", err)
	}
	if got := len(f.raw("tasks")); got != 2 {
		t.Fatalf("aborted delete applied: %d left", got)
	}
	// An operation on an ended transaction's context is refused, not
	// applied outside it.
	if _, err := c.InsertOne(tx.Context(), txTask("alice", "late")); err == nil {
		t.Fatal("insert on an ended transaction accepted")
	}
	if got := len(f.raw("tasks")); got != 2 {
		t.Fatalf("%d tasks", got)
	}
}

func TestFailedTransactionCannotCommit(t *testing.T) {
	f := newFixture(t)
	tx, err := f.a.BeginTransaction(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.coll(f.alice, "tasks").InsertOne(tx.Context(), txTask("alice", "a")); err != nil {
		t.Fatal(err)
	}
	_, denied := f.coll(f.alice, "users").InsertOne(tx.Context(), d("_id", bson.NewObjectID(), "_partition", "p", "user_id", "u", "name", "n"))
	if denied == nil {
		t.Fatal("users insert allowed")
	}
	tx.Fail(denied)
	err = tx.Commit()
	if !errors.Is(err, ErrTransactionAborted) || !isCode(err, CodeMongoDBError) {
		t.Fatalf("commit after a failed write: %v", err)
	}
	if got := len(f.raw("tasks")); got != 0 {
		t.Fatalf("%d tasks kept", got)
	}
}

// A transaction whose context ends is rolled back and lets other writers
// go: the embedded store serializes writers behind an open transaction,
// so a leak would block the write below until the fixture's deadline.
func TestTransactionContextEndReleasesWriters(t *testing.T) {
	f := newFixture(t)
	cctx, cancel := context.WithCancel(f.ctx)
	tx, err := f.a.BeginTransaction(cctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.coll(f.alice, "tasks").InsertOne(tx.Context(), txTask("alice", "a")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := f.coll(f.alice, "tasks").InsertOne(f.ctx, txTask("alice", "b")); err != nil {
		t.Fatalf("write after the transaction's context ended: %v", err)
	}
	if docs := f.raw("tasks"); len(docs) != 1 || docs[0][3].Value != "b" {
		t.Fatalf("tasks %v", docs)
	}
	if err := tx.Commit(); !errors.Is(err, ErrTransactionAborted) {
		t.Fatalf("commit after the context ended: %v", err)
	}
}

func TestBeginTransactionEndedContext(t *testing.T) {
	f := newFixture(t)
	cctx, cancel := context.WithCancel(f.ctx)
	cancel()
	if tx, err := f.a.BeginTransaction(cctx); err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("begin with an ended context: %v %v", tx, err)
	}
	// Nothing is left holding the writer.
	if _, err := f.coll(f.alice, "tasks").InsertOne(f.ctx, txTask("alice", "a")); err != nil {
		t.Fatal(err)
	}
}

// noTxStore is a store without transactions, like FerretDB or a
// standalone MongoDB.
type noTxStore struct{ store.Store }

func (s noTxStore) Capabilities() store.Capabilities { return store.Capabilities{} }

func TestTransactionsUnsupported(t *testing.T) {
	f := newFixture(t)
	a, err := New(testApp(), noTxStore{f.st}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	checkUnsupported(t, a, f.ctx)
}

func checkUnsupported(t *testing.T, a *Access, ctx context.Context) {
	t.Helper()
	if a.TransactionsSupported() {
		t.Fatal("TransactionsSupported")
	}
	called := false
	err := a.WithTransaction(ctx, func(context.Context) error { called = true; return nil })
	if called || !errors.Is(err, ErrNoTransactions) || store.ErrorCode(err) != store.CodeIllegalOperation {
		t.Fatalf("WithTransaction: called %v, err %v", called, err)
	}
	if _, err := a.BeginTransaction(ctx); !errors.Is(err, ErrNoTransactions) || store.ErrorCode(err) != store.CodeIllegalOperation {
		t.Fatalf("BeginTransaction: %v", err)
	}
}

// TestTransactionsOnMongoDB: on a deployment without transactions
// (scripts/test.sh's FerretDB) both styles fail with IllegalOperation; on
// a replica set the commit and abort tests run.
func TestTransactionsOnMongoDB(t *testing.T) {
	useMongoDB(t)
	f := newFixture(t)
	if !f.st.Capabilities().Transactions {
		checkUnsupported(t, f.a, f.ctx)
		t.Log("the deployment has no transactions: checked that both styles are refused")
		return
	}
	t.Run("Commit", TestWithTransactionCommitsAll)
	t.Run("Error", TestWithTransactionErrorKeepsNothing)
	t.Run("Rules", TestTransactionRulesStillApply)
	t.Run("Nested", TestNestedWritesJoinTheTransaction)
	t.Run("Begin", TestBeginTransactionCommitAndAbort)
	t.Run("Failed", TestFailedTransactionCannotCommit)
}
