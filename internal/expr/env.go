package expr

import (
	"context"
	"errors"
	"fmt"
	"sort"

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

// Env is a Binding converted once into the BSON shapes the evaluator reads,
// so that evaluating a document never converts or allocates per-request
// data. An Env is immutable and safe for concurrent use.
type Env struct {
	user        any
	values      any
	environment any
	request     any
	partition   any
	args        any
	functions   FunctionCaller
}

// ErrBinding reports a Binding value that is not representable as BSON.
var ErrBinding = errors.New("expr: invalid binding")

// Bind converts b into an Env. It fails only when a value has a Go type
// that has no BSON form.
func Bind(b Binding) (*Env, error) {
	env := &Env{
		user: mql.Missing, values: bson.D{}, request: mql.Missing,
		partition: mql.Missing, args: mql.Missing, functions: b.Functions,
	}
	var err error
	if b.User != nil {
		if env.user, err = userDoc(b.User); err != nil {
			return nil, err
		}
	}
	if b.Values != nil {
		if env.values, err = sortedDoc(b.Values); err != nil {
			return nil, fmt.Errorf("%w: values: %w", ErrBinding, err)
		}
	}
	envValues := any(bson.D{})
	if b.Environment.Values != nil {
		if envValues, err = sortedDoc(b.Environment.Values); err != nil {
			return nil, fmt.Errorf("%w: environment values: %w", ErrBinding, err)
		}
	}
	env.environment = bson.D{{Key: "tag", Value: b.Environment.Tag}, {Key: "values", Value: envValues}}
	if b.Request != nil {
		env.request = requestDoc(b.Request)
	}
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
var emptyEnv = &Env{
	user: mql.Missing, values: bson.D{}, request: mql.Missing, partition: mql.Missing, args: mql.Missing,
	environment: bson.D{{Key: "tag", Value: ""}, {Key: "values", Value: bson.D{}}},
}

func userDoc(u *User) (any, error) {
	data, err := docOrEmpty(u.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: user data: %w", ErrBinding, err)
	}
	custom, err := docOrEmpty(u.CustomData)
	if err != nil {
		return nil, fmt.Errorf("%w: user custom_data: %w", ErrBinding, err)
	}
	ids := make(bson.A, len(u.Identities))
	for i, id := range u.Identities {
		// Both spellings of the provider key: the docs say providerType,
		// user profiles elsewhere say provider_type (spec §11 q15).
		ids[i] = bson.D{{Key: "id", Value: id.ID}, {Key: "providerType", Value: id.ProviderType}, {Key: "provider_type", Value: id.ProviderType}}
	}
	return bson.D{
		{Key: "id", Value: u.ID},
		{Key: "type", Value: u.Type},
		{Key: "data", Value: data},
		{Key: "custom_data", Value: custom},
		{Key: "identities", Value: ids},
	}, nil
}

func docOrEmpty(d bson.D) (any, error) {
	if d == nil {
		return bson.D{}, nil
	}
	return canonical(d, 0)
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

func requestDoc(r *Request) bson.D {
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
