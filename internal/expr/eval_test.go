package expr

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// TestEvalOperators covers every operator and spelling, and the equality,
// missing-value and array corner cases of spec §5.3.
func TestEvalOperators(t *testing.T) {
	read := func(s string) Input { return ReadOf(jdoc(t, s)) }
	u := bind(t, Binding{
		User: &User{ID: "u1", Type: "server", Data: jdoc(t, `{"email":"a@x"}`),
			CustomData: jdoc(t, `{"team":"red","teams":["red","blue"],"n":5,"nested":{"k":"v"},"oid":{"$oid":"5f650356a8631da45dd4784c"}}`),
			Identities: []Identity{{ID: "i1", ProviderType: "local-userpass"}, {ID: "i2", ProviderType: "api-key"}}},
		Values:  map[string]any{"ids": []any{"u1", "u2"}, "one": "u1", "limit": 10},
		Request: &Request{HTTPMethod: "GET", RequestHeaders: map[string][]string{"X-Team": {"red"}}},
	})
	runEvalCases(t, []evalCase{
		// equality and missing values
		{name: "eq/null-matches-missing", expr: `{"a":null}`, in: read(`{}`), want: true},
		{name: "eq/null-matches-null", expr: `{"a":null}`, in: read(`{"a":null}`), want: true},
		{name: "eq/null-not-zero", expr: `{"a":null}`, in: read(`{"a":0}`), want: false},
		{name: "eq/null-dotted-missing-in-element", expr: `{"a.b":null}`, in: read(`{"a":[{"c":1}]}`), want: true},
		{name: "eq/null-dotted-present", expr: `{"a.b":null}`, in: read(`{"a":[{"b":1}]}`), want: false},
		{name: "eq/missing-not-false", expr: `{"a":false}`, in: read(`{}`), want: false},
		{name: "eq/number-across-types", expr: `{"n":1}`, in: read(`{"n":1.0}`), want: true},
		{name: "eq/long", expr: `{"n":{"$numberLong":"7"}}`, in: read(`{"n":7}`), want: true},
		{name: "eq/string-not-number", expr: `{"n":"1"}`, in: read(`{"n":1}`), want: false},
		{name: "eq/bool-not-number", expr: `{"n":true}`, in: read(`{"n":1}`), want: false},
		{name: "eq/doc-order-matters", expr: `{"a":{"x":1,"y":2}}`, in: read(`{"a":{"y":2,"x":1}}`), want: false},
		{name: "eq/doc-exact", expr: `{"a":{"x":1,"y":2}}`, in: read(`{"a":{"x":1,"y":2}}`), want: true},
		{name: "eq/doc-with-expansion", expr: `{"a":{"x":"%%user.id"}}`, env: u, in: read(`{"a":{"x":"u1"}}`), want: true},
		{name: "eq/array-equal", expr: `{"t":["a","b"]}`, in: read(`{"t":["a","b"]}`), want: true},
		{name: "eq/array-contains-array", expr: `{"t":["a","b"]}`, in: read(`{"t":[["a","b"],"c"]}`), want: true},
		{name: "eq/array-vs-array-subset-is-false", expr: `{"t":["a","b"]}`, in: read(`{"t":["a"]}`), want: false},
		{name: "eq/scalar-in-array-membership", expr: `{"t":["a","b"]}`, in: read(`{"t":"a"}`), want: true},
		{name: "eq/scalar-not-member", expr: `{"t":["a","b"]}`, in: read(`{"t":"c"}`), want: false},
		{name: "eq/missing-in-array-with-null", expr: `{"t":["a",null]}`, in: read(`{}`), want: true},
		{name: "eq/array-lhs-scalar-rhs", expr: `{"t":"b"}`, in: read(`{"t":["a","b"]}`), want: true},
		{name: "eq/missing-rhs-expansion-never-equal", expr: `{"a":"%%user.custom_data.nope"}`, env: u, in: read(`{}`), want: false},
		{name: "eq/missing-rhs-vs-null", expr: `{"a":"%%user.custom_data.nope"}`, env: u, in: read(`{"a":null}`), want: false},
		{name: "eq/expansion-array-membership", expr: `{"team":"%%user.custom_data.teams"}`, env: u, in: read(`{"team":"blue"}`), want: true},
		{name: "eq/oid-not-string", expr: `{"o":"%%user.custom_data.oid"}`, env: u, in: read(`{"o":"5f650356a8631da45dd4784c"}`), want: false},
		{name: "eq/index-path", expr: `{"a.1":"y"}`, in: read(`{"a":["x","y"]}`), want: true},
		{name: "eq/index-path-miss", expr: `{"a.0":"y"}`, in: read(`{"a":["x","y"]}`), want: false},
		{name: "eq/nested-array-of-docs", expr: `{"a.b.c":3}`, in: read(`{"a":[{"b":[{"c":1},{"c":3}]}]}`), want: true},
		{name: "eq/path-through-scalar", expr: `{"a.b":1}`, in: read(`{"a":5}`), want: false},
		// Paths through arrays follow MongoDB (and mql) exactly; these were
		// found by TestCompiledAgreesWithEvalRandom against mql's matcher.
		{name: "path/scalar-array-yields-nothing", expr: `{"b.k":null}`, in: read(`{"b":["x","y"]}`), want: false},
		{name: "path/empty-array-yields-nothing", expr: `{"b.k":null}`, in: read(`{"b":[]}`), want: false},
		{name: "path/nin-null-scalar-array", expr: `{"a.b":{"$nin":[null]}}`, in: read(`{"a":[1,2]}`), want: true},
		{name: "path/indexed-element-not-expanded", expr: `{"a.0":1}`, in: read(`{"a":[[1,2],3]}`), want: false},
		{name: "path/indexed-element-whole", expr: `{"a.0":[1,2]}`, in: read(`{"a":[[1,2],3]}`), want: true},
		{name: "path/indexed-scalar-no-rest", expr: `{"a.0.b":null}`, in: read(`{"a":[1]}`), want: false},
		{name: "elemMatch/value-no-expand", expr: `{"a":{"$elemMatch":{"$gte":2}}}`, in: read(`{"a":[1,[2]]}`), want: false},
		{name: "elemMatch/query-on-array-element", expr: `{"a":{"$elemMatch":{"b":null}}}`, in: read(`{"a":[[1,2]]}`), want: true},
		{name: "elemMatch/query-on-array-element-index", expr: `{"a":{"$elemMatch":{"1":2}}}`, in: read(`{"a":[[1,2]]}`), want: true},
		{name: "elemMatch/query-skips-scalars", expr: `{"a":{"$elemMatch":{"b":null}}}`, in: read(`{"a":[1,2]}`), want: false},
		{name: "eq/$eq", expr: `{"a":{"$eq":"%%user.id"}}`, env: u, in: read(`{"a":"u1"}`), want: true},
		{name: "eq/%eq", expr: `{"a":{"%eq":2}}`, in: read(`{"a":[1,2]}`), want: true},
		// $ne / %ne / %neq
		{name: "ne/different", expr: `{"a":{"$ne":1}}`, in: read(`{"a":2}`), want: true},
		{name: "ne/missing-field", expr: `{"a":{"$ne":1}}`, in: read(`{}`), want: true},
		{name: "ne/array-contains", expr: `{"a":{"%ne":1}}`, in: read(`{"a":[1,2]}`), want: false},
		{name: "ne/%neq", expr: `{"a":{"%neq":"x"}}`, in: read(`{"a":"x"}`), want: false},
		{name: "ne/null-missing", expr: `{"a":{"$ne":null}}`, in: read(`{}`), want: false},
		{name: "ne/missing-rhs", expr: `{"a":{"$ne":"%%values.none"}}`, env: u, in: read(`{"a":1}`), want: true},
		{name: "ne/array-rhs-membership", expr: `{"a":{"$ne":"%%values.ids"}}`, env: u, in: read(`{"a":"u2"}`), want: false},
		// comparisons
		{name: "gt/number", expr: `{"n":{"$gt":5}}`, in: read(`{"n":6}`), want: true},
		{name: "gt/type-bracketing", expr: `{"n":{"$gt":5}}`, in: read(`{"n":"6"}`), want: false},
		{name: "gt/array-element", expr: `{"n":{"%gt":5}}`, in: read(`{"n":[1,10]}`), want: true},
		{name: "gte/equal", expr: `{"n":{"$gte":5}}`, in: read(`{"n":5.0}`), want: true},
		{name: "gte/null-matches-missing", expr: `{"n":{"$gte":null}}`, in: read(`{}`), want: true},
		{name: "lt/missing", expr: `{"n":{"$lt":5}}`, in: read(`{}`), want: false},
		{name: "lte/strings", expr: `{"s":{"%lte":"b"}}`, in: read(`{"s":"a"}`), want: true},
		{name: "lt/expansion", expr: `{"n":{"$lt":"%%values.limit"}}`, env: u, in: read(`{"n":9}`), want: true},
		{name: "lt/missing-expansion", expr: `{"n":{"$lt":"%%values.none"}}`, env: u, in: read(`{"n":9}`), want: false},
		{name: "gt/range-both", expr: `{"n":{"$gt":1,"$lt":3}}`, in: read(`{"n":2}`), want: true},
		// $in / $nin
		{name: "in/literal", expr: `{"a":{"$in":["x","%%user.id"]}}`, env: u, in: read(`{"a":"u1"}`), want: true},
		{name: "in/array-lhs", expr: `{"a":{"$in":["x","y"]}}`, in: read(`{"a":["q","y"]}`), want: true},
		{name: "in/null-matches-missing", expr: `{"a":{"$in":[null]}}`, in: read(`{}`), want: true},
		{name: "in/expansion", expr: `{"a":{"%in":"%%values.ids"}}`, env: u, in: read(`{"a":"u2"}`), want: true},
		{name: "in/expansion-not-array", expr: `{"a":{"$in":"%%values.one"}}`, env: u, in: read(`{"a":"u1"}`), want: false},
		{name: "in/expansion-missing", expr: `{"a":{"$in":"%%values.none"}}`, env: u, in: read(`{"a":"u1"}`), want: false},
		{name: "nin/miss", expr: `{"a":{"$nin":["x"]}}`, in: read(`{"a":"y"}`), want: true},
		{name: "nin/hit", expr: `{"a":{"%nin":["x"]}}`, in: read(`{"a":"x"}`), want: false},
		{name: "nin/missing-arg", expr: `{"a":{"$nin":"%%values.none"}}`, env: u, in: read(`{"a":"x"}`), want: true},
		// $exists
		{name: "exists/true", expr: `{"a":{"$exists":true}}`, in: read(`{"a":null}`), want: true},
		{name: "exists/false-missing", expr: `{"a":{"$exists":false}}`, in: read(`{}`), want: true},
		{name: "exists/dotted-any-element", expr: `{"a.b":{"$exists":true}}`, in: read(`{"a":[{},{"b":1}]}`), want: true},
		{name: "exists/dotted-false-when-any", expr: `{"a.b":{"$exists":false}}`, in: read(`{"a":[{},{"b":1}]}`), want: false},
		{name: "exists/through-scalar-array", expr: `{"a.b":{"$exists":false}}`, in: read(`{"a":[1,2]}`), want: true},
		{name: "exists/expansion", expr: `{"%%user.custom_data.team":{"%exists":true}}`, env: u, in: NoDocument, want: true},
		{name: "exists/root-on-read", expr: `{"%%root":{"$exists":true}}`, in: read(`{}`), want: true},
		{name: "exists/prevRoot-on-insert", expr: `{"%%prevRoot":{"$exists":true}}`, in: InsertOf(jdoc(t, `{}`)), want: false},
		// $all, $size, $type, $elemMatch, $not
		{name: "all/yes", expr: `{"c":{"$all":["%%user.id"]}}`, env: u, in: read(`{"c":["u0","u1"]}`), want: true},
		{name: "all/no", expr: `{"c":{"$all":["u1","u2"]}}`, in: read(`{"c":["u1"]}`), want: false},
		{name: "all/empty-never", expr: `{"c":{"$all":[]}}`, in: read(`{"c":[]}`), want: false},
		{name: "size/yes", expr: `{"c":{"$size":2}}`, in: read(`{"c":[1,2]}`), want: true},
		{name: "size/not-array", expr: `{"c":{"$size":1}}`, in: read(`{"c":"x"}`), want: false},
		{name: "type/string", expr: `{"c":{"$type":"string"}}`, in: read(`{"c":"x"}`), want: true},
		{name: "type/number", expr: `{"c":{"$type":"number"}}`, in: read(`{"c":1.5}`), want: true},
		{name: "type/code", expr: `{"c":{"$type":[2,8]}}`, in: read(`{"c":true}`), want: true},
		{name: "type/array", expr: `{"c":{"$type":"array"}}`, in: read(`{"c":[]}`), want: true},
		{name: "type/element", expr: `{"c":{"$type":"int"}}`, in: read(`{"c":["a",1]}`), want: true},
		{name: "type/missing", expr: `{"c":{"$type":"null"}}`, in: read(`{}`), want: false},
		{name: "elemMatch/query", expr: `{"m":{"$elemMatch":{"user":"%%user.id","role":"admin"}}}`, env: u,
			in: read(`{"m":[{"user":"u1","role":"viewer"},{"user":"u2","role":"admin"}]}`), want: false},
		{name: "elemMatch/query-hit", expr: `{"m":{"$elemMatch":{"user":"%%user.id","role":"admin"}}}`, env: u,
			in: read(`{"m":[{"user":"u1","role":"admin"}]}`), want: true},
		{name: "elemMatch/value", expr: `{"m":{"$elemMatch":{"$gt":1,"$lt":3}}}`, in: read(`{"m":[0,2]}`), want: true},
		{name: "elemMatch/value-split", expr: `{"m":{"$elemMatch":{"$gt":1,"$lt":3}}}`, in: read(`{"m":[0,5]}`), want: false},
		{name: "not/field", expr: `{"n":{"$not":{"$gt":5}}}`, in: read(`{"n":3}`), want: true},
		{name: "not/field-missing", expr: `{"n":{"%not":{"$gt":5}}}`, in: read(`{}`), want: true},
		{name: "or/field", expr: `{"n":{"%or":[{"$lt":0},{"$gt":10}]}}`, in: read(`{"n":11}`), want: true},
		{name: "nor/field", expr: `{"n":{"$nor":[{"$lt":0},{"$gt":10}]}}`, in: read(`{"n":11}`), want: false},
		// logical
		{name: "and/all", expr: `{"%and":[{"a":1},{"b":2}]}`, in: read(`{"a":1,"b":2}`), want: true},
		{name: "and/$and-one-false", expr: `{"$and":[{"a":1},{"b":3}]}`, in: read(`{"a":1,"b":2}`), want: false},
		{name: "or/%or", expr: `{"%or":[{"a":9},{"b":2}]}`, in: read(`{"a":1,"b":2}`), want: true},
		{name: "nor/%nor", expr: `{"%nor":[{"a":9},{"b":2}]}`, in: read(`{"a":1,"b":2}`), want: false},
		{name: "nor/$nor-none", expr: `{"$nor":[{"a":9}]}`, in: read(`{"a":1}`), want: true},
		{name: "not/top", expr: `{"%not":{"a":1}}`, in: read(`{"a":1}`), want: false},
		{name: "not/top-array-form", expr: `{"%not":[{"a":2}]}`, in: read(`{"a":1}`), want: true},
		{name: "keys-are-anded", expr: `{"a":1,"%%user.id":"u1"}`, env: u, in: read(`{"a":1}`), want: true},
		{name: "keys-are-anded-false", expr: `{"a":1,"%%user.id":"u2"}`, env: u, in: read(`{"a":1}`), want: false},
		// expansions
		{name: "user/type", expr: `{"%%user.type":"server"}`, env: u, in: NoDocument, want: true},
		{name: "user/data", expr: `{"%%user.data.email":"a@x"}`, env: u, in: NoDocument, want: true},
		{name: "user/identities-providerType", expr: `{"%%user.identities.providerType":"api-key"}`, env: u, in: NoDocument, want: true},
		{name: "user/identities-provider_type", expr: `{"%%user.identities.provider_type":"local-userpass"}`, env: u, in: NoDocument, want: true},
		{name: "user/nested-custom-data", expr: `{"%%user.custom_data.nested":{"k":"v"}}`, env: u, in: NoDocument, want: true},
		{name: "user/as-rhs-in-array", expr: `{"%%values.ids":"%%user.id"}`, env: u, in: NoDocument, want: true},
		{name: "request/method", expr: `{"%%request.httpMethod":"GET"}`, env: u, in: NoDocument, want: true},
		{name: "request/header", expr: `{"%%request.requestHeaders.X-Team":"red"}`, env: u, in: NoDocument, want: true},
		{name: "request/absent-field", expr: `{"%%request.httpReferrer":{"$exists":false}}`, env: u, in: NoDocument, want: true},
		{name: "request/unbound", expr: `{"%%request":{"$exists":false}}`, env: nil, in: NoDocument, want: true},
		{name: "values/whole", expr: `{"%%values.one":"u1"}`, env: u, in: NoDocument, want: true},
		{name: "root/path", expr: `{"%%root.a":1}`, in: read(`{"a":1}`), want: true},
		{name: "root/rhs-field-to-field", expr: `{"a":"%%root.b"}`, in: read(`{"a":1,"b":1}`), want: true},
		{name: "root/rhs-field-to-field-false", expr: `{"a":"%%root.b"}`, in: read(`{"a":1,"b":2}`), want: false},
		{name: "prevRoot/path", expr: `{"%%prevRoot.a":1,"%%root.a":2}`, in: UpdateOf(jdoc(t, `{"a":1}`), jdoc(t, `{"a":2}`)), want: true},
		{name: "this/prev", expr: `{"%%this":{"$gt":"%%prev"}}`, in: UpdateOf(nil, nil).WithField(int32(5), int32(3)), want: true},
		{name: "this/missing-prev", expr: `{"%%prev":{"$exists":false}}`, in: InsertOf(nil).WithField(int32(5), mql.Missing), want: true},
		{name: "args-scope-bare-field", expr: `{"%%args.x":1}`, env: bind(t, Binding{Args: bson.D{{Key: "x", Value: 1}}}), in: NoDocument, want: true},
		// converters
		{name: "oidToString", expr: `{"s":{"%oidToString":"%%user.custom_data.oid"}}`, env: u, in: read(`{"s":"5f650356a8631da45dd4784c"}`), want: true},
		{name: "stringToOid-literal", expr: `{"_id":{"%stringToOid":"5f650356a8631da45dd4784c"}}`, in: read(`{"_id":{"$oid":"5f650356a8631da45dd4784c"}}`), want: true},
		{name: "stringToUuid", expr: `{"u":{"%stringToUuid":"01234567-89ab-cdef-0123-456789abcdef"}}`,
			in: read(`{"u":{"$binary":{"base64":"ASNFZ4mrze8BI0VniavN7w==","subType":"04"}}}`), want: true},
		{name: "uuidToString", expr: `{"s":{"%uuidToString":"%%root.u"}}`,
			in: read(`{"s":"01234567-89ab-cdef-0123-456789abcdef","u":{"$binary":{"base64":"ASNFZ4mrze8BI0VniavN7w==","subType":"04"}}}`), want: true},
		{name: "stringToOid-missing-expansion", expr: `{"_id":{"%stringToOid":"%%user.custom_data.none"}}`, env: u, in: read(`{}`), want: false},
		{name: "stringToOid-bad-value", expr: `{"_id":{"%stringToOid":"%%user.id"}}`, env: u, in: read(`{}`), wantErr: ErrConvert},
		// %function
		{name: "function/doc-argument", expr: `{"%%true":{"%function":{"name":"owns","arguments":["%%root.owner","%%user.id"]}}}`,
			env: bind(t, Binding{User: &User{ID: "u1"}, Functions: funcs{"owns": func(a []any) (any, error) { return a[0] == a[1], nil }}}),
			in:  read(`{"owner":"u1"}`), want: true},
		{name: "function/missing-argument-is-null", expr: `{"%%true":{"%function":{"name":"isNull","arguments":["%%root.none"]}}}`,
			env: bind(t, Binding{Functions: funcs{"isNull": func(a []any) (any, error) { return a[0] == nil, nil }}}),
			in:  read(`{}`), want: true},
		{name: "function/field-compared-with-result", expr: `{"team":{"%function":{"name":"team"}}}`,
			env: bind(t, Binding{Functions: funcs{"team": func([]any) (any, error) { return map[string]any{"x": []any{1}}, nil }}}),
			in:  read(`{"team":{"x":[1]}}`), want: true},
		{name: "function/unusable-result", expr: `{"%%true":{"%function":{"name":"bad"}}}`,
			env: bind(t, Binding{Functions: funcs{"bad": func([]any) (any, error) { return make(chan int), nil }}}),
			in:  NoDocument, wantErr: ErrFunction},
		{name: "function/short-circuit", expr: `{"%or":[{"%%true":true},{"%%true":{"%function":{"name":"boom"}}}]}`,
			env: bind(t, Binding{Functions: funcs{}}), in: NoDocument, want: true},
	})
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat(`{"%not":`, 120) + `{}` + strings.Repeat(`}`, 120)
	cases := []struct {
		expr, path, reason string
		is                 error
	}{
		{`{"%%foo":1}`, "%%foo", "unknown expansion", ErrUnknownExpansion},
		{`{"a":"%%usr.id"}`, "a", "unknown expansion", ErrUnknownExpansion},
		{`{"%%ctx.user":1}`, "%%ctx.user", "no %%ctx", ErrUnknownExpansion},
		{`{"%%user.email":1}`, "%%user.email", "no field \"email\"", ErrUnknownExpansion},
		{`{"%%environment.foo":1}`, "%%environment.foo", "no field", ErrUnknownExpansion},
		{`{"%%true.x":1}`, "%%true.x", "has no fields", ErrUnknownExpansion},
		{`{"$where":"1"}`, "$where", "$where", ErrUnknownOperator},
		{`{"%pipeline":{"name":"p"}}`, "%pipeline", "obsolete", ErrUnknownOperator},
		{`{"$expr":{}}`, "$expr", "$expr", ErrUnknownOperator},
		{`{"a":{"$regex":"^x"}}`, "a.$regex", "$regex", ErrUnknownOperator},
		{`{"a":{"$foo":1}}`, "a.$foo", "unknown operator", ErrUnknownOperator},
		{`{"a":{"$gt":1,"b":2}}`, "a.b", "mixes", ErrSyntax},
		{`{"a":{"b":1,"$gt":2}}`, "a.$gt", "mixes field names", ErrSyntax},
		{`{"%and":{}}`, "%and", "non-empty array", ErrSyntax},
		{`{"$or":[]}`, "$or", "non-empty array", ErrSyntax},
		{`{"%or":[{"a":1},"x"]}`, "%or[1]", "must be a boolean or an object", ErrSyntax},
		{`{"a":{"$in":5}}`, "a.$in", "takes an array", ErrSyntax},
		{`{"a":{"$size":-1}}`, "a.$size", "non-negative", ErrSyntax},
		{`{"a":{"$type":"nope"}}`, "a.$type", "unknown BSON type", ErrSyntax},
		{`{"a":{"$not":1}}`, "a.$not", "operator object", ErrSyntax},
		{`{"a..b":1}`, "a..b", "empty segment", ErrSyntax},
		{`{"":1}`, "", "empty field name", ErrSyntax},
		{`{"a":{"%function":{"name":""}}}`, "a.%function.name", "non-empty string", ErrSyntax},
		{`{"a":{"%function":{"name":"f","args":[]}}}`, "a.%function.args", "unknown %function key", ErrSyntax},
		{`{"a":{"%function":"f"}}`, "a.%function", "takes {", ErrSyntax},
		{`{"a":{"%function":{"name":"f"},"$gt":1}}`, "a", "only key", ErrSyntax},
		{`{"a":{"%stringToOid":{"%oidToString":"%%user.id"}}}`, "a.%stringToOid", "not an object", ErrSyntax},
		{`{"a":{"%stringToOid":"zz"}}`, "a.%stringToOid", "neither 24 hex", ErrSyntax},
		{`{"a":{"$in":[{"$gt":1}]}}`, "a.$in[0].$gt", "cannot be used as a value", ErrSyntax},
		{`"just a string"`, "", "not a boolean or an Extended JSON object", ErrSyntax},
		{deep, "", "maximum depth", ErrSyntax},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			_, err := ParseJSON([]byte(c.expr))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if !errors.Is(err, c.is) {
				t.Errorf("err = %v, want errors.Is %v", err, c.is)
			}
			if c.path != "" && pe.Path != c.path {
				t.Errorf("path = %q, want %q (%v)", pe.Path, c.path, err)
			}
			if !strings.Contains(pe.Reason, c.reason) {
				t.Errorf("reason = %q, want it to mention %q", pe.Reason, c.reason)
			}
		})
	}
}

func TestParseGoValues(t *testing.T) {
	// Callers building rules in Go may use maps, Go ints and undecoded
	// Extended JSON wrappers.
	e, err := Parse(map[string]any{
		"_id":   map[string]any{"$oid": "5f650356a8631da45dd4784c"},
		"n":     7,
		"owner": "%%user.id",
	})
	if err != nil {
		t.Fatal(err)
	}
	doc := jdoc(t, `{"_id":{"$oid":"5f650356a8631da45dd4784c"},"n":{"$numberLong":"7"},"owner":"u1"}`)
	ok, err := e.Eval(context.Background(), userEnv(t, "u1", "", ""), ReadOf(doc))
	if err != nil || !ok {
		t.Fatalf("Eval = %v, %v", ok, err)
	}
	if _, err := Parse(struct{}{}); err == nil {
		t.Fatal("a Go struct must not parse")
	}
	if _, err := Parse(map[string]any{"a": map[string]any{"$date": "not a date"}}); err == nil {
		t.Fatal("a broken Extended JSON wrapper must not parse")
	}
}

func TestIntrospection(t *testing.T) {
	e := parse(t, `{"owner":"%%user.id","%%root.team":{"$in":"%%values.t"},"%or":[{"%%true":{"%function":{"name":"g"}}},{"%%prevRoot.x":1}]}`)
	if got := strings.Join(e.Fields(), ","); got != "owner,team,x" {
		t.Errorf("Fields = %s", got)
	}
	if got := strings.Join(e.ValueNames(), ","); got != "t" {
		t.Errorf("ValueNames = %s", got)
	}
	if got := strings.Join(e.Functions(), ","); got != "g" {
		t.Errorf("Functions = %s", got)
	}
	want := UsesUser | UsesValues | UsesRoot | UsesPrevRoot | UsesFunction | UsesLiteralBool
	if e.Uses() != want {
		t.Errorf("Uses = %v, want %v", e.Uses(), want)
	}
	if _, ok := e.Literal(); ok {
		t.Error("an object is not a literal")
	}
	if v, ok := parse(t, ` true `).Literal(); !ok || !v {
		t.Error("true is the literal true")
	}
	if v, ok := parse(t, `{}`).Literal(); ok || v {
		t.Error("{} is true but not the literal true")
	}
	args, err := Parse(bson.D{{Key: "n", Value: 1}}, Options{Scope: ScopeArgs})
	if err != nil {
		t.Fatal(err)
	}
	if args.Uses() != UsesArgs {
		t.Errorf("ScopeArgs bare field Uses = %v", args.Uses())
	}
	ok, _ := args.Eval(context.Background(), bind(t, Binding{Args: map[string]any{"n": 1}}), NoDocument)
	if !ok {
		t.Error("bare field under ScopeArgs reads %%args")
	}
}

func TestBindErrors(t *testing.T) {
	if _, err := Bind(Binding{Values: map[string]any{"x": make(chan int)}}); !errors.Is(err, ErrBinding) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Bind(Binding{User: &User{CustomData: bson.D{{Key: "f", Value: func() {}}}}}); !errors.Is(err, ErrBinding) {
		t.Fatalf("err = %v", err)
	}
	env := bind(t, Binding{Partition: bson.Null{}})
	ok, _ := parse(t, `{"%%partition":{"$exists":true}}`).Eval(context.Background(), env, NoDocument)
	if !ok {
		t.Fatal("bson.Null{} binds a null partition, which exists")
	}
}
