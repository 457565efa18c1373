// Package embedded is Atoll's default storage engine: a store.Store kept in
// one SQLite database (modernc.org/sqlite, pure Go) under a data directory.
//
// Layout: a catalog of collections and indexes; one table per collection
// keyed by an order-preserving encoding of _id (see keyenc.go) holding each
// document as BSON; one table per secondary index; and an oplog table
// written in the same transaction as every write, which feeds change
// streams and survives restarts.
//
// Concurrency: reads run on a pool of read-only connections (SQLite WAL
// lets them proceed while a write is in progress). All writes go through a
// single writer goroutine that gathers the operations queued meanwhile and
// runs them in one SQLite transaction (group commit: one fsync for many
// callers), each inside its own SAVEPOINT so that one operation's failure
// does not undo its batch-mates. A caller is answered only after the
// transaction holding its operation has committed.
package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/atollhq/atoll/internal/store"
)

// Options configure Open.
type Options struct {
	// NoSync relaxes durability: SQLite runs with synchronous=NORMAL
	// (a crash of the machine, not of the process, may lose the latest
	// commits). The default is synchronous=FULL: every acknowledged write
	// is on disk.
	NoSync bool
	// SyncOff disables fsync entirely (synchronous=OFF); only for loading
	// test fixtures.
	SyncOff bool
	// OplogRetention is how many oplog entries are kept for change
	// streams; older ones are trimmed and resuming from them fails with
	// ChangeStreamHistoryLost. Zero means 1,000,000.
	OplogRetention int64
	// ReadConns is the size of the read connection pool; zero means 4.
	ReadConns int
}

// Store is the embedded engine. It implements store.Store.
type Store struct {
	dir    string
	opts   Options
	lock   *os.File
	rdb    *sql.DB // read pool
	wdb    *sql.DB // the writer's database handle (one connection)
	cat    atomic.Pointer[catalog]
	reqs   chan *request
	stop   chan struct{}
	done   chan struct{}
	closed atomic.Bool
	closeM sync.RWMutex

	// notify is closed and replaced after every commit that wrote oplog
	// entries, waking change streams.
	notifyMu sync.Mutex
	notify   chan struct{}
	lastSeq  atomic.Int64 // highest committed oplog sequence
	minSeq   atomic.Int64 // lowest oplog sequence still kept (0: none trimmed)

	rstmts stmtCache
	// txLifetime is how long a transaction may stay open before it is
	// aborted.
	txLifetime time.Duration
	// lastCommit is the time (UnixNano) of the latest commit that wrote
	// oplog entries, for measuring change stream latency.
	lastCommit atomic.Int64

	// wstate is owned by the writer goroutine.
	wstate writerState
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store in dir. A second process
// opening the same directory is refused while the first holds it.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if opts.OplogRetention <= 0 {
		opts.OplogRetention = 1_000_000
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: create data directory: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embedded: open lock file: %w", err)
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lf.Close()
		return nil, fmt.Errorf("embedded: data directory %s is in use by another process (lock %s held): %w", dir, lf.Name(), err)
	}
	s := &Store{dir: dir, opts: opts, lock: lf, reqs: make(chan *request, 4096), txLifetime: defaultTxLifetime,
		stop: make(chan struct{}), done: make(chan struct{}), notify: make(chan struct{})}
	if err := s.open(ctx); err != nil {
		s.closeDBs()
		syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
		lf.Close()
		return nil, err
	}
	go s.writerLoop()
	return s, nil
}

func (s *Store) dsn(readOnly bool) string {
	sync := "FULL"
	switch {
	case s.opts.SyncOff:
		sync = "OFF"
	case s.opts.NoSync:
		sync = "NORMAL"
	}
	p := "file:" + filepath.Join(s.dir, "atoll.db") +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(" + sync + ")" +
		"&_pragma=cache_size(-32000)&_pragma=temp_store(MEMORY)"
	if readOnly {
		p += "&_pragma=query_only(1)"
	}
	return p
}

const schema = `
CREATE TABLE IF NOT EXISTS collections(id INTEGER PRIMARY KEY AUTOINCREMENT, db TEXT NOT NULL, name TEXT NOT NULL, options BLOB, UNIQUE(db, name));
CREATE TABLE IF NOT EXISTS indexes(id INTEGER PRIMARY KEY AUTOINCREMENT, coll_id INTEGER NOT NULL, name TEXT NOT NULL, spec BLOB NOT NULL, UNIQUE(coll_id, name));
CREATE TABLE IF NOT EXISTS oplog(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, wall INTEGER NOT NULL, db TEXT NOT NULL, coll TEXT NOT NULL, op TEXT NOT NULL, entry BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);
`

func (s *Store) open(ctx context.Context) error {
	var err error
	s.wdb, err = sql.Open("sqlite", s.dsn(false))
	if err != nil {
		return fmt.Errorf("embedded: open database: %w", err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	if _, err := s.wdb.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("embedded: create schema: %w", err)
	}
	s.rdb, err = sql.Open("sqlite", s.dsn(true))
	if err != nil {
		return fmt.Errorf("embedded: open database: %w", err)
	}
	s.rdb.SetMaxOpenConns(s.opts.ReadConns)
	s.rdb.SetMaxIdleConns(s.opts.ReadConns)
	s.rdb.SetConnMaxLifetime(0)
	cat, err := loadCatalog(ctx, s.wdb)
	if err != nil {
		return err
	}
	s.cat.Store(cat)
	var last, first sql.NullInt64
	if err := s.wdb.QueryRowContext(ctx, `SELECT max(seq), min(seq) FROM oplog`).Scan(&last, &first); err != nil {
		return fmt.Errorf("embedded: read oplog: %w", err)
	}
	var trimmed int64
	_ = s.wdb.QueryRowContext(ctx, `SELECT v FROM meta WHERE k='oplog_trimmed'`).Scan(&trimmed)
	var lastTS int64
	_ = s.wdb.QueryRowContext(ctx, `SELECT ts FROM oplog ORDER BY seq DESC LIMIT 1`).Scan(&lastTS)
	if !last.Valid {
		// An empty oplog may still have had entries (all trimmed).
		last.Int64 = trimmed
	}
	s.lastSeq.Store(last.Int64)
	s.minSeq.Store(trimmed)
	s.wstate = writerState{seq: last.Int64, ts: tsFromInt(lastTS)}
	return nil
}

func (s *Store) closeDBs() {
	if s.rdb != nil {
		s.rdb.Close()
	}
	if s.wdb != nil {
		s.wdb.Close()
	}
}

// Close stops the writer after the queued writes, and releases the
// database and the directory lock.
func (s *Store) Close(ctx context.Context) error {
	s.closeM.Lock()
	defer s.closeM.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stop)
	<-s.done
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
	var errs []error
	if _, err := s.wdb.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, s.rdb.Close(), s.wdb.Close())
	syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
	errs = append(errs, s.lock.Close())
	return errors.Join(errs...)
}

// Capabilities: the embedded engine has both change streams and
// transactions.
func (s *Store) Capabilities() store.Capabilities {
	return store.Capabilities{ChangeStreams: true, Transactions: true}
}

// ListDatabases returns the databases holding at least one collection.
func (s *Store) ListDatabases(ctx context.Context) ([]string, error) {
	return s.catalogFor(ctx).databases(), nil
}

// Database returns a handle on the database name.
func (s *Store) Database(name string) store.Database {
	return &database{s: s, name: name}
}

// catalogFor returns the catalog visible to ctx: the transaction's own
// when ctx carries one, the committed one otherwise.
func (s *Store) catalogFor(ctx context.Context) *catalog {
	if t := txFrom(ctx, s); t != nil {
		return t.w.st.cat
	}
	return s.cat.Load()
}

// broadcast wakes every waiting change stream.
func (s *Store) broadcast() {
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
}

// waitChan returns the channel closed at the next commit.
func (s *Store) waitChan() chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

func errClosed() error { return errors.New("embedded: store is closed") }

func tsFromInt(v int64) bson.Timestamp { return bson.Timestamp{T: uint32(v >> 32), I: uint32(v)} }
func tsToInt(t bson.Timestamp) int64   { return int64(t.T)<<32 | int64(t.I) }
