package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
	"github.com/atollhq/atoll/internal/triggers"
)

// TestTriggersCLI: list shows a suspended trigger with its error; resume
// --from-now marks it running and forgets its position.
func TestTriggersCLI(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	withStateColl := func(fn func(c store.Collection)) {
		st, err := embedded.Open(ctx, dir, embedded.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close(ctx)
		fn(st.Database(triggers.StateDatabase).Collection(triggers.StateCollection))
	}
	withStateColl(func(c store.Collection) {
		if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "onSale"}, {Key: "status", Value: triggers.StatusSuspended},
			{Key: "error", Value: "function f: boom"}, {Key: "resume_token", Value: bson.D{{Key: "_data", Value: "0000000000000007"}}}}); err != nil {
			t.Fatal(err)
		}
	})
	d := "--data=" + dir
	code, out, stderr := runCLI(t, "", "triggers", "list", d)
	if code != 0 || !strings.Contains(out, "onSale") || !strings.Contains(out, "suspended") || !strings.Contains(out, "function f: boom") {
		t.Fatalf("list: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, "", "triggers", "resume", d, "nope"); code != 1 || !strings.Contains(stderr, "no such trigger") {
		t.Errorf("resume unknown: %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "", "triggers", "resume", "onSale", d, "--from-now"); code != 0 {
		t.Fatalf("resume: %d %q", code, stderr)
	}
	withStateColl(func(c store.Collection) {
		doc, err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "onSale"}}, store.FindOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := bson.Raw(mustMarshal(t, doc))
		if s.Lookup("status").StringValue() != triggers.StatusRunning || s.Lookup("resume_token").Type != bson.TypeNull {
			t.Errorf("after resume --from-now: %v", doc)
		}
	})
	if code, _, _ := runCLI(t, "", "triggers", "resume", d); code != 2 {
		t.Errorf("resume without a name: %d", code)
	}
	if code, _, _ := runCLI(t, "", "triggers", "bogus"); code != 2 {
		t.Errorf("unknown subcommand: %d", code)
	}
}

func mustMarshal(t *testing.T, d bson.D) []byte {
	t.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
