package expr

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// FunctionCaller runs an app function for %function. The functions package
// implements it; expr only needs a name, arguments and a result so that it
// stays a leaf. Arguments are canonical BSON values (bson.D, bson.A and
// driver scalars); the result is converted the same way before use.
type FunctionCaller interface {
	CallFunction(ctx context.Context, name string, args []any) (any, error)
}

// MaxCallDepth bounds how deeply %function calls may nest within one
// request. A cycle that the configuration shows (a can_evaluate reaching
// its own function through %function) is refused at load time (see
// rules.CheckFunctions); one that only arises at run time (a function's
// JavaScript querying a collection whose rules call that function again,
// or context.functions.execute recursion) is stopped here with
// ErrCallDepth instead of exhausting the stack or the function runtime's
// slots. The depth travels in the context: a FunctionCaller must pass the
// context it receives on to whatever it runs, and a function runtime that
// lets functions call functions should count those calls on the same
// counter (CallDepth, WithCallDepth).
const MaxCallDepth = 32

// ErrCallDepth: %function calls nested more than MaxCallDepth deep.
var ErrCallDepth = errors.New("expr: %function calls nested too deeply (a cycle through functions?)")

type callDepthKey struct{}

// CallDepth reports how many function calls enclose ctx, as counted by
// %function (and by WithCallDepth).
func CallDepth(ctx context.Context) int {
	if ctx == nil {
		return 0
	}
	n, _ := ctx.Value(callDepthKey{}).(int)
	return n
}

// WithCallDepth returns ctx marked as running inside n nested function
// calls. %function uses it for every call it makes; a function runtime
// uses it for calls between functions so that both kinds of nesting share
// one bound.
func WithCallDepth(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, callDepthKey{}, n)
}

// User is what %%user expands to. Data and CustomData may be nil; they then
// expand to an empty document, so that %%user.custom_data.x is merely
// missing for a user without custom data rather than an error.
type User struct {
	ID         string
	Type       string // "normal", "server" (API keys) or "edge"
	Data       bson.D // provider metadata: email, name, ...
	CustomData bson.D
	Identities []Identity
}

// Identity is one element of %%user.identities.
type Identity struct {
	ID           string
	ProviderType string
}

// Request is what %%request expands to. Empty strings are left out of the
// expansion, so that a header the client did not send reads as missing
// rather than as "".
type Request struct {
	HTTPMethod      string
	HTTPReferrer    string
	HTTPUserAgent   string
	RawQueryString  string
	RemoteIPAddress string
	RequestHeaders  map[string][]string
	Service         string
	Action          string
	WebhookURL      string
}

// Environment is what %%environment expands to: the app's environment tag
// ("" when no environment is set) and that environment's values.
type Environment struct {
	Tag    string
	Values map[string]any
}

// Binding holds the per-request inputs of an expression. A nil pointer or
// nil value means "not available": the expansion is then missing.
// Partition and Args are nil when unbound; bind BSON null as bson.Null{}.
type Binding struct {
	User        *User
	Values      map[string]any // %%values.<name>
	Environment Environment
	Request     *Request
	Partition   any
	Args        any
	Functions   FunctionCaller
}

// Env is a Binding prepared once per request for the evaluator. Binding
// is on every request's path, so it converts only what it must: the
// user's id and type are boxed once, data and custom_data are checked and
// made canonical (without a copy when they already are, the common case),
// and the expansions few rules read whole (%%user itself, its identities,
// %%values, %%environment, %%request) are validated now and built on first
// use. An Env is immutable in meaning and safe for concurrent use; the
// maps, documents and slices of the Binding are retained, not copied, and
// must not be modified while the Env is in use.
type Env struct {
	hasUser        bool
	userID         any    // string, boxed once: nearly every ruleset reads it
	userType       string // boxed on first use: few rulesets read it
	userData       bson.D // canonical; nil reads as {}
	userCustomData bson.D
	identities     []Identity
	valueMap       map[string]any // validated; converted on first use
	envTag         string
	envValueMap    map[string]any
	request        *Request
	partition      any
	args           any
	functions      FunctionCaller

	user, userTypeBox, values, environment, requestDoc lazyValue
}

// lazyValue is an expansion built on first use. Concurrent first uses may
// both build it; the values are equal and the first stored wins.
type lazyValue struct{ p atomic.Pointer[any] }

func (l *lazyValue) get(env *Env, build func(*Env) any) any {
	if p := l.p.Load(); p != nil {
		return *p
	}
	v := build(env)
	l.p.CompareAndSwap(nil, &v)
	return *l.p.Load()
}

// ErrBinding reports a Binding value that is not representable as BSON.
var ErrBinding = errors.New("expr: invalid binding")

// Bind prepares b for evaluation. It fails only when a value has a Go type
// that has no BSON form.
func Bind(b Binding) (*Env, error) { return BindUser(b.User, b) }

// BindUser is Bind with the user passed on its own (b.User is ignored). A
// caller that builds the User just to bind it keeps it on its stack this
// way: binding retains what the User points to (documents, identities),
// never the User itself, but escape analysis cannot see that through a
// Binding.
func BindUser(u *User, b Binding) (*Env, error) {
	env := &Env{
		partition: mql.Missing, args: mql.Missing, functions: b.Functions,
		envTag: b.Environment.Tag, request: b.Request,
	}
	if u != nil {
		var err error
		if env.userData, err = canonicalDoc(u.Data); err != nil {
			return nil, fmt.Errorf("%w: user data: %w", ErrBinding, err)
		}
		if env.userCustomData, err = canonicalDoc(u.CustomData); err != nil {
			return nil, fmt.Errorf("%w: user custom_data: %w", ErrBinding, err)
		}
		env.hasUser = true
		env.userID, env.userType = u.ID, u.Type
		env.identities = u.Identities
	}
	if b.Values != nil {
		if !validMap(b.Values, 0) {
			_, err := sortedDoc(b.Values)
			return nil, fmt.Errorf("%w: values: %w", ErrBinding, err)
		}
		env.valueMap = b.Values
	}
	if b.Environment.Values != nil {
		if !validMap(b.Environment.Values, 0) {
			_, err := sortedDoc(b.Environment.Values)
			return nil, fmt.Errorf("%w: environment values: %w", ErrBinding, err)
		}
		env.envValueMap = b.Environment.Values
	}
	var err error
	if b.Partition != nil {
		if env.partition, err = canonical(b.Partition, 0); err != nil {
			return nil, fmt.Errorf("%w: partition: %w", ErrBinding, err)
		}
	}
	if b.Args != nil {
		if env.args, err = canonical(b.Args, 0); err != nil {
			return nil, fmt.Errorf("%w: args: %w", ErrBinding, err)
		}
	}
	return env, nil
}

// emptyEnv is used when Eval or Compile get a nil *Env: every per-request
// expansion is missing.
var emptyEnv = &Env{partition: mql.Missing, args: mql.Missing}

// userSubject resolves %%user and the paths under it. The fields rules
// read on every document (id, type, fields of data and custom_data) come
// straight from the Env; the whole user document is built only for the
// rare expression that reads %%user itself or its identities.
func (env *Env) userSubject(path []string) subject {
	if !env.hasUser {
		return subject{v: mql.Missing, path: path}
	}
	if len(path) > 0 {
		switch path[0] {
		case "id":
			return subject{v: env.userID, path: path[1:]}
		case "type":
			return subject{v: env.userTypeBox.get(env, buildUserType), path: path[1:]}
		case "data":
			if len(path) > 1 {
				return subject{doc: env.userData, isDoc: true, path: path[1:]}
			}
		case "custom_data":
			if len(path) > 1 {
				return subject{doc: env.userCustomData, isDoc: true, path: path[1:]}
			}
		}
	}
	return subject{v: env.user.get(env, buildUser), path: path}
}

func buildUserType(env *Env) any { return env.userType }

func buildUser(env *Env) any {
	data, custom := env.userData, env.userCustomData
	if data == nil {
		data = bson.D{}
	}
	if custom == nil {
		custom = bson.D{}
	}
	ids := make(bson.A, len(env.identities))
	for i, id := range env.identities {
		// Both spellings of the provider key: the docs say providerType,
		// user profiles elsewhere say provider_type (spec §11 q15).
		ids[i] = bson.D{{Key: "id", Value: id.ID}, {Key: "providerType", Value: id.ProviderType}, {Key: "provider_type", Value: id.ProviderType}}
	}
	return bson.D{
		{Key: "id", Value: env.userID},
		{Key: "type", Value: env.userType},
		{Key: "data", Value: data},
		{Key: "custom_data", Value: custom},
		{Key: "identities", Value: ids},
	}
}

func buildValues(env *Env) any { return convertedMap(env.valueMap) }

func buildEnvironment(env *Env) any {
	return bson.D{{Key: "tag", Value: env.envTag}, {Key: "values", Value: convertedMap(env.envValueMap)}}
}

func buildRequest(env *Env) any { return requestDoc(env.request) }

// convertedMap is sortedDoc for a map Bind has validated.
func convertedMap(m map[string]any) bson.D {
	if m == nil {
		return bson.D{}
	}
	d, err := sortedDoc(m)
	if err != nil {
		return bson.D{} // unreachable: Bind validated m
	}
	return d.(bson.D)
}

// canonicalDoc is canonical for a document, without boxing it.
func canonicalDoc(d bson.D) (bson.D, error) {
	if d == nil {
		return nil, nil
	}
	out, _, err := canonicalD(d, 0)
	return out, err
}

// validMap reports whether sortedDoc(m) would succeed, without converting.
func validMap(m map[string]any, depth int) bool {
	for _, v := range m {
		if !valid(v, depth+1) {
			return false
		}
	}
	return true
}

// valid reports whether canonical(v, depth) would succeed, without
// allocating; Bind uses it to check the expansions it converts lazily.
func valid(v any, depth int) bool {
	if depth > MaxDepth {
		return false
	}
	switch x := v.(type) {
	case nil, string, bool, float64, int32, int64, bson.ObjectID, bson.DateTime,
		bson.Decimal128, bson.Binary, bson.Timestamp, bson.Regex, bson.MinKey,
		bson.MaxKey, bson.Undefined, bson.Symbol, bson.JavaScript, bson.DBPointer,
		bson.CodeWithScope, bson.Null, int, int8, int16, uint8, uint16, uint32,
		float32, time.Time, []string:
		return true
	case uint:
		return uint64(x) <= math.MaxInt64
	case uint64:
		return x <= math.MaxInt64
	case bson.D:
		for _, e := range x {
			if !valid(e.Value, depth+1) {
				return false
			}
		}
		return true
	case bson.M:
		return validMap(x, depth)
	case map[string]any:
		return validMap(x, depth)
	case bson.A:
		return validSlice(x, depth)
	case []any:
		return validSlice(x, depth)
	case []bson.D:
		for _, d := range x {
			if !valid(d, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

func validSlice(x []any, depth int) bool {
	for _, e := range x {
		if !valid(e, depth+1) {
			return false
		}
	}
	return true
}

func sortedDoc(m map[string]any) (any, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(bson.D, len(keys))
	for i, k := range keys {
		v, err := canonical(m[k], 1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[i] = bson.E{Key: k, Value: v}
	}
	return out, nil
}

func requestDoc(r *Request) any {
	if r == nil {
		return mql.Missing
	}
	var d bson.D
	add := func(k, v string) {
		if v != "" {
			d = append(d, bson.E{Key: k, Value: v})
		}
	}
	add("httpMethod", r.HTTPMethod)
	add("httpReferrer", r.HTTPReferrer)
	add("httpUserAgent", r.HTTPUserAgent)
	add("rawQueryString", r.RawQueryString)
	add("remoteIPAddress", r.RemoteIPAddress)
	if r.RequestHeaders != nil {
		names := make([]string, 0, len(r.RequestHeaders))
		for k := range r.RequestHeaders {
			names = append(names, k)
		}
		sort.Strings(names)
		h := make(bson.D, len(names))
		for i, k := range names {
			vals := make(bson.A, len(r.RequestHeaders[k]))
			for j, v := range r.RequestHeaders[k] {
				vals[j] = v
			}
			h[i] = bson.E{Key: k, Value: vals}
		}
		d = append(d, bson.E{Key: "requestHeaders", Value: h})
	}
	add("service", r.Service)
	add("action", r.Action)
	add("webhookUrl", r.WebhookURL)
	if d == nil {
		d = bson.D{}
	}
	return d
}
