package auth

import (
	"errors"
	"net/http"
)

// Code is an App Services error code (the `error_code` of the client API's
// error envelope).
type Code string

// The codes this package returns.
const (
	CodeInvalidSession       Code = "InvalidSession"
	CodeInvalidPassword      Code = "InvalidPassword"
	CodeUserDisabled         Code = "UserDisabled"
	CodeUserNotFound         Code = "UserNotFound"
	CodeAccountNameInUse     Code = "AccountNameInUse"
	CodeUserAlreadyConfirmed Code = "UserAlreadyConfirmed"
	CodeUserpassTokenInvalid Code = "UserpassTokenInvalid"
	CodeBadRequest           Code = "BadRequest"
	CodeInvalidParameter     Code = "InvalidParameter"
	CodeMissingParameter     Code = "MissingParameter"
	CodeAuthProviderNotFound Code = "AuthProviderNotFound"
	CodeAuthError            Code = "AuthError"
	CodeAPIKeyNotFound       Code = "APIKeyNotFound"
	CodePermissionDenied     Code = "PermissionDenied"
	CodeLimitExceeded        Code = "LimitExceeded"
	CodeFunctionExecution    Code = "FunctionExecutionError"
	CodeInternal             Code = "InternalServerError"
)

// HTTPStatus is the status the client API answers with for the code. A
// 401 makes realm-web refresh and retry (access token) or log out (refresh
// token), so it is kept for session and credential failures.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeInvalidSession, CodeInvalidPassword, CodeAuthError, CodeUserDisabled:
		return http.StatusUnauthorized
	case CodePermissionDenied:
		return http.StatusForbidden
	case CodeUserNotFound, CodeAPIKeyNotFound, CodeAuthProviderNotFound:
		return http.StatusNotFound
	case CodeAccountNameInUse:
		return http.StatusConflict
	case CodeLimitExceeded:
		return http.StatusTooManyRequests
	case CodeInternal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// Error is an auth failure with the App Services code and the message
// clients see. Messages never carry tokens, passwords or a hint whether a
// user exists.
type Error struct {
	Code    Code
	Message string
	// Err is the underlying cause, for logs only.
	Err error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalidSession) and friends match any *Error
// with the same code, whatever its message.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code && t.Err == nil
	}
	return false
}

func newError(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Sentinels to test against with errors.Is; returned errors carry more
// specific messages.
var (
	ErrInvalidSession   = newError(CodeInvalidSession, "invalid session")
	ErrInvalidPassword  = newError(CodeInvalidPassword, msgUnauthorized)
	ErrUserDisabled     = newError(CodeUserDisabled, "user disabled")
	ErrUserNotFound     = newError(CodeUserNotFound, "user not found")
	ErrProviderNotFound = newError(CodeAuthProviderNotFound, "authentication via provider is not supported")
	ErrAPIKeyNotFound   = newError(CodeAPIKeyNotFound, "API key not found")
	ErrLimitExceeded    = newError(CodeLimitExceeded, "too many requests, try again later")
	ErrBadRequest       = newError(CodeBadRequest, "bad request")
)

// The messages realm-web and App Services clients look for.
const (
	msgUnauthorized      = "unauthorized: invalid username/password"
	msgRefreshNotFound   = "invalid session: failed to find refresh token"
	msgAccessInvalid     = "invalid session: access token expired"
	msgPasswordLength    = "password must be between 6 and 128 characters"
	msgInvalidTokenData  = "invalid token data"
	msgAlreadyConfirmed  = "already confirmed"
	msgUseResetFunction  = "please use reset password via function"
	msgNameInUse         = "name already in use"
	msgUserDisabled      = "user disabled"
	msgInternal          = "internal server error"
	msgAPIKeyInUse       = "cannot delete the API key backing the current session"
	msgAnonNoAPIKeys     = "anonymous users cannot have API keys"
	msgLinkIdentityOwned = "a user already exists with the specified provider identity"
)
