// Package apierror is the App Services error envelope at the HTTP edge:
// `{"error": "...", "error_code": "...", "link": "..."}` with
// `Content-Type: application/json` and the matching status. Every API
// (client, Data API, GraphQL, endpoints, admin) writes its errors through
// it, so SDKs that branch on `error_code` (realm-web's 401 InvalidSession
// rule) see one consistent shape.
//
// Inside Atoll errors are typed sentinels wrapped with %w; handlers map them
// to an *Error only when answering.
package apierror

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Error is one error response: the HTTP status and the envelope fields.
type Error struct {
	// Status is the HTTP status code.
	Status int `json:"-"`
	// Message is the human text SDKs show (`error`).
	Message string `json:"error"`
	// Code is the App Services error code name (`error_code`), e.g.
	// InvalidSession.
	Code string `json:"error_code"`
	// Link is optional (App Services points it at a log entry).
	Link string `json:"link,omitempty"`
}

// Error implements error so an *Error can travel through handler helpers.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// New builds an error response.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// Error codes used across APIs (realm-core's catalogue of server codes).
const (
	CodeBadRequest           = "BadRequest"
	CodeInvalidParameter     = "InvalidParameter"
	CodeMissingParameter     = "MissingParameter"
	CodeInvalidSession       = "InvalidSession"
	CodeInvalidPassword      = "InvalidPassword"
	CodeAuthError            = "AuthError"
	CodeUserNotFound         = "UserNotFound"
	CodeUserDisabled         = "UserDisabled"
	CodeUserAlreadyConfirmed = "UserAlreadyConfirmed"
	CodeAccountNameInUse     = "AccountNameInUse"
	CodeUserpassTokenInvalid = "UserpassTokenInvalid"
	CodeAuthProviderNotFound = "AuthProviderNotFound"
	CodeAPIKeyNotFound       = "APIKeyNotFound"
	CodeAPIKeyAlreadyExists  = "APIKeyAlreadyExists"
	CodeDomainNotAllowed     = "DomainNotAllowed"
	CodeAppNotFound          = "AppNotFound"
	CodeNotFound             = "NotFound"
	CodeMethodNotAllowed     = "MethodNotAllowed"
	CodeLimitExceeded        = "LimitExceeded"
	CodePermissionDenied     = "PermissionDenied"
	CodeFunctionNotFound     = "FunctionNotFound"
	CodeFunctionExecution    = "FunctionExecutionError"
	CodeInternalServerError  = "InternalServerError"
)

// Internal is the answer for anything unexpected: the cause is logged by the
// caller, never sent.
var Internal = &Error{Status: http.StatusInternalServerError, Code: CodeInternalServerError, Message: "internal server error"}

// Write sends e as the response. A nil e is an internal error.
func Write(w http.ResponseWriter, e *Error) {
	if e == nil {
		e = Internal
	}
	body, err := json.Marshal(e)
	if err != nil { // only strings inside: cannot happen
		body = []byte(`{"error":"internal server error","error_code":"InternalServerError"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}
