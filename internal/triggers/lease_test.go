package triggers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
	mongostore "github.com/atollhq/atoll/internal/store/mongo"
)

// TestLeaseTwoRunners: two runners share one store; the trigger runs in
// one of them only, so each event is delivered once; when the holder stops,
// the other takes over and delivery continues after the last event.
func TestLeaseTwoRunners(t *testing.T) {
	ctx := tctx(t)
	s := newStackWith(t, dbTriggerApp(`{"name":"t","type":"DATABASE","config":{"service_name":"mongodb-atlas","database":"store","collection":"items",
		"operation_types":["INSERT"]},"event_processors":{"FUNCTION":{"config":{"function_name":"record"}}}}`), nil)
	// The handover is by release at Close; the default TTL (30 s) keeps a
	// stall of a loaded machine from expiring the lease mid-test, which
	// would let both runners deliver (at least once, not a failure of
	// the lease).
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
	h, _, err := LeaseHolder(ctx, s.st, "t")
	if err != nil {
		t.Fatal(err)
	}
	holder, other := s.runner, r2
	if h == r2.id {
		holder, other = r2, s.runner
	} else if h != s.runner.id {
		t.Fatalf("lease held by %q, neither runner", h)
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
	// A process that died holding the lease: a newer generation.
	if _, err := leaseColl(s.st).InsertOne(ctx, bson.D{{Key: "_id", Value: "t#99"}, {Key: "trigger", Value: "t"}, {Key: "epoch", Value: int64(99)},
		{Key: "holder", Value: "dead"}, {Key: "expires", Value: bson.NewDateTimeFromTime(time.Now().Add(200 * time.Millisecond))}}); err != nil {
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
	if h, _, err := LeaseHolder(ctx, s.st, "t"); err != nil || h != r.id {
		t.Errorf("lease after takeover held by %q (%v), want %q", h, err, r.id)
	}
}

// leaseStores is the embedded store, and the MongoDB deployment of
// ATOLL_TEST_MONGODB_URI when set (FerretDB in CI, where a filtered update
// is not atomic: the lease must not depend on it).
func leaseStores(t *testing.T) map[string]store.Store {
	t.Helper()
	ctx := tctx(t)
	out := map[string]store.Store{}
	st, err := embedded.Open(ctx, t.TempDir(), embedded.Options{SyncOff: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	out["embedded"] = st
	if uri := os.Getenv("ATOLL_TEST_MONGODB_URI"); uri != "" {
		ms, err := mongostore.Open(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ms.Close(context.Background()) })
		out["mongodb"] = ms
	}
	return out
}

// TestLeaseContention: many runners race for one free (then expired)
// lease at once; each round exactly one wins, and a holder whose
// generation was superseded learns it on renewal.
func TestLeaseContention(t *testing.T) {
	for kind, st := range leaseStores(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := tctx(t)
			name := "race_" + bson.NewObjectID().Hex()
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			runners := make([]*Runner, 8)
			for i := range runners {
				runners[i] = New(nil, Config{Store: st, Logger: quiet, LeaseTTL: time.Hour})
			}
			var prev *lease
			var prevRunner *Runner
			for round := 0; round < 5; round++ {
				var (
					wg     sync.WaitGroup
					mu     sync.Mutex
					won    []*lease
					winner *Runner
				)
				for _, r := range runners {
					wg.Add(1)
					go func() {
						defer wg.Done()
						l, err := r.acquire(ctx, name)
						if err != nil {
							t.Error(err)
							return
						}
						if l != nil {
							mu.Lock()
							won = append(won, l)
							winner = r
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				if len(won) != 1 {
					t.Fatalf("round %d: %d runners acquired the lease, want 1", round, len(won))
				}
				if h, _, err := LeaseHolder(ctx, st, name); err != nil || h != winner.id {
					t.Fatalf("round %d: holder %q (%v), want the winner %q", round, h, err, winner.id)
				}
				if prev != nil {
					if err := prevRunner.renew(ctx, prev); !errors.Is(err, errLeaseLost) {
						t.Fatalf("round %d: the superseded holder renewed: %v", round, err)
					}
				}
				// Expire the winner's generation, as if it died long ago.
				if _, err := leaseColl(st).UpdateOne(ctx, bson.D{{Key: "_id", Value: won[0].id}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "expires", Value: bson.NewDateTimeFromTime(time.Now().Add(-time.Second))}}}}, store.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
				prev, prevRunner = won[0], winner
			}
		})
	}
}

// TestExclusiveVoidsDeadLeases: on a store no other process can open, a
// restarted runner does not wait for the leases of the process that died.
func TestExclusiveVoidsDeadLeases(t *testing.T) {
	ctx := tctx(t)
	s := newStackWith(t, dbTriggerApp(`{"name":"t","type":"DATABASE","config":{"service_name":"mongodb-atlas","database":"store","collection":"items",
		"operation_types":["INSERT"]},"event_processors":{"FUNCTION":{"config":{"function_name":"record"}}}}`), nil)
	waitStatus(ctx, t, s.st, "t", StatusRunning)
	s.runner.Close()
	if _, err := leaseColl(s.st).InsertOne(ctx, bson.D{{Key: "_id", Value: "t#99"}, {Key: "trigger", Value: "t"}, {Key: "epoch", Value: int64(99)},
		{Key: "holder", Value: "dead"}, {Key: "expires", Value: bson.NewDateTimeFromTime(time.Now().Add(time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.Database("store").Collection("items").InsertOne(ctx, bson.D{{Key: "_id", Value: int32(1)}}); err != nil {
		t.Fatal(err)
	}
	cfg := s.cfg
	cfg.Exclusive = true
	r := New(s.triggers, cfg)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if evs := waitEvents(ctx, t, s.st, 1); len(evs) != 1 {
		t.Fatalf("events %v", evs)
	}
	if h, _, err := LeaseHolder(ctx, s.st, "t"); err != nil || h != r.id {
		t.Errorf("lease held by %q (%v), want the restarted runner", h, err)
	}
}
