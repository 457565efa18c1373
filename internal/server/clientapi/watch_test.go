package clientapi_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// watchServer serves e over a real loopback listener (streams need one)
// and counts handlers still running, so tests can prove a stream's
// handler returned.
type watchServer struct {
	*httptest.Server
	running sync.WaitGroup
}

func newWatchServer(t *testing.T, e *env) *watchServer {
	ws := &watchServer{}
	ws.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws.running.Add(1)
		defer ws.running.Done()
		e.handler.ServeHTTP(w, r)
	}))
	t.Cleanup(ws.Close)
	return ws
}

// waitHandlers waits until every handler returned; the test's own timeout
// bounds it.
func (ws *watchServer) waitHandlers(t *testing.T) {
	t.Helper()
	done := make(chan struct{})
	go func() { ws.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a watch handler is still running")
	}
}

// baasRequest encodes a streaming call the way realm-web does.
func baasRequest(body string) string {
	return url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(body)))
}

func watchBody(arg string) string {
	return `{"name":"watch","arguments":[` + arg + `],"service":"mongodb-atlas"}`
}

// openWatch starts a watch stream; tokenInQuery sends the token as baas_at.
func (ws *watchServer) openWatch(t *testing.T, tok, body string, tokenInQuery bool) (*http.Response, *bufio.Reader, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	u := ws.URL + appPath + "/functions/call?baas_request=" + baasRequest(body)
	if tokenInQuery {
		u += "&baas_at=" + url.QueryEscape(tok)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	req.Header.Set("Accept", "text/event-stream")
	if !tokenInQuery {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = res.Body.Close() })
	return res, bufio.NewReader(res.Body), cancel
}

// sseEvent is one dispatched server-sent event.
type sseEvent struct {
	typ, data string
}

// nextEvent reads the stream up to the next event with data, skipping
// comments, as realm-web's parser does (and undoing its percent escapes).
func nextEvent(t *testing.T, rd *bufio.Reader) (sseEvent, error) {
	t.Helper()
	var ev sseEvent
	var data []string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		switch {
		case line == "":
			if len(data) > 0 {
				ev.data = strings.NewReplacer("%25", "%", "%0A", "\n", "%0D", "\r").Replace(strings.Join(data, "\n"))
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		case strings.HasPrefix(line, "event:"):
			ev.typ = strings.TrimPrefix(strings.TrimPrefix(line, "event:"), " ")
		}
	}
}

// readEvents delivers events on a channel until the stream ends.
func readEvents(t *testing.T, rd *bufio.Reader) <-chan sseEvent {
	ch := make(chan sseEvent, 16)
	go func() {
		defer close(ch)
		for {
			ev, err := nextEvent(t, rd)
			if err != nil {
				return
			}
			ch <- ev
		}
	}()
	return ch
}

func wantEvent(t *testing.T, ch <-chan sseEvent) bson.D {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream ended")
		}
		if ev.typ != "" && ev.typ != "message" {
			t.Fatalf("event type %q: %s", ev.typ, ev.data)
		}
		var d bson.D
		if err := bson.UnmarshalExtJSON([]byte(ev.data), false, &d); err != nil {
			t.Fatalf("event is not EJSON: %v: %s", err, ev.data)
		}
		return d
	case <-time.After(20 * time.Second):
		t.Fatal("no event")
	}
	return nil
}

func lookup(d bson.D, path string) any {
	var v any = d
	for _, k := range strings.Split(path, ".") {
		doc, ok := v.(bson.D)
		if !ok {
			return nil
		}
		v = nil
		for _, e := range doc {
			if e.Key == k {
				v = e.Value
			}
		}
	}
	return v
}

func TestWatchStream(t *testing.T) {
	e := trackerEnv(t, envOptions{})
	ws := newWatchServer(t, e)
	alice := e.emailUser("alice@example.com", "password123")
	bob := e.emailUser("bob@example.com", "password123")

	res, rd, _ := ws.openWatch(t, bob.Access, watchBody(`{`+tasks+`}`), false)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	events := readEvents(t, rd)
	// baas_at in the query works as well, and ids narrows the stream.
	_, rd2, _ := ws.openWatch(t, alice.Access, watchBody(`{`+tasks+`,"ids":[{"$oid":"65f000000000000000000002"}]}`), true)
	idEvents := readEvents(t, rd2)

	tricky := "100% sure\nline\r\nback\\slash ?>"
	doc := `{"_id":{"$oid":"65f000000000000000000001"},"_partition":"p","name":"a1","status":` + quote(tricky) + `,"assignee":"` + alice.UserID + `"}`
	if r := e.svc(alice.Access, "insertOne", `{`+tasks+`,"document":`+doc+`}`); r.status != 200 {
		t.Fatalf("insert: %s", r.body)
	}
	ev := wantEvent(t, events)
	if lookup(ev, "operationType") != "insert" || lookup(ev, "fullDocument.status") != tricky ||
		lookup(ev, "ns.db") != "tracker" || lookup(ev, "ns.coll") != "tasks" {
		t.Fatalf("event %v", ev)
	}
	if id, _ := lookup(ev, "documentKey._id").(bson.ObjectID); id.Hex() != "65f000000000000000000001" {
		t.Fatalf("documentKey %v", ev)
	}
	doc2 := `{"_id":{"$oid":"65f000000000000000000002"},"_partition":"p","name":"a2","status":"Open","assignee":"` + alice.UserID + `"}`
	if r := e.svc(alice.Access, "insertOne", `{`+tasks+`,"document":`+doc2+`}`); r.status != 200 {
		t.Fatalf("insert: %s", r.body)
	}
	if ev := wantEvent(t, idEvents); lookup(ev, "fullDocument.name") != "a2" {
		t.Fatalf("ids stream got %v", ev)
	}
	if ev := wantEvent(t, events); lookup(ev, "fullDocument.name") != "a2" {
		t.Fatalf("second event %v", ev)
	}
}

func quote(s string) string {
	b, _ := bson.MarshalExtJSON(bson.D{{Key: "s", Value: s}}, true, false)
	return strings.TrimSuffix(strings.TrimPrefix(string(b), `{"s":`), "}")
}

// TestWatchEnds: a client that hangs up and a server shutdown both end the
// handler, so no goroutine or subscription outlives its stream.
func TestWatchEnds(t *testing.T) {
	e := trackerEnv(t, envOptions{heartbeat: 5 * time.Millisecond})
	ws := newWatchServer(t, e)
	tk := e.anon()

	_, rd, cancel := ws.openWatch(t, tk.Access, watchBody(`{`+tasks+`}`), false)
	// Heartbeats: comment lines keep arriving on an idle stream.
	for n := 0; n < 3; {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == ":\n" {
			n++
		}
	}
	cancel()
	ws.waitHandlers(t)

	_, rd, _ = ws.openWatch(t, tk.Access, watchBody(`{`+tasks+`}`), false)
	close(e.done)
	if _, err := io.Copy(io.Discard, rd); err != nil {
		t.Fatalf("stream did not end cleanly on shutdown: %v", err)
	}
	ws.waitHandlers(t)
}

func TestWatchRefusals(t *testing.T) {
	e := trackerEnv(t, envOptions{})
	ws := newWatchServer(t, e)
	tk := e.anon()
	get := func(query string, headers ...string) response {
		req, _ := http.NewRequest("GET", ws.URL+appPath+"/functions/call"+query, nil)
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{status: res.StatusCode, header: res.Header, body: string(b)}
	}
	auth := "Authorization: Bearer " + tk.Access
	ok := "?baas_request=" + baasRequest(watchBody(`{`+tasks+`}`))
	wantError(t, get(ok), 401, "MissingAuthReq")
	wantError(t, get(ok, "Authorization: Bearer nope"), 401, "InvalidSession")
	wantError(t, get(ok+"&baas_at=nope"), 401, "InvalidSession")
	wantError(t, get("", auth), 400, "MissingParameter")
	wantError(t, get("?baas_request=!!!", auth), 400, "InvalidParameter")
	wantError(t, get("?baas_request=bm90IGpzb24=", auth), 400, "BadRequest")
	cases := []struct {
		body   string
		status int
		code   string
	}{
		{`{"name":"watch","arguments":[{` + tasks + `}],"service":"mongo-db"}`, 404, "ServiceNotFound"},
		{`{"name":"watch","arguments":[{` + tasks + `}]}`, 400, "InvalidParameter"},
		{`{"name":"find","arguments":[{` + tasks + `}],"service":"mongodb-atlas"}`, 400, "InvalidParameter"},
		{watchBody(`{"database":"tracker","collection":"secrets"}`), 403, "NoMatchingRuleFound"},
		{watchBody(`{"database":"tracker"}`), 400, "MissingParameter"},
		{watchBody(`{` + tasks + `,"ids":5}`), 400, "InvalidParameter"},
		{watchBody(`{` + tasks + `,"filter":[]}`), 400, "InvalidParameter"},
		{watchBody(`{` + tasks + `,"pipeline":[]}`), 400, "InvalidParameter"},
		{watchBody(`{` + tasks + `,"filter":{"a":1,"a":2}}`), 400, "BadRequest"},
		{watchBody(`{` + tasks + `,"filter":{"$where":"true"}}`), 400, ""},
	}
	for _, c := range cases {
		r := get("?baas_request="+baasRequest(c.body), auth)
		if c.code == "" {
			if r.status < 400 || r.status >= 500 {
				t.Fatalf("%s: %d %s", c.body, r.status, r.body)
			}
			continue
		}
		wantError(t, r, c.status, c.code)
	}
	ws.waitHandlers(t)
}

// smallBuffers shrinks the kernel socket buffers of accepted connections,
// so a client that stops reading blocks the server's writes after a few
// kilobytes instead of a few megabytes.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestWatchSlowClient: a client that stops reading is dropped by the
// change feed (writers never wait for it); when it reads again it gets
// what was already sent, then an error event, then the end of the stream.
func TestWatchSlowClient(t *testing.T) {
	e := trackerEnv(t, envOptions{watchBuffer: 2, maxBody: 1 << 20})
	ws := &watchServer{}
	ws.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws.running.Add(1)
		defer ws.running.Done()
		e.handler.ServeHTTP(w, r)
	}))
	ws.Listener = smallBuffers{ws.Listener}
	ws.Start()
	t.Cleanup(ws.Close)
	alice := e.emailUser("alice@example.com", "password123")

	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	t.Cleanup(tr.CloseIdleConnections)
	req, _ := http.NewRequest("GET", ws.URL+appPath+"/functions/call?baas_request="+baasRequest(watchBody(`{`+tasks+`}`)), nil)
	req.Header.Set("Authorization", "Bearer "+alice.Access)
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rd := bufio.NewReader(res.Body)
	if line, err := rd.ReadString('\n'); err != nil || line != ":\n" {
		t.Fatalf("first line %q %v", line, err)
	}

	// The client reads nothing while 40 large documents are written; every
	// write still succeeds.
	big := strings.Repeat("x", 16<<10)
	for i := 0; i < 40; i++ {
		doc := fmt.Sprintf(`{"_partition":"p","name":"n%d","status":"Open","assignee":%q,"pad":%q}`, i, alice.UserID, big)
		if r := e.svc(alice.Access, "insertOne", `{`+tasks+`,"document":`+doc+`}`); r.status != 200 {
			t.Fatalf("insert %d: %s", i, r.body)
		}
	}
	var data, errs int
	var last sseEvent
	for {
		ev, err := nextEvent(t, rd)
		if err != nil {
			break
		}
		if ev.typ == "error" {
			errs++
			last = ev
			continue
		}
		data++
	}
	if errs != 1 || data >= 40 {
		t.Fatalf("%d data events and %d error events; want fewer than 40 and one error", data, errs)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(last.data), &body); err != nil {
		t.Fatalf("error event %q: %v", last.data, err)
	}
	if code, _ := body["error_code"].(string); code == "" || code == "InternalServerError" {
		t.Fatalf("error event %s", last.data)
	}
	if msg, _ := body["error"].(string); !strings.Contains(msg, "too slow") {
		t.Fatalf("error event %s", last.data)
	}
	ws.waitHandlers(t)
}

// TestWatchEndsOnLogout: a stream outlives the request that opened it, so
// ending the session (logout, user deletion) ends the stream with an
// InvalidSession error event.
func TestWatchEndsOnLogout(t *testing.T) {
	e := trackerEnv(t, envOptions{heartbeat: 5 * time.Millisecond})
	ws := newWatchServer(t, e)
	for _, how := range []string{"logout", "delete"} {
		tk := e.emailUser(how+"@example.com", "password123")
		_, rd, _ := ws.openWatch(t, tk.Access, watchBody(`{`+tasks+`}`), how == "delete")
		if _, err := rd.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		if how == "logout" {
			if r := e.do("DELETE", userPath+"/session", "", "Authorization: Bearer "+tk.Refresh); r.status != http.StatusNoContent {
				t.Fatalf("logout: %d %s", r.status, r.body)
			}
		} else if r := e.do("DELETE", userPath+"/delete", "", "Authorization: Bearer "+tk.Access); r.status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		ev, err := nextEvent(t, rd)
		if err != nil || ev.typ != "error" || !strings.Contains(ev.data, `"error_code":"InvalidSession"`) {
			t.Fatalf("%s: event %+v, %v", how, ev, err)
		}
		if _, err := nextEvent(t, rd); err != io.EOF {
			t.Fatalf("%s: stream continued: %v", how, err)
		}
	}
	ws.waitHandlers(t)
}
