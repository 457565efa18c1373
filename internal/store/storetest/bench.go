package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// BenchFixtureSize is the number of documents of the large fixture (the
// issue's 100,000).
const BenchFixtureSize = 100_000

// Bench runs the storage benchmarks against the harness's backend, so that
// backends are measured by the same code: point read by _id, 20 of
// 100,000 through a secondary index, 8 concurrent durable inserts,
// InsertMany of 1,000, a full scan of 100,000 with a non-indexed
// predicate, and (with change streams) the delay from commit to event.
// Fixtures are built outside the timed loops, once per Bench call.
func Bench(b *testing.B, h Harness) {
	s := h.Open(b)
	ctx := context.Background()
	db := s.Database(uniqueName())
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_ = db.Drop(ctx)
	})
	var big store.Collection // the 100,000-document fixture, built on first use
	fixture := func(b *testing.B) store.Collection {
		if big != nil {
			return big
		}
		big = db.Collection("big")
		if _, err := big.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "k", Value: int32(1)}}}); err != nil {
			b.Fatal(err)
		}
		const batch = 1000
		for start := 0; start < BenchFixtureSize; start += batch {
			docs := make([]bson.D, 0, batch)
			for i := start; i < start+batch && i < BenchFixtureSize; i++ {
				docs = append(docs, benchDoc(i))
			}
			if _, err := big.InsertMany(ctx, docs, store.InsertManyOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		return big
	}

	b.Run("PointReadByID", func(b *testing.B) {
		c := fixture(b)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			id := int32((i * 7919) % BenchFixtureSize)
			d, err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, store.FindOptions{})
			if err != nil || len(d) == 0 {
				b.Fatalf("FindOne(%d): %v", id, err)
			}
		}
	})

	b.Run("Find20Of100kIndexed", func(b *testing.B) {
		c := fixture(b)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			k := int32((i * 31) % (BenchFixtureSize / 20))
			cur, err := c.Find(ctx, bson.D{{Key: "k", Value: k}}, store.FindOptions{})
			if err != nil {
				b.Fatal(err)
			}
			docs, err := store.All(ctx, cur)
			if err != nil || len(docs) != 20 {
				b.Fatalf("k=%d: %d documents, %v", k, len(docs), err)
			}
		}
	})

	b.Run("FullScan100kUnindexed", func(b *testing.B) {
		c := fixture(b)
		b.ResetTimer()
		for b.Loop() {
			// v is not indexed; 1 document in 1,000 matches.
			cur, err := c.Find(ctx, bson.D{{Key: "v", Value: bson.D{{Key: "$gte", Value: int32(999)}}}}, store.FindOptions{})
			if err != nil {
				b.Fatal(err)
			}
			docs, err := store.All(ctx, cur)
			if err != nil || len(docs) != BenchFixtureSize/1000 {
				b.Fatalf("%d documents, %v", len(docs), err)
			}
		}
	})

	b.Run("InsertMany1000", func(b *testing.B) {
		c := db.Collection(fmt.Sprintf("many%d", b.N))
		var n int
		for b.Loop() {
			docs := make([]bson.D, 1000)
			for i := range docs {
				docs[i] = benchDoc(n)
				n++
			}
			if _, err := c.InsertMany(ctx, docs, store.InsertManyOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("InsertOneConcurrent8", func(b *testing.B) {
		c := db.Collection(fmt.Sprintf("conc%d", b.N))
		// RunParallel starts parallelism × GOMAXPROCS goroutines: ask for
		// at least 8 writers.
		b.SetParallelism(max(1, (8+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)))
		var next atomic.Int64
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1)
				if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "v", Value: int32(i % 1000)}, {Key: "s", Value: "payload"}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(next.Load())/time.Since(start).Seconds(), "inserts/s")
	})

	b.Run("ChangeEventDelay", func(b *testing.B) {
		if !s.Capabilities().ChangeStreams {
			b.Skipf("%s declares no change streams", h.Name)
		}
		c := db.Collection(fmt.Sprintf("events%d", b.N))
		if err := db.CreateCollection(ctx, c.Name(), store.CreateCollectionOptions{}); err != nil {
			b.Fatal(err)
		}
		cs, err := c.Watch(ctx, nil, store.WatchOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer cs.Close(ctx)
		var delays []time.Duration
		for i := 0; b.Loop(); i++ {
			if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: int32(i)}}); err != nil {
				b.Fatal(err)
			}
			committed := time.Now()
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			ok := cs.Next(wctx)
			cancel()
			if !ok {
				b.Fatalf("no event: %v", cs.Err())
			}
			delays = append(delays, time.Since(committed))
		}
		if len(delays) > 0 {
			slices.Sort(delays)
			b.ReportMetric(float64(delays[len(delays)/2].Microseconds()), "p50-µs")
		}
	})
}

func benchDoc(i int) bson.D {
	return bson.D{
		{Key: "_id", Value: int32(i)},
		{Key: "k", Value: int32(i % (BenchFixtureSize / 20))}, // 20 documents per key
		{Key: "v", Value: int32(i % 1000)},
		{Key: "name", Value: fmt.Sprintf("user-%06d", i)},
		{Key: "r", Value: rand.Float64()},
	}
}
