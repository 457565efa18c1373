package clientapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// newBenchEnv is an env logging at Info, as a production server does.
func newBenchEnv(b *testing.B) *env { return newEnv(b, envOptions{quiet: true}) }

// BenchmarkProfile measures an authenticated GET /auth/profile through the
// full middleware chain (token verification, session cache, profile read),
// with parallel clients.
func BenchmarkProfile(b *testing.B) {
	e := newBenchEnv(b)
	tk := e.anon()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", userPath+"/profile", nil)
			req.Header.Set("Authorization", "Bearer "+tk.Access)
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("profile: %d %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkRefresh measures POST /auth/session (refresh token check and a
// new access token with custom user data looked up).
func BenchmarkRefresh(b *testing.B) {
	e := newBenchEnv(b)
	tk := e.anon()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", userPath+"/session", nil)
			req.Header.Set("Authorization", "Bearer "+tk.Refresh)
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Fatalf("refresh: %d %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkRefusedLogin measures how cheaply malformed bodies are refused
// (no storage work happens).
func BenchmarkRefusedLogin(b *testing.B) {
	e := newBenchEnv(b)
	body := `{"options":` + strings.Repeat(" ", 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", appPath+"/auth/providers/anon-user/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkProfileLoopback is the measure: authenticated profile
// requests over real HTTP on loopback with 10 concurrent clients
// (keep-alive connections, as SDKs use).
func BenchmarkProfileLoopback(b *testing.B) {
	e := newBenchEnv(b)
	tk := e.anon()
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	url := srv.URL + userPath + "/profile"
	b.SetParallelism(10 / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+tk.Access)
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("profile: %d", res.StatusCode)
			}
		}
	})
}
