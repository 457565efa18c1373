package mql

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

var canonicalizeGolden = flag.Bool("aggregate.canonical", false, "rewrite testdata/aggregate/*.jsonl in canonical Extended JSON")

// goldenCase is one line of testdata/aggregate/*.jsonl: a pipeline, its
// input documents, other collections for $lookup/$unionWith, and either
// the expected output documents (in order) or the expected error code.
type goldenCase struct {
	Name        string
	Pipeline    []bson.D
	Input       []bson.D
	Collections map[string][]bson.D
	Output      []bson.D
	Error       int
}

func toDocs(t *testing.T, v any) []bson.D {
	t.Helper()
	a, ok := v.(bson.A)
	if !ok {
		t.Fatalf("expected an array of documents, got %T", v)
	}
	out := make([]bson.D, len(a))
	for i, e := range a {
		d, ok := e.(bson.D)
		if !ok {
			t.Fatalf("expected a document, got %T", e)
		}
		out[i] = d
	}
	return out
}

func parseGoldenLine(t *testing.T, line []byte) goldenCase {
	t.Helper()
	var d bson.D
	if err := bson.UnmarshalExtJSON(line, false, &d); err != nil {
		t.Fatalf("bad golden line %s: %v", line, err)
	}
	var c goldenCase
	for _, e := range d {
		switch e.Key {
		case "name":
			c.Name = e.Value.(string)
		case "pipeline":
			c.Pipeline = toDocs(t, e.Value)
		case "input":
			c.Input = toDocs(t, e.Value)
		case "output":
			c.Output = toDocs(t, e.Value)
		case "error":
			n, _ := ToInt64(e.Value)
			c.Error = int(n)
		case "collections":
			c.Collections = map[string][]bson.D{}
			for _, ce := range e.Value.(bson.D) {
				c.Collections[ce.Key] = toDocs(t, ce.Value)
			}
		default:
			t.Fatalf("unknown golden key %q", e.Key)
		}
	}
	return c
}

func goldenFiles(t *testing.T, integration bool) []string {
	files, err := filepath.Glob("testdata/aggregate/*.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "integration") == integration {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatal("no golden files")
	}
	return out
}

func testEnv(colls map[string][]bson.D) *Env {
	return &Env{
		Now:  time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		Rand: rand.New(rand.NewPCG(1, 2)),
		Collection: func(ctx context.Context, name string) iter.Seq2[bson.D, error] {
			return sliceSeq(colls[name])
		},
	}
}

func runGoldenFile(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rewritten bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			rewritten.Write(sc.Bytes())
			rewritten.WriteByte('\n')
			continue
		}
		if *canonicalizeGolden {
			var d bson.D
			if err := bson.UnmarshalExtJSON(line, false, &d); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			b, err := bson.MarshalExtJSON(d, true, false)
			if err != nil {
				t.Fatal(err)
			}
			rewritten.Write(b)
			rewritten.WriteByte('\n')
		}
		c := parseGoldenLine(t, line)
		t.Run(c.Name, func(t *testing.T) {
			inputBefore := canon(docsToArray(c.Input))
			p, err := CompilePipeline(c.Pipeline)
			var out []bson.D
			if err == nil {
				out, err = p.Run(context.Background(), sliceSeq(c.Input), testEnv(c.Collections))
			}
			if c.Error != 0 {
				var me *Error
				if !errors.As(err, &me) || me.Code != c.Error {
					t.Fatalf("want error %d, got %v (output %s)", c.Error, err, canon(docsToArray(out)))
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got, want := canon(docsToArray(out)), canon(docsToArray(c.Output)); got != want {
				t.Fatalf("output\n got %s\nwant %s", got, want)
			}
			if canon(docsToArray(c.Input)) != inputBefore {
				t.Fatalf("input documents were modified")
			}
		})
	}
	if *canonicalizeGolden {
		if err := os.WriteFile(file, rewritten.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func docsToArray(docs []bson.D) bson.A {
	a := make(bson.A, len(docs))
	for i, d := range docs {
		a[i] = d
	}
	return a
}

// TestPipelineGolden runs the golden files that need only this area's
// stages.
func TestPipelineGolden(t *testing.T) {
	for _, f := range goldenFiles(t, false) {
		t.Run(filepath.Base(f), func(t *testing.T) { runGoldenFile(t, f) })
	}
}

// TestPipelineIntegrationGolden runs the golden files whose pipelines use
// $match or $sort, which rely on the filter and sort engines.
func TestPipelineIntegrationGolden(t *testing.T) {
	for _, f := range goldenFiles(t, true) {
		t.Run(filepath.Base(f), func(t *testing.T) { runGoldenFile(t, f) })
	}
}

func mustPipeline(t *testing.T, stages string) *Pipeline {
	t.Helper()
	a := parseEJ(t, stages)
	p, err := CompilePipeline(toDocs(t, a))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPipelineContextCancel(t *testing.T) {
	p := mustPipeline(t, `[{"$addFields": {"x": 1}}]`)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	endless := func(yield func(bson.D, error) bool) {
		for {
			n++
			if n == 1000 {
				cancel()
			}
			if !yield(bson.D{{Key: "i", Value: int32(n)}}, nil) {
				return
			}
		}
	}
	_, err := p.Run(ctx, endless, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if n > 1000+checkEvery {
		t.Fatalf("read %d documents after cancel", n-1000)
	}
}

func TestPipelineInputError(t *testing.T) {
	boom := errors.New("boom")
	p := mustPipeline(t, `[{"$group": {"_id": null, "n": {"$sum": 1}}}]`)
	in := func(yield func(bson.D, error) bool) {
		if !yield(bson.D{}, nil) {
			return
		}
		yield(nil, boom)
	}
	if _, err := p.Run(context.Background(), in, nil); !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
}

func TestPipelineLimitStopsReading(t *testing.T) {
	p := mustPipeline(t, `[{"$limit": 2}]`)
	n := 0
	in := func(yield func(bson.D, error) bool) {
		for {
			n++
			if !yield(bson.D{}, nil) {
				return
			}
		}
	}
	out, err := p.Run(context.Background(), in, nil)
	if err != nil || len(out) != 2 || n != 2 {
		t.Fatalf("out %d docs, read %d, err %v", len(out), n, err)
	}
}

func TestPipelineSampleDeterministic(t *testing.T) {
	p := mustPipeline(t, `[{"$sample": {"size": 3}}]`)
	var in []bson.D
	for i := 0; i < 20; i++ {
		in = append(in, bson.D{{Key: "i", Value: int32(i)}})
	}
	run := func(seed uint64) string {
		out, err := p.Run(context.Background(), sliceSeq(in), &Env{Rand: rand.New(rand.NewPCG(seed, 0))})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 3 {
			t.Fatalf("got %d docs", len(out))
		}
		seen := map[string]bool{}
		for _, d := range out {
			if seen[canon(d)] {
				t.Fatalf("duplicate in sample: %s", canon(d))
			}
			seen[canon(d)] = true
		}
		return canon(docsToArray(out))
	}
	if first, second := run(1), run(1); first != second {
		t.Fatal("same seed, different samples")
	}
	out, err := p.Run(context.Background(), sliceSeq(in[:2]), nil)
	if err != nil || len(out) != 2 {
		t.Fatalf("small input: %d docs, %v", len(out), err)
	}
}

func TestPipelineNoCollections(t *testing.T) {
	p := mustPipeline(t, `[{"$lookup": {"from": "x", "localField": "a", "foreignField": "b", "as": "r"}}]`)
	if _, err := p.Run(context.Background(), sliceSeq([]bson.D{{}}), nil); err == nil {
		t.Fatal("want error without Env.Collection")
	}
}

func TestPipelineVars(t *testing.T) {
	p := mustPipeline(t, `[{"$project": {"_id": 0, "now": "$$NOW", "v": "$$v"}}]`)
	env := &Env{Now: time.Unix(1, 0), Vars: map[string]any{"v": "x"}}
	out, err := p.Run(context.Background(), sliceSeq([]bson.D{{{Key: "_id", Value: int32(1)}}}), env)
	if err != nil {
		t.Fatal(err)
	}
	want := canon(bson.D{{Key: "now", Value: bson.DateTime(1000)}, {Key: "v", Value: "x"}})
	if canon(out[0]) != want {
		t.Fatalf("got %s want %s", canon(out[0]), want)
	}
}

func TestPipelineBindFilterVars(t *testing.T) {
	filter := parseEJ(t, `{"a": "$$x", "$and": [{"$expr": {"$eq": ["$b", "$$x.y"]}}], "$expr": {"$lt": ["$$NOW", "$$x"]}}`).(bson.D)
	if !mentionsVars(filter) {
		t.Fatal("mentionsVars: want true")
	}
	if mentionsVars(parseEJ(t, `{"a": "$$x"}`).(bson.D)) {
		t.Fatal("mentionsVars outside $expr: want false")
	}
	got := bindFilterVars(filter, map[string]any{"x": bson.D{{Key: "y", Value: int32(1)}}, "NOW": bson.DateTime(0)})
	want := parseEJ(t, `{"a": "$$x", "$and": [{"$expr": {"$eq": ["$b", {"$literal": 1}]}}], "$expr": {"$lt": [{"$literal": {"$date": "1970-01-01T00:00:00Z"}}, {"$literal": {"y": 1}}]}}`)
	if canon(got) != canon(want) {
		t.Fatalf("got %s\nwant %s", canon(got), canon(want))
	}
}

// TestPipelineIntegrationSortArray needs the sort engine (CompileSort).
func TestPipelineIntegrationSortArray(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$sortArray": {"input": [{"a": 2}, {"a": 1}, {"a": 3}], "sortBy": {"a": -1}}}`, ``, `[{"a": 3}, {"a": 2}, {"a": 1}]`, 0},
	})
}

func TestPipelineReplaceWithNilDocument(t *testing.T) {
	p, err := CompilePipeline([]bson.D{{{Key: "$replaceWith", Value: "$a"}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Run(context.Background(), sliceSeq([]bson.D{{{Key: "a", Value: bson.D(nil)}}}), nil)
	if err != nil || len(out) != 1 || len(out[0]) != 0 {
		t.Fatalf("got %v, %v", out, err)
	}
}
