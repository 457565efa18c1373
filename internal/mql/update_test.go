package mql

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// updEJ parses relaxed or canonical Extended JSON into a bson.D.
func updEJ(t testing.TB, s string) bson.D {
	t.Helper()
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return d
}

func updShow(v any) string {
	b, err := bson.MarshalExtJSON(v, true, false)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// updCase is one update scenario: apply update to doc and expect want (or
// an error with code). unchanged means the update must report no
// modification and return doc as it was.
type updCase struct {
	name      string
	doc       string
	update    string
	pos       int // positional index + 1; 0 means no match (-1)
	insert    bool
	want      string
	unchanged bool
	code      int
}

func runUpdCases(t *testing.T, cases []updCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := updEJ(t, tc.doc)
			before := DeepCopy(doc)
			u, err := CompileUpdate(updEJ(t, tc.update), UpdateOptions{})
			var got bson.D
			var mod bool
			if err == nil {
				got, mod, err = u.Apply(doc, ApplyOptions{Position: tc.pos - 1, Insert: tc.insert, Now: time.Unix(1700000000, 0)})
			}
			if !Identical(before, doc) {
				t.Fatalf("input modified: %s", updShow(doc))
			}
			checkUpdResult(t, got, mod, err, tc.code, tc.want, tc.unchanged, doc)
		})
	}
}

func checkUpdResult(t *testing.T, got bson.D, mod bool, err error, code int, want string, unchanged bool, doc bson.D) {
	t.Helper()
	if code != 0 {
		if err == nil {
			t.Fatalf("want error %d, got %s", code, updShow(got))
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != code {
			t.Fatalf("want error code %d, got %v (%#v)", code, err, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if unchanged {
		if mod || !Identical(got, doc) {
			t.Fatalf("want unchanged, got modified=%v %s", mod, updShow(got))
		}
		return
	}
	w := updEJ(t, want)
	if !Identical(got, w) {
		t.Fatalf("got  %s\nwant %s", updShow(got), updShow(w))
	}
	if !mod {
		t.Fatalf("result right but modified=false")
	}
}

func TestUpdateSet(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "new field", doc: `{"_id":1}`, update: `{"$set":{"a":1}}`, want: `{"_id":1,"a":1}`},
		{name: "existing keeps place", doc: `{"_id":1,"a":1,"b":2}`, update: `{"$set":{"a":5}}`, want: `{"_id":1,"a":5,"b":2}`},
		{name: "same value", doc: `{"_id":1,"a":1}`, update: `{"$set":{"a":1}}`, unchanged: true},
		{name: "same value other type", doc: `{"_id":1,"a":1}`, update: `{"$set":{"a":1.0}}`, want: `{"_id":1,"a":{"$numberDouble":"1.0"}}`},
		{name: "same document", doc: `{"_id":1,"a":{"x":1,"y":[1,2]}}`, update: `{"$set":{"a":{"x":1,"y":[1,2]}}}`, unchanged: true},
		{name: "field order is a change", doc: `{"_id":1,"a":{"x":1,"y":2}}`, update: `{"$set":{"a":{"y":2,"x":1}}}`, want: `{"_id":1,"a":{"y":2,"x":1}}`},
		{name: "dotted creates documents", doc: `{"_id":1}`, update: `{"$set":{"a.b.c":1}}`, want: `{"_id":1,"a":{"b":{"c":1}}}`},
		{name: "dotted into existing", doc: `{"_id":1,"a":{"x":1}}`, update: `{"$set":{"a.b":2}}`, want: `{"_id":1,"a":{"x":1,"b":2}}`},
		{name: "new fields lexicographic", doc: `{"_id":1}`, update: `{"$set":{"z":1,"a":1,"m":1}}`, want: `{"_id":1,"a":1,"m":1,"z":1}`},
		{name: "new fields numeric order", doc: `{"_id":1}`, update: `{"$set":{"a.10":1,"a.9":1}}`, want: `{"_id":1,"a":{"9":1,"10":1}}`},
		{name: "order across operators", doc: `{"_id":1}`, update: `{"$set":{"b":1},"$inc":{"a":1}}`, want: `{"_id":1,"a":1,"b":1}`},
		{name: "array index", doc: `{"_id":1,"a":[1,2,3]}`, update: `{"$set":{"a.1":5}}`, want: `{"_id":1,"a":[1,5,3]}`},
		{name: "array pads with null", doc: `{"_id":1,"a":[1]}`, update: `{"$set":{"a.3":5}}`, want: `{"_id":1,"a":[1,null,null,5]}`},
		{name: "array padding limit", doc: `{"_id":1,"a":[]}`, update: `{"$set":{"a.1500001":1}}`, code: CodeBadValue},
		{name: "leading zero is not an index", doc: `{"_id":1,"a":[1,2]}`, update: `{"$set":{"a.01":5}}`, code: CodePathNotViable},
		{name: "array index into document", doc: `{"_id":1,"a":[{"b":1},{"b":2}]}`, update: `{"$set":{"a.1.b":3}}`, want: `{"_id":1,"a":[{"b":1},{"b":3}]}`},
		{name: "numeric name on missing makes document", doc: `{"_id":1}`, update: `{"$set":{"a.0":1}}`, want: `{"_id":1,"a":{"0":1}}`},
		{name: "numeric name on document", doc: `{"_id":1,"a":{"x":1}}`, update: `{"$set":{"a.0":1}}`, want: `{"_id":1,"a":{"x":1,"0":1}}`},
		{name: "scalar in the way", doc: `{"_id":1,"a":1}`, update: `{"$set":{"a.b":1}}`, code: CodePathNotViable},
		{name: "null in the way", doc: `{"_id":1,"a":null}`, update: `{"$set":{"a.b":1}}`, code: CodePathNotViable},
		{name: "array in the way", doc: `{"_id":1,"a":[{"b":1}]}`, update: `{"$set":{"a.b":1}}`, code: CodePathNotViable},
		{name: "empty operand", doc: `{"_id":1,"a":1}`, update: `{"$set":{}}`, unchanged: true},
		{name: "id same value", doc: `{"_id":1,"a":1}`, update: `{"$set":{"_id":1}}`, unchanged: true},
		{name: "id changed", doc: `{"_id":1}`, update: `{"$set":{"_id":2}}`, code: CodeImmutableField},
		{name: "id subfield changed", doc: `{"_id":{"x":1}}`, update: `{"$set":{"_id.x":2}}`, code: CodeImmutableField},
		{name: "id type changed", doc: `{"_id":1}`, update: `{"$set":{"_id":1.0}}`, code: CodeImmutableField},
		{name: "value keeps dollar fields nested", doc: `{"_id":1}`, update: `{"$set":{"a":{"b":{"c":1}}}}`, want: `{"_id":1,"a":{"b":{"c":1}}}`},
	})
}

func TestUpdateUnset(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "remove", doc: `{"_id":1,"a":1,"b":2}`, update: `{"$unset":{"a":""}}`, want: `{"_id":1,"b":2}`},
		{name: "missing", doc: `{"_id":1}`, update: `{"$unset":{"a":1}}`, unchanged: true},
		{name: "dotted", doc: `{"_id":1,"a":{"b":1,"c":2}}`, update: `{"$unset":{"a.b":1}}`, want: `{"_id":1,"a":{"c":2}}`},
		{name: "dotted missing parent", doc: `{"_id":1}`, update: `{"$unset":{"a.b":1}}`, unchanged: true},
		{name: "through scalar", doc: `{"_id":1,"a":5}`, update: `{"$unset":{"a.b":1}}`, unchanged: true},
		{name: "array element becomes null", doc: `{"_id":1,"a":[1,2,3]}`, update: `{"$unset":{"a.1":1}}`, want: `{"_id":1,"a":[1,null,3]}`},
		{name: "array element past end", doc: `{"_id":1,"a":[1]}`, update: `{"$unset":{"a.5":1}}`, unchanged: true},
		{name: "array non-numeric", doc: `{"_id":1,"a":[{"b":1}]}`, update: `{"$unset":{"a.b":1}}`, unchanged: true},
		{name: "id", doc: `{"_id":1}`, update: `{"$unset":{"_id":1}}`, code: CodeImmutableField},
		{name: "several", doc: `{"_id":1,"a":1,"b":2,"c":3}`, update: `{"$unset":{"c":1,"a":1}}`, want: `{"_id":1,"b":2}`},
	})
}

func TestUpdateArithmetic(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "inc int", doc: `{"_id":1,"n":1}`, update: `{"$inc":{"n":2}}`, want: `{"_id":1,"n":3}`},
		{name: "inc missing", doc: `{"_id":1}`, update: `{"$inc":{"n":-2}}`, want: `{"_id":1,"n":-2}`},
		{name: "inc zero", doc: `{"_id":1,"n":5}`, update: `{"$inc":{"n":0}}`, unchanged: true},
		{name: "inc int32 overflow widens", doc: `{"_id":1,"n":2147483647}`, update: `{"$inc":{"n":1}}`, want: `{"_id":1,"n":{"$numberLong":"2147483648"}}`},
		{name: "inc int64 overflow", doc: `{"_id":1,"n":{"$numberLong":"9223372036854775807"}}`, update: `{"$inc":{"n":1}}`, code: CodeBadValue},
		{name: "inc int by long", doc: `{"_id":1,"n":1}`, update: `{"$inc":{"n":{"$numberLong":"1"}}}`, want: `{"_id":1,"n":{"$numberLong":"2"}}`},
		{name: "inc int by double", doc: `{"_id":1,"n":1}`, update: `{"$inc":{"n":0.5}}`, want: `{"_id":1,"n":1.5}`},
		{name: "inc decimal", doc: `{"_id":1,"n":{"$numberDecimal":"1.1"}}`, update: `{"$inc":{"n":2}}`, want: `{"_id":1,"n":{"$numberDecimal":"3.1"}}`},
		{name: "inc int by decimal", doc: `{"_id":1,"n":1}`, update: `{"$inc":{"n":{"$numberDecimal":"0.25"}}}`, want: `{"_id":1,"n":{"$numberDecimal":"1.25"}}`},
		{name: "inc string", doc: `{"_id":1,"n":"x"}`, update: `{"$inc":{"n":1}}`, code: CodeTypeMismatch},
		{name: "inc by string", doc: `{"_id":1,"n":1}`, update: `{"$inc":{"n":"1"}}`, code: CodeTypeMismatch},
		{name: "inc null", doc: `{"_id":1,"n":null}`, update: `{"$inc":{"n":1}}`, code: CodeTypeMismatch},
		{name: "inc dotted", doc: `{"_id":1,"a":{"n":1}}`, update: `{"$inc":{"a.n":1,"a.m":1}}`, want: `{"_id":1,"a":{"n":2,"m":1}}`},
		{name: "inc array element", doc: `{"_id":1,"a":[1,2]}`, update: `{"$inc":{"a.0":10}}`, want: `{"_id":1,"a":[11,2]}`},
		{name: "mul", doc: `{"_id":1,"n":3}`, update: `{"$mul":{"n":4}}`, want: `{"_id":1,"n":12}`},
		{name: "mul missing int", doc: `{"_id":1}`, update: `{"$mul":{"n":4}}`, want: `{"_id":1,"n":0}`},
		{name: "mul missing long", doc: `{"_id":1}`, update: `{"$mul":{"n":{"$numberLong":"4"}}}`, want: `{"_id":1,"n":{"$numberLong":"0"}}`},
		{name: "mul missing double", doc: `{"_id":1}`, update: `{"$mul":{"n":2.5}}`, want: `{"_id":1,"n":{"$numberDouble":"0.0"}}`},
		{name: "mul by one", doc: `{"_id":1,"n":7}`, update: `{"$mul":{"n":1}}`, unchanged: true},
		{name: "mul int by double", doc: `{"_id":1,"n":3}`, update: `{"$mul":{"n":1.5}}`, want: `{"_id":1,"n":4.5}`},
		{name: "mul overflow widens", doc: `{"_id":1,"n":65536}`, update: `{"$mul":{"n":65536}}`, want: `{"_id":1,"n":{"$numberLong":"4294967296"}}`},
		{name: "mul long overflow", doc: `{"_id":1,"n":{"$numberLong":"9223372036854775807"}}`, update: `{"$mul":{"n":2}}`, code: CodeBadValue},
		{name: "mul by string", doc: `{"_id":1,"n":1}`, update: `{"$mul":{"n":"2"}}`, code: CodeTypeMismatch},
		{name: "mul bool", doc: `{"_id":1,"n":true}`, update: `{"$mul":{"n":2}}`, code: CodeTypeMismatch},
	})
}

func TestUpdateMinMax(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "min lower", doc: `{"_id":1,"a":5}`, update: `{"$min":{"a":3}}`, want: `{"_id":1,"a":3}`},
		{name: "min higher", doc: `{"_id":1,"a":5}`, update: `{"$min":{"a":7}}`, unchanged: true},
		{name: "min equal other type", doc: `{"_id":1,"a":5}`, update: `{"$min":{"a":5.0}}`, unchanged: true},
		{name: "min missing", doc: `{"_id":1}`, update: `{"$min":{"a":7}}`, want: `{"_id":1,"a":7}`},
		{name: "min across types", doc: `{"_id":1,"a":"x"}`, update: `{"$min":{"a":1}}`, want: `{"_id":1,"a":1}`},
		{name: "min null lowest", doc: `{"_id":1,"a":null}`, update: `{"$min":{"a":1}}`, unchanged: true},
		{name: "max higher", doc: `{"_id":1,"a":5}`, update: `{"$max":{"a":9}}`, want: `{"_id":1,"a":9}`},
		{name: "max lower", doc: `{"_id":1,"a":5}`, update: `{"$max":{"a":1}}`, unchanged: true},
		{name: "max dates", doc: `{"_id":1,"d":{"$date":"2020-01-01T00:00:00Z"}}`, update: `{"$max":{"d":{"$date":"2021-01-01T00:00:00Z"}}}`, want: `{"_id":1,"d":{"$date":"2021-01-01T00:00:00Z"}}`},
	})
}

func TestUpdateRename(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "simple", doc: `{"_id":1,"a":1,"b":2}`, update: `{"$rename":{"a":"c"}}`, want: `{"_id":1,"b":2,"c":1}`},
		{name: "target exists moves to end", doc: `{"_id":1,"a":1,"b":2,"c":3}`, update: `{"$rename":{"a":"b"}}`, want: `{"_id":1,"c":3,"b":1}`},
		{name: "missing source", doc: `{"_id":1,"b":2}`, update: `{"$rename":{"a":"b"}}`, unchanged: true},
		{name: "into subdocument", doc: `{"_id":1,"a":1,"s":{"x":1}}`, update: `{"$rename":{"a":"s.y"}}`, want: `{"_id":1,"s":{"x":1,"y":1}}`},
		{name: "out of subdocument", doc: `{"_id":1,"s":{"x":1,"y":2}}`, update: `{"$rename":{"s.x":"x"}}`, want: `{"_id":1,"s":{"y":2},"x":1}`},
		{name: "creates parents", doc: `{"_id":1,"a":1}`, update: `{"$rename":{"a":"p.q"}}`, want: `{"_id":1,"p":{"q":1}}`},
		{name: "same", doc: `{"_id":1,"a":1}`, update: `{"$rename":{"a":"a"}}`, code: CodeBadValue},
		{name: "same path", doc: `{"_id":1,"a":1}`, update: `{"$rename":{"a":"a.b"}}`, code: CodeBadValue},
		{name: "same path reverse", doc: `{"_id":1,"a":{"b":1}}`, update: `{"$rename":{"a.b":"a"}}`, code: CodeBadValue},
		{name: "not a string", doc: `{"_id":1,"a":1}`, update: `{"$rename":{"a":1}}`, code: CodeBadValue},
		{name: "dynamic source", doc: `{"_id":1,"a":[1]}`, update: `{"$rename":{"a.$":"b"}}`, code: CodeBadValue},
		{name: "dynamic target", doc: `{"_id":1,"a":1}`, update: `{"$rename":{"a":"b.$[]"}}`, code: CodeBadValue},
		{name: "source in array", doc: `{"_id":1,"a":[{"b":1}]}`, update: `{"$rename":{"a.0.b":"c"}}`, code: CodeBadValue},
		{name: "source through array by name", doc: `{"_id":1,"a":[{"b":1}]}`, update: `{"$rename":{"a.b":"c"}}`, unchanged: true},
		{name: "target in array", doc: `{"_id":1,"c":1,"a":[{"b":1}]}`, update: `{"$rename":{"c":"a.0.b"}}`, code: CodeBadValue},
		{name: "from id", doc: `{"_id":1}`, update: `{"$rename":{"_id":"x"}}`, code: CodeImmutableField},
		{name: "to id", doc: `{"_id":1,"a":2}`, update: `{"$rename":{"a":"_id"}}`, code: CodeImmutableField},
		{name: "conflict with set", doc: `{"_id":1,"a":1}`, update: `{"$rename":{"a":"b"},"$set":{"b":1}}`, code: CodeConflictingUpdateOperator},
		{name: "target scalar parent", doc: `{"_id":1,"a":1,"b":1}`, update: `{"$rename":{"a":"b.c"}}`, code: CodePathNotViable},
		{name: "array value moves", doc: `{"_id":1,"a":[1,2]}`, update: `{"$rename":{"a":"b"}}`, want: `{"_id":1,"b":[1,2]}`},
	})
}

func TestUpdateCurrentDateAndSetOnInsert(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "date", doc: `{"_id":1}`, update: `{"$currentDate":{"d":true}}`, want: `{"_id":1,"d":{"$date":"2023-11-14T22:13:20Z"}}`},
		{name: "date false", doc: `{"_id":1}`, update: `{"$currentDate":{"d":false}}`, want: `{"_id":1,"d":{"$date":"2023-11-14T22:13:20Z"}}`},
		{name: "date type", doc: `{"_id":1,"d":1}`, update: `{"$currentDate":{"d":{"$type":"date"}}}`, want: `{"_id":1,"d":{"$date":"2023-11-14T22:13:20Z"}}`},
		{name: "bad type", doc: `{"_id":1}`, update: `{"$currentDate":{"d":{"$type":"string"}}}`, code: CodeBadValue},
		{name: "bad operand", doc: `{"_id":1}`, update: `{"$currentDate":{"d":1}}`, code: CodeBadValue},
		{name: "setOnInsert update", doc: `{"_id":1}`, update: `{"$setOnInsert":{"a":1}}`, unchanged: true},
		{name: "setOnInsert insert", doc: `{"_id":1}`, update: `{"$setOnInsert":{"a":1},"$set":{"b":2}}`, insert: true, want: `{"_id":1,"a":1,"b":2}`},
		{name: "setOnInsert under scalar update", doc: `{"_id":1,"a":1}`, update: `{"$setOnInsert":{"a.b":1}}`, unchanged: true},
		{name: "insert moves new id first", doc: `{"x":1}`, update: `{"$set":{"_id":5,"b":1}}`, insert: true, want: `{"_id":5,"x":1,"b":1}`},
		{name: "insert keeps seed id", doc: `{"_id":1}`, update: `{"$set":{"_id":2}}`, insert: true, code: CodeImmutableField},
		{name: "array id", doc: `{"x":1}`, update: `{"$set":{"_id":[1]}}`, insert: true, code: 53},
	})
	u, err := CompileUpdate(updEJ(t, `{"$currentDate":{"t":{"$type":"timestamp"}}}`), UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := u.Apply(bson.D{}, ApplyOptions{Position: -1, Now: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if ts, ok := Get(got, "t").(bson.Timestamp); !ok || ts.T != 1700000000 {
		t.Fatalf("timestamp: %s", updShow(got))
	}
}

func TestUpdatePush(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "append", doc: `{"_id":1,"a":[1]}`, update: `{"$push":{"a":2}}`, want: `{"_id":1,"a":[1,2]}`},
		{name: "append array value", doc: `{"_id":1,"a":[1]}`, update: `{"$push":{"a":[2,3]}}`, want: `{"_id":1,"a":[1,[2,3]]}`},
		{name: "missing", doc: `{"_id":1}`, update: `{"$push":{"a":2}}`, want: `{"_id":1,"a":[2]}`},
		{name: "not array", doc: `{"_id":1,"a":1}`, update: `{"$push":{"a":2}}`, code: CodeBadValue},
		{name: "each", doc: `{"_id":1,"a":[1]}`, update: `{"$push":{"a":{"$each":[2,3]}}}`, want: `{"_id":1,"a":[1,2,3]}`},
		{name: "each empty", doc: `{"_id":1,"a":[1]}`, update: `{"$push":{"a":{"$each":[]}}}`, unchanged: true},
		{name: "each empty missing", doc: `{"_id":1}`, update: `{"$push":{"a":{"$each":[]}}}`, want: `{"_id":1,"a":[]}`},
		{name: "position 0", doc: `{"_id":1,"a":[1,2]}`, update: `{"$push":{"a":{"$each":[9],"$position":0}}}`, want: `{"_id":1,"a":[9,1,2]}`},
		{name: "position negative", doc: `{"_id":1,"a":[1,2,3]}`, update: `{"$push":{"a":{"$each":[9],"$position":-1}}}`, want: `{"_id":1,"a":[1,2,9,3]}`},
		{name: "position far negative", doc: `{"_id":1,"a":[1,2]}`, update: `{"$push":{"a":{"$each":[9],"$position":-10}}}`, want: `{"_id":1,"a":[9,1,2]}`},
		{name: "position past end", doc: `{"_id":1,"a":[1,2]}`, update: `{"$push":{"a":{"$each":[9],"$position":10}}}`, want: `{"_id":1,"a":[1,2,9]}`},
		{name: "slice", doc: `{"_id":1,"a":[1,2]}`, update: `{"$push":{"a":{"$each":[3,4],"$slice":3}}}`, want: `{"_id":1,"a":[1,2,3]}`},
		{name: "slice negative", doc: `{"_id":1,"a":[1,2]}`, update: `{"$push":{"a":{"$each":[3,4],"$slice":-2}}}`, want: `{"_id":1,"a":[3,4]}`},
		{name: "slice zero", doc: `{"_id":1,"a":[1,2]}`, update: `{"$push":{"a":{"$each":[3],"$slice":0}}}`, want: `{"_id":1,"a":[]}`},
		{name: "slice no change", doc: `{"_id":1,"a":[1,2]}`, update: `{"$push":{"a":{"$each":[],"$slice":5}}}`, unchanged: true},
		{name: "sort asc", doc: `{"_id":1,"a":[3,1]}`, update: `{"$push":{"a":{"$each":[2],"$sort":1}}}`, want: `{"_id":1,"a":[1,2,3]}`},
		{name: "sort desc slice", doc: `{"_id":1,"a":[3,1]}`, update: `{"$push":{"a":{"$each":[2],"$sort":-1,"$slice":2}}}`, want: `{"_id":1,"a":[3,2]}`},
		{name: "sort mixed types", doc: `{"_id":1,"a":["b",2,null]}`, update: `{"$push":{"a":{"$each":[{"x":1}],"$sort":1}}}`, want: `{"_id":1,"a":[null,2,"b",{"x":1}]}`},
		{name: "sort by field", doc: `{"_id":1,"a":[{"s":3,"n":"c"},{"s":1,"n":"a"}]}`, update: `{"$push":{"a":{"$each":[{"s":2,"n":"b"}],"$sort":{"s":1}}}}`, want: `{"_id":1,"a":[{"s":1,"n":"a"},{"s":2,"n":"b"},{"s":3,"n":"c"}]}`},
		{name: "sort by field desc missing last", doc: `{"_id":1,"a":[{"s":3},{"t":1},{"s":5}]}`, update: `{"$push":{"a":{"$each":[],"$sort":{"s":-1}}}}`, want: `{"_id":1,"a":[{"s":5},{"s":3},{"t":1}]}`},
		{name: "sort by dotted field", doc: `{"_id":1,"a":[{"p":{"q":2}},{"p":{"q":1}}]}`, update: `{"$push":{"a":{"$each":[],"$sort":{"p.q":1}}}}`, want: `{"_id":1,"a":[{"p":{"q":1}},{"p":{"q":2}}]}`},
		{name: "sort already sorted", doc: `{"_id":1,"a":[1,2]}`, update: `{"$push":{"a":{"$each":[],"$sort":1}}}`, unchanged: true},
		{name: "each not array", doc: `{"_id":1}`, update: `{"$push":{"a":{"$each":1}}}`, code: CodeBadValue},
		{name: "slice not integer", doc: `{"_id":1}`, update: `{"$push":{"a":{"$each":[1],"$slice":1.5}}}`, code: CodeBadValue},
		{name: "sort invalid", doc: `{"_id":1}`, update: `{"$push":{"a":{"$each":[1],"$sort":2}}}`, code: CodeBadValue},
		{name: "sort empty", doc: `{"_id":1}`, update: `{"$push":{"a":{"$each":[1],"$sort":{}}}}`, code: CodeBadValue},
		{name: "position not integer", doc: `{"_id":1}`, update: `{"$push":{"a":{"$each":[1],"$position":"x"}}}`, code: CodeBadValue},
		{name: "unknown clause", doc: `{"_id":1}`, update: `{"$push":{"a":{"$each":[1],"$foo":1}}}`, code: CodeBadValue},
		{name: "dotted", doc: `{"_id":1,"s":{"a":[1]}}`, update: `{"$push":{"s.a":2}}`, want: `{"_id":1,"s":{"a":[1,2]}}`},
	})
}

func TestUpdateAddToSet(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "add", doc: `{"_id":1,"a":[1]}`, update: `{"$addToSet":{"a":2}}`, want: `{"_id":1,"a":[1,2]}`},
		{name: "present", doc: `{"_id":1,"a":[1,2]}`, update: `{"$addToSet":{"a":2}}`, unchanged: true},
		{name: "present other numeric type", doc: `{"_id":1,"a":[1,2]}`, update: `{"$addToSet":{"a":2.0}}`, unchanged: true},
		{name: "document field order matters", doc: `{"_id":1,"a":[{"x":1,"y":2}]}`, update: `{"$addToSet":{"a":{"y":2,"x":1}}}`, want: `{"_id":1,"a":[{"x":1,"y":2},{"y":2,"x":1}]}`},
		{name: "missing", doc: `{"_id":1}`, update: `{"$addToSet":{"a":1}}`, want: `{"_id":1,"a":[1]}`},
		{name: "each", doc: `{"_id":1,"a":[1]}`, update: `{"$addToSet":{"a":{"$each":[1,2,2,3]}}}`, want: `{"_id":1,"a":[1,2,3]}`},
		{name: "each missing", doc: `{"_id":1}`, update: `{"$addToSet":{"a":{"$each":[2,2]}}}`, want: `{"_id":1,"a":[2]}`},
		{name: "array value", doc: `{"_id":1,"a":[[1]]}`, update: `{"$addToSet":{"a":[1]}}`, unchanged: true},
		{name: "not array", doc: `{"_id":1,"a":"x"}`, update: `{"$addToSet":{"a":1}}`, code: CodeBadValue},
		{name: "each not array", doc: `{"_id":1}`, update: `{"$addToSet":{"a":{"$each":1}}}`, code: CodeBadValue},
		{name: "each extra fields", doc: `{"_id":1}`, update: `{"$addToSet":{"a":{"$each":[1],"x":1}}}`, code: CodeBadValue},
	})
}

func TestUpdatePopPullBit(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "pop last", doc: `{"_id":1,"a":[1,2,3]}`, update: `{"$pop":{"a":1}}`, want: `{"_id":1,"a":[1,2]}`},
		{name: "pop first", doc: `{"_id":1,"a":[1,2,3]}`, update: `{"$pop":{"a":-1}}`, want: `{"_id":1,"a":[2,3]}`},
		{name: "pop empty", doc: `{"_id":1,"a":[]}`, update: `{"$pop":{"a":1}}`, unchanged: true},
		{name: "pop missing", doc: `{"_id":1}`, update: `{"$pop":{"a":1}}`, unchanged: true},
		{name: "pop non array", doc: `{"_id":1,"a":1}`, update: `{"$pop":{"a":1}}`, code: CodeTypeMismatch},
		{name: "pop bad value", doc: `{"_id":1,"a":[1]}`, update: `{"$pop":{"a":2}}`, code: CodeFailedToParse},
		{name: "pop string value", doc: `{"_id":1,"a":[1]}`, update: `{"$pop":{"a":"1"}}`, code: CodeFailedToParse},
		{name: "pull value", doc: `{"_id":1,"a":[1,2,1,3]}`, update: `{"$pull":{"a":1}}`, want: `{"_id":1,"a":[2,3]}`},
		{name: "pull numeric equality", doc: `{"_id":1,"a":[1,2.0,3]}`, update: `{"$pull":{"a":2}}`, want: `{"_id":1,"a":[1,3]}`},
		{name: "pull array value", doc: `{"_id":1,"a":[[1,2],[2,1],1]}`, update: `{"$pull":{"a":[1,2]}}`, want: `{"_id":1,"a":[[2,1],1]}`},
		{name: "pull nothing", doc: `{"_id":1,"a":[1]}`, update: `{"$pull":{"a":5}}`, unchanged: true},
		{name: "pull missing", doc: `{"_id":1}`, update: `{"$pull":{"a":5}}`, unchanged: true},
		{name: "pull non array", doc: `{"_id":1,"a":5}`, update: `{"$pull":{"a":5}}`, code: CodeBadValue},
		{name: "pullAll", doc: `{"_id":1,"a":[1,2,3,1,4]}`, update: `{"$pullAll":{"a":[1,4]}}`, want: `{"_id":1,"a":[2,3]}`},
		{name: "pullAll not array arg", doc: `{"_id":1,"a":[1]}`, update: `{"$pullAll":{"a":1}}`, code: CodeBadValue},
		{name: "pullAll non array", doc: `{"_id":1,"a":1}`, update: `{"$pullAll":{"a":[1]}}`, code: CodeBadValue},
		{name: "bit and", doc: `{"_id":1,"a":13}`, update: `{"$bit":{"a":{"and":10}}}`, want: `{"_id":1,"a":8}`},
		{name: "bit or", doc: `{"_id":1,"a":13}`, update: `{"$bit":{"a":{"or":2}}}`, want: `{"_id":1,"a":15}`},
		{name: "bit xor long", doc: `{"_id":1,"a":1}`, update: `{"$bit":{"a":{"xor":{"$numberLong":"3"}}}}`, want: `{"_id":1,"a":{"$numberLong":"2"}}`},
		{name: "bit missing", doc: `{"_id":1}`, update: `{"$bit":{"a":{"or":5}}}`, want: `{"_id":1,"a":5}`},
		{name: "bit no change", doc: `{"_id":1,"a":5}`, update: `{"$bit":{"a":{"or":1}}}`, unchanged: true},
		{name: "bit double target", doc: `{"_id":1,"a":1.5}`, update: `{"$bit":{"a":{"and":1}}}`, code: CodeBadValue},
		{name: "bit double operand", doc: `{"_id":1,"a":1}`, update: `{"$bit":{"a":{"and":1.0}}}`, code: CodeBadValue},
		{name: "bit unknown", doc: `{"_id":1,"a":1}`, update: `{"$bit":{"a":{"nand":1}}}`, code: CodeBadValue},
		{name: "bit not document", doc: `{"_id":1,"a":1}`, update: `{"$bit":{"a":1}}`, code: CodeBadValue},
	})
}

func TestUpdatePositional(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "positional", doc: `{"_id":1,"a":[1,2,3]}`, update: `{"$set":{"a.$":9}}`, pos: 2, want: `{"_id":1,"a":[1,9,3]}`},
		{name: "positional no match", doc: `{"_id":1,"a":[1,2,3]}`, update: `{"$set":{"a.$":9}}`, code: CodeBadValue},
		{name: "positional nested", doc: `{"_id":1,"a":[{"b":1},{"b":2}]}`, update: `{"$inc":{"a.$.b":5}}`, pos: 2, want: `{"_id":1,"a":[{"b":1},{"b":7}]}`},
		{name: "positional with other index", doc: `{"_id":1,"a":[1,2,3]}`, update: `{"$set":{"a.$":9,"a.2":8}}`, pos: 1, want: `{"_id":1,"a":[9,2,8]}`},
		{name: "positional same as index", doc: `{"_id":1,"a":[1,2,3]}`, update: `{"$set":{"a.$":9,"a.0":8}}`, pos: 1, code: CodeConflictingUpdateOperator},
		{name: "all elements", doc: `{"_id":1,"a":[1,2,3]}`, update: `{"$inc":{"a.$[]":1}}`, want: `{"_id":1,"a":[2,3,4]}`},
		{name: "all nested", doc: `{"_id":1,"a":[{"b":1},{"b":2}]}`, update: `{"$set":{"a.$[].b":0}}`, want: `{"_id":1,"a":[{"b":0},{"b":0}]}`},
		{name: "all nested create", doc: `{"_id":1,"a":[{"b":1},{}]}`, update: `{"$set":{"a.$[].c":0}}`, want: `{"_id":1,"a":[{"b":1,"c":0},{"c":0}]}`},
		{name: "all on empty", doc: `{"_id":1,"a":[]}`, update: `{"$set":{"a.$[]":1}}`, unchanged: true},
		{name: "all of all", doc: `{"_id":1,"a":[[1,2],[3]]}`, update: `{"$inc":{"a.$[].$[]":10}}`, want: `{"_id":1,"a":[[11,12],[13]]}`},
		{name: "all non array", doc: `{"_id":1,"a":1}`, update: `{"$set":{"a.$[]":1}}`, code: CodeBadValue},
		{name: "all document", doc: `{"_id":1,"a":{"x":1}}`, update: `{"$set":{"a.$[]":1}}`, code: CodeBadValue},
		{name: "all missing", doc: `{"_id":1}`, update: `{"$set":{"a.$[]":1}}`, code: CodeBadValue},
		{name: "all scalar element", doc: `{"_id":1,"a":[1,{"b":1}]}`, update: `{"$set":{"a.$[].b":2}}`, code: CodePathNotViable},
		{name: "all and index merge", doc: `{"_id":1,"a":[{"x":1},{"x":2}]}`, update: `{"$set":{"a.$[].x":0,"a.0.y":1}}`, want: `{"_id":1,"a":[{"x":0,"y":1},{"x":0}]}`},
		{name: "all and index conflict", doc: `{"_id":1,"a":[1,2]}`, update: `{"$set":{"a.$[]":0,"a.0":1}}`, code: CodeConflictingUpdateOperator},
		{name: "unset all", doc: `{"_id":1,"a":[1,2]}`, update: `{"$unset":{"a.$[]":1}}`, want: `{"_id":1,"a":[null,null]}`},
		{name: "first component positional", doc: `{"_id":1}`, update: `{"$set":{"$":1}}`, code: CodeBadValue},
		{name: "two positionals", doc: `{"_id":1}`, update: `{"$set":{"a.$.b.$":1}}`, code: CodeBadValue},
		{name: "first component all", doc: `{"_id":1}`, update: `{"$set":{"$[]":1}}`, code: CodeBadValue},
		{name: "identifier without filter", doc: `{"_id":1,"a":[1]}`, update: `{"$set":{"a.$[x]":1}}`, code: CodeBadValue},
	})
}

func TestUpdateParseErrors(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "unknown modifier", doc: `{"_id":1}`, update: `{"$foo":{"a":1}}`, code: CodeFailedToParse},
		{name: "pushAll is gone", doc: `{"_id":1}`, update: `{"$pushAll":{"a":[1]}}`, code: CodeFailedToParse},
		{name: "operand not document", doc: `{"_id":1}`, update: `{"$set":1}`, code: CodeFailedToParse},
		{name: "operator then field", doc: `{"_id":1}`, update: `{"$set":{"a":1},"b":1}`, code: CodeFailedToParse},
		{name: "field then operator", doc: `{"_id":1}`, update: `{"b":1,"$set":{"a":1}}`, code: CodeDollarPrefixedFieldName},
		{name: "empty path", doc: `{"_id":1}`, update: `{"$set":{"":1}}`, code: CodeEmptyFieldName},
		{name: "empty component", doc: `{"_id":1}`, update: `{"$set":{"a..b":1}}`, code: CodeEmptyFieldName},
		{name: "trailing dot", doc: `{"_id":1}`, update: `{"$set":{"a.":1}}`, code: CodeEmptyFieldName},
		{name: "dollar component", doc: `{"_id":1}`, update: `{"$set":{"a.$b":1}}`, code: CodeDollarPrefixedFieldName},
		{name: "dollar field", doc: `{"_id":1}`, update: `{"$set":{"$b":1}}`, code: CodeDollarPrefixedFieldName},
		{name: "conflict same path", doc: `{"_id":1}`, update: `{"$set":{"a":1},"$inc":{"a":1}}`, code: CodeConflictingUpdateOperator},
		{name: "conflict prefix", doc: `{"_id":1}`, update: `{"$set":{"a":1,"a.b":1}}`, code: CodeConflictingUpdateOperator},
		{name: "conflict prefix reverse", doc: `{"_id":1}`, update: `{"$set":{"a.b":1},"$unset":{"a":1}}`, code: CodeConflictingUpdateOperator},
		{name: "no conflict siblings", doc: `{"_id":1}`, update: `{"$set":{"a.b":1},"$inc":{"a.c":1}}`, want: `{"_id":1,"a":{"b":1,"c":1}}`},
		{name: "no conflict shared prefix text", doc: `{"_id":1}`, update: `{"$set":{"a":1,"ab":2}}`, want: `{"_id":1,"a":1,"ab":2}`},
		{name: "setOnInsert conflicts too", doc: `{"_id":1}`, update: `{"$set":{"a":1},"$setOnInsert":{"a":2}}`, code: CodeConflictingUpdateOperator},
	})
}

func TestUpdateReplacement(t *testing.T) {
	runUpdCases(t, []updCase{
		{name: "keeps id", doc: `{"_id":1,"a":1}`, update: `{"b":2}`, want: `{"_id":1,"b":2}`},
		{name: "same id", doc: `{"_id":1,"a":1}`, update: `{"_id":1,"b":2}`, want: `{"_id":1,"b":2}`},
		{name: "id first", doc: `{"_id":1,"a":1}`, update: `{"b":2,"_id":1}`, want: `{"_id":1,"b":2}`},
		{name: "other id", doc: `{"_id":1,"a":1}`, update: `{"_id":2}`, code: CodeImmutableField},
		{name: "empty", doc: `{"_id":1,"a":1}`, update: `{}`, want: `{"_id":1}`},
		{name: "identical", doc: `{"_id":1,"a":1}`, update: `{"a":1}`, unchanged: true},
		{name: "no original id", doc: `{"a":1}`, update: `{"b":1,"_id":3}`, want: `{"_id":3,"b":1}`},
		{name: "dollar field", doc: `{"_id":1}`, update: `{"a":1,"$set":{"b":1}}`, code: CodeDollarPrefixedFieldName},
		{name: "array id", doc: `{"a":1}`, update: `{"_id":[1]}`, code: 53},
	})
	u, err := CompileUpdate(updEJ(t, `{"a":1}`), UpdateOptions{})
	if err != nil || !u.IsReplacement() {
		t.Fatalf("replacement: %v %v", u, err)
	}
	u, err = CompileUpdate(updEJ(t, `{"$set":{"a":1}}`), UpdateOptions{})
	if err != nil || u.IsReplacement() {
		t.Fatalf("operators: %v %v", u, err)
	}
}

func TestUpdateLimits(t *testing.T) {
	// A value that would nest the result 101 levels deep.
	var deep any = int32(1)
	for i := 0; i < 99; i++ {
		deep = bson.D{{Key: "x", Value: deep}}
	}
	u, err := CompileUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "a.b", Value: deep}}}}, UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := u.Apply(bson.D{{Key: "_id", Value: int32(1)}}, ApplyOptions{Position: -1}); !errors.Is(err, &Error{Code: CodeOverflow}) {
		t.Fatalf("deep result: %v", err)
	}
	u, err = CompileUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: deep}}}}, UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := u.Apply(bson.D{{Key: "_id", Value: int32(1)}}, ApplyOptions{Position: -1}); err != nil {
		t.Fatalf("100 deep is allowed: %v", err)
	}
	big := strings.Repeat("x", MaxDocumentSize/2)
	u, err = CompileUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "b", Value: big}}}}, UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	doc := bson.D{{Key: "_id", Value: int32(1)}, {Key: "a", Value: big}}
	if _, _, err := u.Apply(doc, ApplyOptions{Position: -1}); !errors.Is(err, &Error{Code: CodeBSONObjectTooLarge}) {
		t.Fatalf("large result: %v", err)
	}
	// A path with too many components is refused before it can nest.
	if _, err := CompileUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: strings.Repeat("a.", 150) + "a", Value: int32(1)}}}}, UpdateOptions{}); err == nil {
		t.Fatal("150-component path accepted")
	}
}

func TestUpdateGoValues(t *testing.T) {
	u, err := CompileUpdate(bson.D{{Key: "$inc", Value: bson.M{"n": 1}}, {Key: "$push", Value: bson.D{{Key: "l", Value: []int{1, 2}}}}}, UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := u.Apply(bson.D{{Key: "n", Value: int32(1)}}, ApplyOptions{Position: -1})
	want := bson.D{{Key: "n", Value: int32(2)}, {Key: "l", Value: bson.A{bson.A{int32(1), int32(2)}}}}
	if err != nil || !Identical(got, want) {
		t.Fatalf("%v %s", err, updShow(got))
	}
	if _, err := CompileUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: struct{ X int }{1}}}}}, UpdateOptions{}); err == nil {
		t.Fatal("struct value accepted")
	}
	seed, err := UpsertSeed(bson.D{{Key: "a", Value: 1}})
	if err != nil || !Identical(seed, bson.D{{Key: "a", Value: int32(1)}}) {
		t.Fatalf("seed %v %s", err, updShow(seed))
	}
}

func TestUpdateDoesNotShare(t *testing.T) {
	u, err := CompileUpdate(updEJ(t, `{"$set":{"a":{"x":[1]}},"$push":{"l":{"y":1}}}`), UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := u.Apply(updEJ(t, `{"_id":1,"l":[]}`), ApplyOptions{Position: -1})
	if err != nil {
		t.Fatal(err)
	}
	Get(got, "a").(bson.D)[0].Value.(bson.A)[0] = "changed"
	Get(got, "l").(bson.A)[0].(bson.D)[0].Value = "changed"
	again, _, _ := u.Apply(updEJ(t, `{"_id":1,"l":[]}`), ApplyOptions{Position: -1})
	if want := updEJ(t, `{"_id":1,"l":[{"y":1}],"a":{"x":[1]}}`); !Identical(again, want) {
		t.Fatalf("compiled update was changed through a result: %s", updShow(again))
	}
}

func TestUpsertSeed(t *testing.T) {
	cases := []struct {
		filter, want string
		code         int
	}{
		{`{"a":1}`, `{"a":1}`, 0},
		{`{"a":{"$eq":1}}`, `{"a":1}`, 0},
		{`{"a":{"$eq":{"x":1}}}`, `{"a":{"x":1}}`, 0},
		{`{"a":{"x":1}}`, `{"a":{"x":1}}`, 0},
		{`{"b.c":2}`, `{"b":{"c":2}}`, 0},
		{`{"b.c":2,"b.d":3}`, `{"b":{"c":2,"d":3}}`, 0},
		{`{"$and":[{"a":1},{"b.c":2}]}`, `{"a":1,"b":{"c":2}}`, 0},
		{`{"$and":[{"$and":[{"a":1}]}]}`, `{"a":1}`, 0},
		{`{"$or":[{"a":1}]}`, `{"a":1}`, 0},
		{`{"$or":[{"a":1},{"b":1}]}`, `{}`, 0},
		{`{"a":{"$gt":1}}`, `{}`, 0},
		{`{"a":{"$in":[3]}}`, `{"a":3}`, 0},
		{`{"a":{"$in":[3,4]}}`, `{}`, 0},
		{`{"a":{"$gt":1,"$eq":2}}`, `{"a":2}`, 0},
		{`{"a":{"$regularExpression":{"pattern":"x","options":""}}}`, `{}`, 0},
		{`{"a":null}`, `{"a":null}`, 0},
		{`{"x":1,"_id":5}`, `{"_id":5,"x":1}`, 0},
		{`{"_id.a":1,"_id.b":2}`, `{"_id":{"a":1,"b":2}}`, 0},
		{`{"$expr":{"$eq":["$a",1]},"b":2}`, `{"b":2}`, 0},
		{`{"a":1,"a.b":2}`, ``, updCodeNotSingleValueField},
		{`{"a.b":2,"a":{"c":1}}`, ``, updCodeNotSingleValueField},
		{`{"a":1,"$and":[{"a":2}]}`, ``, updCodeNotSingleValueField},
	}
	for _, tc := range cases {
		got, err := UpsertSeed(updEJ(t, tc.filter))
		if tc.code != 0 {
			if !errors.Is(err, &Error{Code: tc.code}) {
				t.Errorf("%s: want error %d, got %v %s", tc.filter, tc.code, err, updShow(got))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if want := updEJ(t, tc.want); !Identical(got, want) {
			t.Errorf("%s: got %s want %s", tc.filter, updShow(got), updShow(want))
		}
	}
	// Duplicate keys can only be built in Go.
	if _, err := UpsertSeed(bson.D{{Key: "a", Value: int32(1)}, {Key: "a", Value: int32(2)}}); !errors.Is(err, &Error{Code: updCodeNotSingleValueField}) {
		t.Errorf("duplicate key: %v", err)
	}
	// The seed then takes the update as an insert.
	seed, _ := UpsertSeed(updEJ(t, `{"name":"x","_id":7}`))
	u, _ := CompileUpdate(updEJ(t, `{"$setOnInsert":{"created":1},"$inc":{"n":1}}`), UpdateOptions{})
	got, _, err := u.Apply(seed, ApplyOptions{Position: -1, Insert: true})
	if want := updEJ(t, `{"_id":7,"name":"x","created":1,"n":1}`); err != nil || !Identical(got, want) {
		t.Errorf("upsert: %v %s", err, updShow(got))
	}
}
