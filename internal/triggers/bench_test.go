package triggers

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/functions"
	"github.com/atollhq/atoll/internal/store/embedded"
)

// timedFunctions wraps the engine to note when each handler starts, keyed
// by the event's document id.
type timedFunctions struct {
	f       Functions
	mu      sync.Mutex
	started map[int64]time.Time
	done    chan struct{}
	want    int
	// notify, when set, receives each document id as its handler starts.
	notify chan int64
}

func (tf *timedFunctions) Call(ctx context.Context, c functions.Caller, name string, args []any) (any, error) {
	now := time.Now()
	if len(args) == 1 {
		if ev, ok := args[0].(bson.D); ok {
			if k, ok := lookup(lookup(ev, "documentKey").(bson.D), "_id").(int64); ok {
				tf.mu.Lock()
				tf.started[k] = now
				if len(tf.started) == tf.want {
					close(tf.done)
				}
				tf.mu.Unlock()
				if tf.notify != nil {
					tf.notify <- k
				}
			}
		}
	}
	return tf.f.Call(ctx, c, name, args)
}

// syncModes are the embedded store's durability settings benchmarked:
// "full" is what `atoll serve` opens (synchronous=FULL, an fsync per
// commit), "off" the test setting.
var syncModes = []struct {
	name string
	opts embedded.Options
}{{"sync=full", embedded.Options{}}, {"sync=off", embedded.Options{SyncOff: true}}}

func benchStack(b *testing.B, opts embedded.Options, notify bool) (*stack, *timedFunctions) {
	ctx := tctx(b)
	var tf *timedFunctions
	s := openStackOpts(b, b.TempDir(), opts, map[string]string{
		"functions/config.json": `[{"name":"noop","private":true}]`,
		"functions/noop.js":     `exports = () => 1`,
		"triggers/t.json": `{"name":"t","type":"DATABASE","config":{"service_name":"mongodb-atlas","database":"store","collection":"items","operation_types":["INSERT"]},
			"event_processors":{"FUNCTION":{"config":{"function_name":"noop"}}}}`,
	}, func(c *Config) {
		tf = &timedFunctions{f: c.Functions, started: map[int64]time.Time{}, done: make(chan struct{}), want: b.N}
		if notify {
			tf.notify = make(chan int64, 1)
		}
		c.Functions = tf
	})
	for {
		if st, _ := loadState(ctx, s.st, "t"); st != nil && st.ResumeToken != nil {
			break
		}
		if ctx.Err() != nil {
			b.Fatal("trigger did not start")
		}
		time.Sleep(time.Millisecond)
	}
	return s, tf
}

// BenchmarkTriggerLatency: one insert at a time, each waiting for its
// handler to start: the commit-to-handler latency of an idle trigger.
func BenchmarkTriggerLatency(b *testing.B) {
	for _, m := range syncModes {
		b.Run(m.name, func(b *testing.B) { benchTriggerLatency(b, m.opts) })
	}
}

func benchTriggerLatency(b *testing.B, opts embedded.Options) {
	ctx := tctx(b)
	s, tf := benchStack(b, opts, true)
	items := s.st.Database("store").Collection("items")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Timed from before the insert: the change feed can start the
		// handler before InsertOne returns, so this is an upper bound on
		// commit-to-handler that includes the (fsync'd) commit itself.
		committed := time.Now()
		if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: int64(i)}}); err != nil {
			b.Fatal(err)
		}
		select {
		case <-tf.notify:
		case <-ctx.Done():
			b.Fatal("event not delivered")
		}
		tf.mu.Lock()
		lat = append(lat, tf.started[int64(i)].Sub(committed))
		tf.mu.Unlock()
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkOrderedTrigger: an ordered INSERT trigger with a trivial
// function over the embedded store; reports events/s and the latency from
// each insert's commit to its handler starting (p50, p99) in a burst, where
// events queue behind each other.
func BenchmarkOrderedTrigger(b *testing.B) {
	for _, m := range syncModes {
		b.Run(m.name, func(b *testing.B) { benchOrderedTrigger(b, m.opts) })
	}
}

func benchOrderedTrigger(b *testing.B, opts embedded.Options) {
	ctx := tctx(b)
	s, tf := benchStack(b, opts, false)
	items := s.st.Database("store").Collection("items")
	committed := make([]time.Time, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		committed[i] = time.Now() // before the insert, as in BenchmarkTriggerLatency
		if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: int64(i)}}); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-tf.done:
	case <-ctx.Done():
		b.Fatal("not every event was delivered")
	}
	elapsed := time.Since(start)
	b.StopTimer()
	lat := make([]time.Duration, 0, b.N)
	tf.mu.Lock()
	for i := 0; i < b.N; i++ {
		lat = append(lat, tf.started[int64(i)].Sub(committed[i]))
	}
	tf.mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
