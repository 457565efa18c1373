package expr

import (
	"context"
)

// Bound is an expression specialised to one Env: every part that reads
// only bound values (%%user, %%values, %%environment, %%request,
// %%partition, %%args, and %function calls whose arguments are such
// values) has been computed once, so that evaluating a document only walks
// the document. The rules engine builds one per request and role and
// evaluates it for every document the query returns.
type Bound struct {
	root node
	env  *Env
}

// Bind specialises e to env. It never fails: a part whose computation
// fails (a %function that throws, a bad conversion) is left as it was, so
// that Eval reports the failure on the documents that reach it, exactly as
// the unspecialised expression would.
func (e *Expr) Bind(ctx context.Context, env *Env) *Bound {
	if env == nil {
		env = emptyEnv
	}
	c := evalCtx{ctx: ctx, env: env}
	n, _ := c.specialize(&e.root)
	return &Bound{root: n, env: env}
}

// Eval decides the bound expression for one document; see Expr.Eval.
func (b *Bound) Eval(ctx context.Context, in Input) (bool, error) {
	c := evalCtx{ctx: ctx, env: b.env, in: in}
	return c.node(&b.root)
}

// Constant reports whether the bound expression no longer depends on the
// document, and its value. A role whose apply_when is constant false can be
// skipped for the whole request.
func (b *Bound) Constant() (value, ok bool) {
	if b.root.kind == nodeConst {
		return b.root.val, true
	}
	return false, false
}

// mayFail reports whether evaluating a node can return an error, which
// decides whether a later constant may short-circuit it.
func (n *node) mayFail() bool { return n.deps&UsesFunction != 0 || n.hasConvert() }

func (n *node) hasConvert() bool {
	for i := range n.kids {
		if n.kids[i].hasConvert() {
			return true
		}
	}
	for i := range n.tests {
		if n.tests[i].hasConvert() {
			return true
		}
	}
	return false
}

func (t *test) hasConvert() bool {
	if t.arg.hasConvert() {
		return true
	}
	for i := range t.sub {
		if t.sub[i].hasConvert() {
			return true
		}
	}
	for _, g := range t.groups {
		for i := range g {
			if g[i].hasConvert() {
				return true
			}
		}
	}
	return t.elem != nil && t.elem.hasConvert()
}

func (v *value) hasConvert() bool {
	if v.kind == valConvert {
		return true
	}
	for i := range v.kids {
		if v.kids[i].hasConvert() {
			return true
		}
	}
	return false
}

// specialize returns n with its document-independent parts computed. The
// second result reports whether the returned node may still fail.
func (c *evalCtx) specialize(n *node) (node, bool) {
	switch n.kind {
	case nodeConst:
		return *n, false
	case nodeCond:
		if !n.lhs.src.documentDependent() && n.deps&UsesDocument == 0 {
			if ok, err := c.node(n); err == nil {
				return node{kind: nodeConst, val: ok, path: n.path}, false
			}
			return *n, true
		}
		out := *n
		out.tests = c.specializeTests(n.tests)
		return out, out.mayFail()
	case nodeNot:
		kid, fails := c.specialize(&n.kids[0])
		if kid.kind == nodeConst {
			return node{kind: nodeConst, val: !kid.val, path: n.path}, false
		}
		out := *n
		out.kids = []node{kid}
		return out, fails
	}
	// and / or / nor: fold constants, but let a constant decide only when
	// no earlier child could have failed first (Eval stops at a failure).
	out := *n
	out.kids = nil
	earlierMayFail := false
	for i := range n.kids {
		kid, fails := c.specialize(&n.kids[i])
		if kid.kind == nodeConst && !earlierMayFail {
			decides := (n.kind == nodeAnd && !kid.val) || (n.kind != nodeAnd && kid.val)
			if decides {
				return node{kind: nodeConst, val: n.kind == nodeOr, path: n.path}, false
			}
			continue // a neutral constant: drop it
		}
		earlierMayFail = earlierMayFail || fails
		out.kids = append(out.kids, kid)
	}
	if len(out.kids) == 0 {
		// Every child was neutral: and → true, or → false, nor → true.
		return node{kind: nodeConst, val: n.kind != nodeOr, path: n.path}, false
	}
	return out, earlierMayFail
}

func (c *evalCtx) specializeTests(ts []test) []test {
	out := make([]test, len(ts))
	for i := range ts {
		t := ts[i]
		t.arg = c.specializeValue(&t.arg)
		if t.sub != nil {
			t.sub = c.specializeTests(t.sub)
		}
		if t.groups != nil {
			gs := make([][]test, len(t.groups))
			for j, g := range t.groups {
				gs[j] = c.specializeTests(g)
			}
			t.groups = gs
		}
		if t.elem != nil {
			// Inside $elemMatch the element is the document; compute
			// what does not read it.
			e, _ := c.specialize(t.elem)
			t.elem = &e
		}
		out[i] = t
	}
	return out
}

// specializeValue computes a value now if it does not read the document.
func (c *evalCtx) specializeValue(v *value) value {
	if v.kind == valLiteral || v.deps&UsesDocument != 0 {
		return *v
	}
	x, err := c.value(v)
	if err != nil {
		return *v
	}
	return value{kind: valLiteral, lit: x, where: v.where}
}
