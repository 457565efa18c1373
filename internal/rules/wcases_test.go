package rules

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
)

// The worked cases of spec §9, one subtest per W-number. Cases that belong
// to other packages are listed in TestWorkedCasesElsewhere with the package
// that covers them.

const managerRole = `{"name":"Manager","apply_when":{"email":"%%user.custom_data.manages"},"insert":true,"delete":true,"read":true,"write":true,"search":true,"fields":{},"additional_fields":{"read":true,"write":true}}`
const employeeRole = `{"name":"Employee","apply_when":{"email":"%%user.data.email"},"insert":false,"delete":false,"read":true,"write":true,"search":true,"fields":{},"additional_fields":{"read":true,"write":true}}`
const teammateRole = `{"name":"Teammate","apply_when":{"team":"%%user.data.team"},"insert":false,"delete":false,"read":true,"write":false,"search":true,"fields":{},"additional_fields":{"read":true,"write":false}}`

func employee(email, team string, manages ...string) Caller {
	m := bson.A{}
	for _, x := range manages {
		m = append(m, x)
	}
	return Caller{ID: email, Type: "normal",
		Data:       bson.D{{Key: "email", Value: email}, {Key: "team", Value: team}},
		CustomData: bson.D{{Key: "manages", Value: m}}}
}

var phylisDoc = bson.D{{Key: "_id", Value: int32(1)}, {Key: "email", Value: "phylis@dm"}, {Key: "team", Value: "sales"}, {Key: "name", Value: "Phylis"}}

func TestWorkedCases(t *testing.T) {
	ctx := context.Background()
	emp := roles(t, "["+managerRole+","+employeeRole+","+teammateRole+"]")
	andy := employee("andy@dm", "sales", "phylis@dm", "stanley@dm")
	phylis := employee("phylis@dm", "sales")
	stanley := employee("stanley@dm", "sales")
	other := employee("oscar@dm", "accounting")

	t.Run("W-1", func(t *testing.T) {
		v := view(t, emp, andy)
		got, role := readAs(t, v, phylisDoc)
		if role != "Manager" || got != canon(t, phylisDoc) {
			t.Fatalf("role %q read %s", role, got)
		}
		wantErr(t, "update", update(t, v, phylisDoc, `{"$set":{"name":"P"}}`), nil)
		wantErr(t, "delete", v.CheckDelete(ctx, phylisDoc), nil)
	})
	t.Run("W-2", func(t *testing.T) {
		v := view(t, emp, phylis)
		if _, role := readAs(t, v, phylisDoc); role != "Employee" {
			t.Fatalf("role %q", role)
		}
		wantErr(t, "update", update(t, v, phylisDoc, `{"$set":{"name":"P"}}`), nil)
		wantErr(t, "delete", v.CheckDelete(ctx, phylisDoc), ErrDeleteNotPermitted)
		wantErr(t, "insert own", v.CheckInsert(ctx, ej(t, `{"email":"phylis@dm","team":"sales"}`)), ErrInsertNotPermitted)
		wantErr(t, "insert other", v.CheckInsert(ctx, ej(t, `{"email":"new@dm","team":"x"}`)), ErrInsertNotPermitted)
	})
	t.Run("W-3", func(t *testing.T) {
		v := view(t, emp, stanley)
		got, role := readAs(t, v, phylisDoc)
		if role != "Teammate" || got != canon(t, phylisDoc) {
			t.Fatalf("role %q read %s", role, got)
		}
		wantErr(t, "update", update(t, v, phylisDoc, `{"$set":{"name":"x"}}`), ErrUpdateNotPermitted)
	})
	t.Run("W-4", func(t *testing.T) {
		v := view(t, emp, other)
		if got, role := readAs(t, v, phylisDoc); got != "null" || role != "" {
			t.Fatalf("read %s role %q", got, role)
		}
		// Not a candidate: the data-access layer reports matchedCount 0.
		wantErr(t, "update", update(t, v, phylisDoc, `{"$set":{"name":"x"}}`), ErrNotVisible)
	})
	t.Run("W-5", func(t *testing.T) {
		v := view(t, roles(t, "["+teammateRole+","+employeeRole+"]"), phylis)
		if _, role := readAs(t, v, phylisDoc); role != "Teammate" {
			t.Fatalf("role %q", role)
		}
		wantErr(t, "update", update(t, v, phylisDoc, `{"$set":{"name":"x"}}`), ErrUpdateNotPermitted)
	})
	t.Run("W-6", func(t *testing.T) {
		s := roles(t, `[{"name":"own","apply_when":{"owner":"%%user.id"},"read":true}]`)
		def, err := LoadRules("default_rule.json", []byte(`{"roles":[{"name":"all","apply_when":{},"read":true}]}`))
		if err != nil {
			t.Fatal(err)
		}
		s.Default = def
		if got, _ := readAs(t, view(t, s, user("u1")), ej(t, `{"owner":"u2"}`)); got != "null" {
			t.Fatalf("default rule consulted: %s", got)
		}
		// Another namespace does use the default rule.
		v, err := s.View(ctx, "db.other", user("u1"), RequestContext{})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := readAs(t, v, ej(t, `{"owner":"u2"}`)); got == "null" {
			t.Fatal("default rule not used for a namespace without rules")
		}
	})
	t.Run("W-7", func(t *testing.T) {
		_, err := NewSet(DefaultOptions()).View(ctx, "db.x", user("u1"), RequestContext{})
		if !errors.Is(err, ErrNoRule) || err.Error() != "no rule exists for namespace 'db.x'" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("W-8", func(t *testing.T) {
		v, err := NewSet(DefaultOptions()).View(ctx, "db.x", Caller{System: true}, RequestContext{})
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, "insert", v.CheckInsert(ctx, ej(t, `{"_id":666}`)), nil)
		if got := v.PushDown(ej(t, `{"a":1}`)); canon(t, got) != `{"a":1}` {
			t.Fatalf("system filter rewritten: %s", canon(t, got))
		}
	})

	// Expression semantics: evaluated through a role's apply_when so that the
	// rules engine's binding is what is tested.
	exprCase := func(t *testing.T, e string, c Caller, rc RequestContext, doc bson.D, want bool) {
		t.Helper()
		s := roles(t, `[{"name":"r","apply_when":`+e+`,"read":true}]`)
		v, err := s.View(ctx, "db.c", c, rc)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Decide(ctx, doc).Role == 0; got != want {
			t.Errorf("%s on %v: got %v want %v", e, doc, got, want)
		}
	}
	t.Run("W-9", func(t *testing.T) {
		e := `{"collaborators":"%%user.id"}`
		exprCase(t, e, user("u2"), RequestContext{}, ej(t, `{"collaborators":["u1","u2"]}`), true)
		exprCase(t, e, user("u3"), RequestContext{}, ej(t, `{"collaborators":["u1","u2"]}`), false)
		exprCase(t, e, user("u2"), RequestContext{}, ej(t, `{}`), false)
		exprCase(t, e, user("u2"), RequestContext{}, ej(t, `{"collaborators":"u2"}`), true)
	})
	t.Run("W-10", func(t *testing.T) {
		e := `{"owner_id":{"$in":"%%user.custom_data.subscribedTo"}}`
		u := Caller{ID: "u", CustomData: ej(t, `{"subscribedTo":["a","b"]}`)}
		exprCase(t, e, u, RequestContext{}, ej(t, `{"owner_id":"b"}`), true)
		exprCase(t, e, u, RequestContext{}, ej(t, `{"owner_id":"c"}`), false)
		exprCase(t, e, user("u"), RequestContext{}, ej(t, `{"owner_id":"b"}`), false)
	})
	t.Run("W-11", func(t *testing.T) {
		e := `{"%%user.custom_data.isGlobalAdmin": true}`
		exprCase(t, e, user("u"), RequestContext{}, bson.D{}, false)
		exprCase(t, e, Caller{ID: "u", CustomData: ej(t, `{"isGlobalAdmin":true}`)}, RequestContext{}, bson.D{}, true)
		exprCase(t, e, Caller{ID: "u", CustomData: ej(t, `{"isGlobalAdmin":"true"}`)}, RequestContext{}, bson.D{}, false)
	})
	t.Run("W-12", func(t *testing.T) {
		for e, want := range map[string]bool{`{}`: true, `true`: true, `false`: false, `{"%%true":true}`: true, `{"%%false":true}`: false} {
			exprCase(t, e, user("u"), RequestContext{}, bson.D{}, want)
		}
	})
	t.Run("W-13", func(t *testing.T) {
		e := `{"%%true":{"%function":{"name":"isEven","arguments":[42]}}}`
		for _, c := range []struct {
			ret  any
			err  error
			want bool
		}{{true, nil, true}, {"yes", nil, false}, {nil, errors.New("boom"), false}} {
			rc := RequestContext{Functions: fnCaller{ret: c.ret, err: c.err}}
			exprCase(t, e, user("u"), rc, bson.D{}, c.want)
		}
	})
	t.Run("W-14", func(t *testing.T) {
		e := `{"_id":{"%stringToOid":"%%user.id"}}`
		oid, _ := bson.ObjectIDFromHex("5f650356a8631da45dd4784c")
		u := user("5f650356a8631da45dd4784c")
		exprCase(t, e, u, RequestContext{}, bson.D{{Key: "_id", Value: oid}}, true)
		exprCase(t, e, u, RequestContext{}, bson.D{{Key: "_id", Value: "5f650356a8631da45dd4784c"}}, false)
	})
	t.Run("W-15", func(t *testing.T) {
		// %%args is for service rules (ScopeArgs); the rules loader refuses it
		// in data-access rules, so this case runs against expr directly.
		e, err := expr.ParseJSON([]byte(`{"%%args.someNumber":{"%and":[{"$gt":0},{"$lte":42}]}}`))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			args any
			want bool
		}{{bson.D{{Key: "someNumber", Value: int32(42)}}, true}, {bson.D{{Key: "someNumber", Value: int32(0)}}, false}, {bson.D{{Key: "someNumber", Value: int32(43)}}, false}, {bson.D{}, false}} {
			env, _ := expr.Bind(expr.Binding{Args: c.args})
			if got, _ := e.Eval(ctx, env, expr.NoDocument); got != c.want {
				t.Errorf("args %v: got %v", c.args, got)
			}
		}
		if _, err := LoadRules("r.json", []byte(`{"roles":[{"name":"x","apply_when":{"%%args.n":1}}]}`)); err == nil {
			t.Error("%%args accepted in a data-access rule")
		}
	})
	t.Run("W-16", func(t *testing.T) {
		e := `{"%%request.remoteIPAddress":{"$in":"%%values.allowedClientIPAddresses"},"owner":"%%user.id"}`
		vals := map[string]any{"allowedClientIPAddresses": []any{"1.2.3.4"}}
		exprCase(t, e, user("u1"), RequestContext{Values: vals, HTTP: &expr.Request{RemoteIPAddress: "1.2.3.4"}}, ej(t, `{"owner":"u1"}`), true)
		exprCase(t, e, user("u1"), RequestContext{Values: vals, HTTP: &expr.Request{RemoteIPAddress: "5.6.7.8"}}, ej(t, `{"owner":"u1"}`), false)
		exprCase(t, e, user("u2"), RequestContext{Values: vals, HTTP: &expr.Request{RemoteIPAddress: "1.2.3.4"}}, ej(t, `{"owner":"u1"}`), false)
	})
	t.Run("W-17", func(t *testing.T) {
		e := `{"%%environment.tag":"production","%%environment.values.baseUrl":{"%exists":true}}`
		exprCase(t, e, user("u"), RequestContext{Environment: expr.Environment{Tag: "production", Values: map[string]any{"baseUrl": "https://x"}}}, bson.D{}, true)
		exprCase(t, e, user("u"), RequestContext{Environment: expr.Environment{Tag: ""}}, bson.D{}, false)
	})
	t.Run("W-18", func(t *testing.T) {
		s := roles(t, `[{"name":"r","apply_when":{},"write":{"%or":[{"%%prevRoot":{"%exists":true}},{"%%root.status":"new"}]},"insert":true}]`)
		v := view(t, s, user("u"))
		wantErr(t, "insert new", v.CheckInsert(ctx, ej(t, `{"status":"new"}`)), nil)
		wantErr(t, "insert old", v.CheckInsert(ctx, ej(t, `{"status":"old"}`)), ErrInsertNotPermitted)
		wantErr(t, "update", update(t, v, ej(t, `{"_id":1,"status":"old"}`), `{"$set":{"status":"x"}}`), nil)
	})
	t.Run("W-19", func(t *testing.T) {
		exprCase(t, `{"address.city":"Paris"}`, user("u"), RequestContext{}, ej(t, `{"address":{"city":"Paris"}}`), true)
		exprCase(t, `{"items.sku":"x"}`, user("u"), RequestContext{}, ej(t, `{"items":[{"sku":"y"},{"sku":"x"}]}`), true)
	})
	t.Run("W-20", func(t *testing.T) {
		for _, d := range []string{`{"url":"https://a"}`, `{"url":"https://c"}`, `{}`} {
			a := roles(t, `[{"name":"r","apply_when":{"url":{"%in":["https://a","https://b"]}},"read":true}]`)
			b := roles(t, `[{"name":"r","apply_when":{"url":{"$in":["https://a","https://b"]}},"read":true}]`)
			da, db := view(t, a, user("u")).Decide(ctx, ej(t, d)), view(t, b, user("u")).Decide(ctx, ej(t, d))
			if da != db {
				t.Errorf("%s: %%in %v, $in %v", d, da, db)
			}
		}
		exprCase(t, `{"x":{"%exists":0}}`, user("u"), RequestContext{}, bson.D{}, true)
		exprCase(t, `{"x":{"%exists":0}}`, user("u"), RequestContext{}, ej(t, `{"x":1}`), false)
	})

	// Read decisions on {_id, name, secret, a:{b,c}}.
	doc := ej(t, `{"_id":1,"name":"n","secret":"s","a":{"b":1,"c":2}}`)
	readCase := func(t *testing.T, role string, d bson.D, c Caller, want string) {
		t.Helper()
		got, _ := readAs(t, view(t, roles(t, "["+role+"]"), c), d)
		if got != want {
			t.Errorf("role %s: got %s want %s", role, got, want)
		}
	}
	t.Run("W-21", func(t *testing.T) {
		readCase(t, `{"name":"r","apply_when":{},"read":true}`, doc, user("u"), canon(t, doc))
	})
	t.Run("W-22", func(t *testing.T) {
		readCase(t, `{"name":"r","read":false,"write":true}`, doc, user("u"), canon(t, doc))
	})
	t.Run("W-23", func(t *testing.T) {
		readCase(t, `{"name":"r","read":false,"fields":{"name":{"read":true}}}`, doc, user("u"), "null")
	})
	t.Run("W-24", func(t *testing.T) {
		readCase(t, `{"name":"r","fields":{"name":{"read":true}},"additional_fields":{}}`, doc, user("u"), `{"name":"n"}`)
	})
	t.Run("W-25", func(t *testing.T) {
		readCase(t, `{"name":"r","fields":{"secret":{"read":false}},"additional_fields":{"read":true}}`, doc, user("u"), `{"_id":1,"name":"n","a":{"b":1,"c":2}}`)
	})
	t.Run("W-26", func(t *testing.T) {
		readCase(t, `{"name":"r","fields":{"a":{"read":true,"fields":{"b":{"read":false}}}}}`, doc, user("u"), `{"a":{"b":1,"c":2}}`)
	})
	t.Run("W-27", func(t *testing.T) {
		readCase(t, `{"name":"r","fields":{"a":{"fields":{"b":{"read":true}}}},"additional_fields":{}}`, ej(t, `{"a":{"b":1,"c":2},"d":3}`), user("u"), `{"a":{"b":1}}`)
	})
	t.Run("W-28", func(t *testing.T) {
		r := `{"name":"r","document_filters":{"read":{"owner":"%%user.id"},"write":false},"read":true}`
		readCase(t, r, ej(t, `{"owner":"u1"}`), user("u1"), `{"owner":"u1"}`)
		readCase(t, r, ej(t, `{"owner":"u2"}`), user("u1"), "null")
	})
	t.Run("W-29", func(t *testing.T) {
		r := `{"name":"r","document_filters":{"read":false,"write":{"owner":"%%user.id"}},"read":true,"write":true}`
		readCase(t, r, ej(t, `{"owner":"u1"}`), user("u1"), `{"owner":"u1"}`)
		readCase(t, r, ej(t, `{"owner":"u2"}`), user("u1"), "null")
	})
	t.Run("W-30", func(t *testing.T) {
		s := roles(t, `[{"name":"r","apply_when":{},"insert":true,"delete":false,"write":{"%%prevRoot":{"%exists":false}},"additional_fields":{}}]`)
		v := view(t, s, user("u"))
		wantErr(t, "insert", v.CheckInsert(ctx, ej(t, `{"_id":1,"x":1}`)), nil)
		if got, _ := readAs(t, v, ej(t, `{"_id":1,"x":1}`)); got != "null" {
			t.Fatalf("insert-only role read %s", got)
		}
	})
	t.Run("W-31", func(t *testing.T) {
		s := roles(t, `[{"name":"r","apply_when":{},"insert":true,"delete":true}]`)
		v := view(t, s, user("u"))
		if got, _ := readAs(t, v, doc); got != "null" {
			t.Fatalf("read %s", got)
		}
		wantErr(t, "insert", v.CheckInsert(ctx, ej(t, `{"x":1}`)), ErrInsertNotPermitted)
		// Decision (§4.5 pre-image rule): a document the caller cannot
		// see is no candidate for a write, so delete: true deletes
		// nothing and an update matches nothing (no error either).
		wantErr(t, "delete", v.CheckDelete(ctx, doc), ErrNotVisible)
		wantErr(t, "update", update(t, v, doc, `{"$set":{"name":"x"}}`), ErrNotVisible)
		tg, err := v.CheckUpdateDoc(ej(t, `{"$set":{"name":"x"}}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, "update before", v.CheckUpdateBefore(ctx, doc, tg), ErrNotVisible)
		if canon(t, v.RulesFilter()) != canon(t, neverFilter) {
			t.Errorf("pushed-down filter %s, want one matching nothing", canon(t, v.RulesFilter()))
		}
	})

	// Write decisions.
	task := ej(t, `{"_id":1,"status":"open","title":"t","owner_id":"u1"}`)
	t.Run("W-32", func(t *testing.T) {
		v := view(t, roles(t, `[{"name":"r","read":true,"write":true,"insert":false}]`), user("u"))
		wantErr(t, "insert", v.CheckInsert(ctx, ej(t, `{"x":1}`)), ErrInsertNotPermitted)
		wantErr(t, "update", update(t, v, task, `{"$set":{"title":"x"}}`), nil)
	})
	t.Run("W-33", func(t *testing.T) {
		v := view(t, roles(t, `[{"name":"r","read":true,"fields":{"status":{"write":true}}}]`), user("u"))
		wantErr(t, "status", update(t, v, task, `{"$set":{"status":"done"}}`), nil)
		wantErr(t, "title", update(t, v, task, `{"$set":{"title":"x"}}`), ErrUpdateNotPermitted)
		wantErr(t, "both", update(t, v, task, `{"$set":{"status":"done","title":"x"}}`), ErrUpdateNotPermitted)
		wantErr(t, "unset title", update(t, v, task, `{"$unset":{"title":""}}`), ErrUpdateNotPermitted)
		wantErr(t, "rename status->title", update(t, v, task, `{"$rename":{"status":"title"}}`), ErrUpdateNotPermitted)
	})
	t.Run("W-34", func(t *testing.T) {
		r := `[{"name":"r","read":true,"write":false,"fields":{"status":{"write":true}}}]`
		wantErr(t, "flowchart", update(t, view(t, roles(t, r), user("u")), task, `{"$set":{"status":"done"}}`), ErrUpdateNotPermitted)
		s := roles(t, r)
		s.Options.Defaults.WriteFalseAllowsFields = true
		wantErr(t, "compat flag", update(t, view(t, s, user("u")), task, `{"$set":{"status":"done"}}`), nil)
	})
	t.Run("W-35", func(t *testing.T) {
		v := view(t, roles(t, `[{"name":"r","apply_when":{},"document_filters":{"read":{"owner_id":"%%user.id"},"write":{"owner_id":"%%user.id"}},"read":true,"write":true,"insert":true,"delete":true}]`), user("u1"))
		wantErr(t, "give away", update(t, v, task, `{"$set":{"owner_id":"u2"}}`), ErrUpdateNotPermitted)
		wantErr(t, "title", update(t, v, task, `{"$set":{"title":"t2"}}`), nil)
		wantErr(t, "insert other", v.CheckInsert(ctx, ej(t, `{"owner_id":"u2"}`)), ErrInsertNotPermitted)
		wantErr(t, "insert own", v.CheckInsert(ctx, ej(t, `{"owner_id":"u1"}`)), nil)
	})
	t.Run("W-36", func(t *testing.T) {
		v := view(t, roles(t, `[{"name":"r","write":true,"insert":false}]`), user("u"))
		seed, err := upsertDoc(ej(t, `{"name":"nope"}`), ej(t, `{"$set":{"a":1}}`))
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, "upsert insert", v.CheckUpsertInsert(ctx, seed), ErrInsertNotPermitted)
		wantErr(t, "upsert match", update(t, v, ej(t, `{"_id":1,"name":"nope"}`), `{"$set":{"a":1}}`), nil)
	})
	t.Run("W-39", func(t *testing.T) {
		v := view(t, roles(t, `[{"name":"r","read":true,"write":true,"delete":false}]`), user("u"))
		wantErr(t, "delete:false", v.CheckDelete(ctx, task), ErrDeleteNotPermitted)
		v = view(t, roles(t, `[{"name":"r","read":true,"write":false,"delete":true}]`), user("u"))
		wantErr(t, "write:false delete:true", v.CheckDelete(ctx, task), nil)
	})

	// Filters.
	t.Run("W-40", func(t *testing.T) {
		s := set(t, `{"roles":[{"name":"r","apply_when":{},"read":true}],"filters":[{"name":"own","apply_when":{"%%true":true},"query":{"owner_id":"%%user.id"},"projection":{}}]}`)
		v := view(t, s, user("u1"))
		got := canon(t, v.PushDown(ej(t, `{"status":"open"}`)))
		if want := `{"$and":[{"status":"open"},{"owner_id":"u1"}]}`; got != want {
			t.Fatalf("pushed down %s, want %s", got, want)
		}
		// Roles are still evaluated per returned document.
		s2 := set(t, `{"roles":[{"name":"r","apply_when":{"secret":false},"read":true}],"filters":[{"name":"own","apply_when":{"%%true":true},"query":{"owner_id":"%%user.id"}}]}`)
		if got, _ := readAs(t, view(t, s2, user("u1")), ej(t, `{"owner_id":"u1","secret":true}`)); got != "null" {
			t.Fatalf("role not evaluated after the filter: %s", got)
		}
	})
	t.Run("W-41", func(t *testing.T) {
		s := set(t, `{"roles":[{"name":"r","read":true}],"filters":[{"name":"adm","apply_when":{"%%user.custom_data.role":"admin"},"query":{"archived":false}}]}`)
		v := view(t, s, Caller{ID: "u", CustomData: ej(t, `{"role":"user"}`)})
		if got := canon(t, v.PushDown(ej(t, `{}`))); got != `{}` {
			t.Fatalf("filter applied: %s", got)
		}
		v = view(t, s, Caller{ID: "u", CustomData: ej(t, `{"role":"admin"}`)})
		if got := canon(t, v.PushDown(ej(t, `{}`))); got != `{"archived":false}` {
			t.Fatalf("filter not applied: %s", got)
		}
	})
	t.Run("W-42", func(t *testing.T) {
		s := set(t, `{"roles":[{"name":"r","read":true}],"filters":[{"name":"a","apply_when":{},"query":{},"projection":{"secret":0}},{"name":"b","apply_when":{},"query":{},"projection":{"name":1}}]}`)
		_, err := s.View(ctx, "db.c", user("u"), RequestContext{})
		if !errors.Is(err, ErrMixedProjection) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("W-43", func(t *testing.T) {
		_, err := LoadRules("db/c/rules.json", []byte(`{"roles":[],"filters":[{"name":"f","apply_when":{"%%root.owner":"x"},"query":{}}]}`))
		var le *LoadError
		if !errors.As(err, &le) || le.Path != "filters[0].apply_when" {
			t.Fatalf("got %v", err)
		}
	})

	// Aggregation and operators (§4.7).
	all := roles(t, `[{"name":"r","read":true,"write":true}]`)
	t.Run("W-44", func(t *testing.T) {
		p := []bson.D{ej(t, `{"$out":"x"}`)}
		wantErr(t, "user", view(t, all, user("u")).CheckPipeline(p), ErrForbidden)
		sys, _ := all.View(ctx, "db.c", Caller{System: true}, RequestContext{})
		wantErr(t, "system", sys.CheckPipeline(p), nil)
	})
	t.Run("W-45", func(t *testing.T) {
		p := []bson.D{ej(t, `{"$match":{}}`), ej(t, `{"$lookup":{"from":"other","localField":"a","foreignField":"b","as":"o"}}`)}
		v := view(t, all, user("u"))
		wantErr(t, "lookup", v.CheckPipeline(p), nil)
		if got := ForeignNamespaces(p); len(got) != 1 || got[0] != "other" {
			t.Errorf("foreign collections %v", got)
		}
	})
	t.Run("W-46", func(t *testing.T) {
		v := view(t, all, user("u"))
		wantErr(t, "$where", v.CheckFilter(ej(t, `{"$where":"true"}`)), ErrForbidden)
		wantErr(t, "$regex", v.CheckFilter(ej(t, `{"name":{"$regex":"^a"}}`)), ErrForbidden)
		wantErr(t, "$all", v.CheckFilter(ej(t, `{"tags":{"$all":["a"]}}`)), nil)
		s := roles(t, `[{"name":"r","read":true}]`)
		s.Options.AllowRegex = true
		wantErr(t, "$regex switched on", view(t, s, user("u")).CheckFilter(ej(t, `{"name":{"$regex":"^a"}}`)), nil)
	})
	t.Run("W-47", func(t *testing.T) {
		p := []bson.D{ej(t, `{"$project":{"x":{"$function":{"body":"function(){}","args":[],"lang":"js"}}}}`)}
		wantErr(t, "$function", view(t, all, user("u")).CheckPipeline(p), ErrForbidden)
	})

	// Flexible Sync.
	t.Run("W-48", func(t *testing.T) {
		flx, err := LoadFlexibleSync("sync/config.json", []byte(`{"defaultRoles":[{"name":"owner-read-write","applyWhen":{},"read":{"owner_id":"%%user.id"},"write":{"owner_id":"%%user.id"}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ExportRuleset(flx.Default)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"roles":[{"name":"owner-read-write","apply_when":{},"document_filters":{"read":{"owner_id":"%%user.id"},"write":{"owner_id":"%%user.id"}},"read":true,"write":true,"insert":true,"delete":true,"search":true}]}`
		if string(got) != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("W-49", func(t *testing.T) {
		flx, err := LoadFlexibleSync("sync/config.json", []byte(`{"rules":{},"defaultRoles":[{"name":"read-only","applyWhen":{},"write":{"$or":[{"owner_id":"%%user.id"},{"collaborators":"%%user.id"}]}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		s := NewSet(DefaultOptions())
		s.Default = flx.Default
		sv, err := s.SyncView(ctx, "db.Item", user("u3"), RequestContext{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		in, out := ej(t, `{"_id":1,"owner_id":"u1","collaborators":["u3"]}`), ej(t, `{"_id":2,"owner_id":"u1","collaborators":[]}`)
		if !sv.CanRead(ctx, in) || !sv.CanWrite(ctx, in) {
			t.Error("collaborator document not synced read+write")
		}
		if sv.CanRead(ctx, out) {
			t.Error("foreign document synced")
		}
	})
	t.Run("W-50", func(t *testing.T) {
		s := roles(t, `[{"name":"admin","apply_when":{"%%user.custom_data.isTeamAdmin":true},"document_filters":{"read":{"team":"%%user.custom_data.team"},"write":{"team":"%%user.custom_data.team"}},"read":true,"write":true,"insert":true,"delete":true},
			{"name":"user","apply_when":{},"document_filters":{"read":{"team":"%%user.custom_data.team"},"write":{"owner_id":"%%user.id"}},"read":true,"write":true,"insert":true,"delete":true}]`)
		u := Caller{ID: "u1", CustomData: ej(t, `{"team":"red","isTeamAdmin":false}`)}
		sv, err := s.SyncView(ctx, "db.c", u, RequestContext{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		red := ej(t, `{"_id":1,"team":"red","owner_id":"u9"}`)
		if !sv.CanRead(ctx, red) {
			t.Error("red document not readable")
		}
		err = sv.CheckUpload(ctx, red, ej(t, `{"_id":1,"team":"red","owner_id":"u9","x":1}`))
		if err == nil || err.Error() != `write to 1 in table "c" was denied by write filter in role "user"` {
			t.Errorf("got %v", err)
		}
	})
	t.Run("W-51", func(t *testing.T) {
		s := roles(t, `[{"name":"admin","apply_when":{"%%user.custom_data.isTeamAdmin":true},"document_filters":{"read":true,"write":true},"read":true,"write":true},{"name":"user","apply_when":{},"document_filters":{"read":true,"write":false},"read":true,"write":true}]`)
		u := Caller{ID: "u1", CustomData: ej(t, `{"isTeamAdmin":false}`)}
		sv, err := s.SyncView(ctx, "db.c", u, RequestContext{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		u.CustomData = ej(t, `{"isTeamAdmin":true}`) // changed mid-session
		if sv.RoleName() != "user" {
			t.Errorf("session role %q changed", sv.RoleName())
		}
		next, _ := s.SyncView(ctx, "db.c", u, RequestContext{}, nil)
		if next.RoleName() != "admin" {
			t.Errorf("next session role %q", next.RoleName())
		}
	})
	t.Run("W-52", func(t *testing.T) {
		s := roles(t, `[{"name":"a","apply_when":{},"read":true,"write":true},{"name":"b","apply_when":{},"document_filters":{"read":true,"write":true},"read":true,"write":true}]`)
		if _, err := s.SyncView(ctx, "db.c", user("u"), RequestContext{}, nil); !errors.Is(err, ErrSyncPermissionDenied) {
			t.Errorf("sync: got %v", err)
		}
		if got, role := readAs(t, view(t, s, user("u")), doc); role != "a" || got != canon(t, doc) {
			t.Errorf("non-sync: role %q read %s", role, got)
		}
	})
	t.Run("W-53", func(t *testing.T) {
		s := roles(t, `[{"name":"a","apply_when":{},"document_filters":{"read":{"secret_flag":true},"write":false},"read":true,"write":false}]`)
		if _, err := s.SyncView(ctx, "db.c", user("u"), RequestContext{}, []string{"owner_id"}); !errors.Is(err, ErrSyncPermissionDenied) {
			t.Errorf("got %v", err)
		}
		if _, err := s.SyncView(ctx, "db.c", user("u"), RequestContext{}, []string{"secret_flag"}); err != nil {
			t.Errorf("queryable: got %v", err)
		}
	})

	// Partition sync.
	t.Run("W-56", func(t *testing.T) {
		p, err := LoadPartition("sync/config.json", []byte(`{"read":{"%%partition":"%%user.id"},"write":{"%%partition":"%%user.id"}}`))
		if err != nil {
			t.Fatal(err)
		}
		if r, w := partitionAs(t, p, user("u1"), "u1"); !r || !w {
			t.Error("own partition denied")
		}
		if r, w := partitionAs(t, p, user("u1"), "u2"); r || w {
			t.Error("other partition allowed")
		}
	})
	t.Run("W-57", func(t *testing.T) {
		p, err := LoadPartition("sync/config.json", []byte(`{"read":{"%%user.custom_data.readPartitions":"%%partition"}}`))
		if err != nil {
			t.Fatal(err)
		}
		u := Caller{ID: "u", CustomData: ej(t, `{"readPartitions":["p1","p2"]}`)}
		if r, w := partitionAs(t, p, u, "p2"); !r || w {
			t.Errorf("p2: read %v write %v", r, w)
		}
		if r, _ := partitionAs(t, p, u, "p3"); r {
			t.Error("p3 readable")
		}
	})
	t.Run("W-58", func(t *testing.T) {
		p, err := LoadPartition("sync/config.json", []byte(`{"read":{},"write":{}}`))
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{"a", "u1", ""} {
			if r, w := partitionAs(t, p, user("u1"), part); !r || !w {
				t.Errorf("partition %q denied", part)
			}
		}
	})
}

func partitionAs(t *testing.T, p *PartitionPermissions, c Caller, partition any) (bool, bool) {
	b := c.Binding(RequestContext{})
	b.Partition = partition
	env, err := expr.Bind(b)
	if err != nil {
		t.Fatal(err)
	}
	return p.Decide(context.Background(), env)
}

type fnCaller struct {
	ret any
	err error
}

func (f fnCaller) CallFunction(context.Context, string, []any) (any, error) { return f.ret, f.err }

// TestWorkedCasesElsewhere names the package that holds each W-case that is
// not about the rules engine, so that none is dropped silently.
func TestWorkedCasesElsewhere(t *testing.T) {
	for _, c := range []struct{ w, where string }{
		{"W-37", "internal/jsonschema + internal/dataaccess (schema validation on insert/update)"},
		{"W-38", "internal/jsonschema (null type validation)"},
		{"W-54", "sync server (subscription query view); rules supplies SyncView.CanRead/CheckUpload"},
		{"W-55", "sync server (indexed queryable fields, bad query 226)"},
		{"W-59", "internal/auth (custom user data lookup)"},
		{"W-60", "internal/auth (custom user data id types)"},
		{"W-61", "internal/auth (custom data frozen in the token until refresh)"},
		{"W-62", "internal/auth (on_user_creation_function_name)"},
		{"W-63", "internal/appconfig (folder names the namespace)"},
		{"W-64", "internal/appconfig (schema-only folders)"},
		{"W-65", "internal/appconfig (environment templates)"},
		{"W-66", "internal/appconfig (v1 rules files); rules.LoadRules accepts their roles: TestLoadV1RulesFile"},
	} {
		t.Run(c.w, func(t *testing.T) { t.Logf("covered in %s", c.where) })
	}
}

// W-13 continued: a throwing apply_when denies the document; the later,
// broader role is not tried. A throwing filter apply_when fails the request.
func TestFailingExpressionsDeny(t *testing.T) {
	ctx := context.Background()
	s := roles(t, `[{"name":"fn","apply_when":{"%%true":{"%function":{"name":"f","arguments":["%%root.x"]}}},"read":true},{"name":"all","apply_when":{},"read":true}]`)
	v, err := s.View(ctx, "db.c", user("u"), RequestContext{Functions: fnCaller{err: errors.New("boom")}})
	if err != nil {
		t.Fatal(err)
	}
	if out, d := v.Read(ctx, ej(t, `{"x":1}`)); out != nil || d.Role != -1 {
		t.Errorf("read %v role %d", out, d.Role)
	}
	wantErr(t, "insert", v.CheckInsert(ctx, ej(t, `{"x":1}`)), ErrInsertNotPermitted)
	s = set(t, `{"roles":[{"name":"all","read":true}],"filters":[{"name":"f","apply_when":{"%%true":{"%function":{"name":"f","arguments":[]}}},"query":{"x":1}}]}`)
	if _, err := s.View(ctx, "db.c", user("u"), RequestContext{Functions: fnCaller{err: errors.New("boom")}}); err == nil {
		t.Error("a failing filter apply_when was skipped")
	}
}

func TestCanWrite(t *testing.T) {
	ctx := context.Background()
	emp := roles(t, "["+managerRole+","+employeeRole+","+teammateRole+"]")
	for u, want := range map[string]bool{"andy@dm": true, "phylis@dm": true, "stanley@dm": false, "oscar@dm": false} {
		team := "sales"
		if u == "oscar@dm" {
			team = "accounting"
		}
		c := employee(u, team)
		if u == "andy@dm" {
			c = employee(u, team, "phylis@dm")
		}
		if got := view(t, emp, c).CanWrite(ctx, phylisDoc); got != want {
			t.Errorf("%s: CanWrite %v", u, got)
		}
	}
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	d := ej(t, `{"_id":1,"x":1}`)
	for rule, want := range map[string]bool{
		`[{"name":"r","read":true,"search":false}]`: false,
		`[{"name":"r","read":true,"search":true}]`:  true,
		`[{"name":"r","read":true}]`:                true, // table default
	} {
		out, _ := view(t, roles(t, rule), user("u")).ReadSearch(ctx, d)
		if (out != nil) != want {
			t.Errorf("%s: search returned %v", rule, out)
		}
	}
	if !view(t, roles(t, `[{"name":"r","apply_when":true,"read":true}]`), user("u")).SearchMetaAllowed() {
		t.Error("literal true role: $$SEARCH_META refused")
	}
	for _, rule := range []string{`[{"name":"r","read":true}]`, `[{"name":"r","apply_when":true,"read":{}}]`, `[{"name":"r","apply_when":true,"write":true}]`} {
		if view(t, roles(t, rule), user("u")).SearchMetaAllowed() {
			t.Errorf("%s: $$SEARCH_META allowed", rule)
		}
	}
}

func TestSyncViewDetails(t *testing.T) {
	ctx := context.Background()
	s := roles(t, `[{"name":"own","apply_when":{},"document_filters":{"read":{"owner_id":"%%user.id"},"write":{"owner_id":"%%user.id"}},"read":true,"write":true,"insert":{"kind":"note"},"delete":false}]`)
	s.Collections["db.Item"] = s.Collections["db.c"]
	sv, err := s.SyncView(ctx, "db.Item", user("u1"), RequestContext{}, []string{"owner_id", "kind"})
	if err != nil {
		t.Fatal(err)
	}
	if got := canon(t, sv.ReadFilter()); got != `{"$or":[{"owner_id":"u1"},{"owner_id":"u1"}]}` && got != `{"owner_id":"u1"}` {
		t.Errorf("read filter %s", got)
	}
	oid, _ := bson.ObjectIDFromHex("5f650356a8631da45dd4784c")
	note := bson.D{{Key: "_id", Value: oid}, {Key: "owner_id", Value: "u1"}, {Key: "kind", Value: "note"}}
	task := bson.D{{Key: "_id", Value: "t1"}, {Key: "owner_id", Value: "u1"}, {Key: "kind", Value: "task"}}
	wantErr(t, "insert note", sv.CheckUpload(ctx, nil, note), nil)
	err = sv.CheckUpload(ctx, nil, task)
	if err == nil || err.Error() != `write to "t1" in table "Item" was denied by write filter in role "own"` {
		t.Errorf("insert task: %v", err)
	}
	err = sv.CheckUpload(ctx, note, nil)
	if err == nil || err.Error() != `write to ObjectID("5f650356a8631da45dd4784c") in table "Item" was denied by write filter in role "own"` {
		t.Errorf("delete: %v", err)
	}
	foreign := bson.D{{Key: "_id", Value: int64(7)}, {Key: "owner_id", Value: "u2"}}
	err = sv.CheckUpload(ctx, foreign, foreign)
	if err == nil || err.Error() != `write to 7 in table "Item" not allowed; object is outside of the current query view` {
		t.Errorf("foreign: %v", err)
	}
	uuid := bson.Binary{Subtype: bson.TypeBinaryUUID, Data: []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0}}
	if got := renderPK(uuid); got != "UUID(12345678-9abc-def0-1234-56789abcdef0)" {
		t.Errorf("uuid %s", got)
	}
	// Incompatible roles: each reason.
	for rule, why := range map[string]string{
		`{"name":"a","document_filters":{"read":true},"read":true,"write":true}`:                                                              "both required",
		`{"name":"a","document_filters":{"read":true,"write":true},"read":{"x":1},"write":true}`:                                              "read must be a boolean",
		`{"name":"a","document_filters":{"read":true,"write":true},"read":true,"write":true,"fields":{"_id":{"read":true}}}`:                  "_id",
		`{"name":"a","document_filters":{"read":true,"write":true},"read":true,"write":true,"fields":{"x":{"read":{"y":1}}}}`:                 "must be a boolean",
		`{"name":"a","document_filters":{"read":true,"write":true},"read":true,"write":true,"additional_fields":{"read":{"y":1}}}`:            "must be booleans",
		`{"name":"a","document_filters":{"read":{"%%request.remoteIPAddress":"x"},"write":true},"read":true,"write":true}`:                    "uses",
		`{"name":"a","document_filters":{"read":{"%%true":{"%function":{"name":"f","arguments":[]}}},"write":true},"read":true,"write":true}`: "uses",
	} {
		_, err := roles(t, "["+rule+"]").SyncView(ctx, "db.c", user("u"), RequestContext{}, nil)
		if !errors.Is(err, ErrSyncPermissionDenied) || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: got %v, want %q", rule, err, why)
		}
	}
}
