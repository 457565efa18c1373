package store

import (
	"errors"

	"github.com/atollhq/atoll/internal/mql"
)

// Error is a MongoDB-style error with a numeric code; it is the same type
// as package mql's, so one errors.As finds the code wherever it arose.
type Error = mql.Error

// ErrNoDocuments is returned by FindOne and the FindOneAnd* methods when
// nothing matched.
var ErrNoDocuments = errors.New("store: no documents in result")

// MongoDB error codes the stores report (besides those of package mql).
const (
	CodeIllegalOperation          = 20
	CodeNamespaceNotFound         = 26
	CodeIndexNotFound             = 27
	CodeNamespaceExists           = 48
	CodeInvalidNamespace          = 73
	CodeIndexOptionsConflict      = 85
	CodeIndexKeySpecsConflict     = 86
	CodeCommandNotSupported       = 115
	CodeDocumentValidationFailure = 121
	CodeInvalidIndexSpecification = 197
	CodeNoSuchTransaction         = 251
	CodeChangeStreamHistoryLost   = 286
	CodeInvalidResumeToken        = 260
	CodeDuplicateKey              = 11000
	CodeChangeStreamNotSupported  = 40573
)

// ErrorCode returns the MongoDB code carried by err, or 0.
func ErrorCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var b *BulkWriteError
	if errors.As(err, &b) && len(b.WriteErrors) > 0 {
		return b.WriteErrors[0].Code
	}
	return 0
}

// IsDuplicateKey reports whether err is a unique-index violation.
func IsDuplicateKey(err error) bool { return ErrorCode(err) == CodeDuplicateKey }

// WriteError is the failure of one document of a bulk write.
type WriteError struct {
	Index   int // position in the input
	Code    int
	Message string
}

// BulkWriteError reports the failed documents of an InsertMany; the
// result that accompanies it lists what was inserted.
type BulkWriteError struct {
	WriteErrors []WriteError
}

func (e *BulkWriteError) Error() string {
	if len(e.WriteErrors) == 0 {
		return "bulk write error"
	}
	msg := e.WriteErrors[0].Message
	if n := len(e.WriteErrors); n > 1 {
		return msg + " (and more write errors)"
	}
	return msg
}
