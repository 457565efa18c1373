package rules

import (
	"context"
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	ctx := context.Background()
	emp := roles(t, "["+managerRole+","+employeeRole+","+teammateRole+"]")

	ex := Explain(ctx, view(t, emp, employee("stanley@dm", "sales")), phylisDoc)
	if ex.Role != "Teammate" || ex.Level != Whole || len(ex.Skipped) != 2 {
		t.Fatalf("%+v", ex)
	}
	if ex.Skipped[0].Role != "Manager" || ex.Skipped[1].Role != "Employee" || !strings.Contains(ex.Skipped[0].Reason, "apply_when is false") {
		t.Errorf("skipped %+v", ex.Skipped)
	}
	if ex.Reason != "read is true" {
		t.Errorf("reason %q", ex.Reason)
	}

	ex = Explain(ctx, view(t, emp, employee("oscar@dm", "accounting")), phylisDoc)
	if ex.Role != "" || ex.Level != Withhold || len(ex.Skipped) != 3 || !strings.Contains(ex.Reason, "no role applies") {
		t.Errorf("%+v", ex)
	}

	// A role whose apply_when depends only on the user says so.
	s := roles(t, `[{"name":"admin","apply_when":{"%%user.custom_data.isAdmin":true},"read":true},{"name":"r","apply_when":{},"fields":{"name":{"read":true},"secret":{"read":false},"a":{"fields":{"b":{"read":true}}}},"additional_fields":{}}]`)
	d := ej(t, `{"_id":1,"name":"n","secret":"s","a":{"b":1,"c":2},"x":3}`)
	ex = Explain(ctx, view(t, s, user("u1")), d)
	if ex.Role != "r" || ex.Level != Partial || ex.Skipped[0].Reason != "apply_when is false for this user" {
		t.Fatalf("%+v", ex)
	}
	got := map[string]string{}
	for _, w := range ex.Withheld {
		got[w.Field] = w.Reason
	}
	want := map[string]string{
		"_id":    "not listed in fields; additional_fields read and write do not hold",
		"secret": "fields.secret: neither read nor write holds",
		"a.c":    "not listed under the parent's nested fields",
		"x":      "not listed in fields; additional_fields read and write do not hold",
	}
	if len(got) != len(want) {
		t.Errorf("withheld %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q want %q", k, got[k], v)
		}
	}

	// Document filters and the insert-only role.
	ex = Explain(ctx, view(t, roles(t, `[{"name":"r","document_filters":{"read":{"owner":"%%user.id"},"write":false},"read":true}]`), user("u1")), ej(t, `{"owner":"u2"}`))
	if ex.Level != Withhold || !strings.Contains(ex.Reason, "document_filters") {
		t.Errorf("%+v", ex)
	}
	ex = Explain(ctx, view(t, roles(t, `[{"name":"r","insert":true,"write":{"%%prevRoot":{"%exists":false}},"additional_fields":{}}]`), user("u1")), ej(t, `{"x":1}`))
	if ex.Level != Withhold || ex.Reason != "field rules: no field is readable" {
		t.Errorf("%+v", ex)
	}
	sys, _ := NewSet(DefaultOptions()).View(ctx, "db.c", Caller{System: true}, RequestContext{})
	if ex := Explain(ctx, sys, phylisDoc); !ex.System || ex.Level != Whole {
		t.Errorf("%+v", ex)
	}
}
