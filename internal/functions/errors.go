package functions

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors of a call, matched with errors.Is. Code maps each one to
// the App Services error_code and HTTP status the edge sends.
var (
	// ErrFunctionNotFound: no function has that name.
	ErrFunctionNotFound = errors.New("function not found")
	// ErrPrivate: a client called a private function.
	ErrPrivate = errors.New("function is private")
	// ErrCanEvaluate: the function's can_evaluate expression was false for
	// the caller (or failed to evaluate).
	ErrCanEvaluate = errors.New("rule not matched for function")
	// ErrTimeout: the call ran past its wall-clock limit.
	ErrTimeout = errors.New("execution time limit exceeded")
	// ErrMemoryLimit: the heap grew past the memory limit during the call.
	ErrMemoryLimit = errors.New("execution memory limit exceeded")
	// ErrTooManyRequests: the app already runs its maximum number of
	// concurrent calls.
	ErrTooManyRequests = errors.New("too many concurrent function calls")
	// ErrResultTooLarge: the result exceeds the result size limit.
	ErrResultTooLarge = errors.New("function result too large")
	// ErrUnsettled: the function returned a promise that never settled.
	ErrUnsettled = errors.New("function returned a promise that never settled")
	// ErrCanceled: the caller's context ended before the call finished.
	ErrCanceled = errors.New("function call canceled")
)

// ExecutionError is a function that threw (or returned a rejected
// promise). Value is the thrown value converted to BSON terms; Message is
// what App Services puts in the `error` field: the message of an Error, or
// the string form of any other thrown value.
type ExecutionError struct {
	Function string
	Message  string
	Value    any
	// Stack is the JavaScript stack trace, for the log only.
	Stack string
	// Err is a Go cause (a timeout, a limit, a data access error), or nil.
	Err error
}

func (e *ExecutionError) Error() string { return e.Message }

// Unwrap returns the Go cause, if any.
func (e *ExecutionError) Unwrap() error { return e.Err }

// SyntaxError is a function source that does not compile. Message names the
// file, line and column.
type SyntaxError struct {
	Function string
	File     string
	Message  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("functions: %s (function %q): %s", e.File, e.Function, e.Message)
}

// Code returns the App Services error_code and HTTP status for err.
func Code(err error) (code string, status int) {
	switch {
	case errors.Is(err, ErrFunctionNotFound):
		return "FunctionNotFound", http.StatusNotFound
	case errors.Is(err, ErrTimeout):
		return "ExecutionTimeLimitExceeded", http.StatusBadRequest
	case errors.Is(err, ErrMemoryLimit):
		return "ExecutionMemoryLimitExceeded", http.StatusBadRequest
	case errors.Is(err, ErrTooManyRequests):
		return "TooManyRequests", http.StatusTooManyRequests
	}
	return "FunctionExecutionError", http.StatusBadRequest
}
