package dataaccess

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// next returns the next event, failing the test if the subscription ends
// or nothing arrives within the test's bound.
func next(t *testing.T, s *Subscription) bson.D {
	t.Helper()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			t.Fatalf("subscription ended: %v", s.Err())
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event")
	}
	return nil
}

func evField(ev bson.D, path ...string) any {
	var v any = ev
	for _, p := range path {
		d, ok := v.(bson.D)
		if !ok {
			return nil
		}
		v = mql.Get(d, p)
		if mql.IsMissing(v) {
			return nil
		}
	}
	return v
}

func TestWatchDeliversOnlyPermittedRedactedEvents(t *testing.T) {
	f := newFixture(t)
	sysNotes := f.coll(f.sys, "notes")
	aliceNotes := f.coll(f.alice, "notes")
	subA, err := aliceNotes.Watch(f.ctx, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer subA.Close()
	subB, err := f.coll(f.bob, "notes").Watch(f.ctx, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer subB.Close()
	subSys, err := sysNotes.Watch(f.ctx, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer subSys.Close()

	// Bob's note first: alice must not see it; her own note comes next.
	if _, err := sysNotes.InsertOne(f.ctx, d("_id", n2, "owner_id", "bob", "text", secretValue)); err != nil {
		t.Fatal(err)
	}
	if _, err := aliceNotes.InsertOne(f.ctx, d("_id", n1, "owner_id", "alice", "text", "hers")); err != nil {
		t.Fatal(err)
	}
	ev := next(t, subA)
	if evField(ev, "operationType") != "insert" || evField(ev, "fullDocument", "_id") != n1 {
		t.Fatalf("alice's first event: %s", ejson(t, ev))
	}
	if evField(ev, "fullDocumentBeforeChange") != nil {
		t.Fatalf("pre-image sent: %s", ejson(t, ev))
	}
	ev = next(t, subB)
	if evField(ev, "fullDocument", "_id") != n2 {
		t.Fatalf("bob's event: %s", ejson(t, ev))
	}
	for i := 0; i < 2; i++ {
		next(t, subSys)
	}
	// Update and delete of alice's note reach alice (delete via the
	// store's pre-image), not bob.
	if _, err := aliceNotes.UpdateOne(f.ctx, d("_id", n1), d("$set", d("text", "edited")), UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := aliceNotes.DeleteOne(f.ctx, d("_id", n1)); err != nil {
		t.Fatal(err)
	}
	if _, err := sysNotes.UpdateOne(f.ctx, d("_id", n2), d("$set", d("text", "bob2")), UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev = next(t, subA)
	if evField(ev, "operationType") != "update" || evField(ev, "fullDocument", "text") != "edited" {
		t.Fatalf("update: %s", ejson(t, ev))
	}
	ev = next(t, subA)
	if evField(ev, "operationType") != "delete" || evField(ev, "documentKey", "_id") != n1 || evField(ev, "fullDocument") != nil {
		t.Fatalf("delete: %s", ejson(t, ev))
	}
	ev = next(t, subB)
	if evField(ev, "operationType") != "update" || evField(ev, "fullDocument", "text") != "bob2" {
		t.Fatalf("bob's next event: %s", ejson(t, ev))
	}
}

func TestWatchRedactsFieldsAndFilters(t *testing.T) {
	f := newFixture(t)
	seedProtected(f)
	prof := f.coll(f.alice, "profiles")
	sub, err := prof.Watch(f.ctx, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	byID, err := prof.Watch(f.ctx, WatchOptions{IDs: bson.A{p1}})
	if err != nil {
		t.Fatal(err)
	}
	defer byID.Close()
	byFilter, err := prof.Watch(f.ctx, WatchOptions{Filter: d("fullDocument.name", "Alicia")})
	if err != nil {
		t.Fatal(err)
	}
	defer byFilter.Close()
	// A filter on a withheld field never matches: it runs on the
	// redacted event.
	probe, err := prof.Watch(f.ctx, WatchOptions{Filter: d("fullDocument.secret", "changed")})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	if _, err := prof.Watch(f.ctx, WatchOptions{Filter: d("$where", "1")}); err == nil {
		t.Fatal("$where in a watch filter accepted")
	}
	sys := f.coll(f.sys, "profiles")
	other := bson.ObjectID{0x22}
	if _, err := sys.InsertOne(f.ctx, d("_id", other, "owner_id", "bob", "name", "Bob", "secret", secretValue)); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.UpdateOne(f.ctx, d("_id", p1), d("$set", d("secret", "changed", "name", "Alicia")), UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := next(t, sub)
	if evField(ev, "fullDocument", "_id") != other {
		t.Fatalf("insert: %s", ejson(t, ev))
	}
	ev = next(t, sub)
	s := ejson(t, ev)
	if strings.Contains(s, secretValue) || strings.Contains(s, "changed") || strings.Contains(s, `"secret"`) {
		t.Fatalf("update event leaks: %s", s)
	}
	if evField(ev, "updateDescription", "updatedFields", "name") != "Alicia" {
		t.Fatalf("update description: %s", s)
	}
	ev = next(t, byID)
	if evField(ev, "documentKey", "_id") != p1 {
		t.Fatalf("ids: %s", ejson(t, ev))
	}
	ev = next(t, byFilter)
	if evField(ev, "fullDocument", "name") != "Alicia" {
		t.Fatalf("filter: %s", ejson(t, ev))
	}
	select {
	case ev := <-probe.Events():
		t.Fatalf("probe on a withheld field matched: %s", ejson(t, ev))
	default:
	}
}

func TestWatchDropsSlowSubscriber(t *testing.T) {
	f := newFixture(t)
	f.a.opts.WatchBuffer = 2
	sys := f.coll(f.sys, "open")
	slow, err := sys.Watch(f.ctx, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := sys.Watch(f.ctx, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	for i := 0; i < 6; i++ {
		if _, err := sys.InsertOne(f.ctx, d("_id", int32(i))); err != nil {
			t.Fatal(err)
		}
		if ev := next(t, fast); evField(ev, "documentKey", "_id") != int32(i) {
			t.Fatalf("fast: %s", ejson(t, ev))
		}
	}
	n := 0
	for range slow.Events() {
		n++
	}
	if n != 2 || !errors.Is(slow.Err(), ErrSlowSubscriber) {
		t.Fatalf("slow subscriber: %d events, err %v", n, slow.Err())
	}
	// Closing the last subscriber stops the feed; a new one starts again.
	fast.Close()
	if _, ok := <-fast.Events(); ok {
		t.Fatal("events after close")
	}
	again, err := sys.Watch(f.ctx, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if _, err := sys.InsertOne(f.ctx, d("_id", "later")); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, again); evField(ev, "documentKey", "_id") != "later" {
		t.Fatalf("after restart: %s", ejson(t, ev))
	}
}

func TestWatchEndsWithAccess(t *testing.T) {
	f := newFixture(t)
	sub, err := f.coll(f.alice, "notes").Watch(f.ctx, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.a.Close()
	for range sub.Events() {
	}
	if !errors.Is(sub.Err(), ErrClosed) {
		t.Fatalf("err %v", sub.Err())
	}
	if _, err := f.coll(f.alice, "notes").Watch(f.ctx, WatchOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("watch after close: %v", err)
	}
}
