package applog

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// BenchmarkRecord is the whole cost of one entry: Record on the caller's
// goroutine plus the writer's batched insert and retention on a durable
// embedded store, reported as process CPU per entry (cpu-µs/op), since
// most of it is spent on the writer's goroutine.
func BenchmarkRecord(b *testing.B) {
	st := openStore(b)
	w := NewWriter(st, Options{MaxEntries: 2000})
	e := Entry{Type: "function", Name: "findOneItem", Duration: 120 * time.Microsecond, UserID: "6560a1b2c3d4e5f601234567",
		Trigger: "client", Arguments: "[]",
		Result: `{"_id":{"$oid":"6560a1b2c3d4e5f601234567"},"owner_id":"6560a1b2c3d4e5f601234567","n":{"$numberLong":"3"},"title":"item 3"}`}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ReportAllocs()
	c0 := cpu()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
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
