package rules

import (
	"context"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
)

const benchRoles = `[
 {"name":"owner","apply_when":{"owner_id":"%%user.id"},"read":true,"write":true},
 {"name":"team","apply_when":{"team":"%%user.custom_data.team"},"read":true,"write":false},
 {"name":"public","apply_when":{"public":true},"read":true}
]`

func benchDoc() bson.D {
	return bson.D{{Key: "_id", Value: int32(1)}, {Key: "owner_id", Value: "u2"}, {Key: "team", Value: "blue"}, {Key: "public", Value: true}, {Key: "title", Value: "t"}}
}

var benchCaller = Caller{ID: "u1", Type: "normal", CustomData: bson.D{{Key: "team", Value: "red"}}}

// BenchmarkDecide: deciding one document (third role matches) with a bound
// view: the per-document cost.
func BenchmarkDecide(b *testing.B) {
	s := roles(b, benchRoles)
	v := view(b, s, benchCaller)
	d := benchDoc()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if v.Decide(ctx, d).Role != 2 {
			b.Fatal("wrong role")
		}
	}
}

// BenchmarkRead is Decide plus returning the (whole) document.
func BenchmarkRead(b *testing.B) {
	v := view(b, roles(b, benchRoles), benchCaller)
	d := benchDoc()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if out, _ := v.Read(ctx, d); out == nil {
			b.Fatal("withheld")
		}
	}
}

// BenchmarkBindAndDecide: binding the caller to the namespace (once per
// request) plus deciding one document.
func BenchmarkBindAndDecide(b *testing.B) {
	s := roles(b, benchRoles)
	d := benchDoc()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, err := s.View(ctx, "db.c", benchCaller, RequestContext{})
		if err != nil {
			b.Fatal(err)
		}
		if v.Decide(ctx, d).Role != 2 {
			b.Fatal("wrong role")
		}
	}
}

// BenchmarkBindAndDecide100 amortises one binding over a 100-document page.
func BenchmarkBindAndDecide100(b *testing.B) {
	s := roles(b, benchRoles)
	d := benchDoc()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, err := s.View(ctx, "db.c", benchCaller, RequestContext{})
		if err != nil {
			b.Fatal(err)
		}
		for range 100 {
			if v.Decide(ctx, d).Role != 2 {
				b.Fatal("wrong role")
			}
		}
	}
}

// BenchmarkRedact20Fields5Rules: a 20-field document under a role with 5
// field rules and additional_fields.
func BenchmarkRedact20Fields5Rules(b *testing.B) {
	s := roles(b, `[{"name":"r","apply_when":{},"fields":{
	 "f0":{"read":true},"f1":{"read":false},"f2":{"write":true},"f3":{"read":{"%%user.custom_data.team":"red"}},
	 "sub":{"fields":{"x":{"read":true}}}},"additional_fields":{"read":true}}]`)
	v := view(b, s, benchCaller)
	d := bson.D{{Key: "sub", Value: bson.D{{Key: "x", Value: int32(1)}, {Key: "y", Value: int32(2)}}}}
	for i := 0; i < 19; i++ {
		d = append(d, bson.E{Key: fmt.Sprintf("f%d", i), Value: int32(i)})
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out, dec := v.Read(ctx, d)
		if dec.Level != Partial || len(out) != 19 {
			b.Fatalf("%v %d", dec, len(out))
		}
	}
}

// A View is shared by the goroutines serving one request (e.g. a pipeline
// and its $lookup): deciding and compiling concurrently must be safe.
func TestViewConcurrentUse(t *testing.T) {
	v := view(t, roles(t, benchRoles), benchCaller)
	ctx := context.Background()
	d := benchDoc()
	done := make(chan string, 8)
	for range 8 {
		go func() {
			for range 50 {
				_ = v.Decide(ctx, d)
				_, _ = v.Read(ctx, d)
			}
			done <- canon(t, v.PushDown(bson.D{}))
		}()
	}
	first := <-done
	for range 7 {
		if got := <-done; got != first {
			t.Errorf("pushed-down filter differs between goroutines: %s vs %s", got, first)
		}
	}
}

// BenchmarkViewEnvAndDecide: binding the view with the caller's env already
// converted (ViewEnv), plus deciding one document.
func BenchmarkViewEnvAndDecide(b *testing.B) {
	s := roles(b, benchRoles)
	d := benchDoc()
	ctx := context.Background()
	env, err := expr.Bind(benchCaller.Binding(RequestContext{}))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v, err := s.ViewEnv(ctx, "db.c", env)
		if err != nil {
			b.Fatal(err)
		}
		if v.Decide(ctx, d).Role != 2 {
			b.Fatal("wrong role")
		}
	}
}

// employeesBenchRoles are examples/employees' roles: Teammate hides salary.
const employeesBenchRoles = `[
 {"name":"Manager","apply_when":{"email":"%%user.custom_data.manages"},"read":true,"write":true,"fields":{},"additional_fields":{"read":true,"write":true}},
 {"name":"Employee","apply_when":{"email":"%%user.data.email"},"read":true,"fields":{"salary":{"read":true,"write":false}},"additional_fields":{"read":true,"write":true}},
 {"name":"Teammate","apply_when":{"team":"%%user.data.team"},"write":false,"fields":{"salary":{"read":false,"write":false}},"additional_fields":{"read":true,"write":false}}
]`

// BenchmarkCheckUpdateBefore: the per-document decision taken before an
// update is applied, for a document read whole (Manager) and one read in
// part (Teammate, salary not named: the redaction runs).
func BenchmarkCheckUpdateBefore(b *testing.B) {
	v := view(b, roles(b, employeesBenchRoles), Caller{ID: "u", Type: "normal",
		Data:       bson.D{{Key: "email", Value: "a@x"}, {Key: "team", Value: "sales"}},
		CustomData: bson.D{{Key: "manages", Value: bson.A{"p@x"}}}})
	tg, err := v.CheckUpdateDoc(ej(b, `{"$set":{"name":"n"}}`), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct{ name, email string }{{"whole", "p@x"}, {"partial", "s@x"}} {
		doc := ej(b, fmt.Sprintf(`{"_id":1,"name":"n","team":"sales","email":%q,"salary":1}`, c.email))
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := v.CheckUpdateBefore(ctx, doc, tg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
