//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
	mongostore "github.com/atollhq/atoll/internal/store/mongo"
	"github.com/atollhq/atoll/internal/triggers"
)

// serveProc is a running `atoll serve` whose JSON log lines are kept.
type serveProc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []map[string]any
	raw  strings.Builder
	done chan struct{} // closed when stderr ends
}

// startServeProc starts `atoll serve` on 127.0.0.1:0 and waits until it
// listens. The process dies with the test binary (Pdeathsig) and with ctx.
func startServeProc(t *testing.T, ctx context.Context, name, bin string, env []string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{name: name, done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	p.cmd.Env = append(os.Environ(), append([]string{"ATOLL_MONGODB_URI=", "ATOLL_DATA=", "ATOLL_ADDR=", "ATOLL_LOG_LEVEL=info"}, env...)...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.wait()
	})
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var m map[string]any
			_ = json.Unmarshal(sc.Bytes(), &m)
			p.mu.Lock()
			p.raw.WriteString(sc.Text() + "\n")
			if m != nil {
				p.logs = append(p.logs, m)
			}
			p.mu.Unlock()
		}
	}()
	if !waitFor(ctx, 60*time.Second, func() bool { return p.logged("listening on", nil) }) {
		t.Fatalf("%s did not listen within 60s:\n%s", name, p.log())
	}
	return p
}

// logged reports whether a line whose message contains msg and whose
// fields include attrs was logged.
func (p *serveProc) logged(msg string, attrs map[string]any) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.logs {
		if s, _ := m["msg"].(string); !strings.Contains(s, msg) {
			continue
		}
		ok := true
		for k, v := range attrs {
			if m[k] != v {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// wait waits for the process to exit, after its log was read to the end.
func (p *serveProc) wait() error {
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
	}
	return p.cmd.Wait()
}

func (p *serveProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

// waitFor polls cond every 100 ms for up to d.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) && ctx.Err() == nil {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cond()
}

// TestScheduledTriggerTwoProcesses: two `atoll serve` processes share one
// MongoDB deployment (FerretDB in CI) and an app with an every-minute
// scheduled trigger whose function inserts a document. Each tick is
// recorded once; after the lease holder is SIGKILLed the other process
// takes the lease over (ATOLL_TRIGGER_LEASE=3s) and fires the next tick,
// once. Cron's granularity is a minute, so this takes 1–2 minutes.
func TestScheduledTriggerTwoProcesses(t *testing.T) {
	uri := os.Getenv("ATOLL_TEST_MONGODB_URI")
	if uri == "" {
		t.Skip("ATOLL_TEST_MONGODB_URI is not set: the two-process trigger test needs a MongoDB deployment (scripts/test.sh starts FerretDB and sets it)")
	}
	if testing.Short() {
		t.Skip("-short: this test runs two atoll processes for up to 2.5 minutes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := buildAtoll(t)

	suffix := bson.NewObjectID().Hex()
	trig, dbName := "tick_"+suffix, "ticks_"+suffix
	app := t.TempDir()
	files := map[string]string{
		"root_config.json":                       `{"name":"ticker","environment":"development"}`,
		"data_sources/mongodb-atlas/config.json": `{"name":"mongodb-atlas","type":"mongodb-atlas","config":{"clusterName":"c"}}`,
		"functions/config.json":                  `[{"name":"tick","private":true}]`,
		"functions/tick.js": fmt.Sprintf(`exports = async function() {
  await context.services.get("mongodb-atlas").db(%q).collection("ticks").insertOne({at: new Date()});
};`, dbName),
		"triggers/" + trig + ".json": fmt.Sprintf(`{"name":%q,"type":"SCHEDULED","config":{"schedule":"* * * * *"},
  "event_processors":{"FUNCTION":{"config":{"function_name":"tick"}}}}`, trig),
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(app, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(app, p), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	st, err := mongostore.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	ticks := st.Database(dbName).Collection("ticks")
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer ccancel()
		_ = st.Database(dbName).Drop(cctx)
		sys := st.Database(triggers.StateDatabase)
		_, _ = sys.Collection(triggers.StateCollection).DeleteOne(cctx, bson.D{{Key: "_id", Value: trig}})
		_, _ = sys.Collection(triggers.LeaseCollection).DeleteMany(cctx, bson.D{{Key: "trigger", Value: trig}})
		_ = st.Close(cctx)
	})
	tickMinutes := func() []time.Time {
		cur, err := ticks.Find(ctx, bson.D{}, store.FindOptions{Sort: bson.D{{Key: "at", Value: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		docs, err := store.All(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		var out []time.Time
		for _, d := range docs {
			for _, e := range d {
				if at, ok := e.Value.(bson.DateTime); ok && e.Key == "at" {
					out = append(out, at.Time().UTC().Truncate(time.Minute))
				}
			}
		}
		return out
	}

	env := []string{"ATOLL_TRIGGER_LEASE=3s"}
	args := []string{"--mongodb-uri", uri, "--app", app}
	procs := []*serveProc{startServeProc(t, ctx, "first", bin, env, args...), startServeProc(t, ctx, "second", bin, env, args...)}
	acquired := map[string]any{"trigger": trig}
	holders := func() []*serveProc {
		var out []*serveProc
		for _, p := range procs {
			if p.logged("trigger lease acquired", acquired) {
				out = append(out, p)
			}
		}
		return out
	}
	dump := func() string {
		return fmt.Sprintf("first:\n%s\nsecond:\n%s", procs[0].log(), procs[1].log())
	}

	// The first tick, with both processes running: fired once.
	if !waitFor(ctx, 75*time.Second, func() bool { return len(tickMinutes()) > 0 }) {
		t.Fatalf("no tick within 75 s\n%s", dump())
	}
	time.Sleep(3 * time.Second)
	first := tickMinutes()
	if len(first) != 1 {
		t.Fatalf("ticks %v with two processes running, want exactly 1\n%s", first, dump())
	}
	h := holders()
	if len(h) != 1 {
		t.Fatalf("%d processes acquired the lease, want 1\n%s", len(h), dump())
	}
	holder, other := h[0], procs[0]
	if other == holder {
		other = procs[1]
	}

	// The holder dies without releasing its lease: the other takes over
	// once it expires and fires the next tick, once.
	if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !waitFor(ctx, 20*time.Second, func() bool { return other.logged("trigger lease acquired", acquired) }) {
		t.Fatalf("the %s process did not take the lease over within 20 s of the holder's death\n%s", other.name, dump())
	}
	if !waitFor(ctx, 75*time.Second, func() bool { return len(tickMinutes()) > 1 }) {
		t.Fatalf("no tick after the takeover within 75 s\n%s", dump())
	}
	time.Sleep(3 * time.Second)
	all := tickMinutes()
	if len(all) != 2 || !all[1].Equal(first[0].Add(time.Minute)) {
		t.Fatalf("ticks %v, want %v and the minute after, once each\n%s", all, first[0], dump())
	}
	t.Logf("ticks %v: the first fired by the %s process, the second by the %s process after the takeover", all, holder.name, other.name)

	if err := other.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := other.wait(); err != nil {
		t.Errorf("the %s process after SIGTERM: %v (want exit 0)\n%s", other.name, err, other.log())
	}
}
