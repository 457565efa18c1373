package functions

import (
	"sort"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/rules"
)

var (
	_ auth.FunctionRunner = AuthRunner{}
	_ expr.FunctionCaller = (*callerRunner)(nil)
)

// BenchmarkCallTrivial is the in-process overhead of a warm runtime calling
// `exports = (x) => x`; it reports the p50 and p99 of single calls.
func BenchmarkCallTrivial(b *testing.B) {
	e := basicEngine(b, Config{})
	ctx := tctx(b)
	c := ClientCaller(alice(), nil)
	args := []any{int32(1)}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := e.Call(ctx, c, "firstArg", args); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-µs")
}

func TestForCallerAndAuthRunner(t *testing.T) {
	e := basicEngine(t, Config{})
	ctx := tctx(t)
	// %function may call private functions.
	got, err := e.ForCaller(ClientCaller(alice(), nil)).CallFunction(ctx, "secret", nil)
	if err != nil || got != "hidden" {
		t.Errorf("ForCaller: %#v %v", got, err)
	}
	// Auth handlers run as system.
	got, err = AuthRunner{E: e}.CallFunction(ctx, "whoami")
	if d, ok := got.(bson.D); err != nil || !ok || d[2].Value != true {
		t.Errorf("auth runner whoami: %#v %v", got, err)
	}
	if _, err := (AuthRunner{E: e}).CallFunction(ctx, "thrower"); err == nil || err.Error() != "boom" {
		t.Errorf("auth runner error: %v", err)
	}
}

// BenchmarkFindOneViaFunction calls a function doing one findOne as the
// application user (rules applied); BenchmarkFindOneDirect does the same
// findOne through dataaccess, as the client API does. The target
// is a ratio of at most 1.5.
func BenchmarkFindOneViaFunction(b *testing.B) {
	e := seedBenchEngine(b)
	ctx := tctx(b)
	c := ClientCaller(rules.Caller{ID: "alice", Type: "normal"}, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := e.Call(ctx, c, "findSelf", nil)
		if err != nil || got == nil {
			b.Fatal(got, err)
		}
	}
}

func BenchmarkFindOneDirect(b *testing.B) {
	e := seedBenchEngine(b)
	ctx := tctx(b)
	req := dataaccess.Request{Caller: rules.Caller{ID: "alice", Type: "normal"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h, err := e.cfg.Data.Collection(ctx, req, "mongodb-atlas", "Item", "User")
		if err != nil {
			b.Fatal(err)
		}
		d, err := h.FindOne(ctx, bson.D{{Key: "_id", Value: "alice"}}, dataaccess.FindOptions{})
		if err != nil || d == nil {
			b.Fatal(d, err)
		}
	}
}

// floorSteps build up BenchmarkFindOneViaFunction's function one step at
// a time, from an empty synchronous function to the findOne itself, so
// that the cost of each part of a call can be read off as a difference.
var floorSteps = []struct{ name, src string }{
	{"sync", `exports = function(){ return 1 }`},
	{"async", `exports = async function(){ return 1 }`},
	{"await", `exports = async function(){ return await 1 }`},
	{"user", `exports = async function(){ return await context.user.id }`},
	{"collection", `exports = async function(){ context.services.get("mongodb-atlas").db("Item").collection("User"); return await context.user.id }`},
	{"findOne", `exports = async function(){ return await context.services.get("mongodb-atlas").db("Item").collection("User").findOne({_id: context.user.id}) }`},
}

// BenchmarkCallFloor runs floorSteps as the application user alice.
// BenchmarkFindOneDirect is the findOne without the function.
func BenchmarkCallFloor(b *testing.B) {
	e := seedBenchEngine(b)
	ctx := tctx(b)
	c := ClientCaller(rules.Caller{ID: "alice", Type: "normal"}, nil)
	for _, st := range floorSteps {
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				got, err := e.Call(ctx, c, "floor_"+st.name, nil)
				if err != nil || got == nil {
					b.Fatal(got, err)
				}
			}
		})
	}
}

func seedBenchEngine(b *testing.B) *Engine {
	srcs := map[string]string{
		"onUserCreated": seedSources["onUserCreated"],
		"findSelf":      `exports = async function(){ return context.services.get("mongodb-atlas").db("Item").collection("User").findOne({_id: "alice"}) }`,
	}
	manifest := `[{"name":"onUserCreated"},{"name":"findSelf"}`
	for _, st := range floorSteps {
		srcs["floor_"+st.name] = st.src
		manifest += `,{"name":"floor_` + st.name + `"}`
	}
	files := fnFiles(srcs, manifest+"]")
	files["data_sources/mongodb-atlas/Item/User/rules.json"] = userRules
	e := testEngine(b, testApp(b, files), Config{})
	ctx := tctx(b)
	for _, id := range []string{"alice", "bob", "carol"} {
		ev := bson.D{{Key: "user", Value: bson.D{{Key: "id", Value: id}, {Key: "data", Value: bson.D{{Key: "email", Value: id + "@x.org"}}}}}}
		if _, err := e.Call(ctx, SystemCaller(), "onUserCreated", []any{ev}); err != nil {
			b.Fatal(err)
		}
	}
	return e
}
