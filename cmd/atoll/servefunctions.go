package main

import (
	"context"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/functions"
	"github.com/atollhq/atoll/internal/server/apierror"
	"github.com/atollhq/atoll/internal/server/clientapi"
)

// clientFunctions plugs the functions engine into the client API's
// functions/call route: the caller's user record gives rules its
// %%user.type, data and identities, and engine errors become the App
// Services envelope (FunctionNotFound, FunctionExecutionError, ...).
// The record comes through auth's user cache (CachedUser), as for the
// data API: it is read on every call and those fields change rarely.
type clientFunctions struct {
	engine *functions.Engine
	auth   *auth.Service
}

func (f clientFunctions) CallFunction(ctx context.Context, call clientapi.FunctionCall) (any, error) {
	u, err := f.auth.CachedUser(ctx, call.Caller.UserID)
	if err != nil {
		return nil, err
	}
	res, err := f.engine.ClientCall(ctx, dataaccess.UserCaller(call.Caller, u), call.Name, []any(call.Arguments), call.Request)
	if err != nil {
		code, status := functions.Code(err)
		return nil, apierror.New(status, code, err.Error())
	}
	return res, nil
}
