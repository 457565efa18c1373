package embedded

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

const fixtureDocs = 100_000

var (
	fixtureOnce  sync.Once
	fixtureStore *Store
	fixtureDir   string
	fixtureErr   error
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChildMain()
		return
	}
	code := m.Run()
	if fixtureStore != nil {
		fixtureStore.Close(context.Background())
	}
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// fixture returns a store holding app.big with 100,000 documents
// {_id: i, g: i % 5000, n: i, s: "..."} and an index on g (20 documents per
// g value), loaded once per process with synchronous=OFF, then reopened
// with the default durable settings.
func fixture(b *testing.B) *Store {
	fixtureOnce.Do(func() {
		ctx := context.Background()
		fixtureDir, fixtureErr = os.MkdirTemp("", "atoll-bench-")
		if fixtureErr != nil {
			return
		}
		s, err := Open(ctx, fixtureDir, Options{SyncOff: true})
		if err != nil {
			fixtureErr = err
			return
		}
		c := s.Database("app").Collection("big")
		if _, err := c.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "g", Value: 1}}}); err != nil {
			fixtureErr = err
			return
		}
		batch := make([]bson.D, 0, 1000)
		for i := range fixtureDocs {
			batch = append(batch, bson.D{{Key: "_id", Value: int32(i)}, {Key: "g", Value: int32(i % 5000)}, {Key: "n", Value: int32(i)},
				{Key: "s", Value: fmt.Sprintf("document number %d with some text", i)}})
			if len(batch) == cap(batch) {
				if _, err := c.InsertMany(ctx, batch, store.InsertManyOptions{}); err != nil {
					fixtureErr = err
					return
				}
				batch = batch[:0]
			}
		}
		if fixtureErr = s.Close(ctx); fixtureErr != nil {
			return
		}
		fixtureStore, fixtureErr = Open(ctx, fixtureDir, Options{})
	})
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return fixtureStore
}

func BenchmarkPointReadByID(b *testing.B) {
	s := fixture(b)
	ctx := context.Background()
	c := s.Database("app").Collection("big")
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := int32((i * 7919) % fixtureDocs)
		if _, err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, store.FindOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFind20BySecondaryIndex(b *testing.B) {
	s := fixture(b)
	ctx := context.Background()
	c := s.Database("app").Collection("big")
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		cur, err := c.Find(ctx, bson.D{{Key: "g", Value: int32(i % 5000)}}, store.FindOptions{})
		if err != nil {
			b.Fatal(err)
		}
		docs, err := store.All(ctx, cur)
		if err != nil || len(docs) != 20 {
			b.Fatalf("%d docs, %v", len(docs), err)
		}
	}
}

func BenchmarkFullScan100k(b *testing.B) {
	s := fixture(b)
	ctx := context.Background()
	c := s.Database("app").Collection("big")
	b.ResetTimer()
	for b.Loop() {
		n, err := c.CountDocuments(ctx, bson.D{{Key: "n", Value: bson.D{{Key: "$mod", Value: bson.A{1000, 7}}}}}, store.CountOptions{})
		if err != nil || n != 100 {
			b.Fatalf("%d, %v", n, err)
		}
	}
}

func BenchmarkInsertManyDurable1000(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, b.TempDir())
	defer s.Close(ctx)
	c := s.Database("app").Collection("many")
	docs := make([]bson.D, 1000)
	b.ResetTimer()
	for b.Loop() {
		for i := range docs {
			docs[i] = bson.D{{Key: "a", Value: int32(i)}, {Key: "b", Value: "small"}}
		}
		if _, err := c.InsertMany(ctx, docs, store.InsertManyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInsertDurable8Writers: 8 goroutines inserting one document at a
// time with synchronous=FULL; group commit shares fsyncs among them.
func BenchmarkInsertDurable8Writers(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, b.TempDir())
	defer s.Close(ctx)
	c := s.Database("app").Collection("ins")
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if _, err := c.InsertOne(ctx, bson.D{{Key: "v", Value: "x"}}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "inserts/s")
}

// BenchmarkChangeEventLatency measures the time from a commit to the
// event reaching a waiting change stream; it reports the median.
func BenchmarkChangeEventLatency(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, b.TempDir())
	defer s.Close(ctx)
	c := s.Database("app").Collection("events")
	cs, err := c.Watch(ctx, nil, store.WatchOptions{MaxAwaitTime: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range b.N {
			if !cs.Next(ctx) {
				b.Error("no event", cs.Err())
				return
			}
			lat = append(lat, time.Duration(time.Now().UnixNano()-s.lastCommit.Load()))
		}
	}()
	b.ResetTimer()
	for i := range b.N {
		if _, err := c.InsertOne(ctx, bson.D{{Key: "i", Value: int32(i)}}); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.StopTimer()
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
	_ = rand.IntN
}
