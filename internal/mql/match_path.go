package mql

import (
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// matchNode is one node of a compiled filter, evaluated against a whole
// document. It returns whether the document matches and the array position
// the match went through (-1 for none), which MatchPosition reports. The
// position is a return value rather than state so that matching never
// allocates.
type matchNode interface {
	matchDoc(doc bson.D) (bool, int)
}

// valuePred is a predicate on one candidate value reached by a path (an
// array element, the array itself, a scalar, or Missing). It never looks
// through arrays itself; the path node does that.
type valuePred interface {
	matchValue(v any) bool
}

// matchPathPart is one component of a dotted path. index is the component
// read as an array index, or -1 when it is not a canonical non-negative
// integer (MongoDB compares array offsets as field-name strings, so "01"
// never addresses element 1).
type matchPathPart struct {
	name  string
	index int
}

func parseMatchPath(path string) []matchPathPart {
	names := strings.Split(path, ".")
	parts := make([]matchPathPart, len(names))
	for i, n := range names {
		parts[i] = matchPathPart{name: n, index: matchArrayIndex(n)}
	}
	return parts
}

func matchArrayIndex(s string) int {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// pathNode applies pred to every value the dotted path reaches in a
// document, MongoDB style:
//   - through embedded documents field by field;
//   - through an array met before the last component by applying the rest
//     of the path to each element that is a document (scalar elements yield
//     nothing) and, when the next component is a number, to that element;
//   - at the last component, an array yields each element and then the
//     array itself, unless noExpand is set ($size, $elemMatch);
//   - a component that does not exist yields Missing.
//
// The node matches when any yielded value satisfies pred.
type pathNode struct {
	path     []matchPathPart
	pred     valuePred
	noExpand bool
	// em, when set, is pred as an $elemMatch, which reports the index of
	// the element that matched.
	em *elemMatchPred
}

func (n *pathNode) matchDoc(doc bson.D) (bool, int) {
	v := matchLookup(doc, n.path[0].name)
	if len(n.path) == 1 && n.em == nil {
		// The common case, a top-level field holding a scalar, skips the
		// general walk.
		if _, isArray := v.(bson.A); !isArray {
			return n.pred.matchValue(v), -1
		}
	}
	return n.walk(v, 1, -1)
}

func matchLookup(doc bson.D, key string) any {
	for i := range doc {
		if doc[i].Key == key {
			return doc[i].Value
		}
	}
	return Missing
}

// matchLookupM reads a field of a bson.M, which hand-built documents may
// contain even though decoded ones never do.
func matchLookupM(doc bson.M, key string) any {
	if v, ok := doc[key]; ok {
		return v
	}
	return Missing
}

// walk continues the path at component i with v, the value reached by the
// components before it. outer is the index into the outermost array
// traversed so far, or -1.
func (n *pathNode) walk(v any, i int, outer int) (bool, int) {
	if i == len(n.path) {
		return n.leaf(v, outer)
	}
	switch x := v.(type) {
	case bson.D:
		return n.walk(matchLookup(x, n.path[i].name), i+1, outer)
	case bson.M:
		return n.walk(matchLookupM(x, n.path[i].name), i+1, outer)
	case bson.A:
		part := n.path[i]
		for j, e := range x {
			o := outer
			if o < 0 {
				o = j
			}
			switch d := e.(type) {
			case bson.D:
				if ok, pos := n.walk(matchLookup(d, part.name), i+1, o); ok {
					return true, pos
				}
			case bson.M:
				if ok, pos := n.walk(matchLookupM(d, part.name), i+1, o); ok {
					return true, pos
				}
			}
			if j == part.index {
				if ok, pos := n.walkIndex(e, i+1, outer); ok {
					return true, pos
				}
			}
		}
		return false, -1
	}
	// A scalar (or Missing) with path left over: the rest does not exist.
	return n.leaf(Missing, outer)
}

// walkIndex continues the path inside element e of an array addressed by
// a numeric component. Addressing an element is not an implicit traversal:
// it keeps the outer position, a path ending there sees the element itself
// (an array element is not expanded), and a scalar element cannot hold the
// rest of the path, so it yields nothing (not even Missing).
func (n *pathNode) walkIndex(e any, i int, outer int) (bool, int) {
	if i == len(n.path) {
		return n.leafValue(e, outer)
	}
	switch e.(type) {
	case bson.D, bson.M, bson.A:
		return n.walk(e, i, outer)
	}
	return false, -1
}

func (n *pathNode) leaf(v any, outer int) (bool, int) {
	if arr, ok := v.(bson.A); ok && !n.noExpand {
		for j, e := range arr {
			if n.pred.matchValue(e) {
				if outer < 0 {
					return true, j
				}
				return true, outer
			}
		}
	}
	return n.leafValue(v, outer)
}

// leafValue applies the predicate to v itself, without expanding arrays.
func (n *pathNode) leafValue(v any, outer int) (bool, int) {
	if n.em != nil {
		idx := n.em.matchIndex(v)
		switch {
		case idx < 0:
			return false, -1
		case outer >= 0:
			return true, outer
		}
		return true, idx
	}
	if n.pred.matchValue(v) {
		return true, outer
	}
	return false, -1
}

// andNode matches when every child does. A later child's array position
// replaces an earlier one's, as in MongoDB.
type andNode struct{ children []matchNode }

func (n *andNode) matchDoc(doc bson.D) (bool, int) {
	pos := -1
	for _, c := range n.children {
		ok, p := c.matchDoc(doc)
		if !ok {
			return false, -1
		}
		if p >= 0 {
			pos = p
		}
	}
	return true, pos
}

// orNode matches when any child does, reporting that child's position.
type orNode struct{ children []matchNode }

func (n *orNode) matchDoc(doc bson.D) (bool, int) {
	for _, c := range n.children {
		if ok, p := c.matchDoc(doc); ok {
			return true, p
		}
	}
	return false, -1
}

// notNode negates its child; a negated match has no array position.
type notNode struct{ child matchNode }

func (n *notNode) matchDoc(doc bson.D) (bool, int) {
	ok, _ := n.child.matchDoc(doc)
	return !ok, -1
}

// constNode is $alwaysTrue / $alwaysFalse and the empty filter.
type constNode struct{ value bool }

func (n *constNode) matchDoc(bson.D) (bool, int) { return n.value, -1 }

// exprNode is $expr: an aggregation expression evaluated against the
// document, matching when its result is truthy. An evaluation error makes
// the document not match (Match has no way to report it).
type exprNode struct{ expr *Expression }

func (n *exprNode) matchDoc(doc bson.D) (bool, int) {
	v, err := n.expr.Eval(doc, nil)
	if err != nil {
		return false, -1
	}
	return Truthy(v), -1
}

// arrayAsDoc lets $elemMatch's query form look into an element that is
// itself an array, whose fields are then its indexes, as MongoDB does.
func arrayAsDoc(a bson.A) bson.D {
	d := make(bson.D, len(a))
	for i, v := range a {
		d[i] = bson.E{Key: strconv.Itoa(i), Value: v}
	}
	return d
}
