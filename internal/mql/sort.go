package mql

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Sort specification error codes from the MongoDB server.
const (
	sortCodeIllegalKey       = 15974 // value is neither a number nor {$meta: ...}
	sortCodeBadDirection     = 15975 // number other than 1 or -1
	sortCodeOnlyMeta         = 17312 // object value other than {$meta: ...}
	projsortCodePathEmpty    = 40352 // FieldPath built from ""
	projsortCodePathEmptyElt = 15998 // "a..b"
	projsortCodePathDollar   = 16410 // component starting with '$'
	projsortCodePathNul      = 16411 // component containing NUL
)

// SortKey is one field of a sort specification.
type SortKey struct {
	Path string // dotted path, as written in the specification
	Desc bool   // true for -1
}

// Sort is a compiled sort specification. Values compare in MongoDB's
// cross-type order (Compare). A field holding an array sorts by its
// smallest element ascending and its largest descending, also through
// dotted paths into arrays of documents, where an element lacking the
// field counts as null; a missing field sorts as null, and an empty array
// as undefined, just below null. Each sort field picks its array element
// independently: where MongoDB errors on two sort fields running through
// different arrays ("parallel arrays"), or picks one element for fields
// sharing an array, this package does neither.
type Sort struct {
	keys  []SortKey
	paths [][]string
}

// CompileSort parses and validates a sort specification such as {a: 1, b: -1}.
// Directions may be any numeric type equal to 1 or -1. An empty
// specification yields a Sort that leaves the order of documents unchanged.
// {$meta: "textScore"} is recognised and refused: text search is not
// supported.
func CompileSort(spec bson.D) (*Sort, error) {
	s := &Sort{}
	for _, e := range spec {
		if e.Key == "$natural" {
			// A storage-order hint, not a field; the store decides whether
			// it can honour it.
			return nil, errUnsupported("sort", "$natural")
		}
		comps, err := projsortSplitPath(e.Key)
		if err != nil {
			return nil, err
		}
		var dir float64
		val := e.Value
		if i, ok := val.(int); ok {
			// Callers building specs in Go write bson.D{{"a", 1}}.
			val = int64(i)
		}
		switch v := val.(type) {
		case int32, int64, float64, bson.Decimal128:
			dir, _ = ToFloat64(v)
		case bson.D:
			if len(v) > 0 && v[0].Key == "$meta" {
				return nil, errUnsupported("sort", "$meta sort on field "+e.Key+" (text search is not supported)")
			}
			return nil, Errorf(sortCodeOnlyMeta, "$meta is the only expression supported by $sort right now")
		default:
			return nil, Errorf(sortCodeIllegalKey, "Illegal key in $sort specification: %s: %s", e.Key, projsortDescribe(val))
		}
		if dir != 1 && dir != -1 {
			return nil, Errorf(sortCodeBadDirection, "$sort key ordering must be 1 (for ascending) or -1 (for descending)")
		}
		s.keys = append(s.keys, SortKey{Path: e.Key, Desc: dir == -1})
		s.paths = append(s.paths, comps)
	}
	return s, nil
}

// Fields returns the sort's fields in order, for planners that want to
// use an index.
func (s *Sort) Fields() []SortKey { return slices.Clone(s.keys) }

// Compare orders two documents by the sort specification: negative when a
// sorts first, positive when b does, zero when the specification cannot
// tell them apart.
func (s *Sort) Compare(a, b bson.D) int {
	for i, p := range s.paths {
		desc := s.keys[i].Desc
		c := Compare(sortKeyValue(a, p, desc), sortKeyValue(b, p, desc))
		if c != 0 {
			if desc {
				return -c
			}
			return c
		}
	}
	return 0
}

// sortKeyCell is a document's key on one sort field, computed once so
// that the O(n log n) comparisons do not walk documents again. The common
// scalar cases also keep a form that compares without type switches.
type sortKeyCell struct {
	v    any
	kind uint8 // sortCellFloat, sortCellString or sortCellOther
	f    float64
	s    string
}

const (
	sortCellOther uint8 = iota
	sortCellFloat
	sortCellString
)

func makeSortKeyCell(v any) sortKeyCell {
	switch x := v.(type) {
	case float64:
		if !math.IsNaN(x) {
			return sortKeyCell{v: v, kind: sortCellFloat, f: x}
		}
	case int32:
		return sortKeyCell{v: v, kind: sortCellFloat, f: float64(x)}
	case int64:
		// Only integers a double represents exactly may take the fast path.
		if x >= -1<<53 && x <= 1<<53 {
			return sortKeyCell{v: v, kind: sortCellFloat, f: float64(x)}
		}
	case string:
		return sortKeyCell{v: v, kind: sortCellString, s: x}
	}
	return sortKeyCell{v: v}
}

func compareSortCells(a, b *sortKeyCell) int {
	if a.kind == b.kind {
		switch a.kind {
		case sortCellFloat:
			return cmpFloat(a.f, b.f)
		case sortCellString:
			return strings.Compare(a.s, b.s)
		}
	}
	return Compare(a.v, b.v)
}

// Sort sorts docs in place, stably: documents with equal keys keep their
// relative order.
func (s *Sort) Sort(docs []bson.D) {
	if len(s.keys) == 0 || len(docs) < 2 {
		return
	}
	n := len(s.keys)
	vals := make([]any, len(docs)*n)
	allFloat, allString := n == 1, n == 1
	for i, d := range docs {
		for j, p := range s.paths {
			v := sortKeyValue(d, p, s.keys[j].Desc)
			vals[i*n+j] = v
			if allFloat || allString {
				kind := makeSortKeyCell(v).kind
				allFloat = allFloat && kind == sortCellFloat
				allString = allString && kind == sortCellString
			}
		}
	}
	// Each ordering breaks ties on the original index, which makes the
	// unstable (and faster) pattern-defeating quicksort stable.
	var order []int32
	switch {
	case allFloat:
		order = sortByFloat(vals, s.keys[0].Desc)
	case allString:
		order = sortByString(vals, s.keys[0].Desc)
	default:
		cells := make([]sortKeyCell, len(vals))
		for i, v := range vals {
			cells[i] = makeSortKeyCell(v)
		}
		order = make([]int32, len(docs))
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(x, y int32) int {
			kx, ky := cells[int(x)*n:int(x)*n+n], cells[int(y)*n:int(y)*n+n]
			for j := range kx {
				if c := compareSortCells(&kx[j], &ky[j]); c != 0 {
					if s.keys[j].Desc {
						return -c
					}
					return c
				}
			}
			return cmpInt(int(x), int(y))
		})
	}
	sorted := make([]bson.D, len(docs))
	for i, o := range order {
		sorted[i] = docs[o]
	}
	copy(docs, sorted)
}

// sortByFloat orders a single numeric key with small entries, the common
// case of sorting on a number field.
func sortByFloat(vals []any, desc bool) []int32 {
	type entry struct {
		f   float64
		idx int32
	}
	es := make([]entry, len(vals))
	for i, v := range vals {
		es[i] = entry{makeSortKeyCell(v).f, int32(i)}
	}
	slices.SortFunc(es, func(x, y entry) int {
		c := cmpFloat(x.f, y.f)
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return int(x.idx - y.idx)
	})
	order := make([]int32, len(es))
	for i, e := range es {
		order[i] = e.idx
	}
	return order
}

// sortByString is sortByFloat for a single string key.
func sortByString(vals []any, desc bool) []int32 {
	type entry struct {
		s   string
		idx int32
	}
	es := make([]entry, len(vals))
	for i, v := range vals {
		es[i] = entry{v.(string), int32(i)}
	}
	slices.SortFunc(es, func(x, y entry) int {
		c := strings.Compare(x.s, y.s)
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return int(x.idx - y.idx)
	})
	order := make([]int32, len(es))
	for i, e := range es {
		order[i] = e.idx
	}
	return order
}

// sortKeyValue returns the value doc sorts by on path. Like an index over
// the path would, it considers every value the path reaches through
// arrays and picks the smallest for an ascending sort and the largest for
// a descending one. A missing value sorts as null; an empty array at the
// end of the path sorts as undefined, below null.
func sortKeyValue(doc bson.D, path []string, desc bool) any {
	// Fast path: the path runs through documents to a scalar.
	cur := doc
	for i, c := range path {
		v := Get(cur, c)
		if d, ok := v.(bson.D); ok && i < len(path)-1 {
			cur = d
			continue
		}
		if i < len(path)-1 {
			if _, isArr := v.(bson.A); !isArr {
				return nil
			}
			break
		}
		switch v.(type) {
		case bson.A:
		case missingType:
			return nil
		default:
			return v
		}
	}
	var best any
	have := false
	collectSortKeys(doc, path, func(v any) {
		if !have {
			best, have = v, true
			return
		}
		c := Compare(v, best)
		if (desc && c > 0) || (!desc && c < 0) {
			best = v
		}
	})
	if !have {
		return nil
	}
	return best
}

// collectSortKeys calls emit with each key the path yields in doc. The
// path is at most MaxDepth components (CompileSort checks it), which bounds
// the recursion.
func collectSortKeys(v any, path []string, emit func(any)) {
	if len(path) == 0 {
		switch x := v.(type) {
		case bson.A:
			if len(x) == 0 {
				emit(bson.Undefined{})
				return
			}
			// Elements are keys themselves; nested arrays stay whole.
			for _, e := range x {
				if IsMissing(e) {
					e = nil
				}
				emit(e)
			}
		case missingType:
			emit(nil)
		default:
			emit(v)
		}
		return
	}
	switch x := v.(type) {
	case bson.D:
		collectSortKeys(Get(x, path[0]), path[1:], emit)
	case bson.A:
		// A numeric component addresses an element of the array.
		if idx, err := strconv.Atoi(path[0]); err == nil && idx >= 0 && path[0][0] != '+' {
			if idx < len(x) {
				collectSortKeys(x[idx], path[1:], emit)
			} else {
				emit(nil)
			}
			return
		}
		if len(x) == 0 {
			emit(nil)
			return
		}
		for _, e := range x {
			if d, ok := e.(bson.D); ok {
				collectSortKeys(Get(d, path[0]), path[1:], emit)
			} else {
				// Scalars and nested arrays have no fields: null, as an
				// index would record for them.
				emit(nil)
			}
		}
	default:
		emit(nil)
	}
}

// projsortSplitPath validates a dotted field path as MongoDB's FieldPath does
// and returns its components.
func projsortSplitPath(p string) ([]string, error) {
	if p == "" {
		return nil, Errorf(projsortCodePathEmpty, "FieldPath cannot be constructed with empty string")
	}
	comps := strings.Split(p, ".")
	if len(comps) > MaxDepth {
		return nil, Errorf(CodeOverflow, "field path %q has more than %d components", p, MaxDepth)
	}
	for _, c := range comps {
		switch {
		case c == "":
			return nil, Errorf(projsortCodePathEmptyElt, "FieldPath field names may not be empty strings (in %q)", p)
		case c[0] == '$':
			return nil, Errorf(projsortCodePathDollar, "FieldPath field names may not start with '$' (in %q)", p)
		case strings.IndexByte(c, 0) >= 0:
			return nil, Errorf(projsortCodePathNul, "FieldPath field names may not contain '\\0' (in %q)", p)
		}
	}
	return comps, nil
}

// projsortDescribe renders a specification value for error messages.
func projsortDescribe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	}
	return TypeName(v)
}
