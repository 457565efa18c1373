package triggers

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// fakeClock is a Clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
	ch  chan struct{} // closed and replaced on each Advance
}

// newFakeClock returns a fakeClock at now.
func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now.UTC(), ch: make(chan struct{})}
}

// Now is the fake time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the fake time to now and wakes the sleepers.
func (c *fakeClock) Set(now time.Time) {
	c.mu.Lock()
	c.now = now.UTC()
	close(c.ch)
	c.ch = make(chan struct{})
	c.mu.Unlock()
}

// SleepUntil waits until the fake time reaches t.
func (c *fakeClock) SleepUntil(ctx context.Context, t time.Time) bool {
	for {
		c.mu.Lock()
		now, ch := c.now, c.ch
		c.mu.Unlock()
		if !now.Before(t) {
			return ctx.Err() == nil
		}
		select {
		case <-ctx.Done():
			return false
		case <-ch:
		}
	}
}

// TestScheduleGrammar: App Services' cron examples (T6), in UTC.
func TestScheduleGrammar(t *testing.T) {
	cases := []struct {
		spec, from string
		want       []string
	}{
		{"*/25 * * * *", "2026-03-01T09:59:00Z", []string{"2026-03-01T10:00:00Z", "2026-03-01T10:25:00Z", "2026-03-01T10:50:00Z", "2026-03-01T11:00:00Z"}},
		{"0 11 * 1,3,7 *", "2026-01-31T12:00:00Z", []string{"2026-03-01T11:00:00Z", "2026-03-02T11:00:00Z"}},
		{"0 3 1 * *", "2026-01-15T00:00:00Z", []string{"2026-02-01T03:00:00Z", "2026-03-01T03:00:00Z"}},
		{"30 8 * * SUN", "2026-11-24T00:00:00Z", []string{"2026-11-29T08:30:00Z", "2026-12-06T08:30:00Z"}},
		{"0 0 * DEC 0", "2026-11-24T00:00:00Z", []string{"2026-12-06T00:00:00Z"}},
	}
	for _, c := range cases {
		tr, err := Compile(testApp(t, map[string]string{
			"functions/config.json": `[{"name":"h","private":true}]`, "functions/h.js": `exports = () => 1`,
			"triggers/s.json": `{"name":"s","type":"SCHEDULED","config":{"schedule":"` + c.spec + `"},"function_name":"h"}`,
		}), nil)
		if err != nil {
			t.Fatal(err)
		}
		at, _ := time.Parse(time.RFC3339, c.from)
		// A non-UTC input zone must not shift the schedule.
		at = at.In(time.FixedZone("X", 5*3600))
		var got []string
		for range c.want {
			at = tr[0].Schedule.Next(at)
			got = append(got, at.UTC().Format(time.RFC3339))
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s from %s: %v, want %v", c.spec, c.from, got, c.want)
		}
	}
}

// TestScheduledTrigger: with a fake clock, the function runs once per
// tick, with no arguments; ticks missed while the clock jumped (or while
// no runner ran) are each fired once on catch-up.
func TestScheduledTrigger(t *testing.T) {
	ctx := tctx(t)
	clock := newFakeClock(time.Date(2026, 3, 1, 10, 1, 0, 0, time.UTC))
	files := map[string]string{
		"functions/config.json": `[{"name":"tick","private":true}]`,
		"functions/tick.js": `exports = async function() {
  await context.services.get("mongodb-atlas").db("out").collection("ticks").insertOne({args: arguments.length});
}`,
		"triggers/every25.json": `{"name":"every25","type":"SCHEDULED","config":{"schedule":"*/25 * * * *"},"event_processors":{"FUNCTION":{"config":{"function_name":"tick"}}}}`,
	}
	s := newStackWith(t, files, func(c *Config) { c.Clock = clock })
	ticks := s.st.Database("out").Collection("ticks")
	waitTick := func(want time.Time, count int64) {
		t.Helper()
		for {
			st, err := loadState(ctx, s.st, "every25")
			if err != nil {
				t.Fatal(err)
			}
			n, err := ticks.CountDocuments(ctx, bson.D{}, store.CountOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if st != nil && st.LastTick.Equal(want) {
				if n != count {
					t.Fatalf("at tick %s: %d runs, want %d", want, n, count)
				}
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("tick %s not reached: state %+v, %d runs", want, st, n)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	at := func(h, m int) time.Time { return time.Date(2026, 3, 1, h, m, 0, 0, time.UTC) }
	waitTick(at(10, 1), 0) // started: position recorded, nothing fired
	clock.Set(at(10, 24))
	clock.Set(at(10, 25))
	waitTick(at(10, 25), 1)
	clock.Set(at(10, 49))
	clock.Set(at(10, 50))
	waitTick(at(10, 50), 2)
	// Jump over 11:00 and 11:25: each fires once.
	clock.Set(at(11, 40))
	waitTick(at(11, 25), 4)

	// Restart while the clock moves past 11:50 and 12:00 (*/25 is minutes
	// 0, 25 and 50).
	s.runner.Close()
	clock.Set(at(12, 20))
	cfg := s.cfg
	r2 := New(s.triggers, cfg)
	if err := r2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	waitTick(at(12, 0), 6)
	n, _ := ticks.CountDocuments(ctx, bson.D{{Key: "args", Value: int32(0)}}, store.CountOptions{})
	if n != 6 {
		t.Errorf("%d of 6 runs had no arguments", n)
	}
}
