package triggers

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

const itemsTrigger = `{"name":"t","type":"DATABASE","disabled":%DISABLED%,"config":{"service_name":"mongodb-atlas","database":"store","collection":"items",
	"operation_types":["INSERT"],"skip_catchup_events":%SKIP%},"event_processors":{"FUNCTION":{"config":{"function_name":"record"}}}}`

func itemsTriggerWith(disabled, skip bool) string {
	b := func(v bool) string {
		if v {
			return "true"
		}
		return "false"
	}
	return strings.NewReplacer("%DISABLED%", b(disabled), "%SKIP%", b(skip)).Replace(itemsTrigger)
}

// TestInvalidateSuspends: dropping the watched collection suspends the
// trigger (T7).
func TestInvalidateSuspends(t *testing.T) {
	ctx := tctx(t)
	s := newStack(t, dbTriggerApp(itemsTriggerWith(false, false)))
	waitStatus(ctx, t, s.st, "t", StatusRunning)
	items := s.st.Database("store").Collection("items")
	if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: int32(1)}}); err != nil {
		t.Fatal(err)
	}
	waitEvents(ctx, t, s.st, 1)
	if err := items.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(ctx, t, s.st, "t", StatusSuspended)
	if !strings.Contains(st.Error, "invalidate") {
		t.Errorf("suspension error %q", st.Error)
	}
}

// TestSkipCatchupEvents: a trigger disabled and re-enabled replays the
// events in between unless skip_catchup_events (T8).
func TestSkipCatchupEvents(t *testing.T) {
	for _, skip := range []bool{false, true} {
		t.Run(map[bool]string{false: "catch up", true: "skip"}[skip], func(t *testing.T) {
			ctx := tctx(t)
			s := newStack(t, dbTriggerApp(itemsTriggerWith(false, skip)))
			waitStatus(ctx, t, s.st, "t", StatusRunning)
			s.runner.Close()
			// Deployed disabled: the state says so.
			disabled, err := Compile(testApp(t, dbTriggerApp(itemsTriggerWith(true, skip))), nil)
			if err != nil {
				t.Fatal(err)
			}
			rd := New(disabled, s.cfg)
			if err := rd.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			waitStatus(ctx, t, s.st, "t", StatusDisabled)
			for i := int32(1); i <= 3; i++ {
				if _, err := s.st.Database("store").Collection("items").InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
					t.Fatal(err)
				}
			}
			rd.Close()
			// Re-enabled.
			r := New(s.triggers, s.cfg)
			if err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			waitStatus(ctx, t, s.st, "t", StatusRunning)
			if _, err := s.st.Database("store").Collection("items").InsertOne(ctx, bson.D{{Key: "_id", Value: int32(4)}}); err != nil {
				t.Fatal(err)
			}
			want := 4
			if skip {
				want = 1
			}
			waitEvents(ctx, t, s.st, want)
			r.Close()
			if evs := waitEvents(ctx, t, s.st, want); len(evs) != want {
				t.Errorf("%d events, want %d", len(evs), want)
			}
		})
	}
}

// TestCloseStopsGoroutines: after Close, every goroutine the runner
// started (triggers, lease renewals, the auth worker) has ended.
func TestCloseStopsGoroutines(t *testing.T) {
	ctx := tctx(t)
	files := dbTriggerApp(itemsTriggerWith(false, false))
	files["functions/config.json"] = `[{"name":"record","private":true},{"name":"noop","private":true}]`
	files["functions/noop.js"] = `exports = () => 1`
	files["auth/providers.json"] = `{"anon-user":{"name":"anon-user","type":"anon-user","disabled":false}}`
	files["triggers/s.json"] = `{"name":"s","type":"SCHEDULED","config":{"schedule":"* * * * *"},"function_name":"noop"}`
	files["triggers/a.json"] = `{"name":"a","type":"AUTHENTICATION","config":{"operation_type":"LOGIN"},"function_name":"noop"}`
	s := newStackWith(t, files, func(c *Config) { c.LeaseTTL = 30 * time.Millisecond })
	waitStatus(ctx, t, s.st, "t", StatusRunning)
	s.runner.Close()
	// Let goroutines of the stack's other parts settle before counting.
	base := runtime.NumGoroutine()
	r := New(s.triggers, s.cfg)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitStatus(ctx, t, s.st, "s", StatusRunning)
	if runtime.NumGoroutine() <= base {
		t.Fatalf("runner started no goroutine (%d ≤ %d)", runtime.NumGoroutine(), base)
	}
	r.Close()
	for runtime.NumGoroutine() > base {
		if ctx.Err() != nil {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines after Close: %d > %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := r.Start(context.Background()); err != ErrClosed {
		t.Errorf("Start after Close: %v", err)
	}
}
