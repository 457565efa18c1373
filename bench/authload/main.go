// Command authload is a load generator for the authenticated client API
// routes of a running `atoll serve`: it runs in its own process, so the
// server can be measured apart from the load (pin the two to different
// cores with taskset), and reports requests per second and, given the
// server's pid, the server CPU time per request.
//
// It logs in anonymously (one user per connection), then sends, on c
// keep-alive connections, either GET /auth/profile with the access token
// (-op profile) or POST /auth/session with the refresh token (-op
// refresh). The default client writes pre-built HTTP/1.1 requests and
// reads the answers by Content-Length, which costs far less CPU than
// net/http's client (-client nethttp), leaving the cores to the server.
//
//	atoll serve --app tests/e2e/apps/auto --data /tmp/d --addr 127.0.0.1:18080 &
//	go run ./bench/authload -url http://127.0.0.1:18080 -app e2e-auto-abcde -server-pid $!
//
// See docs/performance.md for the figures and the commands behind them.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "server base URL")
	app := flag.String("app", "", "app id (required)")
	op := flag.String("op", "profile", "profile or refresh")
	conns := flag.Int("c", 10, "concurrent keep-alive connections")
	dur := flag.Duration("d", 10*time.Second, "measured duration")
	warm := flag.Duration("warmup", 2*time.Second, "unmeasured warm-up")
	client := flag.String("client", "raw", "raw (light HTTP/1.1) or nethttp (net/http client)")
	pid := flag.Int("server-pid", 0, "server process id, to report its CPU per request (Linux)")
	flag.Parse()
	if *app == "" || *conns < 1 || (*op != "profile" && *op != "refresh") {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*base, *app, *op, *client, *conns, *dur, *warm, *pid); err != nil {
		fmt.Fprintln(os.Stderr, "authload:", err)
		os.Exit(1)
	}
}

const prefix = "/api/client/v2.0"

type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

func anonLogin(base, app string) (tokens, error) {
	u := base + prefix + "/app/" + url.PathEscape(app) + "/auth/providers/anon-user/login"
	res, err := http.Post(u, "application/json", strings.NewReader(`{"options":{"device":{}}}`))
	if err != nil {
		return tokens{}, err
	}
	defer res.Body.Close()
	var t tokens
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return t, fmt.Errorf("anonymous login: %s %s", res.Status, b)
	}
	return t, json.NewDecoder(res.Body).Decode(&t)
}

// worker sends one request and reads its answer per do.
type worker interface {
	do() error
	close()
}

func run(base, app, op, client string, c int, dur, warm time.Duration, pid int) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	workers := make([]worker, c)
	for i := range workers {
		t, err := anonLogin(base, app)
		if err != nil {
			return err
		}
		method, path, tok, want := "GET", prefix+"/auth/profile", t.Access, http.StatusOK
		if op == "refresh" {
			method, path, tok, want = "POST", prefix+"/auth/session", t.Refresh, http.StatusCreated
		}
		switch client {
		case "raw":
			w, err := dialRaw(u.Host, method, path, tok, want)
			if err != nil {
				return err
			}
			workers[i] = w
		case "nethttp":
			workers[i] = newNetHTTP(base+path, method, tok, want)
		default:
			return fmt.Errorf("unknown -client %q", client)
		}
	}
	var (
		counting atomic.Bool
		stop     atomic.Bool
		done     atomic.Int64
		failures atomic.Int64
		firstErr atomic.Value
		wg       sync.WaitGroup
	)
	lat := make([][]time.Duration, c)
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.close()
			for !stop.Load() {
				t0 := time.Now()
				err := w.do()
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					return
				}
				if !counting.Load() {
					continue
				}
				done.Add(1)
				if len(lat[i]) < 1_000_000 {
					lat[i] = append(lat[i], time.Since(t0))
				}
			}
		}()
	}
	time.Sleep(warm)
	cpu0, _ := procCPU(pid)
	own0 := selfCPU()
	t0 := time.Now()
	counting.Store(true)
	time.Sleep(dur)
	counting.Store(false)
	elapsed := time.Since(t0)
	cpu1, _ := procCPU(pid)
	own1 := selfCPU()
	n := done.Load()
	stop.Store(true)
	wg.Wait()

	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	fmt.Printf("op=%s client=%s c=%d duration=%s requests=%d failures=%d\n", op, client, c, elapsed.Round(time.Millisecond), n, failures.Load())
	fmt.Printf("throughput %.0f req/s, latency p50 %s p99 %s\n", float64(n)/elapsed.Seconds(),
		pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond))
	if n > 0 {
		fmt.Printf("load generator CPU %.1f µs/request\n", float64((own1-own0).Microseconds())/float64(n))
		if pid > 0 {
			srv := cpu1 - cpu0
			fmt.Printf("server CPU %.2f s over %s = %.2f cores, %.1f µs/request (one core: ~%.0f req/s)\n",
				srv.Seconds(), elapsed.Round(time.Millisecond), srv.Seconds()/elapsed.Seconds(),
				float64(srv.Microseconds())/float64(n), float64(n)/srv.Seconds())
		}
	}
	if e := firstErr.Load(); e != nil {
		return fmt.Errorf("request failed: %v", e)
	}
	return nil
}

// rawConn is one keep-alive connection sending a fixed request.
type rawConn struct {
	conn net.Conn
	r    *bufio.Reader
	req  []byte
	want []byte // "HTTP/1.1 200"
	body []byte
}

func dialRaw(host, method, path, token string, want int) (*rawConn, error) {
	c, err := net.Dial("tcp", host)
	if err != nil {
		return nil, err
	}
	req := method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token +
		"\r\nContent-Length: 0\r\nUser-Agent: authload\r\n\r\n"
	return &rawConn{conn: c, r: bufio.NewReaderSize(c, 16<<10), req: []byte(req),
		want: []byte("HTTP/1.1 " + strconv.Itoa(want) + " "), body: make([]byte, 0, 4096)}, nil
}

func (c *rawConn) close() { c.conn.Close() }

var errChunked = errors.New("response without Content-Length")

func (c *rawConn) do() error {
	if _, err := c.conn.Write(c.req); err != nil {
		return err
	}
	status, err := c.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, c.want) {
		return fmt.Errorf("unexpected status %q", bytes.TrimSpace(status))
	}
	length := -1
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return err
			}
		}
	}
	if length < 0 {
		return errChunked
	}
	if cap(c.body) < length {
		c.body = make([]byte, length)
	}
	_, err = io.ReadFull(c.r, c.body[:length])
	return err
}

// netHTTP sends through net/http's client, as a Go SDK would.
type netHTTP struct {
	c      *http.Client
	url    string
	method string
	auth   string
	want   int
}

func newNetHTTP(u, method, token string, want int) *netHTTP {
	return &netHTTP{c: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}, url: u,
		method: method, auth: "Bearer " + token, want: want}
}

func (h *netHTTP) close() { h.c.CloseIdleConnections() }

func (h *netHTTP) do() error {
	req, err := http.NewRequest(h.method, h.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", h.auth)
	res, err := h.c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != h.want {
		return fmt.Errorf("unexpected status %s", res.Status)
	}
	return nil
}

// procCPU is the user+system CPU time of process pid (Linux /proc; the
// kernel counts in clock ticks of 1/100 s).
func procCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
