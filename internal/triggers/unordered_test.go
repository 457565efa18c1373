package triggers

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
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
