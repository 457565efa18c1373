package clientapi

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/ejson"
	"github.com/atollhq/atoll/internal/server/apierror"
)

// watch() change streams (client-protocol §4.2, §6): realm-web sends
// `GET .../functions/call?baas_request=<base64 of {name:"watch",
// arguments:[{database, collection, ids?, filter?}], service}>` and reads
// the response body as server-sent events. Each change event is one
// `data:` line of canonical Extended JSON; a failure after the stream
// opened is an `event: error` frame; comment lines keep idle connections
// open.

// DefaultWatchHeartbeat is how often an idle watch stream gets a comment
// line. Node's fetch aborts a body that is silent for 300 s; proxies are
// often stricter.
const DefaultWatchHeartbeat = 20 * time.Second

// watchWriteTimeout bounds one write to a watch client. A client that
// stops reading fills its socket buffer; the write then fails and the
// stream ends instead of holding the subscription forever.
const watchWriteTimeout = 10 * time.Second

// maxBaasRequest bounds the baas_request parameter (base64 text).
const maxBaasRequest = 64 << 10

// callFunctionStreaming is `GET .../functions/call?baas_request=...`.
func (a *API) callFunctionStreaming(w http.ResponseWriter, r *http.Request) {
	if !a.checkApp(w, r) {
		return
	}
	caller, tok, aerr := a.streamCaller(r)
	if aerr != nil {
		apierror.Write(w, aerr)
		return
	}
	call, aerr := decodeBaasRequest(r.URL.Query().Get("baas_request"))
	if aerr != nil {
		apierror.Write(w, aerr)
		return
	}
	if call.service == "" {
		// App functions return one value; streaming their output
		// (callFunctionStreaming) is not offered.
		apierror.Write(w, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
			"streaming calls are only offered for the watch operation of a MongoDB service"))
		return
	}
	if a.data == nil || !a.hasService(call.service) {
		apierror.Write(w, serviceNotFound(call.service))
		return
	}
	if call.name != "watch" {
		apierror.Write(w, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
			fmt.Sprintf("%s is not a streaming operation", truncate(call.name, 64))))
		return
	}
	args, opts, aerr := parseWatchArgs(call.args)
	if aerr != nil {
		apierror.Write(w, aerr)
		return
	}
	coll, err := a.collection(r, caller, call.service, "watch", args.database, args.collection)
	if err != nil {
		a.failCall(w, r, err)
		return
	}
	sub, err := coll.Watch(r.Context(), opts)
	if err != nil {
		a.failCall(w, r, err)
		return
	}
	defer sub.Close()
	a.stream(w, r, sub, func() *apierror.Error { return a.recheckCaller(r, caller, tok) })
}

// recheckCaller runs at every heartbeat: a stream outlives the request
// that opened it, so a logout, a deleted or a disabled user must end it.
// While the access token is valid it is verified again (the session must
// still exist); after it expired (realm-web does not reopen streams on
// refresh) the user record is checked instead.
func (a *API) recheckCaller(r *http.Request, caller *auth.Caller, tok string) *apierror.Error {
	if time.Now().Before(caller.ExpiresAt) {
		if _, err := a.auth.VerifyAccessToken(r.Context(), tok); err != nil {
			return a.authError(r, err)
		}
		return nil
	}
	u, err := a.auth.User(r.Context(), caller.UserID)
	if err != nil {
		return a.authError(r, err)
	}
	if u.Disabled {
		return apierror.New(http.StatusUnauthorized, apierror.CodeInvalidSession, "invalid session: user disabled")
	}
	return nil
}

// streamCaller verifies the access token of a streaming request: the
// Authorization header (realm-web) or the baas_at query parameter (other
// SDKs and EventSource, which cannot set headers).
func (a *API) streamCaller(r *http.Request) (*auth.Caller, string, *apierror.Error) {
	tok, ok := bearer(r)
	if !ok {
		tok = r.URL.Query().Get("baas_at")
	}
	if tok == "" {
		return nil, "", errMissingAuth
	}
	c, err := a.auth.VerifyAccessToken(r.Context(), tok)
	if err != nil {
		return nil, "", a.authError(r, err)
	}
	return c, tok, nil
}

// decodeBaasRequest decodes the base64 JSON call of a streaming request,
// with the same shape checks as a POSTed call.
func decodeBaasRequest(s string) (functionRequest, *apierror.Error) {
	if s == "" {
		return functionRequest{}, apierror.New(http.StatusBadRequest, apierror.CodeMissingParameter,
			"expected query parameter baas_request")
	}
	if len(s) > maxBaasRequest {
		return functionRequest{}, apierror.New(http.StatusRequestEntityTooLarge, apierror.CodeLimitExceeded,
			"baas_request is too long")
	}
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return functionRequest{}, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
			"baas_request is not base64")
	}
	doc, err := ejson.ParseDocument(raw)
	if err != nil {
		return functionRequest{}, apierror.New(http.StatusBadRequest, apierror.CodeBadRequest,
			"baas_request is not a valid Extended JSON object")
	}
	return parseFunctionRequest(doc)
}

// parseWatchArgs decodes watch's one argument document.
func parseWatchArgs(args bson.A) (*serviceArgs, dataaccess.WatchOptions, *apierror.Error) {
	var opts dataaccess.WatchOptions
	if len(args) != 1 {
		return nil, opts, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
			"watch takes exactly one argument document")
	}
	doc, ok := args[0].(bson.D)
	if !ok {
		return nil, opts, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
			"watch takes one argument document")
	}
	out := &serviceArgs{}
	for _, el := range doc {
		switch el.Key {
		case "database", "collection":
			s, ok := el.Value.(string)
			if !ok || s == "" {
				return nil, opts, invalidParam(el.Key, "must be a non-empty string")
			}
			if el.Key == "database" {
				out.database = s
			} else {
				out.collection = s
			}
		case "ids":
			if el.Value == nil {
				continue
			}
			ids, ok := el.Value.(bson.A)
			if !ok {
				return nil, opts, invalidParam("ids", "must be an array")
			}
			opts.IDs = ids
		case "filter":
			d, e := optDoc("filter", el.Value)
			if e != nil {
				return nil, opts, e
			}
			opts.Filter = d
		default:
			return nil, opts, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
				fmt.Sprintf("watch does not take argument %q", truncate(el.Key, 64)))
		}
	}
	switch {
	case out.database == "":
		return nil, opts, missingParam("database")
	case out.collection == "":
		return nil, opts, missingParam("collection")
	}
	return out, opts, nil
}

// stream writes sub's events as server-sent events until the client goes
// away, the server shuts down or the subscription ends.
func (a *API) stream(w http.ResponseWriter, r *http.Request, sub *dataaccess.Subscription, recheck func() *apierror.Error) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // no proxy buffering of the stream
	// Headers go out now, so the client's fetch resolves while the stream
	// is already subscribed.
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(watchWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte(":\n\n")) {
		return
	}
	heartbeat := time.NewTicker(a.watchHeartbeat)
	defer heartbeat.Stop()
	var buf, data bytes.Buffer
	for {
		select {
		case <-r.Context().Done():
			return
		case <-a.done:
			return
		case <-heartbeat.C:
			if e := recheck(); e != nil {
				write(errorFrame(e.Code, e.Message))
				return
			}
			if !write([]byte(":\n\n")) {
				return
			}
		case ev, ok := <-sub.Events():
			if !ok {
				a.endStream(write, sub.Err())
				return
			}
			data.Reset()
			b, err := ejson.Append(data.AvailableBuffer(), ev)
			if err != nil {
				a.log.Error("client API: encoding a change event", "error", err.Error())
				write(errorFrame(apierror.Internal.Code, apierror.Internal.Message))
				return
			}
			data.Write(b)
			buf.Reset()
			buf.WriteString("data: ")
			writeSSEData(&buf, data.Bytes())
			buf.WriteString("\n\n")
			if !write(buf.Bytes()) {
				return
			}
		}
	}
}

// endStream reports why a subscription ended: nothing for a normal close
// or a server shutdown (the client's iteration just ends), an error event
// otherwise.
func (a *API) endStream(write func([]byte) bool, err error) {
	if err == nil || errors.Is(err, dataaccess.ErrClosed) {
		return
	}
	if e := serviceError(err); e != nil {
		write(errorFrame(e.Code, e.Message))
		return
	}
	a.log.Error("client API: watch stream failed", "error", err.Error())
	write(errorFrame(apierror.Internal.Code, apierror.Internal.Message))
}

// errorFrame is an `event: error` frame realm-web turns into a WatchError
// with this code and message.
func errorFrame(code, message string) []byte {
	body, _ := marshalValue(bson.D{{Key: "error", Value: message}, {Key: "error_code", Value: code}})
	var buf bytes.Buffer
	buf.WriteString("event: error\ndata: ")
	writeSSEData(&buf, body)
	buf.WriteString("\n\n")
	return buf.Bytes()
}

// writeSSEData escapes data the way realm-web's stream parser unescapes
// it: `%` as %25, LF as %0A, CR as %0D (compact JSON has no raw line
// breaks, but the escape keeps one data line per event whatever comes).
func writeSSEData(buf *bytes.Buffer, data []byte) {
	if !bytes.ContainsAny(data, "%\n\r") {
		buf.Write(data)
		return
	}
	buf.WriteString(strings.NewReplacer("%", "%25", "\n", "%0A", "\r", "%0D").Replace(string(data)))
}
