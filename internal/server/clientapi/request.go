package clientapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/ejson"
	"github.com/atollhq/atoll/internal/server/apierror"
)

// DefaultMaxBodyBytes bounds request bodies. A custom JWT may be up to
// 1,000,000 characters (App Services' limit), so the bound leaves room for
// that plus the device options around it.
const DefaultMaxBodyBytes = 2 << 20

// readBody reads a request body that must be a single Extended JSON object
// (canonical or relaxed, as realm-web sends canonical). An empty body is an
// empty document when allowEmpty is set. Nothing has been done with the
// request when this fails.
func (a *API) readBody(w http.ResponseWriter, r *http.Request, allowEmpty bool) (bson.D, *apierror.Error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, apierror.New(http.StatusRequestEntityTooLarge, apierror.CodeLimitExceeded,
				fmt.Sprintf("request body exceeds %d bytes", a.maxBody))
		}
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "could not read request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return bson.D{}, nil
		}
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "request body is required")
	}
	if e := checkJSONContentType(r); e != nil {
		return nil, e
	}
	doc, err := ejson.ParseDocument(body)
	if err != nil {
		// The decoder's message can quote the input; keep the answer generic.
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeBadRequest,
			"request body is not a valid Extended JSON object")
	}
	return doc, nil
}

// checkJSONContentType accepts application/json and application/ejson (any
// parameters) for bodies; anything else would be a form post or a text
// body that happens to parse, which App Services clients never send.
func checkJSONContentType(r *http.Request) *apierror.Error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || mt == "application/ejson") {
		return nil
	}
	return apierror.New(http.StatusUnsupportedMediaType, apierror.CodeBadRequest,
		"request body must be sent as application/json")
}

// drainEmpty refuses a body on routes that take none (session, profile,
// delete, API key reads), so a client error does not pass unnoticed. Up to
// a small amount of whitespace, or an empty JSON object, is tolerated.
func (a *API) drainEmpty(w http.ResponseWriter, r *http.Request) *apierror.Error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1024))
	if err != nil {
		return apierror.New(http.StatusRequestEntityTooLarge, apierror.CodeLimitExceeded, "this request takes no body")
	}
	s := strings.TrimSpace(string(body))
	if s == "" || s == "{}" || s == "null" {
		return nil
	}
	return apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "this request takes no body")
}

// field looks up a top-level key.
func field(doc bson.D, key string) (any, bool) {
	for _, e := range doc {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

// stringField returns a required string field, or the App Services error for
// a missing or mistyped one.
func stringField(doc bson.D, key string) (string, *apierror.Error) {
	v, ok := field(doc, key)
	if !ok || v == nil {
		return "", apierror.New(http.StatusBadRequest, apierror.CodeMissingParameter,
			fmt.Sprintf("expected parameter %q in the request body", key))
	}
	s, ok := v.(string)
	if !ok {
		return "", apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
			fmt.Sprintf("parameter %q must be a string", key))
	}
	return s, nil
}
