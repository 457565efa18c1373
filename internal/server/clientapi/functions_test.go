package clientapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// trackerFiles is the seed 002 task tracker: tracker.tasks with the
// isAssignee and default roles and the Task schema, tracker.users read-only
// with the User schema.
var trackerFiles = map[string]string{
	"data_sources/mongodb-atlas/tracker/tasks/rules.json": `{"database":"tracker","collection":"tasks","roles":[
		{"name":"isAssignee","apply_when":{"assignee":"%%user.id"},"insert":true,"delete":true,"read":true,"write":true},
		{"name":"default","apply_when":{},"insert":false,"delete":false,"read":true,"write":false}]}`,
	"data_sources/mongodb-atlas/tracker/tasks/schema.json": `{"title":"Task","required":["_id","_partition","name","status"],
		"properties":{"_id":{"bsonType":"objectId"},"_partition":{"bsonType":"string"},"assignee":{"bsonType":"string"},
		"name":{"bsonType":"string"},"status":{"bsonType":"string"}}}`,
	"data_sources/mongodb-atlas/tracker/users/rules.json": `{"database":"tracker","collection":"users","roles":[
		{"name":"default","apply_when":{},"insert":false,"delete":false,"read":true,"write":false}]}`,
	"data_sources/mongodb-atlas/tracker/users/schema.json": `{"title":"User","required":["_id","_partition","user_id","name"],
		"properties":{"_id":{"bsonType":"objectId"},"_partition":{"bsonType":"string"},"user_id":{"bsonType":"string"},
		"name":{"bsonType":"string"},"image":{"bsonType":"string"}}}`,
}

func trackerEnv(t testing.TB, o envOptions) *env {
	o.files = trackerFiles
	return newEnv(t, o)
}

// call POSTs a functions/call body with the bearer token.
func (e *env) call(tok, body string) response {
	e.t.Helper()
	return e.do("POST", appPath+"/functions/call", body, "Authorization: Bearer "+tok)
}

// svc calls one mongodb-atlas operation with one argument document.
func (e *env) svc(tok, op, arg string) response {
	e.t.Helper()
	return e.call(tok, fmt.Sprintf(`{"name":%q,"service":"mongodb-atlas","arguments":[%s]}`, op, arg))
}

// tasks is the database/collection prefix of an argument document.
const tasks = `"database":"tracker","collection":"tasks"`

func wantError(t testing.TB, r response, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	m := r.json(t)
	if m["error_code"] != code {
		t.Fatalf("error_code %v, want %s: %s", m["error_code"], code, r.body)
	}
	if s, _ := m["error"].(string); s == "" {
		t.Fatalf("no error message: %s", r.body)
	}
	return m
}

func TestFunctionCallAuth(t *testing.T) {
	e := trackerEnv(t, envOptions{})
	body := `{"name":"find","service":"mongodb-atlas","arguments":[{` + tasks + `}]}`
	r := e.do("POST", appPath+"/functions/call", body)
	wantError(t, r, http.StatusUnauthorized, "MissingAuthReq")
	r = e.call("not-a-token", body)
	wantError(t, r, http.StatusUnauthorized, "InvalidSession")
	tk := e.anon()
	// The refresh token is not an access token.
	r = e.call(tk.Refresh, body)
	wantError(t, r, http.StatusUnauthorized, "InvalidSession")
	r = e.do("POST", "/api/client/v2.0/app/other-app/functions/call", body, "Authorization: Bearer "+tk.Access)
	wantError(t, r, http.StatusNotFound, "AppNotFound")
}

func TestFunctionCallDispatch(t *testing.T) {
	e := trackerEnv(t, envOptions{})
	tk := e.anon()
	before := e.snapshot()

	// Without a service, the call goes to the function runtime; none is
	// plugged in, so every name is unknown.
	r := e.call(tk.Access, `{"name":"translate","arguments":["hello","en_fr"]}`)
	m := wantError(t, r, http.StatusNotFound, "FunctionNotFound")
	if m["error"] != "function not found: 'translate'" {
		t.Fatalf("message %q", m["error"])
	}
	r = e.call(tk.Access, `{"name":"insertOne","arguments":[{`+tasks+`,"document":{"name":"x"}}]}`)
	wantError(t, r, http.StatusNotFound, "FunctionNotFound")

	r = e.call(tk.Access, `{"name":"find","service":"mongo-db","arguments":[{`+tasks+`}]}`)
	m = wantError(t, r, http.StatusNotFound, "ServiceNotFound")
	if m["error"] != "service not found: 'mongo-db'" {
		t.Fatalf("message %q", m["error"])
	}
	r = e.svc(tk.Access, "dropDatabase", `{`+tasks+`}`)
	wantError(t, r, http.StatusNotFound, "ServiceCommandNotFound")
	r = e.svc(tk.Access, "watch", `{`+tasks+`}`)
	wantError(t, r, http.StatusBadRequest, "InvalidParameter")

	// A namespace without rules is refused whatever the operation.
	r = e.svc(tk.Access, "insertOne", `{"database":"tracker","collection":"secrets","document":{"a":1}}`)
	wantError(t, r, http.StatusForbidden, "NoMatchingRuleFound")
	r = e.svc(tk.Access, "find", `{"database":"tracker","collection":"secrets"}`)
	wantError(t, r, http.StatusForbidden, "NoMatchingRuleFound")

	if after := e.snapshot(); after != before {
		t.Fatalf("refused calls wrote:\n%s", after)
	}
}

// TestFunctionCallBadInput: every malformed call is refused with the
// envelope before anything runs, and nothing is written.
func TestFunctionCallBadInput(t *testing.T) {
	e := trackerEnv(t, envOptions{maxBody: 2 << 20})
	tk := e.anon()
	before := e.snapshot()
	deep := strings.Repeat(`{"a":`, 101) + `1` + strings.Repeat(`}`, 101)
	deepArr := strings.Repeat(`[`, 101) + strings.Repeat(`]`, 101)
	huge := `[` + strings.TrimSuffix(strings.Repeat(`1,`, 10001), ",") + `]`
	insert := func(doc string) string {
		return `{"name":"insertOne","service":"mongodb-atlas","arguments":[{` + tasks + `,"document":` + doc + `}]}`
	}
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"not json", `{"name":`, 400, "BadRequest"},
		{"not an object", `[1,2]`, 400, "BadRequest"},
		{"no name", `{"arguments":[]}`, 400, "MissingParameter"},
		{"name not a string", `{"name":5,"arguments":[]}`, 400, "InvalidParameter"},
		{"arguments not an array", `{"name":"find","service":"mongodb-atlas","arguments":{"database":"tracker"}}`, 400, "InvalidParameter"},
		{"service not a string", `{"name":"find","service":1,"arguments":[]}`, 400, "InvalidParameter"},
		{"unknown body key", `{"name":"find","service":"mongodb-atlas","arguments":[{` + tasks + `}],"run_as_system":true}`, 400, "InvalidParameter"},
		{"duplicate body key", `{"name":"find","name":"insertOne","service":"mongodb-atlas","arguments":[{` + tasks + `}]}`, 400, "BadRequest"},
		{"duplicate argument key", `{"name":"find","service":"mongodb-atlas","arguments":[{` + tasks + `,"collection":"users"}]}`, 400, "BadRequest"},
		{"duplicate key in a document", insert(`{"name":"a","name":"b","status":"Open","_partition":"p"}`), 400, "BadRequest"},
		{"duplicate key in a filter", `{"name":"find","service":"mongodb-atlas","arguments":[{` + tasks + `,"query":{"assignee":"x","assignee":{"$ne":"x"}}}]}`, 400, "BadRequest"},
		{"nesting beyond 100", insert(`{"name":"a","status":"Open","_partition":"p","n":` + deep + `}`), 400, "BadRequest"},
		{"array nesting beyond 100", insert(`{"name":"a","status":"Open","_partition":"p","n":` + deepArr + `}`), 400, "BadRequest"},
		{"huge array", insert(`{"name":"a","status":"Open","_partition":"p","n":` + huge + `}`), 400, "BadRequest"},
		{"huge $in", `{"name":"find","service":"mongodb-atlas","arguments":[{` + tasks + `,"query":{"name":{"$in":` + huge + `}}}]}`, 400, "BadRequest"},
		{"$where inside a value", insert(`{"name":"a","status":"Open","_partition":"p","x":{"$where":"sleep(1000)"}}`), 400, "InvalidParameter"},
		{"$-key at the top of a document", insert(`{"$set":{"name":"a"}}`), 400, "InvalidParameter"},
		{"bad $oid wrapper", insert(`{"_id":{"$oid":5},"name":"a"}`), 400, "BadRequest"},
		{"$oid wrapper with extra keys", insert(`{"_id":{"$oid":"65f000000000000000000002","x":1},"name":"a"}`), 400, "BadRequest"},
		{"$oid wrapper in a field name position", insert(`{"name":"a","status":"Open","_partition":"p","$oid":"65f000000000000000000002"}`), 400, "InvalidParameter"},
		{"$-key in insertMany", `{"name":"insertMany","service":"mongodb-atlas","arguments":[{` + tasks + `,"documents":[{"name":"a"},{"b":{"$gt":1}}]}]}`, 400, "InvalidParameter"},
		{"$-key in a replacement", `{"name":"findOneAndReplace","service":"mongodb-atlas","arguments":[{` + tasks + `,"filter":{},"update":{"name":"a","x":{"$where":"1"}}}]}`, 400, "InvalidParameter"},
		{"two arguments", `{"name":"find","service":"mongodb-atlas","arguments":[{` + tasks + `},{}]}`, 400, "InvalidParameter"},
		{"argument not a document", `{"name":"find","service":"mongodb-atlas","arguments":["tracker"]}`, 400, "InvalidParameter"},
		{"no database", `{"name":"find","service":"mongodb-atlas","arguments":[{"collection":"tasks"}]}`, 400, "MissingParameter"},
		{"database not a string", `{"name":"find","service":"mongodb-atlas","arguments":[{"database":1,"collection":"tasks"}]}`, 400, "InvalidParameter"},
		{"unknown option", `{"name":"find","service":"mongodb-atlas","arguments":[{` + tasks + `,"collation":{"locale":"fr"}}]}`, 400, "InvalidParameter"},
		{"limit not a number", `{"name":"find","service":"mongodb-atlas","arguments":[{` + tasks + `,"limit":"10"}]}`, 400, "InvalidParameter"},
		{"limit with a fraction", `{"name":"find","service":"mongodb-atlas","arguments":[{` + tasks + `,"limit":{"$numberDouble":"1.5"}}]}`, 400, "InvalidParameter"},
		{"query and filter", `{"name":"find","service":"mongodb-atlas","arguments":[{` + tasks + `,"query":{},"filter":{}}]}`, 400, "InvalidParameter"},
		{"upsert not a bool", `{"name":"updateOne","service":"mongodb-atlas","arguments":[{` + tasks + `,"query":{},"update":{"$set":{"a":1}},"upsert":"yes"}]}`, 400, "InvalidParameter"},
		{"update missing", `{"name":"updateOne","service":"mongodb-atlas","arguments":[{` + tasks + `,"query":{}}]}`, 400, "MissingParameter"},
		{"document missing", `{"name":"insertOne","service":"mongodb-atlas","arguments":[{` + tasks + `}]}`, 400, "MissingParameter"},
		{"documents empty", `{"name":"insertMany","service":"mongodb-atlas","arguments":[{` + tasks + `,"documents":[]}]}`, 400, "InvalidParameter"},
		{"documents not documents", `{"name":"insertMany","service":"mongodb-atlas","arguments":[{` + tasks + `,"documents":[1]}]}`, 400, "InvalidParameter"},
		{"pipeline not an array", `{"name":"aggregate","service":"mongodb-atlas","arguments":[{` + tasks + `,"pipeline":{"$match":{}}}]}`, 400, "InvalidParameter"},
		{"replacement with operators", `{"name":"findOneAndReplace","service":"mongodb-atlas","arguments":[{` + tasks + `,"filter":{},"update":{"$set":{"name":"a"}}}]}`, 400, "InvalidParameter"},
		{"delete quirk with upsert", `{"name":"findOneAndReplace","service":"mongodb-atlas","arguments":[{` + tasks + `,"filter":{},"upsert":true}]}`, 400, "MissingParameter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(tk.Access, c.body)
			m := wantError(t, r, c.status, c.code)
			// Refusals never echo a value back.
			if msg := m["error"].(string); strings.Contains(msg, "sleep") || strings.Contains(msg, "65f0000") {
				t.Fatalf("error echoes input: %q", msg)
			}
		})
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("refused calls wrote:\n%s", after)
	}
}

func TestFunctionCallBodyLimits(t *testing.T) {
	e := trackerEnv(t, envOptions{})
	tk := e.anon()
	big := `{"name":"insertOne","service":"mongodb-atlas","arguments":[{` + tasks + `,"document":{"s":"` + strings.Repeat("x", 70<<10) + `"}}]}`
	wantError(t, e.call(tk.Access, big), http.StatusRequestEntityTooLarge, "LimitExceeded")
	r := e.do("POST", appPath+"/functions/call", `{"name":"f","arguments":[]}`, "Authorization: Bearer "+tk.Access, "Content-Type: text/plain")
	wantError(t, r, http.StatusUnsupportedMediaType, "BadRequest")
}

// ejson decodes a canonical EJSON response body into a generic value.
func ejson(t testing.TB, r response) any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	var v any
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, r.body)
	}
	return v
}
