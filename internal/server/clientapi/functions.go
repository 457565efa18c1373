package clientapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/ejson"
	"github.com/atollhq/atoll/internal/server/apierror"
)

// FunctionCaller runs an app function that a client called by name
// (`user.callFunction`, a request without `service`). The functions runtime
// plugs in here; the client API only decodes the request, authenticates the
// caller and encodes the result.
//
// CallFunction returns the function's return value (any BSON value: a
// document, an array, a scalar or nil) or an error; an *apierror.Error is
// sent as is, anything else is logged and answered as an internal error.
type FunctionCaller interface {
	CallFunction(ctx context.Context, call FunctionCall) (any, error)
}

// FunctionCall is one client call of an app function.
type FunctionCall struct {
	// Caller is the verified bearer of the access token.
	Caller *auth.Caller
	// Name is the function name the client sent.
	Name string
	// Arguments are the decoded arguments (canonical EJSON on the wire).
	Arguments bson.A
	// Request is the HTTP request, for %%request (remote address, headers).
	Request *http.Request
}

// noFunctions is the FunctionCaller of an app without a functions runtime:
// every name is unknown.
type noFunctions struct{}

func (noFunctions) CallFunction(_ context.Context, call FunctionCall) (any, error) {
	return nil, functionNotFound(call.Name)
}

func functionNotFound(name string) *apierror.Error {
	return apierror.New(http.StatusNotFound, apierror.CodeFunctionNotFound,
		fmt.Sprintf("function not found: '%s'", truncate(name, 64)))
}

// Limits on a decoded function call, checked before anything runs. The body
// size bound (MaxBodyBytes) comes first; these stop shapes that are cheap to
// send and expensive to evaluate.
const (
	// MaxNesting is how deep documents and arrays may nest in a request.
	MaxNesting = 100
	// MaxArrayLen bounds every array in a request (an `$in` list, the
	// documents of insertMany, an array value).
	MaxArrayLen = 10000
)

// functionRequest is a decoded `functions/call` body.
type functionRequest struct {
	name    string
	args    bson.A
	service string
}

// callFunction is `POST .../functions/call` (client-protocol §4.1, §5): a
// body with `service` is a service call (the MongoDB data API of a data
// source), one without is an app function.
func (a *API) callFunction(w http.ResponseWriter, r *http.Request) {
	if !a.checkApp(w, r) {
		return
	}
	caller, aerr := a.accessCaller(r)
	if aerr != nil {
		apierror.Write(w, aerr)
		return
	}
	body, aerr := a.readBody(w, r, false)
	if aerr != nil {
		apierror.Write(w, aerr)
		return
	}
	req, aerr := parseFunctionRequest(body)
	if aerr != nil {
		apierror.Write(w, aerr)
		return
	}
	var (
		result any
		err    error
	)
	if req.service != "" {
		result, err = a.callService(r, caller, req)
	} else {
		result, err = a.functions.CallFunction(r.Context(), FunctionCall{
			Caller: caller, Name: req.name, Arguments: req.args, Request: r,
		})
	}
	if err != nil {
		a.failCall(w, r, err)
		return
	}
	buf := encodeBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // huge results do not pin memory in the pool
			buf.Reset()
			encodeBufs.Put(buf)
		}
	}()
	buf.Reset()
	b, err := ejson.Append(buf.AvailableBuffer(), result)
	if err != nil {
		a.log.Error("client API: encoding a function result", "route", r.Pattern, "error", err.Error())
		writeInternal(w)
		return
	}
	buf.Write(b) // b is buf's spare room unless it outgrew it
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// encodeBufs pools the buffers function and service results are encoded
// into.
var encodeBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// parseFunctionRequest checks the shape of a call: a string `name`, an
// array `arguments` (absent = none), an optional string `service`, and the
// nesting, duplicate-key and array-length limits over the whole body.
func parseFunctionRequest(body bson.D) (functionRequest, *apierror.Error) {
	if e := checkShape(body); e != nil {
		return functionRequest{}, e
	}
	var req functionRequest
	name, e := stringField(body, "name")
	if e != nil {
		return req, e
	}
	if name == "" {
		return req, apierror.New(http.StatusBadRequest, apierror.CodeMissingParameter,
			`expected parameter "name" in the request body`)
	}
	req.name = name
	if v, ok := field(body, "arguments"); ok && v != nil {
		args, ok := v.(bson.A)
		if !ok {
			return req, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
				`parameter "arguments" must be an array`)
		}
		req.args = args
	}
	if v, ok := field(body, "service"); ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return req, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
				`parameter "service" must be a string`)
		}
		req.service = s
	}
	for _, e := range body {
		switch e.Key {
		case "name", "arguments", "service":
		default:
			return req, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
				fmt.Sprintf("unexpected parameter %q in the request body", truncate(e.Key, 64)))
		}
	}
	return req, nil
}

var (
	errTooDeep = apierror.New(http.StatusBadRequest, apierror.CodeBadRequest,
		fmt.Sprintf("request nests documents and arrays deeper than %d levels", MaxNesting))
	errArrayTooLong = apierror.New(http.StatusBadRequest, apierror.CodeBadRequest,
		fmt.Sprintf("request holds an array longer than %d elements", MaxArrayLen))
)

// checkShape walks a decoded request: no document or array nested deeper
// than MaxNesting, no array longer than MaxArrayLen, and no key twice in
// one document (a JSON object with duplicate keys means different things
// to different parsers; a rule check reading the first and a store reading
// the last would be a bypass).
func checkShape(doc bson.D) *apierror.Error {
	return checkValue(doc, 0)
}

func checkValue(v any, depth int) *apierror.Error {
	switch x := v.(type) {
	case bson.D:
		if depth >= MaxNesting {
			return errTooDeep
		}
		if len(x) > 1 {
			seen := make(map[string]struct{}, len(x))
			for _, e := range x {
				if _, dup := seen[e.Key]; dup {
					return apierror.New(http.StatusBadRequest, apierror.CodeBadRequest,
						fmt.Sprintf("duplicate key %q in a request document", truncate(e.Key, 64)))
				}
				seen[e.Key] = struct{}{}
			}
		}
		for _, e := range x {
			if err := checkValue(e.Value, depth+1); err != nil {
				return err
			}
		}
	case bson.A:
		if depth >= MaxNesting {
			return errTooDeep
		}
		if len(x) > MaxArrayLen {
			return errArrayTooLong
		}
		for _, e := range x {
			if err := checkValue(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// marshalValue encodes any BSON value (document, array, scalar, nil) as
// canonical Extended JSON, so ObjectIds, int64s and dates round-trip exactly
// (client-protocol §0.3).
func marshalValue(v any) ([]byte, error) {
	return ejson.Append(nil, v)
}

// failCall answers a failed function or service call. Errors the data
// layer classifies become their envelope (serviceError); the rest is
// logged and answered as an internal error without detail.
func (a *API) failCall(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := apierror.As(err); ok {
		apierror.Write(w, e)
		return
	}
	if e := serviceError(err); e != nil {
		apierror.Write(w, e)
		return
	}
	if errors.Is(err, context.Canceled) {
		// The client went away; nobody reads the answer.
		return
	}
	a.log.Error("client API: call failed", "route", r.Pattern, "error", strings.TrimSpace(err.Error()))
	writeInternal(w)
}
