package expr

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// reentrant is a FunctionCaller whose function evaluates an expression that
// calls the same function again, as a function runtime would when a
// function's can_evaluate (or the rules of a collection it reads) call it
// back: a cycle that only exists at run time.
type reentrant struct {
	e     *Expr
	calls int
	depth int // deepest CallDepth seen
}

func (r *reentrant) CallFunction(ctx context.Context, _ string, _ []any) (any, error) {
	r.calls++
	r.depth = max(r.depth, CallDepth(ctx))
	env, err := Bind(Binding{Functions: r})
	if err != nil {
		return nil, err
	}
	ok, err := r.e.Eval(ctx, env, NoDocument)
	return ok, err
}

func TestFunctionCallDepthBoundsRuntimeCycles(t *testing.T) {
	r := &reentrant{e: parse(t, `{"%%true":{"%function":{"name":"loop"}}}`)}
	env := bind(t, Binding{Functions: r})
	ok, err := r.e.Eval(context.Background(), env, NoDocument)
	if ok || !errors.Is(err, ErrCallDepth) || !errors.Is(err, ErrFunction) {
		t.Fatalf("Eval = %v, %v; want false and ErrCallDepth", ok, err)
	}
	if r.calls != MaxCallDepth || r.depth != MaxCallDepth {
		t.Errorf("calls = %d, deepest CallDepth = %d; want %d", r.calls, r.depth, MaxCallDepth)
	}
}

func TestCallDepthCountsFromTheContext(t *testing.T) {
	var seen int
	env := bind(t, Binding{Functions: funcsCtx(func(ctx context.Context) (any, error) { seen = CallDepth(ctx); return true, nil })})
	e := parse(t, `{"%%true":{"%function":{"name":"f"}}}`)
	ctx := WithCallDepth(context.Background(), 5)
	if ok, err := e.Eval(ctx, env, NoDocument); !ok || err != nil || seen != 6 {
		t.Errorf("Eval = %v, %v, depth seen %d; want true, nil, 6", ok, err, seen)
	}
	// A runtime that already nested MaxCallDepth calls gets no further.
	ctx = WithCallDepth(context.Background(), MaxCallDepth)
	if _, err := e.Eval(ctx, env, NoDocument); !errors.Is(err, ErrCallDepth) {
		t.Errorf("at the limit: err = %v, want ErrCallDepth", err)
	}
	if CallDepth(context.Background()) != 0 {
		t.Error("CallDepth of a fresh context is not 0")
	}
}

type funcsCtx func(ctx context.Context) (any, error)

func (f funcsCtx) CallFunction(ctx context.Context, _ string, _ []any) (any, error) { return f(ctx) }

func TestFunctionCallsPaths(t *testing.T) {
	e := parse(t, `{"$or":[{"a":1},{"%%true":{"%function":{"name":"g","arguments":[{"%function":{"name":"f"}}]}}}],
		"b":{"%function":{"name":"g"}}}`)
	var got []string
	for _, c := range e.FunctionCalls() {
		got = append(got, c.Name+"@"+c.Path)
	}
	want := "f@$or[1].%%true.%function.arguments[0].%function,g@$or[1].%%true.%function"
	if strings.Join(got, ",") != want {
		t.Errorf("FunctionCalls = %v, want %s", got, want)
	}
	q, err := ParseQuery(bson.D{{Key: "owner", Value: bson.D{{Key: "%function", Value: bson.D{{Key: "name", Value: "who"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := q.FunctionCalls(); len(c) != 1 || c[0].Name != "who" || c[0].Path != "owner.%function" {
		t.Errorf("Query.FunctionCalls = %v", c)
	}
}

// The Env resolves %%user.id, .type and fields of .data and .custom_data
// without building the user document, and builds the rest on first use;
// both routes must read the same values.
func TestEnvLazyExpansionsAgree(t *testing.T) {
	u := &User{ID: "u1", Type: "normal", CustomData: bson.D{{Key: "n", Value: 7}}, // a Go int: converted at Bind
		Identities: []Identity{{ID: "i1", ProviderType: "local-userpass"}}}
	env := bind(t, Binding{User: u, Values: map[string]any{"limit": 3, "tags": []string{"a"}},
		Environment: Environment{Tag: "prod", Values: map[string]any{"region": "eu"}},
		Request:     &Request{HTTPMethod: "GET"}})
	ctx := context.Background()
	for src, want := range map[string]bool{
		`{"%%user.id":"u1"}`:                                   true,
		`{"%%user.type":"normal"}`:                             true,
		`{"%%user.custom_data.n":7}`:                           true,
		`{"%%user.custom_data.n":{"$type":"int"}}`:             true,
		`{"%%user.custom_data":{"n":7}}`:                       true,
		`{"%%user.data":{}}`:                                   true,
		`{"%%user.data.email":{"$exists":false}}`:              true,
		`{"%%user.identities.providerType":"local-userpass"}`:  true,
		`{"%%user.identities.provider_type":"local-userpass"}`: true,
		`{"%%values.limit":3}`:                                 true,
		`{"%%values.tags":"a"}`:                                true,
		`{"%%environment.tag":"prod"}`:                         true,
		`{"%%environment.values.region":"eu"}`:                 true,
		`{"%%request.httpMethod":"GET"}`:                       true,
		`{"%%request.httpReferrer":{"$exists":false}}`:         true,
		`{"%%partition":{"$exists":false}}`:                    true,
	} {
		e := parse(t, src)
		for i := 0; i < 2; i++ { // the second time reads the built expansions
			if got, err := e.Eval(ctx, env, NoDocument); got != want || err != nil {
				t.Errorf("%s (pass %d) = %v, %v; want %v", src, i, got, err, want)
			}
		}
	}
	// No user: every %%user path is missing.
	empty := bind(t, Binding{})
	for _, src := range []string{`{"%%user.id":{"$exists":false}}`, `{"%%user":{"$exists":false}}`, `{"%%user.custom_data.x":{"$exists":false}}`} {
		if got, err := parse(t, src).Eval(ctx, empty, NoDocument); !got || err != nil {
			t.Errorf("no user: %s = %v, %v", src, got, err)
		}
	}
}

// The expansions an Env builds on first use may be first used by several
// goroutines at once (a View is shared by a request's goroutines).
func TestEnvLazyExpansionsConcurrent(t *testing.T) {
	env := bind(t, Binding{User: &User{ID: "u1", Identities: []Identity{{ID: "i", ProviderType: "anon-user"}}},
		Values: map[string]any{"v": 1}, Environment: Environment{Tag: "t"}, Request: &Request{Action: "find"}})
	e := parse(t, `{"%%user.identities.providerType":"anon-user","%%values.v":1,"%%environment.tag":"t","%%request.action":"find"}`)
	done := make(chan bool, 8)
	for range 8 {
		go func() {
			ok, err := e.Eval(context.Background(), env, NoDocument)
			done <- ok && err == nil
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("concurrent first use disagreed")
		}
	}
}
