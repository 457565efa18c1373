package clientapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/server/apierror"
)

// profile answers GET /api/client/v2.0/auth/profile with the caller's
// user: realm-web requires `type`, `identities` (an array) and `data` (an
// object) and fails the login without them (client-protocol §2.4).
//
// SDKs call it after every login and often after, so the body is
// appended into a pooled buffer rather than built through reflection
// (docs/performance.md); the bytes are the same as encoding/json's.
func (a *API) profile(w http.ResponseWriter, r *http.Request) {
	c, e := a.accessCaller(r)
	if e != nil {
		apierror.Write(w, e)
		return
	}
	p, err := a.auth.Profile(r.Context(), c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	bp := profileBufs.Get().(*[]byte)
	defer profileBufs.Put(bp)
	body, err := appendProfile((*bp)[:0], p)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	*bp = body
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Cache-Control"] = []string{"no-store"}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// profileBufs recycles response buffers (w.Write copies the body).
var profileBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendProfile appends the profile as JSON: user_id, domain_id, type,
// data (relaxed Extended JSON, `{}` when empty) and identities, each with
// provider_data rendered the same way.
func appendProfile(b []byte, p *auth.Profile) ([]byte, error) {
	var err error
	b = append(b, `{"user_id":`...)
	b = appendString(b, p.UserID)
	b = append(b, `,"domain_id":`...)
	b = appendString(b, p.DomainID)
	b = append(b, `,"type":`...)
	b = appendString(b, p.Type)
	b = append(b, `,"data":`...)
	if b, err = appendObject(b, p.Data); err != nil {
		return nil, err
	}
	b = append(b, `,"identities":[`...)
	for i, id := range p.Identities {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, id.ID)
		b = append(b, `,"provider_type":`...)
		b = appendString(b, id.ProviderType)
		b = append(b, `,"provider_id":`...)
		b = appendString(b, id.ProviderID)
		b = append(b, `,"provider_data":`...)
		if b, err = appendObject(b, id.ProviderData); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

// appendString appends s as a JSON string. Ids and provider names are
// plain ASCII and are copied; anything else goes through encoding/json,
// so escaping (HTML characters, control characters, invalid UTF-8,
// U+2028/2029) stays exactly encoding/json's.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendObject appends a document as rawObject renders it, with <, >, &,
// U+2028 and U+2029 escaped as encoding/json escapes them in a
// json.RawMessage.
func appendObject(b []byte, d bson.D) ([]byte, error) {
	raw, err := rawObject(d)
	if err != nil {
		return nil, err
	}
	if !bytes.ContainsAny(raw, "<>&\u2028\u2029") {
		return append(b, raw...), nil
	}
	var esc bytes.Buffer
	json.HTMLEscape(&esc, raw)
	return append(b, esc.Bytes()...), nil
}

// rawObject renders a document as relaxed Extended JSON, `{}` when empty
// (realm-web refuses a profile whose data is not an object, and applies
// relaxed EJSON decoding to it).
func rawObject(d bson.D) (json.RawMessage, error) {
	if len(d) == 0 {
		return json.RawMessage("{}"), nil
	}
	b, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}
