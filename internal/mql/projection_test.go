package mql

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// projsortCase is one line of a golden file under testdata/projection or
// testdata/sort, in canonical Extended JSON.
type projsortCase struct {
	name     string
	spec     bson.D
	doc      bson.D
	docs     []bson.D
	position int
	result   any // bson.D, or bson.A of documents for sorts
	code     int // expected error code, 0 for success
}

func loadProjsortGolden(t *testing.T, file string) []projsortCase {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []projsortCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var d bson.D
		if err := bson.UnmarshalExtJSON(sc.Bytes(), true, &d); err != nil {
			t.Fatalf("%s:%d: %v", file, line, err)
		}
		c := projsortCase{position: -1}
		for _, e := range d {
			switch e.Key {
			case "name":
				c.name = e.Value.(string)
			case "spec":
				c.spec = e.Value.(bson.D)
			case "doc":
				c.doc = e.Value.(bson.D)
			case "docs":
				for _, x := range e.Value.(bson.A) {
					c.docs = append(c.docs, x.(bson.D))
				}
			case "position":
				c.position = int(e.Value.(int32))
			case "result":
				c.result = e.Value
			case "error":
				c.code = int(e.Value.(int32))
			default:
				t.Fatalf("%s:%d: unknown key %q", file, line, e.Key)
			}
		}
		if c.name == "" {
			t.Fatalf("%s:%d: case without a name", file, line)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// canonicalJSON renders a value as canonical Extended JSON, which shows
// both field order and numeric types, so that comparing the strings
// compares exactly.
func projsortJSON(t *testing.T, v any) string {
	t.Helper()
	if d, ok := v.(bson.D); ok && d == nil {
		v = bson.D{}
	}
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return string(b)
}

func projsortWantCode(t *testing.T, err error, code int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error with code %d", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("error code = %d (%s), want %d", e.Code, e.Message, code)
	}
}

func runProjectionGolden(t *testing.T, file string) {
	for _, c := range loadProjsortGolden(t, file) {
		t.Run(c.name, func(t *testing.T) {
			before := projsortJSON(t, c.doc)
			p, err := CompileProjection(c.spec)
			if err == nil && c.doc != nil {
				var got bson.D
				got, err = p.Apply(c.doc, c.position)
				if err == nil {
					if c.code != 0 {
						t.Fatalf("got %s, want error %d", projsortJSON(t, got), c.code)
					}
					if g, w := projsortJSON(t, got), projsortJSON(t, c.result); g != w {
						t.Fatalf("projection %s\n got %s\nwant %s", projsortJSON(t, c.spec), g, w)
					}
				}
			}
			if c.code != 0 {
				projsortWantCode(t, err, c.code)
			} else if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if after := projsortJSON(t, c.doc); after != before {
				t.Fatalf("input document modified: %s", after)
			}
		})
	}
}

func TestProjectionGolden(t *testing.T) { runProjectionGolden(t, "projection/projection.jsonl") }

// These need CompileFilter ($elemMatch) from match.go.
func TestProjectionElemMatchGolden(t *testing.T) {
	runProjectionGolden(t, "projection/elemmatch.jsonl")
}

// These need CompileExpression from expression.go.
func TestProjectionExpressionGolden(t *testing.T) {
	runProjectionGolden(t, "projection/expression.jsonl")
}

func TestProjectionResultIsIndependent(t *testing.T) {
	doc := bson.D{{Key: "_id", Value: int32(1)}, {Key: "a", Value: bson.D{{Key: "b", Value: bson.A{int32(1), int32(2)}}}}, {Key: "c", Value: bson.A{int32(3)}}}
	for _, spec := range []bson.D{
		{},
		{{Key: "a", Value: int32(1)}, {Key: "c", Value: int32(1)}},
		{{Key: "x", Value: int32(0)}},
		{{Key: "a.b", Value: bson.D{{Key: "$slice", Value: int32(5)}}}, {Key: "c", Value: int32(1)}},
	} {
		p, err := CompileProjection(spec)
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Apply(doc, -1)
		if err != nil {
			t.Fatal(err)
		}
		out[1].Value.(bson.D)[0].Value.(bson.A)[0] = "changed"
		out[2].Value.(bson.A)[0] = "changed"
		if doc[1].Value.(bson.D)[0].Value.(bson.A)[0] != int32(1) || doc[2].Value.(bson.A)[0] != int32(3) {
			t.Fatalf("spec %v: result shares memory with the input", spec)
		}
	}
}

func TestProjectionSpecNotRetained(t *testing.T) {
	spec := bson.D{{Key: "a", Value: int32(1)}}
	p, err := CompileProjection(spec)
	if err != nil {
		t.Fatal(err)
	}
	spec[0].Key = "b"
	got, err := p.Apply(bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(2)}}, -1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != "a" {
		t.Fatalf("got %v", got)
	}
}

func TestProjectionDepth(t *testing.T) {
	// A specification nested deeper than MaxDepth.
	var spec any = int32(1)
	for i := 0; i < MaxDepth+5; i++ {
		spec = bson.D{{Key: "a", Value: spec}}
	}
	_, err := CompileProjection(spec.(bson.D))
	projsortWantCode(t, err, CodeOverflow)

	// A long dotted path.
	_, err = CompileProjection(bson.D{{Key: strings.Repeat("a.", MaxDepth+1) + "a", Value: int32(1)}})
	projsortWantCode(t, err, CodeOverflow)

	// A document nested deeper than MaxDepth.
	var doc any = int32(1)
	for i := 0; i < MaxDepth+5; i++ {
		doc = bson.A{doc}
	}
	p, err := CompileProjection(bson.D{{Key: "a.b", Value: int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Apply(bson.D{{Key: "a", Value: doc}}, -1)
	projsortWantCode(t, err, CodeOverflow)
}

func TestProjectionErrorMessages(t *testing.T) {
	for _, c := range []struct {
		spec bson.D
		msg  string
	}{
		{bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(0)}}, "Cannot do exclusion on field b in inclusion projection"},
		{bson.D{{Key: "a", Value: int32(0)}, {Key: "b", Value: int32(1)}}, "Cannot do inclusion on field b in exclusion projection"},
		{bson.D{{Key: "a", Value: int32(1)}, {Key: "a.b", Value: int32(1)}}, "Path collision at a.b remaining portion b"},
		{bson.D{{Key: "a.b", Value: int32(1)}, {Key: "a", Value: int32(1)}}, "Path collision at a"},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$slice", Value: bson.A{int32(1), int32(0)}}}}}, "$slice limit must be positive"},
	} {
		_, err := CompileProjection(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%v: error %v, want it to contain %q", c.spec, err, c.msg)
		}
	}
	p, err := CompileProjection(bson.D{{Key: "a.$", Value: int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Apply(bson.D{{Key: "a", Value: bson.A{int32(1)}}}, -1)
	want := "Executor error during find command :: caused by :: positional operator '.$' element mismatch"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	projsortWantCode(t, err, CodeBadValue)
}

func TestProjectionConcurrent(t *testing.T) {
	p, err := CompileProjection(bson.D{{Key: "a.b", Value: int32(1)}, {Key: "c", Value: bson.D{{Key: "$slice", Value: int32(-1)}}}})
	if err != nil {
		t.Fatal(err)
	}
	doc := bson.D{{Key: "_id", Value: int32(1)}, {Key: "a", Value: bson.A{bson.D{{Key: "b", Value: int32(1)}, {Key: "x", Value: int32(2)}}}}, {Key: "c", Value: bson.A{int32(1), int32(2)}}}
	want := projsortJSON(t, bson.D{{Key: "_id", Value: int32(1)}, {Key: "a", Value: bson.A{bson.D{{Key: "b", Value: int32(1)}}}}, {Key: "c", Value: bson.A{int32(2)}}})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				got, err := p.Apply(doc, -1)
				if err != nil {
					t.Error(err)
					return
				}
				if g := projsortJSON(t, got); g != want {
					t.Errorf("got %s want %s", g, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// FuzzProjection checks that compiling and applying arbitrary projections
// never panics and always yields a document that marshals to BSON.
func FuzzProjection(f *testing.F) {
	seeds := [][2]string{
		{`{"a":1}`, `{"_id":1,"a":1,"b":2}`},
		{`{"a.b":0}`, `{"a":[{"b":1,"c":2},3,[{"b":4}]]}`},
		{`{"a.b":1,"c":{"$slice":[-1,2]}}`, `{"a":[{"b":1},2,[[{"b":3}]]],"c":[1,2,3]}`},
		{`{"a.$":1}`, `{"a":[1,2,3]}`},
		{`{"a.b.$":1,"_id":0}`, `{"a":{"b":[1,2]}}`},
		{`{"_id":0}`, `{"_id":1,"x":null}`},
		{`{"a":{"b":{"c":1}},"a.d":1}`, `{"a":{"b":{"c":1,"e":2},"d":[1]}}`},
		{`{"a":{"$slice":-2},"b":0}`, `{"a":[1,2,3],"b":1}`},
		{`{"a":"$b"}`, `{"b":1}`},
		{`{"a":{"$elemMatch":{"x":1}}}`, `{"a":[{"x":1}]}`},
		{`{"a":1,"a.b":1}`, `{}`},
		{`{"$a":1}`, `{}`},
		{`{"a":{}}`, `{}`},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], -1)
		f.Add(s[0], s[1], 1)
	}
	f.Fuzz(func(t *testing.T, specJSON, docJSON string, position int) {
		var spec, doc bson.D
		if bson.UnmarshalExtJSON([]byte(specJSON), false, &spec) != nil {
			return
		}
		if bson.UnmarshalExtJSON([]byte(docJSON), false, &doc) != nil {
			return
		}
		p, err := CompileProjection(spec)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("compile error %v is not *Error", err)
			}
			return
		}
		out, err := p.Apply(doc, position)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("apply error %v is not *Error", err)
			}
			return
		}
		if _, err := bson.Marshal(out); err != nil {
			t.Fatalf("result %v does not marshal: %v", out, err)
		}
	})
}

func TestProjectionGoInt(t *testing.T) {
	p, err := CompileProjection(bson.D{{Key: "a", Value: 1}, {Key: "_id", Value: 0}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Apply(bson.D{{Key: "_id", Value: int32(1)}, {Key: "a", Value: "x"}, {Key: "b", Value: "y"}}, -1)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := projsortJSON(t, got), projsortJSON(t, bson.D{{Key: "a", Value: "x"}}); g != w {
		t.Fatalf("got %s, want %s", g, w)
	}
}

func TestProjectionNilDocument(t *testing.T) {
	for _, spec := range []bson.D{nil, {{Key: "a", Value: int32(1)}}, {{Key: "a", Value: int32(0)}}} {
		p, err := CompileProjection(spec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Apply(nil, -1)
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("%v: Apply(nil) = %v, %v; want empty document", spec, got, err)
		}
	}
}

func TestProjectionKind(t *testing.T) {
	for _, c := range []struct {
		spec       string
		inclusion  bool
		usesPosCol bool
	}{
		{`{}`, false, false},
		{`{"a":1}`, true, false},
		{`{"a":0}`, false, false},
		{`{"_id":0}`, false, false},
		{`{"_id":1}`, true, false},
		{`{"_id":1,"a":0}`, false, false},
		{`{"a":{"$slice":1}}`, false, false},
		{`{"_id":1,"a":{"$slice":1}}`, true, false},
		{`{"a.$":1}`, true, true},
		{`{"_id":0,"b.c.$":1}`, true, true},
	} {
		var spec bson.D
		if err := bson.UnmarshalExtJSON([]byte(c.spec), false, &spec); err != nil {
			t.Fatal(err)
		}
		p, err := CompileProjection(spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if p.IsInclusion() != c.inclusion || p.UsesPosition() != c.usesPosCol {
			t.Errorf("%s: IsInclusion %v UsesPosition %v, want %v %v", c.spec, p.IsInclusion(), p.UsesPosition(), c.inclusion, c.usesPosCol)
		}
	}
}
