package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/server"
	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
)

// serveBench is the bench/clientapi owner app mounted the way `atoll
// serve` mounts it (auth, data access, functions engine, app log), on a
// durable embedded store with 10,000 documents, driven in process
// through the server's handler. It is issue 7's findOne comparison
// without the network and the second process; bench/clientapi measures
// those.
type serveBench struct {
	h      http.Handler
	prefix string
	users  []struct{ id, token string }
}

func newServeBench(b *testing.B) *serveBench {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := embedded.Open(ctx, b.TempDir(), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close(context.Background()) })
	const appID = "bench-owner-abcde"
	app, err := loadServeApp(ctx, "../../bench/clientapi/apps/owner", appID, appServeConfig{}, logger)
	if err != nil {
		b.Fatal(err)
	}
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Logger: logger})
	closeApp, err := mountApp(ctx, srv, st, app, appServeConfig{}, logger)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(closeApp)
	sb := &serveBench{h: srv.Handler(), prefix: "/api/client/v2.0/app/" + appID}
	for i := 0; i < 10; i++ {
		email := fmt.Sprintf("user%d@bench.example", i)
		cred := fmt.Sprintf(`{"email":%q,"password":"password123"}`, email)
		if code, out := sb.post("/auth/providers/local-userpass/register", "", cred); code/100 != 2 {
			b.Fatalf("register: %d %s", code, out)
		}
		code, out := sb.post("/auth/providers/local-userpass/login", "", fmt.Sprintf(`{"username":%q,"password":"password123"}`, email))
		var tok struct {
			UserID string `json:"user_id"`
			Access string `json:"access_token"`
		}
		if code != http.StatusOK || json.Unmarshal([]byte(out), &tok) != nil {
			b.Fatalf("login: %d %s", code, out)
		}
		sb.users = append(sb.users, struct{ id, token string }{tok.UserID, tok.Access})
	}
	coll := st.Database("bench").Collection("items")
	if _, err := coll.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "owner_id", Value: int32(1)}}}); err != nil {
		b.Fatal(err)
	}
	docs := make([]bson.D, 0, 10000)
	for i := 0; i < 10000; i++ {
		owner := fmt.Sprintf("nobody-%d", i/20)
		if u := i / 20; u < len(sb.users) {
			owner = sb.users[u].id
		}
		docs = append(docs, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "owner_id", Value: owner},
			{Key: "n", Value: int64(i)}, {Key: "title", Value: fmt.Sprintf("item %d", i)}})
	}
	if _, err := coll.InsertMany(ctx, docs, store.InsertManyOptions{}); err != nil {
		b.Fatal(err)
	}
	return sb
}

func (sb *serveBench) post(path, token, body string) (int, string) {
	// net/http gives every request a context canceled when the
	// connection closes; database/sql watches such a context for the
	// life of each query, so the benchmark must have one too.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, "POST", sb.prefix+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	sb.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// processCPU is this process's user+system CPU time: the benchmarks
// report it per operation, so that work done off the request goroutine
// (the app log writer, the GC) counts as it does for bench/clientapi's
// server CPU per request.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (sb *serveBench) run(b *testing.B, body func(userID string) string) {
	b.ReportAllocs()
	// Warm the runtimes, caches and the app log writer.
	for i := 0; i < 200; i++ {
		u := sb.users[i%len(sb.users)]
		sb.post("/functions/call", u.token, body(u.id))
	}
	cpu0 := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u := sb.users[i%len(sb.users)]
		code, out := sb.post("/functions/call", u.token, body(u.id))
		if code != http.StatusOK || strings.Count(out, `"owner_id":"`+u.id+`"`) != 1 {
			b.Fatalf("%d %.200s", code, out)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkServeFindOne is the client API's findOne under the owner rule
// (bench/clientapi's findone scenario).
func BenchmarkServeFindOne(b *testing.B) {
	sb := newServeBench(b)
	sb.run(b, func(id string) string {
		return `{"name":"findOne","service":"mongodb-atlas","arguments":[{"database":"bench","collection":"items","query":{"owner_id":"` + id + `"}}]}`
	})
}

// BenchmarkServeFnFindOne is the same findOne from a function through
// context.services (fn-findone); issue 7's target is at most 1.5× the
// CPU of BenchmarkServeFindOne.
func BenchmarkServeFnFindOne(b *testing.B) {
	sb := newServeBench(b)
	sb.run(b, func(string) string { return `{"name":"findOneItem","arguments":[]}` })
}
