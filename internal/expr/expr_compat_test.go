package expr

// Tests for docs/compat.md entries of the expr package that no other test
// held on its own.

import (
	"errors"
	"strings"
	"testing"
)

// A missing value inside a literal array becomes null; inside a literal
// document its field is dropped.
func TestCompatMissingInsideLiterals(t *testing.T) {
	u := userEnv(t, "u1", "", `{"team":"red"}`)
	read := func(s string) Input { return ReadOf(jdoc(t, s)) }
	runEvalCases(t, []evalCase{
		{name: "array-missing-is-null", expr: `{"a":["%%user.custom_data.none",1]}`, env: u, in: read(`{"a":[null,1]}`), want: true},
		{name: "document-missing-dropped", expr: `{"a":{"t":"%%user.custom_data.team","x":"%%user.custom_data.none"}}`, env: u, in: read(`{"a":{"t":"red"}}`), want: true},
		{name: "document-missing-not-null", expr: `{"a":{"t":"%%user.custom_data.team","x":"%%user.custom_data.none"}}`, env: u, in: read(`{"a":{"t":"red","x":null}}`), want: false},
	})
}

// Unset bindings: no custom data is {}; no user means %%user is missing;
// empty request fields are missing; unbound partition and args are missing;
// without an environment the tag is "".
func TestCompatUnsetBindings(t *testing.T) {
	noCustom := userEnv(t, "u1", "", "")
	anon := bind(t, Binding{})
	runEvalCases(t, []evalCase{
		{name: "custom-data-empty", expr: `{"%%user.custom_data":{}}`, env: noCustom, in: NoDocument, want: true},
		{name: "no-user-missing", expr: `{"%%user":{"%exists":false}}`, env: anon, in: NoDocument, want: true},
		{name: "no-request-missing", expr: `{"%%request.httpMethod":{"%exists":false}}`, env: anon, in: NoDocument, want: true},
		{name: "no-partition-missing", expr: `{"%%partition":{"%exists":false}}`, env: anon, in: NoDocument, want: true},
		{name: "no-args-missing", expr: `{"%%args":{"%exists":false}}`, env: anon, in: NoDocument, want: true},
		{name: "no-environment-tag", expr: `{"%%environment.tag":""}`, env: anon, in: NoDocument, want: true},
	})
}

// Expressions nest at most MaxDepth (100) levels.
func TestCompatExpressionDepth(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat(`{"%and":[`, n) + `{"a":1}` + strings.Repeat(`]}`, n)
	}
	if _, err := ParseJSON([]byte(nest(40))); err != nil {
		t.Fatalf("40 levels: %v", err)
	}
	_, err := ParseJSON([]byte(nest(MaxDepth)))
	if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "maximum depth") {
		t.Fatalf("%d levels: %v", MaxDepth, err)
	}
	// Bound values nest at most as deep: a custom data document deeper
	// than that fails the binding, so no rule can see it.
	deep := strings.Repeat(`{"x":`, MaxDepth+1) + `1` + strings.Repeat(`}`, MaxDepth+1)
	u := &User{ID: "u1", Type: "normal", CustomData: jdoc(t, deep)}
	if _, err := Bind(Binding{User: u}); err == nil {
		t.Fatal("binding a custom data document deeper than MaxDepth succeeded")
	}
}
