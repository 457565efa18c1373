package embedded

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

const (
	crashChildEnv   = "ATOLL_CRASH_CHILD_DIR"
	crashRoundEnv   = "ATOLL_CRASH_CHILD_ROUND"
	crashWriters    = 4
	crashPerRound   = 1_000_000
	crashPerWriter  = 100_000
	crashPadPattern = "0123456789abcdef"
)

// crashPad is the content every crash-test document carries, so that a
// half-written document would show.
func crashPad(id int64) string {
	return strings.Repeat(crashPadPattern, 8) + strconv.FormatInt(id, 10)
}

// crashChildMain runs in the child process: writers insert documents and
// print each acknowledged _id, until the parent kills the process.
func crashChildMain() {
	dir := os.Getenv(crashChildEnv)
	round, _ := strconv.ParseInt(os.Getenv(crashRoundEnv), 10, 64)
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	c := s.Database("crash").Collection("docs")
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int64(0); ; i++ {
				id := round*crashPerRound + int64(w)*crashPerWriter + i
				doc := bson.D{{Key: "_id", Value: id}, {Key: "w", Value: int32(w)}, {Key: "pad", Value: crashPad(id)}}
				if _, err := c.InsertOne(ctx, doc); err != nil {
					fmt.Fprintln(os.Stderr, "child insert:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintln(out, id)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestCrashSafety kills a child process that inserts documents at random
// moments and checks, after reopening, that every acknowledged insert is
// there, complete, indexed, and in the oplog exactly once, in order.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary; skipped with -short")
	}
	dir := t.TempDir()
	ctx := context.Background()
	// An index, so that index entries are part of each write.
	{
		s := openTest(t, dir)
		if _, err := s.Database("crash").Collection("docs").CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "w", Value: 1}}}); err != nil {
			t.Fatal(err)
		}
		s.Close(ctx)
	}
	acked := map[int64]bool{}
	const rounds = 24
	for round := 1; round <= rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashRoundEnv+"="+strconv.Itoa(round))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan []int64, 1)
		started := make(chan struct{})
		go func() {
			var got []int64
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if v, err := strconv.ParseInt(sc.Text(), 10, 64); err == nil {
					if got == nil {
						close(started)
					}
					got = append(got, v)
				}
			}
			if got == nil {
				close(started)
			}
			lines <- got
		}()
		if round == 1 {
			// While the child holds the directory, this process is refused.
			select {
			case <-started:
			case <-time.After(20 * time.Second):
			}
			if s, err := Open(ctx, dir, Options{}); err == nil {
				s.Close(ctx)
				t.Fatal("a second process opened a directory in use")
			} else if !strings.Contains(err.Error(), "in use by another process") {
				t.Fatalf("unclear lock error: %v", err)
			}
		}
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		got := <-lines
		cmd.Wait()
		if strings.Contains(stderr.String(), "child") {
			t.Fatalf("round %d: child failed: %s", round, stderr.String())
		}
		for _, id := range got {
			acked[id] = true
		}
		if round%6 == 0 {
			verifyCrashStore(t, dir, acked)
		}
	}
	if len(acked) == 0 {
		t.Fatal("the child acknowledged no writes")
	}
	t.Logf("%d rounds, %d acknowledged inserts", rounds, len(acked))
}

func verifyCrashStore(t *testing.T, dir string, acked map[int64]bool) {
	t.Helper()
	ctx := context.Background()
	s := openTest(t, dir)
	defer s.Close(ctx)
	c := s.Database("crash").Collection("docs")
	docs, err := store.All(ctx, must(c.Find(ctx, nil, store.FindOptions{})))
	if err != nil {
		t.Fatal(err)
	}
	present := map[int64]bool{}
	for _, d := range docs {
		id := mql.Get(d, "_id").(int64)
		if mql.Get(d, "pad") != crashPad(id) || len(d) != 3 {
			t.Fatalf("document %d is damaged: %v", id, d)
		}
		present[id] = true
	}
	for id := range acked {
		if !present[id] {
			t.Fatalf("acknowledged insert %d is missing", id)
		}
	}
	// Index entries agree with the documents.
	var viaIndex int
	for w := range crashWriters {
		n, err := c.CountDocuments(ctx, bson.D{{Key: "w", Value: int32(w)}}, store.CountOptions{})
		if err != nil {
			t.Fatal(err)
		}
		viaIndex += int(n)
	}
	if viaIndex != len(docs) {
		t.Fatalf("index holds %d documents, collection %d", viaIndex, len(docs))
	}
	// The oplog holds exactly the committed inserts, each once, in commit
	// order (per writer, _id increases).
	cs, err := c.Watch(ctx, nil, store.WatchOptions{ResumeAfter: tokenFor(0), MaxAwaitTime: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	last := map[int64]int64{}
	var prevSeq int64
	for cs.Next(ctx) {
		ev := cs.Event()
		seq, _ := parseToken(cs.ResumeToken())
		if mql.Get(ev, "operationType") != "insert" {
			continue
		}
		if seq <= prevSeq {
			t.Fatalf("oplog out of order: %d after %d", seq, prevSeq)
		}
		prevSeq = seq
		id := mql.Get(mql.Get(ev, "documentKey").(bson.D), "_id").(int64)
		if seen[id] || !present[id] {
			t.Fatalf("oplog insert of %d: duplicate=%v, document present=%v", id, seen[id], present[id])
		}
		seen[id] = true
		w := int64(mql.Get(mql.Get(ev, "fullDocument").(bson.D), "w").(int32))
		if id <= last[w] {
			t.Fatalf("writer %d's inserts out of order in the oplog: %d after %d", w, id, last[w])
		}
		last[w] = id
	}
	if cs.Err() != nil {
		t.Fatal(cs.Err())
	}
	if len(seen) != len(present) {
		t.Fatalf("oplog has %d inserts, collection %d documents", len(seen), len(present))
	}
}
