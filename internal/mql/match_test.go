package mql

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ejson parses relaxed or canonical Extended JSON into a document.
func ejson(t testing.TB, s string) bson.D {
	t.Helper()
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		t.Fatalf("bad test EJSON %s: %v", s, err)
	}
	return d
}

type matchCase struct {
	filter string
	doc    string
	want   bool
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		f, err := CompileFilter(ejson(t, c.filter))
		if err != nil {
			t.Errorf("CompileFilter(%s): %v", c.filter, err)
			continue
		}
		if got := f.Match(ejson(t, c.doc)); got != c.want {
			t.Errorf("filter %s doc %s: got %v, want %v", c.filter, c.doc, got, c.want)
		}
	}
}

func TestMatchEquality(t *testing.T) {
	runMatchCases(t, []matchCase{
		{`{}`, `{"a": 1}`, true},
		{`{"a": 1}`, `{"a": 1}`, true},
		{`{"a": 1}`, `{"a": 2}`, false},
		{`{"a": 1}`, `{"b": 1}`, false},
		{`{"a": 1}`, `{"a": 1.0}`, true},
		{`{"a": 1}`, `{"a": {"$numberLong": "1"}}`, true},
		{`{"a": 1}`, `{"a": {"$numberDecimal": "1.00"}}`, true},
		{`{"a": {"$numberDecimal": "1"}}`, `{"a": 1.0}`, true},
		{`{"a": 1}`, `{"a": "1"}`, false},
		{`{"a": 1}`, `{"a": true}`, false},
		{`{"a": 1}`, `{"a": [1, 2]}`, true},
		{`{"a": 1}`, `{"a": [[1, 2]]}`, false},
		{`{"a": [1, 2]}`, `{"a": [1, 2]}`, true},
		{`{"a": [1, 2]}`, `{"a": [2, 1]}`, false},
		{`{"a": [1, 2]}`, `{"a": [[1, 2], 3]}`, true},
		{`{"a": [1, 2]}`, `{"a": 1}`, false},
		{`{"a": []}`, `{"a": []}`, true},
		{`{"a": []}`, `{"a": [[]]}`, true},
		{`{"a": {"b": 1, "c": 2}}`, `{"a": {"b": 1, "c": 2}}`, true},
		{`{"a": {"b": 1, "c": 2}}`, `{"a": {"c": 2, "b": 1}}`, false},
		{`{"a": {"b": 1}}`, `{"a": {"b": 1, "c": 2}}`, false},
		{`{"a": {}}`, `{"a": {}}`, true},
		{`{"a": {"$eq": {"$gt": 1}}}`, `{"a": {"$gt": 1}}`, true},
		{`{"a": {"$eq": 1}}`, `{"a": [3, 1]}`, true},
		{`{"a": {"$eq": [3, 1]}}`, `{"a": [3, 1]}`, true},
		{`{"a": "x", "b": 2}`, `{"a": "x", "b": 2}`, true},
		{`{"a": "x", "b": 2}`, `{"a": "x", "b": 3}`, false},
		{`{"a": {"$numberDouble": "NaN"}}`, `{"a": {"$numberDouble": "NaN"}}`, true},
		{`{"a": {"$eq": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, `{"a": "x"}`, false},
		{`{"a": {"$eq": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, true},
	})
}

func TestMatchNull(t *testing.T) {
	runMatchCases(t, []matchCase{
		{`{"a": null}`, `{"a": null}`, true},
		{`{"a": null}`, `{}`, true},
		{`{"a": null}`, `{"a": {"$undefined": true}}`, false},
		{`{"a": null}`, `{"a": 0}`, false},
		{`{"a": null}`, `{"a": [1, null]}`, true},
		{`{"a": null}`, `{"a": []}`, false},
		{`{"a": null}`, `{"a": [[]]}`, false},
		{`{"a.b": null}`, `{"a": 4}`, true},
		{`{"a.b": null}`, `{"a": {}}`, true},
		{`{"a.b": null}`, `{"a": {"b": "hi"}}`, false},
		{`{"a.b": null}`, `{"a": [{"b": 3}, {}]}`, true},
		{`{"a.b": null}`, `{"a": [{"b": 3}, {"b": null}]}`, true},
		{`{"a.b": null}`, `{"a": [{"b": 3}, {"b": 1}]}`, false},
		{`{"a.b": null}`, `{"a": []}`, false},
		{`{"a.b": null}`, `{"a": [null, null]}`, false},
		{`{"a.b": null}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$ne": null}}`, `{}`, false},
		{`{"a": {"$ne": null}}`, `{"a": []}`, true},
		{`{"a": {"$ne": null}}`, `{"a": [1, null]}`, false},
		{`{"a.b": {"$ne": null}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$gte": null}}`, `{}`, true},
		{`{"a": {"$lte": null}}`, `{"a": null}`, true},
		{`{"a": {"$gt": null}}`, `{"a": null}`, false},
		{`{"a": {"$in": [null, 4]}}`, `{}`, true},
		{`{"a": {"$in": [null, 4]}}`, `{"a": 4}`, true},
		{`{"a": {"$nin": [null, 4]}}`, `{}`, false},
		{`{"a": {"$nin": [null, 4]}}`, `{"a": 5}`, true},
		{`{"a": {"$nin": [null, []]}}`, `{"a": []}`, false},
		{`{"a": {"$nin": [null, []]}}`, `{"a": [[]]}`, false},
		{`{"a": {"$nin": [null, []]}}`, `{"a": [1]}`, true},
	})
}

func TestMatchComparison(t *testing.T) {
	runMatchCases(t, []matchCase{
		{`{"a": {"$gt": 1}}`, `{"a": 2}`, true},
		{`{"a": {"$gt": 1}}`, `{"a": 1}`, false},
		{`{"a": {"$gte": 1}}`, `{"a": 1}`, true},
		{`{"a": {"$lt": 1}}`, `{"a": 0.5}`, true},
		{`{"a": {"$lte": 1}}`, `{"a": {"$numberLong": "1"}}`, true},
		{`{"a": {"$gt": 1}}`, `{"a": "2"}`, false},
		{`{"a": {"$lt": "b"}}`, `{"a": 1}`, false},
		{`{"a": {"$lt": "b"}}`, `{"a": "a"}`, true},
		{`{"a": {"$gt": 1}}`, `{}`, false},
		{`{"a": {"$gt": 1}}`, `{"a": [0, 5]}`, true},
		{`{"a": {"$gt": 1, "$lt": 5}}`, `{"a": [0, 10]}`, true},
		{`{"a": {"$gt": 1, "$lt": 5}}`, `{"a": [3]}`, true},
		{`{"a": {"$elemMatch": {"$gt": 1, "$lt": 5}}}`, `{"a": [0, 10]}`, false},
		{`{"a": {"$gt": [1]}}`, `{"a": [2]}`, true},
		{`{"a": {"$gt": {"$minKey": 1}}}`, `{"a": "x"}`, true},
		{`{"a": {"$gt": {"$minKey": 1}}}`, `{"a": null}`, true},
		{`{"a": {"$lt": {"$maxKey": 1}}}`, `{"a": {"b": 1}}`, true},
		{`{"a": {"$gt": {"$maxKey": 1}}}`, `{"a": 1}`, false},
		{`{"a": {"$gte": {"$minKey": 1}}}`, `{"a": {"$minKey": 1}}`, true},
		{`{"a": {"$gt": {"$numberDouble": "NaN"}}}`, `{"a": 1}`, false},
		{`{"a": {"$lt": 1}}`, `{"a": {"$numberDouble": "NaN"}}`, false},
		{`{"a": {"$gte": {"$numberDouble": "NaN"}}}`, `{"a": {"$numberDouble": "NaN"}}`, true},
		{`{"a": {"$gt": {"$numberDecimal": "1.5"}}}`, `{"a": 2}`, true},
		{`{"a": {"$gt": {"$date": "2020-01-01T00:00:00Z"}}}`, `{"a": {"$date": "2021-01-01T00:00:00Z"}}`, true},
		{`{"a": {"$gt": {"$date": "2020-01-01T00:00:00Z"}}}`, `{"a": 5}`, false},
		{`{"a": {"$ne": 1}}`, `{"a": 2}`, true},
		{`{"a": {"$ne": 1}}`, `{}`, true},
		{`{"a": {"$ne": 1}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$ne": 1}}`, `{"a": [2, 3]}`, true},
		{`{"a": {"$ne": [1, 2]}}`, `{"a": [1, 2]}`, false},
		{`{"a.b": {"$ne": 1}}`, `{"a": [{"b": 1}, {"b": 2}]}`, false},
	})
}

func TestMatchIn(t *testing.T) {
	runMatchCases(t, []matchCase{
		{`{"a": {"$in": [1, 2]}}`, `{"a": 2}`, true},
		{`{"a": {"$in": [1, 2]}}`, `{"a": 3}`, false},
		{`{"a": {"$in": []}}`, `{"a": 3}`, false},
		{`{"a": {"$in": [1, 2]}}`, `{"a": [5, 2]}`, true},
		{`{"a": {"$in": [[5, 2]]}}`, `{"a": [5, 2]}`, true},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "^x", "options": ""}}]}}`, `{"a": "xyz"}`, true},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "^x", "options": "i"}}]}}`, `{"a": "Xyz"}`, true},
		{`{"a": {"$nin": [{"$regularExpression": {"pattern": "^x", "options": ""}}]}}`, `{"a": ["b", "xyz"]}`, false},
		{`{"a": {"$nin": [1, 2]}}`, `{"a": 3}`, true},
		{`{"a": {"$nin": [1, 2]}}`, `{}`, true},
		{`{"a": {"$nin": []}}`, `{"a": 3}`, true},
		{`{"a": {"$nin": [1, 2]}}`, `{"a": [3, 1]}`, false},
	})
}

func TestMatchLogical(t *testing.T) {
	runMatchCases(t, []matchCase{
		{`{"$and": [{"a": 1}, {"b": 2}]}`, `{"a": 1, "b": 2}`, true},
		{`{"$and": [{"a": 1}, {"b": 2}]}`, `{"a": 1, "b": 3}`, false},
		{`{"$or": [{"a": 1}, {"b": 2}]}`, `{"a": 0, "b": 2}`, true},
		{`{"$or": [{"a": 1}, {"b": 2}]}`, `{"a": 0, "b": 3}`, false},
		{`{"$nor": [{"a": 1}, {"b": 2}]}`, `{"a": 0, "b": 3}`, true},
		{`{"$nor": [{"a": 1}, {"b": 2}]}`, `{"a": 1}`, false},
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": 3}`, true},
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": 7}`, false},
		{`{"a": {"$not": {"$gt": 5}}}`, `{}`, true},
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": "x"}`, true},
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": [1, 7]}`, false},
		{`{"a": {"$not": {"$gt": 1, "$lt": 5}}}`, `{"a": 7}`, true},
		{`{"a": {"$not": {"$gt": 1, "$lt": 5}}}`, `{"a": 3}`, false},
		{`{"a": {"$not": {"$regularExpression": {"pattern": "^x", "options": ""}}}}`, `{"a": "y"}`, true},
		{`{"a": {"$not": {"$regex": "^x"}}}`, `{"a": "xy"}`, false},
		{`{"$alwaysTrue": 1}`, `{}`, true},
		{`{"$alwaysFalse": 1}`, `{}`, false},
		{`{"$comment": "hi", "a": 1}`, `{"a": 1}`, true},
	})
}

func TestMatchExistsType(t *testing.T) {
	runMatchCases(t, []matchCase{
		{`{"a": {"$exists": true}}`, `{"a": null}`, true},
		{`{"a": {"$exists": true}}`, `{}`, false},
		{`{"a": {"$exists": false}}`, `{}`, true},
		{`{"a": {"$exists": 0}}`, `{}`, true},
		{`{"a": {"$exists": 1}}`, `{"a": 1}`, true},
		{`{"a": {"$exists": "no"}}`, `{"a": 1}`, true},
		{`{"a": {"$exists": true}}`, `{"a": []}`, true},
		{`{"a.b": {"$exists": true}}`, `{"a": [{"b": 1}, {"c": 1}]}`, true},
		{`{"a.b": {"$exists": false}}`, `{"a": [{"b": 1}, {"c": 1}]}`, false},
		{`{"a.b": {"$exists": false}}`, `{"a": []}`, true},
		{`{"a.b": {"$exists": true}}`, `{"a": [1]}`, false},
		{`{"a": {"$type": "string"}}`, `{"a": "x"}`, true},
		{`{"a": {"$type": 2}}`, `{"a": "x"}`, true},
		{`{"a": {"$type": 2.0}}`, `{"a": 1}`, false},
		{`{"a": {"$type": "number"}}`, `{"a": {"$numberDecimal": "1"}}`, true},
		{`{"a": {"$type": "number"}}`, `{"a": "1"}`, false},
		{`{"a": {"$type": ["string", "int"]}}`, `{"a": 1}`, true},
		{`{"a": {"$type": "array"}}`, `{"a": []}`, true},
		{`{"a": {"$type": "array"}}`, `{"a": [1]}`, true},
		{`{"a": {"$type": "array"}}`, `{"a": 1}`, false},
		{`{"a": {"$type": "int"}}`, `{"a": [1.5, 2]}`, true},
		{`{"a": {"$type": "null"}}`, `{}`, false},
		{`{"a": {"$type": "null"}}`, `{"a": null}`, true},
		{`{"a": {"$type": "long"}}`, `{"a": {"$numberLong": "5"}}`, true},
		{`{"a": {"$type": -1}}`, `{"a": {"$minKey": 1}}`, true},
		{`{"a": {"$type": "maxKey"}}`, `{"a": {"$maxKey": 1}}`, true},
		{`{"a": {"$type": "object"}}`, `{"a": {}}`, true},
		{`{"a": {"$type": "regex"}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, true},
	})
}

func TestMatchArrayOperators(t *testing.T) {
	runMatchCases(t, []matchCase{
		{`{"a": {"$size": 2}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$size": 2}}`, `{"a": [1]}`, false},
		{`{"a": {"$size": 0}}`, `{"a": []}`, true},
		{`{"a": {"$size": 0}}`, `{}`, false},
		{`{"a": {"$size": 1}}`, `{"a": "x"}`, false},
		{`{"a": {"$size": 2}}`, `{"a": [[1, 2]]}`, false},
		{`{"a": {"$size": 2.0}}`, `{"a": [1, 2]}`, true},
		{`{"a.b": {"$size": 2}}`, `{"a": [{"b": [1, 2]}]}`, true},
		{`{"a": {"$not": {"$size": 2}}}`, `{"a": [1]}`, true},
		{`{"a": {"$all": [1, 2]}}`, `{"a": [2, 3, 1]}`, true},
		{`{"a": {"$all": [1, 2]}}`, `{"a": [2, 3]}`, false},
		{`{"a": {"$all": [1]}}`, `{"a": 1}`, true},
		{`{"a": {"$all": []}}`, `{"a": []}`, false},
		{`{"a": {"$all": [[1, 2]]}}`, `{"a": [1, 2]}`, true},
		{`{"a": {"$all": [[1, 2]]}}`, `{"a": [[1, 2], 3]}`, true},
		{`{"a": {"$all": [{"$regularExpression": {"pattern": "^a", "options": ""}}, "b"]}}`, `{"a": ["ax", "b"]}`, true},
		{`{"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"c": 2}}]}}`, `{"a": [{"b": 1}, {"c": 2}]}`, true},
		{`{"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"c": 3}}]}}`, `{"a": [{"b": 1}, {"c": 2}]}`, false},
		{`{"a": {"$elemMatch": {"b": 1, "c": 2}}}`, `{"a": [{"b": 1}, {"c": 2}]}`, false},
		{`{"a.b": 1, "a.c": 2}`, `{"a": [{"b": 1}, {"c": 2}]}`, true},
		{`{"a": {"$elemMatch": {"b": 1, "c": 2}}}`, `{"a": [{"b": 1, "c": 2}]}`, true},
		{`{"a": {"$elemMatch": {"b": 1}}}`, `{"a": {"b": 1}}`, false},
		{`{"a": {"$elemMatch": {}}}`, `{"a": [1, {}]}`, true},
		{`{"a": {"$elemMatch": {}}}`, `{"a": [1, 2]}`, false},
		{`{"a": {"$elemMatch": {"$gte": 80, "$lt": 85}}}`, `{"a": [82]}`, true},
		{`{"a": {"$elemMatch": {"$gte": 80, "$lt": 85}}}`, `{"a": [79, 86]}`, false},
		{`{"a": {"$elemMatch": {"$eq": null}}}`, `{"a": [1, null]}`, true},
		{`{"a": {"$elemMatch": {"$eq": null}}}`, `{"a": null}`, false},
		{`{"a": {"$elemMatch": {"$ne": null}}}`, `{"a": [[]]}`, true},
		{`{"a": {"$elemMatch": {"$ne": null}}}`, `{"a": [null]}`, false},
		{`{"a": {"$elemMatch": {"$not": {"$gt": 5}}}}`, `{"a": [7, 3]}`, true},
		{`{"a": {"$elemMatch": {"$in": [1, 2]}}}`, `{"a": [3, 2]}`, true},
		{`{"a": {"$elemMatch": {"$regex": "^x"}}}`, `{"a": ["y", "xa"]}`, true},
		{`{"a": {"$elemMatch": {"$size": 1}}}`, `{"a": [[1], 2]}`, true},
		{`{"a": {"$elemMatch": {"$elemMatch": {"$gt": 1}}}}`, `{"a": [[0, 2]]}`, true},
		{`{"a": {"$elemMatch": {"$or": [{"b": 1}, {"c": 1}]}}}`, `{"a": [{"c": 1}]}`, true},
		{`{"a": {"$elemMatch": {"0": 5}}}`, `{"a": [[5, 6]]}`, true},
		{`{"a.b": {"$elemMatch": {"$gt": 1}}}`, `{"a": [{"b": [0]}, {"b": [2]}]}`, true},
	})
}

func TestMatchPaths(t *testing.T) {
	runMatchCases(t, []matchCase{
		{`{"a.b": 1}`, `{"a": {"b": 1}}`, true},
		{`{"a.b": 1}`, `{"a": {"b": [1]}}`, true},
		{`{"a.b": 1}`, `{"a": [{"b": 1}]}`, true},
		{`{"a.b": 1}`, `{"a": [{"b": [0, 1]}]}`, true},
		{`{"a.b": 1}`, `{"a": [[{"b": 1}]]}`, false},
		{`{"a.b.c": 1}`, `{"a": [{"b": [{"c": 1}]}]}`, true},
		{`{"a.b": [1]}`, `{"a": [{"b": [1]}]}`, true},
		{`{"a.0": 1}`, `{"a": [1, 2]}`, true},
		{`{"a.1": 1}`, `{"a": [1, 2]}`, false},
		{`{"a.0": 1}`, `{"a": {"0": 1}}`, true},
		{`{"a.0.b": 1}`, `{"a": [{"b": 1}]}`, true},
		{`{"a.0.b": 1}`, `{"a": [{"0": {"b": 1}}]}`, true},
		{`{"a.0.b": 1}`, `{"a": [{"b": 2}, {"b": 1}]}`, false},
		{`{"a.1": 2}`, `{"a": [[1, 2]]}`, false},
		{`{"a.0.1": 2}`, `{"a": [[1, 2]]}`, true},
		{`{"a.00": 1}`, `{"a": [1]}`, false},
		{`{"a.0": 1}`, `{"a": [[1, 2]]}`, false},
		{`{"a.0": [1, 2]}`, `{"a": [[1, 2]]}`, true},
		{`{"a.0.b": 1}`, `{"a": [[{"b": 1}]]}`, true},
		{`{"a.0.b": null}`, `{"a": [5]}`, false},
		{`{"a.0.b": null}`, `{"a": [{"c": 1}]}`, true},
		{`{"a.1.b": 2}`, `{"a": [{"b": 1}, {"b": 2}]}`, true},
		{`{"a.b.0": 2}`, `{"a": [{"b": [1]}, {"b": [2, 3]}]}`, true},
		{`{"a.b": 1}`, `{"a": 1}`, false},
		{`{"a.b": 1}`, `{"a": [1, {"b": 1}]}`, true},
		{`{"a": [[1, 2]]}`, `{"a": [[1, 2]]}`, true},
		{`{"a": [1, 2]}`, `{"a": [[1, 2]]}`, true},
		{`{"a": 1}`, `{"a": [[1], 1]}`, true},
		{`{"a.b": 1, "a.c": 2}`, `{"a": {"b": 1, "c": 2}}`, true},
		{`{"x.y.z": "deep"}`, `{"x": {"y": {"z": "deep"}}}`, true},
	})
}

func TestMatchRegexModBits(t *testing.T) {
	runMatchCases(t, []matchCase{
		{`{"a": {"$regex": "^ab"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": "^ab"}}`, `{"a": "cab"}`, false},
		{`{"a": {"$regex": "^AB", "$options": "i"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$options": "i", "$regex": "^AB"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": {"$regularExpression": {"pattern": "^AB", "options": "i"}}}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regularExpression": {"pattern": "b$", "options": "m"}}}`, `{"a": "ab\nc"}`, true},
		{`{"a": {"$regularExpression": {"pattern": "b$", "options": ""}}}`, `{"a": "ab\nc"}`, false},
		{`{"a": {"$regularExpression": {"pattern": "a.c", "options": ""}}}`, `{"a": "a\nc"}`, false},
		{`{"a": {"$regularExpression": {"pattern": "a.c", "options": "s"}}}`, `{"a": "a\nc"}`, true},
		{`{"a": {"$regex": "a b # comment\n c", "$options": "x"}}`, `{"a": "abc"}`, true},
		{`{"a": {"$regex": "a[ ]b", "$options": "x"}}`, `{"a": "a b"}`, true},
		{`{"a": {"$regex": "x"}}`, `{"a": 1}`, false},
		{`{"a": {"$regex": "x"}}`, `{"a": ["y", "x"]}`, true},
		{`{"a": {"$regex": "x"}}`, `{"a": {"$symbol": "x"}}`, true},
		{`{"a": {"$regularExpression": {"pattern": "x", "options": "i"}}}`, `{"a": {"$regularExpression": {"pattern": "x", "options": "i"}}}`, true},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": 8}`, true},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": 9}`, false},
		{`{"a": {"$mod": [4, 1]}}`, `{"a": 9.9}`, true},
		{`{"a": {"$mod": [4, -1]}}`, `{"a": -5}`, true},
		{`{"a": {"$mod": [4.5, 1]}}`, `{"a": 5}`, true},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": "8"}`, false},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": {"$numberDouble": "NaN"}}`, false},
		{`{"a": {"$mod": [4, 0]}}`, `{"a": [1, 4]}`, true},
		{`{"a": {"$bitsAllSet": 5}}`, `{"a": 7}`, true},
		{`{"a": {"$bitsAllSet": 5}}`, `{"a": 6}`, false},
		{`{"a": {"$bitsAllSet": [0, 2]}}`, `{"a": 5}`, true},
		{`{"a": {"$bitsAnySet": [1]}}`, `{"a": 5}`, false},
		{`{"a": {"$bitsAllClear": [1, 3]}}`, `{"a": 5}`, true},
		{`{"a": {"$bitsAnyClear": [0, 1]}}`, `{"a": 5}`, true},
		{`{"a": {"$bitsAllSet": [100]}}`, `{"a": -1}`, true},
		{`{"a": {"$bitsAllSet": [100]}}`, `{"a": 1}`, false},
		{`{"a": {"$bitsAllSet": 1}}`, `{"a": 1.5}`, false},
		{`{"a": {"$bitsAllSet": 1}}`, `{"a": 3.0}`, true},
		{`{"a": {"$bitsAllSet": 1}}`, `{"a": "1"}`, false},
		{`{"a": {"$bitsAllSet": {"$binary": {"base64": "AQ==", "subType": "00"}}}}`, `{"a": 1}`, true},
		{`{"a": {"$bitsAllSet": [8]}}`, `{"a": {"$binary": {"base64": "AAE=", "subType": "00"}}}`, true},
		{`{"a": {"$bitsAnySet": [16]}}`, `{"a": {"$binary": {"base64": "AAE=", "subType": "00"}}}`, false},
	})
}

func TestMatchErrors(t *testing.T) {
	cases := []struct {
		filter string
		code   int
	}{
		{`{"$foo": 1}`, CodeBadValue},
		{`{"a": {"$foo": 1}}`, CodeBadValue},
		{`{"a": {"$gt": 1, "b": 2}}`, CodeBadValue},
		{`{"$and": []}`, CodeBadValue},
		{`{"$and": {}}`, CodeBadValue},
		{`{"$or": [1]}`, CodeBadValue},
		{`{"$nor": "x"}`, CodeBadValue},
		{`{"$not": {"a": 1}}`, CodeBadValue},
		{`{"a": {"$in": 1}}`, CodeBadValue},
		{`{"a": {"$nin": {"x": 1}}}`, CodeBadValue},
		{`{"a": {"$in": [{"$gt": 1}]}}`, CodeBadValue},
		{`{"a": {"$all": 1}}`, CodeBadValue},
		{`{"a": {"$all": [{"$gt": 1}]}}`, CodeBadValue},
		{`{"a": {"$all": [{"$elemMatch": {"b": 1}}, 1]}}`, CodeBadValue},
		{`{"a": {"$size": -1}}`, CodeBadValue},
		{`{"a": {"$size": 1.5}}`, CodeBadValue},
		{`{"a": {"$size": "1"}}`, CodeBadValue},
		{`{"a": {"$regex": 1}}`, CodeBadValue},
		{`{"a": {"$options": "i"}}`, CodeBadValue},
		{`{"a": {"$regex": "(", "$options": ""}}`, matchCodeInvalidRegex},
		{`{"a": {"$regex": "a", "$options": "z"}}`, matchCodeInvalidRegexFlag},
		{`{"a": {"$regex": {"$regularExpression": {"pattern": "a", "options": "i"}}, "$options": "m"}}`, matchCodeOptionsTwice},
		{`{"a": {"$options": "m", "$regex": {"$regularExpression": {"pattern": "a", "options": "i"}}}}`, matchCodeRegexOptionsTwice},
		{`{"a": {"$ne": {"$regularExpression": {"pattern": "a", "options": ""}}}}`, CodeBadValue},
		{`{"a": {"$gt": {"$regularExpression": {"pattern": "a", "options": ""}}}}`, CodeBadValue},
		{`{"a": {"$type": []}}`, CodeFailedToParse},
		{`{"a": {"$size": 3000000000}}`, CodeBadValue},
		{`{"a": {"$where": "1"}}`, CodeBadValue},
		{`{"a": {"$elemMatch": {"$expr": {"$eq": [1, 1]}}}}`, CodeBadValue},
		{`{"a": {"$elemMatch": {"$or": [{"$where": "1"}]}}}`, CodeBadValue},
		{`{"$not": {"a": 1}}`, CodeBadValue},
		{`{"$alwaysTrue": 2}`, CodeFailedToParse},
		{`{"a": {"$in": [{"$regularExpression": {"pattern": "(", "options": ""}}]}}`, matchCodeInvalidRegex},
		{`{"a": {"$mod": 1}}`, CodeBadValue},
		{`{"a": {"$mod": [1]}}`, CodeBadValue},
		{`{"a": {"$mod": [1, 2, 3]}}`, CodeBadValue},
		{`{"a": {"$mod": [0, 1]}}`, CodeBadValue},
		{`{"a": {"$mod": ["a", 1]}}`, CodeBadValue},
		{`{"a": {"$mod": [{"$numberDouble": "NaN"}, 1]}}`, CodeBadValue},
		{`{"a": {"$type": "foo"}}`, CodeBadValue},
		{`{"a": {"$type": 99}}`, CodeBadValue},
		{`{"a": {"$type": true}}`, CodeTypeMismatch},
		{`{"a": {"$elemMatch": 1}}`, CodeBadValue},
		{`{"a": {"$not": 1}}`, CodeBadValue},
		{`{"a": {"$not": {}}}`, CodeBadValue},
		{`{"a": {"$bitsAllSet": -1}}`, CodeBadValue},
		{`{"a": {"$bitsAllSet": [-1]}}`, CodeBadValue},
		{`{"a": {"$bitsAllSet": "x"}}`, CodeBadValue},
		{`{"$where": "1"}`, CodeNotImplemented},
		{`{"$text": {"$search": "x"}}`, CodeNotImplemented},
		{`{"a": {"$near": [0, 0]}}`, CodeNotImplemented},
		{`{"a": {"$geoWithin": {}}}`, CodeNotImplemented},
		{`{"$jsonSchema": 1}`, CodeTypeMismatch},
		{`{"$jsonSchema": {"foo": 1}}`, CodeFailedToParse},
		{`{"$jsonSchema": {"type": "integer"}}`, CodeBadValue},
		{`{"$jsonSchema": {"required": []}}`, CodeFailedToParse},
		{`{"$jsonSchema": {"exclusiveMinimum": true}}`, CodeFailedToParse},
		{`{"$jsonSchema": {"multipleOf": 0}}`, CodeFailedToParse},
		{`{"$jsonSchema": {"properties": {"a": 1}}}`, CodeTypeMismatch},
		{`{"$jsonSchema": {"type": "object", "bsonType": "object"}}`, CodeFailedToParse},
		{`{"$jsonSchema": {"encrypt": {}}}`, CodeNotImplemented},
	}
	for _, c := range cases {
		_, err := CompileFilter(ejson(t, c.filter))
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("CompileFilter(%s) = %v, want *Error code %d", c.filter, err, c.code)
			continue
		}
		if e.Code != c.code {
			t.Errorf("CompileFilter(%s) code %d (%s), want %d", c.filter, e.Code, e.Message, c.code)
		}
	}
}

func TestMatchErrorMessages(t *testing.T) {
	for filter, want := range map[string]string{
		`{"$foo": 1}`:  "unknown top level operator: $foo. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.",
		`{"$not": {}}`: "unknown top level operator: $not. If you are trying to negate an entire expression, use $nor.",
		`{"a": {"$ne": {"$regularExpression": {"pattern": "a", "options": ""}}}}`: "Can't have regex as arg to $ne.",
		`{"$and": 1}`:           "$and must be an array",
		`{"$or": []}`:           "$and/$or/$nor must be a nonempty array",
		`{"a": {"$foo": 1}}`:    "unknown operator: $foo",
		`{"a": {"$in": 1}}`:     "$in needs an array",
		`{"a": {"$type": "x"}}`: "Unknown type name alias: x",
	} {
		_, err := CompileFilter(ejson(t, filter))
		if err == nil || err.Error() != want {
			t.Errorf("CompileFilter(%s) = %v, want %q", filter, err, want)
		}
	}
}

func TestMatchDepth(t *testing.T) {
	// A filter nested far deeper than MaxDepth must fail cleanly.
	var f bson.D = bson.D{{Key: "a", Value: int32(1)}}
	for i := 0; i < 5000; i++ {
		f = bson.D{{Key: "$and", Value: bson.A{f}}}
	}
	_, err := CompileFilter(f)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeOverflow {
		t.Fatalf("deep $and: got %v, want Overflow", err)
	}
	var n bson.D = bson.D{{Key: "$gt", Value: int32(1)}}
	for i := 0; i < 200; i++ {
		n = bson.D{{Key: "$not", Value: n}}
	}
	if _, err := CompileFilter(bson.D{{Key: "a", Value: n}}); !errors.As(err, &e) || e.Code != CodeOverflow {
		t.Fatalf("deep $not: got %v, want Overflow", err)
	}
	// Just inside the limit compiles.
	f = bson.D{{Key: "a", Value: int32(1)}}
	for i := 0; i < 40; i++ {
		f = bson.D{{Key: "$and", Value: bson.A{f}}}
	}
	if _, err := CompileFilter(f); err != nil {
		t.Fatalf("depth 80: %v", err)
	}
}

func TestMatchGoValues(t *testing.T) {
	f, err := CompileFilter(bson.D{{Key: "a", Value: 1}, {Key: "b", Value: bson.M{"$in": []any{2, 3}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(bson.D{{Key: "a", Value: int64(1)}, {Key: "b", Value: 3.0}}) {
		t.Error("Go int filter values should be normalized")
	}
	if _, err := CompileFilter(bson.D{{Key: "a", Value: struct{}{}}}); err == nil {
		t.Error("an unsupported Go type must be an error, not a panic")
	}
}

func TestMatchPosition(t *testing.T) {
	cases := []struct {
		filter, doc string
		match       bool
		pos         int
	}{
		{`{"a": 1}`, `{"a": 1}`, true, -1},
		{`{"a": 2}`, `{"a": [1, 2, 3]}`, true, 1},
		{`{"a": {"$gt": 1}}`, `{"a": [1, 2, 3]}`, true, 1},
		{`{"a.b": 5}`, `{"a": [{"b": 1}, {"b": 5}]}`, true, 1},
		{`{"a.b.c": 5}`, `{"a": [{"b": [{"c": 1}]}, {"b": [{"c": 2}, {"c": 5}]}]}`, true, 1},
		{`{"a": {"$elemMatch": {"b": 5}}}`, `{"a": [{"b": 1}, {"b": 5}]}`, true, 1},
		{`{"a.b": {"$elemMatch": {"$gt": 3}}}`, `{"a": [{"b": [1]}, {"b": [1, 5]}]}`, true, 1},
		{`{"a": [1, 2]}`, `{"a": [1, 2]}`, true, -1},
		{`{"a": {"$ne": 5}}`, `{"a": [1, 2]}`, true, -1},
		{`{"x": 1, "a": 3}`, `{"x": 1, "a": [1, 2, 3]}`, true, 2},
		{`{"a": 3, "b": 1}`, `{"a": [3], "b": [0, 1]}`, true, 1},
		{`{"a": 4}`, `{"a": [1, 2, 3]}`, false, -1},
		{`{"a.1": 2}`, `{"a": [1, 2]}`, true, -1},
		{`{"a.0.b": 5}`, `{"a": [{"b": [1, 5]}]}`, true, 1},
		{`{"a.b": 2}`, `{"a": [{"b": [1, 2]}]}`, true, 0},
		{`{"a": {"$size": 2}}`, `{"a": [1, 2]}`, true, -1},
	}
	for _, c := range cases {
		f, err := CompileFilter(ejson(t, c.filter))
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		m, pos := f.MatchPosition(ejson(t, c.doc))
		if m != c.match || pos != c.pos {
			t.Errorf("filter %s doc %s: got (%v, %d), want (%v, %d)", c.filter, c.doc, m, pos, c.match, c.pos)
		}
	}
}

// TestMatchGolden runs testdata/match/*.jsonl: one case per line, an
// Extended JSON object {"filter": ..., "doc": ..., "match": bool} with an
// optional "pos" (the MatchPosition index), or {"filter": ..., "error":
// code} for filters that must not compile. Lines starting with // are
// comments.
func TestMatchGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "match", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		line := 0
		for sc.Scan() {
			line++
			text := strings.TrimSpace(sc.Text())
			if text == "" || strings.HasPrefix(text, "//") {
				continue
			}
			where := fmt.Sprintf("%s:%d", name, line)
			c := ejson(t, text)
			filter, _ := Get(c, "filter").(bson.D)
			f, err := CompileFilter(filter)
			if code := Get(c, "error"); !IsMissing(code) {
				want, _ := ToInt64(code)
				var e *Error
				if !errors.As(err, &e) || int64(e.Code) != want {
					t.Errorf("%s: got error %v, want code %d", where, err, want)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			doc, _ := Get(c, "doc").(bson.D)
			want, _ := Get(c, "match").(bool)
			got, pos := f.MatchPosition(doc)
			if got != want {
				t.Errorf("%s: %s: got %v, want %v", where, text, got, want)
			}
			if wp := Get(c, "pos"); !IsMissing(wp) {
				if n, _ := ToInt64(wp); int64(pos) != n {
					t.Errorf("%s: %s: position %d, want %d", where, text, pos, n)
				}
			}
		}
	}
}

func TestMatchInLongList(t *testing.T) {
	list := bson.A{nil, "x", bson.D{{Key: "k", Value: int32(1)}}, bson.A{int32(1), int32(2)}, true}
	for i := 0; i < 50; i++ {
		list = append(list, float64(i)*2)
	}
	f, err := CompileFilter(bson.D{{Key: "a", Value: bson.D{{Key: "$in", Value: list}}}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		doc  bson.D
		want bool
	}{
		{bson.D{{Key: "a", Value: int32(4)}}, true},
		{bson.D{{Key: "a", Value: int64(98)}}, true},
		{bson.D{{Key: "a", Value: int32(5)}}, false},
		{bson.D{{Key: "a", Value: "x"}}, true},
		{bson.D{{Key: "a", Value: "y"}}, false},
		{bson.D{}, true},
		{bson.D{{Key: "a", Value: bson.A{int32(1), int32(2)}}}, true},
		{bson.D{{Key: "a", Value: bson.A{int32(7), int32(9)}}}, false},
		{bson.D{{Key: "a", Value: bson.D{{Key: "k", Value: 1.0}}}}, true},
		{bson.D{{Key: "a", Value: false}}, false},
		{bson.D{{Key: "a", Value: true}}, true},
	}
	for _, c := range cases {
		if got := f.Match(c.doc); got != c.want {
			t.Errorf("doc %v: got %v, want %v", c.doc, got, c.want)
		}
	}
}

func TestMatchConcurrent(t *testing.T) {
	f, err := CompileFilter(ejson(t, `{"a": {"$in": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}, "b": {"$regex": "^x"}, "c": {"$elemMatch": {"d": {"$gt": 1}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	yes := ejson(t, `{"a": 7, "b": "xy", "c": [{"d": 0}, {"d": 2}]}`)
	no := ejson(t, `{"a": 7, "b": "xy", "c": [{"d": 0}]}`)
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			ok := true
			for i := 0; i < 1000; i++ {
				m, pos := f.MatchPosition(yes)
				ok = ok && m && pos == 1 && !f.Match(no)
			}
			done <- ok
		}()
	}
	for g := 0; g < 4; g++ {
		if !<-done {
			t.Error("concurrent matching gave a wrong result")
		}
	}
}

func TestMatchHandBuiltDocuments(t *testing.T) {
	f, err := CompileFilter(bson.D{{Key: "a.b", Value: int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(bson.D{{Key: "a", Value: bson.M{"b": int32(1)}}}) {
		t.Error("a path should look into a bson.M")
	}
	if !f.Match(bson.D{{Key: "a", Value: bson.A{bson.M{"b": int32(1)}}}}) {
		t.Error("a path should look into bson.M array elements")
	}
	all, err := CompileFilter(nil)
	if err != nil || !all.Match(nil) {
		t.Errorf("a nil filter should match everything: %v", err)
	}
}
