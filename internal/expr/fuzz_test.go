package expr

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// fuzzEnv binds values of many shapes so that fuzzed expansions hit
// arrays, documents, missing values and functions that succeed or fail.
func fuzzEnv(t testing.TB) *Env {
	return bind(t, Binding{
		User: &User{ID: "5f650356a8631da45dd4784c", Type: "normal",
			Data:       bson.D{{Key: "email", Value: "a@x"}, {Key: "team", Value: "red"}},
			CustomData: bson.D{{Key: "teams", Value: bson.A{"red", "blue"}}, {Key: "isAdmin", Value: true}, {Key: "n", Value: int32(3)}},
			Identities: []Identity{{ID: "i", ProviderType: "anon-user"}}},
		Values:      map[string]any{"list": bson.A{"a", int32(1), nil}, "doc": bson.D{{Key: "k", Value: "v"}}},
		Environment: Environment{Tag: "production", Values: map[string]any{"x": int32(1)}},
		Request:     &Request{RemoteIPAddress: "1.2.3.4"},
		Partition:   "p",
		Args:        bson.D{{Key: "n", Value: int32(42)}},
		Functions: funcs{
			"t":    func([]any) (any, error) { return true, nil },
			"id":   func(a []any) (any, error) { return bson.A(a), nil },
			"boom": func([]any) (any, error) { return nil, errors.New("boom") },
		},
	})
}

var fuzzDocs = []string{
	`{}`,
	`{"a":1,"b":"x","c":null}`,
	`{"a":[1,2,{"b":3}],"tags":["red","x"],"owner":"5f650356a8631da45dd4784c"}`,
	`{"a":{"b":[{"c":1},{"c":[2,3]}]},"e":{"$oid":"5f650356a8631da45dd4784c"}}`,
	`{"email":"a@x","team":"red","n":3.0,"m":[[1],[]]}`,
}

func fuzzSeeds(f *testing.F) {
	seeds := []string{
		`true`, `false`, `{}`, `{"owner_id":"%%user.id"}`,
		`{"email":"%%user.custom_data.teams"}`, `{"a.b":{"$in":"%%values.list"}}`,
		`{"%%true":{"%function":{"name":"t","arguments":["%%root.a",1]}}}`,
		`{"%or":[{"%%prevRoot":{"%exists":true}},{"%%root.status":"new"}]}`,
		`{"%%args.n":{"%and":[{"$gt":0},{"$lte":42}]}}`,
		`{"x":{"$elemMatch":{"y":{"$not":{"$gt":1}}}},"%nor":[{"a":null}]}`,
		`{"_id":{"%stringToOid":"%%user.id"},"u":{"%uuidToString":"%%root.u"}}`,
		`{"%not":{"a":{"$all":["%%user.id"],"$size":2,"$type":"array"}}}`,
	}
	if files, err := filepath.Glob("testdata/compile/*.txt"); err == nil {
		for _, file := range files {
			raw, _ := os.ReadFile(file)
			for _, line := range strings.Split(string(raw), "\n") {
				if s, ok := strings.CutPrefix(line, "expr: "); ok {
					seeds = append(seeds, s)
				}
			}
		}
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
}

// FuzzParse: parsing, compiling and evaluating arbitrary input never
// panics, errors are values, and constant compile results agree with Eval.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	env := fuzzEnv(f)
	var docs []bson.D
	for _, s := range fuzzDocs {
		docs = append(docs, jdoc(f, s))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseJSON(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseJSON error is not a *ParseError: %v", err)
			}
			return
		}
		c := e.Compile(ctx, env)
		_ = e.Compile(ctx, nil)
		if c.Kind == KindFilter && c.Query == nil {
			t.Fatal("a filter result without a query")
		}
		bound := e.Bind(ctx, env)
		for _, d := range docs {
			ok, err := e.Eval(ctx, env, ReadOf(d))
			if err != nil && ok {
				t.Fatal("Eval returned true with an error")
			}
			if bok, berr := bound.Eval(ctx, ReadOf(d)); bok != ok || (berr == nil) != (err == nil) {
				t.Fatalf("Bound.Eval = %v, %v; Expr.Eval = %v, %v on %v", bok, berr, ok, err, d)
			}
			switch c.Kind {
			case KindAlways:
				if !ok || err != nil {
					t.Fatalf("Compile: always, Eval(%v) = %v, %v", d, ok, err)
				}
			case KindNever:
				if ok {
					t.Fatalf("Compile: never, Eval(%v) = true", d)
				}
			}
			_, _ = e.Eval(ctx, env, InsertOf(d))
			_, _ = e.Eval(ctx, nil, UpdateOf(d, d).WithField(int32(1), nil))
		}
	})
}

// FuzzParseQuery: filter query templates never panic when parsed or
// expanded.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		`{"owner_id":"%%user.id"}`, `{"$or":[{"%%user.custom_data.isAdmin":true},{"a":{"$in":"%%values.list"}}]}`,
		`{"m":{"$elemMatch":{"u":"%%user.id"}},"_id":{"%stringToOid":"%%user.id"}}`,
		`{"x":{"%function":{"name":"id","arguments":["%%values.doc",{"$date":"2024-01-01T00:00:00Z"}]}}}`,
		`{"$nor":[{"a":"%%user.custom_data.none"}]}`,
	} {
		f.Add([]byte(s))
	}
	env := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var d bson.D
		if bson.UnmarshalExtJSON(data, false, &d) != nil {
			return
		}
		q, err := ParseQuery(d)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseQuery error is not a *ParseError: %v", err)
			}
			return
		}
		_, _ = q.Expand(context.Background(), env)
		_, _ = q.Expand(context.Background(), nil)
	})
}
