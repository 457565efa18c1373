package applog

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
)

func openStore(t testing.TB) *embedded.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := embedded.Open(ctx, t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

func TestWriteReadRetentionAndBounds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := openStore(t)
	w := NewWriter(st, Options{MaxEntries: 5, BatchSize: 3, FlushInterval: time.Millisecond})
	for i := 0; i < 12; i++ {
		w.Record(Entry{Type: "function", Name: "f" + string(rune('a'+i)), Duration: time.Millisecond, UserID: "u1",
			Trigger: "client", Arguments: `[1]`, Result: strings.Repeat("x", MaxFieldBytes*2), Logs: []string{"hello", strings.Repeat("y", MaxLogBytes)}})
		time.Sleep(2 * time.Millisecond) // distinct batches, so retention runs between them
	}
	w.Record(Entry{Type: "other", Name: "z", Error: "boom"})
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if w.Dropped() != 0 || w.Written() != 13 {
		t.Fatalf("dropped %d written %d", w.Dropped(), w.Written())
	}
	all, err := Read(ctx, st, Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	// Retention keeps at most MaxEntries after each prune; the last batch
	// may add up to BatchSize more before the next prune.
	if len(all) < 5 || len(all) > 5+3 {
		t.Fatalf("retention: %d entries kept", len(all))
	}
	if last := all[len(all)-1]; lookup(last, "name") != "z" || lookup(last, "error") != "boom" {
		t.Fatalf("newest entry last: %v", last)
	}
	fns, err := Read(ctx, st, Query{Type: "function", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 2 || lookup(fns[1], "name") != "fl" || lookup(fns[0], "name") != "fk" {
		t.Fatalf("type filter and limit: %v", fns)
	}
	if r := lookup(fns[0], "result").(string); len(r) > MaxFieldBytes || !strings.HasSuffix(r, "…(truncated)") {
		t.Fatalf("result not bounded: %d bytes", len(r))
	}
	var buf bytes.Buffer
	if err := Format(&buf, fns[1]); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "function fl OK") || !strings.Contains(out, "caller=user u1 trigger=client") ||
		!strings.Contains(out, "arguments: [1]") || !strings.Contains(out, "  > hello") {
		t.Fatalf("format:\n%.300s", out)
	}
	after, err := Read(ctx, st, Query{After: lookup(fns[1], "_id")})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 1 || lookup(after[0], "name") != "z" {
		t.Fatalf("after: %v", after)
	}
}

func TestFullBufferCountsDrops(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := openStore(t)
	// The goroutine starts after the records, so the buffer of one is
	// full from the second record on.
	w := newWriter(st, Options{Logger: slog.Default(), BufferSize: 1, BatchSize: 1000, FlushInterval: time.Hour, MaxEntries: 10})
	for i := 0; i < 50; i++ {
		w.Record(Entry{Type: "function", Name: "f"})
	}
	go w.loop()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if w.Written() != 1 || w.Dropped() != 49 {
		t.Fatalf("dropped %d written %d", w.Dropped(), w.Written())
	}
	w.Record(Entry{Type: "function", Name: "late"})
	if w.Dropped()+w.Written() != 51 {
		t.Fatalf("record after close not counted")
	}
}

// TestRetentionAcrossRuns: entries of an earlier run (another Writer on
// the same store) are pruned too once the new Writer has written more
// than MaxEntries itself, and its newest MaxEntries stay.
func TestRetentionAcrossRuns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := openStore(t)
	old := NewWriter(st, Options{MaxEntries: 1000, BatchSize: 50, FlushInterval: time.Millisecond})
	for i := 0; i < 30; i++ {
		old.Record(Entry{Type: "function", Name: "old"})
	}
	if err := old.Close(ctx); err != nil {
		t.Fatal(err)
	}
	w := NewWriter(st, Options{MaxEntries: 4, BatchSize: 1, FlushInterval: time.Millisecond})
	for i := 0; i < 11; i++ {
		w.Record(Entry{Type: "function", Name: "new" + string(rune('a'+i))})
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := Read(ctx, st, Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 4 || len(all) > 4+2 {
		t.Fatalf("retention: %d entries kept", len(all))
	}
	for _, d := range all {
		if lookup(d, "name") == "old" {
			t.Fatalf("an entry of the earlier run survived: %v", all)
		}
	}
	if last := all[len(all)-1]; lookup(last, "name") != "newk" {
		t.Fatalf("newest entry: %v", last)
	}
}

// TestReadChunksAndSingleEntries: Read takes entries out of chunks and
// reads the one-entry documents of earlier versions alike, in order,
// with the type filter, the limit and After cutting inside chunks.
func TestReadChunksAndSingleEntries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := openStore(t)
	coll := st.Database(store.SystemDatabase).Collection(Collection)
	// Two entries as an earlier version stored them, one per document.
	for _, n := range []string{"single1", "single2"} {
		if _, err := coll.InsertOne(ctx, legacyEntryDoc(Entry{Type: "function", Name: n})); err != nil {
			t.Fatal(err)
		}
	}
	w := NewWriter(st, Options{BatchSize: 3, FlushInterval: time.Hour})
	for i := 0; i < 7; i++ { // chunks of 3, 3 and (at Close) 1
		typ := "function"
		if i == 4 {
			typ = "trigger"
		}
		w.Record(Entry{Type: typ, Name: fmt.Sprintf("c%d", i)})
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := coll.CountDocuments(ctx, bson.D{}, store.CountOptions{}); err != nil || n != 2+3 {
		t.Fatalf("stored documents: %d %v (want 2 single entries and 3 chunks)", n, err)
	}
	all, err := Read(ctx, st, Query{})
	if err != nil || entryNames(all) != "single1,single2,c0,c1,c2,c3,c4,c5,c6" {
		t.Fatalf("all: %s %v", entryNames(all), err)
	}
	if got, _ := Read(ctx, st, Query{Limit: 5}); entryNames(got) != "c2,c3,c4,c5,c6" {
		t.Errorf("limit 5: %s", entryNames(got))
	}
	if got, _ := Read(ctx, st, Query{Type: "function", Limit: 4}); entryNames(got) != "c2,c3,c5,c6" {
		t.Errorf("type function, limit 4: %s", entryNames(got))
	}
	if got, _ := Read(ctx, st, Query{Type: "trigger"}); entryNames(got) != "c4" {
		t.Errorf("type trigger: %s", entryNames(got))
	}
	if got, _ := Read(ctx, st, Query{After: lookup(all[3], "_id")}); entryNames(got) != "c2,c3,c4,c5,c6" {
		t.Errorf("after c1: %s", entryNames(got))
	}
	if got, _ := Read(ctx, st, Query{After: lookup(all[0], "_id"), Type: "function"}); entryNames(got) != "single2,c0,c1,c2,c3,c5,c6" {
		t.Errorf("after single1, functions: %s", entryNames(got))
	}
	if got, _ := Read(ctx, st, Query{After: lookup(all[8], "_id")}); len(got) != 0 {
		t.Errorf("after the newest: %s", entryNames(got))
	}
}

// entryNames is the names of entries read, comma-separated.
func entryNames(docs []bson.D) string {
	var s []string
	for _, d := range docs {
		s = append(s, lookup(d, "name").(string))
	}
	return strings.Join(s, ",")
}

// legacyEntryDoc is an entry as earlier versions stored it: alone, or
// as an element of an array chunk (see legacyArrayChunk).
func legacyEntryDoc(e Entry) bson.D {
	return legacyEntryDocID(e, bson.NewObjectID())
}

// legacyEntryDocID is legacyEntryDoc with the given _id.
func legacyEntryDocID(e Entry, id bson.ObjectID) bson.D {
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
		{Key: "_id", Value: id},
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

// legacyArrayChunk is a chunk as the previous version stored it:
// {_id, n, last, entries: [...]}.
func legacyArrayChunk(entries []bson.D) bson.D {
	var last any
	a := make(bson.A, len(entries))
	for i, d := range entries {
		a[i] = d
		if v, ok := lookup(d, "_id").(bson.ObjectID); ok {
			if l, ok := last.(bson.ObjectID); !ok || bytes.Compare(v[:], l[:]) > 0 {
				last = v
			}
		}
	}
	return bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "n", Value: int32(len(entries))}, {Key: "last", Value: last}, {Key: "entries", Value: a}}
}

// cut is what earlier versions stored of s: s, or when longer than n
// bytes its start ending with "…(truncated)", n bytes at most.
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
