package functions

import (
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/rules"
)

// TestParallelCallers runs many callers at once over a small pool: each
// sees its own user, never another's, and the pool stays bounded.
func TestParallelCallers(t *testing.T) {
	e := basicEngine(t, Config{MaxIdleRuntimes: 2})
	ctx := tctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			id := fmt.Sprintf("user%d", g)
			c := ClientCaller(rules.Caller{ID: id, Type: "normal"}, nil)
			for i := 0; i < 30; i++ {
				got, err := e.Call(ctx, c, "whoami", nil)
				if err != nil {
					errs <- err
					return
				}
				if d, ok := got.(bson.D); !ok || d[0].Value != id {
					errs <- fmt.Errorf("%s saw %#v", id, got)
					return
				}
				if _, err := e.Call(ctx, c, "setGlobal", nil); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.idleCount(); n > 2 {
		t.Errorf("%d idle runtimes, limit 2", n)
	}
}

func BenchmarkCallTrivialParallel(b *testing.B) {
	e := basicEngine(b, Config{})
	ctx := tctx(b)
	c := ClientCaller(alice(), nil)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		args := []any{int32(1)}
		for pb.Next() {
			if _, err := e.Call(ctx, c, "firstArg", args); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
