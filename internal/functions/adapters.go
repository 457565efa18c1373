package functions

import (
	"context"
	"fmt"
	"net/http"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/rules"
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
	caller.Trigger = TriggerRule
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
	v, err := a.E.Call(ctx, authCaller(), name, args)
	if _, u := v.(bson.Undefined); u {
		v = nil
	}
	return v, err
}

// AuthUsers resolves run_as_user_id users from the auth service: the
// user's record (through auth's bounded user cache, like the client
// routes) and custom user data, as %%user sees them.
type AuthUsers struct{ S *auth.Service }

// FunctionUser loads user id. An unknown or disabled user fails the call.
func (a AuthUsers) FunctionUser(ctx context.Context, id string) (rules.Caller, error) {
	u, err := a.S.CachedUser(ctx, id)
	if err != nil {
		return rules.Caller{}, err
	}
	if u.Disabled {
		return rules.Caller{}, fmt.Errorf("user %q is disabled", id)
	}
	cd, err := a.S.CustomData(ctx, id)
	if err != nil {
		return rules.Caller{}, err
	}
	return dataaccess.UserCaller(&auth.Caller{UserID: id, CustomData: cd}, u), nil
}

// ClientCall is a call from a client over functions/call: u is the
// verified caller (dataaccess.UserCaller), r the HTTP request (for
// context.request). Private functions are refused.
func (e *Engine) ClientCall(ctx context.Context, u rules.Caller, name string, args []any, r *http.Request) (any, error) {
	return e.Call(ctx, ClientCaller(u, RequestOf(r, "", name)), name, args)
}
