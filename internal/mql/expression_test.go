package mql

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// parseEJ parses one relaxed Extended JSON value.
func parseEJ(t testing.TB, s string) any {
	t.Helper()
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte(`{"v":`+s+`}`), false, &d); err != nil {
		t.Fatalf("bad EJSON %s: %v", s, err)
	}
	return d[0].Value
}

// canon renders a value as canonical Extended JSON for exact comparison
// (types included); Missing renders as MISSING.
func canon(v any) string {
	if IsMissing(v) {
		return "MISSING"
	}
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
	if err != nil {
		return "ERR:" + err.Error()
	}
	return string(b)
}

type exprCase struct {
	expr string
	doc  string
	want string // relaxed EJSON, or MISSING
	code int    // expected error code instead of a value
}

func runExprCases(t *testing.T, cases []exprCase) {
	t.Helper()
	for _, tc := range cases {
		doc := bson.D{}
		if tc.doc != "" {
			doc = parseEJ(t, tc.doc).(bson.D)
		}
		name := tc.expr
		if tc.doc != "" {
			name += " on " + tc.doc
		}
		t.Run(name, func(t *testing.T) {
			got, err := evalString(t, tc.expr, doc)
			if tc.code != 0 {
				var me *Error
				if !errors.As(err, &me) || me.Code != tc.code {
					t.Fatalf("want error code %d, got %v (value %s)", tc.code, err, canon(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			want := "MISSING"
			if tc.want != "MISSING" {
				want = canon(parseEJ(t, tc.want))
			}
			if canon(got) != want {
				t.Fatalf("got %s, want %s", canon(got), want)
			}
		})
	}
}

func evalString(t testing.TB, expr string, doc bson.D) (any, error) {
	e, err := CompileExpression(parseEJ(t, expr))
	if err != nil {
		return nil, err
	}
	return e.Eval(doc, map[string]any{"NOW": bson.DateTime(0), "x": int32(7)})
}

func TestExpressionPathsAndVariables(t *testing.T) {
	runExprCases(t, []exprCase{
		{`"$a"`, `{"a": 1}`, `1`, 0},
		{`"$a"`, `{}`, `MISSING`, 0},
		{`"$a.b"`, `{"a": {"b": "x"}}`, `"x"`, 0},
		{`"$a.b"`, `{"a": [{"b": 1}, {"c": 2}, {"b": 3}, 5, [{"b": 4}]]}`, `[1, 3, [4]]`, 0},
		{`"$a.b.c"`, `{"a": [{"b": [{"c": 1}, {"c": 2}]}]}`, `[[1, 2]]`, 0},
		{`"$a.0"`, `{"a": [1, 2]}`, `[]`, 0},
		{`"$a.b"`, `{"a": 5}`, `MISSING`, 0},
		{`"$$ROOT"`, `{"a": 1}`, `{"a": 1}`, 0},
		{`"$$CURRENT.a"`, `{"a": 1}`, `1`, 0},
		{`"$$ROOT.a.b"`, `{"a": {"b": 2}}`, `2`, 0},
		{`"$$NOW"`, ``, `{"$date": "1970-01-01T00:00:00Z"}`, 0},
		{`"$$REMOVE"`, ``, `MISSING`, 0},
		{`"$$x"`, ``, `7`, 0},
		{`"$$y"`, ``, ``, 17276},
		{`"$$Bad"`, ``, ``, 16870},
		{`"$"`, ``, ``, 16872},
		{`"$a..b"`, ``, ``, 15998},
		{`"$a.$b"`, ``, ``, 16410},
		{`"abc"`, ``, `"abc"`, 0},
		{`{"$literal": "$a"}`, `{"a": 1}`, `"$a"`, 0},
		{`{"$literal": {"$add": 1}}`, ``, `{"$add": 1}`, 0},
		{`{"x": "$a", "y": {"z": "$b"}, "m": "$missing"}`, `{"a": 1, "b": 2}`, `{"x": 1, "y": {"z": 2}}`, 0},
		{`["$a", "$missing", 3]`, `{"a": 1}`, `[1, null, 3]`, 0},
		{`{"a.b": 1}`, ``, ``, 16412},
		{`{"$add": [1, 2], "$sub": 1}`, ``, ``, 15983},
		{`{"$foo": 1}`, ``, ``, 168},
		{`{"$function": {}}`, ``, ``, CodeNotImplemented},
		{`{"$accumulator": {}}`, ``, ``, CodeNotImplemented},
		{`{"$let": {"vars": {"a": 1, "b": {"$add": ["$v", 1]}}, "in": {"$add": ["$$a", "$$b"]}}}`, `{"v": 10}`, `12`, 0},
		{`{"$let": {"vars": {"x": 1}, "in": {"$let": {"vars": {"x": {"$add": ["$$x", 1]}}, "in": "$$x"}}}}`, ``, `2`, 0},
		{`{"$let": {"vars": {"CURRENT": "$a"}, "in": "$b"}}`, `{"a": {"b": 5}}`, `5`, 0},
		{`{"$let": {"vars": {"ROOT": 1}, "in": 1}}`, ``, ``, 16870},
		{`{"$let": {"vars": {"a": 1}}}`, ``, ``, 16877},
		{`{"$let": {"in": 1}}`, ``, ``, 16876},
	})
}

func TestExpressionArithmetic(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$add": [1, 2]}`, ``, `{"$numberInt": "3"}`, 0},
		{`{"$add": [2147483647, 1]}`, ``, `{"$numberLong": "2147483648"}`, 0},
		{`{"$add": [{"$numberLong": "1"}, 2]}`, ``, `{"$numberLong": "3"}`, 0},
		{`{"$add": [{"$numberLong": "9223372036854775807"}, 1]}`, ``, `{"$numberDouble": "9.223372036854775808e+18"}`, 0},
		{`{"$add": [1, 2.5]}`, ``, `3.5`, 0},
		{`{"$add": [1, {"$numberDecimal": "2.5"}]}`, ``, `{"$numberDecimal": "3.5"}`, 0},
		{`{"$add": [{"$numberDecimal": "1.10"}, {"$numberDecimal": "2.205"}]}`, ``, `{"$numberDecimal": "3.305"}`, 0},
		{`{"$add": []}`, ``, `{"$numberInt": "0"}`, 0},
		{`{"$add": [1, null]}`, ``, `null`, 0},
		{`{"$add": [1, "$missing"]}`, ``, `null`, 0},
		{`{"$add": [1, "a"]}`, ``, ``, 14},
		{`{"$add": [{"$date": "2020-01-01T00:00:00Z"}, 1000]}`, ``, `{"$date": "2020-01-01T00:00:01Z"}`, 0},
		{`{"$add": [1.6, {"$date": "2020-01-01T00:00:00Z"}]}`, ``, `{"$date": "2020-01-01T00:00:00.002Z"}`, 0},
		{`{"$add": [{"$date": "2020-01-01T00:00:00Z"}, {"$date": "2020-01-01T00:00:00Z"}]}`, ``, ``, 16612},
		{`{"$subtract": [5, 3]}`, ``, `{"$numberInt": "2"}`, 0},
		{`{"$subtract": [{"$numberInt": "-2147483648"}, 1]}`, ``, `{"$numberLong": "-2147483649"}`, 0},
		{`{"$subtract": [{"$date": "2020-01-01T00:00:01Z"}, {"$date": "2020-01-01T00:00:00Z"}]}`, ``, `{"$numberLong": "1000"}`, 0},
		{`{"$subtract": [{"$date": "2020-01-01T00:00:01Z"}, 1000]}`, ``, `{"$date": "2020-01-01T00:00:00Z"}`, 0},
		{`{"$subtract": [1, {"$date": "2020-01-01T00:00:01Z"}]}`, ``, ``, 16556},
		{`{"$subtract": [null, 1]}`, ``, `null`, 0},
		{`{"$subtract": [1]}`, ``, ``, 16020},
		{`{"$multiply": [2, 3]}`, ``, `{"$numberInt": "6"}`, 0},
		{`{"$multiply": [65536, 65536]}`, ``, `{"$numberLong": "4294967296"}`, 0},
		{`{"$multiply": [2, 1.5]}`, ``, `3.0`, 0},
		{`{"$multiply": [2, "x"]}`, ``, ``, 16555},
		{`{"$divide": [6, 3]}`, ``, `{"$numberDouble": "2.0"}`, 0},
		{`{"$divide": [1, 4]}`, ``, `0.25`, 0},
		{`{"$divide": [1, 0]}`, ``, ``, 2},
		{`{"$divide": [1, {"$numberDecimal": "4"}]}`, ``, `{"$numberDecimal": "0.25"}`, 0},
		{`{"$divide": [{"$numberDecimal": "1"}, 3]}`, ``, `{"$numberDecimal": "0.3333333333333333333333333333333333"}`, 0},
		{`{"$divide": [null, 0]}`, ``, `null`, 0},
		{`{"$divide": ["a", 1]}`, ``, ``, 16609},
		{`{"$mod": [7, 3]}`, ``, `{"$numberInt": "1"}`, 0},
		{`{"$mod": [-7, 3]}`, ``, `{"$numberInt": "-1"}`, 0},
		{`{"$mod": [7.5, 2]}`, ``, `1.5`, 0},
		{`{"$mod": [{"$numberLong": "7"}, 3]}`, ``, `{"$numberLong": "1"}`, 0},
		{`{"$mod": [7, 0]}`, ``, ``, 16610},
		{`{"$mod": [{"$numberDecimal": "7.5"}, 2]}`, ``, `{"$numberDecimal": "1.5"}`, 0},
		{`{"$abs": -5}`, ``, `{"$numberInt": "5"}`, 0},
		{`{"$abs": {"$numberInt": "-2147483648"}}`, ``, `{"$numberLong": "2147483648"}`, 0},
		{`{"$abs": {"$numberLong": "-9223372036854775808"}}`, ``, ``, 28680},
		{`{"$abs": null}`, ``, `null`, 0},
		{`{"$abs": "x"}`, ``, ``, 28765},
		{`{"$ceil": 1.2}`, ``, `2.0`, 0},
		{`{"$floor": -1.2}`, ``, `-2.0`, 0},
		{`{"$floor": 3}`, ``, `{"$numberInt": "3"}`, 0},
		{`{"$ceil": {"$numberDecimal": "1.2"}}`, ``, `{"$numberDecimal": "2"}`, 0},
		{`{"$round": [2.5]}`, ``, `2.0`, 0},
		{`{"$round": [3.5]}`, ``, `4.0`, 0},
		{`{"$round": [1.2345, 2]}`, ``, `1.23`, 0},
		{`{"$round": [1234, -2]}`, ``, `{"$numberInt": "1200"}`, 0},
		{`{"$round": [1250, -2]}`, ``, `{"$numberInt": "1200"}`, 0},
		{`{"$round": [1350, -2]}`, ``, `{"$numberInt": "1400"}`, 0},
		{`{"$round": [1, 101]}`, ``, ``, 51083},
		{`{"$trunc": [1.789, 1]}`, ``, `1.7`, 0},
		{`{"$trunc": -1.7}`, ``, `-1.0`, 0},
		{`{"$round": [{"$numberDecimal": "1.255"}, 2]}`, ``, `{"$numberDecimal": "1.26"}`, 0},
		{`{"$pow": [2, 10]}`, ``, `{"$numberInt": "1024"}`, 0},
		{`{"$pow": [2, 40]}`, ``, `{"$numberLong": "1099511627776"}`, 0},
		{`{"$pow": [2, -1]}`, ``, `0.5`, 0},
		{`{"$pow": [-1, -3]}`, ``, `{"$numberInt": "-1"}`, 0},
		{`{"$pow": [0, -1]}`, ``, ``, 28764},
		{`{"$pow": [2.0, 2]}`, ``, `4.0`, 0},
		{`{"$pow": [{"$numberLong": "9223372036854775807"}, {"$numberLong": "9223372036854775807"}]}`, ``, `{"$numberDouble": "Infinity"}`, 0},
		{`{"$pow": [-2, 63]}`, ``, `{"$numberLong": "-9223372036854775808"}`, 0},
		{`{"$sqrt": 16}`, ``, `4.0`, 0},
		{`{"$sqrt": -1}`, ``, ``, 28714},
		{`{"$exp": 0}`, ``, `1.0`, 0},
		{`{"$ln": 1}`, ``, `0.0`, 0},
		{`{"$ln": 0}`, ``, ``, 28766},
		{`{"$log10": 100}`, ``, `2.0`, 0},
		{`{"$log10": -1}`, ``, ``, 28761},
		{`{"$log": [8, 2]}`, ``, `3.0`, 0},
		{`{"$log": [8, 1]}`, ``, ``, 28759},
		{`{"$log": [null, 2]}`, ``, `null`, 0},
	})
}

func TestExpressionComparisonAndLogic(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$eq": [1, 1.0]}`, ``, `true`, 0},
		{`{"$eq": [1, {"$numberDecimal": "1.00"}]}`, ``, `true`, 0},
		{`{"$eq": ["$missing", null]}`, ``, `false`, 0},
		{`{"$lt": ["$missing", null]}`, ``, `true`, 0},
		{`{"$eq": ["$missing", "$other"]}`, ``, `true`, 0},
		{`{"$gt": ["$missing", {"$minKey": 1}]}`, ``, `true`, 0},
		{`{"$in": ["$missing", [null]]}`, ``, `false`, 0},
		{`{"$ne": [1, "1"]}`, ``, `true`, 0},
		{`{"$gt": ["a", 1]}`, ``, `true`, 0},
		{`{"$gt": [null, 1]}`, ``, `false`, 0},
		{`{"$lt": [1, null]}`, ``, `false`, 0},
		{`{"$gte": [[1, 2], [1]]}`, ``, `true`, 0},
		{`{"$lte": [{"a": 1}, {"a": 1}]}`, ``, `true`, 0},
		{`{"$cmp": [1, 2]}`, ``, `{"$numberInt": "-1"}`, 0},
		{`{"$cmp": ["b", "a"]}`, ``, `{"$numberInt": "1"}`, 0},
		{`{"$eq": [1]}`, ``, ``, 16020},
		{`{"$and": [1, "a", true]}`, ``, `true`, 0},
		{`{"$and": [1, 0]}`, ``, `false`, 0},
		{`{"$and": []}`, ``, `true`, 0},
		{`{"$and": [false, {"$divide": [1, 0]}]}`, ``, `false`, 0},
		{`{"$or": [null, "$missing", 0]}`, ``, `false`, 0},
		{`{"$or": []}`, ``, `false`, 0},
		{`{"$or": [0, []]}`, ``, `true`, 0},
		{`{"$not": [0]}`, ``, `true`, 0},
		{`{"$not": "$missing"}`, ``, `true`, 0},
		{`{"$not": [1, 2]}`, ``, ``, 16020},
		{`{"$cond": [true, 1, 2]}`, ``, `1`, 0},
		{`{"$cond": {"if": null, "then": 1, "else": 2}}`, ``, `2`, 0},
		{`{"$cond": {"if": true, "then": 1}}`, ``, ``, 17082},
		{`{"$cond": {"then": 1, "else": 2}}`, ``, ``, 17080},
		{`{"$cond": {"if": 1, "then": 1, "else": 2, "x": 1}}`, ``, ``, 17083},
		{`{"$cond": [true, 1]}`, ``, ``, 16020},
		{`{"$ifNull": ["$a", "d"]}`, `{"a": null}`, `"d"`, 0},
		{`{"$ifNull": ["$a", "$b", "d"]}`, `{"b": 0}`, `0`, 0},
		{`{"$ifNull": ["$a", "d"]}`, `{"a": false}`, `false`, 0},
		{`{"$ifNull": ["$a"]}`, ``, ``, 16020},
		{`{"$switch": {"branches": [{"case": {"$gt": ["$a", 5]}, "then": "big"}, {"case": true, "then": "small"}]}}`, `{"a": 1}`, `"small"`, 0},
		{`{"$switch": {"branches": [{"case": false, "then": 1}], "default": "d"}}`, ``, `"d"`, 0},
		{`{"$switch": {"branches": [{"case": false, "then": 1}]}}`, ``, ``, 40066},
		{`{"$switch": {"branches": []}}`, ``, ``, 40068},
		{`{"$switch": {"branches": [{"then": 1}]}}`, ``, ``, 40064},
		{`{"$switch": {"branches": [{"case": 1}]}}`, ``, ``, 40065},
		{`{"$switch": {"branches": [], "foo": 1}}`, ``, ``, 40067},
	})
}

func TestExpressionStrings(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$concat": ["a", "b", "c"]}`, ``, `"abc"`, 0},
		{`{"$concat": ["a", null]}`, ``, `null`, 0},
		{`{"$concat": ["a", "$missing"]}`, ``, `null`, 0},
		{`{"$concat": ["a", 1]}`, ``, ``, 16702},
		{`{"$substr": ["hello", 1, 3]}`, ``, `"ell"`, 0},
		{`{"$substr": ["hello", 1, -1]}`, ``, `"ello"`, 0},
		{`{"$substr": ["hello", -1, 2]}`, ``, `""`, 0},
		{`{"$substr": [12345, 1, 2]}`, ``, `"23"`, 0},
		{`{"$substrBytes": [null, 0, 2]}`, ``, `""`, 0},
		{`{"$substrBytes": ["héllo", 1, 1]}`, ``, ``, 28657},
		{`{"$substrBytes": ["héllo", 2, 1]}`, ``, ``, 28656},
		{`{"$substrCP": ["héllo", 1, 2]}`, ``, `"él"`, 0},
		{`{"$substrCP": ["abc", -1, 2]}`, ``, ``, 34455},
		{`{"$substrCP": ["abc", 0, -1]}`, ``, ``, 34454},
		{`{"$substrCP": ["abc", 5, 1]}`, ``, `""`, 0},
		{`{"$substrCP": ["abc", 1, {"$numberLong": "9223372036854775807"}]}`, ``, `"bc"`, 0},
		{`{"$substrBytes": ["abc", {"$numberDouble": "NaN"}, 1]}`, ``, `""`, 0},
		{`{"$substrBytes": ["abc", {"$numberDouble": "Infinity"}, 1]}`, ``, `""`, 0},
		{`{"$substrBytes": ["abc", 1, {"$numberDouble": "Infinity"}]}`, ``, `"bc"`, 0},
		{`{"$substrBytes": ["abc", 0.5, 1.5]}`, ``, `"a"`, 0},
		{`{"$toLower": "ABC é É"}`, ``, `"abc é É"`, 0},
		{`{"$toUpper": "abc"}`, ``, `"ABC"`, 0},
		{`{"$toUpper": null}`, ``, `""`, 0},
		{`{"$toUpper": 1.5}`, ``, `"1.5"`, 0},
		{`{"$toLower": [[1]]}`, ``, ``, 16007},
		{`{"$strLenCP": "héllo"}`, ``, `{"$numberInt": "5"}`, 0},
		{`{"$strLenBytes": "héllo"}`, ``, `{"$numberInt": "6"}`, 0},
		{`{"$strLenCP": null}`, ``, ``, 34471},
		{`{"$strLenBytes": 1}`, ``, ``, 34473},
		{`{"$split": ["a,b,,c", ","]}`, ``, `["a", "b", "", "c"]`, 0},
		{`{"$split": [null, ","]}`, ``, `null`, 0},
		{`{"$split": [1, ","]}`, ``, ``, 40085},
		{`{"$split": ["a", 1]}`, ``, ``, 40086},
		{`{"$split": ["a", ""]}`, ``, ``, 40087},
		{`{"$trim": {"input": "  a b  "}}`, ``, `"a b"`, 0},
		{`{"$ltrim": {"input": "  a  "}}`, ``, `"a  "`, 0},
		{`{"$rtrim": {"input": "xxaxx", "chars": "x"}}`, ``, `"xxa"`, 0},
		{`{"$trim": {"input": null}}`, ``, `null`, 0},
		{`{"$trim": {"input": 1}}`, ``, ``, 50699},
		{`{"$trim": {"chars": "a"}}`, ``, ``, CodeFailedToParse},
		{`{"$indexOfBytes": ["hello", "l"]}`, ``, `{"$numberInt": "2"}`, 0},
		{`{"$indexOfBytes": ["hello", "l", 3]}`, ``, `{"$numberInt": "3"}`, 0},
		{`{"$indexOfBytes": ["hello", "z"]}`, ``, `{"$numberInt": "-1"}`, 0},
		{`{"$indexOfBytes": ["hello", "l", 0, 2]}`, ``, `{"$numberInt": "-1"}`, 0},
		{`{"$indexOfBytes": [null, "l"]}`, ``, `null`, 0},
		{`{"$indexOfBytes": ["a", 1]}`, ``, ``, 40092},
		{`{"$indexOfCP": ["héllo", "l"]}`, ``, `{"$numberInt": "2"}`, 0},
		{`{"$indexOfBytes": ["héllo", "l"]}`, ``, `{"$numberInt": "3"}`, 0},
		{`{"$regexMatch": {"input": "Hello", "regex": "^h", "options": "i"}}`, ``, `true`, 0},
		{`{"$regexMatch": {"input": "Hello", "regex": {"$regularExpression": {"pattern": "^h", "options": ""}}}}`, ``, `false`, 0},
		{`{"$regexMatch": {"input": null, "regex": "a"}}`, ``, `false`, 0},
		{`{"$regexMatch": {"input": 1, "regex": "a"}}`, ``, ``, 51104},
		{`{"$regexMatch": {"input": "a", "regex": "("}}`, ``, ``, 51111},
		{`{"$regexFind": {"input": "abc123", "regex": "([a-z]+)(\\d+)"}}`, ``, `{"match": "abc123", "idx": 0, "captures": ["abc", "123"]}`, 0},
		{`{"$strcasecmp": ["abc", "ABC"]}`, ``, `{"$numberInt": "0"}`, 0},
		{`{"$strcasecmp": ["a", "B"]}`, ``, `{"$numberInt": "-1"}`, 0},
		{`{"$strcasecmp": [null, ""]}`, ``, `{"$numberInt": "0"}`, 0},
	})
}

func TestExpressionArrays(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$size": [[1, 2, 3]]}`, ``, `{"$numberInt": "3"}`, 0},
		{`{"$size": "$a"}`, `{"a": [1]}`, `1`, 0},
		{`{"$size": "$missing"}`, ``, ``, 17124},
		{`{"$arrayElemAt": [[1, 2, 3], 0]}`, ``, `1`, 0},
		{`{"$arrayElemAt": [[1, 2, 3], -1]}`, ``, `3`, 0},
		{`{"$arrayElemAt": [[1, 2, 3], 5]}`, ``, `MISSING`, 0},
		{`{"$arrayElemAt": [null, 0]}`, ``, `null`, 0},
		{`{"$arrayElemAt": ["a", 0]}`, ``, ``, 28689},
		{`{"$arrayElemAt": [[1], "a"]}`, ``, ``, 28690},
		{`{"$arrayElemAt": [[1], 1.5]}`, ``, ``, 28691},
		{`{"$first": [[1, 2]]}`, ``, `1`, 0},
		{`{"$last": "$a"}`, `{"a": [1, 2]}`, `2`, 0},
		{`{"$first": [[]]}`, ``, `MISSING`, 0},
		{`{"$first": null}`, ``, `null`, 0},
		{`{"$first": "x"}`, ``, ``, 28689},
		{`{"$in": [2, [1, 2.0]]}`, ``, `true`, 0},
		{`{"$in": [[1], [1, 2]]}`, ``, `false`, 0},
		{`{"$in": [1, "$missing"]}`, ``, ``, 40081},
		{`{"$filter": {"input": [1, 2, 3, 4], "cond": {"$gt": ["$$this", 2]}}}`, ``, `[3, 4]`, 0},
		{`{"$filter": {"input": [1, 2, 3, 4], "as": "n", "cond": {"$lt": ["$$n", 4]}, "limit": 2}}`, ``, `[1, 2]`, 0},
		{`{"$filter": {"input": null, "cond": true}}`, ``, `null`, 0},
		{`{"$filter": {"input": 1, "cond": true}}`, ``, ``, 28651},
		{`{"$filter": {"input": [1], "as": "Bad", "cond": true}}`, ``, ``, 16870},
		{`{"$map": {"input": [1, 2], "as": "n", "in": {"$multiply": ["$$n", 10]}}}`, ``, `[10, 20]`, 0},
		{`{"$map": {"input": [{"a": 1}, {}], "in": "$$this.a"}}`, ``, `[1, null]`, 0},
		{`{"$map": {"input": "$missing", "in": 1}}`, ``, `null`, 0},
		{`{"$map": {"input": "x", "in": 1}}`, ``, ``, 16883},
		{`{"$reduce": {"input": [1, 2, 3], "initialValue": 0, "in": {"$add": ["$$value", "$$this"]}}}`, ``, `6`, 0},
		{`{"$reduce": {"input": ["a", "b"], "initialValue": "", "in": {"$concat": ["$$value", "$$this"]}}}`, ``, `"ab"`, 0},
		{`{"$reduce": {"input": null, "initialValue": 0, "in": 1}}`, ``, `null`, 0},
		{`{"$reduce": {"input": 1, "initialValue": 0, "in": 1}}`, ``, ``, 40080},
		{`{"$concatArrays": [[1], [2, [3]]]}`, ``, `[1, 2, [3]]`, 0},
		{`{"$concatArrays": [[1], null]}`, ``, `null`, 0},
		{`{"$concatArrays": [[1], 1]}`, ``, ``, 28664},
		{`{"$slice": [[1, 2, 3, 4], 2]}`, ``, `[1, 2]`, 0},
		{`{"$slice": [[1, 2, 3, 4], -2]}`, ``, `[3, 4]`, 0},
		{`{"$slice": [[1, 2, 3, 4], 1, 2]}`, ``, `[2, 3]`, 0},
		{`{"$slice": [[1, 2, 3, 4], -3, 2]}`, ``, `[2, 3]`, 0},
		{`{"$slice": [[1, 2, 3, 4], 10, 2]}`, ``, `[]`, 0},
		{`{"$slice": [[1], 0, 0]}`, ``, ``, 28729},
		{`{"$slice": ["a", 1]}`, ``, ``, 28724},
		{`{"$slice": [null, 1]}`, ``, `null`, 0},
		{`{"$reverseArray": [[1, 2, 3]]}`, ``, `[3, 2, 1]`, 0},
		{`{"$reverseArray": null}`, ``, `null`, 0},
		{`{"$reverseArray": 1}`, ``, ``, 34435},
		{`{"$range": [0, 5, 2]}`, ``, `[0, 2, 4]`, 0},
		{`{"$range": [5, 0, -2]}`, ``, `[5, 3, 1]`, 0},
		{`{"$range": [0, 3]}`, ``, `[0, 1, 2]`, 0},
		{`{"$range": [0, 3, 0]}`, ``, ``, 34449},
		{`{"$range": [0.5, 3]}`, ``, ``, 34444},
		{`{"$indexOfArray": [["a", "b", "a"], "a", 1]}`, ``, `{"$numberInt": "2"}`, 0},
		{`{"$indexOfArray": [[1, 2], 3]}`, ``, `{"$numberInt": "-1"}`, 0},
		{`{"$indexOfArray": [null, 3]}`, ``, `null`, 0},
		{`{"$indexOfArray": [1, 3]}`, ``, ``, 40090},
		{`{"$isArray": [[1]]}`, ``, `true`, 0},
		{`{"$isArray": "$a"}`, `{"a": 1}`, `false`, 0},
		{`{"$arrayToObject": [[["a", 1], ["b", 2]]]}`, ``, `{"a": 1, "b": 2}`, 0},
		{`{"$arrayToObject": [[{"k": "a", "v": 1}, {"k": "a", "v": 2}]]}`, ``, `{"a": 2}`, 0},
		{`{"$arrayToObject": [[["a", 1], {"k": "b", "v": 2}]]}`, ``, ``, 40391},
		{`{"$arrayToObject": [[[1, 1]]]}`, ``, ``, 40395},
		{`{"$arrayToObject": null}`, ``, `null`, 0},
		{`{"$objectToArray": {"a": 1, "b": {"c": 2}}}`, ``, `[{"k": "a", "v": 1}, {"k": "b", "v": {"c": 2}}]`, 0},
		{`{"$objectToArray": "$missing"}`, ``, `null`, 0},
		{`{"$objectToArray": [[1]]}`, ``, ``, 40390},
		{`{"$zip": {"inputs": [[1, 2, 3], ["a", "b"]]}}`, ``, `[[1, "a"], [2, "b"]]`, 0},
		{`{"$zip": {"inputs": [[1, 2], ["a"]], "useLongestLength": true, "defaults": [0, "z"]}}`, ``, `[[1, "a"], [2, "z"]]`, 0},
		{`{"$zip": {"inputs": [[1], null]}}`, ``, `null`, 0},
		{`{"$sum": [[1, 2, "a", null, 3.5]]}`, ``, `6.5`, 0},
		{`{"$sum": ["$a", "$b"]}`, `{"a": 1, "b": 2}`, `{"$numberInt": "3"}`, 0},
		{`{"$sum": "$a"}`, `{"a": [1, {"$numberLong": "2"}]}`, `{"$numberLong": "3"}`, 0},
		{`{"$sum": "$missing"}`, ``, `{"$numberInt": "0"}`, 0},
		{`{"$avg": [[1, 2, "x"]]}`, ``, `1.5`, 0},
		{`{"$avg": [["x"]]}`, ``, `null`, 0},
		{`{"$min": [[3, 1, null, 2]]}`, ``, `1`, 0},
		{`{"$max": [1, "a", 2]}`, ``, `"a"`, 0},
		{`{"$max": [[]]}`, ``, `null`, 0},
		{`{"$stdDevPop": [[1, 3]]}`, ``, `1.0`, 0},
		{`{"$mergeObjects": [{"a": 1, "b": 1}, null, {"b": 2, "c": 3}]}`, ``, `{"a": 1, "b": 2, "c": 3}`, 0},
		{`{"$mergeObjects": [{"a": 1}, 1]}`, ``, ``, 40400},
		{`{"$getField": "a.b"}`, `{"a.b": 1, "a": {"b": 2}}`, `1`, 0},
		{`{"$getField": {"field": "x", "input": {"x": 5}}}`, ``, `5`, 0},
		{`{"$getField": {"field": "x", "input": null}}`, ``, `MISSING`, 0},
		{`{"$getField": {"field": "$x"}}`, ``, ``, 5654602},
		{`{"$setField": {"field": "a.b", "input": {"c": 1}, "value": 2}}`, ``, `{"c": 1, "a.b": 2}`, 0},
		{`{"$setField": {"field": "c", "input": {"c": 1}, "value": "$$REMOVE"}}`, ``, `{}`, 0},
		{`{"$setUnion": [[1, 2, 1], [2, 3]]}`, ``, `[1, 2, 3]`, 0},
		{`{"$setUnion": [[1], null]}`, ``, `null`, 0},
		{`{"$setUnion": [[1], 1]}`, ``, ``, 17043},
		{`{"$setIntersection": [[1, 2, 3], [3, 2.0, 4]]}`, ``, `[2, 3]`, 0},
		{`{"$setDifference": [[1, 2, 3, 1], [2]]}`, ``, `[1, 3]`, 0},
		{`{"$setDifference": [[1], "a"]}`, ``, ``, 17049},
		{`{"$setEquals": [[1, 2, 2], [2, 1]]}`, ``, `true`, 0},
		{`{"$setEquals": [[1], [1, 3]]}`, ``, `false`, 0},
		{`{"$setEquals": [[1]]}`, ``, ``, 16020},
		{`{"$setIsSubset": [[1], [1, 2]]}`, ``, `true`, 0},
		{`{"$setIsSubset": [[1], null]}`, ``, ``, 17042},
		{`{"$anyElementTrue": [[0, null, 1]]}`, ``, `true`, 0},
		{`{"$anyElementTrue": [[]]}`, ``, `false`, 0},
		{`{"$allElementTrue": [[1, [], ""]]}`, ``, `true`, 0},
		{`{"$allElementTrue": [[1, 0]]}`, ``, `false`, 0},
		{`{"$allElementTrue": [1]}`, ``, ``, 17040},
	})
}

func TestExpressionTypes(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$type": "$a"}`, `{"a": 1}`, `"int"`, 0},
		{`{"$type": "$a"}`, `{"a": {"$numberLong": "1"}}`, `"long"`, 0},
		{`{"$type": "$missing"}`, ``, `"missing"`, 0},
		{`{"$type": [null]}`, ``, `"null"`, 0},
		{`{"$type": [[1]]}`, ``, `"array"`, 0},
		{`{"$isNumber": "$a"}`, `{"a": 1.5}`, `true`, 0},
		{`{"$isNumber": "1"}`, ``, `false`, 0},
		{`{"$toString": 1}`, ``, `"1"`, 0},
		{`{"$toString": 2.5}`, ``, `"2.5"`, 0},
		{`{"$toString": true}`, ``, `"true"`, 0},
		{`{"$toString": {"$oid": "5ab9cbfa31c2ab715d42129e"}}`, ``, `"5ab9cbfa31c2ab715d42129e"`, 0},
		{`{"$toString": {"$date": "2018-03-27T04:08:58.111Z"}}`, ``, `"2018-03-27T04:08:58.111Z"`, 0},
		{`{"$toString": {"$numberDecimal": "1.50"}}`, ``, `"1.50"`, 0},
		{`{"$toString": null}`, ``, `null`, 0},
		{`{"$toString": [[1]]}`, ``, ``, 241},
		{`{"$toInt": "42"}`, ``, `{"$numberInt": "42"}`, 0},
		{`{"$toInt": 4.9}`, ``, `{"$numberInt": "4"}`, 0},
		{`{"$toInt": true}`, ``, `{"$numberInt": "1"}`, 0},
		{`{"$toInt": "4.5"}`, ``, ``, 241},
		{`{"$toInt": {"$numberLong": "9999999999"}}`, ``, ``, 241},
		{`{"$toLong": {"$date": "1970-01-01T00:00:01Z"}}`, ``, `{"$numberLong": "1000"}`, 0},
		{`{"$toDouble": "1.5e3"}`, ``, `1500.0`, 0},
		{`{"$toDouble": "abc"}`, ``, ``, 241},
		{`{"$toDouble": false}`, ``, `0.0`, 0},
		{`{"$toDecimal": 2.5}`, ``, `{"$numberDecimal": "2.50000000000000"}`, 0},
		{`{"$toDecimal": 3}`, ``, `{"$numberDecimal": "3"}`, 0},
		{`{"$toBool": 0}`, ``, `false`, 0},
		{`{"$toBool": "false"}`, ``, `true`, 0},
		{`{"$toBool": "$missing"}`, ``, `null`, 0},
		{`{"$toObjectId": "5ab9cbfa31c2ab715d42129e"}`, ``, `{"$oid": "5ab9cbfa31c2ab715d42129e"}`, 0},
		{`{"$toObjectId": "xyz"}`, ``, ``, 241},
		{`{"$toDate": {"$numberLong": "1000"}}`, ``, `{"$date": "1970-01-01T00:00:01Z"}`, 0},
		{`{"$toDate": "2018-03-20T11:00:00.5+01:00"}`, ``, `{"$date": "2018-03-20T10:00:00.5Z"}`, 0},
		{`{"$toDate": "2018-03-20"}`, ``, `{"$date": "2018-03-20T00:00:00Z"}`, 0},
		{`{"$toDate": 5}`, ``, ``, 241},
		{`{"$convert": {"input": "x", "to": "int", "onError": -1}}`, ``, `-1`, 0},
		{`{"$convert": {"input": null, "to": "int", "onNull": 0}}`, ``, `0`, 0},
		{`{"$convert": {"input": "5", "to": 16}}`, ``, `{"$numberInt": "5"}`, 0},
		{`{"$convert": {"input": "5", "to": "nope"}}`, ``, ``, 2},
		{`{"$convert": {"input": "5"}}`, ``, ``, CodeFailedToParse},
		{`{"$year": {"$date": "2020-02-29T23:30:00Z"}}`, ``, `2020`, 0},
		{`{"$month": {"date": {"$date": "2020-02-29T23:30:00Z"}, "timezone": "+01:00"}}`, ``, `3`, 0},
		{`{"$dayOfMonth": {"$date": "2020-02-29T23:30:00Z"}}`, ``, `29`, 0},
		{`{"$hour": {"date": {"$date": "2020-02-29T23:30:00Z"}, "timezone": "-0330"}}`, ``, `20`, 0},
		{`{"$minute": {"$date": "2020-02-29T23:30:00Z"}}`, ``, `30`, 0},
		{`{"$second": {"$date": "2020-02-29T23:30:15Z"}}`, ``, `15`, 0},
		{`{"$millisecond": {"$date": "2020-02-29T23:30:15.123Z"}}`, ``, `123`, 0},
		{`{"$dayOfWeek": {"$date": "2020-03-01T00:00:00Z"}}`, ``, `1`, 0},
		{`{"$dayOfYear": {"$date": "2020-12-31T00:00:00Z"}}`, ``, `366`, 0},
		{`{"$week": {"$date": "2020-01-01T00:00:00Z"}}`, ``, `0`, 0},
		{`{"$week": {"$date": "2020-01-05T00:00:00Z"}}`, ``, `1`, 0},
		{`{"$isoWeek": {"$date": "2021-01-01T00:00:00Z"}}`, ``, `53`, 0},
		{`{"$year": "$missing"}`, ``, `null`, 0},
		{`{"$year": "x"}`, ``, ``, 16006},
		{`{"$year": {"date": {"$date": "2020-01-01T00:00:00Z"}, "timezone": "Mars/Base"}}`, ``, ``, 40485},
		{`{"$year": {"$oid": "5ab9cbfa31c2ab715d42129e"}}`, ``, `2018`, 0},
		{`{"$dateToString": {"date": {"$date": "2020-02-03T04:05:06.007Z"}}}`, ``, `"2020-02-03T04:05:06.007Z"`, 0},
		{`{"$dateToString": {"date": {"$date": "2020-02-03T04:05:06.007Z"}, "format": "%Y/%m/%d %H:%M:%S.%L %j %w %u %U %V %G %%"}}`, ``, `"2020/02/03 04:05:06.007 034 2 1 05 06 2020 %"`, 0},
		{`{"$dateToString": {"date": {"$date": "2020-02-03T04:05:06Z"}, "format": "%H:%M %z %Z", "timezone": "+05:30"}}`, ``, `"09:35 +0530 330"`, 0},
		{`{"$dateToString": {"date": {"$date": "2020-02-03T04:05:06Z"}, "timezone": "-02:00"}}`, ``, `"2020-02-03T02:05:06.000"`, 0},
		{`{"$dateToString": {"date": {"$date": "2020-02-03T04:05:06Z"}, "timezone": "UTC"}}`, ``, `"2020-02-03T04:05:06.000Z"`, 0},
		{`{"$dateToString": {"date": null, "onNull": "none"}}`, ``, `"none"`, 0},
		{`{"$dateToString": {"date": "$missing"}}`, ``, `null`, 0},
		{`{"$dateToString": {"date": {"$date": "2020-02-03T04:05:06Z"}, "format": "%Q"}}`, ``, ``, 18536},
		{`{"$dateToString": {"format": "%Y"}}`, ``, ``, CodeFailedToParse},
	})
}

// TestExpressionNeverMutatesInput evaluates operators that build values
// and checks the input document is unchanged.
func TestExpressionNeverMutatesInput(t *testing.T) {
	doc := parseEJ(t, `{"a": [3, 1, 2], "o": {"x": 1}}`).(bson.D)
	before := canon(doc)
	for _, e := range []string{
		`{"$reverseArray": "$a"}`, `{"$setField": {"field": "x", "input": "$o", "value": 2}}`,
		`{"$mergeObjects": ["$o", {"y": 2}]}`, `{"$concatArrays": ["$a", [4]]}`,
		`{"$slice": ["$a", 2]}`, `{"$setUnion": ["$a"]}`,
	} {
		if _, err := evalString(t, e, doc); err != nil {
			t.Fatalf("%s: %v", e, err)
		}
	}
	if canon(doc) != before {
		t.Fatalf("input modified: %s", canon(doc))
	}
}

func TestExpressionNowDefault(t *testing.T) {
	e, err := CompileExpression("$$NOW")
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.Eval(bson.D{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := v.(bson.DateTime)
	if !ok || time.Since(d.Time()) > time.Minute {
		t.Fatalf("$$NOW = %v", v)
	}
}

func TestPipelineExpressionDepth(t *testing.T) {
	deep := func(n int, leaf string) string {
		return strings.Repeat(`{"$add": [1, `, n) + leaf + strings.Repeat(`]}`, n)
	}
	// Within the limit: evaluates.
	v, err := evalString(t, deep(40, "1"), bson.D{})
	if err != nil || canon(v) != canon(int32(41)) {
		t.Fatalf("depth 40: %v %v", canon(v), err)
	}
	// Far beyond it: an error, not a stack overflow.
	for _, n := range []int{101, 1000, 20000} {
		var expr any = int32(1)
		for i := 0; i < n; i++ {
			expr = bson.D{{Key: "$add", Value: bson.A{int32(1), expr}}}
		}
		if _, err := CompileExpression(expr); err == nil {
			t.Fatalf("depth %d: no error", n)
		}
		var obj any = int32(1)
		for i := 0; i < n; i++ {
			obj = bson.D{{Key: "a", Value: obj}}
		}
		if _, err := CompileExpression(obj); err == nil {
			t.Fatalf("object depth %d: no error", n)
		}
		var arr any = int32(1)
		for i := 0; i < n; i++ {
			arr = bson.A{arr}
		}
		if _, err := CompileExpression(arr); err == nil {
			t.Fatalf("array depth %d: no error", n)
		}
	}
	// In a pipeline stage too.
	var expr any = "$a"
	for i := 0; i < 200; i++ {
		expr = bson.D{{Key: "$toString", Value: expr}}
	}
	if _, err := CompilePipeline([]bson.D{{{Key: "$addFields", Value: bson.D{{Key: "x", Value: expr}}}}}); err == nil {
		t.Fatal("deep $addFields: no error")
	}
	var spec any = int32(1)
	for i := 0; i < 200; i++ {
		spec = bson.D{{Key: "a", Value: spec}}
	}
	if _, err := CompilePipeline([]bson.D{{{Key: "$project", Value: spec}}}); err == nil {
		t.Fatal("deep $project: no error")
	}
}

func TestExpressionUnsupportedGoValue(t *testing.T) {
	type custom struct{ A int }
	if _, err := CompileExpression(bson.M{"a": custom{1}}); err == nil {
		t.Fatal("want an error for a Go struct")
	}
	if _, err := CompilePipeline([]bson.D{{{Key: "$addFields", Value: bson.M{"a": custom{1}}}}}); err == nil {
		t.Fatal("want an error for a Go struct in a stage")
	}
}

func TestExpressionMisc(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$replaceOne": {"input": "a.b.c", "find": ".", "replacement": "-"}}`, ``, `"a-b.c"`, 0},
		{`{"$replaceAll": {"input": "a.b.c", "find": ".", "replacement": "-"}}`, ``, `"a-b-c"`, 0},
		{`{"$replaceAll": {"input": null, "find": ".", "replacement": "-"}}`, ``, `null`, 0},
		{`{"$replaceAll": {"input": 1, "find": ".", "replacement": "-"}}`, ``, ``, 51746},
		{`{"$bitAnd": [12, 10]}`, ``, `{"$numberInt": "8"}`, 0},
		{`{"$bitOr": [12, {"$numberLong": "3"}]}`, ``, `{"$numberLong": "15"}`, 0},
		{`{"$bitXor": [12, 10]}`, ``, `{"$numberInt": "6"}`, 0},
		{`{"$bitNot": 0}`, ``, `{"$numberInt": "-1"}`, 0},
		{`{"$bitAnd": [1, 1.5]}`, ``, ``, 14},
		{`{"$sin": 0}`, ``, `0.0`, 0},
		{`{"$acos": 2}`, ``, ``, 50989},
		{`{"$radiansToDegrees": 0}`, ``, `0.0`, 0},
		{`{"$atan2": [0, 1]}`, ``, `0.0`, 0},
		{`{"$binarySize": "héllo"}`, ``, `{"$numberInt": "6"}`, 0},
		{`{"$bsonSize": {"a": 1}}`, ``, `{"$numberInt": "12"}`, 0},
		{`{"$tsSecond": {"$timestamp": {"t": 5, "i": 2}}}`, ``, `{"$numberLong": "5"}`, 0},
		{`{"$tsIncrement": {"$timestamp": {"t": 5, "i": 2}}}`, ``, `{"$numberLong": "2"}`, 0},
		{`{"$rand": 1}`, ``, ``, CodeFailedToParse},
		{`{"$isNumber": {"$rand": {}}}`, ``, `true`, 0},
		{`{"$sortArray": {"input": [3, "a", 1, null], "sortBy": 1}}`, ``, `[null, 1, 3, "a"]`, 0},
		{`{"$sortArray": {"input": [3, 1, 2], "sortBy": -1}}`, ``, `[3, 2, 1]`, 0},
		{`{"$sortArray": {"input": null, "sortBy": 1}}`, ``, `null`, 0},
		{`{"$sortArray": {"input": 1, "sortBy": 1}}`, ``, ``, 2942504},
		{`{"$sortArray": {"input": [1], "sortBy": 2}}`, ``, ``, 2},
		{`{"$dateFromString": {"dateString": "2017-02-08T12:10:40.787Z"}}`, ``, `{"$date": "2017-02-08T12:10:40.787Z"}`, 0},
		{`{"$dateFromString": {"dateString": "2017-02-08T12:10:40", "timezone": "+02:00"}}`, ``, `{"$date": "2017-02-08T10:10:40Z"}`, 0},
		{`{"$dateFromString": {"dateString": "2017-02-08"}}`, ``, `{"$date": "2017-02-08T00:00:00Z"}`, 0},
		{`{"$dateFromString": {"dateString": "08/02/2017 13:05", "format": "%d/%m/%Y %H:%M"}}`, ``, `{"$date": "2017-02-08T13:05:00Z"}`, 0},
		{`{"$dateFromString": {"dateString": "2017-02-08 +0530", "format": "%Y-%m-%d %z"}}`, ``, `{"$date": "2017-02-07T18:30:00Z"}`, 0},
		{`{"$dateFromString": {"dateString": "nope"}}`, ``, ``, 241},
		{`{"$dateFromString": {"dateString": "nope", "onError": "bad"}}`, ``, `"bad"`, 0},
		{`{"$dateFromString": {"dateString": null, "onNull": "none"}}`, ``, `"none"`, 0},
		{`{"$dateFromString": {"dateString": "$missing"}}`, ``, `null`, 0},
		{`{"$dateFromString": {"dateString": "2017-13-01", "format": "%Y-%m-%d"}}`, ``, ``, 241},
		{`{"$firstN": {"input": [1, 2, 3], "n": 2}}`, ``, `[1, 2]`, 0},
		{`{"$lastN": {"input": [1, 2, 3], "n": 5}}`, ``, `[1, 2, 3]`, 0},
		{`{"$maxN": {"input": [1, null, 3, 2], "n": 2}}`, ``, `[3, 2]`, 0},
		{`{"$minN": {"input": [1, null, 3, 2], "n": 2}}`, ``, `[1, 2]`, 0},
		{`{"$firstN": {"input": "$missing", "n": 2}}`, ``, `null`, 0},
		{`{"$firstN": {"input": [1], "n": 0}}`, ``, ``, 5787908},
		{`{"$firstN": {"input": 1, "n": 1}}`, ``, ``, 5788200},
	})
}

func TestExpressionDateArithmetic(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$dateAdd": {"startDate": {"$date": "2020-01-31T10:00:00Z"}, "unit": "month", "amount": 1}}`, ``, `{"$date": "2020-02-29T10:00:00Z"}`, 0},
		{`{"$dateAdd": {"startDate": {"$date": "2020-01-31T10:00:00Z"}, "unit": "quarter", "amount": -1}}`, ``, `{"$date": "2019-10-31T10:00:00Z"}`, 0},
		{`{"$dateAdd": {"startDate": {"$date": "2020-01-01T00:00:00Z"}, "unit": "hour", "amount": {"$numberLong": "25"}}}`, ``, `{"$date": "2020-01-02T01:00:00Z"}`, 0},
		{`{"$dateSubtract": {"startDate": {"$date": "2020-03-01T00:00:00Z"}, "unit": "day", "amount": 1}}`, ``, `{"$date": "2020-02-29T00:00:00Z"}`, 0},
		{`{"$dateAdd": {"startDate": null, "unit": "day", "amount": 1}}`, ``, `null`, 0},
		{`{"$dateAdd": {"startDate": {"$date": "2020-03-01T00:00:00Z"}, "unit": "day", "amount": 1.5}}`, ``, ``, 5166405},
		{`{"$dateAdd": {"startDate": {"$date": "2020-03-01T00:00:00Z"}, "unit": "fortnight", "amount": 1}}`, ``, ``, CodeFailedToParse},
		{`{"$dateDiff": {"startDate": {"$date": "2020-12-31T23:59:00Z"}, "endDate": {"$date": "2021-01-01T00:01:00Z"}, "unit": "year"}}`, ``, `{"$numberLong": "1"}`, 0},
		{`{"$dateDiff": {"startDate": {"$date": "2020-01-01T00:00:00Z"}, "endDate": {"$date": "2020-03-15T00:00:00Z"}, "unit": "month"}}`, ``, `{"$numberLong": "2"}`, 0},
		{`{"$dateDiff": {"startDate": {"$date": "2020-01-01T10:00:00Z"}, "endDate": {"$date": "2020-01-03T09:00:00Z"}, "unit": "day"}}`, ``, `{"$numberLong": "2"}`, 0},
		{`{"$dateDiff": {"startDate": {"$date": "2020-01-01T10:30:00Z"}, "endDate": {"$date": "2020-01-01T11:10:00Z"}, "unit": "hour"}}`, ``, `{"$numberLong": "1"}`, 0},
		{`{"$dateDiff": {"startDate": {"$date": "2021-01-02T00:00:00Z"}, "endDate": {"$date": "2021-01-03T00:00:00Z"}, "unit": "week"}}`, ``, `{"$numberLong": "1"}`, 0},
		{`{"$dateDiff": {"startDate": {"$date": "2021-01-02T00:00:00Z"}, "endDate": {"$date": "2021-01-03T00:00:00Z"}, "unit": "week", "startOfWeek": "monday"}}`, ``, `{"$numberLong": "0"}`, 0},
		{`{"$dateDiff": {"startDate": {"$date": "2020-01-03T00:00:00Z"}, "endDate": {"$date": "2020-01-01T00:00:00Z"}, "unit": "day"}}`, ``, `{"$numberLong": "-2"}`, 0},
		{`{"$dateTrunc": {"date": {"$date": "2020-05-17T13:45:12.345Z"}, "unit": "month"}}`, ``, `{"$date": "2020-05-01T00:00:00Z"}`, 0},
		{`{"$dateTrunc": {"date": {"$date": "2020-05-17T13:45:12.345Z"}, "unit": "quarter"}}`, ``, `{"$date": "2020-04-01T00:00:00Z"}`, 0},
		{`{"$dateTrunc": {"date": {"$date": "2020-05-17T13:45:12.345Z"}, "unit": "week"}}`, ``, `{"$date": "2020-05-17T00:00:00Z"}`, 0},
		{`{"$dateTrunc": {"date": {"$date": "2020-05-17T13:45:12.345Z"}, "unit": "hour", "binSize": 6}}`, ``, `{"$date": "2020-05-17T12:00:00Z"}`, 0},
		{`{"$dateTrunc": {"date": {"$date": "2020-05-17T13:45:12.345Z"}, "unit": "day", "timezone": "+05:00"}}`, ``, `{"$date": "2020-05-16T19:00:00Z"}`, 0},
		{`{"$dateTrunc": {"date": {"$date": "2020-05-17T13:45:12.345Z"}, "unit": "second"}}`, ``, `{"$date": "2020-05-17T13:45:12Z"}`, 0},
		{`{"$dateTrunc": {"date": {"$date": "2020-05-17T13:45:12.345Z"}, "unit": "day", "binSize": 0}}`, ``, ``, 5439017},
		{`{"$dateToParts": {"date": {"$date": "2017-01-01T01:29:09.123Z"}}}`, ``, `{"year": 2017, "month": 1, "day": 1, "hour": 1, "minute": 29, "second": 9, "millisecond": 123}`, 0},
		{`{"$dateToParts": {"date": {"$date": "2017-01-01T01:29:09.123Z"}, "timezone": "-05:00", "iso8601": true}}`, ``, `{"isoWeekYear": 2016, "isoWeek": 52, "isoDayOfWeek": 6, "hour": 20, "minute": 29, "second": 9, "millisecond": 123}`, 0},
		{`{"$dateToParts": {"date": null}}`, ``, `null`, 0},
		{`{"$dateFromParts": {"year": 2017, "month": 2, "day": 8, "hour": 12}}`, ``, `{"$date": "2017-02-08T12:00:00Z"}`, 0},
		{`{"$dateFromParts": {"year": 2017, "month": 14, "day": 1, "timezone": "+01:00"}}`, ``, `{"$date": "2018-01-31T23:00:00Z"}`, 0},
		{`{"$dateFromParts": {"year": 2017, "month": 3, "day": 0}}`, ``, `{"$date": "2017-02-28T00:00:00Z"}`, 0},
		{`{"$dateFromParts": {"isoWeekYear": 2017, "isoWeek": 6, "isoDayOfWeek": 3}}`, ``, `{"$date": "2017-02-08T00:00:00Z"}`, 0},
		{`{"$dateFromParts": {"year": 0}}`, ``, ``, 40523},
		{`{"$dateFromParts": {"year": 2017, "month": 1.5}}`, ``, ``, 40515},
		{`{"$dateFromParts": {"year": 2017, "isoWeek": 1}}`, ``, ``, 40489},
		{`{"$dateFromParts": {"month": 1}}`, ``, ``, 40516},
		{`{"$dateFromParts": {"year": null}}`, ``, `null`, 0},
	})
}

func TestExpressionGoVars(t *testing.T) {
	e, err := CompileExpression(bson.D{{Key: "$add", Value: bson.A{"$$n", "$$m.k"}}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.Eval(nil, map[string]any{"n": 2, "m": bson.M{"k": 3}})
	if err != nil || canon(v) != canon(int32(5)) {
		t.Fatalf("got %s, %v", canon(v), err)
	}
	if _, err := e.Eval(nil, map[string]any{"n": struct{}{}}); err == nil {
		t.Fatal("want an error for a Go struct variable")
	}
}
