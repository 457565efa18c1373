package applog

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// sampleEntries are entries exercising every field and bound.
func sampleEntries() []Entry {
	t0 := time.Date(2026, 11, 24, 7, 30, 0, 123456789, time.UTC)
	long := strings.Repeat("é", MaxFieldBytes) // cut inside a rune
	return []Entry{
		{Time: t0, Type: "function", Name: "plain", Duration: 1234567 * time.Nanosecond, UserID: "u1", Trigger: "client",
			Arguments: `[1,"two"]`, Result: `{"ok":true}`, Logs: []string{"one", "two"}},
		{Time: t0.Add(time.Millisecond), Type: "function", Name: "système ✓", Duration: 0, Trigger: "server", System: true},
		{Time: t0.Add(2 * time.Millisecond), Type: "trigger", Name: "err", UserID: "u2", System: true, Trigger: "rule",
			Arguments: long, Result: "ignored on error", Error: long, Logs: []string{}},
		{Time: t0.Add(3 * time.Millisecond), Type: "function", Name: "big", UserID: "u3", Trigger: "auth", Result: long,
			Logs: []string{"a", strings.Repeat("b", MaxLogBytes-10), "cccccccccccccccccccccccccccccccccccccccc", "never"}},
		{Time: t0.Add(4 * time.Millisecond), Type: "function", Name: "logs-at-bound",
			Logs: []string{strings.Repeat("x", MaxLogBytes), "y"}},
	}
}

// withoutID is d less its _id.
func withoutID(d bson.D) bson.D {
	var out bson.D
	for _, e := range d {
		if e.Key != "_id" {
			out = append(out, e)
		}
	}
	return out
}

func formatted(t *testing.T, d bson.D) string {
	t.Helper()
	var b bytes.Buffer
	if err := Format(&b, d); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPackedMatchesEarlierFormats: Read returns the same documents, and
// Format the same text, for entries the Writer stores in packed chunks
// as for the documents earlier versions stored (alone or in an array
// chunk), bounds included.
func TestPackedMatchesEarlierFormats(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := sampleEntries()

	packed := openStore(t)
	w := NewWriter(packed, Options{BatchSize: 2, FlushInterval: time.Hour})
	for _, e := range in {
		w.Record(e)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}

	single, array := openStore(t), openStore(t)
	var legacy []bson.D
	for _, e := range in {
		d := legacyEntryDoc(e)
		legacy = append(legacy, d)
		if _, err := single.Database(store.SystemDatabase).Collection(Collection).InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := array.Database(store.SystemDatabase).Collection(Collection).InsertOne(ctx, legacyArrayChunk(legacy)); err != nil {
		t.Fatal(err)
	}

	read := func(st store.Store) []bson.D {
		docs, err := Read(ctx, st, Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != len(in) {
			t.Fatalf("read %d entries, want %d", len(docs), len(in))
		}
		return docs
	}
	got, fromSingle, fromArray := read(packed), read(single), read(array)
	for i := range in {
		if _, ok := lookup(got[i], "_id").(bson.ObjectID); !ok {
			t.Errorf("entry %d: _id %v", i, lookup(got[i], "_id"))
		}
		for _, want := range []bson.D{fromSingle[i], fromArray[i]} {
			if !reflect.DeepEqual(withoutID(got[i]), withoutID(want)) {
				t.Errorf("entry %d:\n got  %v\n want %v", i, withoutID(got[i]), withoutID(want))
			}
			if g, w := formatted(t, got[i]), formatted(t, want); g != w {
				t.Errorf("entry %d formats as\n%.400s\nwant\n%.400s", i, g, w)
			}
		}
	}

	// The bounds, checked directly as well.
	for i, d := range got {
		for _, k := range []string{"arguments", "result", "error"} {
			if s, ok := lookup(d, k).(string); ok && (len(s) > MaxFieldBytes || !utf8.ValidString(s)) {
				t.Errorf("entry %d: %s of %d bytes", i, k, len(s))
			}
		}
		total := 0
		for _, l := range lookup(d, "logs").(bson.A) {
			total += len(l.(string))
		}
		if total > MaxLogBytes+32 {
			t.Errorf("entry %d: %d bytes of logs", i, total)
		}
	}
	if r := lookup(got[3], "result").(string); !strings.HasSuffix(r, "…(truncated)") {
		t.Errorf("long result not cut: %d bytes", len(r))
	}
	if e := lookup(got[2], "error").(string); !strings.HasSuffix(e, "…(truncated)") || lookup(got[2], "result") != nil {
		t.Errorf("error entry: %v", withoutID(got[2]))
	}
	if logs := lookup(got[3], "logs").(bson.A); len(logs) != 3 || !strings.HasSuffix(logs[2].(string), "…(truncated)") {
		t.Errorf("logs not cut at MaxLogBytes: %d lines", len(logs))
	}
	if out := formatted(t, got[1]); !strings.HasPrefix(out, "2026-11-24T07:30:00.124Z function système ✓ OK 0.000ms caller=system trigger=server\n") {
		t.Errorf("format:\n%s", out)
	}
}

// TestReadMixedFormats: a log holding entries stored alone, array chunks
// and packed chunks reads in order, with the type filter, the limit and
// After applied across all of them.
func TestReadMixedFormats(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := openStore(t)
	coll := st.Database(store.SystemDatabase).Collection(Collection)
	insert := func(d bson.D) {
		t.Helper()
		if _, err := coll.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	record := func(names ...string) {
		w := NewWriter(st, Options{BatchSize: 2, FlushInterval: time.Hour})
		for _, n := range names {
			typ := "function"
			if strings.HasPrefix(n, "t") {
				typ = "trigger"
			}
			w.Record(Entry{Type: typ, Name: n})
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Oldest first: alone, packed, array, packed, alone.
	insert(legacyEntryDoc(Entry{Type: "function", Name: "s1"}))
	record("p1", "t1", "p2")
	insert(legacyArrayChunk([]bson.D{legacyEntryDoc(Entry{Type: "function", Name: "a1"}), legacyEntryDoc(Entry{Type: "trigger", Name: "t2"})}))
	record("p3")
	insert(legacyEntryDoc(Entry{Type: "trigger", Name: "t3"}))

	all, err := Read(ctx, st, Query{})
	if err != nil || entryNames(all) != "s1,p1,t1,p2,a1,t2,p3,t3" {
		t.Fatalf("all: %s %v", entryNames(all), err)
	}
	for _, c := range []struct {
		q    Query
		want string
	}{
		{Query{Limit: 4}, "a1,t2,p3,t3"},
		{Query{Type: "trigger"}, "t1,t2,t3"},
		{Query{Type: "function", Limit: 3}, "p2,a1,p3"},
		{Query{After: lookup(all[0], "_id")}, "p1,t1,p2,a1,t2,p3,t3"},
		{Query{After: lookup(all[2], "_id")}, "p2,a1,t2,p3,t3"},
		{Query{After: lookup(all[2], "_id"), Type: "trigger"}, "t2,t3"},
		{Query{After: lookup(all[4], "_id"), Type: "function"}, "p3"},
		{Query{After: lookup(all[7], "_id")}, ""},
	} {
		got, err := Read(ctx, st, c.q)
		if err != nil || entryNames(got) != c.want {
			t.Errorf("%+v: %s %v, want %s", c.q, entryNames(got), err, c.want)
		}
	}
	// Stored documents: 2 alone, 1 array chunk, 3 packed chunks.
	n, err := coll.CountDocuments(ctx, bson.D{{Key: fieldDeflated, Value: bson.D{{Key: "$exists", Value: true}}}}, store.CountOptions{})
	if err != nil || n != 3 {
		t.Errorf("packed chunks: %d %v", n, err)
	}
}

// TestReadCorruptChunk: a packed chunk that does not inflate to BSON
// documents is an error, not a silent gap.
func TestReadCorruptChunk(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for name, data := range map[string][]byte{
		"not deflate": []byte("garbage"),
		"not bson":    deflated(t, []byte("\x30\x00\x00\x00not a document at all")),
	} {
		st := openStore(t)
		d := bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "n", Value: int32(1)}, {Key: "last", Value: bson.NewObjectID()},
			{Key: fieldTypes, Value: bson.A{"function"}}, {Key: fieldDeflated, Value: bson.Binary{Data: data}}}
		if _, err := st.Database(store.SystemDatabase).Collection(Collection).InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(ctx, st, Query{}); !errors.Is(err, errPacked) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func deflated(t *testing.T, b []byte) []byte {
	t.Helper()
	var z deflater
	out, err := z.deflate(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRecordEncodesWithoutAllocating: Record costs the caller no
// allocation once the buffers have grown.
func TestRecordEncodesWithoutAllocating(t *testing.T) {
	st := openStore(t)
	w := newWriter(st, Options{BufferSize: 1 << 20, BatchSize: 1 << 20, MaxEntries: 10, FlushInterval: time.Hour})
	e := sampleEntries()[0]
	for i := 0; i < 1000; i++ {
		w.Record(e)
	}
	w.mu.Lock()
	w.pending.reset()
	w.mu.Unlock()
	if n := testing.AllocsPerRun(500, func() { w.Record(e) }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
	if got := len(w.pending.ents); got != 501 {
		t.Errorf("pending %d", got)
	}
}

// TestHugeEntryDropped: an entry encoding to more than maxEntryBytes
// (bounded fields, but a great many console lines) is dropped and
// counted, and the entries around it are stored.
func TestHugeEntryDropped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := openStore(t)
	w := NewWriter(st, Options{FlushInterval: time.Hour})
	lines := make([]string, maxEntryBytes/8)
	w.Record(Entry{Type: "function", Name: "before"})
	w.Record(Entry{Type: "function", Name: "huge", Logs: lines})
	w.Record(Entry{Type: "function", Name: "after", Logs: lines[:1000]})
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if w.Dropped() != 1 || w.Written() != 2 {
		t.Fatalf("dropped %d written %d", w.Dropped(), w.Written())
	}
	got, err := Read(ctx, st, Query{})
	if err != nil || len(got) != 2 || lookup(got[0], "name") != "before" || lookup(got[1], "name") != "after" {
		t.Fatalf("read %d entries, %v", len(got), err)
	}
	if logs := lookup(got[1], "logs").(bson.A); len(logs) != 1000 {
		t.Errorf("after: %d lines", len(logs))
	}
}
