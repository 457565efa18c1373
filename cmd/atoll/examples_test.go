package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/server"
	"github.com/atollhq/atoll/internal/store/embedded"
)

// examplesDir is the repository's examples/, relative to this package.
const examplesDir = "../../examples"

// exampleApps lists every app directory under examples/: a directory holding
// root_config.json (current export layout) or realm_config.json (the
// 2021 layout). node_modules trees of the demos are skipped.
func exampleApps(t *testing.T) []string {
	t.Helper()
	var apps []string
	err := filepath.WalkDir(examplesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		for _, marker := range []string{"root_config.json", "realm_config.json"} {
			if _, err := os.Stat(filepath.Join(path, marker)); err == nil {
				apps = append(apps, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", examplesDir, err)
	}
	return apps
}

// TestExamples runs `atoll app validate` (the command itself, in-process)
// on every example app and then mounts it as `atoll serve` would, so a
// change to the loader, the rules, the schemas, the functions engine or
// the triggers that breaks an example fails `go test`, not only the
// slower demo run.
func TestExamples(t *testing.T) {
	apps := exampleApps(t)
	// The task tracker is what the README serves; finding none means the
	// walk is wrong, not that there is nothing to check.
	found := false
	for _, dir := range apps {
		if filepath.Base(dir) == "task-tracker" {
			found = true
		}
	}
	if !found {
		t.Fatalf("examples/task-tracker not among the example apps found: %q", apps)
	}
	for _, dir := range apps {
		name := strings.TrimPrefix(filepath.ToSlash(dir), examplesDir+"/")
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runApp(t, "app", "validate", dir)
			if code != 0 {
				t.Fatalf("atoll app validate %s: exit %d\nstdout:\n%s\nstderr:\n%s", name, code, out, errOut)
			}
			if !strings.Contains(out, "ok: app ") {
				t.Errorf("atoll app validate %s: no ok line:\n%s", name, out)
			}
			mountExample(t, dir)
		})
	}
}

// mountExample loads the app and mounts it on an empty embedded store as
// `atoll serve --app` does (validate does not compile function sources or
// bind triggers to functions; serving does), and returns the server's
// handler. The app, its triggers and the store stop when the test ends.
func mountExample(t *testing.T, dir string) http.Handler {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := loadServeApp(ctx, dir, "", appServeConfig{}, logger)
	if err != nil {
		t.Fatalf("load as serve does: %v", err)
	}
	st, err := embedded.Open(ctx, t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(context.Background()); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	appCtx, stop := context.WithCancel(context.Background())
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Logger: logger})
	closeApp, err := mountApp(appCtx, srv, st, app, appServeConfig{}, logger)
	if err != nil {
		stop()
		t.Fatalf("mount as serve does: %v", err)
	}
	// Cleanups run last-in first-out: the app closes before the store.
	t.Cleanup(func() {
		stop()
		closeApp()
	})
	return srv.Handler()
}

// trackerClient speaks the client API of examples/task-tracker over HTTP,
// as realm-web does.
type trackerClient struct {
	t *testing.T
	// base is the client API root, /api/client/v2.0 on the server.
	base string
}

// appPath is the prefix of the task tracker's app-scoped routes.
const appPath = "/app/tasktracker-atoll"

// call posts body as JSON to the client API path and decodes the JSON
// answer; it returns the status code.
func (c trackerClient) call(path, bearer string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest("POST", c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("POST %s: %d %s: %v", path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// atlas runs one mongodb-atlas service action on tracker.users.
func (c trackerClient) atlas(token, action string, args map[string]any, out any) int {
	c.t.Helper()
	args["database"], args["collection"] = "tracker", "users"
	return c.call(appPath+"/functions/call", token, map[string]any{
		"name": action, "service": "mongodb-atlas", "arguments": []any{args},
	}, out)
}

// tokenUserData decodes the user_data claim of an access token.
func tokenUserData(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		UserData map[string]any `json:"user_data"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.UserData
}

// Seed 000 on the task tracker: the onLogin trigger writes lastLogin into
// the user's custom data document (their tracker.users document), a
// refreshed access token carries it, and the client itself can neither
// rewrite nor add nor delete that document.
func TestTaskTrackerCustomDataIsReadOnlyForClients(t *testing.T) {
	ts := httptest.NewServer(mountExample(t, filepath.Join(examplesDir, "task-tracker")))
	t.Cleanup(ts.Close)
	c := trackerClient{t: t, base: ts.URL + "/api/client/v2.0"}

	creds := map[string]any{"email": "ada@example.com", "password": "s3cret-pass"}
	if code := c.call(appPath+"/auth/providers/local-userpass/register", "", creds, nil); code != http.StatusCreated {
		t.Fatalf("register: %d", code)
	}
	var login struct {
		UserID       string `json:"user_id"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if code := c.call(appPath+"/auth/providers/local-userpass/login", "", map[string]any{"username": "ada@example.com", "password": "s3cret-pass"}, &login); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}

	// The CREATE and LOGIN triggers run after the login returned: wait
	// (bounded) for the stamped document.
	own := map[string]any{"user_id": login.UserID}
	var doc map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for {
		doc = nil
		c.atlas(login.AccessToken, "findOne", map[string]any{"query": own}, &doc)
		if doc != nil && doc["lastLogin"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no users document with lastLogin for %s: %v", login.UserID, doc)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if doc["name"] != "ada@example.com" || doc["_partition"] != "My Project" {
		t.Fatalf("users document %v", doc)
	}

	// A new access token carries the document as custom user data.
	var session struct {
		AccessToken string `json:"access_token"`
	}
	if code := c.call("/auth/session", login.RefreshToken, nil, &session); code != http.StatusCreated {
		t.Fatalf("refresh session: %d", code)
	}
	data := tokenUserData(t, session.AccessToken)
	// The token holds relaxed Extended JSON, the data API canonical.
	if data["user_id"] != login.UserID || !ejsonDate(t, data["lastLogin"]).Equal(ejsonDate(t, doc["lastLogin"])) {
		t.Fatalf("user_data %v, want the users document %v", data, doc)
	}

	writes := []struct {
		action string
		args   map[string]any
		want   string
	}{
		{"updateOne", map[string]any{"query": own, "update": map[string]any{"$set": map[string]any{"lastLogin": map[string]any{"$date": "2000-01-01T00:00:00Z"}}}}, "update not permitted"},
		{"updateOne", map[string]any{"query": own, "update": map[string]any{"$set": map[string]any{"isAdmin": true}}}, "update not permitted"},
		{"findOneAndReplace", map[string]any{"filter": own, "update": map[string]any{"_partition": "My Project", "user_id": login.UserID, "name": "mallory"}}, "update not permitted"},
		{"insertOne", map[string]any{"document": map[string]any{"_partition": "My Project", "user_id": login.UserID, "name": "second"}}, "insert not permitted"},
		{"deleteOne", map[string]any{"query": own}, "delete not permitted"},
	}
	for _, w := range writes {
		var e struct {
			Error string `json:"error"`
		}
		if code := c.atlas(login.AccessToken, w.action, w.args, &e); code != http.StatusBadRequest || e.Error != w.want {
			t.Errorf("%s %v: %d %q, want 400 %q", w.action, w.args, code, e.Error, w.want)
		}
	}
	var after []map[string]any
	c.atlas(login.AccessToken, "find", map[string]any{"query": own}, &after)
	if len(after) != 1 || !reflect.DeepEqual(after[0], doc) {
		t.Fatalf("users documents after the refused writes: %v, want only %v", after, doc)
	}
}

// ejsonDate reads an Extended JSON date, relaxed ({"$date": "<RFC 3339>"})
// or canonical ({"$date": {"$numberLong": "<ms>"}}).
func ejsonDate(t *testing.T, v any) time.Time {
	t.Helper()
	m, _ := v.(map[string]any)
	switch d := m["$date"].(type) {
	case string:
		tm, err := time.Parse(time.RFC3339Nano, d)
		if err != nil {
			t.Fatalf("date %q: %v", d, err)
		}
		return tm
	case map[string]any:
		if n, ok := d["$numberLong"].(string); ok {
			ms, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				t.Fatalf("date %q: %v", n, err)
			}
			return time.UnixMilli(ms)
		}
	}
	t.Fatalf("not an Extended JSON date: %v", v)
	return time.Time{}
}
