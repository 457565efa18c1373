package triggers

// Tests for docs/compat.md entries of the triggers package that no other
// test held on its own.

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// A database trigger with no stored token starts from now and records that
// position at once;
// events reach the handler exactly as the store produces them, wallTime
// included although the spec's event shape does not list it.
func TestCompatStartFromNowAndEventAsProduced(t *testing.T) {
	ctx := tctx(t)
	s := newStack(t, dbTriggerApp(`{"name":"t","type":"DATABASE","config":{"service_name":"mongodb-atlas","database":"store","collection":"items",
		"operation_types":["INSERT"]},"event_processors":{"FUNCTION":{"config":{"function_name":"record"}}}}`))
	st := waitStatus(ctx, t, s.st, "t", StatusRunning)
	if len(st.ResumeToken) == 0 {
		t.Fatalf("no position recorded at start: %+v", st)
	}
	items := s.st.Database("store").Collection("items")
	if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: "after"}}); err != nil {
		t.Fatal(err)
	}
	waitEvents(ctx, t, s.st, 1)
	s.runner.Close()
	evs := waitEvents(ctx, t, s.st, 1)
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	if _, ok := lookup(evs[0], "wallTime").(bson.DateTime); !ok {
		t.Fatalf("event without wallTime: %s", ejson(t, evs[0]))
	}
}

// A scheduled handler that throws is logged and recorded; the schedule
// goes on (it is not suspended as a database trigger would be).
func TestCompatScheduledErrorsDoNotStopTheSchedule(t *testing.T) {
	ctx := tctx(t)
	clock := newFakeClock(time.Date(2026, 3, 1, 10, 1, 0, 0, time.UTC))
	files := map[string]string{
		"functions/config.json": `[{"name":"tick","private":true}]`,
		"functions/tick.js": `exports = async function() {
  await context.services.get("mongodb-atlas").db("out").collection("ticks").insertOne({});
  throw new Error("tick failed");
}`,
		"triggers/every25.json": `{"name":"every25","type":"SCHEDULED","config":{"schedule":"*/25 * * * *"},"event_processors":{"FUNCTION":{"config":{"function_name":"tick"}}}}`,
	}
	s := newStackWith(t, files, func(c *Config) { c.Clock = clock })
	at := func(h, m int) time.Time { return time.Date(2026, 3, 1, h, m, 0, 0, time.UTC) }
	waitTickAt := func(want time.Time) *State {
		t.Helper()
		for {
			st, err := loadState(ctx, s.st, "every25")
			if err != nil {
				t.Fatal(err)
			}
			if st != nil && st.LastTick.Equal(want) {
				return st
			}
			select {
			case <-ctx.Done():
				t.Fatalf("tick %s not reached: %+v", want, st)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	waitTickAt(at(10, 1))
	clock.Set(at(10, 25))
	waitTickAt(at(10, 25))
	clock.Set(at(10, 50))
	st := waitTickAt(at(10, 50))
	if st.Status == StatusSuspended {
		t.Fatalf("scheduled trigger suspended: %+v", st)
	}
	n, err := s.st.Database("out").Collection("ticks").CountDocuments(ctx, bson.D{}, store.CountOptions{})
	if err != nil || n != 2 {
		t.Fatalf("%d runs (%v), want 2", n, err)
	}
}

// Deployment-level database triggers (no database) load but suspend with
// "not supported yet".
func TestCompatDeploymentLevelTriggerSuspends(t *testing.T) {
	ctx := tctx(t)
	s := newStack(t, map[string]string{
		"functions/config.json": `[{"name":"record","private":true}]`,
		"functions/record.js":   recordFn,
		"triggers/t.json": `{"name":"t","type":"DATABASE","config":{"service_name":"mongodb-atlas","operation_types":["CREATE_COLLECTION"]},
			"event_processors":{"FUNCTION":{"config":{"function_name":"record"}}}}`,
	})
	st := waitStatus(ctx, t, s.st, "t", StatusSuspended)
	if !strings.Contains(st.Error, "not supported yet") {
		t.Fatalf("suspended with %q", st.Error)
	}
}

// Deploying a suspended trigger as disabled records "disabled", so enabling
// it again runs it (rather than leaving it suspended).
func TestCompatSuspendedDeployedDisabledThenEnabledRuns(t *testing.T) {
	ctx := tctx(t)
	s := newStack(t, dbTriggerApp(itemsTriggerWith(false, false)))
	waitStatus(ctx, t, s.st, "t", StatusRunning)
	if _, err := s.st.Database("out").Collection("config").InsertOne(ctx, bson.D{{Key: "_id", Value: "fail"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.Database("store").Collection("items").InsertOne(ctx, bson.D{{Key: "_id", Value: int32(1)}, {Key: "fail", Value: true}}); err != nil {
		t.Fatal(err)
	}
	waitStatus(ctx, t, s.st, "t", StatusSuspended)
	s.runner.Close()
	disabled, err := Compile(testApp(t, dbTriggerApp(itemsTriggerWith(true, false))), nil)
	if err != nil {
		t.Fatal(err)
	}
	rd := New(disabled, s.cfg)
	if err := rd.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitStatus(ctx, t, s.st, "t", StatusDisabled)
	rd.Close()
	// The handler accepts events again; enabling runs the trigger, which
	// delivers the event that had failed.
	if _, err := s.st.Database("out").Collection("config").DeleteOne(ctx, bson.D{{Key: "_id", Value: "fail"}}); err != nil {
		t.Fatal(err)
	}
	r := New(s.triggers, s.cfg)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitStatus(ctx, t, s.st, "t", StatusRunning)
	waitEvents(ctx, t, s.st, 1)
}

// While idle, a running database trigger refreshes its stored position
// (heartbeat) under __atoll.trigger_state.
func TestCompatIdleHeartbeat(t *testing.T) {
	ctx := tctx(t)
	s := newStack(t, dbTriggerApp(itemsTriggerWith(false, false)))
	first := waitStatus(ctx, t, s.st, "t", StatusRunning)
	for {
		st, err := loadState(ctx, s.st, "t")
		if err != nil {
			t.Fatal(err)
		}
		if !st.Heartbeat.IsZero() && st.Heartbeat.After(first.UpdatedAt) && len(st.ResumeToken) > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no heartbeat: %+v", st)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
