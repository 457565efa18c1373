package dataaccess

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/atollhq/atoll/internal/jsonschema"
	"github.com/atollhq/atoll/internal/rules"
	"github.com/atollhq/atoll/internal/store"
)

// App Services error codes (the `error_code` of the HTTP envelope) this
// package reports.
const (
	CodeServiceNotFound     = "ServiceNotFound"
	CodeNoMatchingRule      = "NoMatchingRuleFound"
	CodeInvalidParameter    = "InvalidParameter"
	CodeMongoDBError        = "MongoDBError"
	CodeSchemaValidation    = jsonschema.ErrorCode
	CodeReadSizeLimit       = "ReadSizeLimitExceeded"
	CodeInternalServerError = "InternalServerError"
)

// Sentinel errors, matched with errors.Is; every one arrives wrapped in an
// *Error that says which App Services code and HTTP status the edge sends.
var (
	// ErrServiceNotFound: the service name is not one of the app's data
	// sources.
	ErrServiceNotFound = errors.New("service not found")
	// ErrInvalidNamespace: a database or collection name MongoDB would
	// refuse, or the reserved system database.
	ErrInvalidNamespace = errors.New("invalid namespace")
	// ErrWriteConflict: a document kept changing under a write after
	// several retries.
	ErrWriteConflict = errors.New("write conflict: the document changed while it was being written; retry")
	// ErrClosed: the Access was closed.
	ErrClosed = errors.New("dataaccess: closed")
	// ErrSlowSubscriber: a watch subscriber fell too far behind and was
	// dropped so that it never slows writers.
	ErrSlowSubscriber = errors.New("change stream subscriber too slow: events were dropped")
	// ErrTooManyResults: a read would return more than the result cap.
	ErrTooManyResults = errors.New("read size limit exceeded")
)

// Error is a request failure in App Services terms. Code is the
// `error_code`, Status the HTTP status, Message the `error` text; Err is
// the cause for errors.Is/As.
type Error struct {
	Code    string
	Status  int
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func newError(code string, status int, err error, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...), Err: err}
}

// AsError converts any error from this package into an *Error: rules
// denials, schema failures and store errors get their App Services code
// (write denials keep the texts SDKs test for, §4.5); anything unknown is
// an InternalServerError whose cause must be logged, not sent.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var ve *jsonschema.ValidationError
	switch {
	case errors.As(err, &ve):
		return &Error{Code: CodeSchemaValidation, Status: http.StatusBadRequest, Message: err.Error(), Err: err}
	case errors.Is(err, rules.ErrNoRule):
		return &Error{Code: CodeNoMatchingRule, Status: http.StatusForbidden, Message: err.Error(), Err: err}
	case errors.Is(err, rules.ErrInsertNotPermitted), errors.Is(err, rules.ErrUpdateNotPermitted),
		errors.Is(err, rules.ErrDeleteNotPermitted), errors.Is(err, rules.ErrForbidden),
		errors.Is(err, rules.ErrMixedProjection):
		return &Error{Code: CodeMongoDBError, Status: http.StatusBadRequest, Message: err.Error(), Err: err}
	case errors.Is(err, ErrTooManyResults):
		return &Error{Code: CodeReadSizeLimit, Status: http.StatusBadRequest, Message: err.Error(), Err: err}
	case errors.Is(err, ErrWriteConflict), errors.Is(err, ErrSlowSubscriber):
		return &Error{Code: CodeMongoDBError, Status: http.StatusBadRequest, Message: err.Error(), Err: err}
	}
	var se *store.Error
	if errors.As(err, &se) {
		return &Error{Code: CodeMongoDBError, Status: http.StatusBadRequest, Message: se.Message, Err: err}
	}
	var be *store.BulkWriteError
	if errors.As(err, &be) {
		return &Error{Code: CodeMongoDBError, Status: http.StatusBadRequest, Message: be.Error(), Err: err}
	}
	return &Error{Code: CodeInternalServerError, Status: http.StatusInternalServerError, Message: "internal server error", Err: err}
}
