package mql

import (
	"errors"
	"fmt"
)

// Error is a MongoDB-style error: a numeric code, its code name and a
// readable message. Codes follow the MongoDB server's error_codes.yml so
// that clients written against MongoDB can switch on them.
type Error struct {
	Code     int
	CodeName string
	Message  string
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, &Error{Code: n}) match any *Error with code n.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code
}

// MongoDB error codes used by this package.
const (
	CodeBadValue                  = 2
	CodeFailedToParse             = 9
	CodeTypeMismatch              = 14
	CodeInvalidLength             = 16
	CodePathNotViable             = 28
	CodeConflictingUpdateOperator = 40
	CodeInvalidOptions            = 72
	CodeImmutableField            = 66
	CodeDollarPrefixedFieldName   = 52
	CodeEmptyFieldName            = 56
	CodeNoSuchKey                 = 4
	CodeOverflow                  = 15
	CodeBSONObjectTooLarge        = 10334
	CodeQueryFeatureNotAllowed    = 224 // unsupported/forbidden query operator
	CodeNotImplemented            = 238
	CodeInvalidPipelineOperator   = 168
	CodeUnrecognizedStage         = 40324 // Location40324: unrecognized pipeline stage name
)

// codeNames maps codes to MongoDB's code names for the ones with names.
var codeNames = map[int]string{
	CodeBadValue:                  "BadValue",
	CodeNoSuchKey:                 "NoSuchKey",
	CodeFailedToParse:             "FailedToParse",
	CodeTypeMismatch:              "TypeMismatch",
	CodeOverflow:                  "Overflow",
	CodeInvalidLength:             "InvalidLength",
	CodePathNotViable:             "PathNotViable",
	CodeConflictingUpdateOperator: "ConflictingUpdateOperators",
	CodeDollarPrefixedFieldName:   "DollarPrefixedFieldName",
	CodeEmptyFieldName:            "EmptyFieldName",
	CodeImmutableField:            "ImmutableField",
	CodeInvalidOptions:            "InvalidOptions",
	CodeInvalidPipelineOperator:   "InvalidPipelineOperator",
	CodeQueryFeatureNotAllowed:    "QueryFeatureNotAllowed",
	CodeNotImplemented:            "NotImplemented",
	CodeBSONObjectTooLarge:        "BSONObjectTooLarge",
}

// Errorf builds an *Error with the given code and a formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, CodeName: codeNames[code], Message: fmt.Sprintf(format, args...)}
}

// errUnsupported reports an operator MongoDB has but this package does not
// implement (or deliberately refuses, such as $where).
func errUnsupported(kind, name string) *Error {
	return Errorf(CodeNotImplemented, "unsupported %s: %s", kind, name)
}

// Limits shared by every part of the package.
const (
	// MaxDepth is the deepest nesting MongoDB accepts in documents and
	// query expressions.
	MaxDepth = 100
	// MaxDocumentSize is the largest BSON document MongoDB stores (16 MiB).
	MaxDocumentSize = 16 * 1024 * 1024
)
