package jsonschema

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// goldenCase is one record of testdata/cases.jsonl.
type goldenCase struct {
	Name       string          `json:"name"`
	Schema     string          `json:"schema"`
	Doc        json.RawMessage `json:"doc"`
	OK         bool            `json:"ok"`
	Violations []string        `json:"violations"`
}

// TestGolden runs testdata/cases.jsonl: JSON records (one per line, or
// spread over several), "//" lines are comments. Each names a schema file
// under testdata and gives a document in Extended JSON with the expected
// outcome.
func TestGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "//") {
			kept = append(kept, line)
		}
	}
	dec := json.NewDecoder(strings.NewReader(strings.Join(kept, "\n")))
	schemas := map[string]*Schema{}
	n := 0
	for {
		var c goldenCase
		if err := dec.Decode(&c); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("cases.jsonl record %d: %v", n+1, err)
		}
		n++
		if c.OK == (len(c.Violations) > 0) {
			t.Fatalf("%s: give either ok or violations", c.Name)
		}
		s, ok := schemas[c.Schema]
		if !ok {
			raw, err := os.ReadFile(filepath.Join("testdata", c.Schema))
			if err != nil {
				t.Fatal(err)
			}
			if s, err = Compile(raw, Options{}); err != nil {
				t.Fatalf("%s: %v", c.Schema, err)
			}
			schemas[c.Schema] = s
		}
		t.Run(c.Name, func(t *testing.T) {
			var d bson.D
			if err := bson.UnmarshalExtJSON(bytes.TrimSpace(c.Doc), false, &d); err != nil {
				t.Fatalf("doc: %v", err)
			}
			got := violations(t, s, d)
			if !reflect.DeepEqual(got, c.Violations) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(c.Violations, "\n\t"))
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d golden cases", n)
	}
	if s := schemas["seed002/users.schema.json"]; s == nil || s.Title() != "User" {
		t.Error("seed 002 users schema not exercised or title lost")
	}
	if s := schemas["seed002/tasks.schema.json"]; s == nil || s.Title() != "Task" {
		t.Error("seed 002 tasks schema not exercised or title lost")
	}
}
