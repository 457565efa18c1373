package applog

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// BenchmarkRecord is the whole cost of one entry: Record on the caller's
// goroutine plus the writer's batched insert and retention on a durable
// embedded store, reported as process CPU per entry (cpu-µs/op), since
// most of it is spent on the writer's goroutine. Its entries are alike
// but for their time (the best case for compression); see
// BenchmarkRecordVaried.
func BenchmarkRecord(b *testing.B) {
	benchRecord(b, func(int, *Entry) {})
}

// BenchmarkRecordVaried is BenchmarkRecord with entries that differ as
// those of an app do: names, durations, callers, arguments, results and
// console lines, each result holding 24 random bytes (as hex) that no
// compressor can shrink.
func BenchmarkRecordVaried(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"findOneItem", "listItems", "updateProfile", "sendInvite", "computeTotals"}
	benchRecord(b, func(i int, e *Entry) {
		e.Name = names[i%len(names)]
		e.Duration = time.Duration(50+rng.IntN(5000)) * time.Microsecond
		e.UserID = fmt.Sprintf("6560a1b2c3d4e5f6%08x", rng.IntN(1000))
		e.Arguments = fmt.Sprintf(`[{"page":%d,"filter":{"owner_id":"%s"}}]`, i%17, e.UserID)
		e.Result = fmt.Sprintf(`{"_id":{"$oid":"%024x"},"n":{"$numberLong":"%d"},"token":"%016x%016x%016x"}`,
			i, i, rng.Uint64(), rng.Uint64(), rng.Uint64())
		e.Logs = []string{fmt.Sprintf("looked up %d items in %dµs", i%50, rng.IntN(900))}
	})
}

// benchRecord records b.N entries, each set by vary before it is
// recorded, and reports the process CPU per entry.
func benchRecord(b *testing.B, vary func(i int, e *Entry)) {
	st := openStore(b)
	w := NewWriter(st, Options{MaxEntries: 2000})
	e := Entry{Type: "function", Name: "findOneItem", Duration: 120 * time.Microsecond, UserID: "6560a1b2c3d4e5f601234567",
		Trigger: "client", Arguments: "[]",
		Result: `{"_id":{"$oid":"6560a1b2c3d4e5f601234567"},"owner_id":"6560a1b2c3d4e5f601234567","n":{"$numberLong":"3"},"title":"item 3"}`}
	// The entries are made before the clock starts: making them is the
	// caller's cost, not the log's.
	entries := make([]Entry, min(b.N, 4096))
	for i := range entries {
		entries[i] = e
		vary(i, &entries[i])
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ReportAllocs()
	c0 := cpu()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := entries[i%len(entries)]
		e.Time = time.Now()
		w.Record(e)
		for int64(i)-w.Written() > DefaultBufferSize/2 {
			time.Sleep(100 * time.Microsecond) // let the writer keep up: no drops
		}
	}
	if err := w.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if w.Dropped() > 0 {
		b.Fatalf("%d dropped", w.Dropped())
	}
	b.ReportMetric(float64((cpu()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
}
