package apierror

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
		code int
	}{
		{New(http.StatusUnauthorized, CodeInvalidSession, "invalid session: access token expired"),
			`{"error":"invalid session: access token expired","error_code":"InvalidSession"}`, 401},
		{&Error{Status: 404, Code: CodeAppNotFound, Message: "x", Link: "http://l"},
			`{"error":"x","error_code":"AppNotFound","link":"http://l"}`, 404},
		{nil, `{"error":"internal server error","error_code":"InternalServerError"}`, 500},
		{New(400, CodeBadRequest, "quote \" and <tag>"), `{"error":"quote \" and \u003ctag\u003e","error_code":"BadRequest"}`, 400},
	} {
		rec := httptest.NewRecorder()
		Write(rec, tc.err)
		if rec.Code != tc.code || rec.Body.String() != tc.want {
			t.Errorf("Write(%v) = %d %s, want %d %s", tc.err, rec.Code, rec.Body, tc.code, tc.want)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q: realm-core parses the body only for exactly application/json", ct)
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Errorf("body is not JSON: %v", err)
		}
	}
}

func TestAs(t *testing.T) {
	e := New(403, CodePermissionDenied, "no")
	wrapped := fmt.Errorf("context: %w", e)
	got, ok := As(wrapped)
	if !ok || got != e {
		t.Fatalf("As(wrapped) = %v, %v", got, ok)
	}
	if _, ok := As(fmt.Errorf("plain")); ok {
		t.Fatal("As(plain error) found an *Error")
	}
	if e.Error() != "PermissionDenied: no" {
		t.Fatalf("Error() = %q", e.Error())
	}
}
