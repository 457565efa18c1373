package dataaccess

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

// Multi-document transactions.
//
// A transaction is scoped by context, as in package store: every
// Collection operation given a transaction's context takes part in it, and
// still goes through the caller's rules and schema like any other. Two
// styles are offered: WithTransaction for Go code that has the whole unit
// of work at hand, and BeginTransaction for callers that decide to commit
// later (the sessions of JavaScript functions, whose
// startTransaction/commitTransaction calls arrive one by one).

// Transaction errors, matched with errors.Is. They arrive in an *Error
// (MongoDBError) that also wraps a *store.Error with MongoDB's code.
var (
	// ErrNoTransactions: the store cannot run multi-document transactions
	// (a standalone MongoDB, FerretDB). MongoDB answers code 20,
	// IllegalOperation, "Transaction numbers are only allowed on a replica
	// set member or mongos".
	ErrNoTransactions = errors.New("Transaction numbers are only allowed on a replica set member or mongos: this deployment does not support multi-document transactions")
	// ErrTransactionAborted: the transaction was aborted (explicitly, by a
	// failed operation, or because its context ended) and can no longer
	// commit. MongoDB answers code 251, NoSuchTransaction.
	ErrTransactionAborted = errors.New("Transaction has been aborted")
	// ErrTransactionInProgress: a transaction was begun inside another
	// one's context; BeginTransaction never nests.
	ErrTransactionInProgress = errors.New("a transaction is already in progress in this context")
	// ErrTransactionRetry: the store asked for the whole transaction to be
	// run again (MongoDB's TransientTransactionError at commit); a
	// transaction whose operations were issued one by one cannot be
	// replayed, so it is reported aborted and the caller may retry it.
	ErrTransactionRetry = errors.New("the transaction hit a transient error and was aborted; run it again")
)

// txKey marks a context that runs inside a dataaccess transaction.
type txKey struct{}

// InTransaction reports whether ctx belongs to an open transaction of
// this package (WithTransaction's or a Transaction's context).
func InTransaction(ctx context.Context) bool {
	return ctx.Value(txKey{}) != nil
}

// TransactionsSupported reports whether the store can run multi-document
// transactions.
func (a *Access) TransactionsSupported() bool {
	return a.st.Capabilities().Transactions
}

// txError is a transaction failure: sentinel for errors.Is, MongoDB's
// code for store.ErrorCode, and the cause (if any) in the message.
func txError(code int, sentinel, cause error) error {
	msg := sentinel.Error()
	if cause != nil && !errors.Is(cause, errAbortRequested) {
		msg += ": " + cause.Error()
	}
	return &Error{Code: CodeMongoDBError, Status: http.StatusBadRequest, Message: msg,
		Err: errors.Join(sentinel, mql.Errorf(code, "%s", msg), cause)}
}

func errNoTransactions() error {
	return txError(store.CodeIllegalOperation, ErrNoTransactions, nil)
}

// WithTransaction runs fn in a multi-document transaction: it commits
// when fn returns nil and rolls back otherwise (returning fn's error).
// Collection operations must be given the context fn receives. Inside
// another transaction's context fn joins that transaction instead of
// nesting (MongoDB has no nested transactions, and the embedded store
// refuses them), so a write that wraps its own steps in a transaction
// composes with a caller's transaction.
func (a *Access) WithTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	if InTransaction(ctx) {
		return fn(ctx)
	}
	if !a.TransactionsSupported() {
		return errNoTransactions()
	}
	return a.st.WithTransaction(ctx, func(tctx context.Context) error {
		return fn(context.WithValue(tctx, txKey{}, true))
	})
}

// Transaction is an open transaction begun by BeginTransaction. It holds a
// store transaction open on a goroutine of its own until Commit or Abort,
// or until the context it was begun with ends (which aborts it): callers
// must do one of the three, or the store's writer stays held (the embedded
// store serializes writers behind an open transaction). Its methods are
// safe for concurrent use.
type Transaction struct {
	ctx    context.Context // the store's transaction context, marked
	finish chan bool       // true: commit; buffered, sent once
	done   chan error      // the store's outcome, sent once

	mu     sync.Mutex
	ended  bool
	outErr error // what Commit/Abort reported
}

// errAbortRequested is what the transaction's function returns to make the
// store roll back.
var errAbortRequested = errors.New("dataaccess: transaction aborted by its caller")

// BeginTransaction starts a transaction and returns once the store has
// opened it (on the embedded store, once other writers have finished).
// It fails with ErrNoTransactions when the store cannot run
// transactions, and with ErrTransactionInProgress inside another
// transaction's context.
func (a *Access) BeginTransaction(ctx context.Context) (*Transaction, error) {
	if InTransaction(ctx) {
		return nil, txError(store.CodeIllegalOperation, ErrTransactionInProgress, nil)
	}
	if !a.TransactionsSupported() {
		return nil, errNoTransactions()
	}
	t := &Transaction{finish: make(chan bool, 1), done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		attempts := 0
		err := a.st.WithTransaction(ctx, func(tctx context.Context) error {
			attempts++
			if attempts > 1 {
				// The store retries a transaction on transient errors;
				// the operations of the first attempt are gone and
				// cannot be replayed from here.
				return ErrTransactionRetry
			}
			t.ctx = context.WithValue(tctx, txKey{}, t)
			close(ready)
			select {
			case commit := <-t.finish:
				if commit {
					return nil
				}
				return errAbortRequested
			case <-tctx.Done():
				return context.Cause(tctx)
			}
		})
		t.done <- err
	}()
	select {
	case <-ready:
		return t, nil
	case err := <-t.done:
		// The store failed before the transaction opened.
		if err == nil {
			err = errors.New("dataaccess: the transaction ended before it started")
		}
		return nil, err
	}
}

// Context is the context to give Collection operations that take part in
// the transaction.
func (t *Transaction) Context() context.Context { return t.ctx }

// Fail marks the transaction as failed because one of its operations
// failed: like MongoDB, which aborts a transaction on a failed write, it
// is rolled back at once and Commit then reports ErrTransactionAborted.
func (t *Transaction) Fail(cause error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return
	}
	t.endLocked(false)
	t.outErr = txError(store.CodeNoSuchTransaction, ErrTransactionAborted, cause)
}

// Commit commits the transaction; it reports ErrTransactionAborted when
// the transaction was already aborted or failed, and nil when it was
// already committed.
func (t *Transaction) Commit() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return t.outErr
	}
	switch err := t.endLocked(true); {
	case err == nil:
	case errors.Is(err, ErrTransactionRetry):
		t.outErr = txError(store.CodeNoSuchTransaction, ErrTransactionRetry, nil)
	default:
		t.outErr = txError(store.CodeNoSuchTransaction, ErrTransactionAborted, err)
	}
	return t.outErr
}

// Abort rolls the transaction back; aborting an ended transaction does
// nothing. A transaction whose context has ended was already rolled back
// by the store.
func (t *Transaction) Abort() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return
	}
	t.endLocked(false)
	t.outErr = txError(store.CodeNoSuchTransaction, ErrTransactionAborted, nil)
}

// Err is nil while the transaction is open or after it committed, and
// the error Commit reports once it was aborted or failed: operations meant
// for an ended transaction must fail with it rather than run outside.
func (t *Transaction) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.outErr
}

// Ended reports whether the transaction has committed or aborted.
func (t *Transaction) Ended() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ended
}

// endLocked asks the transaction's goroutine to commit or roll back and
// waits until the store has done so. A rollback the caller asked for is
// not an error; the context having ended first is.
func (t *Transaction) endLocked(commit bool) error {
	t.ended = true
	t.finish <- commit
	err := <-t.done
	if !commit && errors.Is(err, errAbortRequested) {
		return nil
	}
	return err
}
