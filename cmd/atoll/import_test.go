package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
)

// importedDocs reads db.coll of the embedded store in dir, sorted by _id.
func importedDocs(t *testing.T, dir, db, coll string) []bson.D {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := embedded.Open(ctx, dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	cur, err := st.Database(db).Collection(coll).Find(ctx, bson.D{}, store.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := store.All(ctx, cur)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImportKeepsTypes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "employees.json")
	lines := `{"_id":{"$oid":"5f0000000000000000000001"},"name":"Ada","salary":{"$numberDecimal":"1200.50"},"hired":{"$date":"2020-01-02T00:00:00Z"},"n":{"$numberLong":"7"}}

{"_id":{"$oid":"5f0000000000000000000002"},"name":"Bob","tags":["a",{"x":1}]}
`
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "", "import", "--data="+dir, "--db", "hr", "--collection", "employees", file)
	if code != 0 || !strings.Contains(out, "imported 2 document(s) into hr.employees") {
		t.Fatalf("import: %d %q %s", code, out, stderr)
	}
	docs := importedDocs(t, dir, "hr", "employees")
	if len(docs) != 2 {
		t.Fatalf("got %d documents", len(docs))
	}
	first := docs[0]
	if v, ok := lookup(first, "salary").(bson.Decimal128); !ok || v.String() != "1200.50" {
		t.Errorf("salary = %#v, want Decimal128 1200.50", lookup(first, "salary"))
	}
	if _, ok := lookup(first, "hired").(bson.DateTime); !ok {
		t.Errorf("hired = %#v, want a date", lookup(first, "hired"))
	}
	if v, ok := lookup(first, "n").(int64); !ok || v != 7 {
		t.Errorf("n = %#v, want int64 7", lookup(first, "n"))
	}

	// An array file with --drop replaces the collection.
	arr := filepath.Join(t.TempDir(), "arr.json")
	if err := os.WriteFile(arr, []byte(`[{"_id":1,"name":"Cy"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "", "import", "--data="+dir, "--db", "hr", "--collection", "employees", "--drop", arr)
	if code != 0 {
		t.Fatalf("import --drop: %d %s", code, stderr)
	}
	docs = importedDocs(t, dir, "hr", "employees")
	if len(docs) != 1 || lookup(docs[0], "name") != "Cy" {
		t.Fatalf("after --drop: %v", docs)
	}
}

func TestImportRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte("{\"a\":1}\n{\"a\":\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "", "import", "--data="+dir, "--db", "d", "--collection", "c", bad)
	if code != 1 || !strings.Contains(stderr, "line 2") {
		t.Errorf("bad line: %d %s", code, stderr)
	}
	code, _, _ = runCLI(t, "", "import", "--data="+dir, "--collection", "c", bad)
	if code != 2 {
		t.Errorf("missing --db: exit %d, want 2", code)
	}
	// A duplicate _id is the store's error, reported with the batch.
	dup := filepath.Join(t.TempDir(), "dup.json")
	if err := os.WriteFile(dup, []byte(`[{"_id":1},{"_id":1}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "", "import", "--data="+dir, "--db", "d", "--collection", "c", dup)
	if code != 1 || !strings.Contains(stderr, "duplicate key") {
		t.Errorf("duplicate: %d %s", code, stderr)
	}
}

// lookup returns the value of key in d, or nil.
func lookup(d bson.D, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}
