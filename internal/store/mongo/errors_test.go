package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/atollhq/atoll/internal/store"
)

func TestMapError(t *testing.T) {
	dup := mongo.WriteException{WriteErrors: mongo.WriteErrors{{Index: 0, Code: 11000, Message: "E11000 duplicate key error collection: db.c index: _id_ dup key: { _id: 1 }"}}}
	cases := []struct {
		name string
		in   error
		code int
		msg  string
	}{
		{"command error", mongo.CommandError{Code: 26, Name: "NamespaceNotFound", Message: "ns not found"}, 26, "ns not found"},
		{"write exception", dup, 11000, "E11000 duplicate key error collection: db.c index: _id_ dup key: { _id: 1 }"},
		{"wrapped", fmt.Errorf("ctx: %w", mongo.CommandError{Code: 2, Message: "bad"}), 2, "bad"},
		{"write concern", mongo.WriteException{WriteConcernError: &mongo.WriteConcernError{Code: 64, Name: "WriteConcernFailed", Message: "timed out"}}, 64, "write concern error: timed out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := mapError(tc.in)
			var se *store.Error
			if !errors.As(err, &se) {
				t.Fatalf("mapError(%v) = %v (%T), want *store.Error", tc.in, err, err)
			}
			if se.Code != tc.code || se.Message != tc.msg {
				t.Errorf("mapError(%v) = {%d %q}, want {%d %q}", tc.in, se.Code, se.Message, tc.code, tc.msg)
			}
		})
	}
	if se := new(store.Error); errors.As(mapError(dup), &se) && se.CodeName != "DuplicateKey" {
		t.Errorf("duplicate key code name %q", se.CodeName)
	}
	if err := mapError(mongo.ErrNoDocuments); !errors.Is(err, store.ErrNoDocuments) {
		t.Errorf("ErrNoDocuments maps to %v", err)
	}
	if err := mapError(nil); err != nil {
		t.Errorf("mapError(nil) = %v", err)
	}
	bwe := mongo.BulkWriteException{WriteErrors: []mongo.BulkWriteError{{WriteError: mongo.WriteError{Index: 2, Code: 11000, Message: "dup"}}, {WriteError: mongo.WriteError{Index: 4, Code: 11000, Message: "dup"}}}}
	var sb *store.BulkWriteError
	if !errors.As(mapError(bwe), &sb) || len(sb.WriteErrors) != 2 || sb.WriteErrors[1].Index != 4 {
		t.Errorf("bulk write exception maps to %#v", mapError(bwe))
	}
	// Store errors pass through unchanged.
	orig := &store.Error{Code: 73, Message: "bad name"}
	if got := mapError(orig); got != error(orig) {
		t.Errorf("a store error was changed: %v", got)
	}
	// Labels stay visible to the driver (its transaction retry looks for
	// them), and the store error to the caller.
	labeled := mongo.CommandError{Code: 112, Name: "WriteConflict", Message: "conflict", Labels: []string{"TransientTransactionError"}}
	err := mapError(labeled)
	var le mongo.LabeledError
	if !errors.As(err, &le) || !le.HasErrorLabel("TransientTransactionError") {
		t.Errorf("the TransientTransactionError label is lost: %v", err)
	}
	if store.ErrorCode(err) != 112 || err.Error() != "conflict" {
		t.Errorf("labeled error: code %d, message %q", store.ErrorCode(err), err.Error())
	}
	// Anything else is wrapped, not hidden.
	if err := mapError(context.DeadlineExceeded); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("context error lost: %v", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"mongodb://u:secret@h:27017/db":    "mongodb://u:***@h:27017/db",
		"mongodb+srv://u:p@x@cluster/?a=b": "mongodb+srv://u:***@cluster/?a=b",
		"mongodb://h:27017/":               "mongodb://h:27017/",
		"garbage":                          "(uri)",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := Open(ctx, "notascheme://x"); err == nil {
		t.Errorf("a malformed URI was accepted")
	}
	// Nothing listens on port 1: Open gives up when ctx ends, and the
	// password does not appear in the error.
	octx, ocancel := context.WithTimeout(ctx, 2*time.Second)
	defer ocancel()
	_, err := Open(octx, "mongodb://u:hunter2@127.0.0.1:1/?serverSelectionTimeoutMS=1000")
	if err == nil {
		t.Fatalf("Open of a dead address succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the password leaked into the error: %v", err)
	}
}
