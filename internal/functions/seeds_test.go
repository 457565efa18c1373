package functions

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/rules"
)

// The seed functions, byte for byte as the source documents give them.
var seedSources = map[string]string{
	"createNewUserDocument": `exports = async function createNewUserDocument({ user }) {
  const cluster = context.services.get("mongodb-atlas");
  const users = cluster.db("tracker").collection("users");
  return await users.insertOne({
    _partition: "My Project",
    user_id: user.id,
    name: user.data.email,
  });
};`,
	"onUserCreated": `exports = function(authEvent) {
const user = authEvent.user;
const collection = context.services.get("mongodb-atlas").db("Item").collection("User");
const newDoc = {
_id: user.id,
email: user.data.email, // Useful for looking up user IDs by email later - assuming email/password auth is used
team: "", // Used for tiered privileges
isTeamAdmin: false, // Used for tiered privileges
isGlobalAdmin: false, // Used for admin privileges
subscribedTo: [], // Used for restricted feed
};
return collection.insertOne(newDoc);
};`,
	"subscribeToUser": `exports = async function(email) {
const collection = context.services.get("mongodb-atlas").db("Item").collection("User");
// Look up the author object to get the user id from an email
const author = await collection.findOne({email});
if (author == null) {
return {error: ` + "`Author ${email} not found`" + `};
}
// Whoever called this function is the would-be subscriber
const subscriber = context.user;
try {
return await collection.updateOne(
{_id: subscriber.id},
{$addToSet: {
subscribedTo: author._id,
}
});
} catch (error) {
return {error: error.toString()};
}
};`,
	"findUser": `exports = async function(email) {
const collection = context.services.get("mongodb-atlas")
.db("Item").collection("User");
const filter = {
email,
};
// Search for the user by email
const result = await collection.findOne(filter);
// Return corresponding user id or null
return result != null ? result._id : null;
};`,
	"joinTeam": `exports = async function(userId, teamName) {
const collection = context.services.get("mongodb-atlas")
.db("Item").collection("User");
const filter = { _id: userId };
const update = { $set: { team: teamName }};
const options = { upsert: false };
return collection.updateOne(filter, update, options);
};`,
	"resetFunc": `exports = ({ token, tokenId, username, password }) => {
  // will not reset the password
  return { status: 'fail' };
};`,
	"listUsers":    `exports = async function(){ const c = context.services.get("mongodb-atlas").db("Item").collection("User"); return c.find({}, {email: 1}).sort({_id: 1}).toArray(); }`,
	"listUsersSys": `exports = async function(){ const c = context.services.get("mongodb-atlas").db("Item").collection("User"); const cur = c.find({}).sort({_id: -1}).limit(1); const first = await cur.next(); return [first._id, await cur.next(), await c.count({}), await context.services.get("mongodb-atlas").db("Item").getCollectionNames(), await context.services.get("mongodb-atlas").admin().getDBNames(), context.services.get("nope")] }`,
	"collNames":    `exports = () => context.services.get("mongodb-atlas").db("Item").getCollectionNames()`,
	"dbNames":      `exports = () => context.services.get("mongodb-atlas").admin().getDBNames()`,
	"fetch":        `exports = async function(url){ const r = await context.http.post({url: url + "/echo?x=1", headers: {"X-T": ["v"]}, body: {a: 1}, encodeBodyAsJSON: true}); return [r.statusCode, r.body.text(), r.headers["X-Got"][0]]; }`,
}

const seedManifest = `[
 {"name":"createNewUserDocument"},{"name":"onUserCreated"},
 {"name":"subscribeToUser","run_as_system":true},{"name":"findUser","run_as_system":true},
 {"name":"joinTeam","run_as_system":true},{"name":"resetFunc"},
 {"name":"listUsers"},{"name":"listUsersSys","run_as_system":true},{"name":"fetch"},
 {"name":"collNames"},{"name":"dbNames"}
]`

const userRules = `{
  "database": "Item", "collection": "User",
  "roles": [{"name": "self", "apply_when": {"_id": "%%user.id"},
    "document_filters": {"read": true, "write": false},
    "read": true, "write": false, "insert": false, "delete": false, "search": true}]
}`

func TestSeedFunctions(t *testing.T) {
	files := fnFiles(seedSources, seedManifest)
	files["data_sources/mongodb-atlas/Item/User/rules.json"] = userRules
	e := testEngine(t, testApp(t, files), Config{})
	ctx := tctx(t)
	event := func(id, email string) []any {
		return []any{bson.D{{Key: "operationType", Value: "CREATE"}, {Key: "user", Value: bson.D{
			{Key: "id", Value: id}, {Key: "type", Value: "normal"}, {Key: "data", Value: bson.D{{Key: "email", Value: email}}},
		}}}}
	}
	// Auth triggers run as system.
	got, err := e.Call(ctx, SystemCaller(), "createNewUserDocument", event("u1", "a@x.org"))
	if d, ok := got.(bson.D); err != nil || !ok || d[0].Key != "insertedId" {
		t.Fatalf("createNewUserDocument: %#v %v", got, err)
	} else if _, ok := d[0].Value.(bson.ObjectID); !ok {
		t.Errorf("insertedId is %T", d[0].Value)
	}
	for _, u := range [][2]string{{"alice", "alice@x.org"}, {"bob", "bob@x.org"}} {
		if _, err := e.Call(ctx, SystemCaller(), "onUserCreated", event(u[0], u[1])); err != nil {
			t.Fatalf("onUserCreated: %v", err)
		}
	}
	aliceC := ClientCaller(rules.Caller{ID: "alice", Type: "normal"}, nil)
	if got, err := e.Call(ctx, aliceC, "findUser", []any{"bob@x.org"}); err != nil || got != "bob" {
		t.Errorf("findUser: %#v %v", got, err)
	}
	got, err = e.Call(ctx, aliceC, "subscribeToUser", []any{"bob@x.org"})
	if d, ok := got.(bson.D); err != nil || !ok || d[0].Value != int64(1) && d[0].Value != int32(1) {
		t.Errorf("subscribeToUser: %#v %v", got, err)
	}
	got, _ = e.Call(ctx, aliceC, "subscribeToUser", []any{"nobody@x.org"})
	if d, ok := got.(bson.D); !ok || d[0].Value != "Author nobody@x.org not found" {
		t.Errorf("subscribeToUser unknown: %#v", got)
	}
	if _, err := e.Call(ctx, aliceC, "joinTeam", []any{"alice", "red"}); err != nil {
		t.Errorf("joinTeam: %v", err)
	}
	got, err = e.Call(ctx, SystemCaller(), "resetFunc", []any{bson.D{{Key: "token", Value: "t"}, {Key: "username", Value: "u"}}})
	if d, ok := got.(bson.D); err != nil || !ok || d[0].Value != "fail" {
		t.Errorf("resetFunc: %#v %v", got, err)
	}
	// As the application user, rules apply: alice sees only her document.
	got, err = e.Call(ctx, aliceC, "listUsers", nil)
	a, ok := got.(bson.A)
	if err != nil || !ok || len(a) != 1 {
		t.Fatalf("listUsers as alice: %#v %v", got, err)
	}
	if d := a[0].(bson.D); d[0].Value != "alice" || len(d) != 2 {
		t.Errorf("alice's document: %#v", d)
	}
	// Her team and subscription were written by the system functions.
	got, err = e.Call(ctx, aliceC, "listUsersSys", nil)
	if a, ok := got.(bson.A); err != nil || !ok || a[0] != "bob" || a[1] != (bson.Undefined{}) && a[1] != nil || a[2] != int32(2) {
		t.Errorf("listUsersSys: %#v %v", got, err)
	} else {
		t.Logf("listUsersSys: %v", a)
	}
	// Namespace listings bypass the rules, so an application user is
	// refused them; the system (listUsersSys above) may list.
	for _, fn := range []string{"collNames", "dbNames"} {
		if got, err := e.Call(ctx, aliceC, fn, nil); err == nil {
			t.Errorf("%s as alice: %#v, want an error", fn, got)
		} else if !strings.Contains(err.Error(), "only available to functions running as system") {
			t.Errorf("%s as alice: %v", fn, err)
		}
	}
}

func TestHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 100)
		n, _ := r.Body.Read(buf)
		w.Header().Set("X-Got", r.Header.Get("X-T")+r.URL.RawQuery)
		_, _ = w.Write(buf[:n])
	}))
	defer srv.Close()
	e := testEngine(t, testApp(t, fnFiles(seedSources, seedManifest)), Config{})
	got, err := e.Call(tctx(t), SystemCaller(), "fetch", []any{srv.URL})
	if a, ok := got.(bson.A); err != nil || !ok || a[0] != int32(200) || a[1] != `{"a":1}` || a[2] != "vx=1" {
		t.Errorf("http: %#v %v", got, err)
	}
}
