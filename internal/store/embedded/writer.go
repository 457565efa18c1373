package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// writerState is what a write changes besides the tables: the catalog and
// the oplog position. It is a value so that a failed operation (or a
// failed commit) restores it by assignment.
type writerState struct {
	cat *catalog
	seq int64
	ts  bson.Timestamp
}

// request is one queued write operation, or the start of a transaction.
type request struct {
	ctx  context.Context
	fn   func(w *wtx) error
	tx   *txState
	err  error
	done chan error
	// state decides, once, who owns a queued request: the writer, which
	// claims it before running it, or its caller, which cancels it when
	// its context ends first. Whoever loses the race knows at once: a
	// cancelled request is dropped by the writer unrun, and the caller of
	// a claimed one waits for its real outcome.
	state atomic.Int32
}

// Request states.
const (
	reqQueued int32 = iota
	reqClaimed
	reqCancelled
)

// claim is the writer taking a request to run; false means its caller
// gave up first and the request must be dropped without running.
func (r *request) claim() bool { return r.state.CompareAndSwap(reqQueued, reqClaimed) }

// cancel is the caller giving up on a request; false means the writer
// has already started it, and the caller must wait for the outcome.
func (r *request) cancel() bool { return r.state.CompareAndSwap(reqQueued, reqCancelled) }

// errGaveUp wraps the context error of a caller that stopped waiting for
// the writer before its operation started: the operation was not applied.
func errGaveUp(err error) error {
	return fmt.Errorf("embedded: gave up waiting for the writer, nothing was applied: %w", err)
}

// wtx is the writer's view of the open SQLite transaction, handed to
// operations.
type wtx struct {
	s     *Store
	conn  *sql.Conn
	st    writerState
	stmts map[string]*sql.Stmt
	// dropped lists the tables dropped in the current transaction, whose
	// read-pool statements are closed when it ends.
	dropped []string
}

var bg = context.Background()

// exec runs a statement on the write connection (statements are cached).
func (w *wtx) exec(q string, args ...any) (sql.Result, error) {
	st, err := w.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(bg, args...)
}

// execRaw runs a statement without caching it (DDL).
func (w *wtx) execRaw(q string) error {
	_, err := w.conn.ExecContext(bg, q)
	return err
}

func (w *wtx) stmt(q string) (*sql.Stmt, error) {
	if st := w.stmts[q]; st != nil {
		return st, nil
	}
	st, err := w.conn.PrepareContext(bg, q)
	if err != nil {
		return nil, err
	}
	w.stmts[q] = st
	return st, nil
}

// forgetStmts drops cached statements that mention a dropped table.
func (w *wtx) forgetStmts(table string) {
	w.dropped = append(w.dropped, table)
	for q, st := range w.stmts {
		if strings.Contains(q, table+" ") || strings.HasSuffix(q, table) {
			st.Close()
			delete(w.stmts, q)
		}
	}
}

// submit queues fn for the writer and waits until the transaction that
// ran it has committed (or fn failed). Inside a transaction context, fn
// runs at once on the transaction.
//
// The wait honours ctx in two ways, because a write that happened must
// never be reported as failed. While the operation is still queued (the
// writer may be busy for long, e.g. holding an open transaction), ctx
// ending returns its error at once (wrapped, so errors.Is sees
// context.Canceled or DeadlineExceeded) and the writer drops the
// operation unrun. Once the writer has started it, the caller waits for
// the real outcome, which comes quickly: the writer checks ctx again
// before running the operation, and an operation never waits on anything
// but SQLite.
func (s *Store) submit(ctx context.Context, fn func(w *wtx) error) error {
	if t := txFrom(ctx, s); t != nil {
		return t.run(fn)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan error, 1)}
	if err := s.enqueue(r); err != nil {
		return err
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.cancel() {
			return errGaveUp(ctx.Err())
		}
		return <-r.done
	}
}

// enqueue hands r to the writer. Sending blocks only when the queue is
// full; r's context ending then gives up (r was never queued).
func (s *Store) enqueue(r *request) error {
	s.closeM.RLock() // excludes Close so no request is sent after the writer exits
	defer s.closeM.RUnlock()
	if s.closed.Load() {
		return errClosed()
	}
	select {
	case s.reqs <- r:
		return nil
	case <-r.ctx.Done():
		return errGaveUp(r.ctx.Err())
	}
}

func (s *Store) writerLoop() {
	defer close(s.done)
	conn, err := s.wdb.Conn(bg)
	w := &wtx{s: s, conn: conn, st: s.wstate, stmts: map[string]*sql.Stmt{}}
	w.st.cat = s.cat.Load()
	var pending *request
	for {
		var first *request
		if pending != nil {
			first, pending = pending, nil
		} else {
			select {
			case first = <-s.reqs:
			case <-s.stop:
				// Close holds closeM while closing stop, so nothing is
				// sent anymore: answer what is queued and exit.
				for {
					select {
					case r := <-s.reqs:
						if err != nil {
							s.answer(r, err)
						} else if r.tx != nil {
							s.runTx(w, r)
						} else {
							s.runBatch(w, []*request{r})
						}
						continue
					default:
					}
					break
				}
				for _, st := range w.stmts {
					st.Close()
				}
				if conn != nil {
					conn.Close()
				}
				return
			}
		}
		if err != nil {
			s.answer(first, fmt.Errorf("embedded: writer connection: %w", err))
			continue
		}
		if first.tx != nil {
			s.runTx(w, first)
			continue
		}
		batch := []*request{first}
	gather:
		for len(batch) < 1024 {
			select {
			case r := <-s.reqs:
				if r.tx != nil {
					pending = r
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		s.runBatch(w, batch)
	}
}

func (s *Store) answer(r *request, err error) {
	if r.tx != nil {
		r.tx.ready <- err
		return
	}
	r.done <- err
}

// runBatch runs a group of operations in one transaction, each in its own
// savepoint, commits once, and answers every caller after the commit.
func (s *Store) runBatch(w *wtx, batch []*request) {
	// Drop the operations whose callers gave up while they were queued:
	// those callers have been told nothing was applied.
	live := batch[:0]
	for _, r := range batch {
		if r.claim() {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	batch = live
	base := w.st
	if _, err := w.exec("BEGIN IMMEDIATE"); err != nil {
		for _, r := range batch {
			r.done <- fmt.Errorf("embedded: begin transaction: %w", err)
		}
		return
	}
	s.maybeTrim(w)
	if len(batch) == 1 {
		// Alone in its transaction, an operation needs no savepoint: on
		// failure the whole transaction rolls back.
		r := batch[0]
		if r.err = r.ctx.Err(); r.err == nil {
			r.err = w.call(r.fn)
		}
		if r.err != nil {
			w.execRaw("ROLLBACK")
			w.st = base
			s.forgetDropped(w, false)
			r.done <- r.err
			return
		}
	}
	for _, r := range batch {
		if len(batch) == 1 {
			break
		}
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		r.err = w.runOp(r.fn)
	}
	committed := false
	if _, err := w.exec("COMMIT"); err != nil {
		w.execRaw("ROLLBACK")
		w.st = base
		for _, r := range batch {
			if r.err == nil {
				r.err = fmt.Errorf("embedded: commit: %w", err)
			}
		}
	} else {
		committed = true
		s.publish(w, base)
	}
	s.forgetDropped(w, committed)
	for _, r := range batch {
		r.done <- r.err
	}
}

// call runs fn, turning a panic into an error.
func (w *wtx) call(fn func(w *wtx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("embedded: internal error: %v", p)
		}
	}()
	return fn(w)
}

// runOp runs one operation inside a savepoint, undoing it on failure.
func (w *wtx) runOp(fn func(w *wtx) error) (err error) {
	snap, nd := w.st, len(w.dropped)
	if _, err := w.exec("SAVEPOINT op"); err != nil {
		return fmt.Errorf("embedded: savepoint: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("embedded: internal error: %v", p)
		}
		if err != nil {
			w.exec("ROLLBACK TO op")
			w.st, w.dropped = snap, w.dropped[:nd]
		}
		w.exec("RELEASE op")
	}()
	return fn(w)
}

// forgetDropped closes the read-pool statements of the tables dropped by
// the transaction that just ended, if it committed (a reader that loses
// the race for such a statement reads the dropped collection as empty).
func (s *Store) forgetDropped(w *wtx, committed bool) {
	for _, table := range w.dropped {
		if !committed {
			break
		}
		s.rstmts.m.Range(func(k, v any) bool {
			q := k.(string)
			if strings.Contains(q, table+" ") || strings.HasSuffix(q, table) {
				s.rstmts.m.Delete(k)
				v.(*sql.Stmt).Close()
			}
			return true
		})
	}
	w.dropped = nil
}

// publish makes a committed state visible: catalog, oplog position, and a
// wake-up for change streams.
func (s *Store) publish(w *wtx, base writerState) {
	if w.st.cat != base.cat {
		s.cat.Store(w.st.cat)
	}
	s.wstate = w.st
	if w.st.seq != base.seq {
		s.lastSeq.Store(w.st.seq)
		s.lastCommit.Store(time.Now().UnixNano())
		s.broadcast()
	}
}

// maybeTrim deletes oplog entries beyond the retention, in the batch's
// transaction, a chunk at a time.
func (s *Store) maybeTrim(w *wtx) {
	keep := s.opts.OplogRetention
	min := s.minSeq.Load()
	if w.st.seq-min <= keep+keep/8 {
		return
	}
	cut := w.st.seq - keep
	if _, err := w.exec(`DELETE FROM oplog WHERE seq <= ?`, cut); err != nil {
		return
	}
	if _, err := w.exec(`INSERT INTO meta(k, v) VALUES('oplog_trimmed', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v`, cut); err != nil {
		return
	}
	s.minSeq.Store(cut) // a rolled-back trim only makes resumes fail early
}

// Transactions.

type txKey struct{}

// txState is one multi-document transaction: the writer goroutine hands
// it the open SQLite transaction and waits until it ends.
type txState struct {
	s      *Store
	mu     sync.Mutex
	w      *wtx
	ended  bool
	ready  chan error
	finish chan bool
	result chan error
}

func txFrom(ctx context.Context, s *Store) *txState {
	t, _ := ctx.Value(txKey{}).(*txState)
	if t == nil || t.s != s {
		return nil
	}
	return t
}

// run runs one operation of the transaction, undoing it alone on failure.
func (t *txState) run(fn func(w *wtx) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return mqlErr(store.CodeNoSuchTransaction, "the transaction has already ended")
	}
	return t.w.runOp(fn)
}

// runTx runs on the writer goroutine: it opens the SQLite transaction,
// lends it to WithTransaction's function, and commits or rolls back.
func (s *Store) runTx(w *wtx, r *request) {
	if !r.claim() {
		return // WithTransaction gave up waiting and returned
	}
	t := r.tx
	if err := r.ctx.Err(); err != nil {
		t.ready <- err
		return
	}
	base := w.st
	if _, err := w.exec("BEGIN IMMEDIATE"); err != nil {
		t.ready <- fmt.Errorf("embedded: begin transaction: %w", err)
		return
	}
	t.w = w
	t.ready <- nil
	timer := time.NewTimer(s.txLifetime)
	defer timer.Stop()
	var commit bool
	select {
	case commit = <-t.finish:
	case <-timer.C:
		// Like MongoDB's transactionLifetimeLimitSeconds: a transaction
		// left open stops blocking every other writer. Taking t.mu waits
		// for an operation in flight on the connection.
		t.mu.Lock()
		t.ended = true
		t.mu.Unlock()
		w.execRaw("ROLLBACK")
		w.st = base
		s.forgetDropped(w, false)
		t.result <- mqlErr(store.CodeNoSuchTransaction, "transaction aborted: it was open longer than the %s limit", s.txLifetime)
		return
	}
	var err error
	if commit {
		if _, err = w.exec("COMMIT"); err != nil {
			w.execRaw("ROLLBACK")
			w.st = base
			err = fmt.Errorf("embedded: commit: %w", err)
		} else {
			s.publish(w, base)
		}
	} else {
		w.execRaw("ROLLBACK")
		w.st = base
	}
	s.forgetDropped(w, commit && err == nil)
	t.result <- err
}

// giveUp ends the wait of a WithTransaction that no longer wants its
// transaction and returns err. Still queued, the request is cancelled
// and the writer drops it. Already started, the writer is about to
// answer (it only checks the context and begins the SQLite transaction),
// so giveUp waits for that answer and rolls an opened transaction back
// at once: nothing is left running after WithTransaction returns.
func (t *txState) giveUp(r *request, err error) error {
	if r.cancel() {
		return err
	}
	if <-t.ready == nil {
		t.finish <- false
		<-t.result
	}
	return err
}

// maxTxWait bounds how long WithTransaction waits for the writer, and
// defaultTxLifetime how long a transaction may stay open.
const (
	maxTxWait         = time.Minute
	defaultTxLifetime = time.Minute
)

// WithTransaction runs fn in one SQLite transaction; every operation given
// the context passed to fn is part of it. Other writers wait while it is
// open (unlike MongoDB, which lets writes outside a transaction proceed),
// so fn should be short; a write waiting for it gives up, unapplied, when
// its own context ends. An operation in fn that does not use fn's context
// waits for the transaction to end: without a deadline of its own it
// deadlocks until the transaction lifetime limit. Waiting to start
// honours ctx the same way as a queued write.
func (s *Store) WithTransaction(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if txFrom(ctx, s) != nil {
		return mqlErr(store.CodeIllegalOperation, "transactions cannot be nested")
	}
	t := &txState{s: s, ready: make(chan error, 1), finish: make(chan bool, 1), result: make(chan error, 1)}
	r := &request{ctx: ctx, tx: t}
	if err := s.enqueue(r); err != nil {
		return err
	}
	wait := time.NewTimer(maxTxWait)
	defer wait.Stop()
	select {
	case err := <-t.ready:
		if err != nil {
			return err
		}
	case <-wait.C:
		return t.giveUp(r, errors.New("embedded: timed out waiting to start a transaction"))
	case <-ctx.Done():
		return t.giveUp(r, errGaveUp(ctx.Err()))
	}
	tctx := context.WithValue(ctx, txKey{}, t)
	defer func() {
		p := recover()
		t.mu.Lock()
		t.ended = true
		t.mu.Unlock()
		t.finish <- err == nil && p == nil
		cerr := <-t.result
		if p != nil {
			panic(p)
		}
		if err == nil {
			err = cerr
		}
	}()
	return fn(tctx)
}
