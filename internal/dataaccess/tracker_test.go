package dataaccess

import (
	"errors"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/rules"
)

var (
	t1 = bson.ObjectID{1} // alice's task
	t2 = bson.ObjectID{2} // bob's task
	t3 = bson.ObjectID{3} // unassigned
)

func seedTracker(f *fixture) {
	f.seed("tasks",
		d("_id", t1, "_partition", "p", "assignee", "alice", "name", "write docs", "status", "Open"),
		d("_id", t2, "_partition", "p", "assignee", "bob", "name", "fix bug", "status", "Open"),
		d("_id", t3, "_partition", "p", "name", "triage", "status", "Open"),
	)
	f.seed("users", d("_id", bson.ObjectID{9}, "_partition", "p", "user_id", "alice", "name", "alice@example.com"))
}

func TestNamespaceErrors(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		svc, db, coll, code string
	}{
		{"nope", "tracker", "tasks", CodeServiceNotFound},
		{"mongodb-atlas", "tracker", "norules", CodeNoMatchingRule},
		{"mongodb-atlas", "__atoll", "users", CodeInvalidParameter},
		{"mongodb-atlas", "admin", "system.users", CodeInvalidParameter},
		{"mongodb-atlas", "bad.db", "x", CodeInvalidParameter},
		{"mongodb-atlas", "tracker", "a$b", CodeInvalidParameter},
		{"mongodb-atlas", "tracker", "", CodeInvalidParameter},
	}
	for _, c := range cases {
		_, err := f.a.Collection(f.ctx, f.alice, c.svc, c.db, c.coll)
		if !isCode(err, c.code) {
			t.Errorf("%s/%s/%s: got %v, want code %s", c.svc, c.db, c.coll, err, c.code)
		}
	}
	_, err := f.a.Collection(f.ctx, f.alice, "mongodb-atlas", "tracker", "norules")
	if err == nil || err.Error() != "no rule exists for namespace 'tracker.norules'" {
		t.Errorf("message: %v", err)
	}
	// System callers bypass rules, not the namespace checks.
	if _, err := f.a.Collection(f.ctx, f.sys, "mongodb-atlas", "tracker", "norules"); err != nil {
		t.Errorf("system: %v", err)
	}
	if _, err := f.a.Collection(f.ctx, f.sys, "mongodb-atlas", "__atoll", "users"); !isCode(err, CodeInvalidParameter) {
		t.Errorf("system on __atoll: %v", err)
	}
}

func TestTrackerReads(t *testing.T) {
	f := newFixture(t)
	seedTracker(f)
	for _, req := range []Request{f.alice, f.bob, f.anon} {
		tasks := f.coll(req, "tasks")
		docs, err := tasks.Find(f.ctx, nil, FindOptions{Sort: d("_id", 1)})
		if err != nil || len(docs) != 3 {
			t.Fatalf("%s find: %v %v", req.Caller.ID, docs, err)
		}
		n, err := tasks.Count(f.ctx, d("status", "Open"), CountOptions{})
		if err != nil || n != 3 {
			t.Fatalf("%s count: %d %v", req.Caller.ID, n, err)
		}
		one, err := tasks.FindOne(f.ctx, d("assignee", "bob"), FindOptions{Projection: d("name", 1, "_id", 0)})
		if err != nil || !reflect.DeepEqual(one, d("name", "fix bug")) {
			t.Fatalf("%s findOne: %v %v", req.Caller.ID, one, err)
		}
		none, err := tasks.FindOne(f.ctx, d("assignee", "nobody"), FindOptions{})
		if err != nil || none != nil {
			t.Fatalf("findOne none: %v %v", none, err)
		}
		users, err := f.coll(req, "users").Find(f.ctx, bson.D{}, FindOptions{})
		if err != nil || len(users) != 1 {
			t.Fatalf("users: %v %v", users, err)
		}
		agg, err := tasks.Aggregate(f.ctx, []bson.D{
			d("$match", d("status", "Open")),
			d("$sort", d("_id", 1)),
			d("$group", d("_id", nil, "names", d("$push", "$name"))),
			d("$project", d("_id", 0)),
		})
		want := []bson.D{d("names", bson.A{"write docs", "fix bug", "triage"})}
		if err != nil || !reflect.DeepEqual(agg, want) {
			t.Fatalf("aggregate: %v %v", agg, err)
		}
	}
}

// writeCase is one write attempt and what it must do.
type writeCase struct {
	name string
	req  func(f *fixture) Request
	coll string
	op   func(f *fixture, c *Collection) (any, error)
	// wantErr is the sentinel or code the request must fail with; "" and
	// nil mean success.
	wantErr  error
	wantCode string
	want     any // the result document on success (nil: not checked)
}

func runWriteCases(t *testing.T, seed func(*fixture), cases []writeCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			seed(f)
			before := map[string]string{}
			for _, n := range []string{"tasks", "users", "notes", "profiles"} {
				before[n] = ejson(t, f.raw(n))
			}
			res, err := c.op(f, f.coll(c.req(f), c.coll))
			failing := c.wantErr != nil || c.wantCode != ""
			switch {
			case failing && err == nil:
				t.Fatalf("succeeded (%v), want refusal", res)
			case c.wantErr != nil && !errors.Is(err, c.wantErr):
				t.Fatalf("error %v, want %v", err, c.wantErr)
			case c.wantCode != "" && !isCode(err, c.wantCode):
				t.Fatalf("error %v (%s), want code %s", err, AsError(err).Code, c.wantCode)
			case !failing && err != nil:
				t.Fatalf("refused: %v", err)
			}
			if failing {
				for n, b := range before {
					if after := ejson(t, f.raw(n)); after != b {
						t.Fatalf("refused write changed %s:\n%s\n->\n%s", n, b, after)
					}
				}
				return
			}
			if c.want != nil {
				if got := ejson(t, resultDoc(res)); got != ejson(t, c.want) {
					t.Fatalf("result %s, want %s", got, ejson(t, c.want))
				}
			}
		})
	}
}

func resultDoc(v any) any {
	switch r := v.(type) {
	case *InsertOneResult:
		return r.Document()
	case *InsertManyResult:
		return r.Document()
	case *UpdateResult:
		return r.Document()
	case *DeleteResult:
		return r.Document()
	}
	return v
}

func alice(f *fixture) Request { return f.alice }
func bob(f *fixture) Request   { return f.bob }
func anon(f *fixture) Request  { return f.anon }
func sys(f *fixture) Request   { return f.sys }

func task(id bson.ObjectID, assignee string) bson.D {
	doc := d("_id", id, "_partition", "p", "name", "n", "status", "Open")
	if assignee != "" {
		doc = append(doc, bson.E{Key: "assignee", Value: assignee})
	}
	return doc
}

func TestTrackerWrites(t *testing.T) {
	n1 := bson.ObjectID{0x10}
	cases := []writeCase{
		{name: "alice inserts her task", req: alice, coll: "tasks",
			op:   func(f *fixture, c *Collection) (any, error) { return c.InsertOne(f.ctx, task(n1, "alice")) },
			want: d("insertedId", n1)},
		{name: "alice inserts a task for bob", req: alice, coll: "tasks", wantErr: rules.ErrInsertNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) { return c.InsertOne(f.ctx, task(n1, "bob")) }},
		{name: "anon inserts an unassigned task", req: anon, coll: "tasks", wantErr: rules.ErrInsertNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) { return c.InsertOne(f.ctx, task(n1, "")) }},
		{name: "insertMany with one refused document writes nothing", req: alice, coll: "tasks", wantErr: rules.ErrInsertNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) {
				return c.InsertMany(f.ctx, []bson.D{task(n1, "alice"), task(bson.ObjectID{0x11}, "bob")})
			}},
		{name: "insertMany of her tasks", req: alice, coll: "tasks",
			op: func(f *fixture, c *Collection) (any, error) {
				return c.InsertMany(f.ctx, []bson.D{task(n1, "alice"), task(bson.ObjectID{0x11}, "alice")})
			}, want: d("insertedIds", bson.A{n1, bson.ObjectID{0x11}})},
		{name: "schema: missing status", req: alice, coll: "tasks", wantCode: CodeSchemaValidation,
			op: func(f *fixture, c *Collection) (any, error) {
				return c.InsertOne(f.ctx, d("_partition", "p", "assignee", "alice", "name", "x"))
			}},
		{name: "schema: update sets a number", req: alice, coll: "tasks", wantCode: CodeSchemaValidation,
			op: func(f *fixture, c *Collection) (any, error) {
				return c.UpdateOne(f.ctx, d("_id", t1), d("$set", d("status", int32(5))), UpdateOptions{})
			}},
		{name: "alice updates her task", req: alice, coll: "tasks",
			op: func(f *fixture, c *Collection) (any, error) {
				return c.UpdateOne(f.ctx, d("_id", t1), d("$set", d("status", "Closed")), UpdateOptions{})
			}, want: d("matchedCount", int64(1), "modifiedCount", int64(1))},
		{name: "bob updates alice's task", req: bob, coll: "tasks", wantErr: rules.ErrUpdateNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) {
				return c.UpdateOne(f.ctx, d("_id", t1), d("$set", d("status", "Closed")), UpdateOptions{})
			}},
		{name: "updateMany over tasks alice may not write changes nothing", req: alice, coll: "tasks", wantErr: rules.ErrUpdateNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) {
				return c.UpdateMany(f.ctx, bson.D{}, d("$set", d("status", "Closed")), UpdateOptions{})
			}},
		{name: "updateMany over her tasks", req: alice, coll: "tasks",
			op: func(f *fixture, c *Collection) (any, error) {
				return c.UpdateMany(f.ctx, d("assignee", "alice"), d("status", "Closed"), UpdateOptions{})
			}, want: d("matchedCount", int64(1), "modifiedCount", int64(1))},
		{name: "alice deletes bob's task", req: alice, coll: "tasks", wantErr: rules.ErrDeleteNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) { return c.DeleteOne(f.ctx, d("_id", t2)) }},
		{name: "alice deletes her task", req: alice, coll: "tasks",
			op:   func(f *fixture, c *Collection) (any, error) { return c.DeleteOne(f.ctx, d("_id", t1)) },
			want: d("deletedCount", int64(1))},
		{name: "deleteMany reaching others' tasks", req: alice, coll: "tasks", wantErr: rules.ErrDeleteNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) { return c.DeleteMany(f.ctx, bson.D{}) }},
		{name: "anon deletes", req: anon, coll: "tasks", wantErr: rules.ErrDeleteNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) { return c.DeleteMany(f.ctx, d("_id", t3)) }},
		{name: "nobody inserts users", req: alice, coll: "users", wantErr: rules.ErrInsertNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) {
				return c.InsertOne(f.ctx, d("_partition", "p", "user_id", "alice", "name", "a"))
			}},
		{name: "nobody updates users", req: alice, coll: "users", wantErr: rules.ErrUpdateNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) {
				return c.UpdateOne(f.ctx, d("user_id", "alice"), d("$set", d("name", "x")), UpdateOptions{})
			}},
		{name: "system inserts users, without rules", req: sys, coll: "users",
			op: func(f *fixture, c *Collection) (any, error) {
				return c.InsertOne(f.ctx, d("_id", n1, "anything", true))
			}, want: d("insertedId", n1)},
		{name: "upsert without insert rights", req: bob, coll: "tasks", wantErr: rules.ErrInsertNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) {
				return c.UpdateOne(f.ctx, d("name", "nope"), d("$set", d("assignee", "alice", "_partition", "p", "status", "Open")), UpdateOptions{Upsert: true})
			}},
		{name: "upsert with insert rights", req: alice, coll: "tasks",
			op: func(f *fixture, c *Collection) (any, error) {
				return c.UpdateOne(f.ctx, d("_id", n1, "name", "new"), d("$set", d("assignee", "alice", "_partition", "p", "status", "Open")), UpdateOptions{Upsert: true})
			}, want: d("matchedCount", int64(0), "modifiedCount", int64(0), "upsertedId", n1)},
		{name: "findOneAndUpdate returns the new document", req: alice, coll: "tasks",
			op: func(f *fixture, c *Collection) (any, error) {
				return c.FindOneAndUpdate(f.ctx, d("_id", t1), d("$set", d("status", "Done")), FindOneAndModifyOptions{ReturnNewDocument: true, Projection: d("status", 1)})
			}, want: d("_id", t1, "status", "Done")},
		{name: "findOneAndUpdate upsert with replacement semantics", req: alice, coll: "tasks",
			op: func(f *fixture, c *Collection) (any, error) {
				return c.FindOneAndUpdate(f.ctx, d("_id", n1, "name", "zzz"), d("_partition", "p", "assignee", "alice", "name", "Dennis", "status", "Open"), FindOneAndModifyOptions{Upsert: true, ReturnNewDocument: true})
			}, want: d("_id", n1, "_partition", "p", "assignee", "alice", "name", "Dennis", "status", "Open")},
		{name: "findOneAndDelete of bob's task by alice", req: alice, coll: "tasks", wantErr: rules.ErrDeleteNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) {
				return c.FindOneAndDelete(f.ctx, d("_id", t2), FindOneAndModifyOptions{})
			}},
		{name: "findOneAndReplace of alice's task by bob", req: bob, coll: "tasks", wantErr: rules.ErrUpdateNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) {
				return c.FindOneAndReplace(f.ctx, d("_id", t1), task(t1, "bob"), FindOneAndModifyOptions{})
			}},
		{name: "findOneAndDelete of her task returns the pre-image", req: alice, coll: "tasks",
			op: func(f *fixture, c *Collection) (any, error) {
				return c.FindOneAndDelete(f.ctx, d("_id", t1), FindOneAndModifyOptions{Projection: d("name", 1)})
			}, want: d("_id", t1, "name", "write docs")},
		{name: "update matching nothing", req: alice, coll: "tasks",
			op: func(f *fixture, c *Collection) (any, error) {
				return c.UpdateOne(f.ctx, d("_id", n1), d("$set", d("status", "x")), UpdateOptions{})
			}, want: d("matchedCount", int64(0), "modifiedCount", int64(0))},
	}
	runWriteCases(t, seedTracker, cases)
}

// TestTrackerWriteEffects checks what successful writes stored.
func TestTrackerWriteEffects(t *testing.T) {
	f := newFixture(t)
	seedTracker(f)
	tasks := f.coll(f.alice, "tasks")
	if _, err := tasks.UpdateOne(f.ctx, d("_id", t1), d("$set", d("status", "Closed")), UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := tasks.InsertOne(f.ctx, d("_partition", "p", "assignee", "alice", "name", "auto id", "status", "Open"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.InsertedID.(bson.ObjectID); !ok {
		t.Fatalf("insertedId %T", res.InsertedID)
	}
	docs := f.raw("tasks")
	if len(docs) != 4 || ejson(t, docs[0]) != ejson(t, d("_id", t1, "_partition", "p", "assignee", "alice", "name", "write docs", "status", "Closed")) {
		t.Fatalf("stored: %s", ejson(t, docs))
	}
	if _, err := tasks.DeleteOne(f.ctx, d("_id", t1)); err != nil {
		t.Fatal(err)
	}
	if n := len(f.raw("tasks")); n != 3 {
		t.Fatalf("after delete: %d", n)
	}
}
