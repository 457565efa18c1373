package expr

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// jdoc decodes a relaxed Extended JSON document.
func jdoc(t testing.TB, s string) bson.D {
	t.Helper()
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		t.Fatalf("bad test document %s: %v", s, err)
	}
	return d
}

func parse(t testing.TB, s string) *Expr {
	t.Helper()
	e, err := ParseJSON([]byte(s))
	if err != nil {
		t.Fatalf("ParseJSON(%s): %v", s, err)
	}
	return e
}

// funcs is a FunctionCaller backed by Go closures.
type funcs map[string]func(args []any) (any, error)

func (f funcs) CallFunction(_ context.Context, name string, args []any) (any, error) {
	fn, ok := f[name]
	if !ok {
		return nil, errors.New("function not found: '" + name + "'")
	}
	return fn(args)
}

// userEnv binds a user with the given id, data and custom data (EJSON).
func userEnv(t testing.TB, id, data, custom string) *Env {
	t.Helper()
	u := &User{ID: id, Type: "normal"}
	if data != "" {
		u.Data = jdoc(t, data)
	}
	if custom != "" {
		u.CustomData = jdoc(t, custom)
	}
	env, err := Bind(Binding{User: u})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func bind(t testing.TB, b Binding) *Env {
	t.Helper()
	env, err := Bind(b)
	if err != nil {
		t.Fatal(err)
	}
	return env
}
