package applog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

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
	keep := func(e bson.D) bool {
		if q.Type != "" && lookup(e, "type") != q.Type {
			return false
		}
		if q.After != nil {
			id, ok := lookup(e, "_id").(bson.ObjectID)
			if !ok || !hasAfter || bytes.Compare(id[:], after[:]) <= 0 {
				return false
			}
		}
		return true
	}
	var docs []bson.D // newest first
	for len(docs) < q.Limit && cur.Next(ctx) {
		d := cur.Doc()
		entries, ok, err := chunkEntries(d)
		if err != nil {
			return nil, err
		}
		if !ok {
			if keep(d) {
				docs = append(docs, d)
			}
			continue
		}
		for i := len(entries) - 1; i >= 0 && len(docs) < q.Limit; i-- {
			if keep(entries[i]) {
				docs = append(docs, entries[i])
			}
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

// chunkEntries returns the entries of a stored chunk, in order, and
// whether d is a chunk at all (or an entry stored alone).
func chunkEntries(d bson.D) ([]bson.D, bool, error) {
	switch v := lookup(d, fieldDeflated).(type) {
	case bson.Binary:
		entries, err := unpack(v.Data)
		if err != nil {
			return nil, true, fmt.Errorf("applog: reading chunk %v: %w", lookup(d, "_id"), err)
		}
		return entries, true, nil
	}
	a, ok := lookup(d, "entries").(bson.A)
	if !ok {
		return nil, false, nil
	}
	entries := make([]bson.D, 0, len(a))
	for _, e := range a {
		if e, ok := e.(bson.D); ok {
			entries = append(entries, e)
		}
	}
	return entries, true, nil
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
