package mql

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// projExecNode is one level of the projection as it executes: the fields
// projected whole (included, or excluded in an exclusion projection), the
// sub-projections, and the computed fields, which are evaluated after the
// projected fields in the order they were written.
type projExecNode struct {
	projected map[string]bool
	children  map[string]*projExecNode
	computed  map[string]projComputed
	order     []string // children and computed fields, in order of addition
	hasExprs  bool     // this subtree holds computed fields
}

// projComputed is a computed field: an expression or an $elemMatch.
type projComputed struct {
	expr   *Expression
	filter *Filter
	field  string
}

// projPost is a find-only step applied to the projected document:
// $slice, or the positional projection.
type projPost struct {
	path       []string
	positional bool
	hasSkip    bool
	skip       int
	limit      int
}

func newProjExecNode() *projExecNode {
	return &projExecNode{
		projected: map[string]bool{},
		children:  map[string]*projExecNode{},
		computed:  map[string]projComputed{},
	}
}

func (n *projExecNode) childFor(name string) *projExecNode {
	if c := n.children[name]; c != nil {
		return c
	}
	c := newProjExecNode()
	n.children[name] = c
	n.order = append(n.order, name)
	return c
}

func (n *projExecNode) addProjection(path []string) {
	if len(path) == 1 {
		n.projected[path[0]] = true
		return
	}
	n.childFor(path[0]).addProjection(path[1:])
}

func (n *projExecNode) addComputed(path []string, c projComputed) {
	n.hasExprs = true
	if len(path) == 1 {
		n.computed[path[0]] = c
		n.order = append(n.order, path[0])
		return
	}
	n.childFor(path[0]).addComputed(path[1:], c)
}

// build turns the AST into the executor, walking it in specification order.
func (p *Projection) build(n *projAST, path []string) {
	for _, name := range n.names {
		c := n.kids[name]
		full := append(append([]string(nil), path...), name)
		switch c.kind {
		case projPath:
			p.build(c, full)
		case projInclude:
			p.root.addProjection(full)
		case projExclude:
			// In an inclusion projection only _id may be excluded, and
			// leaving it out of the projected set is what excludes it.
			if !p.inclusion {
				p.root.addProjection(full)
			}
		case projExpr:
			p.root.addComputed(full, projComputed{expr: c.expr})
		case projElemMatch:
			p.root.addComputed(full, projComputed{filter: c.filter, field: name})
		case projSlice:
			if p.inclusion {
				p.root.addProjection(full)
			}
			p.post = append(p.post, projPost{path: full, hasSkip: c.hasSkp, skip: c.skip, limit: c.limit})
		case projPositional:
			p.root.addProjection(full)
			p.post = append(p.post, projPost{path: full, positional: true})
		}
	}
}

// Apply returns the projected document. position is the array index the
// positional $ projection refers to (from Filter.MatchPosition), or -1.
// The result shares nothing with doc.
func (p *Projection) Apply(doc bson.D, position int) (bson.D, error) {
	if err := CheckDepth(doc); err != nil {
		return nil, err
	}
	if p.empty {
		return DeepCopy(doc).(bson.D), nil
	}
	out := p.root.projectDoc(doc, p.inclusion)
	if p.root.hasExprs {
		var err error
		if out, err = p.root.applyComputed(doc, out, p.inclusion); err != nil {
			return nil, err
		}
	}
	for _, step := range p.post {
		if step.positional {
			var err error
			if out, err = projPositionalStep(out, step.path, position); err != nil {
				return nil, err
			}
			continue
		}
		out = projSliceStep(out, step, 0)
	}
	if out == nil {
		out = bson.D{}
	}
	return out, nil
}

// projectDoc applies the projected fields and sub-projections to one
// document, keeping the document's field order.
func (n *projExecNode) projectDoc(doc bson.D, inclusion bool) bson.D {
	out := make(bson.D, 0, len(doc))
	for _, e := range doc {
		switch {
		case n.projected[e.Key]:
			if inclusion {
				out = append(out, bson.E{Key: e.Key, Value: DeepCopy(e.Value)})
			}
		case n.children[e.Key] != nil:
			v := n.children[e.Key].projectValue(e.Value, inclusion)
			if !IsMissing(v) {
				out = append(out, bson.E{Key: e.Key, Value: v})
			}
		case !inclusion:
			out = append(out, bson.E{Key: e.Key, Value: DeepCopy(e.Value)})
		}
	}
	return out
}

// projectValue applies a sub-projection to a value: documents are
// projected, arrays element by element (nested arrays too, as find does),
// and other values are dropped by an inclusion and kept by an exclusion.
// Nesting is bounded by the CheckDepth in Apply.
func (n *projExecNode) projectValue(v any, inclusion bool) any {
	switch x := v.(type) {
	case bson.D:
		return n.projectDoc(x, inclusion)
	case bson.A:
		out := make(bson.A, 0, len(x))
		for _, e := range x {
			// An element the inclusion drops still holds its slot while
			// computed fields remain to be added: MongoDB turns such a
			// slot into a document of the computed fields.
			if r := n.projectValue(e, inclusion); !IsMissing(r) || n.hasExprs {
				out = append(out, r)
			}
		}
		return out
	}
	if inclusion {
		return Missing
	}
	return DeepCopy(v)
}

// applyComputed evaluates the computed fields of this level into out. A
// field already present keeps its place; a new one goes at the end.
func (n *projExecNode) applyComputed(root, out bson.D, inclusion bool) (bson.D, error) {
	for _, name := range n.order {
		var v any
		if child := n.children[name]; child != nil {
			var err error
			if v, err = child.computedValue(root, Get(out, name), inclusion); err != nil {
				return nil, err
			}
		} else {
			var err error
			if v, err = n.computed[name].eval(root); err != nil {
				return nil, err
			}
		}
		out = projSetField(out, name, v)
	}
	return out, nil
}

func (n *projExecNode) computedValue(root bson.D, v any, inclusion bool) (any, error) {
	switch x := v.(type) {
	case bson.D:
		return n.applyComputed(root, append(bson.D(nil), x...), inclusion)
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			r, err := n.computedValue(root, e, inclusion)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return projDropMissing(out), nil
	}
	if n.hasExprs {
		// {"a.b": <expr>} on {a: 1} replaces a with a document of the
		// computed fields.
		return n.applyComputed(root, bson.D{}, inclusion)
	}
	if inclusion {
		return Missing, nil
	}
	return v, nil
}

func projDropMissing(a bson.A) bson.A {
	out := a[:0]
	for _, e := range a {
		if !IsMissing(e) {
			out = append(out, e)
		}
	}
	return out
}

func (c projComputed) eval(root bson.D) (any, error) {
	if c.filter != nil {
		ok, pos := c.filter.MatchPosition(root)
		if !ok {
			return Missing, nil
		}
		arr, isArr := Get(root, c.field).(bson.A)
		if !isArr || pos < 0 || pos >= len(arr) {
			return Missing, nil
		}
		return bson.A{DeepCopy(arr[pos])}, nil
	}
	v, err := c.expr.Eval(root, nil)
	if err != nil {
		return nil, err
	}
	return DeepCopy(v), nil
}

// projSetField sets key in d, in place when present; Missing removes it.
func projSetField(d bson.D, key string, v any) bson.D {
	for i := range d {
		if d[i].Key == key {
			if IsMissing(v) {
				return append(d[:i:i], d[i+1:]...)
			}
			d[i].Value = v
			return d
		}
	}
	if IsMissing(v) {
		return d
	}
	return append(d, bson.E{Key: key, Value: v})
}

// projSliceStep applies a find $slice to the projected document: the path
// is followed through documents and through arrays of documents (other
// elements stay as they are), and the array at its end is sliced. A value
// that is not an array is left unchanged.
func projSliceStep(doc bson.D, s projPost, i int) bson.D {
	name := s.path[i]
	v := Get(doc, name)
	last := i == len(s.path)-1
	switch x := v.(type) {
	case bson.A:
		if last {
			v = projSliceArray(x, s)
		} else {
			out := make(bson.A, len(x))
			for j, e := range x {
				if d, ok := e.(bson.D); ok {
					out[j] = projSliceStep(d, s, i+1)
				} else {
					out[j] = e
				}
			}
			v = out
		}
	case bson.D:
		if !last {
			v = projSliceStep(x, s, i+1)
		}
	default:
		return doc
	}
	return projSetField(append(bson.D(nil), doc...), name, v)
}

func projSliceArray(a bson.A, s projPost) bson.A {
	n := len(a)
	start, count := 0, 0
	switch {
	case !s.hasSkip && s.limit < 0:
		start = max(0, n+s.limit)
		count = n - start
	case !s.hasSkip:
		count = min(n, s.limit)
	case s.skip < 0:
		start = max(0, n+s.skip)
		count = min(n-start, s.limit)
	default:
		start = min(n, s.skip)
		count = min(n-start, s.limit)
	}
	return append(bson.A{}, a[start:start+count]...)
}

// projPositionalErr is the error MongoDB reports when the positional
// projection meets an array but the query recorded no usable position.
func projPositionalErr() error {
	return Errorf(CodeBadValue, "Executor error during find command :: caused by :: positional operator '.$' element mismatch")
}

// projPositionalStep replaces the first array met along path in the
// projected document with a one-element array holding the element at
// position. When the path meets no array the document is unchanged.
func projPositionalStep(doc bson.D, path []string, position int) (bson.D, error) {
	cur := doc
	for i, name := range path {
		switch x := Get(cur, name).(type) {
		case bson.A:
			if position < 0 || position >= len(x) {
				return nil, projPositionalErr()
			}
			return projSetNested(doc, path[:i+1], bson.A{x[position]}), nil
		case bson.D:
			cur = x
		default:
			return doc, nil
		}
	}
	return doc, nil
}

// projSetNested sets the value at path, whose prefixes are documents.
func projSetNested(doc bson.D, path []string, v any) bson.D {
	if len(path) == 1 {
		return projSetField(append(bson.D(nil), doc...), path[0], v)
	}
	sub, _ := Get(doc, path[0]).(bson.D)
	return projSetField(append(bson.D(nil), doc...), path[0], projSetNested(sub, path[1:], v))
}

// UsesPosition reports whether the projection has a positional a.$ field,
// so that callers know to compute the match position for Apply.
func (p *Projection) UsesPosition() bool {
	for _, s := range p.post {
		if s.positional {
			return true
		}
	}
	return false
}

// IsInclusion reports whether the projection keeps only the fields it
// names (plus _id unless excluded), as opposed to removing the fields it
// names. An empty projection is an exclusion of nothing.
func (p *Projection) IsInclusion() bool { return p.inclusion }
