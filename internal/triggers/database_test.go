package triggers

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// recordFn stores each event it receives in out.events as {ev}; it throws
// while out.config holds {_id: "fail"} and the event's document has fail.
const recordFn = `exports = async (ev) => {
  const db = context.services.get("mongodb-atlas").db("out");
  const key = ev.documentKey ? ev.documentKey._id : null;
  if (ev.fullDocument && ev.fullDocument.fail && await db.collection("config").findOne({_id: "fail"})) {
    throw new Error("handler refused " + key);
  }
  await db.collection("events").insertOne({key: key, ev: ev});
}`

func dbTriggerApp(trigger string) map[string]string {
	return map[string]string{
		"functions/config.json": `[{"name":"record","private":true}]`,
		"functions/record.js":   recordFn,
		"triggers/t.json":       trigger,
	}
}

// waitEvents waits until out.events holds n documents and returns their
// events in delivery order.
func waitEvents(ctx context.Context, t *testing.T, st store.Store, n int) []bson.D {
	t.Helper()
	c := st.Database("out").Collection("events")
	for {
		cur, err := c.Find(ctx, bson.D{}, store.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		docs, err := store.All(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) >= n {
			out := make([]bson.D, len(docs))
			for i, d := range docs {
				out[i], _ = lookup(d, "ev").(bson.D)
			}
			return out
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d events delivered, want %d", len(docs), n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// waitStatus waits until the trigger's recorded status is want.
func waitStatus(ctx context.Context, t *testing.T, st store.Store, name, want string) *State {
	t.Helper()
	for {
		s, err := loadState(ctx, st, name)
		if err != nil {
			t.Fatal(err)
		}
		if s != nil && s.Status == want {
			return s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("trigger %s status %+v, want %s", name, s, want)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func ejson(t *testing.T, d bson.D) string {
	t.Helper()
	if d == nil {
		return "null"
	}
	b, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDatabaseTriggerSemantics(t *testing.T) {
	cases := []struct {
		name   string
		config string
		// act writes to store.items; the last write must be delivered.
		act   func(ctx context.Context, c store.Collection) error
		check func(t *testing.T, evs []bson.D)
		want  int
	}{
		{
			name:   "change event shape (insert, full_document)",
			config: `"operation_types":["INSERT"],"full_document":true`,
			act: func(ctx context.Context, c store.Collection) error {
				_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: int32(1)}})
				return err
			},
			want: 1,
			check: func(t *testing.T, evs []bson.D) {
				ev := evs[0]
				for _, k := range []string{"_id", "operationType", "clusterTime", "ns", "documentKey", "fullDocument"} {
					if lookup(ev, k) == nil {
						t.Errorf("event lacks %s: %s", k, ejson(t, ev))
					}
				}
				if _, ok := lookup(ev, "clusterTime").(bson.Timestamp); !ok {
					t.Errorf("clusterTime is not a timestamp: %s", ejson(t, ev))
				}
				if id, _ := lookup(ev, "_id").(bson.D); lookup(id, "_data") == nil {
					t.Errorf("_id is not a resume token: %s", ejson(t, ev))
				}
				if lookup(ev, "operationType") != "insert" || ejson(t, lookup(ev, "ns").(bson.D)) != `{"db":"store","coll":"items"}` ||
					ejson(t, lookup(ev, "fullDocument").(bson.D)) != `{"_id":"a","n":1}` {
					t.Errorf("event %s", ejson(t, ev))
				}
			},
		},
		{
			name:   "match (T2)",
			config: `"operation_types":["INSERT","UPDATE","REPLACE"],"match":{"fullDocument.needsTriggerResponse":true},"full_document":true`,
			act: func(ctx context.Context, c store.Collection) error {
				for i, flag := range []bool{false, true, false} {
					if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: int32(i)}, {Key: "needsTriggerResponse", Value: flag}}); err != nil {
						return err
					}
				}
				// An update that sets the flag matches through the post-image.
				_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: int32(2)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "needsTriggerResponse", Value: true}}}}, store.UpdateOptions{})
				return err
			},
			want: 2,
			check: func(t *testing.T, evs []bson.D) {
				if len(evs) != 2 || lookup(evs[0], "operationType") != "insert" || lookup(evs[1], "operationType") != "update" ||
					lookup(lookup(evs[0], "documentKey").(bson.D), "_id") != int32(1) || lookup(lookup(evs[1], "documentKey").(bson.D), "_id") != int32(2) {
					t.Errorf("events %v", evs)
				}
			},
		},
		{
			name:   "project (T3)",
			config: `"operation_types":["UPDATE"],"project":{"_id":0,"operationType":1,"updateDescription.updatedFields.status":1}`,
			act: func(ctx context.Context, c store.Collection) error {
				if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "t1"}, {Key: "status", Value: "Open"}, {Key: "x", Value: 1}}); err != nil {
					return err
				}
				_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "t1"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "InProgress"}, {Key: "x", Value: 2}}}}, store.UpdateOptions{})
				return err
			},
			want: 1,
			check: func(t *testing.T, evs []bson.D) {
				if got := ejson(t, evs[0]); got != `{"operationType":"update","updateDescription":{"updatedFields":{"status":"InProgress"}}}` {
					t.Errorf("projected event %s", got)
				}
			},
		},
		{
			name:   "no full_document: updates carry no post-image",
			config: `"operation_types":["UPDATE"]`,
			act: func(ctx context.Context, c store.Collection) error {
				if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "u"}, {Key: "v", Value: 1}}); err != nil {
					return err
				}
				_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "u"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 2}}}}, store.UpdateOptions{})
				return err
			},
			want: 1,
			check: func(t *testing.T, evs []bson.D) {
				if lookup(evs[0], "fullDocument") != nil || lookup(evs[0], "fullDocumentBeforeChange") != nil || lookup(evs[0], "updateDescription") == nil {
					t.Errorf("event %s", ejson(t, evs[0]))
				}
			},
		},
		{
			name:   "full_document_before_change",
			config: `"operation_types":["UPDATE","DELETE"],"full_document":true,"full_document_before_change":true`,
			act: func(ctx context.Context, c store.Collection) error {
				// p is updated, q deleted: p's post-image (looked up when
				// the event is read) stays stable.
				if _, err := c.InsertMany(ctx, []bson.D{{{Key: "_id", Value: "p"}, {Key: "v", Value: int32(1)}}, {{Key: "_id", Value: "q"}, {Key: "v", Value: int32(2)}}}, store.InsertManyOptions{}); err != nil {
					return err
				}
				if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "p"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: int32(2)}}}}, store.UpdateOptions{}); err != nil {
					return err
				}
				_, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: "q"}})
				return err
			},
			want: 2,
			check: func(t *testing.T, evs []bson.D) {
				up, del := evs[0], evs[1]
				if b, _ := lookup(up, "fullDocumentBeforeChange").(bson.D); ejson(t, b) != `{"_id":"p","v":1}` {
					t.Errorf("update pre-image: %s", ejson(t, up))
				}
				if a, _ := lookup(up, "fullDocument").(bson.D); ejson(t, a) != `{"_id":"p","v":2}` {
					t.Errorf("update post-image: %s", ejson(t, up))
				}
				if b, _ := lookup(del, "fullDocumentBeforeChange").(bson.D); ejson(t, b) != `{"_id":"q","v":2}` || lookup(del, "fullDocument") != nil {
					t.Errorf("delete: %s", ejson(t, del))
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := tctx(t)
			s := newStack(t, dbTriggerApp(`{"name":"t","type":"DATABASE","config":{"service_name":"mongodb-atlas","database":"store","collection":"items",`+
				c.config+`},"event_processors":{"FUNCTION":{"config":{"function_name":"record"}}}}`))
			if err := s.st.Database("store").CreateCollection(ctx, "items", store.CreateCollectionOptions{ChangeStreamPreAndPostImages: true}); err != nil {
				t.Fatal(err)
			}
			// The stream is open once the starting position is recorded.
			waitStatus(ctx, t, s.st, "t", StatusRunning)
			if err := c.act(ctx, s.st.Database("store").Collection("items")); err != nil {
				t.Fatal(err)
			}
			waitEvents(ctx, t, s.st, c.want)
			// Everything before the last expected event was handled (ordered
			// delivery); stopping now shows no extra event came first.
			s.runner.Close()
			evs := waitEvents(ctx, t, s.st, c.want)
			if len(evs) != c.want {
				t.Fatalf("%d events, want %d", len(evs), c.want)
			}
			c.check(t, evs)
		})
	}
}

// TestDatabaseTriggerSuspendResume: a failing handler suspends the trigger
// with its error recorded and later events wait; resuming redelivers the
// failed event then the rest, in order; --from-now skips what happened
// while suspended; a restart continues after the last delivered event.
func TestDatabaseTriggerSuspendResume(t *testing.T) {
	ctx := tctx(t)
	s := newStack(t, dbTriggerApp(`{"name":"t","type":"DATABASE","config":{"service_name":"mongodb-atlas","database":"store","collection":"items",
		"operation_types":["INSERT"]},"event_processors":{"FUNCTION":{"config":{"function_name":"record"}}}}`))
	waitStatus(ctx, t, s.st, "t", StatusRunning)
	items := s.st.Database("store").Collection("items")
	ins := func(id int32, fail bool) {
		t.Helper()
		if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "fail", Value: fail}}); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(evs []bson.D) []int32 {
		var out []int32
		for _, ev := range evs {
			out = append(out, lookup(lookup(ev, "documentKey").(bson.D), "_id").(int32))
		}
		return out
	}
	if _, err := s.st.Database("out").Collection("config").InsertOne(ctx, bson.D{{Key: "_id", Value: "fail"}}); err != nil {
		t.Fatal(err)
	}
	ins(1, false)
	ins(2, true)
	ins(3, false)
	st := waitStatus(ctx, t, s.st, "t", StatusSuspended)
	if !strings.Contains(st.Error, "handler refused 2") || st.SuspendedAt.IsZero() {
		t.Errorf("suspended state %+v", st)
	}
	if got := keys(waitEvents(ctx, t, s.st, 1)); len(got) != 1 || got[0] != 1 {
		t.Fatalf("delivered before suspension: %v", got)
	}
	states, err := ListStates(ctx, s.st)
	if err != nil || len(states) != 1 || states[0].Name != "t" || states[0].Status != StatusSuspended {
		t.Fatalf("ListStates: %+v %v", states, err)
	}

	// Resume: the failed event comes again, then the next.
	if _, err := s.st.Database("out").Collection("config").DeleteOne(ctx, bson.D{{Key: "_id", Value: "fail"}}); err != nil {
		t.Fatal(err)
	}
	if err := Resume(ctx, s.st, "t", false); err != nil {
		t.Fatal(err)
	}
	if got := keys(waitEvents(ctx, t, s.st, 3)); len(got) != 3 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("after resume: %v", got)
	}

	// Suspend again; an insert while suspended is skipped by a resume
	// from now.
	if _, err := s.st.Database("out").Collection("config").InsertOne(ctx, bson.D{{Key: "_id", Value: "fail"}}); err != nil {
		t.Fatal(err)
	}
	ins(4, true)
	waitStatus(ctx, t, s.st, "t", StatusSuspended)
	ins(5, false)
	if err := Resume(ctx, s.st, "t", true); err != nil {
		t.Fatal(err)
	}
	waitStatus(ctx, t, s.st, "t", StatusRunning)
	// Wait for the runner to record its new starting point (after 5).
	for {
		cur, _ := loadState(ctx, s.st, "t")
		if cur != nil && cur.ResumeToken != nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no starting point recorded after resume from now")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ins(6, false)
	if got := keys(waitEvents(ctx, t, s.st, 4)); len(got) != 4 || got[3] != 6 {
		t.Fatalf("after resume from now: %v", got)
	}

	// Restart: events committed while no runner ran are delivered by the
	// next one, after the last delivered event.
	s.runner.Close()
	ins(7, false)
	ins(8, false)
	r2 := New(s.triggers, s.cfg)
	if err := r2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	// A handler cut short by Close may run again (at least once): compare
	// first deliveries.
	var got []int32
	for len(got) < 6 {
		got = got[:0]
		seen := map[int32]bool{}
		for _, k := range keys(waitEvents(ctx, t, s.st, len(got)+1)) {
			if !seen[k] {
				seen[k] = true
				got = append(got, k)
			}
		}
		if len(got) < 6 {
			if ctx.Err() != nil {
				t.Fatalf("after restart: %v", got)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if len(got) != 6 || got[4] != 7 || got[5] != 8 {
		t.Fatalf("after restart: %v", got)
	}
	if err := Resume(ctx, s.st, "nope", false); err == nil {
		t.Error("resuming an unknown trigger succeeded")
	}
}
