package expr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// Query is a rule filter's `query` (spec §4.3): a MongoDB filter, in the
// full query language, whose values may be expansions ("%%user.id"),
// converters or %function calls, and whose query-level keys may be
// expansions ({"%%user.custom_data.isAdmin": true}, spec §5.6 step 4).
// Unlike an Expr it is not evaluated here: Expand substitutes the bound
// values and the result goes to the query engine as written, operators and
// all. Parse it once per config version; it is safe for concurrent use.
type Query struct {
	root   qdoc
	uses   Uses
	funcs  []string
	calls  []FunctionCall
	values []string
}

// qdoc is a query-level document: its guards are expansion keys decided at
// Expand time; its entries are copied with their values expanded.
type qdoc struct {
	guards []node
	keys   []string
	vals   []qval
}

// qval is a value inside a query: fixed, a computed value, or a container
// to rebuild.
type qval struct {
	kind  qkind
	lit   any
	val   value  // qComputed
	doc   *qdoc  // qQueryDoc, qDoc
	elems []qval // qArray
}

type qkind uint8

const (
	qLiteral  qkind = iota
	qComputed       // an expansion, converter or %function
	qQueryDoc       // a nested query document ($elemMatch, $and/$or/$nor elements)
	qDoc            // an operator object or literal document with computed parts
	qArray
)

// ErrMissingValue reports an expansion in a filter query that has no value
// for this request. MongoDB has no "missing" value to put in its place, and
// substituting null or dropping the clause would widen the filter in some
// contexts ($nor, $ne), so the request fails instead.
var ErrMissingValue = errors.New("expr: expansion in a filter query has no value")

// ParseQuery parses a filter query. It validates expansion names, the
// shape of converters and %function, and guard keys; MongoDB operators are
// left for the query engine to validate.
func ParseQuery(v any) (*Query, error) {
	cv, err := canonical(v, 0)
	if err != nil {
		return nil, &ParseError{Reason: err.Error(), Err: ErrSyntax}
	}
	d, ok := cv.(bson.D)
	if !ok {
		return nil, &ParseError{Reason: "a filter query must be an object, not a " + mql.TypeName(cv), Err: ErrSyntax}
	}
	p := &parser{fields: map[string]bool{}, funcs: map[string]string{}, values: map[string]bool{}}
	root, err := p.qdoc(d, "", 0)
	if err != nil {
		return nil, err
	}
	q := &Query{root: *root, uses: p.uses, values: sortedKeys(p.values)}
	q.funcs, q.calls = sortedCalls(p.funcs)
	return q, nil
}

// Uses reports which inputs Expand reads.
func (q *Query) Uses() Uses { return q.uses }

// ValueNames returns the app values the query reads, sorted.
func (q *Query) ValueNames() []string { return append([]string(nil), q.values...) }

// Functions returns the names of the functions the query calls, sorted.
func (q *Query) Functions() []string { return append([]string(nil), q.funcs...) }

// FunctionCalls is Functions with where each function is first called.
func (q *Query) FunctionCalls() []FunctionCall { return append([]FunctionCall(nil), q.calls...) }

func (p *parser) qdoc(d bson.D, path string, depth int) (*qdoc, error) {
	if depth > MaxDepth {
		return nil, fail(path, ErrSyntax, "query nesting exceeds the maximum depth of %d", MaxDepth)
	}
	out := &qdoc{}
	for _, e := range d {
		kp := child(path, e.Key)
		if strings.HasPrefix(e.Key, "%%") {
			r, err := p.ref(e.Key, kp, false)
			if err != nil {
				return nil, err
			}
			if r.src.documentDependent() {
				return nil, fail(kp, ErrSyntax, "a filter query key cannot read the document through %s; use the field name", e.Key)
			}
			n, err := p.cond(r, e.Value, kp, depth)
			if err != nil {
				return nil, err
			}
			if n.deps&UsesDocument != 0 {
				return nil, fail(kp, ErrSyntax, "a filter query guard cannot read the document")
			}
			out.guards = append(out.guards, n)
			continue
		}
		var v qval
		var err error
		switch e.Key {
		case "$and", "$or", "$nor":
			v, err = p.qlist(e.Value, kp, depth)
		default:
			v, err = p.qval(e.Value, kp, depth+1)
		}
		if err != nil {
			return nil, err
		}
		out.keys = append(out.keys, e.Key)
		out.vals = append(out.vals, v)
	}
	return out, nil
}

// qlist parses the array of query documents under $and/$or/$nor.
func (p *parser) qlist(v any, path string, depth int) (qval, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return p.qval(v, path, depth+1) // let the query engine report the error
	}
	out := qval{kind: qArray}
	for i, e := range arr {
		d, ok := e.(bson.D)
		if !ok {
			x, err := p.qval(e, index(path, i), depth+1)
			if err != nil {
				return qval{}, err
			}
			out.elems = append(out.elems, x)
			continue
		}
		sub, err := p.qdoc(d, index(path, i), depth+1)
		if err != nil {
			return qval{}, err
		}
		out.elems = append(out.elems, qval{kind: qQueryDoc, doc: sub})
	}
	return out, nil
}

func (p *parser) qval(v any, path string, depth int) (qval, error) {
	if depth > MaxDepth {
		return qval{}, fail(path, ErrSyntax, "query nesting exceeds the maximum depth of %d", MaxDepth)
	}
	switch x := v.(type) {
	case string:
		if !strings.HasPrefix(x, "%%") {
			return qval{lit: x}, nil
		}
	case bson.A:
		out := qval{kind: qArray}
		lit := true
		for i, e := range x {
			ev, err := p.qval(e, index(path, i), depth+1)
			if err != nil {
				return qval{}, err
			}
			lit = lit && ev.kind == qLiteral
			out.elems = append(out.elems, ev)
		}
		if lit {
			return qval{lit: x}, nil
		}
		return out, nil
	case bson.D:
		if len(x) > 0 {
			k := x[0].Key
			if k == "%function" || convNames[k] != 0 || ejsonWrappers[k] {
				break
			}
		}
		out := &qdoc{}
		lit := true
		for _, e := range x {
			kp := child(path, e.Key)
			var ev qval
			var err error
			if e.Key == "$elemMatch" {
				if d, ok := e.Value.(bson.D); ok && !isOperatorObject(d) {
					sub, err := p.qdoc(d, kp, depth+1)
					if err != nil {
						return qval{}, err
					}
					ev = qval{kind: qQueryDoc, doc: sub}
					lit = false
					out.keys = append(out.keys, e.Key)
					out.vals = append(out.vals, ev)
					continue
				}
			}
			ev, err = p.qval(e.Value, kp, depth+1)
			if err != nil {
				return qval{}, err
			}
			lit = lit && ev.kind == qLiteral
			out.keys = append(out.keys, e.Key)
			out.vals = append(out.vals, ev)
		}
		if lit {
			return qval{lit: x}, nil
		}
		return qval{kind: qDoc, doc: out}, nil
	default:
		return qval{lit: v}, nil
	}
	val, err := p.value(v, path, depth)
	if err != nil {
		return qval{}, err
	}
	if val.deps&UsesDocument != 0 {
		return qval{}, fail(path, ErrSyntax, "a filter query value cannot read the document")
	}
	if val.kind == valLiteral {
		return qval{lit: val.lit}, nil
	}
	return qval{kind: qComputed, val: val}, nil
}

// Expand produces the filter for env. A guard key that is false turns its
// query document into a filter matching nothing; a true one is dropped.
func (q *Query) Expand(ctx context.Context, env *Env) (bson.D, error) {
	if env == nil {
		env = emptyEnv
	}
	c := evalCtx{ctx: ctx, env: env}
	return c.expandDoc(&q.root)
}

var neverFilter = bson.D{{Key: "_id", Value: bson.D{{Key: "$exists", Value: false}}}}

func (c *evalCtx) expandDoc(d *qdoc) (bson.D, error) {
	for i := range d.guards {
		ok, err := c.node(&d.guards[i])
		if err != nil {
			return nil, err
		}
		if !ok {
			return neverFilter, nil
		}
	}
	out := make(bson.D, 0, len(d.keys))
	for i, k := range d.keys {
		v, err := c.expandVal(&d.vals[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out = append(out, bson.E{Key: k, Value: v})
	}
	return out, nil
}

func (c *evalCtx) expandVal(v *qval) (any, error) {
	switch v.kind {
	case qLiteral:
		return v.lit, nil
	case qComputed:
		x, err := c.value(&v.val)
		if err != nil {
			return nil, err
		}
		if mql.IsMissing(x) {
			return nil, fmt.Errorf("%w (%s)", ErrMissingValue, describeValue(&v.val))
		}
		return x, nil
	case qQueryDoc:
		return c.expandDoc(v.doc)
	case qDoc:
		out := make(bson.D, 0, len(v.doc.keys))
		for i, k := range v.doc.keys {
			x, err := c.expandVal(&v.doc.vals[i])
			if err != nil {
				return nil, err
			}
			out = append(out, bson.E{Key: k, Value: x})
		}
		return out, nil
	case qArray:
		out := make(bson.A, len(v.elems))
		for i := range v.elems {
			x, err := c.expandVal(&v.elems[i])
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	return nil, fmt.Errorf("expr: unknown query value kind %d", v.kind)
}

func describeValue(v *value) string {
	switch v.kind {
	case valRef:
		return v.ref.text
	case valFunction:
		return "%function " + v.name
	case valConvert:
		if len(v.kids) == 1 {
			return v.conv.String() + " of " + describeValue(&v.kids[0])
		}
	}
	return v.where
}
