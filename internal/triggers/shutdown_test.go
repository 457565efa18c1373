package triggers

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/functions"
	"github.com/atollhq/atoll/internal/store"
)

// heldFunctions records the key of each event it is called with, then
// holds the call until release is closed or its context ends.
type heldFunctions struct {
	started chan int32
	release chan struct{}

	mu   sync.Mutex
	keys []int32
}

func newHeldFunctions() *heldFunctions {
	return &heldFunctions{started: make(chan int32, 16), release: make(chan struct{})}
}

func (h *heldFunctions) Call(ctx context.Context, _ functions.Caller, _ string, args []any) (any, error) {
	ev, _ := args[0].(bson.D)
	dk, _ := lookup(ev, "documentKey").(bson.D)
	key, _ := lookup(dk, "_id").(int32) // 0 for an authentication event
	h.mu.Lock()
	h.keys = append(h.keys, key)
	h.mu.Unlock()
	select {
	case h.started <- key:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-h.release:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h *heldFunctions) delivered() []int32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.keys)
}

// startHeld stops s's own runner once its stream is open (so the
// trigger's position is recorded) and starts one on h, which takes the
// lease at its first poll and resumes there.
func startHeld(t *testing.T, s *stack, h *heldFunctions, mod func(*Config)) *Runner {
	t.Helper()
	waitStatus(tctx(t), t, s.st, "t", StatusRunning)
	s.runner.Close()
	cfg := s.cfg
	cfg.Functions = h
	if mod != nil {
		mod(&cfg)
	}
	r := New(s.triggers, cfg)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// closeWhileRunning calls r.Close and returns once Close has cancelled
// the runner's context; Close's result arrives on the channel.
func closeWhileRunning(t *testing.T, r *Runner) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	go func() {
		r.Close()
		close(done)
	}()
	for {
		r.mu.Lock()
		closed := r.closed
		r.mu.Unlock()
		if closed {
			return done
		}
		time.Sleep(time.Millisecond)
	}
}

func insertItem(ctx context.Context, t *testing.T, st store.Store, id int32) {
	t.Helper()
	if _, err := st.Database("store").Collection("items").InsertOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		t.Fatal(err)
	}
}

func waitStarted(ctx context.Context, t *testing.T, h *heldFunctions, want int32) {
	t.Helper()
	select {
	case k := <-h.started:
		if k != want {
			t.Fatalf("handler started for document %d, want %d", k, want)
		}
	case <-ctx.Done():
		t.Fatalf("no handler started for document %d", want)
	}
}

// TestCloseLetsRunningHandlerFinish: a handler running when the runner is
// closed finishes, and its event is recorded as delivered: the next
// runner goes on after it instead of delivering it again.
func TestCloseLetsRunningHandlerFinish(t *testing.T) {
	ctx := tctx(t)
	s := newStackWith(t, dbTriggerApp(itemsTriggerWith(false, false)), nil)
	h := newHeldFunctions()
	r := startHeld(t, s, h, nil)
	insertItem(ctx, t, s.st, 1)
	waitStarted(ctx, t, h, 1)
	closed := closeWhileRunning(t, r)
	close(h.release)
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("Close did not return after the handler finished")
	}

	next := newHeldFunctions()
	close(next.release)
	r2 := startHeld(t, s, next, nil)
	insertItem(ctx, t, s.st, 2)
	waitStarted(ctx, t, next, 2)
	r2.Close()
	if got := next.delivered(); !slices.Equal(got, []int32{2}) {
		t.Errorf("the next runner delivered %v, want [2]: the finished handler's event was not recorded", got)
	}
}

// TestCloseCancelsHandlerAfterGrace: a handler still running
// ShutdownGrace after Close is cancelled, Close returns, and its event is
// delivered again by the next runner (at least once).
func TestCloseCancelsHandlerAfterGrace(t *testing.T) {
	ctx := tctx(t)
	s := newStackWith(t, dbTriggerApp(itemsTriggerWith(false, false)), nil)
	h := newHeldFunctions() // never released
	r := startHeld(t, s, h, func(c *Config) { c.ShutdownGrace = 20 * time.Millisecond })
	insertItem(ctx, t, s.st, 1)
	waitStarted(ctx, t, h, 1)
	select {
	case <-closeWhileRunning(t, r):
	case <-ctx.Done():
		t.Fatal("Close waited for a handler past ShutdownGrace")
	}

	next := newHeldFunctions()
	close(next.release)
	r2 := startHeld(t, s, next, nil)
	waitStarted(ctx, t, next, 1)
	insertItem(ctx, t, s.st, 2)
	waitStarted(ctx, t, next, 2)
	r2.Close()
	if got := next.delivered(); !slices.Equal(got, []int32{1, 2}) {
		t.Errorf("the next runner delivered %v, want [1 2]", got)
	}
}

// TestCloseLetsRunningAuthHandlerFinish: an authentication event whose
// handler is running at Close is removed once the handler finishes, so no
// later runner delivers it again.
func TestCloseLetsRunningAuthHandlerFinish(t *testing.T) {
	ctx := tctx(t)
	h := newHeldFunctions()
	s := newStackWith(t, map[string]string{
		"auth/providers.json":   `{"anon-user":{"name":"anon-user","type":"anon-user","disabled":false}}`,
		"functions/config.json": `[{"name":"onLogin","private":true}]`,
		"functions/onLogin.js":  `exports = () => {}`,
		"triggers/onLogin.json": `{"name":"onLogin","type":"AUTHENTICATION","config":{"operation_type":"LOGIN","providers":["anon-user"]},"function_name":"onLogin"}`,
	}, func(c *Config) { c.Functions = h })
	if _, err := s.auth.Login(ctx, auth.LoginRequest{Provider: "anon-user", ClientIP: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	waitStarted(ctx, t, h, 0)
	closed := closeWhileRunning(t, s.runner)
	close(h.release)
	<-closed
	events := s.st.Database(StateDatabase).Collection(AuthEventCollection)
	if n, err := events.CountDocuments(ctx, bson.D{}, store.CountOptions{}); err != nil || n != 0 {
		t.Errorf("%d events still recorded (%v) after their handler finished, want 0", n, err)
	}
}
