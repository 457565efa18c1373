package rules

import (
	"errors"
	"strings"
	"testing"
)

func guards(pairs ...string) []FunctionGuard {
	var out []FunctionGuard
	for i := 0; i+1 < len(pairs); i += 2 {
		var ce []byte
		if pairs[i+1] != "" {
			ce = []byte(pairs[i+1])
		}
		out = append(out, FunctionGuard{Name: pairs[i], CanEvaluate: ce})
	}
	return out
}

func loadErrors(err error) []*LoadError {
	var out []*LoadError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			var le *LoadError
			if errors.As(e, &le) {
				out = append(out, le)
			}
		}
	}
	return out
}

func TestCheckFunctionsCycles(t *testing.T) {
	callOf := func(n string) string { return `{"%%true":{"%function":{"name":"` + n + `"}}}` }
	cases := []struct {
		name  string
		fns   []FunctionGuard
		paths []string // where each cycle is reported
		chain string   // substring of the first reason
	}{
		{"none", guards("a", callOf("b"), "b", "", "c", `{}`), nil, ""},
		{"self", guards("a", callOf("a")), []string{"[0].can_evaluate.%%true.%function"}, "a → a"},
		{"two", guards("a", callOf("b"), "b", callOf("a")), []string{"[1].can_evaluate.%%true.%function"}, "a → b → a"},
		{"three via argument", guards(
			"a", `{"%%true":{"%function":{"name":"ok","arguments":[{"%function":{"name":"b"}}]}}}`,
			"b", `{"$or":[{"x":1},{"%%true":{"%function":{"name":"c"}}}]}`,
			"c", callOf("a"),
			"ok", ""),
			[]string{"[2].can_evaluate.%%true.%function"}, "a → b → c → a"},
		{"diamond is not a cycle", guards("a", `{"$and":[`+callOf("b")+`,`+callOf("c")+`]}`, "b", callOf("d"), "c", callOf("d"), "d", ""), nil, ""},
		{"two separate cycles", guards("a", callOf("a"), "b", callOf("c"), "c", callOf("b")),
			[]string{"[0].can_evaluate.%%true.%function", "[2].can_evaluate.%%true.%function"}, "a → a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckFunctions("functions/config.json", c.fns, nil)
			les := loadErrors(err)
			if len(c.paths) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrFunctionCycle) || !errors.Is(err, ErrLoad) {
				t.Fatalf("err = %v; want ErrFunctionCycle", err)
			}
			var paths []string
			for _, le := range les {
				if le.File != "functions/config.json" {
					t.Errorf("file = %q", le.File)
				}
				paths = append(paths, le.Path)
			}
			if strings.Join(paths, "|") != strings.Join(c.paths, "|") {
				t.Errorf("paths = %v, want %v", paths, c.paths)
			}
			if !strings.Contains(les[0].Reason, c.chain) {
				t.Errorf("reason %q does not name the chain %q", les[0].Reason, c.chain)
			}
		})
	}
}

func TestCheckFunctionsReferences(t *testing.T) {
	const file = "data_sources/mongodb-atlas/db/c/rules.json"
	rs, err := LoadRules(file, []byte(`{"roles":[
	 {"name":"r","apply_when":{"%%true":{"%function":{"name":"isAdmin"}}},
	  "fields":{"secret":{"read":{"%%true":{"%function":{"name":"canSee","arguments":["%%root._id"]}}}}},
	  "read":true}],
	 "filters":[{"name":"f","apply_when":{},"query":{"owner":{"%function":{"name":"whoami"}}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	set := NewSet(DefaultOptions())
	set.Collections["db.c"] = rs
	all := guards("isAdmin", "", "canSee", "", "whoami", `{"%%user.id":{"$exists":true}}`)
	if err := CheckFunctions("functions/config.json", all, set.Rulesets()); err != nil {
		t.Fatalf("all declared: %v", err)
	}
	// canSee is missing, and whoami's can_evaluate calls an undeclared one.
	some := guards("isAdmin", "", "whoami", `{"%%true":{"%function":{"name":"ghost"}}}`)
	err = CheckFunctions("functions/config.json", some, set.Rulesets())
	if !errors.Is(err, ErrUnknownFunction) || errors.Is(err, ErrFunctionCycle) {
		t.Fatalf("err = %v; want ErrUnknownFunction only", err)
	}
	var got []string
	for _, le := range loadErrors(err) {
		got = append(got, le.File+":"+le.Path)
	}
	want := []string{
		"functions/config.json:[1].can_evaluate.%%true.%function",
		file + ":roles[0].fields.secret.read.%%true.%function",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("errors at %v, want %v", got, want)
	}
	// Filter queries count too.
	none := guards("isAdmin", "", "canSee", "")
	err = CheckFunctions("functions/config.json", none, set.Rulesets())
	if les := loadErrors(err); len(les) != 1 || les[0].Path != "filters[0].query.owner.%function" {
		t.Errorf("filter query reference: %v", err)
	}
}

// A can_evaluate is parsed where its function is declared, with bare
// fields reading %%args; a malformed one fails with its path.
func TestCheckFunctionsBadCanEvaluate(t *testing.T) {
	err := CheckFunctions("functions/config.json", guards("a", `{"x":{"%inn":[1]}}`), nil)
	les := loadErrors(err)
	if len(les) != 1 || les[0].Path != "[0].can_evaluate.x.%inn" {
		t.Fatalf("err = %v", err)
	}
	if err := CheckFunctions("functions/config.json", guards("a", `{"amount":{"$lt":10}}`, "b", "null", "c", " {} "), nil); err != nil {
		t.Errorf("valid can_evaluate refused: %v", err)
	}
}
