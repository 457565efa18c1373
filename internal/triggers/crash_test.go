package triggers

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// crashFiles: an ordered INSERT trigger whose function appends each
// event's document id to out.log.ids, so the array is the delivery order.
func crashFiles() map[string]string {
	return map[string]string{
		"functions/config.json": `[{"name":"logId","private":true}]`,
		"functions/logId.js": `exports = async (ev) => {
  await context.services.get("mongodb-atlas").db("out").collection("log").updateOne(
    {_id: "log"}, {$push: {ids: ev.documentKey._id}}, {upsert: true});
}`,
		"triggers/t.json": `{"name":"t","type":"DATABASE","config":{"service_name":"mongodb-atlas","database":"store","collection":"items",
			"operation_types":["INSERT"]},"event_processors":{"FUNCTION":{"config":{"function_name":"logId"}}}}`,
	}
}

const crashBurst = 1000

// TestCrashChild is the process TestCrashRedelivery kills: it runs the
// trigger and inserts 1..1000 into store.items, printing its progress.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("ATOLL_TRIGGERS_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestCrashRedelivery only")
	}
	ctx := tctx(t)
	s := openStack(t, dir, crashFiles(), func(c *Config) { c.LeaseTTL = 300 * time.Millisecond })
	waitStatus(ctx, t, s.st, "t", StatusRunning)
	items := s.st.Database("store").Collection("items")
	for i := int32(1); i <= crashBurst; i++ {
		if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("inserted %d\n", i)
	}
	<-ctx.Done() // killed before this
}

// TestCrashRedelivery: SIGKILL a process during a burst of 1,000 writes
// watched by an ordered trigger; after restart every write is delivered at
// least once, in commit order, and none after its successor.
func TestCrashRedelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	ctx := tctx(t)
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ATOLL_TRIGGERS_CRASH_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "inserted ")); err == nil && n >= 400 {
			_ = cmd.Process.Kill()
			killed = true
			break
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatal("the child ended before the kill")
	}

	s := openStack(t, dir, crashFiles(), func(c *Config) { c.LeaseTTL = 300 * time.Millisecond })
	items := s.st.Database("store").Collection("items")
	committed, err := items.CountDocuments(ctx, bson.D{}, store.CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := int32(committed) + 1; i <= crashBurst; i++ {
		if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int32
	for {
		d, err := s.st.Database("out").Collection("log").FindOne(ctx, bson.D{{Key: "_id", Value: "log"}}, store.FindOptions{})
		if err == nil && d != nil {
			arr, _ := lookup(d, "ids").(bson.A)
			ids = ids[:0]
			for _, v := range arr {
				ids = append(ids, v.(int32))
			}
			if len(ids) > 0 && ids[len(ids)-1] == crashBurst {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("not all events delivered: %d deliveries, committed before kill %d", len(ids), committed)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Ordered and at least once: the log never skips ahead, so the first
	// deliveries are 1, 2, 3, ... and a redelivery only repeats.
	seen := map[int32]bool{}
	for i, id := range ids {
		if i > 0 && id > ids[i-1]+1 {
			t.Fatalf("delivery %d is %d right after %d", i, id, ids[i-1])
		}
		seen[id] = true
	}
	if len(seen) != crashBurst || ids[0] != 1 {
		t.Fatalf("%d distinct ids delivered, first %d", len(seen), ids[0])
	}
	t.Logf("committed before kill: %d; deliveries: %d (%d redelivered)", committed, len(ids), len(ids)-crashBurst)
}
