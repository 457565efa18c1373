package mql

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

var matchFuzzSeeds = [][2]string{
	{`{"a": 1}`, `{"a": [1, 2]}`},
	{`{"a.b": null}`, `{"a": [{"b": 3}, {}]}`},
	{`{"a.0.b": {"$gt": 1}}`, `{"a": [{"b": 2}]}`},
	{`{"$or": [{"a": {"$in": [1, {"$regularExpression": {"pattern": "^x", "options": "i"}}]}}, {"b": {"$exists": false}}]}`, `{"a": "Xy"}`},
	{`{"a": {"$elemMatch": {"b": 1, "c": {"$ne": 2}}}}`, `{"a": [{"b": 1, "c": 3}]}`},
	{`{"a": {"$elemMatch": {"$gte": 80, "$lt": 85}}}`, `{"a": [82]}`},
	{`{"a": {"$all": [{"$elemMatch": {"b": 1}}]}, "n": {"$nin": [null]}}`, `{"a": [{"b": 1}], "n": 0}`},
	{`{"a": {"$not": {"$size": 2}}, "b": {"$type": ["number", "string"]}}`, `{"a": [1], "b": {"$numberDecimal": "1"}}`},
	{`{"a": {"$mod": [3, 1]}, "b": {"$bitsAnySet": [1, 70]}}`, `{"a": 4.5, "b": -2}`},
	{`{"a": {"$regex": "a b", "$options": "xi"}}`, `{"a": "AB"}`},
	{`{"$nor": [{"a": {"$lt": {"$maxKey": 1}}}]}`, `{"a": {"$minKey": 1}}`},
	{`{"a": {"$eq": {"$numberDouble": "NaN"}}}`, `{"a": [{"$numberDouble": "NaN"}]}`},
}

// FuzzMatch checks that compiling and matching arbitrary filters and
// documents never panics, that Match and MatchPosition agree, and that a
// filter behaves the same after a BSON round trip.
func FuzzMatch(f *testing.F) {
	for _, s := range matchFuzzSeeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, filterJSON, docJSON string) {
		var filter, doc bson.D
		if bson.UnmarshalExtJSON([]byte(filterJSON), false, &filter) != nil {
			return
		}
		if bson.UnmarshalExtJSON([]byte(docJSON), false, &doc) != nil {
			doc = bson.D{}
		}
		compiled, err := CompileFilter(filter)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("CompileFilter returned %T, want *Error: %v", err, err)
			}
		}
		var got bool
		if compiled != nil {
			got = compiled.Match(doc)
			m, pos := compiled.MatchPosition(doc)
			if m != got || (!m && pos != -1) {
				t.Fatalf("Match %v but MatchPosition (%v, %d)", got, m, pos)
			}
		}
		raw, merr := bson.Marshal(filter)
		if merr != nil {
			return
		}
		var again bson.D
		if err := bson.Unmarshal(raw, &again); err != nil {
			t.Fatalf("unmarshal of marshaled filter: %v", err)
		}
		compiled2, err2 := CompileFilter(again)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("compile differs after round trip: %v vs %v", err, err2)
		}
		if compiled2 != nil && compiled2.Match(doc) != got {
			t.Fatalf("match differs after round trip")
		}
	})
}
