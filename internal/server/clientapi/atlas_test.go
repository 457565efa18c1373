package clientapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// taskDoc is a Task for assignee as canonical EJSON.
func taskDoc(assignee, name string) string {
	return fmt.Sprintf(`{"_partition":"p","name":%q,"status":"Open","assignee":%q}`, name, assignee)
}

var oidRe = regexp.MustCompile(`^\{"\$oid":"[0-9a-f]{24}"\}$`)

// TestAtlasResultShapes runs every operation realm-web sends through the
// HTTP route and checks the exact canonical EJSON of each answer.
func TestAtlasResultShapes(t *testing.T) {
	e := trackerEnv(t, envOptions{})
	alice := e.emailUser("alice@example.com", "password123")
	bob := e.emailUser("bob@example.com", "password123")

	r := e.svc(alice.Access, "insertOne", `{`+tasks+`,"document":`+taskDoc(alice.UserID, "a1")+`}`)
	m := ejson(t, r).(map[string]any)
	id := r.body[len(`{"insertedId":`) : len(r.body)-1]
	if len(m) != 1 || !oidRe.MatchString(id) {
		t.Fatalf("insertOne: %s", r.body)
	}
	r = e.svc(alice.Access, "insertMany", `{`+tasks+`,"documents":[`+taskDoc(alice.UserID, "a2")+`,{"_id":{"$numberLong":"7"},"_partition":"p","name":"a3","status":"Open","assignee":"`+alice.UserID+`"}]}`)
	if r.status == http.StatusOK {
		t.Fatalf("an int64 _id breaks the objectId schema, got %s", r.body)
	}
	r = e.svc(alice.Access, "insertMany", `{`+tasks+`,"documents":[`+taskDoc(alice.UserID, "a2")+`,`+taskDoc(alice.UserID, "a3")+`]}`)
	if !regexp.MustCompile(`^\{"insertedIds":\[\{"\$oid":"[0-9a-f]{24}"\},\{"\$oid":"[0-9a-f]{24}"\}\]\}$`).MatchString(r.body) {
		t.Fatalf("insertMany: %d %s", r.status, r.body)
	}

	// find: an array; sort, limit and the `project` key of realm-web.
	r = e.svc(bob.Access, "find", `{`+tasks+`,"query":{},"project":{"name":{"$numberInt":"1"},"_id":{"$numberInt":"0"}},"sort":{"name":{"$numberInt":"-1"}},"limit":{"$numberInt":"2"}}`)
	if r.body != `[{"name":"a3"},{"name":"a2"}]` {
		t.Fatalf("find: %d %s", r.status, r.body)
	}
	r = e.svc(bob.Access, "find", `{`+tasks+`,"query":{"name":"none"}}`)
	if r.body != `[]` {
		t.Fatalf("empty find: %s", r.body)
	}
	r = e.svc(bob.Access, "findOne", `{`+tasks+`,"query":{"name":"none"}}`)
	if r.body != `null` || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("findOne without match: %s", r.body)
	}
	r = e.svc(bob.Access, "findOne", `{`+tasks+`,"query":{"name":"a1"},"project":{"status":1}}`)
	if r.body != `{"_id":`+id+`,"status":"Open"}` {
		t.Fatalf("findOne: %s", r.body)
	}
	r = e.svc(bob.Access, "count", `{`+tasks+`,"query":{"assignee":"`+alice.UserID+`"}}`)
	if r.body != `{"$numberLong":"3"}` {
		t.Fatalf("count: %s", r.body)
	}
	r = e.svc(bob.Access, "count", `{`+tasks+`,"limit":{"$numberInt":"2"}}`)
	if r.body != `{"$numberLong":"2"}` {
		t.Fatalf("count with limit: %s", r.body)
	}
	r = e.svc(bob.Access, "aggregate", `{`+tasks+`,"pipeline":[{"$match":{}},{"$group":{"_id":null,"names":{"$push":"$name"}}},{"$project":{"_id":0}}]}`)
	if r.body != `[{"names":["a1","a2","a3"]}]` {
		t.Fatalf("aggregate: %s", r.body)
	}

	// updates: upsertedId only when upserted.
	r = e.svc(alice.Access, "updateOne", `{`+tasks+`,"query":{"name":"a1"},"update":{"$set":{"status":"Closed"}}}`)
	if r.body != `{"matchedCount":{"$numberLong":"1"},"modifiedCount":{"$numberLong":"1"}}` {
		t.Fatalf("updateOne: %s", r.body)
	}
	r = e.svc(alice.Access, "updateOne", `{`+tasks+`,"query":{"name":"none"},"update":{"$set":{"status":"Closed"}}}`)
	if r.body != `{"matchedCount":{"$numberLong":"0"},"modifiedCount":{"$numberLong":"0"}}` {
		t.Fatalf("updateOne without match: %s", r.body)
	}
	r = e.svc(alice.Access, "updateOne", `{`+tasks+`,"query":{"name":"a4","assignee":"`+alice.UserID+`"},"update":{"$set":{"status":"Open","_partition":"p"}},"upsert":true}`)
	if !regexp.MustCompile(`^\{"matchedCount":\{"\$numberLong":"0"\},"modifiedCount":\{"\$numberLong":"0"\},"upsertedId":\{"\$oid":"[0-9a-f]{24}"\}\}$`).MatchString(r.body) {
		t.Fatalf("upsert: %d %s", r.status, r.body)
	}
	// Operator-less updateMany is an implicit $set.
	r = e.svc(alice.Access, "updateMany", `{`+tasks+`,"query":{"assignee":"`+alice.UserID+`"},"update":{"status":"Same"}}`)
	if r.body != `{"matchedCount":{"$numberLong":"4"},"modifiedCount":{"$numberLong":"4"}}` {
		t.Fatalf("operator-less updateMany: %d %s", r.status, r.body)
	}
	// arrayFilters.
	r = e.svc(alice.Access, "updateOne", `{`+tasks+`,"query":{"name":"a1"},"update":{"$set":{"status":"x"}},"arrayFilters":[]}`)
	if r.status != http.StatusOK {
		t.Fatalf("arrayFilters: %d %s", r.status, r.body)
	}

	// findOneAndUpdate: pre-image by default, post-image on request, the
	// `projection` key, an operator-less update as a replacement.
	r = e.svc(alice.Access, "findOneAndUpdate", `{`+tasks+`,"filter":{"name":"a2"},"update":{"$set":{"status":"New"}},"projection":{"status":1,"_id":0}}`)
	if r.body != `{"status":"Same"}` {
		t.Fatalf("findOneAndUpdate: %s", r.body)
	}
	r = e.svc(alice.Access, "findOneAndUpdate", `{`+tasks+`,"filter":{"name":"a2"},"update":{"$set":{"status":"Newer"}},"projection":{"status":1,"_id":0},"returnNewDocument":true}`)
	if r.body != `{"status":"Newer"}` {
		t.Fatalf("findOneAndUpdate returnNewDocument: %s", r.body)
	}
	r = e.svc(alice.Access, "findOneAndUpdate", `{`+tasks+`,"filter":{"name":"a2"},"update":{"_partition":"p","name":"a2","status":"R","assignee":"`+alice.UserID+`"},"projection":{"_id":0},"returnNewDocument":true}`)
	if r.body != `{"_partition":"p","name":"a2","status":"R","assignee":"`+alice.UserID+`"}` {
		t.Fatalf("operator-less findOneAndUpdate: %s", r.body)
	}
	r = e.svc(alice.Access, "findOneAndUpdate", `{`+tasks+`,"filter":{"name":"none"},"update":{"$set":{"status":"x"}}}`)
	if r.body != `null` {
		t.Fatalf("findOneAndUpdate without match: %s", r.body)
	}
	r = e.svc(alice.Access, "findOneAndReplace", `{`+tasks+`,"filter":{"name":"a3"},"update":{"_partition":"p","name":"a3","status":"Replaced","assignee":"`+alice.UserID+`"},"returnNewDocument":true,"projection":{"status":1,"_id":0}}`)
	if r.body != `{"status":"Replaced"}` {
		t.Fatalf("findOneAndReplace: %s", r.body)
	}

	// realm-web's findOneAndDelete: findOneAndReplace without update.
	r = e.svc(alice.Access, "findOneAndReplace", `{`+tasks+`,"filter":{"name":"a3"},"projection":{"name":1,"_id":0}}`)
	if r.body != `{"name":"a3"}` {
		t.Fatalf("findOneAndDelete quirk: %s", r.body)
	}
	r = e.svc(alice.Access, "count", `{`+tasks+`,"query":{"name":"a3"}}`)
	if r.body != `{"$numberLong":"0"}` {
		t.Fatalf("a3 was not deleted: %s", r.body)
	}
	r = e.svc(alice.Access, "findOneAndDelete", `{`+tasks+`,"filter":{"name":"none"}}`)
	if r.body != `null` {
		t.Fatalf("findOneAndDelete without match: %s", r.body)
	}

	r = e.svc(alice.Access, "deleteOne", `{`+tasks+`,"query":{"name":"a4"}}`)
	if r.body != `{"deletedCount":{"$numberLong":"1"}}` {
		t.Fatalf("deleteOne: %s", r.body)
	}
	r = e.svc(alice.Access, "deleteMany", `{`+tasks+`,"query":{"assignee":"`+alice.UserID+`"}}`)
	if r.body != `{"deletedCount":{"$numberLong":"2"}}` {
		t.Fatalf("deleteMany: %s", r.body)
	}
}

// TestAtlasRefusals: what the tracker rules and schema refuse comes back
// in the envelope, and nothing changes.
func TestAtlasRefusals(t *testing.T) {
	e := trackerEnv(t, envOptions{})
	alice := e.emailUser("alice@example.com", "password123")
	bob := e.emailUser("bob@example.com", "password123")
	anon := e.anon()
	r := e.svc(alice.Access, "insertMany", `{`+tasks+`,"documents":[`+taskDoc(alice.UserID, "a1")+`,`+taskDoc(alice.UserID, "a2")+`]}`)
	if r.status != http.StatusOK {
		t.Fatalf("seed: %d %s", r.status, r.body)
	}
	before := e.snapshot()
	cases := []struct {
		name, tok, op, arg, msg string
	}{
		{"insert for someone else", alice.Access, "insertOne", `{` + tasks + `,"document":` + taskDoc(bob.UserID, "x") + `}`, "insert not permitted"},
		{"anonymous insert without assignee", anon.Access, "insertOne", `{` + tasks + `,"document":{"_partition":"p","name":"x","status":"Open"}}`, "insert not permitted"},
		{"schema: missing status", alice.Access, "insertOne", `{` + tasks + `,"document":{"_partition":"p","name":"x","assignee":"` + alice.UserID + `"}}`, ""},
		{"schema: wrong type", alice.Access, "insertOne", `{` + tasks + `,"document":{"_partition":"p","name":{"$numberInt":"5"},"status":"Open","assignee":"` + alice.UserID + `"}}`, ""},
		{"schema in insertMany", alice.Access, "insertMany", `{` + tasks + `,"documents":[` + taskDoc(alice.UserID, "ok") + `,{"_partition":"p","name":"x","assignee":"` + alice.UserID + `"}]}`, ""},
		{"users are read-only", alice.Access, "insertOne", `{"database":"tracker","collection":"users","document":{"_partition":"p","user_id":"u","name":"n"}}`, "insert not permitted"},
		{"update someone else's task", bob.Access, "updateOne", `{` + tasks + `,"query":{"name":"a1"},"update":{"$set":{"status":"Closed"}}}`, "update not permitted"},
		{"updateMany someone else's tasks", bob.Access, "updateMany", `{` + tasks + `,"query":{},"update":{"$set":{"status":"Closed"}}}`, "update not permitted"},
		{"schema on update", alice.Access, "updateOne", `{` + tasks + `,"query":{"name":"a1"},"update":{"$unset":{"status":""}}}`, ""},
		{"upsert for someone else", alice.Access, "updateOne", `{` + tasks + `,"query":{"name":"n","assignee":"` + bob.UserID + `"},"update":{"$set":{"status":"Open","_partition":"p"}},"upsert":true}`, "insert not permitted"},
		{"delete someone else's task", bob.Access, "deleteOne", `{` + tasks + `,"query":{"name":"a1"}}`, "delete not permitted"},
		{"deleteMany someone else's tasks", anon.Access, "deleteMany", `{` + tasks + `,"query":{}}`, "delete not permitted"},
		{"findOneAndDelete someone else's task", bob.Access, "findOneAndReplace", `{` + tasks + `,"filter":{"name":"a1"}}`, "delete not permitted"},
		{"findOneAndUpdate someone else's task", bob.Access, "findOneAndUpdate", `{` + tasks + `,"filter":{"name":"a1"},"update":{"$set":{"status":"x"}}}`, "update not permitted"},
		{"$where", alice.Access, "find", `{` + tasks + `,"query":{"$where":"true"}}`, ""},
		{"$regex", alice.Access, "find", `{` + tasks + `,"query":{"name":{"$regex":"a"}}}`, ""},
		{"regex literal", alice.Access, "find", `{` + tasks + `,"query":{"name":{"$regularExpression":{"pattern":"a","options":""}}}}`, ""},
		{"$expr", alice.Access, "count", `{` + tasks + `,"query":{"$expr":{"$eq":["$name","a1"]}}}`, ""},
		{"$function", alice.Access, "aggregate", `{` + tasks + `,"pipeline":[{"$project":{"x":{"$function":{"body":"function(){}","args":[],"lang":"js"}}}}]}`, ""},
		{"$out", alice.Access, "aggregate", `{` + tasks + `,"pipeline":[{"$out":"stolen"}]}`, ""},
		{"$merge", alice.Access, "aggregate", `{` + tasks + `,"pipeline":[{"$merge":{"into":"stolen"}}]}`, ""},
		{"$graphLookup", alice.Access, "aggregate", `{` + tasks + `,"pipeline":[{"$graphLookup":{"from":"users","startWith":"$a","connectFromField":"a","connectToField":"b","as":"c"}}]}`, ""},
		{"unknown update operator", alice.Access, "updateOne", `{` + tasks + `,"query":{"name":"a1"},"update":{"$evil":{"status":"x"}}}`, ""},
		{"$-key inside a $set value", alice.Access, "updateOne", `{` + tasks + `,"query":{"name":"a1"},"update":{"$set":{"x":{"$where":"sleep(100)"}}}}`, ""},
		{"$-key inside a $push value", alice.Access, "updateOne", `{` + tasks + `,"query":{"name":"a1"},"update":{"$push":{"tags":{"$oid":{"$oid":"65f000000000000000000002"}}}}}`, ""},
		{"$-key inside an upsert's $setOnInsert", alice.Access, "updateOne", `{` + tasks + `,"query":{"name":"zz","assignee":"` + alice.UserID + `"},"update":{"$set":{"status":"Open","_partition":"p"},"$setOnInsert":{"y":{"$gt":1}}},"upsert":true}`, ""},
		{"mixed update", alice.Access, "updateOne", `{` + tasks + `,"query":{"name":"a1"},"update":{"$set":{"status":"x"},"name":"y"}}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.svc(c.tok, c.op, c.arg)
			if r.status < 400 || r.status >= 500 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			m := r.json(t)
			if code, _ := m["error_code"].(string); code == "" || code == "InternalServerError" {
				t.Fatalf("error_code %v: %s", m["error_code"], r.body)
			}
			if c.msg != "" && !strings.Contains(m["error"].(string), c.msg) {
				t.Fatalf("error %q, want %q", m["error"], c.msg)
			}
		})
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("refused calls wrote:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestAtlasSystemDatabase: even a default rule that allows everything
// does not open Atoll's own database (users, sessions, keys) or invalid
// namespaces to clients.
func TestAtlasSystemDatabase(t *testing.T) {
	files := map[string]string{
		"data_sources/mongodb-atlas/default_rule.json": `{"roles":[{"name":"all","apply_when":{},"read":true,"write":true,"insert":true,"delete":true}]}`,
	}
	e := newEnv(t, envOptions{files: files})
	tk := e.anon()
	before := e.snapshot()
	for _, ns := range []string{
		`"database":"__atoll","collection":"auth_users"`,
		`"database":"__atoll","collection":"auth_sessions"`,
		`"database":"admin","collection":"system.users"`,
		`"database":"a.b","collection":"c"`,
		`"database":"app","collection":"system.profile"`,
		`"database":"app","collection":"$cmd"`,
	} {
		for _, op := range []string{"find", "count", "deleteMany"} {
			r := e.svc(tk.Access, op, `{`+ns+`}`)
			if r.status < 400 || r.status >= 500 || strings.Contains(r.body, "hash") {
				t.Fatalf("%s on %s: %d %s", op, ns, r.status, r.body)
			}
		}
		r := e.svc(tk.Access, "insertOne", `{`+ns+`,"document":{"a":1}}`)
		if r.status < 400 || r.status >= 500 {
			t.Fatalf("insert on %s: %d %s", ns, r.status, r.body)
		}
	}
	// The default rule does apply to ordinary namespaces.
	if r := e.svc(tk.Access, "insertOne", `{"database":"app","collection":"notes","document":{"a":1}}`); r.status != 200 {
		t.Fatalf("insert: %d %s", r.status, r.body)
	}
	if after := e.snapshot(); after == before || strings.Count(after, "\n") != strings.Count(before, "\n")+1 {
		t.Fatalf("expected exactly one new document:\n%s", after)
	}
}
