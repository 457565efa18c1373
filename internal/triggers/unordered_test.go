package triggers

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/functions"
)

// TestUnorderedTrigger: handlers run concurrently; every event is
// delivered; a failure suspends with the mark before the failed event, so
// resuming delivers it (and may repeat later ones: at least once).
func TestUnorderedTrigger(t *testing.T) {
	ctx := tctx(t)
	s := newStackWith(t, dbTriggerApp(`{"name":"t","type":"DATABASE","config":{"service_name":"mongodb-atlas","database":"store","collection":"items",
		"operation_types":["INSERT"],"full_document":true,"unordered":true,"maximum_throughput":true},"event_processors":{"FUNCTION":{"config":{"function_name":"record"}}}}`),
		func(c *Config) { c.MaxInFlight = 4 })
	waitStatus(ctx, t, s.st, "t", StatusRunning)
	if _, err := s.st.Database("out").Collection("config").InsertOne(ctx, bson.D{{Key: "_id", Value: "fail"}}); err != nil {
		t.Fatal(err)
	}
	items := s.st.Database("store").Collection("items")
	for i := int32(1); i <= 30; i++ {
		if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "fail", Value: i == 12}}); err != nil {
			t.Fatal(err)
		}
	}
	st := waitStatus(ctx, t, s.st, "t", StatusSuspended)
	if st.Error == "" {
		t.Error("no error recorded")
	}
	if _, err := s.st.Database("out").Collection("config").DeleteOne(ctx, bson.D{{Key: "_id", Value: "fail"}}); err != nil {
		t.Fatal(err)
	}
	if err := Resume(ctx, s.st, "t", false); err != nil {
		t.Fatal(err)
	}
	seen := map[int32]bool{}
	for n := 29; len(seen) < 30; n++ {
		evs := waitEvents(ctx, t, s.st, n)
		for _, ev := range evs {
			seen[lookup(lookup(ev, "documentKey").(bson.D), "_id").(int32)] = true
		}
	}
	for i := int32(1); i <= 30; i++ {
		if !seen[i] {
			t.Errorf("event %d never delivered", i)
		}
	}
}

// gatedFunctions holds every handler until gate closes and records how
// many of each function run at once.
type gatedFunctions struct {
	gate     chan struct{}
	mu       sync.Mutex
	inFlight map[string]int
	peak     map[string]int
	calls    map[string]int
}

func (g *gatedFunctions) Call(ctx context.Context, _ functions.Caller, name string, _ []any) (any, error) {
	g.mu.Lock()
	g.inFlight[name]++
	g.calls[name]++
	g.peak[name] = max(g.peak[name], g.inFlight[name])
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight[name]--
		g.mu.Unlock()
	}()
	select {
	case <-g.gate:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (g *gatedFunctions) get(m map[string]int, name string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return m[name]
}

// TestMaximumThroughput: an unordered trigger runs at most MaxInFlight
// handlers at once; with maximum_throughput, MaxThroughputInFlight.
func TestMaximumThroughput(t *testing.T) {
	ctx := tctx(t)
	g := &gatedFunctions{gate: make(chan struct{}), inFlight: map[string]int{}, peak: map[string]int{}, calls: map[string]int{}}
	trig := func(name, extra string) string {
		return `{"name":"` + name + `","type":"DATABASE","config":{"service_name":"mongodb-atlas","database":"store","collection":"items",
			"operation_types":["INSERT"],"unordered":true` + extra + `},"event_processors":{"FUNCTION":{"config":{"function_name":"` + name + `"}}}}`
	}
	s := newStackWith(t, map[string]string{
		"functions/config.json": `[{"name":"plain","private":true},{"name":"maxed","private":true}]`,
		"functions/plain.js":    `exports = () => 1`,
		"functions/maxed.js":    `exports = () => 1`,
		"triggers/plain.json":   trig("plain", ""),
		"triggers/maxed.json":   trig("maxed", `,"maximum_throughput":true`),
	}, func(c *Config) {
		c.Functions, c.MaxInFlight, c.MaxThroughputInFlight = g, 2, 6
	})
	waitStatus(ctx, t, s.st, "plain", StatusRunning)
	waitStatus(ctx, t, s.st, "maxed", StatusRunning)
	items := s.st.Database("store").Collection("items")
	for i := int32(1); i <= 12; i++ {
		if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	for g.get(g.inFlight, "plain") < 2 || g.get(g.inFlight, "maxed") < 6 {
		if ctx.Err() != nil {
			t.Fatalf("in flight: plain %d, maxed %d; want 2 and 6", g.get(g.inFlight, "plain"), g.get(g.inFlight, "maxed"))
		}
		time.Sleep(time.Millisecond)
	}
	// Give the runner the chance to start more than allowed.
	time.Sleep(100 * time.Millisecond)
	close(g.gate)
	for g.get(g.calls, "plain") < 12 || g.get(g.calls, "maxed") < 12 {
		if ctx.Err() != nil {
			t.Fatalf("calls: plain %d, maxed %d; want 12 each", g.get(g.calls, "plain"), g.get(g.calls, "maxed"))
		}
		time.Sleep(time.Millisecond)
	}
	if p := g.get(g.peak, "plain"); p != 2 {
		t.Errorf("unordered trigger ran %d handlers at once, want at most MaxInFlight = 2", p)
	}
	if p := g.get(g.peak, "maxed"); p != 6 {
		t.Errorf("maximum_throughput trigger ran %d handlers at once, want MaxThroughputInFlight = 6", p)
	}
}
