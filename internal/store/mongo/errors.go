package mongo

import (
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/atollhq/atoll/internal/store"
)

// codeNames names the codes whose write errors arrive without a name.
var codeNames = map[int]string{
	store.CodeDuplicateKey:              "DuplicateKey",
	store.CodeDocumentValidationFailure: "DocumentValidationFailure",
	66:                                  "ImmutableField",
	2:                                   "BadValue",
	9:                                   "FailedToParse",
	14:                                  "TypeMismatch",
	28:                                  "PathNotViable",
	40:                                  "ConflictingUpdateOperators",
	52:                                  "DollarPrefixedFieldName",
	17419:                               "BSONObjectTooLarge",
}

func storeError(code int, name, msg string) *store.Error {
	if name == "" {
		name = codeNames[code]
	}
	return &store.Error{Code: code, CodeName: name, Message: msg}
}

// labeledError keeps the driver's error beside the store error when the
// server attached labels (TransientTransactionError,
// UnknownTransactionCommitResult): the driver's WithTransaction looks for
// them to decide whether to retry, and callers still find the *store.Error
// with errors.As.
type labeledError struct {
	err    *store.Error
	driver error
}

func (e *labeledError) Error() string   { return e.err.Error() }
func (e *labeledError) Unwrap() []error { return []error{e.err, e.driver} }

// mapError turns a driver error into the store's typed errors. Errors that
// are already the store's (or a context's) pass through unchanged.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var se *store.Error
	var sb *store.BulkWriteError
	if errors.As(err, &se) || errors.As(err, &sb) {
		return err
	}
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.ErrNoDocuments
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) {
		if len(bwe.WriteErrors) > 0 {
			out := &store.BulkWriteError{}
			for _, we := range bwe.WriteErrors {
				out.WriteErrors = append(out.WriteErrors, store.WriteError{Index: we.Index, Code: we.Code, Message: we.Message})
			}
			return out
		}
		if wce := bwe.WriteConcernError; wce != nil {
			return storeError(wce.Code, wce.Name, "write concern error: "+wce.Message)
		}
	}
	var we mongo.WriteException
	if errors.As(err, &we) {
		if len(we.WriteErrors) > 0 {
			w := we.WriteErrors[0]
			return labeled(storeError(w.Code, "", w.Message), err, we.Labels)
		}
		if wce := we.WriteConcernError; wce != nil {
			return labeled(storeError(wce.Code, wce.Name, "write concern error: "+wce.Message), err, we.Labels)
		}
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code != 0 {
		return labeled(storeError(int(ce.Code), ce.Name, ce.Message), err, ce.Labels)
	}
	if errors.Is(err, mongo.ErrClientDisconnected) {
		return fmt.Errorf("mongodb: the store is closed: %w", err)
	}
	return fmt.Errorf("mongodb: %w", err)
}

func labeled(e *store.Error, driver error, labels []string) error {
	if len(labels) == 0 {
		return e
	}
	return &labeledError{err: e, driver: driver}
}
