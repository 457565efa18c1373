package functions

import (
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
)

// can_evaluate reads bare fields from %%args, as the spec and
// rules.CheckFunctions do.
func TestCanEvaluateBareFieldsReadArgs(t *testing.T) {
	files := fnFiles(map[string]string{"guarded": `exports = function(x){ return x }`},
		`[{"name":"guarded","can_evaluate":{"0":"open sesame"}}]`)
	e := testEngine(t, testApp(t, files), Config{})
	ctx := tctx(t)
	if v, err := e.Call(ctx, ClientCaller(alice(), nil), "guarded", []any{"open sesame"}); err != nil || v != "open sesame" {
		t.Fatalf("matching argument refused: %v %v", v, err)
	}
	_, err := e.Call(ctx, ClientCaller(alice(), nil), "guarded", []any{"nope"})
	if !errors.Is(err, ErrCanEvaluate) {
		t.Fatalf("other argument: %v", err)
	}
}

// A function whose data access goes through a rule calling the same
// function (a → rule → %function a → ...) is a cycle only the run shows: it
// is stopped by the call depth shared by %function and
// context.functions.execute, not by the concurrency limit.
func TestRuntimeCycleStopsAtCallDepth(t *testing.T) {
	files := fnFiles(map[string]string{
		"loop": `exports = async function(){ return await context.services.get("mongodb-atlas").db("app").collection("guarded").findOne({}) }`,
		"rec":  `exports = function(n){ return context.functions.execute("rec", n + 1) }`,
	}, `[{"name":"loop"},{"name":"rec"}]`)
	files["data_sources/mongodb-atlas/app/guarded/rules.json"] = `{"database":"app","collection":"guarded","roles":[{"name":"r",
		"apply_when":{"%%true":{"%function":{"name":"loop"}}},"read":true}]}`
	rec := &entries{}
	e := testEngine(t, testApp(t, files), Config{MaxConcurrent: 4, AppLog: rec})
	ctx := tctx(t)
	if _, err := e.cfg.Store.Database("app").Collection("guarded").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	// The innermost %function fails on depth; a rule that fails does not
	// apply, so each level sees no document and the outer call returns
	// null. Each level takes two depth units (the function running, then
	// its %function call): about MaxCallDepth/2 levels, beyond the 4
	// slots; the last ones fail on depth, none on the slots.
	v, err := e.Call(ctx, ClientCaller(alice(), nil), "loop", nil)
	if err != nil || v != nil {
		t.Fatalf("rule cycle: %v %v", v, err)
	}
	rec.mu.Lock()
	n := len(rec.got)
	for _, x := range rec.got {
		if x.Name != "loop" || (x.Error != "" && !strings.Contains(x.Error, "call depth exceeds")) {
			t.Errorf("entry %+v", x)
		}
	}
	rec.mu.Unlock()
	if n < expr.MaxCallDepth/2 {
		t.Fatalf("rule cycle ran %d times, want at least %d", n, expr.MaxCallDepth/2)
	}
	_, err = e.Call(ctx, ClientCaller(alice(), nil), "rec", []any{int32(0)})
	if !errors.Is(err, expr.ErrCallDepth) && (err == nil || !strings.Contains(err.Error(), "call depth exceeds")) {
		t.Fatalf("execute recursion: %v", err)
	}
	// The slots were all given back.
	if v, err := e.Call(ctx, ClientCaller(alice(), nil), "rec", nil); err == nil {
		t.Fatalf("rec returned %v", v)
	}
}
