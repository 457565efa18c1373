package mql

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// updFilterCase is an update whose meaning depends on query matching:
// array filters ($[identifier]) and $pull conditions.
type updFilterCase struct {
	name      string
	doc       string
	update    string
	filters   string // JSON array of array filters
	want      string
	unchanged bool
	code      int
	realOnly  bool // needs more of the query language than updFakeMatcher has
}

var updFilterCases = []updFilterCase{
	{name: "filter scalars", doc: `{"_id":1,"grades":[98,100,102]}`, update: `{"$set":{"grades.$[element]":100}}`,
		filters: `[{"element":{"$gte":100}}]`, want: `{"_id":1,"grades":[98,100,100]}`},
	{name: "filter matches nothing", doc: `{"_id":1,"grades":[95,92,90]}`, update: `{"$set":{"grades.$[element]":100}}`,
		filters: `[{"element":{"$gte":100}}]`, unchanged: true},
	{name: "filter documents", doc: `{"_id":1,"grades":[{"grade":80,"mean":75},{"grade":85,"mean":90},{"grade":85,"mean":85}]}`,
		update: `{"$set":{"grades.$[elem].mean":100}}`, filters: `[{"elem.grade":{"$gte":85}}]`,
		want: `{"_id":1,"grades":[{"grade":80,"mean":75},{"grade":85,"mean":100},{"grade":85,"mean":100}]}`},
	{name: "filter two conditions", doc: `{"_id":1,"g":[{"grade":80,"std":6},{"grade":85,"std":4},{"grade":90,"std":6}]}`,
		update: `{"$inc":{"g.$[e].std":-1}}`, filters: `[{"e.grade":{"$gte":85},"e.std":{"$gte":5}}]`,
		want: `{"_id":1,"g":[{"grade":80,"std":6},{"grade":85,"std":4},{"grade":90,"std":5}]}`},
	{name: "all then filter", doc: `{"_id":1,"grades":[{"q":[8,9,7]},{"q":[5]}]}`, update: `{"$inc":{"grades.$[].q.$[score]":2}}`,
		filters: `[{"score":{"$gte":8}}]`, want: `{"_id":1,"grades":[{"q":[10,11,7]},{"q":[5]}]}`},
	{name: "two identifiers", doc: `{"_id":1,"a":[{"k":1,"b":[1,2]},{"k":2,"b":[1,2]}]}`, update: `{"$set":{"a.$[x].b.$[y]":0}}`,
		filters: `[{"x.k":2},{"y":2}]`, want: `{"_id":1,"a":[{"k":1,"b":[1,2]},{"k":2,"b":[1,0]}]}`},
	{name: "filter and index merge", doc: `{"_id":1,"a":[{"v":1},{"v":2}]}`, update: `{"$set":{"a.$[x].w":1,"a.0.u":1}}`,
		filters: `[{"x.v":1}]`, want: `{"_id":1,"a":[{"v":1,"u":1,"w":1},{"v":2}]}`},
	{name: "filter on non array", doc: `{"_id":1,"a":1}`, update: `{"$set":{"a.$[x]":1}}`, filters: `[{"x":1}]`, code: CodeBadValue},
	{name: "unused filter", doc: `{"_id":1}`, update: `{"$set":{"a":1}}`, filters: `[{"x":1}]`, code: CodeFailedToParse},
	{name: "bad identifier", doc: `{"_id":1}`, update: `{"$set":{"a.$[X]":1}}`, filters: `[{"X":1}]`, code: CodeBadValue},
	{name: "duplicate identifier", doc: `{"_id":1}`, update: `{"$set":{"a.$[x]":1}}`, filters: `[{"x":1},{"x":2}]`, code: CodeFailedToParse},
	{name: "two names in one filter", doc: `{"_id":1}`, update: `{"$set":{"a.$[x]":1,"b.$[y]":1}}`, filters: `[{"x":1,"y":1}]`, code: CodeFailedToParse},
	{name: "empty filter", doc: `{"_id":1}`, update: `{"$set":{"a":1}}`, filters: `[{}]`, code: CodeFailedToParse},
	{name: "filter with or", doc: `{"_id":1,"a":[1,2,3]}`, update: `{"$set":{"a.$[x]":0}}`, filters: `[{"$or":[{"x":1},{"x":3}]}]`,
		want: `{"_id":1,"a":[0,2,0]}`, realOnly: true},

	{name: "pull condition", doc: `{"_id":1,"a":[3,6,9,2]}`, update: `{"$pull":{"a":{"$gte":6}}}`, want: `{"_id":1,"a":[3,2]}`},
	{name: "pull in", doc: `{"_id":1,"a":["apples","pears","grapes"]}`, update: `{"$pull":{"a":{"$in":["apples","grapes"]}}}`, want: `{"_id":1,"a":["pears"]}`},
	{name: "pull query on documents", doc: `{"_id":1,"r":[{"item":"A","score":5},{"item":"B","score":8}]}`, update: `{"$pull":{"r":{"score":8,"item":"B"}}}`,
		want: `{"_id":1,"r":[{"item":"A","score":5}]}`},
	{name: "pull query skips scalars", doc: `{"_id":1,"a":[{"x":1},1,{"x":2}]}`, update: `{"$pull":{"a":{"x":1}}}`, want: `{"_id":1,"a":[1,{"x":2}]}`},
	{name: "pull query nothing", doc: `{"_id":1,"a":[{"x":2}]}`, update: `{"$pull":{"a":{"x":1}}}`, unchanged: true},
	{name: "pull empty query removes documents", doc: `{"_id":1,"a":[{"x":2},3,{}]}`, update: `{"$pull":{"a":{}}}`, want: `{"_id":1,"a":[3]}`},
	{name: "pull condition under all", doc: `{"_id":1,"s":[{"a":[1,5]},{"a":[7]}]}`, update: `{"$pull":{"s.$[].a":{"$gt":4}}}`,
		want: `{"_id":1,"s":[{"a":[1]},{"a":[]}]}`},
	{name: "pull elemMatch", doc: `{"_id":1,"results":[{"answers":[{"q":1,"a":4},{"q":2,"a":6}]},{"answers":[{"q":2,"a":9}]}]}`,
		update: `{"$pull":{"results":{"answers":{"$elemMatch":{"q":2,"a":{"$gte":8}}}}}}`,
		want:   `{"_id":1,"results":[{"answers":[{"q":1,"a":4},{"q":2,"a":6}]}]}`, realOnly: true},
}

func runUpdFilterCases(t *testing.T, skipRealOnly bool) {
	for _, tc := range updFilterCases {
		if skipRealOnly && tc.realOnly {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			var filters []bson.D
			if tc.filters != "" {
				wrapper := updEJ(t, `{"f":`+tc.filters+`}`)
				for _, f := range Get(wrapper, "f").(bson.A) {
					filters = append(filters, f.(bson.D))
				}
			}
			doc := updEJ(t, tc.doc)
			u, err := CompileUpdate(updEJ(t, tc.update), UpdateOptions{ArrayFilters: filters})
			var got bson.D
			var mod bool
			if err == nil {
				got, mod, err = u.Apply(doc, ApplyOptions{Position: -1})
			}
			checkUpdResult(t, got, mod, err, tc.code, tc.want, tc.unchanged, doc)
		})
	}
}

// TestUpdateWithFilters runs the filter-dependent cases with the real
// query engine (CompileFilter).
func TestUpdateWithFilters(t *testing.T) {
	runUpdFilterCases(t, false)
	t.Run("golden", func(t *testing.T) { runUpdGolden(t, "filters.jsonl") })
}

// TestUpdateFilterPlumbing runs the same cases with a minimal stand-in
// matcher, so that the update side of array filters and $pull conditions
// is tested independently of the query engine.
func TestUpdateFilterPlumbing(t *testing.T) {
	saved := updCompileFilter
	defer func() { updCompileFilter = saved }()
	updCompileFilter = func(f bson.D) (updMatcher, error) { return updFakeMatcher(f), nil }
	runUpdFilterCases(t, true)
}

// updFakeMatcher understands {path: value} and {path: {$gte|$gt|$in: v}}
// with paths through documents and implicit array element matching.
type updFakeMatcher bson.D

func (m updFakeMatcher) Match(doc bson.D) bool {
	for _, e := range m {
		v := updPathValue(doc, e.Key)
		if !updFakeCond(v, e.Value) {
			if arr, ok := v.(bson.A); ok {
				found := false
				for _, el := range arr {
					found = found || updFakeCond(el, e.Value)
				}
				if found {
					continue
				}
			}
			return false
		}
	}
	return true
}

func updFakeCond(v, cond any) bool {
	d, ok := cond.(bson.D)
	if !ok || len(d) == 0 || d[0].Key[0] != '$' {
		return Equal(v, cond)
	}
	for _, op := range d {
		switch op.Key {
		case "$gte":
			if !SameTypeBracket(v, op.Value) || Compare(v, op.Value) < 0 {
				return false
			}
		case "$gt":
			if !SameTypeBracket(v, op.Value) || Compare(v, op.Value) <= 0 {
				return false
			}
		case "$in":
			if !updContains(op.Value.(bson.A), v) {
				return false
			}
		}
	}
	return true
}
