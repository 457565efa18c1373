package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildAtoll builds the atoll binary once per test binary run.
func buildAtoll(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "atoll-cli-test-")
		if buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(buildDir, "atoll"), ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "atoll")
}

var listening = regexp.MustCompile(`listening on http://([0-9.]+:[0-9]+)`)

// runServe starts `atoll serve` with args, checks /healthz and /metrics,
// stops it with SIGTERM and checks that it exits 0. It returns what the
// process logged.
func runServe(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "ATOLL_MONGODB_URI=", "ATOLL_DATA=", "ATOLL_ADDR=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	addrc := make(chan string, 1)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if m := listening.FindStringSubmatch(sc.Text()); m != nil && !sent {
				addrc <- m[1]
				sent = true
			}
		}
		if !sent {
			close(addrc)
		}
	}()
	var addr string
	select {
	case a, ok := <-addrc:
		if !ok {
			_ = cmd.Wait()
			<-logDone
			t.Fatalf("atoll serve exited before listening:\n%s", log.String())
		}
		addr = a
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		<-logDone
		t.Fatalf("no \"listening on\" line within 60s:\n%s", log.String())
	}

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Errorf("GET /healthz: %d %q, want 200 {\"status\":\"ok\"}", resp.StatusCode, body)
	}
	resp, err = client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "go_goroutines") {
		t.Errorf("GET /metrics: %d, body without go_goroutines:\n%.500s", resp.StatusCode, body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	<-logDone
	if err != nil {
		t.Fatalf("atoll serve after SIGTERM: %v (want exit code 0)\n%s", err, log.String())
	}
	return log.String()
}

func TestServeEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds and runs the atoll binary")
	}
	bin := buildAtoll(t)
	data := filepath.Join(t.TempDir(), "data")
	log := runServe(t, bin, "--data", data)
	if !strings.Contains(log, "store: embedded") {
		t.Errorf("the log does not say the embedded store was opened:\n%s", log)
	}
	if entries, err := os.ReadDir(data); err != nil || len(entries) == 0 {
		t.Errorf("the data directory %s was not populated (%v)", data, err)
	}
	// The store was closed cleanly: a second run opens the same directory.
	runServe(t, bin, "--data", data)
}

func TestServeMongoDB(t *testing.T) {
	uri := os.Getenv("ATOLL_TEST_MONGODB_URI")
	if uri == "" {
		t.Skip("ATOLL_TEST_MONGODB_URI is not set: `atoll serve --mongodb-uri` is tested only against a running deployment (scripts/test.sh starts FerretDB and sets it)")
	}
	if testing.Short() {
		t.Skip("-short: this test builds and runs the atoll binary")
	}
	bin := buildAtoll(t)
	data := filepath.Join(t.TempDir(), "unused")
	log := runServe(t, bin, "--mongodb-uri", uri, "--data", data)
	if !strings.Contains(log, "store: MongoDB") {
		t.Errorf("the log does not say the MongoDB store was opened:\n%s", log)
	}
	if _, err := os.Stat(data); err == nil {
		t.Errorf("--mongodb-uri created the embedded data directory %s", data)
	}
}

func TestServeBadMongoURI(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds and runs the atoll binary")
	}
	bin := buildAtoll(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--mongodb-uri", "notascheme://x")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("a bad --mongodb-uri: %v, want exit code 1\n%s", err, out)
	}
	if strings.Contains(string(out), "listening on") {
		t.Errorf("the server started without a store:\n%s", out)
	}
}
