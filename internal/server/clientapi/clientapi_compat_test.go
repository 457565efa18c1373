package clientapi_test

// Tests for docs/compat.md entries of the client API that no other test
// held on its own.

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/server"
	"github.com/atollhq/atoll/internal/server/clientapi"
)

// A wrong method on a known path is 404 in the App Services envelope, not
// 405.
func TestCompatWrongMethodIs404(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, c := range []struct{ method, path string }{
		{"GET", appPath + "/auth/providers/anon-user/login"},
		{"DELETE", appPath + "/location"},
		{"PUT", "/api/client/v2.0/auth/session"},
	} {
		r := e.do(c.method, c.path, "")
		if r.status != 404 {
			t.Errorf("%s %s: status %d, want 404", c.method, c.path, r.status)
			continue
		}
		m := r.json(t)
		if m["error_code"] == nil || m["error"] == nil {
			t.Errorf("%s %s: %s is not the error envelope", c.method, c.path, r.body)
		}
	}
}

// The rate-limit key is the peer address; X-Forwarded-For is not trusted,
// so a client cannot reset its budget by inventing one.
func TestCompatForwardedForIsNotTrusted(t *testing.T) {
	rl := auth.RateLimits{
		PerIP:       auth.Rate{Burst: 3, Interval: time.Hour},
		PerIdentity: auth.Rate{Burst: 100, Interval: time.Millisecond},
	}
	e := newEnv(t, envOptions{rateLimits: &rl})
	var last response
	for i := 0; i < 4; i++ {
		last = e.do("POST", appPath+"/auth/providers/anon-user/login", "{"+device+"}",
			"X-Forwarded-For: 203.0.113."+string(rune('1'+i)))
		if i < 3 && last.status != 200 {
			t.Fatalf("login %d within the burst: %d %s", i+1, last.status, last.body)
		}
	}
	if last.status != 429 || last.json(t)["error_code"] != "LimitExceeded" {
		t.Fatalf("4th login from one peer with a new X-Forwarded-For: %d %s", last.status, last.body)
	}
}

// location takes hostname from the configured public URL (ATOLL_PUBLIC_URL
// in atoll serve) rather than the request's Host; without deployment settings
// in the root config the model is GLOBAL in US-VA.
func TestCompatLocationUsesPublicURL(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	app, err := appconfig.LoadFS(ctx, testApp(nil), appconfig.Options{Secrets: map[string]string{"jwtKey": jwtKey}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	api, err := clientapi.New(clientapi.Config{App: app, Auth: e.auth, Data: e.data, Done: done,
		PublicURL: "https://atoll.example.org/"})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{})
	api.Register(srv)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", appPath+"/location", nil))
	if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, `"hostname":"https://atoll.example.org"`) ||
		!strings.Contains(body, `"deployment_model":"GLOBAL"`) || !strings.Contains(body, `"location":"US-VA"`) {
		t.Fatalf("location: %d %s", rec.Code, body)
	}
}

// %%request leaves out the Authorization and Cookie headers: rules have no
// business with the bearer token. Other headers are there.
func TestCompatRequestExpansionHidesCredentials(t *testing.T) {
	e := newEnv(t, envOptions{files: map[string]string{
		"data_sources/mongodb-atlas/probe/docs/rules.json": `{"database":"probe","collection":"docs","roles":[
			{"name":"r","apply_when":{"%%request.requestHeaders.Authorization":{"%exists":false},
				"%%request.requestHeaders.Cookie":{"%exists":false},
				"%%request.requestHeaders.X-Probe":{"%exists":true}},"read":true}]}`,
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.st.Database("probe").Collection("docs").InsertOne(ctx, bson.D{{Key: "_id", Value: int32(1)}}); err != nil {
		t.Fatal(err)
	}
	tk := e.anon()
	body := `{"name":"find","service":"mongodb-atlas","arguments":[{"database":"probe","collection":"docs","query":{}}]}`
	r := e.do("POST", appPath+"/functions/call", body, "Authorization: Bearer "+tk.Access, "Cookie: session=1", "X-Probe: 1")
	if r.status != 200 || r.body != `[{"_id":{"$numberInt":"1"}}]` {
		t.Fatalf("with X-Probe: %d %s", r.status, r.body)
	}
	r = e.do("POST", appPath+"/functions/call", body, "Authorization: Bearer "+tk.Access, "Cookie: session=1")
	if r.status != 200 || r.body != `[]` {
		t.Fatalf("without X-Probe: %d %s", r.status, r.body)
	}
}

// baas_request accepts standard, raw and URL-safe base64 (clients differ in
// which they send).
func TestCompatBaasRequestEncodings(t *testing.T) {
	e := trackerEnv(t, envOptions{})
	ws := newWatchServer(t, e)
	tk := e.anon()
	// The "???>>>" value makes the URL-safe alphabets differ from the
	// standard one; the body length leaves padding for the raw ones to drop.
	body := `{"name":"watch","arguments":[{"database":"tracker","collection":"tasks","filter":{"name":"???>>>"}}],"service":"mongo-db"}`
	seen := map[string]bool{}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		q := enc.EncodeToString([]byte(body))
		seen[q] = true
		req, _ := http.NewRequest("GET", ws.URL+appPath+"/functions/call?baas_request="+url.QueryEscape(q), nil)
		req.Header.Set("Authorization", "Bearer "+tk.Access)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		// The body decoded: the call reaches the service lookup.
		if res.StatusCode != 404 || !strings.Contains(string(b), "ServiceNotFound") {
			t.Errorf("%q: %d %s", q, res.StatusCode, b)
		}
	}
	if len(seen) != 4 {
		t.Fatalf("the four encodings of the test body are not distinct: %v", seen)
	}
}

// Over HTTP: a negative limit means its absolute value; a negative skip is
// InvalidParameter.
func TestCompatNegativeLimitAndSkip(t *testing.T) {
	e := trackerEnv(t, envOptions{})
	alice := e.emailUser("alice@example.com", "password123")
	r := e.svc(alice.Access, "insertMany", `{`+tasks+`,"documents":[`+taskDoc(alice.UserID, "a1")+`,`+taskDoc(alice.UserID, "a2")+`]}`)
	if r.status != 200 {
		t.Fatalf("seed: %d %s", r.status, r.body)
	}
	r = e.svc(alice.Access, "find", `{`+tasks+`,"query":{},"project":{"name":1,"_id":0},"sort":{"name":1},"limit":{"$numberInt":"-1"}}`)
	if r.status != 200 || r.body != `[{"name":"a1"}]` {
		t.Fatalf("limit -1: %d %s", r.status, r.body)
	}
	wantError(t, e.svc(alice.Access, "find", `{`+tasks+`,"query":{},"skip":{"$numberInt":"-1"}}`), 400, "InvalidParameter")
}

// Rules see %%user.custom_data as carried by the access token: a change to
// the custom data document reaches the rules at the next token refresh
// (realm-web's refreshCustomData(), or when the 30-minute token expires),
// not at once.
func TestCompatRulesSeeTokenCustomData(t *testing.T) {
	e := newEnv(t, envOptions{files: map[string]string{
		"data_sources/mongodb-atlas/probe/docs/rules.json": `{"database":"probe","collection":"docs","roles":[
			{"name":"blue","apply_when":{"%%user.custom_data.team":"blue"},"read":true}]}`,
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.st.Database("probe").Collection("docs").InsertOne(ctx, bson.D{{Key: "_id", Value: int32(1)}}); err != nil {
		t.Fatal(err)
	}
	tk := e.emailUser("team@example.com", "password123")
	find := func(access string) string {
		r := e.svc(access, "find", `{"database":"probe","collection":"docs","query":{}}`)
		if r.status != 200 {
			t.Fatalf("find: %d %s", r.status, r.body)
		}
		return r.body
	}
	if got := find(tk.Access); got != `[]` {
		t.Fatalf("before custom data: %s", got)
	}
	if _, err := e.st.Database("app").Collection("userData").InsertOne(ctx, bson.D{
		{Key: "_id", Value: bson.NewObjectID()}, {Key: "user_id", Value: tk.UserID}, {Key: "team", Value: "blue"}}); err != nil {
		t.Fatal(err)
	}
	if got := find(tk.Access); got != `[]` {
		t.Fatalf("same token after the custom data changed: %s", got)
	}
	access, r := e.refresh(tk.Refresh)
	if access == "" {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if got := find(access); got != `[{"_id":{"$numberInt":"1"}}]` {
		t.Fatalf("after refresh: %s", got)
	}
}
