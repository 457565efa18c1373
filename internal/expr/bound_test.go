package expr

import (
	"context"
	"errors"
	"testing"
)

func TestBoundConstantFolding(t *testing.T) {
	calls := 0
	env := bind(t, Binding{
		User: &User{ID: "u1", CustomData: jdoc(t, `{"isAdmin":true}`)},
		Functions: funcs{
			"count": func([]any) (any, error) { calls++; return true, nil },
			"boom":  func([]any) (any, error) { return nil, errors.New("boom") },
		},
	})
	ctx := context.Background()
	cases := []struct {
		expr     string
		constant bool
		value    bool
	}{
		{`{"%%user.custom_data.isAdmin":true}`, true, true},
		{`{"$or":[{"%%user.custom_data.isAdmin":true},{"owner":"%%user.id"}]}`, true, true},
		{`{"$and":[{"%%user.custom_data.isAdmin":false},{"owner":"%%user.id"}]}`, true, false},
		{`{"owner":"%%user.id","%%user.id":"u1"}`, false, false},
		{`{"%not":{"%%user.id":"u1"}}`, true, false},
		{`{"$nor":[{"%%user.id":"u2"},{"%%false":true}]}`, true, true},
		// A failing part stays and keeps a later constant from deciding.
		{`{"$or":[{"%%true":{"%function":{"name":"boom"}}},{"%%true":true}]}`, false, false},
		{`{"%%true":{"%function":{"name":"count"}}}`, true, true},
	}
	for _, c := range cases {
		b := parse(t, c.expr).Bind(ctx, env)
		v, ok := b.Constant()
		if ok != c.constant || (ok && v != c.value) {
			t.Errorf("%s: Constant() = %v, %v; want %v, %v", c.expr, v, ok, c.value, c.constant)
		}
	}
	// A document-independent %function runs once per Bind, not per document.
	calls = 0
	b := parse(t, `{"owner":"%%user.id","%%true":{"%function":{"name":"count"}}}`).Bind(ctx, env)
	for i := 0; i < 5; i++ {
		if ok, err := b.Eval(ctx, ReadOf(jdoc(t, `{"owner":"u1"}`))); !ok || err != nil {
			t.Fatalf("Eval = %v, %v", ok, err)
		}
	}
	if calls != 1 {
		t.Errorf("function called %d times, want 1", calls)
	}
	if _, err := parse(t, `{"$or":[{"%%true":{"%function":{"name":"boom"}}},{"%%true":true}]}`).Bind(ctx, env).Eval(ctx, NoDocument); !errors.Is(err, ErrFunction) {
		t.Errorf("the failure must surface at Eval, got %v", err)
	}
}

// TestConcurrentUse: an Expr, an Env and a Bound are shared by all the
// requests and documents of an app version (run with -race).
func TestConcurrentUse(t *testing.T) {
	e := parse(t, `{"$or":[{"owner":"%%user.id"},{"m":{"$elemMatch":{"u":"%%user.id"}}}],"team":{"$in":["x","%%user.custom_data.team"]}}`)
	env := userEnv(t, "u1", "", `{"team":"red"}`)
	b := e.Bind(context.Background(), env)
	docs := []Input{
		ReadOf(jdoc(t, `{"owner":"u1","team":"red"}`)),
		ReadOf(jdoc(t, `{"m":[{"u":"u1"}],"team":"red"}`)),
		ReadOf(jdoc(t, `{"owner":"u2","team":"red"}`)),
	}
	want := []bool{true, true, false}
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				for j, in := range docs {
					x, err1 := e.Eval(context.Background(), env, in)
					y, err2 := b.Eval(context.Background(), in)
					if err1 != nil || err2 != nil || x != want[j] || y != want[j] {
						done <- errors.New("wrong concurrent result")
						return
					}
				}
				_ = e.Compile(context.Background(), env)
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
