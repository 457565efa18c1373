// Package applog keeps the app log: one entry per function run (and,
// later, per trigger or endpoint run), stored in the collection app_logs
// of store.SystemDatabase so that every server process sharing a store
// writes to, and `atoll logs` reads from, one place.
//
// Writes never sit on the call path: Writer.Record encodes the entry as
// BSON (by hand, without reflection or allocation) into a bounded buffer
// that one goroutine, owned by the Writer and stopped by Close, drains in
// batches, each stored as one document (a chunk, see chunkOf): the
// batch's entry documents, compressed together into one binary value,
// with the fields retention and Read's filters need beside it. The store
// thus copies a few kilobytes per batch instead of encoding, writing and
// later decoding hundreds of documents. Read decodes the entries back;
// it also reads the chunks and one-entry documents of earlier versions.
// When the buffer is full the entry is dropped, counted, and the drop is
// logged through slog, never silently.
// Retention is by count: after every MaxEntries/2 entries written, the
// writer deletes all but the newest Options.MaxEntries entries (default
// 10,000) in whole chunks, so the log holds between MaxEntries and
// 1.5×MaxEntries entries plus one chunk once full (pruning is one delete
// by _id; the writer finds the cut-off among the chunks it wrote itself,
// and reads the collection for it only until it has written MaxEntries
// entries). Each entry is bounded in size (see MaxFieldBytes and
// MaxLogBytes).
package applog

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// Collection is the collection of store.SystemDatabase holding the log.
const Collection = "app_logs"

// Size bounds of one entry. An entry's arguments, result and error are
// each cut to MaxFieldBytes; its console lines together to MaxLogBytes.
// Cut fields end with "…(truncated)".
const (
	MaxFieldBytes = 16 << 10
	MaxLogBytes   = 64 << 10
)

// Defaults of Options.
const (
	DefaultMaxEntries    = 10000
	DefaultBufferSize    = 4096
	DefaultBatchSize     = 1024
	DefaultFlushInterval = 200 * time.Millisecond
)

// Entry is one run.
type Entry struct {
	// Time is when the run started.
	Time time.Time
	// Type is what ran: "function".
	Type string
	// Name is the function's name.
	Name string
	// Duration is how long the run took.
	Duration time.Duration
	// UserID is the calling user; empty for system callers.
	UserID string
	// System reports that the run executed as system (rules bypassed).
	System bool
	// Trigger is what started the run: "client" (functions/call),
	// "rule" (%function), "auth" (an auth provider or handler) or
	// "server" (other server-side code).
	Trigger string
	// Arguments is the canonical EJSON of the arguments; empty when the
	// function sets disable_arg_logs.
	Arguments string
	// Result is the canonical EJSON of the result; empty on error.
	Result string
	// Error is the error's message; empty on success.
	Error string
	// Logs is the console output.
	Logs []string
}

// Options configures a Writer. Zero values mean the defaults.
type Options struct {
	// Logger receives drop and write-failure reports.
	Logger *slog.Logger
	// MaxEntries is the retention: how many newest entries are kept.
	MaxEntries int
	// BufferSize is how many entries may wait to be written.
	BufferSize int
	// BatchSize is the most entries stored in one chunk (a batch waits
	// for FlushInterval at most, however few entries it holds).
	BatchSize int
	// FlushInterval is how long an entry may wait for its batch to fill.
	FlushInterval time.Duration
}

// Writer writes entries to the store in the background.
type Writer struct {
	coll    store.Collection
	opts    Options
	log     *slog.Logger
	dropped atomic.Int64
	written atomic.Int64
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	// wake tells the writer goroutine that a batch is waiting (capacity
	// one: signals while one is pending are merged).
	wake chan struct{}

	mu sync.Mutex // guards pending and closed
	// pending are the entries recorded and not yet taken by the writer
	// goroutine, at most Options.BufferSize, encoded. Entries are
	// handed over in a buffer rather than one channel send each: a send
	// to the parked writer woke it for every call (a goroutine switch
	// per function run); now it wakes when a batch is full, or on its
	// flush ticker.
	pending packedEntries
	closed  bool
}

// NewWriter starts a Writer on st. Close stops it.
func NewWriter(st store.Store, opts Options) *Writer {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.BufferSize <= 0 {
		opts.BufferSize = DefaultBufferSize
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	w := newWriter(st, opts)
	go w.loop()
	return w
}

// newWriter is NewWriter without starting the goroutine.
func newWriter(st store.Store, opts Options) *Writer {
	return &Writer{
		coll: st.Database(store.SystemDatabase).Collection(Collection),
		opts: opts, log: opts.Logger,
		stop: make(chan struct{}), done: make(chan struct{}),
		wake: make(chan struct{}, 1),
	}
}

// Record queues e without blocking. A full buffer, a closed Writer, or
// an entry encoding to more than 8 MiB (many console lines: their count
// is not bounded, only their bytes) drops e and counts the drop (see
// Dropped); drops are reported in the slog log by the writer goroutine.
func (w *Writer) Record(e Entry) {
	id := bson.NewObjectID()
	t := e.Time
	if t.IsZero() {
		t = time.Now()
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.dropped.Add(1)
		w.log.Warn("app log entry dropped: log closed", "type", e.Type, "name", e.Name)
		return
	}
	if len(w.pending.ents) >= w.opts.BufferSize {
		w.mu.Unlock()
		w.dropped.Add(1)
		return
	}
	// Encoding here, into the one pending buffer, costs less than
	// handing over the entry in any other form (no allocation).
	if !w.pending.add(&e, id, t) {
		w.mu.Unlock()
		w.dropped.Add(1)
		w.log.Warn("app log entry dropped: too large", "type", e.Type, "name", e.Name, "max_bytes", maxEntryBytes)
		return
	}
	full := len(w.pending.ents) == w.opts.BatchSize
	w.mu.Unlock()
	if full {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Dropped is how many entries were dropped since the Writer started.
func (w *Writer) Dropped() int64 { return w.dropped.Load() }

// Written is how many entries were written since the Writer started.
func (w *Writer) Written() int64 { return w.written.Load() }

// Close writes what is buffered (within ctx) and stops the goroutine.
func (w *Writer) Close(ctx context.Context) error {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		close(w.stop)
	})
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Writer) loop() {
	defer close(w.done)
	t := time.NewTicker(w.opts.FlushInterval)
	defer t.Stop()
	var batch packedEntries
	var z deflater
	var reported int64
	// Retention runs after every MaxEntries/2 entries written, so that
	// its query does not follow every small batch.
	sincePrune, pruneEvery := 0, max(1, w.opts.MaxEntries/2)
	// mine are the chunks this writer wrote, oldest first, for prune.
	var mine []chunkRef
	flush := func() {
		if n := w.dropped.Load(); n != reported {
			w.log.Warn("app log entries dropped: buffer full or entry too large", "dropped_total", n, "dropped_since_last_report", n-reported)
			reported = n
		}
		if len(batch.ents) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := chunkOf(&batch, &z)
		if err == nil {
			if _, err = w.coll.InsertOne(ctx, c.doc); err != nil {
				// The store may still hold the chunk's buffer: leave it.
				z.abandon()
			}
		}
		if err != nil {
			w.log.Error("app log write failed", "entries", len(batch.ents), "error", err)
		} else {
			w.written.Add(int64(len(batch.ents)))
			mine = append(mine, c.ref)
			sincePrune += len(batch.ents)
			if sincePrune >= pruneEvery {
				sincePrune = 0
				mine = w.prune(ctx, mine)
			}
		}
		batch.reset()
	}
	// take moves the pending entries into batches, swapping the pending
	// buffer with a spare one so that neither is reallocated.
	var spare packedEntries
	take := func() {
		w.mu.Lock()
		got := w.pending
		w.pending = spare
		w.mu.Unlock()
		for i := range got.ents {
			batch.addFrom(&got, i)
			if len(batch.ents) >= w.opts.BatchSize || len(batch.data) >= MaxChunkBytes {
				flush()
			}
		}
		got.reset()
		spare = got
	}
	for {
		select {
		case <-w.wake:
			take()
		case <-t.C:
			take()
			flush()
		case <-w.stop:
			take()
			flush()
			return
		}
	}
}

// chunkRef is a chunk this writer wrote: its _id and entry count.
type chunkRef struct {
	id bson.ObjectID
	n  int
}

// prune deletes all but the newest MaxEntries entries (whole chunks: the
// chunk holding the MaxEntries-th newest entry is kept) and returns what
// is left of mine, the chunks this writer wrote (oldest first). Chunk
// _ids are ObjectIds made when the chunk was written, so they order
// chunks by time (within one process; across processes to the second).
//
// Once this writer has written more than MaxEntries entries, the cut-off
// is found among its own chunks: deleting every document with a smaller
// _id keeps at least MaxEntries entries (this writer's newest) without
// reading the collection. Until then (a new process, a log holding
// entries of earlier runs or other processes) the documents are read
// newest first, counting entries, to find it.
func (w *Writer) prune(ctx context.Context, mine []chunkRef) []chunkRef {
	keep := w.opts.MaxEntries
	var cutoff any
	total := 0
	for _, c := range mine {
		total += c.n
	}
	if total > keep {
		acc, i := 0, len(mine)-1
		for ; i > 0; i-- {
			if acc += mine[i].n; acc >= keep {
				break
			}
		}
		if i == 0 {
			return mine
		}
		cutoff = mine[i].id
		mine = append(mine[:0], mine[i:]...)
	} else {
		cur, err := w.coll.Find(ctx, bson.D{}, store.FindOptions{
			Sort: bson.D{{Key: "_id", Value: -1}}, Projection: bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 1}},
		})
		if err != nil {
			w.log.Error("app log retention failed", "error", err)
			return mine
		}
		acc := 0
		for cur.Next(ctx) {
			d := cur.Doc()
			acc += entryCount(d)
			if acc >= keep {
				cutoff = lookup(d, "_id")
				break
			}
		}
		err = cur.Err()
		_ = cur.Close(ctx)
		if err != nil {
			w.log.Error("app log retention failed", "error", err)
			return mine
		}
		if cutoff == nil {
			return mine
		}
	}
	if _, err := w.coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: cutoff}}}}); err != nil {
		w.log.Error("app log retention failed", "error", err)
	}
	return mine
}

func lookup(d bson.D, k string) any {
	for _, e := range d {
		if e.Key == k {
			return e.Value
		}
	}
	return nil
}

// MaxChunkBytes bounds the entries of one chunk (by their encoded size):
// a chunk is written when it reaches BatchSize entries or this size, far
// under the 16 MiB document limit even with the largest entry.
const MaxChunkBytes = 1 << 20

// A chunk is one stored document holding the entries of one batch (see
// chunkOf for its fields). One document per batch instead of one per
// entry makes the log's cost per entry in the store (the row, its
// change-feed record, its later delete) a fraction of what it was. Read
// also accepts the documents earlier versions wrote: chunks holding the
// entries as an array of documents ({_id, n, last, entries: [...]}), and
// one-entry documents.
type chunk struct {
	doc bson.D
	ref chunkRef
}

// entryCount is how many entries a stored document holds: n for a
// chunk, 1 for an entry stored alone.
func entryCount(d bson.D) int {
	switch n := lookup(d, "n").(type) {
	case int32:
		return int(n)
	case int64:
		return int(n)
	}
	return 1
}
