package applog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/atollhq/atoll/internal/store"
)

// Query selects entries to read.
type Query struct {
	// Type keeps entries of this type only ("function"); empty keeps all.
	Type string
	// Limit is the most entries returned: the newest ones. 0 means 100.
	Limit int
	// After returns only entries recorded after the entry with this _id
	// (as returned in a previous Read); nil returns the newest.
	After any
}

// Read returns the entries q selects, oldest first. It reads stored
// documents newest first, taking the entries out of chunks (packed ones
// and the array chunks of earlier versions; entries stored alone by
// earlier versions as they are), until it has Limit.
func Read(ctx context.Context, st store.Store, q Query) ([]bson.D, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var and bson.A
	if q.Type != "" {
		and = append(and, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "type", Value: q.Type}}, bson.D{{Key: "entries.type", Value: q.Type}},
			bson.D{{Key: fieldTypes, Value: q.Type}},
		}}})
	}
	after, hasAfter := q.After.(bson.ObjectID)
	if q.After != nil {
		and = append(and, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: q.After}}}},
			bson.D{{Key: "last", Value: bson.D{{Key: "$gt", Value: q.After}}}},
		}}})
	}
	filter := bson.D{}
	if len(and) > 0 {
		filter = bson.D{{Key: "$and", Value: and}}
	}
	cur, err := st.Database(store.SystemDatabase).Collection(Collection).Find(ctx, filter, store.FindOptions{
		Sort: bson.D{{Key: "_id", Value: -1}},
	})
	if err != nil {
		return nil, fmt.Errorf("applog: reading: %w", err)
	}
	defer cur.Close(ctx)
	// keep reports whether an entry passes the filters (a chunk matching
	// them holds other entries too).
	keep := func(e storedEntry) bool {
		typ, id := e.typeAndID()
		if q.Type != "" && typ != q.Type {
			return false
		}
		if q.After != nil {
			id, ok := id.(bson.ObjectID)
			if !ok || !hasAfter || bytes.Compare(id[:], after[:]) <= 0 {
				return false
			}
		}
		return true
	}
	var docs []bson.D // newest first
	for len(docs) < q.Limit && cur.Next(ctx) {
		d := cur.Doc()
		entries, err := chunkEntries(d)
		if err != nil {
			return nil, err
		}
		for i := len(entries) - 1; i >= 0 && len(docs) < q.Limit; i-- {
			if !keep(entries[i]) {
				continue
			}
			e, err := entries[i].decode()
			if err != nil {
				return nil, fmt.Errorf("applog: reading chunk %v: %w", lookup(d, "_id"), err)
			}
			docs = append(docs, e)
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("applog: reading: %w", err)
	}
	for i, j := 0, len(docs)-1; i < j; i, j = i+1, j-1 {
		docs[i], docs[j] = docs[j], docs[i]
	}
	return docs, nil
}

// storedEntry is an entry as stored: a document of its own or of an
// array chunk (d), or one of a packed chunk, decoded only when kept (raw).
type storedEntry struct {
	d   bson.D
	raw bsoncore.Document
}

// typeAndID returns the entry's type and _id (nil when missing).
func (e storedEntry) typeAndID() (typ, id any) {
	if e.raw == nil {
		return lookup(e.d, "type"), lookup(e.d, "_id")
	}
	if s, ok := e.raw.Lookup("type").StringValueOK(); ok {
		typ = s
	}
	if oid, ok := e.raw.Lookup("_id").ObjectIDOK(); ok {
		id = bson.ObjectID(oid)
	}
	return typ, id
}

// decode returns the entry as a document.
func (e storedEntry) decode() (bson.D, error) {
	if e.raw == nil {
		return e.d, nil
	}
	var d bson.D
	if err := bson.Unmarshal(e.raw, &d); err != nil {
		return nil, fmt.Errorf("%w: %v", errPacked, err)
	}
	return d, nil
}

// chunkEntries returns the entries of a stored document, in order: those
// of a chunk, or the document itself when it is an entry stored alone.
func chunkEntries(d bson.D) ([]storedEntry, error) {
	if v, ok := lookup(d, fieldDeflated).(bson.Binary); ok {
		raws, err := unpack(v.Data)
		if err != nil {
			return nil, fmt.Errorf("applog: reading chunk %v: %w", lookup(d, "_id"), err)
		}
		entries := make([]storedEntry, len(raws))
		for i, r := range raws {
			entries[i].raw = r
		}
		return entries, nil
	}
	a, ok := lookup(d, "entries").(bson.A)
	if !ok {
		return []storedEntry{{d: d}}, nil
	}
	entries := make([]storedEntry, 0, len(a))
	for _, e := range a {
		if e, ok := e.(bson.D); ok {
			entries = append(entries, storedEntry{d: e})
		}
	}
	return entries, nil
}

// Format writes one entry as text: a header line (time, type, name,
// outcome, duration, caller), then the arguments, result or error and
// console lines indented.
func Format(w io.Writer, d bson.D) error {
	get := func(k string) any { return lookup(d, k) }
	str := func(k string) string { s, _ := get(k).(string); return s }
	ts := ""
	if t, ok := get("ts").(bson.DateTime); ok {
		ts = t.Time().UTC().Format(time.RFC3339Nano)
	}
	outcome := "OK"
	if str("error") != "" {
		outcome = "ERROR"
	}
	caller := "system"
	if u := str("user_id"); u != "" {
		caller = "user " + u
		if sys, _ := get("system").(bool); sys {
			caller += " (as system)"
		}
	}
	var dur float64
	switch v := get("duration_ms").(type) {
	case float64:
		dur = v
	case int32:
		dur = float64(v)
	case int64:
		dur = float64(v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %s %.3fms caller=%s trigger=%s\n", ts, str("type"), str("name"), outcome, dur, caller, str("trigger"))
	if a := str("arguments"); a != "" {
		fmt.Fprintf(&b, "  arguments: %s\n", a)
	}
	if e := str("error"); e != "" {
		fmt.Fprintf(&b, "  error: %s\n", e)
	} else if r := str("result"); r != "" {
		fmt.Fprintf(&b, "  result: %s\n", r)
	}
	if logs, ok := get("logs").(bson.A); ok {
		for _, l := range logs {
			fmt.Fprintf(&b, "  > %v\n", l)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
