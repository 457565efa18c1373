package dataaccess

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
)

// Benchmarks of the rules overhead on a find of 20 documents from an
// indexed collection: the owner rule (document filters {owner_id:
// "%%user.id"}, pushed into the query) against a role with read: true and
// the same filter sent by the client, on 10,000 and 100,000 documents.
// Each iteration is one request: resolve the namespace, bind the caller's
// view, run the find, redact.

const ownerRules = `{"roles":[{"name":"owner","apply_when":{},
 "document_filters":{"read":{"owner_id":"%%user.id"},"write":{"owner_id":"%%user.id"}},
 "read":true,"write":true,"insert":true,"delete":true}]}`

const perOwner = 20

var bench struct {
	once sync.Once
	dir  string
	st   store.Store
	a    *Access
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.st != nil {
		bench.st.Close(context.Background())
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

func benchApp() *appconfig.App {
	var colls []*appconfig.Collection
	for _, db := range []string{"b10k", "b100k"} {
		colls = append(colls,
			&appconfig.Collection{Database: db, Collection: "owned", Rules: raw(db+"/owned/rules.json", ownerRules)},
			&appconfig.Collection{Database: db, Collection: "open", Rules: raw(db+"/open/rules.json", openRules)},
		)
	}
	app := testApp()
	app.DataSources[0].Collections = append(app.DataSources[0].Collections, colls...)
	return app
}

// benchFixture loads b10k and b100k once: the same documents in "owned"
// and "open" (a role with read: true), indexed on owner_id.
func benchFixture(b *testing.B) *Access {
	bench.once.Do(func() {
		ctx := context.Background()
		bench.dir, bench.err = os.MkdirTemp("", "dataaccess-bench")
		if bench.err != nil {
			return
		}
		st, err := embedded.Open(ctx, bench.dir, embedded.Options{SyncOff: true})
		if err != nil {
			bench.err = err
			return
		}
		bench.st = st
		for db, n := range map[string]int{"b10k": 10_000, "b100k": 100_000} {
			for _, name := range []string{"owned", "open"} {
				c := st.Database(db).Collection(name)
				if _, err := c.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "owner_id", Value: int32(1)}}}); err != nil {
					bench.err = err
					return
				}
				batch := make([]bson.D, 0, 1000)
				for i := 0; i < n; i++ {
					batch = append(batch, bson.D{{Key: "_id", Value: int32(i)},
						{Key: "owner_id", Value: fmt.Sprintf("user%d", i/perOwner)},
						{Key: "title", Value: fmt.Sprintf("item %d", i)}, {Key: "done", Value: i%2 == 0}})
					if len(batch) == cap(batch) || i == n-1 {
						if _, err := c.InsertMany(ctx, batch, store.InsertManyOptions{}); err != nil {
							bench.err = err
							return
						}
						batch = batch[:0]
					}
				}
			}
		}
		bench.a, bench.err = New(benchApp(), st, Options{})
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.a
}

func benchFind(b *testing.B, db, coll string, clientFilter bool) {
	a := benchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		user := fmt.Sprintf("user%d", i%500)
		req := Request{Caller: Caller{ID: user, Type: "normal"}}
		c, err := a.Collection(ctx, req, "mongodb-atlas", db, coll)
		if err != nil {
			b.Fatal(err)
		}
		var filter bson.D
		if clientFilter {
			filter = bson.D{{Key: "owner_id", Value: user}}
		}
		docs, err := c.Find(ctx, filter, FindOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(docs) != perOwner {
			b.Fatalf("%d documents", len(docs))
		}
	}
}

// BenchmarkFindOwnerRule: find({}) under the owner rule.
func BenchmarkFindOwnerRule100k(b *testing.B) { benchFind(b, "b100k", "owned", false) }

// BenchmarkFindReadTrue: find({owner_id: me}) under read: true.
func BenchmarkFindReadTrue100k(b *testing.B) { benchFind(b, "b100k", "open", true) }

func BenchmarkFindOwnerRule10k(b *testing.B) { benchFind(b, "b10k", "owned", false) }

func BenchmarkFindReadTrue10k(b *testing.B) { benchFind(b, "b10k", "open", true) }

// BenchmarkInsertOneRulesSchema: insertOne into tracker.tasks as the
// assignee (rules and the Task schema), with the store's default
// durability (synchronous=FULL).
func BenchmarkInsertOneRulesSchema(b *testing.B) {
	benchInsert(b, embedded.Options{})
}

// BenchmarkInsertOneRulesSchemaNoSync is the same with synchronous=NORMAL,
// to separate the data-access cost from fsync.
func BenchmarkInsertOneRulesSchemaNoSync(b *testing.B) {
	benchInsert(b, embedded.Options{NoSync: true})
}

func benchInsert(b *testing.B, opts embedded.Options) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	a, err := New(testApp(), st, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	req := Request{Caller: Caller{ID: "alice", Type: "normal"}}
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		c, err := a.Collection(ctx, req, "mongodb-atlas", "tracker", "tasks")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.InsertOne(ctx, bson.D{{Key: "_partition", Value: "p"}, {Key: "assignee", Value: "alice"},
			{Key: "name", Value: "task"}, {Key: "status", Value: "Open"}}); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU reports the process's CPU time (user + system) per operation:
// on a machine shared with other work it is a steadier measure of cost
// than wall time.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInsertOneRulesSchemaParallel is BenchmarkInsertOneRulesSchema
// from 16 concurrent requests (the store commits them in groups).
func BenchmarkInsertOneRulesSchemaParallel(b *testing.B) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, b.TempDir(), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	a, err := New(testApp(), st, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	req := Request{Caller: Caller{ID: "alice", Type: "normal"}}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := a.Collection(ctx, req, "mongodb-atlas", "tracker", "tasks")
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := c.InsertOne(ctx, bson.D{{Key: "_partition", Value: "p"}, {Key: "assignee", Value: "alice"},
				{Key: "name", Value: "task"}, {Key: "status", Value: "Open"}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkWatchFanout1000: 1,000 subscribers (one per user) on a
// collection under the owner rule; each insert is decided for every
// subscriber and delivered to its owner. One op is one insert through to
// its delivery.
func BenchmarkWatchFanout1000(b *testing.B) {
	const subs = 1000
	ctx := context.Background()
	st, err := embedded.Open(ctx, b.TempDir(), embedded.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	a, err := New(testApp(), st, Options{WatchBuffer: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	var wg sync.WaitGroup
	received := make(chan struct{}, 1<<16)
	for i := 0; i < subs; i++ {
		c, err := a.Collection(ctx, Request{Caller: Caller{ID: fmt.Sprintf("user%d", i)}}, "mongodb-atlas", "tracker", "notes")
		if err != nil {
			b.Fatal(err)
		}
		s, err := c.Watch(ctx, WatchOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range s.Events() {
				received <- struct{}{}
			}
		}()
	}
	sys, err := a.Collection(ctx, Request{Caller: SystemCaller()}, "mongodb-atlas", "tracker", "notes")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		if _, err := sys.InsertOne(ctx, bson.D{{Key: "owner_id", Value: fmt.Sprintf("user%d", i%subs)}, {Key: "text", Value: "x"}}); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < b.N; i++ {
		<-received
	}
	b.StopTimer()
	a.Close()
	wg.Wait()
}
