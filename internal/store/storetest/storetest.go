// Package storetest is the conformance suite of the store interface: the
// same tests, run against every backend (the embedded engine always, a
// MongoDB deployment — or FerretDB in CI — when one is configured), hold
// them to MongoDB's documented behaviour.
//
// A backend's test calls Run with a Harness that opens its store. Every
// test works in a database of its own, which the suite drops afterwards,
// so one server can serve the whole suite. After each test a contract
// check verifies the invariants every backend must keep (every document
// has an _id, first; ListIndexes starts with _id_; counts agree with
// scans; documents decode to bson.D and bson.A).
//
// Tests that need a capability the store does not declare (change
// streams, transactions) instead check that the store refuses them with
// the right error. A backend that cannot serve a test for another reason
// names it in Harness.Skip with the reason, and that reason is printed.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

// Harness describes one backend to the suite.
type Harness struct {
	// Name labels the backend in messages: "embedded", "mongodb",
	// "ferretdb".
	Name string
	// Open returns the store a test uses. It may return the same store to
	// every test (each test works in a database of its own) or a fresh
	// one; closing it is the harness's business (t.Cleanup).
	Open func(t testing.TB) store.Store
	// Skip names the tests this backend cannot serve, with the reason
	// (which must name the backend's limitation). Keys are test names as
	// in Tests, e.g. "IndexesPartial".
	Skip map[string]string
}

// Test is one conformance test.
type Test struct {
	Name string
	Fn   func(t *testing.T, e *Env)
}

// Env is what a test works with: a store and a database of its own.
type Env struct {
	Store store.Store
	DB    store.Database
	Ctx   context.Context
	// Harness is the backend under test.
	Harness Harness
}

// C returns a collection of the test's database.
func (e *Env) C(name string) store.Collection { return e.DB.Collection(name) }

// Run runs every conformance test against the harness's backend.
func Run(t *testing.T, h Harness) {
	for name := range h.Skip {
		if !slices.ContainsFunc(Tests, func(x Test) bool { return x.Name == name }) {
			t.Errorf("harness %s skips %q, which is not a test of the suite", h.Name, name)
		}
	}
	for _, tc := range Tests {
		t.Run(tc.Name, func(t *testing.T) {
			if reason, ok := h.Skip[tc.Name]; ok {
				t.Skipf("%s: %s", h.Name, reason)
			}
			e := NewEnv(t, h)
			tc.Fn(t, e)
		})
	}
}

// NewEnv opens the harness's store and a fresh database for t, dropped
// (after the contract check) when t ends.
func NewEnv(t testing.TB, h Harness) *Env {
	t.Helper()
	s := h.Open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	db := s.Database(uniqueName())
	e := &Env{Store: s, DB: db, Ctx: ctx, Harness: h}
	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(dctx); err != nil {
			t.Errorf("dropping test database %s: %v", db.Name(), err)
		}
	})
	t.Cleanup(func() {
		if t.Failed() || t.Skipped() {
			return
		}
		checkContract(t, e)
	})
	return e
}

func uniqueName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "st_" + hex.EncodeToString(b[:])
}

// checkContract verifies the invariants every backend keeps, in the style
// of FerretDB's contract wrapper: whatever a test did, the database it
// leaves behind must look like a MongoDB database.
func checkContract(t testing.TB, e *Env) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	names, err := e.DB.ListCollections(ctx)
	if err != nil {
		t.Errorf("contract: ListCollections: %v", err)
		return
	}
	if !slices.IsSorted(names) {
		t.Errorf("contract: ListCollections is not sorted: %q", names)
	}
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("contract: ListCollections has duplicates: %q", names)
	}
	for _, name := range names {
		if strings.HasPrefix(name, "system.") {
			t.Errorf("contract: ListCollections lists the server's %q", name)
			continue
		}
		c := e.DB.Collection(name)
		cur, err := c.Find(ctx, bson.D{}, store.FindOptions{})
		if err != nil {
			t.Errorf("contract: Find on %s: %v", name, err)
			continue
		}
		docs, err := store.All(ctx, cur)
		if err != nil {
			t.Errorf("contract: scanning %s: %v", name, err)
			continue
		}
		var ids bson.A
		for _, d := range docs {
			if len(d) == 0 || d[0].Key != "_id" {
				t.Errorf("contract: %s: a document whose first field is not _id: %s", name, ejson(d))
				continue
			}
			if err := checkTypes(d); err != nil {
				t.Errorf("contract: %s: %v in %s", name, err, ejson(d))
			}
			ids = append(ids, d[0].Value)
		}
		slices.SortFunc(ids, mql.Compare)
		for i := 1; i < len(ids); i++ {
			if mql.Compare(ids[i-1], ids[i]) == 0 {
				t.Errorf("contract: %s: duplicate _id %s", name, ejson(ids[i]))
			}
		}
		n, err := c.CountDocuments(ctx, bson.D{}, store.CountOptions{})
		if err != nil {
			t.Errorf("contract: CountDocuments on %s: %v", name, err)
		} else if n != int64(len(docs)) {
			t.Errorf("contract: %s: CountDocuments says %d, a scan finds %d", name, n, len(docs))
		}
		idx, err := c.ListIndexes(ctx)
		if err != nil {
			t.Errorf("contract: ListIndexes on %s: %v", name, err)
			continue
		}
		if len(idx) == 0 || idx[0].Name != "_id_" || ejson(idx[0].Keys) != ejson(bson.D{{Key: "_id", Value: int32(1)}}) {
			t.Errorf("contract: %s: ListIndexes does not start with _id_ {_id: 1}: %+v", name, idx)
		}
		seen := map[string]bool{}
		for _, ix := range idx {
			if seen[ix.Name] {
				t.Errorf("contract: %s: index name %q listed twice", name, ix.Name)
			}
			seen[ix.Name] = true
		}
	}
}

// checkTypes reports a value that is not in the store's decoded shape:
// documents bson.D, arrays bson.A, all the way down.
func checkTypes(v any) error {
	switch x := v.(type) {
	case bson.D:
		for _, e := range x {
			if err := checkTypes(e.Value); err != nil {
				return err
			}
		}
	case bson.A:
		for _, e := range x {
			if err := checkTypes(e); err != nil {
				return err
			}
		}
	case bson.M, map[string]any, []any, bson.Raw, bson.RawValue, bson.RawArray:
		return fmt.Errorf("a value of Go type %T (want bson.D for documents, bson.A for arrays)", v)
	}
	return nil
}

// --- helpers for tests ---

// D parses relaxed Extended JSON into a document: 1 is an int32,
// 3000000000 an int64, 1.5 a double, {"$oid": ...} an ObjectId.
func D(t testing.TB, s string) bson.D {
	t.Helper()
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		t.Fatalf("bad test document %s: %v", s, err)
	}
	return d
}

// Docs parses a JSON array of documents.
func Docs(t testing.TB, s string) []bson.D {
	t.Helper()
	a := A(t, s)
	out := make([]bson.D, len(a))
	for i, v := range a {
		d, ok := v.(bson.D)
		if !ok {
			t.Fatalf("bad test documents %s: element %d is not a document", s, i)
		}
		out[i] = d
	}
	return out
}

// A parses a JSON array.
func A(t testing.TB, s string) bson.A {
	t.Helper()
	w := D(t, `{"v": `+s+`}`)
	a, ok := w[0].Value.(bson.A)
	if !ok {
		t.Fatalf("bad test array %s", s)
	}
	return a
}

// ejson renders a value as canonical Extended JSON, which tells int32,
// int64 and double apart: the suite compares values this way.
func ejson(v any) string {
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
	if err != nil {
		return fmt.Sprintf("<%T: %v>", v, err)
	}
	s := string(b)
	return strings.TrimSuffix(strings.TrimPrefix(s, `{"v":`), "}")
}

// short bounds what a failure prints (documents may be megabytes).
func short(s string) string {
	const max = 2000
	if len(s) <= max {
		return s
	}
	return s[:max/2] + fmt.Sprintf(" ...(%d bytes)... ", len(s)-max) + s[len(s)-max/2:]
}

// Equal fails t unless got and want (relaxed Extended JSON) are the same
// value, types included.
func Equal(t testing.TB, got any, want string) {
	t.Helper()
	w := D(t, `{"v": `+want+`}`)[0].Value
	if ejson(got) != ejson(w) {
		t.Errorf("got  %s\nwant %s", short(ejson(got)), short(ejson(w)))
	}
}

// EqualDocs fails t unless the documents are want (a JSON array).
func EqualDocs(t testing.TB, got []bson.D, want string) {
	t.Helper()
	a := make(bson.A, len(got))
	for i, d := range got {
		a[i] = d
	}
	if got == nil {
		a = bson.A{}
	}
	Equal(t, a, want)
}

// Code fails t unless err carries the MongoDB code.
func Code(t testing.TB, err error, code int) *store.Error {
	t.Helper()
	if err == nil {
		t.Errorf("no error, want code %d", code)
		return nil
	}
	var e *store.Error
	if !errors.As(err, &e) {
		t.Errorf("error %v (%T) is not a *store.Error, want code %d", err, err, code)
		return nil
	}
	if e.Code != code {
		t.Errorf("error code %d (%v), want %d", e.Code, err, code)
	}
	if e.Message == "" {
		t.Errorf("error with code %d has no message", e.Code)
	}
	return e
}

// NoErr fails t now if err is not nil.
func NoErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// Insert inserts documents given as a JSON array.
func Insert(t testing.TB, e *Env, c store.Collection, docs string) {
	t.Helper()
	ds := Docs(t, docs)
	if len(ds) == 0 {
		return
	}
	_, err := c.InsertMany(e.Ctx, ds, store.InsertManyOptions{})
	NoErr(t, err)
}

// Find runs a find and returns every document.
func Find(t testing.TB, e *Env, c store.Collection, filter string, opts store.FindOptions) []bson.D {
	t.Helper()
	cur, err := c.Find(e.Ctx, D(t, filter), opts)
	NoErr(t, err)
	docs, err := store.All(e.Ctx, cur)
	NoErr(t, err)
	return docs
}

// sameType reports whether a and b have the same Go type.
func sameType(a, b any) bool { return reflect.TypeOf(a) == reflect.TypeOf(b) }
