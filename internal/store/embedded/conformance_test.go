package embedded

import (
	"context"
	"testing"

	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/storetest"
)

// TestConformance runs the store conformance suite against the embedded
// engine: one store per test, in a temporary directory.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Name: "embedded",
		Open: func(t testing.TB) store.Store {
			s := openTest(t, t.TempDir())
			t.Cleanup(func() { s.Close(context.Background()) })
			return s
		},
	})
}

// BenchmarkStoretest runs the shared storage benchmarks (the same code as
// the MongoDB backend's) against the embedded engine.
func BenchmarkStoretest(b *testing.B) {
	storetest.Bench(b, storetest.Harness{
		Name: "embedded",
		Open: func(t testing.TB) store.Store {
			s := openTest(t, t.TempDir())
			t.Cleanup(func() { s.Close(context.Background()) })
			return s
		},
	})
}
