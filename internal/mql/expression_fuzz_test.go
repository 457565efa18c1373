package mql

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzExpression checks that compiling and evaluating any expression, on
// any document, returns a value or an error and never panics.
func FuzzExpression(f *testing.F) {
	seeds := [][2]string{
		{`{"$add": ["$a", 1]}`, `{"a": 1}`},
		{`{"$divide": ["$a", "$b"]}`, `{"a": {"$numberDecimal": "1"}, "b": 0}`},
		{`{"$substrBytes": ["$s", 1, 2]}`, `{"s": "héllo"}`},
		{`{"$map": {"input": "$a", "in": {"$multiply": ["$$this", 2]}}}`, `{"a": [1, 2.5]}`},
		{`{"$reduce": {"input": "$a", "initialValue": [], "in": {"$concatArrays": ["$$value", ["$$this"]]}}}`, `{"a": [[1], 2]}`},
		{`{"$let": {"vars": {"x": "$a.b"}, "in": {"$size": "$$x"}}}`, `{"a": [{"b": 1}]}`},
		{`{"$dateToString": {"date": "$d", "format": "%Y-%m-%d %H %z", "timezone": "+05:30"}}`, `{"d": {"$date": "2020-01-01T00:00:00Z"}}`},
		{`{"$convert": {"input": "$a", "to": "decimal", "onError": 0}}`, `{"a": "1e400"}`},
		{`{"$round": ["$a", -20]}`, `{"a": {"$numberLong": "9223372036854775807"}}`},
		{`{"$pow": ["$a", 64]}`, `{"a": {"$numberDecimal": "10"}}`},
		{`{"$range": [0, 10, "$s"]}`, `{"s": -1}`},
		{`{"$regexFindAll": {"input": "$s", "regex": "(a)|b"}}`, `{"s": "ab"}`},
		{`{"$switch": {"branches": [{"case": "$a", "then": "$$REMOVE"}], "default": "$$ROOT"}}`, `{"a": 0}`},
		{`{"$arrayToObject": "$a"}`, `{"a": [["k", 1], ["k", 2]]}`},
		{`{"$zip": {"inputs": ["$a", "$b"], "useLongestLength": true}}`, `{"a": [1], "b": []}`},
		{`{"$mod": ["$a", {"$numberDecimal": "-0"}]}`, `{"a": 5}`},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, exprJSON, docJSON string) {
		var e, d bson.D
		if bson.UnmarshalExtJSON([]byte(`{"e":`+exprJSON+`}`), false, &e) != nil {
			return
		}
		if bson.UnmarshalExtJSON([]byte(docJSON), false, &d) != nil {
			d = bson.D{}
		}
		expr, err := CompileExpression(e[0].Value)
		if err != nil {
			return
		}
		_, _ = expr.Eval(d, nil)
		_, _ = expr.Eval(bson.D{}, map[string]any{"x": int32(1)})
	})
}
