package dataaccess

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
)

func TestReloadSwapsConfig(t *testing.T) {
	f := newFixture(t)
	held := f.coll(f.alice, "notes") // bound to the old version
	app := testApp()
	app.DataSources[0].Collections = app.DataSources[0].Collections[:2]
	app.DataSources[0].DefaultRule = raw("default_rule.json", usersRules)
	if err := f.a.Reload(app); err != nil {
		t.Fatal(err)
	}
	// notes now falls under the read-only default rule.
	if _, err := f.coll(f.alice, "notes").InsertOne(f.ctx, d("owner_id", "alice")); err == nil {
		t.Fatal("insert allowed under the new default rule")
	}
	// A handle from before the reload keeps its version.
	if _, err := held.InsertOne(f.ctx, d("owner_id", "alice")); err != nil {
		t.Fatalf("old handle: %v", err)
	}
	// A broken rule fails the reload and keeps the current version.
	bad := testApp()
	bad.DataSources[0].Collections[0].Rules = raw("tracker/tasks/rules.json", `{"roles":[{"name":"x","read":{"%%nope":1}}]}`)
	if err := f.a.Reload(bad); err == nil {
		t.Fatal("broken rules accepted")
	}
	if got := f.a.Services(); len(got) != 1 || got[0] != "mongodb-atlas" {
		t.Fatalf("services %v", got)
	}
	badSchema := testApp()
	badSchema.DataSources[0].Collections[0].Schema = raw("tracker/tasks/schema.json", `{"bsonType":"array"}`)
	if _, err := New(badSchema, f.st, Options{}); err == nil {
		t.Fatal("broken schema accepted")
	}
}

func TestUserCaller(t *testing.T) {
	c := UserCaller(&auth.Caller{UserID: "u1", CustomData: bson.D{{Key: "team", Value: "a"}}}, nil)
	if c.ID != "u1" || c.System || c.Type != "normal" || len(c.CustomData) != 1 {
		t.Fatalf("%+v", c)
	}
	u := &auth.User{ID: "u1", Type: "server", Data: bson.D{{Key: "email", Value: "x@y"}},
		Identities: []auth.Identity{{ID: "k", ProviderType: "api-key"}}}
	c = UserCaller(&auth.Caller{UserID: "u1"}, u)
	if c.Type != "server" || len(c.Identities) != 1 || c.Identities[0].ProviderType != "api-key" || len(c.Data) != 1 {
		t.Fatalf("%+v", c)
	}
	if !SystemCaller().System {
		t.Fatal("system caller")
	}
}
