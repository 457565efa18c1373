package expr

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// evalCase is one expression decision from the spec's worked examples
// (rules-and-config.md §9) or §5 text.
type evalCase struct {
	name    string
	expr    string
	env     *Env
	in      Input
	want    bool
	wantErr error
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := parse(t, c.expr)
			got, err := e.Eval(context.Background(), c.env, c.in)
			bgot, berr := e.Bind(context.Background(), c.env).Eval(context.Background(), c.in)
			if bgot != got || (berr == nil) != (err == nil) {
				t.Fatalf("Bound.Eval = %v, %v; Expr.Eval = %v, %v", bgot, berr, got, err)
			}
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err = %v, want %v", err, c.wantErr)
				}
				if got {
					t.Fatal("an erroring evaluation must not return true")
				}
				return
			}
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if got != c.want {
				t.Fatalf("Eval(%s) = %v, want %v", c.expr, got, c.want)
			}
			checkCompileConsistent(t, e, c.env, c.in, got)
		})
	}
}

// checkCompileConsistent holds Compile to Eval where that is possible
// without a query engine: constant results must equal the decision for any
// read, and a never-result must not accept a document.
func checkCompileConsistent(t *testing.T, e *Expr, env *Env, in Input, got bool) {
	t.Helper()
	if !in.hasRoot || !in.hasPrevRoot || !sameDoc(in.root, in.prevRoot) || in.hasThis || in.hasPrev {
		return // Compile describes reads only
	}
	c := e.Compile(context.Background(), env)
	switch c.Kind {
	case KindAlways:
		if !got {
			t.Fatalf("Compile says always, Eval says false")
		}
	case KindNever:
		if got {
			t.Fatalf("Compile says never, Eval says true")
		}
	}
}

func sameDoc(a, b bson.D) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func TestWorkedCasesRoles(t *testing.T) {
	manager := `{"email":"%%user.custom_data.manages"}`
	employee := `{"email":"%%user.data.email"}`
	teammate := `{"team":"%%user.data.team"}`
	phylis := ReadOf(jdoc(t, `{"email":"phylis@x","team":"sales"}`))
	andy := userEnv(t, "andy", `{"email":"andy@x","team":"mgmt"}`, `{"manages":["phylis@x","stanley@x"]}`)
	phylisU := userEnv(t, "phylis", `{"email":"phylis@x","team":"sales"}`, `{"manages":[]}`)
	stanley := userEnv(t, "stanley", `{"email":"stanley@x","team":"sales"}`, `{"manages":[]}`)
	other := userEnv(t, "oscar", `{"email":"oscar@x","team":"accounting"}`, `{"manages":[]}`)
	runEvalCases(t, []evalCase{
		{name: "W-1/manager-membership", expr: manager, env: andy, in: phylis, want: true},
		{name: "W-2/manager-false-for-phylis", expr: manager, env: phylisU, in: phylis, want: false},
		{name: "W-2/employee-true-for-phylis", expr: employee, env: phylisU, in: phylis, want: true},
		{name: "W-3/employee-false-for-stanley", expr: employee, env: stanley, in: phylis, want: false},
		{name: "W-3/teammate-true-for-stanley", expr: teammate, env: stanley, in: phylis, want: true},
		{name: "W-4/no-role/manager", expr: manager, env: other, in: phylis, want: false},
		{name: "W-4/no-role/employee", expr: employee, env: other, in: phylis, want: false},
		{name: "W-4/no-role/teammate", expr: teammate, env: other, in: phylis, want: false},
		{name: "W-6/owner-u1-doc-u2", expr: `{"owner":"%%user.id"}`, env: userEnv(t, "u1", "", ""), in: ReadOf(jdoc(t, `{"owner":"u2"}`)), want: false},
		{name: "W-6/owner-u1-doc-u1", expr: `{"owner":"%%user.id"}`, env: userEnv(t, "u1", "", ""), in: ReadOf(jdoc(t, `{"owner":"u1"}`)), want: true},
	})
}

func TestWorkedCasesExpressionSemantics(t *testing.T) {
	u1, u2, u3 := userEnv(t, "u1", "", ""), userEnv(t, "u2", "", ""), userEnv(t, "u3", "", "")
	collab := `{"collaborators":"%%user.id"}`
	subscribed := `{"owner_id":{"$in":"%%user.custom_data.subscribedTo"}}`
	subs := userEnv(t, "u1", "", `{"subscribedTo":["a","b"]}`)
	noSubs := userEnv(t, "u1", "", `{}`)
	admin := `{"%%user.custom_data.isGlobalAdmin": true}`
	isEven := `{"%%true":{"%function":{"name":"isEven","arguments":[42]}}}`
	fnEnv := func(ret any, err error) *Env {
		return bind(t, Binding{Functions: funcs{"isEven": func(args []any) (any, error) {
			if len(args) != 1 || args[0] != int32(42) {
				return nil, errors.New("bad arguments")
			}
			return ret, err
		}}})
	}
	oidUser := userEnv(t, "5f650356a8631da45dd4784c", "", "")
	args := func(v string) *Env {
		b := Binding{}
		if v != "" {
			b.Args = jdoc(t, v)
		}
		return bind(t, b)
	}
	reqEnv := func(ip string) *Env {
		return bind(t, Binding{
			User:    &User{ID: "u1"},
			Request: &Request{RemoteIPAddress: ip},
			Values:  map[string]any{"allowedClientIPAddresses": bson.A{"1.2.3.4"}},
		})
	}
	envTag := func(tag string, values map[string]any) *Env {
		return bind(t, Binding{Environment: Environment{Tag: tag, Values: values}})
	}
	w18 := `{"%or":[{"%%prevRoot":{"%exists":true}},{"%%root.status":"new"}]}`
	none := NoDocument
	runEvalCases(t, []evalCase{
		{name: "W-9/u2-in-array", expr: collab, env: u2, in: ReadOf(jdoc(t, `{"collaborators":["u1","u2"]}`)), want: true},
		{name: "W-9/u3-not-in-array", expr: collab, env: u3, in: ReadOf(jdoc(t, `{"collaborators":["u1","u2"]}`)), want: false},
		{name: "W-9/missing-field", expr: collab, env: u2, in: ReadOf(jdoc(t, `{}`)), want: false},
		{name: "W-9/scalar-field", expr: collab, env: u2, in: ReadOf(jdoc(t, `{"collaborators":"u2"}`)), want: true},
		{name: "W-10/in-subscribed", expr: subscribed, env: subs, in: ReadOf(jdoc(t, `{"owner_id":"b"}`)), want: true},
		{name: "W-10/not-subscribed", expr: subscribed, env: subs, in: ReadOf(jdoc(t, `{"owner_id":"c"}`)), want: false},
		{name: "W-10/expansion-missing", expr: subscribed, env: noSubs, in: ReadOf(jdoc(t, `{"owner_id":"b"}`)), want: false},
		{name: "W-11/custom-data-empty", expr: admin, env: userEnv(t, "u", "", `{}`), in: none, want: false},
		{name: "W-11/admin-true", expr: admin, env: userEnv(t, "u", "", `{"isGlobalAdmin":true}`), in: none, want: true},
		{name: "W-11/admin-string-true", expr: admin, env: userEnv(t, "u", "", `{"isGlobalAdmin":"true"}`), in: none, want: false},
		{name: "W-11/no-user", expr: admin, env: nil, in: none, want: false},
		{name: "W-12/empty-object", expr: `{}`, in: none, want: true},
		{name: "W-12/true", expr: `true`, in: none, want: true},
		{name: "W-12/false", expr: `false`, in: none, want: false},
		{name: "W-12/%%true-true", expr: `{"%%true": true}`, in: none, want: true},
		{name: "W-12/%%false-true", expr: `{"%%false": true}`, in: none, want: false},
		{name: "W-13/returns-true", expr: isEven, env: fnEnv(true, nil), in: none, want: true},
		{name: "W-13/returns-yes", expr: isEven, env: fnEnv("yes", nil), in: none, want: false},
		{name: "W-13/returns-array-true-is-not-true", expr: isEven, env: fnEnv([]any{true}, nil), in: none, want: false},
		{name: "W-13/throws", expr: isEven, env: fnEnv(nil, errors.New("boom")), in: none, wantErr: ErrFunction},
		{name: "W-13/no-caller", expr: isEven, env: nil, in: none, wantErr: ErrNoFunctionCaller},
		{name: "W-14/oid-matches", expr: `{"_id":{"%stringToOid":"%%user.id"}}`, env: oidUser,
			in: ReadOf(jdoc(t, `{"_id":{"$oid":"5f650356a8631da45dd4784c"}}`)), want: true},
		{name: "W-14/string-id-does-not", expr: `{"_id":{"%stringToOid":"%%user.id"}}`, env: oidUser,
			in: ReadOf(jdoc(t, `{"_id":"5f650356a8631da45dd4784c"}`)), want: false},
		{name: "W-15/42", expr: `{"%%args.someNumber":{"%and":[{"$gt":0},{"$lte":42}]}}`, env: args(`{"someNumber":42}`), in: none, want: true},
		{name: "W-15/0", expr: `{"%%args.someNumber":{"%and":[{"$gt":0},{"$lte":42}]}}`, env: args(`{"someNumber":0}`), in: none, want: false},
		{name: "W-15/43", expr: `{"%%args.someNumber":{"%and":[{"$gt":0},{"$lte":42}]}}`, env: args(`{"someNumber":43}`), in: none, want: false},
		{name: "W-15/missing", expr: `{"%%args.someNumber":{"%and":[{"$gt":0},{"$lte":42}]}}`, env: args(`{}`), in: none, want: false},
		{name: "W-15/no-args", expr: `{"%%args.someNumber":{"%and":[{"$gt":0},{"$lte":42}]}}`, env: args(""), in: none, want: false},
		{name: "W-16/allowed-ip-and-owner", expr: `{"%%request.remoteIPAddress":{"$in":"%%values.allowedClientIPAddresses"},"owner":"%%user.id"}`,
			env: reqEnv("1.2.3.4"), in: ReadOf(jdoc(t, `{"owner":"u1"}`)), want: true},
		{name: "W-16/other-ip", expr: `{"%%request.remoteIPAddress":{"$in":"%%values.allowedClientIPAddresses"},"owner":"%%user.id"}`,
			env: reqEnv("5.6.7.8"), in: ReadOf(jdoc(t, `{"owner":"u1"}`)), want: false},
		{name: "W-16/allowed-ip-other-owner", expr: `{"%%request.remoteIPAddress":{"$in":"%%values.allowedClientIPAddresses"},"owner":"%%user.id"}`,
			env: reqEnv("1.2.3.4"), in: ReadOf(jdoc(t, `{"owner":"u2"}`)), want: false},
		{name: "W-17/production-with-baseUrl", expr: `{"%%environment.tag":"production","%%environment.values.baseUrl":{"%exists":true}}`,
			env: envTag("production", map[string]any{"baseUrl": "https://x"}), in: none, want: true},
		{name: "W-17/no-environment", expr: `{"%%environment.tag":"production","%%environment.values.baseUrl":{"%exists":true}}`,
			env: envTag("", nil), in: none, want: false},
		{name: "W-17/production-without-baseUrl", expr: `{"%%environment.tag":"production","%%environment.values.baseUrl":{"%exists":true}}`,
			env: envTag("production", map[string]any{}), in: none, want: false},
		{name: "W-18/insert-new", expr: w18, in: InsertOf(jdoc(t, `{"status":"new"}`)), want: true},
		{name: "W-18/insert-old", expr: w18, in: InsertOf(jdoc(t, `{"status":"old"}`)), want: false},
		{name: "W-18/update", expr: w18, in: UpdateOf(jdoc(t, `{"status":"old"}`), jdoc(t, `{"status":"older"}`)), want: true},
		{name: "W-19/nested-doc", expr: `{"address.city":"Paris"}`, in: ReadOf(jdoc(t, `{"address":{"city":"Paris"}}`)), want: true},
		{name: "W-19/array-of-docs", expr: `{"items.sku":"x"}`, in: ReadOf(jdoc(t, `{"items":[{"sku":"y"},{"sku":"x"}]}`)), want: true},
		{name: "W-19/array-of-docs-miss", expr: `{"items.sku":"z"}`, in: ReadOf(jdoc(t, `{"items":[{"sku":"y"},{"sku":"x"}]}`)), want: false},
		{name: "W-20/%in", expr: `{"url":{"%in":["https://a","https://b"]}}`, in: ReadOf(jdoc(t, `{"url":"https://b"}`)), want: true},
		{name: "W-20/%in-miss", expr: `{"url":{"%in":["https://a","https://b"]}}`, in: ReadOf(jdoc(t, `{"url":"https://c"}`)), want: false},
		{name: "W-20/$in-same", expr: `{"url":{"$in":["https://a","https://b"]}}`, in: ReadOf(jdoc(t, `{"url":"https://b"}`)), want: true},
		{name: "W-20/%exists-0-missing", expr: `{"x":{"%exists":0}}`, in: ReadOf(jdoc(t, `{}`)), want: true},
		{name: "W-20/%exists-0-present", expr: `{"x":{"%exists":0}}`, in: ReadOf(jdoc(t, `{"x":null}`)), want: false},
		{name: "W-20/%exists-1-present", expr: `{"x":{"%exists":1}}`, in: ReadOf(jdoc(t, `{"x":null}`)), want: true},
		{name: "u1-collab-alias", expr: collab, env: u1, in: ReadOf(jdoc(t, `{"collaborators":["u1"]}`)), want: true},
	})
}

func TestWorkedCasesRulesExpressions(t *testing.T) {
	u1 := userEnv(t, "u1", "", "")
	u3 := userEnv(t, "u3", "", "")
	ownerRead := `{"owner":"%%user.id"}`
	insertOnly := `{"%%prevRoot":{"%exists":false}}`
	ownerID := `{"owner_id":"%%user.id"}`
	w49 := `{"$or":[{"owner_id":"%%user.id"},{"collaborators":"%%user.id"}]}`
	red := userEnv(t, "u1", "", `{"team":"red","isTeamAdmin":false}`)
	runEvalCases(t, []evalCase{
		{name: "W-28/own-doc", expr: ownerRead, env: u1, in: ReadOf(jdoc(t, `{"owner":"u1"}`)), want: true},
		{name: "W-28/other-doc", expr: ownerRead, env: u1, in: ReadOf(jdoc(t, `{"owner":"u2"}`)), want: false},
		{name: "W-29/write-filter", expr: ownerRead, env: u1, in: ReadOf(jdoc(t, `{"owner":"u1"}`)), want: true},
		{name: "W-30/insert-allowed", expr: insertOnly, in: InsertOf(jdoc(t, `{"x":1}`)), want: true},
		{name: "W-30/read-denied", expr: insertOnly, in: ReadOf(jdoc(t, `{"x":1}`)), want: false},
		{name: "W-30/update-denied", expr: insertOnly, in: UpdateOf(jdoc(t, `{"x":1}`), jdoc(t, `{"x":2}`)), want: false},
		{name: "W-35/post-image-changes-owner", expr: ownerID, env: u1,
			in: UpdateOf(jdoc(t, `{"owner_id":"u1"}`), jdoc(t, `{"owner_id":"u2"}`)), want: false},
		{name: "W-35/post-image-keeps-owner", expr: ownerID, env: u1,
			in: UpdateOf(jdoc(t, `{"owner_id":"u1"}`), jdoc(t, `{"owner_id":"u1","title":"t"}`)), want: true},
		{name: "W-35/insert-for-other", expr: ownerID, env: u1, in: InsertOf(jdoc(t, `{"owner_id":"u2"}`)), want: false},
		{name: "W-41/filter-apply-when-user", expr: `{"%%user.custom_data.role":"admin"}`, env: userEnv(t, "u", "", `{"role":"user"}`), in: NoDocument, want: false},
		{name: "W-41/filter-apply-when-admin", expr: `{"%%user.custom_data.role":"admin"}`, env: userEnv(t, "u", "", `{"role":"admin"}`), in: NoDocument, want: true},
		{name: "W-49/collaborator", expr: w49, env: u3, in: ReadOf(jdoc(t, `{"owner_id":"u1","collaborators":["u3"]}`)), want: true},
		{name: "W-49/not-collaborator", expr: w49, env: u3, in: ReadOf(jdoc(t, `{"owner_id":"u1","collaborators":[]}`)), want: false},
		{name: "W-50/admin-apply-when", expr: `{"%%user.custom_data.isTeamAdmin":true}`, env: red, in: NoDocument, want: false},
		{name: "W-50/red-team-read", expr: `{"team":"%%user.custom_data.team"}`, env: red, in: ReadOf(jdoc(t, `{"team":"red","owner_id":"u9"}`)), want: true},
		{name: "W-50/blue-team-read", expr: `{"team":"%%user.custom_data.team"}`, env: red, in: ReadOf(jdoc(t, `{"team":"blue"}`)), want: false},
		{name: "W-50/write-others-doc", expr: ownerID, env: red, in: UpdateOf(jdoc(t, `{"team":"red","owner_id":"u9"}`), jdoc(t, `{"team":"red","owner_id":"u9","x":1}`)), want: false},
		{name: "W-56/own-partition", expr: `{"%%partition":"%%user.id"}`, env: bind(t, Binding{User: &User{ID: "u1"}, Partition: "u1"}), in: NoDocument, want: true},
		{name: "W-56/other-partition", expr: `{"%%partition":"%%user.id"}`, env: bind(t, Binding{User: &User{ID: "u1"}, Partition: "u2"}), in: NoDocument, want: false},
		{name: "W-57/read-partitions", expr: `{"%%user.custom_data.readPartitions":"%%partition"}`,
			env: bind(t, Binding{User: &User{ID: "u1", CustomData: jdoc(t, `{"readPartitions":["p1","p2"]}`)}, Partition: "p2"}), in: NoDocument, want: true},
		{name: "W-57/read-partitions-miss", expr: `{"%%user.custom_data.readPartitions":"%%partition"}`,
			env: bind(t, Binding{User: &User{ID: "u1", CustomData: jdoc(t, `{"readPartitions":["p1","p2"]}`)}, Partition: "p3"}), in: NoDocument, want: false},
		{name: "W-58/empty-is-true", expr: `{}`, env: bind(t, Binding{Partition: "any"}), in: NoDocument, want: true},
	})
}

// TestWorkedCaseW43 holds the load-time check the rules engine relies on:
// an expression reading the document reports it in Uses.
func TestWorkedCaseW43(t *testing.T) {
	for _, s := range []string{`{"%%root.owner":"%%user.id"}`, `{"owner":"%%user.id"}`, `{"%%prevRoot":{"$exists":true}}`, `{"%%true":"%%this"}`} {
		if parse(t, s).Uses()&UsesDocument == 0 {
			t.Errorf("%s: Uses() = %v, want a document expansion", s, parse(t, s).Uses())
		}
	}
	if u := parse(t, `{"%%user.custom_data.role":"admin","%%values.x":{"$in":[1]}}`).Uses(); u&UsesDocument != 0 || u != UsesUser|UsesValues {
		t.Errorf("Uses() = %v", u)
	}
}
