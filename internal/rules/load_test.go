package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/atollhq/atoll/internal/expr"
)

// Malformed rules fail at load time with the file, the JSON path and the
// reason.
func TestLoadRejects(t *testing.T) {
	for _, c := range []struct {
		name, json, path, reason string
		sentinel                 error
	}{
		{"not an object", `[1]`, "", "not a JSON object", nil},
		{"unknown top key", `{"roles":[],"rolez":[]}`, "rolez", "unknown key", nil},
		{"roles not array", `{"roles":{}}`, "roles", "must be an array", nil},
		{"role not object", `{"roles":[1]}`, "roles[0]", "must be an object", nil},
		{"role without name", `{"roles":[{"read":true}]}`, "roles[0].name", "needs a name", nil},
		{"long name", `{"roles":[{"name":"` + strings.Repeat("x", 101) + `"}]}`, "roles[0].name", "longer than 100", nil},
		{"duplicate name", `{"roles":[{"name":"a"},{"name":"a"}]}`, "roles[1].name", "duplicate role name", nil},
		{"unknown role key", `{"roles":[{"name":"a","reed":true}]}`, "roles[0].reed", "unknown role key", nil},
		{"read wrong type", `{"roles":[{"name":"a","read":"yes"}]}`, "roles[0].read", "boolean or an object", nil},
		{"search expression", `{"roles":[{"name":"a","search":{}}]}`, "roles[0].search", "search must be a boolean", nil},
		{"unknown expansion", `{"roles":[{"name":"a","apply_when":{"owner":"%%usr.id"}}]}`, "roles[0].apply_when.owner", "", expr.ErrUnknownExpansion},
		{"unknown operator", `{"roles":[{"name":"a","read":{"x":{"%inn":[1]}}}]}`, "roles[0].read.x", "", expr.ErrUnknownOperator},
		{"pipeline operator", `{"roles":[{"name":"a","read":{"%pipeline":{"name":"p"}}}]}`, "roles[0].read", "", nil},
		{"stitch valid", `{"roles":[{"name":"a","fields":{"x":{"valid":{}}}}]}`, "roles[0].fields.x.valid", "Stitch-era", nil},
		{"stitch other_fields", `{"roles":[{"name":"a","other_fields":{}}]}`, "roles[0].other_fields", "Stitch-era", nil},
		{"field rule key", `{"roles":[{"name":"a","fields":{"x":{"reads":true}}}]}`, "roles[0].fields.x.reads", "unknown field rule key", nil},
		{"dotted field", `{"roles":[{"name":"a","fields":{"x.y":{"read":true}}}]}`, "roles[0].fields.x.y", "invalid field name", nil},
		{"additional nested fields", `{"roles":[{"name":"a","additional_fields":{"fields":{}}}]}`, "roles[0].additional_fields.fields", "unknown field rule key", nil},
		{"df key", `{"roles":[{"name":"a","document_filters":{"reed":true}}]}`, "roles[0].document_filters.reed", "unknown document_filters key", nil},
		{"args in rules", `{"roles":[{"name":"a","read":{"%%args.x":1}}]}`, "roles[0].read", "may not use", nil},
		{"partition in rules", `{"roles":[{"name":"a","read":{"%%partition":"x"}}]}`, "roles[0].read", "may not use", nil},
		{"filter without name", `{"filters":[{"query":{}}]}`, "filters[0].name", "needs a name", nil},
		{"filter project typo", `{"filters":[{"name":"f","project":{"a":1}}]}`, "filters[0].project", "unknown filter key", nil},
		{"filter projection value", `{"filters":[{"name":"f","projection":{"a":"yes"}}]}`, "filters[0].projection.a", "0 or 1", nil},
		{"filter apply_when root", `{"filters":[{"name":"f","apply_when":{"owner":"x"}}]}`, "filters[0].apply_when", "may not use", nil},
		{"filter query root", `{"filters":[{"name":"f","query":{"a":"%%root.b"}}]}`, "filters[0].query", "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadRules("data_sources/mongodb-atlas/db/c/rules.json", []byte(c.json))
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a LoadError", err)
			}
			if !errors.Is(err, ErrLoad) || le.File != "data_sources/mongodb-atlas/db/c/rules.json" {
				t.Errorf("error %v lacks ErrLoad or the file", err)
			}
			if c.path != "" && !strings.HasPrefix(le.Path, c.path) {
				t.Errorf("path %q, want %q", le.Path, c.path)
			}
			if c.reason != "" && !strings.Contains(le.Reason, c.reason) {
				t.Errorf("reason %q, want %q", le.Reason, c.reason)
			}
			if c.sentinel != nil && !errors.Is(err, c.sentinel) {
				t.Errorf("error %v does not wrap %v", err, c.sentinel)
			}
		})
	}
}

func TestLoadAcceptsFormats(t *testing.T) {
	for name, js := range map[string]string{
		"current":           `{"database":"db","collection":"c","roles":[{"name":"owner","apply_when":{"owner_id":"%%user.id"},"document_filters":{"read":true,"write":{"owner_id":"%%user.id"}},"read":true,"write":true,"insert":true,"delete":true,"search":true}],"filters":[{"name":"f","apply_when":{},"query":{"x":1},"projection":{"a":0}}]}`,
		"admin api ids":     `{"_id":"abc","roles":[{"_id":"r1","name":"a","apply_when":{}}],"filters":[{"_id":"f1","name":"f","query":{}}]}`,
		"legacy roles":      `{"roles":[{"name":"default","apply_when":{},"insert":true,"delete":true,"search":true,"fields":{"name":{"read":true,"write":true,"fields":{}}},"additional_fields":{}}]}`,
		"ejson literals":    `{"roles":[{"name":"a","apply_when":{"_id":{"$oid":"5f650356a8631da45dd4784c"}},"read":true}]}`,
		"percent operators": `{"roles":[{"name":"a","apply_when":{"%or":[{"a":{"%in":[1]}},{"b":{"%exists":0}}]}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadRules("rules.json", []byte(js)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// W-66: a v1 services/<svc>/rules/<db>.<coll>.json file embeds schema and
// relationships next to the roles; the roles load, the rest is appconfig's.
func TestLoadV1RulesFile(t *testing.T) {
	js := `{"id":"5f0f1b2c","database":"todo","collection":"Task","roles":[{"name":"default","apply_when":{},"read":true,"write":true,"insert":true,"delete":true}],"filters":[],"schema":{"properties":{"_id":{"bsonType":"objectId"}}},"relationships":{"owner":{"ref":"#/stitch/mongodb-atlas/todo/User","foreign_key":"_id","is_list":false}}}`
	rs, err := LoadRules("services/mongodb-atlas/rules/todo.Task.json", []byte(js))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Roles) != 1 || rs.Roles[0].Name != "default" {
		t.Fatalf("roles %+v", rs.Roles)
	}
}

func TestLoadFlexibleSyncRejects(t *testing.T) {
	for name, js := range map[string]string{
		"snake case":         `{"defaultRoles":[{"name":"a","apply_when":{}}]}`,
		"unknown top":        `{"default_roles":[]}`,
		"function filter":    `{"defaultRoles":[{"name":"a","read":{"%%true":{"%function":{"name":"f","arguments":[]}}}}]}`,
		"document applyWhen": `{"defaultRoles":[{"name":"a","applyWhen":{"owner":"x"}}]}`,
		"request in filter":  `{"defaultRoles":[{"name":"a","read":{"%%request.remoteIPAddress":"x"}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadFlexibleSync("sync/config.json", []byte(js)); !errors.Is(err, ErrLoad) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// §3.3: legacy default roles are appended after a collection's own roles so
// that the 2022 fallback keeps working after conversion.
func TestFlexibleSyncFallbackPreserved(t *testing.T) {
	flx, err := LoadFlexibleSync("sync/config.json", []byte(`{"rules":{"Item":[{"name":"own","applyWhen":{"%%user.custom_data.isAdmin":true},"read":true,"write":true}]},"defaultRoles":[{"name":"def","applyWhen":{},"read":{"owner_id":"%%user.id"},"write":false}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rs := flx.Collections["Item"]
	if len(rs.Roles) != 2 || rs.Roles[0].Name != "own" || rs.Roles[1].Name != "def" {
		t.Fatalf("roles %v", rs.Roles)
	}
}

func TestLoadPartitionRejects(t *testing.T) {
	for name, js := range map[string]string{
		"unknown key": `{"read":true,"reed":true}`,
		"document":    `{"read":{"owner":"x"}}`,
		"string":      `{"read":"true"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadPartition("sync/config.json", []byte(js)); !errors.Is(err, ErrLoad) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestRulesetFunctions(t *testing.T) {
	rs, err := LoadRules("r.json", []byte(`{"roles":[{"name":"a","apply_when":{"%%true":{"%function":{"name":"isAdmin","arguments":[]}}},"fields":{"x":{"read":{"%%true":{"%function":{"name":"canSee","arguments":["%%user.id"]}}}}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rs.Functions(), ","); got != "canSee,isAdmin" {
		t.Fatalf("functions %s", got)
	}
}
