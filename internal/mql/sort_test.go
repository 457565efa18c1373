package mql

import (
	"math/rand/v2"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestSortGolden(t *testing.T) {
	for _, c := range loadProjsortGolden(t, "sort/sort.jsonl") {
		t.Run(c.name, func(t *testing.T) {
			s, err := CompileSort(c.spec)
			if c.code != 0 {
				projsortWantCode(t, err, c.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			before := projsortJSON(t, projsortDocsToA(c.docs))
			docs := slices.Clone(c.docs)
			s.Sort(docs)
			if g, w := projsortJSON(t, projsortDocsToA(docs)), projsortJSON(t, c.result); g != w {
				t.Fatalf("sort %s\n got %s\nwant %s", projsortJSON(t, c.spec), g, w)
			}
			if after := projsortJSON(t, projsortDocsToA(c.docs)); after != before {
				t.Fatal("Sort modified the documents")
			}
			// Compare must agree with the order Sort produced.
			for i := 1; i < len(docs); i++ {
				if c := s.Compare(docs[i-1], docs[i]); c > 0 {
					t.Fatalf("Compare(%v, %v) = %d after sorting", docs[i-1], docs[i], c)
				}
			}
		})
	}
}

func projsortDocsToA(docs []bson.D) bson.A {
	a := make(bson.A, len(docs))
	for i, d := range docs {
		a[i] = d
	}
	return a
}

func TestSortCompare(t *testing.T) {
	d := func(v any) bson.D { return bson.D{{Key: "a", Value: v}} }
	missing := bson.D{}
	for _, c := range []struct {
		spec bson.D
		a, b bson.D
		want int
	}{
		{bson.D{{Key: "a", Value: int32(1)}}, d(int32(1)), d(int32(2)), -1},
		{bson.D{{Key: "a", Value: int32(-1)}}, d(int32(1)), d(int32(2)), 1},
		{bson.D{{Key: "a", Value: int32(1)}}, d(int32(1)), d(float64(1)), 0},
		{bson.D{{Key: "a", Value: int32(1)}}, missing, d(nil), 0},
		{bson.D{{Key: "a", Value: int32(1)}}, d(bson.A{}), d(nil), -1},
		{bson.D{{Key: "a", Value: int32(-1)}}, d(bson.A{}), d(nil), 1},
		{bson.D{{Key: "a", Value: int32(1)}}, d(bson.A{int32(1), int32(5)}), d(int32(2)), -1},
		{bson.D{{Key: "a", Value: int32(-1)}}, d(bson.A{int32(1), int32(5)}), d(int32(2)), -1},
		{bson.D{{Key: "a", Value: int32(1)}}, d(bson.MinKey{}), d(bson.A{}), -1},
		{bson.D{{Key: "a", Value: int32(1)}}, d("a"), d(int64(5)), 1},
		{bson.D{}, d(int32(1)), d(int32(2)), 0},
	} {
		s, err := CompileSort(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Compare(c.a, c.b); got != c.want {
			t.Errorf("%v: Compare(%v, %v) = %d, want %d", c.spec, c.a, c.b, got, c.want)
		}
		if got := s.Compare(c.b, c.a); got != -c.want {
			t.Errorf("%v: Compare(%v, %v) = %d, want %d", c.spec, c.b, c.a, got, -c.want)
		}
	}
}

func TestSortFields(t *testing.T) {
	s, err := CompileSort(bson.D{{Key: "a.b", Value: int32(1)}, {Key: "c", Value: float64(-1)}})
	if err != nil {
		t.Fatal(err)
	}
	want := []SortKey{{Path: "a.b"}, {Path: "c", Desc: true}}
	if got := s.Fields(); !slices.Equal(got, want) {
		t.Fatalf("Fields() = %v, want %v", got, want)
	}
	s.Fields()[0].Path = "x"
	if s.Fields()[0].Path != "a.b" {
		t.Fatal("Fields exposes internal state")
	}
}

// TestSortAgreesWithCompare sorts random documents of mixed types and
// checks the fast decorated sort against a plain stable sort by Compare.
func TestSortAgreesWithCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []any{nil, int32(1), int64(1 << 60), float64(2.5), float64(-1), "x", "", bson.A{}, bson.A{int32(3), "y"},
		bson.D{{Key: "k", Value: int32(1)}}, true, bson.MinKey{}, bson.MaxKey{}, int64(-3), float64(1 << 54)}
	for _, spec := range []bson.D{
		{{Key: "a", Value: int32(1)}},
		{{Key: "a", Value: int32(-1)}},
		{{Key: "a", Value: int32(1)}, {Key: "b.c", Value: int32(-1)}},
	} {
		s, err := CompileSort(spec)
		if err != nil {
			t.Fatal(err)
		}
		docs := make([]bson.D, 500)
		for i := range docs {
			d := bson.D{{Key: "i", Value: int32(i)}}
			if r.IntN(8) != 0 {
				d = append(d, bson.E{Key: "a", Value: vals[r.IntN(len(vals))]})
			}
			d = append(d, bson.E{Key: "b", Value: bson.A{bson.D{{Key: "c", Value: vals[r.IntN(len(vals))]}}, vals[r.IntN(len(vals))]}})
			docs[i] = d
		}
		want := slices.Clone(docs)
		slices.SortStableFunc(want, s.Compare)
		s.Sort(docs)
		if g, w := projsortJSON(t, projsortDocsToA(docs)), projsortJSON(t, projsortDocsToA(want)); g != w {
			t.Fatalf("%v: Sort and Compare disagree", spec)
		}
	}
}

func BenchmarkSort10000(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	docs := make([]bson.D, 10000)
	for i := range docs {
		docs[i] = bson.D{
			{Key: "_id", Value: bson.NewObjectID()},
			{Key: "name", Value: "user"},
			{Key: "n", Value: int32(r.IntN(1 << 30))},
			{Key: "tags", Value: bson.A{"a", "b"}},
		}
	}
	s, err := CompileSort(bson.D{{Key: "n", Value: int32(1)}})
	if err != nil {
		b.Fatal(err)
	}
	work := make([]bson.D, len(docs))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, docs)
		s.Sort(work)
	}
}

func BenchmarkSort10000Strings(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	docs := make([]bson.D, 10000)
	for i := range docs {
		docs[i] = bson.D{
			{Key: "_id", Value: int32(i)},
			{Key: "s", Value: string(rune('a'+r.IntN(26))) + string(rune('a'+r.IntN(26))) + "-suffix"},
		}
	}
	s, err := CompileSort(bson.D{{Key: "s", Value: int32(-1)}})
	if err != nil {
		b.Fatal(err)
	}
	work := make([]bson.D, len(docs))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, docs)
		s.Sort(work)
	}
}

func TestSortGoInt(t *testing.T) {
	s, err := CompileSort(bson.D{{Key: "a", Value: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if f := s.Fields(); len(f) != 1 || !f[0].Desc {
		t.Fatalf("Fields() = %v", f)
	}
}
