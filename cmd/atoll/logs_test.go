package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/applog"
	"github.com/atollhq/atoll/internal/store/embedded"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writeEntries(t *testing.T, ctx context.Context, w *applog.Writer, names ...string) {
	t.Helper()
	for _, n := range names {
		typ := "function"
		if n == "other" {
			typ = "trigger"
		}
		w.Record(applog.Entry{Type: typ, Name: n, Duration: time.Millisecond, UserID: "u1", Trigger: "client", Arguments: "[]", Result: `"ok"`})
	}
}

// logStore makes a closed embedded store holding app log entries for
// names (see writeEntries) and returns its directory.
func logStore(t *testing.T, names ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	st, err := embedded.Open(ctx, dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := applog.NewWriter(st, applog.Options{FlushInterval: time.Millisecond})
	writeEntries(t, ctx, w, names...)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLogsCLI(t *testing.T) {
	dir := logStore(t, "first", "other", "second", "third")
	code, out, stderr := runCLI(t, "", "logs", "--data="+dir, "--type", "function", "--limit", "2")
	if code != 0 {
		t.Fatalf("logs: %d %s", code, stderr)
	}
	if strings.Contains(out, "first") || strings.Contains(out, "other") ||
		!strings.Contains(out, "function second OK") || !strings.Contains(out, "function third OK") ||
		strings.Index(out, "second") > strings.Index(out, "third") || !strings.Contains(out, "caller=user u1 trigger=client") {
		t.Fatalf("logs output:\n%s", out)
	}
	if code, _, _ := runCLI(t, "", "logs", "--data="+dir, "--limit", "0"); code != 2 {
		t.Fatalf("--limit 0: %d", code)
	}
}

func TestLogsFollow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := embedded.Open(ctx, t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	w := applog.NewWriter(st, applog.Options{FlushInterval: time.Millisecond})
	defer w.Close(context.Background())
	writeEntries(t, ctx, w, "before")
	fctx, stop := context.WithCancel(ctx)
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- printLogs(fctx, st, logsOptions{limit: 10, follow: true, poll: 10 * time.Millisecond}, &out)
	}()
	waitFor := func(s string) {
		t.Helper()
		for !strings.Contains(out.String(), s) {
			select {
			case <-ctx.Done():
				t.Fatalf("never printed %q:\n%s", s, out.String())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	waitFor("function before OK")
	writeEntries(t, ctx, w, "after1", "after2")
	waitFor("function after2 OK")
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("follow did not stop")
	}
	if got := strings.Count(out.String(), "function before OK"); got != 1 {
		t.Fatalf("entry printed %d times:\n%s", got, out.String())
	}
	if strings.Index(out.String(), "after1") > strings.Index(out.String(), "after2") {
		t.Fatalf("order:\n%s", out.String())
	}
}

// --app loads and checks the app first (as serve does) and warns about
// function entries the app does not define, without hiding them; the
// store flags keep working beside it.
func TestLogsApp(t *testing.T) {
	dir := logStore(t, "second", "other", "gone", "third")
	files := map[string]string{
		"root_config.json":      `{"app_id":"logs-abcde","name":"logsapp"}`,
		"functions/config.json": `[{"name":"second"},{"name":"third"}]`,
		"functions/second.js":   `exports = () => 2`,
		"functions/third.js":    `exports = () => 3`,
	}
	app := writeTree(t, files)

	code, out, errOut := runCLI(t, "", "logs", "--app", app, "--data", dir)
	if code != 0 {
		t.Fatalf("logs --app: %d %s", code, errOut)
	}
	for _, want := range []string{"function second OK", "trigger other OK", "function gone OK", "function third OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, `warning: 1 entry names a function that app "logsapp" does not define`) {
		t.Errorf("stderr: %s", errOut)
	}
	// Only the app's functions: no warning.
	code, out, errOut = runCLI(t, "", "logs", "--data="+dir, "--app="+app, "--type", "function", "--limit", "1")
	if code != 0 || !strings.Contains(out, "function third OK") || strings.Contains(out, "second") || errOut != "" {
		t.Fatalf("logs --app --limit 1: %d\n%s\n%s", code, out, errOut)
	}
	// Without --app nothing is checked.
	if code, _, errOut := runCLI(t, "", "logs", "--data", dir); code != 0 || errOut != "" {
		t.Fatalf("logs without --app: %d %s", code, errOut)
	}

	// An app serve would refuse is refused here, before the store opens.
	missing := filepath.Join(t.TempDir(), "nope")
	if code, _, errOut := runCLI(t, "", "logs", "--app", missing, "--data", dir); code != 1 || !strings.Contains(errOut, "app directory") {
		t.Fatalf("missing app: %d %s", code, errOut)
	}
	files["root_config.json"] = `{"name": 5}`
	if code, _, errOut := runCLI(t, "", "logs", "--app", writeTree(t, files), "--data", dir); code != 1 || !strings.Contains(errOut, "root_config.json") {
		t.Fatalf("broken app: %d %s", code, errOut)
	}
}
