// Package applog keeps the app log: one entry per function run (and,
// later, per trigger or endpoint run), stored in the collection app_logs
// of store.SystemDatabase so that every server process sharing a store
// writes to, and `atoll logs` reads from, one place.
//
// Writes never sit on the call path: Writer.Record hands the entry to a
// bounded buffer that one goroutine, owned by the Writer and stopped by
// Close, drains in batches. When the buffer is full the entry is dropped,
// counted, and the drop is logged through slog, never silently.
// Retention is by count: after every MaxEntries/2 entries written, the
// writer deletes all but the newest Options.MaxEntries entries (default
// 10,000), so the log holds between MaxEntries and 1.5×MaxEntries entries
// once full (pruning is one delete by _id; the writer finds the cut-off
// among the ids it wrote itself, and reads the collection for it only
// until it has written MaxEntries entries). Each entry is bounded
// in size (see MaxFieldBytes and MaxLogBytes).
package applog

import (
	"context"
	"errors"
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
	DefaultBatchSize     = 256
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
	// BatchSize is the most entries written in one InsertMany.
	BatchSize int
	// FlushInterval is how long an entry may wait for its batch to fill.
	FlushInterval time.Duration
}

// Writer writes entries to the store in the background.
type Writer struct {
	coll    store.Collection
	opts    Options
	log     *slog.Logger
	ch      chan bson.D
	dropped atomic.Int64
	written atomic.Int64
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	mu      sync.RWMutex // guards closed against sends after Close
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
		ch:   make(chan bson.D, opts.BufferSize),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// Record queues e without blocking. A full buffer, or a closed Writer,
// drops e and counts the drop (see Dropped); drops are reported in the
// slog log by the writer goroutine.
func (w *Writer) Record(e Entry) {
	d := e.doc()
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.dropped.Add(1)
		w.log.Warn("app log entry dropped: log closed", "type", e.Type, "name", e.Name)
		return
	}
	select {
	case w.ch <- d:
	default:
		w.dropped.Add(1)
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
	batch := make([]bson.D, 0, w.opts.BatchSize)
	var reported int64
	// Retention runs after every MaxEntries/2 entries written, so that
	// its query does not follow every small batch.
	sincePrune, pruneEvery := 0, max(1, w.opts.MaxEntries/2)
	// mine are the ids this writer wrote, oldest first, for prune.
	var mine []bson.ObjectID
	flush := func() {
		if n := w.dropped.Load(); n != reported {
			w.log.Warn("app log entries dropped: buffer full", "dropped_total", n, "dropped_since_last_report", n-reported)
			reported = n
		}
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := w.coll.InsertMany(ctx, batch, store.InsertManyOptions{Unordered: true}); err != nil {
			w.log.Error("app log write failed", "entries", len(batch), "error", err)
		} else {
			w.written.Add(int64(len(batch)))
			for _, d := range batch {
				if id, ok := lookup(d, "_id").(bson.ObjectID); ok {
					mine = append(mine, id)
				}
			}
			sincePrune += len(batch)
			if sincePrune >= pruneEvery {
				sincePrune = 0
				mine = w.prune(ctx, mine)
			}
		}
		batch = batch[:0]
	}
	for {
		select {
		case d := <-w.ch:
			batch = append(batch, d)
			if len(batch) >= w.opts.BatchSize {
				flush()
			}
		case <-t.C:
			flush()
		case <-w.stop:
			for {
				select {
				case d := <-w.ch:
					batch = append(batch, d)
					if len(batch) >= w.opts.BatchSize {
						flush()
					}
					continue
				default:
				}
				break
			}
			flush()
			return
		}
	}
}

// prune deletes all but the newest MaxEntries entries and returns what
// is left of mine, the ids this writer wrote (oldest first). _id is an
// ObjectId made when the entry was recorded, so it orders entries by the
// time they were recorded (within one process; across processes to the
// second).
//
// Once this writer has written more than MaxEntries entries, the cut-off
// is the newest of its own entries beyond the newest MaxEntries: deleting
// every _id up to it keeps at least MaxEntries entries (this writer's
// newest) without reading the collection. Until then (a new process, a
// log holding entries of earlier runs or other processes) the cut-off is
// found by a query that skips MaxEntries entries in _id order; that query
// reads the collection, and at one run per MaxEntries/2 entries it was
// the app log's largest cost per entry.
func (w *Writer) prune(ctx context.Context, mine []bson.ObjectID) []bson.ObjectID {
	keep := w.opts.MaxEntries
	var id any
	if len(mine) > keep {
		id = mine[len(mine)-keep-1]
		mine = append(mine[:0], mine[len(mine)-keep:]...)
	} else {
		old, err := w.coll.FindOne(ctx, bson.D{}, store.FindOptions{
			Sort: bson.D{{Key: "_id", Value: -1}}, Skip: int64(keep),
			Projection: bson.D{{Key: "_id", Value: 1}},
		})
		if errors.Is(err, store.ErrNoDocuments) || (err == nil && old == nil) {
			return mine
		}
		if err != nil {
			w.log.Error("app log retention failed", "error", err)
			return mine
		}
		id = lookup(old, "_id")
	}
	if _, err := w.coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lte", Value: id}}}}); err != nil {
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

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…(truncated)"
	// Cut on a rune boundary.
	i := n - len(mark)
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + mark
}

func (e Entry) doc() bson.D {
	logs := bson.A{}
	total := 0
	for _, l := range e.Logs {
		if total+len(l) > MaxLogBytes {
			logs = append(logs, cut(l, max(MaxLogBytes-total, 32)))
			break
		}
		total += len(l)
		logs = append(logs, l)
	}
	t := e.Time
	if t.IsZero() {
		t = time.Now()
	}
	d := bson.D{
		{Key: "_id", Value: bson.NewObjectID()},
		{Key: "ts", Value: bson.NewDateTimeFromTime(t)},
		{Key: "type", Value: e.Type},
		{Key: "name", Value: e.Name},
		{Key: "duration_ms", Value: float64(e.Duration.Microseconds()) / 1000},
		{Key: "user_id", Value: e.UserID},
		{Key: "system", Value: e.System},
		{Key: "trigger", Value: e.Trigger},
		{Key: "logs", Value: logs},
	}
	if e.Arguments != "" {
		d = append(d, bson.E{Key: "arguments", Value: cut(e.Arguments, MaxFieldBytes)})
	}
	if e.Error != "" {
		d = append(d, bson.E{Key: "error", Value: cut(e.Error, MaxFieldBytes)})
	} else if e.Result != "" {
		d = append(d, bson.E{Key: "result", Value: cut(e.Result, MaxFieldBytes)})
	}
	return d
}
