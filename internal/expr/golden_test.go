package expr

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestCompileGolden runs testdata/compile/*.txt: each case is an expression
// and a binding, and the expected Compile result (kind, exactness, filter
// as relaxed Extended JSON, reason). Run with -update to regenerate, then
// review the diff.
//
// Case format ("====" separates cases, "----" input from output):
//
//	# comment
//	expr: <Extended JSON expression>
//	bind: {"user": {"id", "type", "data", "custom_data", "identities"},
//	       "values", "environment": {"tag", "values"}, "request": {...},
//	       "partition", "args", "functions": {"name": <result>}, "failing": ["name"]}
//	----
//	kind: ...
func TestCompileGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/compile/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cases := strings.Split(strings.TrimSpace(string(raw)), "\n====\n")
			var out []string
			for i, c := range cases {
				in, want, _ := strings.Cut(c+"\n", "\n----\n")
				got := runGoldenCase(t, in)
				if !*update && strings.TrimSpace(want) != strings.TrimSpace(got) {
					t.Errorf("case %d:\n%s\n--- got:\n%s\n--- want:\n%s", i+1, in, got, want)
				}
				out = append(out, strings.TrimSpace(in)+"\n----\n"+strings.TrimSpace(got))
			}
			if *update {
				if err := os.WriteFile(file, []byte(strings.Join(out, "\n====\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func runGoldenCase(t *testing.T, in string) string {
	t.Helper()
	var exprText, bindText string
	for _, line := range strings.Split(in, "\n") {
		switch {
		case strings.HasPrefix(line, "expr:"):
			exprText = strings.TrimSpace(strings.TrimPrefix(line, "expr:"))
		case strings.HasPrefix(line, "bind:"):
			bindText = strings.TrimSpace(strings.TrimPrefix(line, "bind:"))
		}
	}
	e, err := ParseJSON([]byte(exprText))
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	env := goldenEnv(t, bindText)
	c := e.Compile(context.Background(), env)
	var b strings.Builder
	fmt.Fprintf(&b, "kind: %s\nexact: %v\n", c.Kind, c.Exact)
	if c.Kind == KindFilter {
		q, err := bson.MarshalExtJSON(c.Query, false, false)
		if err != nil {
			t.Fatalf("marshal %v: %v", c.Query, err)
		}
		fmt.Fprintf(&b, "query: %s\n", q)
	}
	if c.Reason != "" {
		fmt.Fprintf(&b, "reason: %s\n", c.Reason)
	}
	return b.String()
}

func goldenEnv(t *testing.T, text string) *Env {
	t.Helper()
	if text == "" {
		return nil
	}
	d := jdoc(t, text)
	var b Binding
	for _, e := range d {
		switch e.Key {
		case "user":
			u := &User{}
			for _, f := range e.Value.(bson.D) {
				switch f.Key {
				case "id":
					u.ID = f.Value.(string)
				case "type":
					u.Type = f.Value.(string)
				case "data":
					u.Data = f.Value.(bson.D)
				case "custom_data":
					u.CustomData = f.Value.(bson.D)
				case "identities":
					for _, id := range f.Value.(bson.A) {
						idd := id.(bson.D)
						u.Identities = append(u.Identities, Identity{ID: mql.Get(idd, "id").(string), ProviderType: mql.Get(idd, "providerType").(string)})
					}
				}
			}
			b.User = u
		case "values":
			b.Values = map[string]any{}
			for _, f := range e.Value.(bson.D) {
				b.Values[f.Key] = f.Value
			}
		case "environment":
			ed := e.Value.(bson.D)
			b.Environment.Tag, _ = mql.Get(ed, "tag").(string)
			if vals, ok := mql.Get(ed, "values").(bson.D); ok {
				b.Environment.Values = map[string]any{}
				for _, f := range vals {
					b.Environment.Values[f.Key] = f.Value
				}
			}
		case "request":
			rd := e.Value.(bson.D)
			b.Request = &Request{}
			b.Request.RemoteIPAddress, _ = mql.Get(rd, "remoteIPAddress").(string)
			b.Request.HTTPMethod, _ = mql.Get(rd, "httpMethod").(string)
		case "partition":
			b.Partition = e.Value
			if e.Value == nil {
				b.Partition = bson.Null{}
			}
		case "args":
			b.Args = e.Value
		case "functions":
			fs := funcs{}
			for _, f := range e.Value.(bson.D) {
				ret := f.Value
				fs[f.Key] = func([]any) (any, error) { return ret, nil }
			}
			b.Functions = mergeFuncs(b.Functions, fs)
		case "failing":
			fs := funcs{}
			for _, name := range e.Value.(bson.A) {
				fs[name.(string)] = func([]any) (any, error) { return nil, errors.New("boom") }
			}
			b.Functions = mergeFuncs(b.Functions, fs)
		default:
			t.Fatalf("unknown bind key %q", e.Key)
		}
	}
	return bind(t, b)
}

func mergeFuncs(prev FunctionCaller, add funcs) FunctionCaller {
	if p, ok := prev.(funcs); ok {
		for k, v := range p {
			add[k] = v
		}
	}
	return add
}
