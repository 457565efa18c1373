package functions

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
)

// callerRunner runs functions for one caller; it implements
// expr.FunctionCaller (%function in rules) and auth.FunctionRunner.
type callerRunner struct {
	e      *Engine
	caller Caller
}

// ForCaller returns an expr.FunctionCaller for %function in the rules of
// caller's request: private functions are allowed; the result's undefined
// becomes null.
func (e *Engine) ForCaller(caller Caller) expr.FunctionCaller {
	caller.Client = false
	return &callerRunner{e: e, caller: caller}
}

func (r *callerRunner) CallFunction(ctx context.Context, name string, args []any) (any, error) {
	v, err := r.e.Call(ctx, r.caller, name, args)
	if _, u := v.(bson.Undefined); u {
		v = nil
	}
	return v, err
}

// AuthRunner implements auth.FunctionRunner: auth handlers (confirmation,
// reset, custom-function login, user creation) run as system.
type AuthRunner struct{ E *Engine }

// CallFunction runs name as system.
func (a AuthRunner) CallFunction(ctx context.Context, name string, args ...any) (any, error) {
	v, err := a.E.Call(ctx, SystemCaller(), name, args)
	if _, u := v.(bson.Undefined); u {
		v = nil
	}
	return v, err
}
