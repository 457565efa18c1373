package auth

import "context"

// FunctionRunner runs app functions for auth: confirmation and reset
// functions, the custom-function provider's authentication function and
// the user-creation function. The functions engine implements it; tests
// use a fake. Arguments and results are BSON values (bson.D for objects,
// bson.A for arrays, string, numbers, ...). A function that throws returns
// an error whose message is the thrown message.
type FunctionRunner interface {
	CallFunction(ctx context.Context, name string, args ...any) (any, error)
}
