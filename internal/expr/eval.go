package expr

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// Input is the per-document part of an evaluation: which documents
// %%root, %%prevRoot, %%this and %%prev denote. Build it with ReadOf,
// InsertOf, UpdateOf or NoDocument; the zero value is NoDocument.
type Input struct {
	root, prevRoot       bson.D
	hasRoot, hasPrevRoot bool
	this, prev           any
	hasThis, hasPrev     bool
}

// NoDocument is the input for expressions evaluated before any document is
// read (filter apply_when, sync roles): every document expansion is
// missing.
var NoDocument = Input{}

// ReadOf is the input for reading (or deleting) a stored document. Both
// %%root and %%prevRoot denote it (spec §4.4), which is what makes an
// "insert-only" write rule {"%%prevRoot": {"%exists": false}} deny reads.
func ReadOf(doc bson.D) Input {
	return Input{root: doc, prevRoot: doc, hasRoot: true, hasPrevRoot: true}
}

// InsertOf is the input for inserting doc: %%prevRoot is missing.
func InsertOf(doc bson.D) Input { return Input{root: doc, hasRoot: true} }

// UpdateOf is the input for an update or replace: %%root is the
// post-image, %%prevRoot the pre-image.
func UpdateOf(pre, post bson.D) Input {
	return Input{root: post, prevRoot: pre, hasRoot: true, hasPrevRoot: true}
}

// WithField sets %%this and %%prev for a field-level rule; pass mql.Missing
// for a value that does not exist (the field before an insert).
func (in Input) WithField(this, prev any) Input {
	in.this, in.hasThis = this, !mql.IsMissing(this)
	in.prev, in.hasPrev = prev, !mql.IsMissing(prev)
	return in
}

// Errors that evaluation can report. A failed evaluation denies: callers
// must treat an error like false (and may log it).
var (
	ErrFunction         = errors.New("expr: %function failed")
	ErrNoFunctionCaller = errors.New("expr: %function used but no function caller is bound")
	ErrConvert          = errors.New("expr: conversion failed")
)

// evalCtx carries the inputs down the recursion. It lives on the caller's
// stack; nothing retains it.
type evalCtx struct {
	ctx  context.Context
	env  *Env
	in   Input
	elem any // the array element inside an $elemMatch query
}

// Eval decides the expression for one document. It reads env (bound once
// per request) and in, and allocates nothing on the common paths
// (equality, $in, $exists, comparisons against fields and expansions).
// An error (a failing %function, a bad conversion) means "deny".
func (e *Expr) Eval(ctx context.Context, env *Env, in Input) (bool, error) {
	if env == nil {
		env = emptyEnv
	}
	c := evalCtx{ctx: ctx, env: env, in: in}
	return c.node(&e.root)
}

func (c *evalCtx) node(n *node) (bool, error) {
	switch n.kind {
	case nodeConst:
		return n.val, nil
	case nodeAnd:
		for i := range n.kids {
			if ok, err := c.node(&n.kids[i]); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case nodeOr:
		for i := range n.kids {
			if ok, err := c.node(&n.kids[i]); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case nodeNor:
		for i := range n.kids {
			if ok, err := c.node(&n.kids[i]); err != nil || ok {
				return false, err
			}
		}
		return true, nil
	case nodeNot:
		ok, err := c.node(&n.kids[0])
		return !ok && err == nil, err
	case nodeCond:
		s := c.subject(&n.lhs)
		return c.allTests(&s, n.tests)
	}
	return false, fmt.Errorf("expr: unknown node kind %d", n.kind)
}

// subject is the left-hand side of a key: a starting value and the path to
// walk from it. A document start is kept as bson.D so that walking %%root
// does not box it.
type subject struct {
	v     any
	doc   bson.D
	isDoc bool
	path  []string
	// noExpand: the value is an $elemMatch element, matched as itself and
	// not through its own elements.
	noExpand bool
}

func (c *evalCtx) subject(r *ref) subject {
	switch r.src {
	case srcConst:
		return subject{v: r.konst}
	case srcRoot:
		if c.in.hasRoot {
			return subject{doc: c.in.root, isDoc: true, path: r.path}
		}
		return subject{v: mql.Missing}
	case srcPrevRoot:
		if c.in.hasPrevRoot {
			return subject{doc: c.in.prevRoot, isDoc: true, path: r.path}
		}
		return subject{v: mql.Missing}
	case srcThis:
		if c.in.hasThis {
			return subject{v: c.in.this, path: r.path}
		}
		return subject{v: mql.Missing}
	case srcPrev:
		if c.in.hasPrev {
			return subject{v: c.in.prev, path: r.path}
		}
		return subject{v: mql.Missing}
	case srcElem:
		return subject{v: c.elem, path: r.path}
	case srcUser:
		return c.env.userSubject(r.path)
	}
	return subject{v: c.env.source(r.src), path: r.path}
}

func (env *Env) source(s source) any {
	switch s {
	case srcValues:
		return env.values.get(env, buildValues)
	case srcEnvironment:
		return env.environment.get(env, buildEnvironment)
	case srcRequest:
		return env.requestDoc.get(env, buildRequest)
	case srcPartition:
		return env.partition
	case srcArgs:
		return env.args
	}
	return mql.Missing
}

func (c *evalCtx) allTests(s *subject, tests []test) (bool, error) {
	for i := range tests {
		if ok, err := c.test(s, &tests[i]); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// leafKind is what the path walk checks at each value it reaches.
type leafKind uint8

const (
	leafEq        leafKind = iota // equals(), with scalar-in-array membership
	leafEqPlain                   // MongoDB equality only
	leafIn                        // rhs is an array; any element equals
	leafExists                    // present
	leafCmp                       // $gt/$gte/$lt/$lte
	leafSize                      // array of a given length
	leafType                      // $type
	leafElemMatch                 // some array element satisfies
)

func (c *evalCtx) test(s *subject, t *test) (bool, error) {
	switch t.op {
	case opNot:
		ok, err := c.allTests(s, t.sub)
		return !ok && err == nil, err
	case opAnd:
		for _, g := range t.groups {
			if ok, err := c.allTests(s, g); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case opOr:
		for _, g := range t.groups {
			if ok, err := c.allTests(s, g); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case opNor:
		for _, g := range t.groups {
			if ok, err := c.allTests(s, g); err != nil || ok {
				return false, err
			}
		}
		return true, nil
	case opType:
		return c.walk(s, leafType, t, nil)
	case opElemMatch:
		return c.walk(s, leafElemMatch, t, nil)
	}
	rhs, err := c.value(&t.arg)
	if err != nil {
		return false, err
	}
	switch t.op {
	case opEq:
		if mql.IsMissing(rhs) {
			return false, nil // a missing right-hand side equals nothing
		}
		if t.strict {
			return c.walk(s, leafEqPlain, t, rhs)
		}
		return c.walk(s, leafEq, t, rhs)
	case opNe:
		if mql.IsMissing(rhs) {
			return true, nil
		}
		k := leafEq
		if t.strict {
			k = leafEqPlain
		}
		ok, err := c.walk(s, k, t, rhs)
		return !ok && err == nil, err
	case opIn:
		if _, isArr := rhs.(bson.A); !isArr {
			return false, nil
		}
		return c.walk(s, leafIn, t, rhs)
	case opNin:
		if _, isArr := rhs.(bson.A); !isArr {
			return true, nil
		}
		ok, err := c.walk(s, leafIn, t, rhs)
		return !ok && err == nil, err
	case opExists:
		ok, err := c.walk(s, leafExists, t, nil)
		return ok == mql.Truthy(rhs) && err == nil, err
	case opGt, opGte, opLt, opLte:
		if mql.IsMissing(rhs) {
			return false, nil
		}
		return c.walk(s, leafCmp, t, rhs)
	case opAll:
		arr, isArr := rhs.(bson.A)
		if !isArr || len(arr) == 0 {
			return false, nil
		}
		for _, x := range arr {
			if ok, err := c.walk(s, leafEqPlain, t, x); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case opSize:
		return c.walk(s, leafSize, t, rhs)
	}
	return false, fmt.Errorf("expr: unknown operator %d", t.op)
}

// walk reports whether some value reached by following s.path satisfies
// the leaf check, with MongoDB's dotted-path rules (the same as mql's
// matcher, so that Eval and the compiled filter agree): documents by key;
// an array met with path left applies the rest to each element that is a
// document and, for a numeric component, to that element; scalar elements
// yield nothing; a path that ends early in a document yields Missing.
func (c *evalCtx) walk(s *subject, k leafKind, t *test, rhs any) (bool, error) {
	if s.isDoc {
		if len(s.path) == 0 {
			return c.leaf(s.doc, k, t, rhs, false)
		}
		return c.walkFrom(mql.Get(s.doc, s.path[0]), s.path[1:], k, t, rhs)
	}
	if len(s.path) == 0 {
		return c.leaf(s.v, k, t, rhs, !s.noExpand)
	}
	return c.walkFrom(s.v, s.path, k, t, rhs)
}

func (c *evalCtx) walkFrom(v any, path []string, k leafKind, t *test, rhs any) (bool, error) {
	if len(path) == 0 {
		return c.leaf(v, k, t, rhs, true)
	}
	switch x := v.(type) {
	case bson.D:
		return c.walkFrom(mql.Get(x, path[0]), path[1:], k, t, rhs)
	case bson.A:
		idx, isIdx := arrayIndex(path[0])
		for j, e := range x {
			if d, ok := e.(bson.D); ok {
				if ok, err := c.walkFrom(mql.Get(d, path[0]), path[1:], k, t, rhs); err != nil || ok {
					return ok, err
				}
			}
			if isIdx && j == idx {
				if ok, err := c.walkIndex(e, path[1:], k, t, rhs); err != nil || ok {
					return ok, err
				}
			}
		}
		return false, nil
	}
	return c.leaf(mql.Missing, k, t, rhs, true)
}

// walkIndex continues inside an array element addressed by number. That is
// not an implicit traversal: a path ending there sees the element itself
// (an array element is not expanded), and a scalar element cannot hold the
// rest of the path, so it yields nothing, not even Missing.
func (c *evalCtx) walkIndex(e any, path []string, k leafKind, t *test, rhs any) (bool, error) {
	if len(path) == 0 {
		return c.leaf(e, k, t, rhs, false)
	}
	switch e.(type) {
	case bson.D, bson.A:
		return c.walkFrom(e, path, k, t, rhs)
	}
	return false, nil
}

// leaf applies the check to one value reached by the walk. As in MongoDB,
// when expand is set an array value is matched both as a whole and through
// its elements (except by $size, $exists and $elemMatch, which look at the
// value itself).
func (c *evalCtx) leaf(v any, k leafKind, t *test, rhs any, expand bool) (bool, error) {
	switch k {
	case leafEq, leafEqPlain:
		if equal(v, rhs) {
			return true, nil
		}
		if arr, ok := v.(bson.A); ok {
			if expand {
				for _, e := range arr {
					if equal(e, rhs) {
						return true, nil
					}
				}
			}
			return false, nil
		}
		// Scalar on the left, array on the right: membership (spec §5.3,
		// the Manager role's {"email": "%%user.custom_data.manages"}).
		if rarr, ok := rhs.(bson.A); ok && k == leafEq {
			for _, r := range rarr {
				if equal(v, r) {
					return true, nil
				}
			}
		}
		return false, nil
	case leafIn:
		for _, r := range rhs.(bson.A) {
			if ok, _ := c.leaf(v, leafEqPlain, t, r, expand); ok {
				return true, nil
			}
		}
		return false, nil
	case leafExists:
		return !mql.IsMissing(v), nil
	case leafCmp:
		if cmpHolds(t.op, v, rhs) {
			return true, nil
		}
		if arr, ok := v.(bson.A); ok && expand {
			for _, e := range arr {
				if cmpHolds(t.op, e, rhs) {
					return true, nil
				}
			}
		}
		return false, nil
	case leafSize:
		arr, ok := v.(bson.A)
		if !ok {
			return false, nil
		}
		n, ok := mql.ToInt64(rhs)
		return ok && int64(len(arr)) == n, nil
	case leafType:
		if typeMatches(t.types, v) {
			return true, nil
		}
		if arr, ok := v.(bson.A); ok && expand {
			for _, e := range arr {
				if typeMatches(t.types, e) {
					return true, nil
				}
			}
		}
		return false, nil
	case leafElemMatch:
		arr, ok := v.(bson.A)
		if !ok {
			return false, nil
		}
		for _, e := range arr {
			ok, err := c.elemMatches(e, t)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	return false, nil
}

func (c *evalCtx) elemMatches(e any, t *test) (bool, error) {
	if t.elem == nil {
		s := subject{v: e, noExpand: true}
		return c.allTests(&s, t.sub)
	}
	switch x := e.(type) {
	case bson.D:
	case bson.A:
		// MongoDB runs the query on an array element as on a document
		// keyed "0", "1", ...; rare enough that the copy does not matter.
		d := make(bson.D, len(x))
		for i, v := range x {
			d[i] = bson.E{Key: strconv.Itoa(i), Value: v}
		}
		e = d
	default:
		return false, nil
	}
	saved := c.elem
	c.elem = e
	ok, err := c.node(t.elem)
	c.elem = saved
	return ok, err
}

// equal is mql.Equal with fast paths for the pairs rules compare most
// (ids, names, flags); the answers are the same, only cheaper.
func equal(a, b any) bool {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return x == y
		}
	case bool:
		if y, ok := b.(bool); ok {
			return x == y
		}
	case int32:
		if y, ok := b.(int32); ok {
			return x == y
		}
	case bson.ObjectID:
		if y, ok := b.(bson.ObjectID); ok {
			return x == y
		}
	}
	return mql.Equal(a, b)
}

// cmpHolds is a range comparison: only values of the same canonical type
// compare (MongoDB's type bracketing), so {"$gt": 5} never matches "6".
func cmpHolds(op testOp, v, rhs any) bool {
	if !mql.SameTypeBracket(v, rhs) {
		return false
	}
	r := mql.Compare(v, rhs)
	switch op {
	case opGt:
		return r > 0
	case opGte:
		return r >= 0
	case opLt:
		return r < 0
	case opLte:
		return r <= 0
	}
	return false
}

func typeMatches(sels []typeSel, v any) bool {
	if mql.IsMissing(v) {
		return false
	}
	for _, s := range sels {
		if s.number && mql.IsNumber(v) {
			return true
		}
		if !s.number && s.t == mql.TypeOf(v) {
			return true
		}
	}
	return false
}

// value computes a value position.
func (c *evalCtx) value(v *value) (any, error) {
	switch v.kind {
	case valLiteral:
		return v.lit, nil
	case valRef:
		s := c.subject(&v.ref)
		if s.isDoc {
			return lookupDoc(s.doc, s.path), nil
		}
		return lookup(s.v, s.path), nil
	case valConvert:
		a, err := c.value(&v.kids[0])
		if err != nil {
			return nil, err
		}
		out, err := convert(v.conv, a)
		if err != nil {
			return nil, fmt.Errorf("%w: at %s: %v", ErrConvert, v.where, err)
		}
		return out, nil
	case valFunction:
		return c.call(v)
	case valArray:
		out := make(bson.A, len(v.kids))
		for i := range v.kids {
			x, err := c.value(&v.kids[i])
			if err != nil {
				return nil, err
			}
			if mql.IsMissing(x) {
				x = nil // arrays cannot hold "missing"; MongoDB writes null
			}
			out[i] = x
		}
		return out, nil
	case valDoc:
		out := make(bson.D, 0, len(v.kids))
		for i := range v.kids {
			x, err := c.value(&v.kids[i])
			if err != nil {
				return nil, err
			}
			if !mql.IsMissing(x) {
				out = append(out, bson.E{Key: v.keys[i], Value: x})
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("expr: unknown value kind %d", v.kind)
}

func (c *evalCtx) call(v *value) (any, error) {
	if c.env.functions == nil {
		return nil, fmt.Errorf("%w (function %q at %s)", ErrNoFunctionCaller, v.name, v.where)
	}
	args := make([]any, len(v.kids))
	for i := range v.kids {
		x, err := c.value(&v.kids[i])
		if err != nil {
			return nil, err
		}
		if mql.IsMissing(x) {
			x = nil // JavaScript sees undefined as a missing argument; null is the closest BSON value
		}
		args[i] = x
	}
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	depth := CallDepth(ctx)
	if depth >= MaxCallDepth {
		return nil, fmt.Errorf("%w: function %q at %s: %w", ErrFunction, v.name, v.where, ErrCallDepth)
	}
	out, err := c.env.functions.CallFunction(WithCallDepth(ctx, depth+1), v.name, args)
	if err != nil {
		return nil, fmt.Errorf("%w: function %q at %s: %w", ErrFunction, v.name, v.where, err)
	}
	cv, err := canonical(out, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: function %q returned an unusable value: %v", ErrFunction, v.name, err)
	}
	return cv, nil
}
