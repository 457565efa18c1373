// Command clientapi is the HTTP benchmark of the client data API (issue
// 6): it seeds an embedded store, starts `atoll serve` as a separate
// process (pinned to one CPU with taskset when -server-cpu is set), and
// drives it over loopback like realm-web does: POST functions/call with
// the mongodb-atlas service, and watch() streams.
//
// Scenarios:
//   - find: 20 documents under an owner rule ({owner_id: "%%user.id"},
//     indexed) out of -docs documents, -clients concurrent clients;
//   - find-open: the same request under a role with read: true (the rules
//     overhead is the server CPU per request of find over find-open);
//   - insert: insertOne under the owner rule and a schema;
//   - watch: -streams open watch() streams, -rate inserts per second spread
//     over their owners; latency from before the insert to the event;
//   - fn-trivial: functions/call of `exports = (x) => x` (issue 7);
//   - findone: one findOne under the owner rule through the client API;
//   - fn-findone: the same findOne from a function through
//     context.services (issue 7's target: ≤ 1.5× findone).
//
// Run from the repository root, the generator pinned to the other core:
//
//	taskset -c 1 go run ./bench/clientapi -server-cpu 0 -docs 100000
//
// Server CPU is read from /proc/<pid>/stat (Linux).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
)

type config struct {
	docs      int
	clients   int
	users     int
	duration  time.Duration
	scenarios string
	serverCPU string
	streams   int
	rate      int
	atoll     string
}

func main() {
	var c config
	flag.IntVar(&c.docs, "docs", 100000, "documents in bench.items")
	flag.IntVar(&c.clients, "clients", 10, "concurrent clients")
	flag.IntVar(&c.users, "users", 10, "users owning 20 documents each (the rest belong to nobody who logs in)")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "measured time per scenario")
	flag.StringVar(&c.scenarios, "scenarios", "find,find-open,insert,watch", "comma-separated scenarios")
	flag.StringVar(&c.serverCPU, "server-cpu", "", "pin atoll serve to this CPU list with taskset (e.g. 0)")
	flag.IntVar(&c.streams, "streams", 1000, "open watch streams (watch)")
	flag.IntVar(&c.rate, "rate", 100, "inserts per second (watch)")
	flag.StringVar(&c.atoll, "atoll", "", "atoll binary (default: go build ./cmd/atoll)")
	flag.Parse()
	log.SetFlags(0)
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

func run(c config) error {
	tmp, err := os.MkdirTemp("", "atoll-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if c.atoll == "" {
		c.atoll = filepath.Join(tmp, "atoll")
		cmd := exec.Command("go", "build", "-o", c.atoll, "./cmd/atoll")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building atoll: %w", err)
		}
	}
	fmt.Printf("# %s, %d CPUs, GOMAXPROCS %d, %s\n", time.Now().UTC().Format(time.RFC3339), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Printf("# docs %d, clients %d, duration %s, server CPU %q\n", c.docs, c.clients, c.duration, c.serverCPU)
	for _, sc := range strings.Split(c.scenarios, ",") {
		app := "owner"
		if sc == "find-open" {
			app = "open"
		}
		if err := scenario(c, tmp, app, strings.TrimSpace(sc)); err != nil {
			return fmt.Errorf("%s: %w", sc, err)
		}
	}
	return nil
}

// fixture seeds a data directory for app: c.users users with 20 documents
// each, the rest owned by ids nobody logs in as, an index on owner_id.
func fixture(ctx context.Context, c config, dir, appDir string) ([]string, error) {
	app, err := appconfig.Load(ctx, appDir, appconfig.Options{})
	if err != nil {
		return nil, err
	}
	st, err := embedded.Open(ctx, dir, embedded.Options{SyncOff: true})
	if err != nil {
		return nil, err
	}
	defer st.Close(context.Background())
	svc, err := auth.New(ctx, auth.Options{Store: st, App: app, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Argon2: auth.Argon2Params{Time: 1, Memory: 1024, Threads: 1}})
	if err != nil {
		return nil, err
	}
	var emails []string
	var ids []string
	for i := 0; i < c.users; i++ {
		email := fmt.Sprintf("user%d@bench.example", i)
		u, err := svc.CreateEmailPasswordUser(ctx, email, "password123")
		if err != nil {
			_ = svc.Close()
			return nil, err
		}
		emails = append(emails, email)
		ids = append(ids, u.ID)
	}
	_ = svc.Close()
	coll := st.Database("bench").Collection("items")
	if _, err := coll.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "owner_id", Value: int32(1)}}}); err != nil {
		return nil, err
	}
	batch := make([]bson.D, 0, 1000)
	for i := 0; i < c.docs; i++ {
		owner := fmt.Sprintf("nobody-%d", i/20)
		if u := i / 20; u < len(ids) {
			owner = ids[u]
		}
		batch = append(batch, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "owner_id", Value: owner},
			{Key: "n", Value: int64(i)}, {Key: "title", Value: "item " + strconv.Itoa(i)}})
		if len(batch) == cap(batch) || i == c.docs-1 {
			if _, err := coll.InsertMany(ctx, batch, store.InsertManyOptions{}); err != nil {
				return nil, err
			}
			batch = batch[:0]
		}
	}
	return emails, nil
}

// server is a running `atoll serve`.
type server struct {
	url string
	pid int
	cmd *exec.Cmd
}

func startServer(c config, dataDir, appDir string) (*server, error) {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--app", appDir, "--log-format", "text"}
	name := c.atoll
	if c.serverCPU != "" {
		args = append([]string{"-c", c.serverCPU, c.atoll}, args...)
		name = "taskset"
	}
	cmd := exec.Command(name, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	re := regexp.MustCompile(`listening on (http://[0-9.:]+)`)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			return &server{url: m[1], pid: cmd.Process.Pid, cmd: cmd}, nil
		}
	}
	_ = cmd.Process.Kill()
	return nil, errors.New("atoll serve exited before listening")
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// cpu is the server's user+system CPU time so far.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ = 100
}

var httpClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2000, MaxConnsPerHost: 0}}

func login(base, appID, email string) (id, token string, err error) {
	body := fmt.Sprintf(`{"username":%q,"password":"password123"}`, email)
	res, err := httpClient.Post(base+"/api/client/v2.0/app/"+appID+"/auth/providers/local-userpass/login", "application/json", strings.NewReader(body))
	if err != nil {
		return "", "", err
	}
	defer res.Body.Close()
	var out struct {
		UserID string `json:"user_id"`
		Access string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		return "", "", fmt.Errorf("login %s: %d %v", email, res.StatusCode, err)
	}
	return out.UserID, out.Access, nil
}

func call(base, appID, token, body string) ([]byte, error) {
	req, _ := http.NewRequest("POST", base+"/api/client/v2.0/app/"+appID+"/functions/call", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("%d %s", res.StatusCode, b)
	}
	return b, nil
}

func scenario(c config, tmp, app, sc string) error {
	ctx := context.Background()
	appDir, _ := filepath.Abs(filepath.Join("bench", "clientapi", "apps", app))
	appID := "bench-" + app + "-abcde"
	dataDir, err := os.MkdirTemp(tmp, "data-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	t0 := time.Now()
	emails, err := fixture(ctx, c, dataDir, appDir)
	if err != nil {
		return fmt.Errorf("fixture: %w", err)
	}
	fmt.Printf("# %s: fixture of %d documents in %s\n", sc, c.docs, time.Since(t0).Round(time.Millisecond))
	srv, err := startServer(c, dataDir, appDir)
	if err != nil {
		return err
	}
	defer srv.stop()
	type user struct{ id, tok string }
	users := make([]user, len(emails))
	for i, e := range emails {
		if users[i].id, users[i].tok, err = login(srv.url, appID, e); err != nil {
			return err
		}
	}
	if sc == "watch" {
		return watchScenario(c, srv, appID, users[0].tok, func(i int) (string, string) { return users[i%len(users)].id, users[i%len(users)].tok })
	}
	var seq atomic.Int64
	op := func(i int) error {
		u := users[i%len(users)]
		var body string
		switch sc {
		case "find", "find-open":
			body = `{"name":"find","service":"mongodb-atlas","arguments":[{"database":"bench","collection":"items","query":{"owner_id":"` + u.id + `"},"limit":{"$numberInt":"20"}}]}`
		case "findone":
			body = `{"name":"findOne","service":"mongodb-atlas","arguments":[{"database":"bench","collection":"items","query":{"owner_id":"` + u.id + `"}}]}`
		case "fn-findone":
			body = `{"name":"findOneItem","arguments":[]}`
		case "fn-trivial":
			body = `{"name":"trivial","arguments":[{"$numberInt":"1"}]}`
		case "insert":
			n := seq.Add(1)
			body = fmt.Sprintf(`{"name":"insertOne","service":"mongodb-atlas","arguments":[{"database":"bench","collection":"items","document":{"owner_id":%q,"n":{"$numberLong":"%d"},"title":"new"}}]}`, u.id, n)
		default:
			return fmt.Errorf("unknown scenario %q", sc)
		}
		out, err := call(srv.url, appID, u.tok, body)
		if err != nil {
			return err
		}
		switch sc {
		case "insert":
		case "fn-trivial":
			if string(out) != `{"$numberInt":"1"}` {
				return fmt.Errorf("trivial: got %s", truncate(out))
			}
		case "findone", "fn-findone":
			if bytes.Count(out, []byte(`"owner_id":"`+u.id+`"`)) != 1 {
				return fmt.Errorf("expected the user's document, got %s", truncate(out))
			}
		default:
			if bytes.Count(out, []byte(`"owner_id"`)) != 20 {
				return fmt.Errorf("expected 20 documents, got %s", truncate(out))
			}
		}
		return nil
	}
	// Warm up, then measure.
	if _, err := load(c.clients, 2*time.Second, op); err != nil {
		return err
	}
	cpu0 := srv.cpu()
	lat, err := load(c.clients, c.duration, op)
	if err != nil {
		return err
	}
	cpu := srv.cpu() - cpu0
	report(sc, c, lat, cpu)
	return nil
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// load runs op from n clients for d and returns every latency.
func load(n int, d time.Duration, op func(i int) error) ([]time.Duration, error) {
	var (
		mu   sync.Mutex
		all  []time.Duration
		fail error
		wg   sync.WaitGroup
	)
	stop := time.Now().Add(d)
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var mine []time.Duration
			for i := w; time.Now().Before(stop); i += n {
				t := time.Now()
				if err := op(i); err != nil {
					mu.Lock()
					fail = err
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	return all, fail
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func report(sc string, c config, lat []time.Duration, cpu time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	rps := float64(len(lat)) / c.duration.Seconds()
	perReq := time.Duration(0)
	if len(lat) > 0 {
		perReq = cpu / time.Duration(len(lat))
	}
	fmt.Printf("%-10s docs=%-7d requests=%-7d rps=%-8.0f p50=%-9s p99=%-9s server_cpu/req=%s\n",
		sc, c.docs, len(lat), rps, percentile(lat, 0.5).Round(10*time.Microsecond),
		percentile(lat, 0.99).Round(10*time.Microsecond), perReq.Round(time.Microsecond))
}

// watchScenario opens c.streams watch streams (spread over the users),
// inserts c.rate documents per second owned by the streams' users with
// the send time in `t`, and measures from before each insert to each
// stream's event.
func watchScenario(c config, srv *server, appID, _ string, userOf func(i int) (string, string)) error {
	var (
		mu   sync.Mutex
		lats []time.Duration
		got  atomic.Int64
		open sync.WaitGroup
		done sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	users := map[string]bool{}
	for i := 0; i < c.streams; i++ {
		id, _ := userOf(i)
		users[id] = true
	}
	body := `{"name":"watch","arguments":[{"database":"bench","collection":"items"}],"service":"mongodb-atlas"}`
	u := srv.url + "/api/client/v2.0/app/" + appID + "/functions/call?baas_request=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(body)))
	errs := make(chan error, c.streams)
	for i := 0; i < c.streams; i++ {
		_, tok := userOf(i)
		open.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Accept", "text/event-stream")
			res, err := httpClient.Do(req)
			if err != nil {
				open.Done()
				errs <- err
				return
			}
			defer res.Body.Close()
			rd := bufio.NewReader(res.Body)
			// The first comment line says the stream is subscribed.
			_, err = rd.ReadString('\n')
			open.Done()
			if err != nil || res.StatusCode != 200 {
				errs <- fmt.Errorf("stream: %d %v", res.StatusCode, err)
				return
			}
			for {
				line, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				if !strings.HasPrefix(line, "data: ") {
					continue
				}
				var ev struct {
					FullDocument struct {
						T struct {
							N string `json:"$numberLong"`
						} `json:"t"`
					} `json:"fullDocument"`
				}
				if json.Unmarshal([]byte(line[len("data: "):]), &ev) != nil {
					continue
				}
				sent, _ := strconv.ParseInt(ev.FullDocument.T.N, 10, 64)
				if sent == 0 {
					continue
				}
				d := time.Since(time.Unix(0, sent))
				got.Add(1)
				mu.Lock()
				lats = append(lats, d)
				mu.Unlock()
			}
		}()
	}
	open.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	fmt.Printf("# watch: %d streams open\n", c.streams)
	owners := make([][2]string, 0, len(users))
	for i := 0; len(owners) < len(users); i++ {
		id, tok := userOf(i)
		owners = append(owners, [2]string{id, tok})
	}
	tick := time.NewTicker(time.Second / time.Duration(c.rate))
	defer tick.Stop()
	end := time.Now().Add(c.duration)
	writes := 0
	for time.Now().Before(end) {
		<-tick.C
		o := owners[writes%len(owners)]
		doc := fmt.Sprintf(`{"name":"insertOne","service":"mongodb-atlas","arguments":[{"database":"bench","collection":"items","document":{"owner_id":%q,"n":{"$numberLong":"%d"},"title":"w","t":{"$numberLong":"%d"}}}]}`,
			o[0], writes, time.Now().UnixNano())
		if _, err := call(srv.url, appID, o[1], doc); err != nil {
			return err
		}
		writes++
	}
	time.Sleep(2 * time.Second) // let the last events arrive
	cancel()
	done.Wait()
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	expected := writes * c.streams / len(owners)
	fmt.Printf("%-10s streams=%-5d writes=%-6d events=%d/%d p50=%s p99=%s max=%s\n", "watch", c.streams, writes, got.Load(), expected,
		percentile(lats, 0.5).Round(10*time.Microsecond), percentile(lats, 0.99).Round(10*time.Microsecond),
		percentile(lats, 1).Round(10*time.Microsecond))
	return nil
}
