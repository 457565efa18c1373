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
	{`{"$jsonSchema": {"required": ["a"], "properties": {"a": {"bsonType": ["int", "string"], "minimum": 2, "multipleOf": 0.5}, "b": {"items": [{"enum": [1]}], "additionalItems": false}}, "additionalProperties": {"type": "object", "minProperties": 1}}}`, `{"a": 4, "b": [1], "c": {"d": 1}}`},
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

// FuzzMatchEquivalences checks identities MongoDB's operators satisfy, for
// any path, operand and document: $ne is the negation of $eq, $in of one
// value is $eq, $nin is $ne, $not of $eq is $ne, $gte is $gt or $eq, $lte
// is $lt or $eq, $nor negates, and a single-element $all is equality.
func FuzzMatchEquivalences(f *testing.F) {
	f.Add("a", `{"v": 1}`, `{"a": [1, 2]}`)
	f.Add("a.b", `{"v": null}`, `{"a": [{"b": 1}, {}]}`)
	f.Add("a.0", `{"v": [1]}`, `{"a": [[1], 2]}`)
	f.Add("a", `{"v": {"$minKey": 1}}`, `{"a": {"$numberDouble": "NaN"}}`)
	f.Add("x.1.y", `{"v": {"y": 2}}`, `{"x": [{"y": 1}, {"y": [2, {"y": 2}]}]}`)
	f.Fuzz(func(t *testing.T, path, valueJSON, docJSON string) {
		var vd, doc bson.D
		if bson.UnmarshalExtJSON([]byte(valueJSON), false, &vd) != nil || len(vd) == 0 {
			return
		}
		if bson.UnmarshalExtJSON([]byte(docJSON), false, &doc) != nil {
			return
		}
		if path == "" || path[0] == '$' || len(path) > 40 {
			return
		}
		v := vd[0].Value
		if d, ok := v.(bson.D); ok && isOperatorDoc(d, false) {
			return
		}
		switch v.(type) {
		case bson.Regex, bson.Undefined:
			return
		}
		op := func(name string, operand any) bson.D {
			return bson.D{{Key: path, Value: bson.D{{Key: name, Value: operand}}}}
		}
		match := func(filter bson.D) bool {
			t.Helper()
			fl, err := CompileFilter(filter)
			if err != nil {
				t.Fatalf("CompileFilter(%v): %v", filter, err)
			}
			return fl.Match(doc)
		}
		eq := match(op("$eq", v))
		if got := match(bson.D{{Key: path, Value: v}}); got != eq {
			t.Fatalf("implicit equality %v, $eq %v", got, eq)
		}
		if match(op("$ne", v)) == eq {
			t.Fatalf("$ne is not the negation of $eq (%v)", eq)
		}
		if match(op("$in", bson.A{v})) != eq {
			t.Fatalf("$in [v] differs from $eq")
		}
		if match(op("$nin", bson.A{v})) == eq {
			t.Fatalf("$nin [v] is not the negation of $eq")
		}
		if match(op("$not", bson.D{{Key: "$eq", Value: v}})) == eq {
			t.Fatalf("$not $eq is not the negation of $eq")
		}
		if match(op("$all", bson.A{v})) != eq {
			t.Fatalf("$all [v] differs from $eq")
		}
		if match(bson.D{{Key: "$nor", Value: bson.A{op("$eq", v)}}}) == eq {
			t.Fatalf("$nor does not negate")
		}
		for _, c := range [][2]string{{"$gte", "$gt"}, {"$lte", "$lt"}} {
			inclusive := match(op(c[0], v))
			either := match(bson.D{{Key: "$or", Value: bson.A{op(c[1], v), op("$eq", v)}}})
			if inclusive != either {
				t.Fatalf("%s is %v but %s or $eq is %v", c[0], inclusive, c[1], either)
			}
		}
	})
}
