package triggers

// Tests for docs/compat.md entries of the triggers package that no other
// test held on its own.

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
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
	evs := waitEvents(ctx, t, s.st, 1)
	s.runner.Close()
	evs = waitEvents(ctx, t, s.st, 1)
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	if _, ok := lookup(evs[0], "wallTime").(bson.DateTime); !ok {
		t.Fatalf("event without wallTime: %s", ejson(t, evs[0]))
	}
}
