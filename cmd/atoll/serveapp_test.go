package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAppServeFromEnv(t *testing.T) {
	t.Setenv("ATOLL_ACCESS_TOKEN_TTL", "90s")
	t.Setenv("ATOLL_REFRESH_TOKEN_TTL", "")
	t.Setenv("ATOLL_PUBLIC_URL", "https://api.example.com")
	c, err := appServeFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.accessTokenTTL != 90*time.Second || c.refreshTokenTTL != 0 || c.publicURL != "https://api.example.com" {
		t.Fatalf("got %+v", c)
	}
	for _, bad := range []string{"soon", "-5m", "0s"} {
		t.Setenv("ATOLL_ACCESS_TOKEN_TTL", bad)
		if _, err := appServeFromEnv(); err == nil {
			t.Errorf("ATOLL_ACCESS_TOKEN_TTL=%q accepted", bad)
		}
	}
}

// A broken app directory stops `atoll serve` before it listens, with every
// problem logged.
func TestServeRefusesABrokenApp(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "root_config.json"), []byte(`{"name": 5}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := serve([]string{"--app", dir, "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1; log:\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "root_config.json") || strings.Contains(errb.String(), "listening on") {
		t.Fatalf("log:\n%s", errb.String())
	}
}
