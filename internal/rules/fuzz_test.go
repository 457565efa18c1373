package rules

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// The differential fuzz test: random rules, callers and documents. The
// in-memory decision (View.Read, CheckUpdate visibility) must never accept a
// document that the pushed-down filter, run by mql's matcher as the store
// would, rejects. The filter may be broader (the decider runs after it),
// never narrower.

// bytesSource turns fuzz input into choices; exhausted input yields zeros.
type bytesSource struct {
	b []byte
	i int
}

func (s *bytesSource) pick(n int) int {
	if s.i >= len(s.b) {
		return 0
	}
	v := int(s.b[s.i]) % n
	s.i++
	return v
}

var fuzzExprs = []string{
	`{}`, `true`, `false`,
	`{"owner":"%%user.id"}`,
	`{"owner":{"$ne":"%%user.id"}}`,
	`{"team":"%%user.custom_data.team"}`,
	`{"team":{"$in":"%%user.custom_data.teams"}}`,
	`{"tags":"%%user.id"}`,
	`{"tags":{"$all":["%%user.id"]}}`,
	`{"%%user.custom_data.isAdmin":true}`,
	`{"n":{"$gt":1}}`,
	`{"n":{"$lte":2,"$gte":0}}`,
	`{"n":null}`,
	`{"n":{"$exists":false}}`,
	`{"a.b":1}`,
	`{"a":{"b":1}}`,
	`{"email":"%%user.custom_data.manages"}`,
	`{"$or":[{"owner":"%%user.id"},{"tags":"%%user.id"}]}`,
	`{"%or":[{"n":1},{"%%user.custom_data.isAdmin":true}]}`,
	`{"$nor":[{"owner":"%%user.id"}]}`,
	`{"n":{"%in":[1,2.0,"1"]}}`,
	`{"n":{"$nin":[1,null]}}`,
	`{"team":{"$type":"string"}}`,
	`{"tags":{"$size":1}}`,
	`{"%%prevRoot":{"%exists":false}}`,
	`{"%%root.owner":"%%user.id"}`,
	`{"%%true":{"%function":{"name":"f","arguments":["%%root.n"]}}}`,
}

// fuzzUserExprs read no document: filters' apply_when may use only these.
var fuzzUserExprs = []string{`{}`, `true`, `false`, `{"%%user.custom_data.isAdmin":true}`, `{"%%user.id":"u1"}`}

var fuzzDocs = []string{
	`{"_id":1}`,
	`{"_id":2,"owner":"u1","team":"red","n":1}`,
	`{"_id":3,"owner":"u2","team":"blue","n":2.0}`,
	`{"_id":4,"owner":["u1","u2"],"tags":["u1"],"n":null}`,
	`{"_id":5,"tags":[],"n":"1","a":{"b":1}}`,
	`{"_id":6,"tags":["u2","x"],"a":[{"b":1},{"b":2}],"team":["red"]}`,
	`{"_id":7,"owner":null,"email":"p@x","n":{"$numberLong":"1"}}`,
	`{"_id":8,"email":["p@x"],"team":null,"a":{"b":[1]}}`,
	`{"_id":9,"a":{"c":1},"n":{"$numberDecimal":"2"},"owner":"u1"}`,
	`{"_id":10,"email":"s@x","tags":"u1","team":"red"}`,
}

var fuzzCallers = []Caller{
	{ID: "u1", CustomData: bson.D{{Key: "team", Value: "red"}, {Key: "teams", Value: bson.A{"red", "green"}}, {Key: "manages", Value: bson.A{"p@x", "s@x"}}}},
	{ID: "u2", CustomData: bson.D{{Key: "isAdmin", Value: true}, {Key: "team", Value: "blue"}, {Key: "manages", Value: "p@x"}}},
	{ID: "u3"},
}

func fuzzRules(src *bytesSource) string {
	maybe := func(key string) string {
		if src.pick(3) == 0 {
			return ""
		}
		return `,"` + key + `":` + fuzzExprs[src.pick(len(fuzzExprs))]
	}
	var roles []string
	n := 1 + src.pick(3)
	for i := 0; i < n; i++ {
		r := `{"name":"r` + string(rune('0'+i)) + `","apply_when":` + fuzzExprs[src.pick(len(fuzzExprs))]
		if src.pick(3) == 0 {
			r += `,"document_filters":{"read":` + fuzzExprs[src.pick(len(fuzzExprs))] + `,"write":` + fuzzExprs[src.pick(len(fuzzExprs))] + `}`
		}
		r += maybe("read") + maybe("write")
		switch src.pick(4) {
		case 1:
			r += `,"fields":{"owner":{"read":` + fuzzExprs[src.pick(len(fuzzExprs))] + `},"a":{"fields":{"b":{"read":true}}}}`
		case 2:
			r += `,"additional_fields":{"read":` + fuzzExprs[src.pick(len(fuzzExprs))] + `}`
		}
		roles = append(roles, r+`,"insert":true,"delete":true}`)
	}
	filters := ""
	if src.pick(3) == 0 {
		filters = `,"filters":[{"name":"f","apply_when":` + fuzzUserExprs[src.pick(len(fuzzUserExprs))] + `,"query":{"n":{"$ne":3}}}]`
	}
	return `{"roles":[` + strings.Join(roles, ",") + `]` + filters + `}`
}

type fuzzFunctions struct{}

func (fuzzFunctions) CallFunction(_ context.Context, _ string, args []any) (any, error) {
	if len(args) == 1 {
		if n, ok := mql.ToFloat64(args[0]); ok {
			return n > 1, nil
		}
	}
	return false, errors.New("not a number")
}

func checkBroader(t *testing.T, data []byte) {
	src := &bytesSource{b: data}
	rulesJSON := fuzzRules(src)
	rs, err := LoadRules("fuzz/rules.json", []byte(rulesJSON))
	if err != nil {
		t.Fatalf("generated rules do not load: %v\n%s", err, rulesJSON)
	}
	s := NewSet(DefaultOptions())
	s.Collections["db.c"] = rs
	ctx := context.Background()
	c := fuzzCallers[src.pick(len(fuzzCallers))]
	v, err := s.View(ctx, "db.c", c, RequestContext{Functions: fuzzFunctions{}})
	if err != nil {
		t.Fatalf("view: %v\n%s", err, rulesJSON)
	}
	read, err := mql.CompileFilter(v.PushDown(bson.D{}))
	if err != nil {
		t.Fatalf("pushed-down filter does not compile: %v\n%v\n%s", err, v.PushDown(bson.D{}), rulesJSON)
	}
	write, err := mql.CompileFilter(v.PushDownWrite(bson.D{}))
	if err != nil {
		t.Fatalf("write filter does not compile: %v", err)
	}
	for _, dj := range fuzzDocs {
		var d bson.D
		if err := bson.UnmarshalExtJSON([]byte(dj), false, &d); err != nil {
			t.Fatal(err)
		}
		out, dec := v.Read(ctx, d)
		if out != nil && !read.Match(d) {
			t.Fatalf("document readable (role %s, %s) but excluded by the pushed-down filter\nrules %s\ncaller %s\ndoc %s\nfilter %v",
				v.RoleName(dec), dec.Level, rulesJSON, c.ID, dj, v.PushDown(bson.D{}))
		}
		if err := v.CheckDelete(ctx, d); !errors.Is(err, ErrNotVisible) && !write.Match(d) {
			t.Fatalf("document visible to writes but excluded by the write filter\nrules %s\ncaller %s\ndoc %s\nfilter %v",
				rulesJSON, c.ID, dj, v.PushDownWrite(bson.D{}))
		}
		// Decide and Read agree on whether anything is returned.
		if got := v.Decide(ctx, d); (got.Level != Withhold) != (out != nil) {
			t.Fatalf("Decide %v vs Read %v\nrules %s\ndoc %s", got, out, rulesJSON, dj)
		}
	}
}

func FuzzPushDownBroader(f *testing.F) {
	for _, s := range []string{"", "\x01\x03\x00\x01\x01", "\x02\x10\x01\x02\x00\x01\x05\x01", "\x00\x11\x02\x01\x0f\x02\x01\x01\x13", "\x02\x18\x00\x02\x17\x01\x00\x02\x01\x19\x01\x01\x01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkBroader)
}

// TestPushDownBroaderExhaustive runs the differential check over a fixed
// sweep of generator inputs, so that plain `go test` covers every
// expression as apply_when, document filter and read/write.
func TestPushDownBroaderExhaustive(t *testing.T) {
	for i := 0; i < len(fuzzExprs); i++ {
		for j := 0; j < len(fuzzExprs); j++ {
			for c := 0; c < len(fuzzCallers); c++ {
				// one role: apply_when i, document filters (read j, write i),
				// read absent/ write j
				checkBroader(t, []byte{0, byte(i), 0, byte(j), byte(i), 0, 1, byte(j), 0, 1, byte(c)})
				checkBroader(t, []byte{1, byte(i), 1, 1, 1, byte(j), 0, 2, byte(j), 1, 0, 0, byte(i), byte(j), 1, 1, 1, 1, byte(c)})
			}
		}
	}
}

// FuzzLoadRules: no input makes the loader, the binder, the decider or the
// restriction checks panic; what loads decides without error paths leaking.
func FuzzLoadRules(f *testing.F) {
	for _, s := range []string{
		`{"roles":[{"name":"a","apply_when":{"owner":"%%user.id"},"read":true}]}`,
		`{"roles":[{"name":"a","fields":{"x":{"read":true,"fields":{"y":{"write":true}}}},"additional_fields":{"read":{"%%this":1}}}],"filters":[{"name":"f","query":{"$and":[{"a":"%%user.id"}]},"projection":{"a":1}}]}`,
		`{"roles":[{"name":"a","document_filters":{"read":{"$or":[{"a":1}]},"write":false}}]}`,
		`{"filters":[{"name":"f","query":{"$and":1}}]}`,
		`{"roles":[{"name":"a","apply_when":{"%%user.custom_data.x":{"$in":"%%values.v"}}}]}`,
	} {
		f.Add([]byte(s))
	}
	docs := []bson.D{{}, {{Key: "_id", Value: int32(1)}, {Key: "a", Value: bson.D{{Key: "y", Value: int32(1)}}}, {Key: "x", Value: bson.A{int32(1), bson.D{{Key: "y", Value: "u"}}}}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := LoadRules("fuzz.json", data)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a LoadError", err)
			}
			return
		}
		s := NewSet(DefaultOptions())
		s.Collections["db.c"] = rs
		ctx := context.Background()
		v, err := s.View(ctx, "db.c", Caller{ID: "u", CustomData: bson.D{{Key: "x", Value: int32(1)}}}, RequestContext{Values: map[string]any{"v": []any{int32(1)}}, Functions: fuzzFunctions{}})
		if err != nil {
			return
		}
		filter := v.PushDown(bson.D{{Key: "a", Value: int32(1)}})
		_, _ = mql.CompileFilter(filter)
		for _, d := range docs {
			_, _ = v.Read(ctx, d)
			_ = v.CheckInsert(ctx, d)
			_ = v.CheckUpdate(ctx, d, d)
			_ = v.CheckDelete(ctx, d)
			_ = Explain(ctx, v, d)
		}
		_ = v.CheckFilter(bson.D{{Key: "x.y", Value: int32(1)}})
		_, _ = ExportRuleset(rs)
	})
}

// TestDecisionsStableAcrossSpecialisation: a view evaluates document
// expressions unspecialised at first and specialised (expr.Bind) after
// specialiseAfter evaluations; the decisions must not change when it
// switches. Each sweep case decides every document in rounds until well
// past the switch.
func TestDecisionsStableAcrossSpecialisation(t *testing.T) {
	ctx := context.Background()
	var docs []bson.D
	for _, dj := range fuzzDocs {
		var d bson.D
		if err := bson.UnmarshalExtJSON([]byte(dj), false, &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	rounds := 2*specialiseAfter/len(docs) + 2
	for i := range fuzzExprs {
		for c := range fuzzCallers {
			data := []byte{1, byte(i), 1, 1, 1, byte(i), 0, 2, byte(i), 1, 0, 0, byte(i), byte(i), 1, 1, 1, 1, byte(c)}
			src := &bytesSource{b: data}
			rulesJSON := fuzzRules(src)
			rs, err := LoadRules("fuzz/rules.json", []byte(rulesJSON))
			if err != nil {
				t.Fatal(err)
			}
			s := NewSet(DefaultOptions())
			s.Collections["db.c"] = rs
			v, err := s.View(ctx, "db.c", fuzzCallers[src.pick(len(fuzzCallers))], RequestContext{Functions: fuzzFunctions{}})
			if err != nil {
				t.Fatal(err)
			}
			type outcome struct {
				d        Decision
				canWrite bool
			}
			first := make([]outcome, len(docs))
			for r := 0; r < rounds; r++ {
				for k, d := range docs {
					got := outcome{v.Decide(ctx, d), v.CanWrite(ctx, d)}
					if r == 0 {
						first[k] = got
					} else if got != first[k] {
						t.Fatalf("round %d, doc %s: %+v, first round %+v\nrules %s", r, fuzzDocs[k], got, first[k], rulesJSON)
					}
				}
			}
		}
	}
}
