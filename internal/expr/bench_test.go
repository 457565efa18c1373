package expr

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// benchDoc is a typical 10-field document.
func benchDoc(b *testing.B) bson.D {
	return jdoc(b, `{"_id":{"$oid":"5f650356a8631da45dd4784c"},"title":"t","status":"open","team":"red",
		"email":"phylis@x","created":{"$date":"2024-01-01T00:00:00Z"},"n":42,
		"collaborators":["u1","u2","u3"],"items":[{"sku":"a"},{"sku":"b"}],"owner_id":"u2"}`)
}

func benchEnv(b *testing.B) *Env {
	return bind(b, Binding{User: &User{ID: "u2", Type: "normal",
		Data:       jdoc(b, `{"email":"phylis@x","team":"red"}`),
		CustomData: jdoc(b, `{"team":"red","manages":["stanley@x","phylis@x"],"isGlobalAdmin":false}`)}})
}

func benchEval(b *testing.B, src string) {
	e := parse(b, src)
	env := benchEnv(b)
	in := ReadOf(benchDoc(b))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Eval(ctx, env, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalEquality(b *testing.B)   { benchEval(b, `{"owner_id":"%%user.id"}`) }
func BenchmarkEvalMembership(b *testing.B) { benchEval(b, `{"email":"%%user.custom_data.manages"}`) }
func BenchmarkEvalArrayField(b *testing.B) { benchEval(b, `{"collaborators":"%%user.id"}`) }
func BenchmarkEvalDottedPath(b *testing.B) { benchEval(b, `{"items.sku":"b"}`) }
func BenchmarkEvalIn(b *testing.B) {
	benchEval(b, `{"team":{"$in":["blue","%%user.custom_data.team"]}}`)
}
func BenchmarkEvalOrW49(b *testing.B) {
	benchEval(b, `{"$or":[{"owner_id":"%%user.id"},{"collaborators":"%%user.id"}]}`)
}
func BenchmarkEvalAdminOrOwner(b *testing.B) {
	benchEval(b, `{"$or":[{"%%user.custom_data.isGlobalAdmin":true},{"owner_id":"%%user.id","status":{"$ne":"archived"}}]}`)
}

// BenchmarkEvalThreeRoles is the per-document budget: pick the
// first of three roles with equality apply_when (Manager/Employee/Teammate).
func BenchmarkEvalThreeRoles(b *testing.B) {
	roles := []*Expr{
		parse(b, `{"email":"%%user.custom_data.manages"}`),
		parse(b, `{"email":"%%user.data.email"}`),
		parse(b, `{"team":"%%user.data.team"}`),
	}
	env := bind(b, Binding{User: &User{ID: "u9", Data: jdoc(b, `{"email":"x@x","team":"red"}`), CustomData: jdoc(b, `{"manages":[]}`)}})
	in := ReadOf(benchDoc(b))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, r := range roles {
			if ok, _ := r.Eval(ctx, env, in); ok {
				break
			}
		}
	}
}

func BenchmarkCompileOwner(b *testing.B) {
	e := parse(b, `{"owner_id":"%%user.id"}`)
	env := benchEnv(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = e.Compile(ctx, env)
	}
}

func BenchmarkCompileMembershipOr(b *testing.B) {
	e := parse(b, `{"$or":[{"%%user.custom_data.isGlobalAdmin":true},{"email":"%%user.custom_data.manages"},{"collaborators":"%%user.id"}]}`)
	env := benchEnv(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = e.Compile(ctx, env)
	}
}

func BenchmarkBind(b *testing.B) {
	u := &User{ID: "u2", Type: "normal", Data: jdoc(b, `{"email":"phylis@x"}`), CustomData: jdoc(b, `{"team":"red","manages":["a","b"]}`)}
	vals := map[string]any{"a": "x", "b": bson.A{"1", "2"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Bind(Binding{User: u, Values: vals}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	src := []byte(`{"$or":[{"%%user.custom_data.isGlobalAdmin":true},{"owner_id":"%%user.id","status":{"$ne":"archived"}}]}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseJSON(src); err != nil {
			b.Fatal(err)
		}
	}
}

func benchBound(b *testing.B, src string) {
	e := parse(b, src)
	bound := e.Bind(context.Background(), benchEnv(b))
	in := ReadOf(benchDoc(b))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := bound.Eval(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBoundEquality(b *testing.B) { benchBound(b, `{"owner_id":"%%user.id"}`) }
func BenchmarkBoundIn(b *testing.B) {
	benchBound(b, `{"team":{"$in":["blue","%%user.custom_data.team"]}}`)
}
func BenchmarkBoundAdminOrOwner(b *testing.B) {
	benchBound(b, `{"$or":[{"%%user.custom_data.isGlobalAdmin":true},{"owner_id":"%%user.id","status":{"$ne":"archived"}}]}`)
}

// BenchmarkBindAndDecideThreeRoles is the budget measured end to
// end: bind three roles for a caller, then decide documents; reported per
// document over a 100-document page.
func BenchmarkBindAndDecideThreeRoles(b *testing.B) {
	roles := []*Expr{
		parse(b, `{"email":"%%user.custom_data.manages"}`),
		parse(b, `{"email":"%%user.data.email"}`),
		parse(b, `{"team":"%%user.data.team"}`),
	}
	env := bind(b, Binding{User: &User{ID: "u9", Data: jdoc(b, `{"email":"x@x","team":"red"}`), CustomData: jdoc(b, `{"manages":[]}`)}})
	in := ReadOf(benchDoc(b))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var bound [3]*Bound
		for j, r := range roles {
			bound[j] = r.Bind(ctx, env)
		}
		for d := 0; d < 100; d++ {
			for _, r := range bound {
				if ok, _ := r.Eval(ctx, in); ok {
					break
				}
			}
		}
	}
}

// BenchmarkSpecialise sets the rules engine's lazy specialisation
// threshold: for each expression, the cost of Expr.Bind against what it
// saves per document (Eval vs Bound.Eval). Specialising pays off after
// bind/(eval-bound) documents.
func BenchmarkSpecialise(b *testing.B) {
	for name, src := range map[string]string{
		"userID":     `{"owner_id":"%%user.id"}`,
		"customData": `{"team":"%%user.custom_data.team"}`,
		"literal":    `{"public":true}`,
		"adminOrOwner": `{"$or":[{"%%user.custom_data.isGlobalAdmin":true},` +
			`{"owner_id":"%%user.id","status":{"$ne":"archived"}}]}`,
		"in": `{"team":{"$in":["blue","%%user.custom_data.team"]}}`,
	} {
		e := parse(b, src)
		env := benchEnv(b)
		in := ReadOf(benchDoc(b))
		ctx := context.Background()
		bound := e.Bind(ctx, env)
		b.Run(name+"/bind", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = e.Bind(ctx, env)
			}
		})
		b.Run(name+"/eval", func(b *testing.B) {
			for b.Loop() {
				_, _ = e.Eval(ctx, env, in)
			}
		})
		b.Run(name+"/bound", func(b *testing.B) {
			for b.Loop() {
				_, _ = bound.Eval(ctx, in)
			}
		})
	}
}
