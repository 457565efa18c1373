package functions

import (
	"sort"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/expr"
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
