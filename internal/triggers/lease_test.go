package triggers

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// TestLeaseTwoRunners: two runners share one store; the trigger runs in
// one of them only, so each event is delivered once; when the holder stops,
// the other takes over and delivery continues after the last event.
func TestLeaseTwoRunners(t *testing.T) {
	ctx := tctx(t)
	s := newStackWith(t, dbTriggerApp(`{"name":"t","type":"DATABASE","config":{"service_name":"mongodb-atlas","database":"store","collection":"items",
		"operation_types":["INSERT"]},"event_processors":{"FUNCTION":{"config":{"function_name":"record"}}}}`), func(c *Config) { c.LeaseTTL = 300 * time.Millisecond })
	r2 := New(s.triggers, s.cfg)
	if err := r2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	waitStatus(ctx, t, s.st, "t", StatusRunning)
	items := s.st.Database("store").Collection("items")
	for i := int32(1); i <= 20; i++ {
		if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	waitEvents(ctx, t, s.st, 20)
	lease, err := leaseColl(s.st).FindOne(ctx, bson.D{{Key: "_id", Value: "t"}}, store.FindOptions{})
	if err != nil {
		t.Fatal(err)
	}
	holder, other := s.runner, r2
	if lookup(lease, "holder") == r2.id {
		holder, other = r2, s.runner
	} else if lookup(lease, "holder") != s.runner.id {
		t.Fatalf("lease %v held by neither runner", lease)
	}
	holder.Close()
	for i := int32(21); i <= 25; i++ {
		if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	waitEvents(ctx, t, s.st, 25)
	other.Close()
	evs := waitEvents(ctx, t, s.st, 25)
	if len(evs) != 25 {
		t.Fatalf("%d deliveries for 25 inserts", len(evs))
	}
	for i, ev := range evs {
		if k := lookup(lookup(ev, "documentKey").(bson.D), "_id"); k != int32(i+1) {
			t.Fatalf("delivery %d is document %v", i, k)
		}
	}
}

// TestLeaseExpiry: a lease left by a dead holder is taken over once it
// expires.
func TestLeaseExpiry(t *testing.T) {
	ctx := tctx(t)
	files := dbTriggerApp(`{"name":"t","type":"DATABASE","config":{"service_name":"mongodb-atlas","database":"store","collection":"items",
		"operation_types":["INSERT"]},"event_processors":{"FUNCTION":{"config":{"function_name":"record"}}}}`)
	s := newStackWith(t, files, func(c *Config) { c.LeaseTTL = 300 * time.Millisecond })
	// The first runner records the starting position, then stops.
	waitStatus(ctx, t, s.st, "t", StatusRunning)
	s.runner.Close()
	if _, err := leaseColl(s.st).UpdateOne(ctx, bson.D{{Key: "_id", Value: "t"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "holder", Value: "dead"},
		{Key: "expires", Value: bson.NewDateTimeFromTime(time.Now().Add(200 * time.Millisecond))}}}}, store.UpdateOptions{Upsert: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.Database("store").Collection("items").InsertOne(ctx, bson.D{{Key: "_id", Value: int32(1)}}); err != nil {
		t.Fatal(err)
	}
	r := New(s.triggers, s.cfg)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if evs := waitEvents(ctx, t, s.st, 1); len(evs) != 1 {
		t.Fatalf("events %v", evs)
	}
	lease, err := leaseColl(s.st).FindOne(ctx, bson.D{{Key: "_id", Value: "t"}}, store.FindOptions{})
	if err != nil || lookup(lease, "holder") != r.id {
		t.Errorf("lease after takeover: %v %v", lease, err)
	}
}
