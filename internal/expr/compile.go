package expr

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// Kind is the shape of a compiled expression.
type Kind uint8

const (
	// KindUnfilterable: no part of the expression could be expressed as a
	// MongoDB filter; Reason says why. The zero value, so that a forgotten
	// result is the safe one: query everything, decide per document.
	KindUnfilterable Kind = iota
	// KindAlways: true for every document (once the Env is bound).
	KindAlways
	// KindNever: false for every document.
	KindNever
	// KindFilter: Query selects the documents; see Exact.
	KindFilter
)

func (k Kind) String() string {
	return [...]string{"unfilterable", "always", "never", "filter"}[k]
}

// Compiled is an expression translated for one Env, for reads: %%root and
// %%prevRoot both denote the stored document (spec §4.4).
//
// Contract: every document Eval(ReadOf(doc)) accepts is matched by
// MongoFilter(); when Exact is true the converse holds too. Where Exact is
// false (and for KindUnfilterable) the caller must run Eval on each
// document the query returns; Reason lists what was left to that step.
// KindAlways and KindNever are exact.
type Compiled struct {
	Kind   Kind
	Query  bson.D
	Exact  bool
	Reason string
}

// MongoFilter returns a filter honouring the contract for every Kind:
// {} for Always and Unfilterable, a filter matching no stored document
// for Never (every document has an _id).
func (c Compiled) MongoFilter() bson.D {
	switch c.Kind {
	case KindFilter:
		return c.Query
	case KindNever:
		return bson.D{{Key: "_id", Value: bson.D{{Key: "$exists", Value: false}}}}
	}
	return bson.D{}
}

// part is the compiled form of a sub-expression.
type part struct {
	kind   Kind
	q      bson.D
	exact  bool
	failed bool // evaluating a bound part failed (e.g. %function threw)
	why    []string
}

var (
	always = part{kind: KindAlways, exact: true}
	never  = part{kind: KindNever, exact: true}
)

func unfilterable(path, format string, args ...any) part {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	return part{kind: KindUnfilterable, why: []string{msg}}
}

func exactFilter(q bson.D) part { return part{kind: KindFilter, q: q, exact: true} }

// Compile translates the expression into a MongoDB filter for env. Parts
// that read only bound values (%%user, %%values, ...) are decided now,
// including %function calls whose arguments do not depend on the document;
// a failing call makes its part unfilterable, so the per-document
// evaluation reports the failure exactly where Eval would.
func (e *Expr) Compile(ctx context.Context, env *Env) Compiled {
	if env == nil {
		env = emptyEnv
	}
	in := NoDocument
	cc := compiler{ev: evalCtx{ctx: ctx, env: env, in: in}}
	p := cc.node(&e.root)
	out := Compiled{Kind: p.kind, Query: p.q, Exact: p.exact, Reason: strings.Join(p.why, "; ")}
	if out.Kind == KindUnfilterable {
		out.Exact = false
	}
	return out
}

type compiler struct {
	ev     evalCtx
	inElem bool
}

func (cc *compiler) node(n *node) part {
	switch n.kind {
	case nodeConst:
		if n.val {
			return always
		}
		return never
	case nodeAnd:
		parts := make([]part, len(n.kids))
		for i := range n.kids {
			parts[i] = cc.node(&n.kids[i])
		}
		return andParts(parts)
	case nodeOr:
		parts := make([]part, len(n.kids))
		for i := range n.kids {
			parts[i] = cc.node(&n.kids[i])
		}
		return orParts(parts)
	case nodeNor:
		parts := make([]part, len(n.kids))
		for i := range n.kids {
			parts[i] = cc.node(&n.kids[i])
		}
		return norParts(parts, n.path)
	case nodeNot:
		return norParts([]part{cc.node(&n.kids[0])}, n.path)
	case nodeCond:
		return cc.cond(n)
	}
	return unfilterable(n.path, "unknown node")
}

func (cc *compiler) cond(n *node) part {
	src := n.lhs.src
	if !src.documentDependent() {
		if n.deps&UsesDocument != 0 {
			return unfilterable(n.path, "compares %s with a value read from the document, which a filter cannot express", n.lhs.text)
		}
		ok, err := cc.ev.node(n)
		if err != nil {
			p := unfilterable(n.path, "%v", err)
			p.failed = true
			return p
		}
		if ok {
			return always
		}
		return never
	}
	switch {
	case src == srcThis || src == srcPrev:
		return unfilterable(n.path, "%s is the value of the field a field rule is attached to; decided per document", n.lhs.text)
	case cc.inElem && src != srcElem:
		return unfilterable(n.path, "%s inside $elemMatch refers to the whole document", n.lhs.text)
	}
	if len(n.lhs.path) == 0 {
		// The whole stored document: it exists on every read.
		for _, t := range n.tests {
			if t.op != opExists || t.arg.kind != valLiteral {
				return unfilterable(n.path, "compares the whole document %s", n.lhs.text)
			}
		}
		for _, t := range n.tests {
			if !mql.Truthy(t.arg.lit) {
				return never
			}
		}
		return always
	}
	if testsDependOnDoc(n.tests) {
		return unfilterable(n.path, "compares two document values, which needs $expr")
	}
	field := strings.Join(n.lhs.path, ".")
	return cc.group(field, len(n.lhs.path) == 1, n.tests)
}

func testsDependOnDoc(ts []test) bool {
	for _, t := range ts {
		if t.deps&UsesDocument != 0 {
			return true
		}
	}
	return false
}

func (cc *compiler) group(f string, single bool, ts []test) part {
	parts := make([]part, len(ts))
	for i := range ts {
		parts[i] = cc.test(f, single, &ts[i])
	}
	return andParts(parts)
}

func clause(f string, op string, v any) bson.D {
	return bson.D{{Key: f, Value: bson.D{{Key: op, Value: v}}}}
}

// membership is equals(field, arr) for an array right-hand side: the field
// equals the array or contains it (MongoDB), or is a non-array member of it
// (spec §5.3). For a top-level field "not an array" is exactly $type, so
// the filter is exact; for dotted paths the $type test would apply to the
// wrong values, so it is dropped and the filter is broader.
func membership(f string, single bool, arr bson.A) (bson.D, bool) {
	in := bson.D{{Key: "$in", Value: arr}}
	if single {
		in = append(in, bson.E{Key: "$not", Value: bson.D{{Key: "$type", Value: "array"}}})
	}
	return bson.D{{Key: "$or", Value: bson.A{clause(f, "$eq", arr), bson.D{{Key: f, Value: in}}}}}, single
}

func (cc *compiler) test(f string, single bool, t *test) part {
	switch t.op {
	case opNot:
		return norParts([]part{cc.group(f, single, t.sub)}, t.path)
	case opAnd, opOr, opNor:
		parts := make([]part, len(t.groups))
		for i, g := range t.groups {
			parts[i] = cc.group(f, single, g)
		}
		switch t.op {
		case opAnd:
			return andParts(parts)
		case opOr:
			return orParts(parts)
		}
		return norParts(parts, t.path)
	case opType:
		return exactFilter(clause(f, "$type", t.rawType))
	case opElemMatch:
		return cc.elemMatch(f, t)
	}
	rhs, err := cc.ev.value(&t.arg)
	if err != nil {
		p := unfilterable(t.path, "%v", err)
		p.failed = true
		return p
	}
	arr, isArr := rhs.(bson.A)
	missing := mql.IsMissing(rhs)
	switch t.op {
	case opEq:
		switch {
		case missing:
			return never
		case isArr && !t.strict:
			if hasRegexOrOperator(arr) {
				return unfilterable(t.path, "array value holds a regular expression or an operator-like document")
			}
			q, exact := membership(f, single, arr)
			if !exact {
				return part{kind: KindFilter, q: q, why: []string{t.path + ": membership of a dotted path in an array is approximated by $in"}}
			}
			return exactFilter(q)
		}
		if needsEq(rhs) {
			return exactFilter(clause(f, "$eq", rhs))
		}
		return exactFilter(bson.D{{Key: f, Value: rhs}})
	case opNe:
		switch {
		case missing:
			return always
		case isArr && !t.strict:
			if hasRegexOrOperator(arr) {
				return unfilterable(t.path, "array value holds a regular expression or an operator-like document")
			}
			q, exact := membership(f, single, arr)
			if !exact {
				return unfilterable(t.path, "negated membership of a dotted path in an array")
			}
			return exactFilter(bson.D{{Key: "$nor", Value: bson.A{q}}})
		}
		return exactFilter(clause(f, "$ne", rhs))
	case opIn, opNin:
		if !isArr {
			if t.op == opIn {
				return never
			}
			return always
		}
		if hasRegexOrOperator(arr) {
			return unfilterable(t.path, "%s list holds a regular expression or an operator-like document", opSpelling[t.op])
		}
		return exactFilter(clause(f, opSpelling[t.op], arr))
	case opExists:
		return exactFilter(clause(f, "$exists", mql.Truthy(rhs)))
	case opGt, opGte, opLt, opLte:
		if missing {
			return never
		}
		switch rhs.(type) {
		case bson.MinKey, bson.MaxKey:
			return unfilterable(t.path, "MinKey/MaxKey bounds compare across types in MongoDB")
		}
		return exactFilter(clause(f, opSpelling[t.op], rhs))
	case opAll:
		if !isArr || len(arr) == 0 {
			return never
		}
		if hasRegexOrOperator(arr) {
			return unfilterable(t.path, "$all list holds a regular expression or an operator-like document")
		}
		return exactFilter(clause(f, "$all", arr))
	case opSize:
		n, ok := mql.ToInt64(rhs)
		if !ok || n < 0 {
			return never
		}
		return exactFilter(clause(f, "$size", n))
	}
	return unfilterable(t.path, "operator %s cannot be compiled", opSpelling[t.op])
}

func (cc *compiler) elemMatch(f string, t *test) part {
	if t.elem != nil {
		inner := compiler{ev: cc.ev, inElem: true}
		p := inner.node(t.elem)
		switch p.kind {
		case KindNever:
			return never
		case KindAlways:
			return unfilterable(t.path, "an $elemMatch whose condition is always true")
		case KindUnfilterable:
			return p
		}
		p.q = clause(f, "$elemMatch", p.q)
		return p
	}
	// Value form: every sub-test must be a plain {op: value}.
	var ops bson.D
	for i := range t.sub {
		s := &t.sub[i]
		q := cc.test("x", true, s)
		if q.kind != KindFilter || !q.exact || len(q.q) != 1 || q.q[0].Key != "x" {
			return unfilterable(t.path, "$elemMatch on values supports only plain comparisons")
		}
		switch v := q.q[0].Value.(type) {
		case bson.D:
			if len(v) == 0 || !strings.HasPrefix(v[0].Key, "$") {
				ops = append(ops, bson.E{Key: "$eq", Value: v})
				continue
			}
			ops = append(ops, v...)
		default:
			ops = append(ops, bson.E{Key: "$eq", Value: v})
		}
	}
	return exactFilter(clause(f, "$elemMatch", ops))
}

// needsEq reports whether a right-hand side must be wrapped in $eq to keep
// MongoDB from reading it as something else: a regex would match by
// pattern, a document could be taken for operators.
func needsEq(v any) bool {
	switch v.(type) {
	case bson.Regex, bson.D, bson.A:
		return true
	}
	return false
}

// hasRegexOrOperator reports elements that $in/$all treat specially
// (regex matching, {$elemMatch} inside $all) where Eval compares
// literally.
func hasRegexOrOperator(arr bson.A) bool {
	for _, e := range arr {
		switch x := e.(type) {
		case bson.Regex:
			return true
		case bson.D:
			if len(x) > 0 && strings.HasPrefix(x[0].Key, "$") {
				return true
			}
		}
	}
	return false
}

func andParts(parts []part) part {
	var qs bson.A
	out := part{kind: KindFilter, exact: true}
	dropped := false
	for _, p := range parts {
		switch p.kind {
		case KindNever:
			return never
		case KindAlways:
			continue
		case KindUnfilterable:
			// Dropping a conjunct only broadens the filter.
			dropped = true
			out.exact = false
			out.failed = out.failed || p.failed
		case KindFilter:
			// Splice nested $and lists: {$and: [{$and: [a, b]}, c]} reads
			// better, and plans no differently, as {$and: [a, b, c]}.
			if len(p.q) == 1 && p.q[0].Key == "$and" {
				qs = append(qs, p.q[0].Value.(bson.A)...)
			} else {
				qs = append(qs, p.q)
			}
			out.exact = out.exact && p.exact
		}
		out.why = append(out.why, p.why...)
	}
	switch len(qs) {
	case 0:
		if dropped {
			return part{kind: KindUnfilterable, why: out.why, failed: out.failed}
		}
		return always
	case 1:
		out.q = qs[0].(bson.D)
	default:
		out.q = bson.D{{Key: "$and", Value: qs}}
	}
	return out
}

func orParts(parts []part) part {
	var qs bson.A
	out := part{kind: KindFilter, exact: true}
	for _, p := range parts {
		if p.failed || p.kind == KindUnfilterable {
			// A failed or unknown disjunct could be true for any document,
			// and Eval may stop at a failure before a later true branch.
			return part{kind: KindUnfilterable, why: p.why, failed: p.failed}
		}
	}
	for _, p := range parts {
		switch p.kind {
		case KindAlways:
			return always
		case KindNever:
			continue
		case KindFilter:
			qs = append(qs, p.q)
			out.exact = out.exact && p.exact
			out.why = append(out.why, p.why...)
		}
	}
	switch len(qs) {
	case 0:
		return never
	case 1:
		out.q = qs[0].(bson.D)
	default:
		out.q = bson.D{{Key: "$or", Value: qs}}
	}
	return out
}

// norParts negates: only exact parts can be negated, since the negation of
// a broader filter is a narrower one.
func norParts(parts []part, path string) part {
	var qs bson.A
	for _, p := range parts {
		if p.failed || p.kind == KindUnfilterable {
			return part{kind: KindUnfilterable, why: p.why, failed: p.failed}
		}
		if p.kind == KindFilter && !p.exact {
			return unfilterable(path, "negates an approximate filter (%s)", strings.Join(p.why, "; "))
		}
	}
	for _, p := range parts {
		switch p.kind {
		case KindAlways:
			return never
		case KindFilter:
			qs = append(qs, p.q)
		}
	}
	if len(qs) == 0 {
		return always
	}
	return exactFilter(bson.D{{Key: "$nor", Value: qs}})
}
