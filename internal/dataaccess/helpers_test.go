package dataaccess

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
)

// The task tracker of seed 002: isAssignee may insert, delete and write
// its tasks, everyone reads every task, nobody writes users.
const tasksRules = `{"roles":[
 {"name":"isAssignee","apply_when":{"assignee":"%%user.id"},"insert":true,"delete":true,"read":true,"write":true},
 {"name":"default","apply_when":{},"insert":false,"delete":false,"read":true,"write":false}]}`

const tasksSchema = `{"title":"Task","required":["_id","_partition","name","status"],
 "properties":{"_id":{"bsonType":"objectId"},"_partition":{"bsonType":"string"},
 "assignee":{"bsonType":"string"},"name":{"bsonType":"string"},"status":{"bsonType":"string"}}}`

const usersRules = `{"roles":[{"name":"default","apply_when":{},"insert":false,"delete":false,"read":true,"write":false}]}`

const usersSchema = `{"title":"User","required":["_id","_partition","user_id","name"],
 "properties":{"_id":{"bsonType":"objectId"},"_partition":{"bsonType":"string"},
 "user_id":{"bsonType":"string"},"name":{"bsonType":"string"},"image":{"bsonType":"string"}}}`

// notes: an owner rule enforced by document filters, so that the owner of
// a note cannot hand it to someone else (post-image write filter).
const notesRules = `{"roles":[{"name":"owner","apply_when":{},
 "document_filters":{"read":{"owner_id":"%%user.id"},"write":{"owner_id":"%%user.id"}},
 "read":true,"write":true,"insert":true,"delete":true}]}`

// profiles: field-level rules. secret is neither readable nor writable,
// nested.priv is withheld, additional fields are read-only.
const profilesRules = `{"roles":[{"name":"fields","apply_when":{},"insert":true,"delete":true,
 "fields":{"_id":{"read":true},"owner_id":{"read":true,"write":true},"name":{"read":true,"write":true},
  "secret":{"read":false,"write":false},"tags":{"read":true,"write":true},
  "nested":{"fields":{"pub":{"read":true,"write":true},"priv":{"read":false}}}},
 "additional_fields":{"read":true}}]}`

// open (read: true) is the baseline of the benchmarks.
const openRules = `{"roles":[{"name":"all","apply_when":{},"read":true,"write":true,"insert":true,"delete":true}]}`

func raw(file, s string) *appconfig.RawFile { return &appconfig.RawFile{File: file, JSON: []byte(s)} }

func testApp() *appconfig.App {
	coll := func(db, name, rules, schema string) *appconfig.Collection {
		c := &appconfig.Collection{Database: db, Collection: name}
		if rules != "" {
			c.Rules = raw(db+"/"+name+"/rules.json", rules)
		}
		if schema != "" {
			c.Schema = raw(db+"/"+name+"/schema.json", schema)
		}
		return c
	}
	return &appconfig.App{DataSources: []*appconfig.DataSource{{
		Name: "mongodb-atlas", Type: "mongodb-atlas",
		Collections: []*appconfig.Collection{
			coll("tracker", "tasks", tasksRules, tasksSchema),
			coll("tracker", "users", usersRules, usersSchema),
			coll("tracker", "notes", notesRules, ""),
			coll("tracker", "profiles", profilesRules, ""),
			coll("tracker", "open", openRules, ""),
			coll("tracker", "employees", employeesRules(), ""),
			coll("tracker", "vault", vaultRules, ""),
			coll("tracker", "shared", sharedRules, ""),
			coll("tracker", "locker", lockerRules, ""),
			coll("tracker", "sparse", sparseRules, ""),
		},
	}}}
}

type fixture struct {
	t     testing.TB
	ctx   context.Context
	st    store.Store
	a     *Access
	alice Request
	bob   Request
	anon  Request
	sys   Request
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	st := openStore(t, ctx)
	a, err := New(testApp(), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return &fixture{t: t, ctx: ctx, st: st, a: a,
		alice: Request{Caller: Caller{ID: "alice", Type: "normal"}},
		bob:   Request{Caller: Caller{ID: "bob", Type: "normal"}},
		anon:  Request{Caller: Caller{ID: "anon", Type: "normal"}},
		sys:   Request{Caller: SystemCaller()},
	}
}

// openStore opens the store the fixtures use: the embedded engine in a
// temporary directory, or MongoDB while TestOnMongoDB runs.
var openStore = func(t testing.TB, ctx context.Context) store.Store {
	t.Helper()
	st, err := embedded.Open(ctx, t.TempDir(), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	return st
}

func (f *fixture) coll(req Request, name string) *Collection {
	f.t.Helper()
	c, err := f.a.Collection(f.ctx, req, "mongodb-atlas", "tracker", name)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// raw reads the stored documents directly, bypassing everything.
func (f *fixture) raw(name string) []bson.D {
	f.t.Helper()
	cur, err := f.st.Database("tracker").Collection(name).Find(f.ctx, bson.D{}, store.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}})
	if err != nil {
		f.t.Fatal(err)
	}
	docs, err := store.All(f.ctx, cur)
	if err != nil {
		f.t.Fatal(err)
	}
	return docs
}

func (f *fixture) seed(name string, docs ...bson.D) {
	f.t.Helper()
	for _, d := range docs {
		if _, err := f.st.Database("tracker").Collection(name).InsertOne(f.ctx, d); err != nil {
			f.t.Fatal(err)
		}
	}
}

func d(kv ...any) bson.D {
	out := bson.D{}
	for i := 0; i < len(kv); i += 2 {
		out = append(out, bson.E{Key: kv[i].(string), Value: kv[i+1]})
	}
	return out
}

func ejson(t testing.TB, v any) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, false, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func isCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
