package expr

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// Uses is the set of inputs an expression reads. The rules engine checks it
// at load time: filter apply_when may not read the document (W-43), sync
// roles may only read %%user, %%values, %%environment and %%true/%%false,
// and %function is banned in sync document filters.
type Uses uint32

// The inputs an expression can read.
const (
	UsesUser Uses = 1 << iota
	UsesValues
	UsesEnvironment
	UsesRequest
	UsesPartition
	UsesArgs
	UsesRoot     // %%root or a bare field path (under ScopeDocument)
	UsesPrevRoot // %%prevRoot
	UsesThis     // %%this
	UsesPrev     // %%prev
	UsesFunction // %function
	UsesLiteralBool
)

// UsesDocument is every input that changes per document.
const UsesDocument = UsesRoot | UsesPrevRoot | UsesThis | UsesPrev

var usesNames = []string{"%%user", "%%values", "%%environment", "%%request", "%%partition", "%%args",
	"%%root", "%%prevRoot", "%%this", "%%prev", "%function", "%%true/%%false"}

func (u Uses) String() string {
	var parts []string
	for i, n := range usesNames {
		if u&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, ",")
}

// Scope decides what a bare field path such as "owner_id" refers to.
type Scope uint8

const (
	// ScopeDocument: bare fields are paths in %%root (data access rules,
	// sync document filters).
	ScopeDocument Scope = iota
	// ScopeArgs: bare fields are paths in %%args (service rules,
	// can_evaluate).
	ScopeArgs
)

// Options configure Parse.
type Options struct {
	Scope Scope
}

// ParseError is a malformed expression: where in it (a path such as
// `$or[1].owner.$in`) and why. Rules are validated at load time, so this is
// what an operator sees next to the file name.
type ParseError struct {
	Path   string
	Reason string
	Err    error // ErrUnknownExpansion, ErrUnknownOperator or ErrSyntax
}

func (e *ParseError) Error() string {
	if e.Path == "" {
		return "expr: " + e.Reason
	}
	return "expr: at " + e.Path + ": " + e.Reason
}

func (e *ParseError) Unwrap() error { return e.Err }

// Sentinel errors that ParseError wraps, for errors.Is.
var (
	ErrSyntax           = errors.New("expr: invalid expression")
	ErrUnknownExpansion = errors.New("expr: unknown expansion")
	ErrUnknownOperator  = errors.New("expr: unknown operator")
)

// Expr is a parsed expression. It is immutable and safe for concurrent use.
type Expr struct {
	root    node
	uses    Uses
	fields  []string
	funcs   []string
	calls   []FunctionCall
	values  []string
	literal int8 // -1 not a literal, 0 false, 1 true
}

// FunctionCall is one function an expression calls through %function and
// where: the path of its first %function object in the expression (e.g.
// `$or[1].%%true.%function`), for load-time messages.
type FunctionCall struct {
	Name string
	Path string
}

// sortedCalls lists a parser's %function calls by name.
func sortedCalls(m map[string]string) (names []string, calls []FunctionCall) {
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		calls = append(calls, FunctionCall{Name: n, Path: m[n]})
	}
	return names, calls
}

// Uses reports which inputs the expression reads.
func (e *Expr) Uses() Uses { return e.uses }

// Fields returns the document field paths the expression reads (bare paths
// and %%root/%%prevRoot paths), sorted. The rules engine uses them to check
// that sync document filters touch only queryable fields.
func (e *Expr) Fields() []string { return append([]string(nil), e.fields...) }

// Functions returns the names of the functions %function calls, sorted, so
// that the loader can check they exist and find call cycles.
func (e *Expr) Functions() []string { return append([]string(nil), e.funcs...) }

// FunctionCalls is Functions with where each function is first called.
func (e *Expr) FunctionCalls() []FunctionCall { return append([]FunctionCall(nil), e.calls...) }

// ValueNames returns the app values the expression reads (%%values.<name>),
// sorted, so that the loader can reject a reference to a value that does
// not exist instead of letting it read as missing at request time.
func (e *Expr) ValueNames() []string { return append([]string(nil), e.values...) }

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Literal reports whether the expression is a JSON boolean and which. Some
// App Services behaviour ($$SEARCH_META, sync field permissions) depends on
// a rule being literally true, not merely evaluating to true.
func (e *Expr) Literal() (value, ok bool) {
	if e.literal < 0 {
		return false, false
	}
	return e.literal == 1, true
}

// True and False are the literal expressions, for rules with absent keys.
var (
	True  = &Expr{root: node{kind: nodeConst, val: true}, literal: 1}
	False = &Expr{root: node{kind: nodeConst, val: false}, literal: 0}
)

// ParseJSON parses an expression written as MongoDB Extended JSON (relaxed
// or canonical), as rule files are: `true`, `false` or an object, where
// {"$oid": ...} and the like are literal values.
func ParseJSON(data []byte, opts ...Options) (*Expr, error) {
	t := bytes.TrimSpace(data)
	switch string(t) {
	case "true":
		return Parse(true, opts...)
	case "false":
		return Parse(false, opts...)
	}
	var d bson.D
	if err := bson.UnmarshalExtJSON(t, false, &d); err != nil {
		return nil, &ParseError{Reason: "not a boolean or an Extended JSON object: " + err.Error(), Err: ErrSyntax}
	}
	return Parse(d, opts...)
}

// Parse parses an expression given as a Go value: a bool, or a document
// (bson.D, bson.M or map[string]any) whose values are BSON values. Extended
// JSON type wrappers left undecoded ({"$oid": "..."}) are decoded as the
// literal values they stand for.
func Parse(v any, opts ...Options) (*Expr, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	cv, err := canonical(v, 0)
	if err != nil {
		return nil, &ParseError{Reason: err.Error(), Err: ErrSyntax}
	}
	p := &parser{scope: o.Scope, fields: map[string]bool{}, funcs: map[string]string{}, values: map[string]bool{}}
	root, err := p.expr(cv, "", 0, false)
	if err != nil {
		return nil, err
	}
	e := &Expr{root: root, uses: p.uses, literal: -1, values: sortedKeys(p.values)}
	if b, ok := cv.(bool); ok {
		e.literal = 0
		if b {
			e.literal = 1
		}
	}
	for f := range p.fields {
		e.fields = append(e.fields, f)
	}
	sort.Strings(e.fields)
	e.funcs, e.calls = sortedCalls(p.funcs)
	return e, nil
}

type parser struct {
	scope  Scope
	uses   Uses
	fields map[string]bool
	funcs  map[string]string // name → path of its first %function
	values map[string]bool
}

func fail(path string, sentinel error, format string, args ...any) error {
	return &ParseError{Path: path, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

func child(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// nodeKind is the shape of an expression node.
type nodeKind uint8

const (
	nodeConst nodeKind = iota
	nodeAnd
	nodeOr
	nodeNor
	nodeNot
	nodeCond // one key: lhs plus tests that must all hold
)

// node is one expression. Nodes are plain structs dispatched by a switch,
// not interfaces, so that evaluating them does not make values escape.
type node struct {
	kind  nodeKind
	val   bool
	kids  []node
	lhs   ref
	tests []test
	path  string
	deps  Uses
}

// testOp is a predicate applied to a key's value.
type testOp uint8

const (
	opEq testOp = iota
	opNe
	opGt
	opGte
	opLt
	opLte
	opIn
	opNin
	opExists
	opAll
	opSize
	opType
	opElemMatch
	opNot // sub: an operator object, negated
	opAnd // groups: operator objects, all hold
	opOr
	opNor
)

var opNames = map[string]testOp{
	"eq": opEq, "ne": opNe, "neq": opNe, "gt": opGt, "gte": opGte, "lt": opLt, "lte": opLte,
	"in": opIn, "nin": opNin, "exists": opExists, "all": opAll, "size": opSize, "type": opType,
	"elemMatch": opElemMatch, "not": opNot, "and": opAnd, "or": opOr, "nor": opNor,
}

var opSpelling = map[testOp]string{
	opEq: "$eq", opNe: "$ne", opGt: "$gt", opGte: "$gte", opLt: "$lt", opLte: "$lte",
	opIn: "$in", opNin: "$nin", opExists: "$exists", opAll: "$all", opSize: "$size", opType: "$type",
	opElemMatch: "$elemMatch", opNot: "$not", opAnd: "$and", opOr: "$or", opNor: "$nor",
}

// test is one predicate on a key's value.
type test struct {
	op      testOp
	arg     value
	strict  bool     // no scalar-in-array membership (keys %%true/%%false)
	sub     []test   // opNot, opElemMatch value form
	groups  [][]test // opAnd, opOr, opNor
	elem    *node    // opElemMatch query form
	types   []typeSel
	rawType any // the $type argument as written, for Compile
	path    string
	deps    Uses
}

// typeSel is one $type argument: a BSON type, or "number".
type typeSel struct {
	t      bson.Type
	number bool
}

// unsupported lists operators that exist in MongoDB queries but are not
// part of the rule language, with the reason we give.
var unsupported = map[string]string{
	"%pipeline":      "%pipeline (Stitch named pipelines) is obsolete and not supported",
	"$expr":          "$expr is not available in rule expressions",
	"$where":         "$where is not available in rule expressions",
	"$regex":         "$regex is not available in rule expressions",
	"$text":          "$text is not available in rule expressions",
	"$jsonSchema":    "$jsonSchema is not available in rule expressions",
	"$mod":           "$mod is not available in rule expressions",
	"$comment":       "$comment is not available in rule expressions",
	"$near":          "geospatial operators are not available in rule expressions",
	"$geoWithin":     "geospatial operators are not available in rule expressions",
	"$nearSphere":    "geospatial operators are not available in rule expressions",
	"$geoIntersects": "geospatial operators are not available in rule expressions",
}

// expr parses an expression (a boolean or an object of ANDed keys).
// inElem is true inside an $elemMatch query, where bare fields refer to
// the array element.
func (p *parser) expr(v any, path string, depth int, inElem bool) (node, error) {
	if depth > MaxDepth {
		return node{}, fail(path, ErrSyntax, "expression nesting exceeds the maximum depth of %d", MaxDepth)
	}
	switch x := v.(type) {
	case bool:
		return node{kind: nodeConst, val: x, path: path}, nil
	case bson.D:
		n := node{kind: nodeAnd, path: path}
		seen := make(map[string]bool, len(x))
		for _, e := range x {
			kp := child(path, e.Key)
			if seen[e.Key] {
				return node{}, fail(kp, ErrSyntax, "duplicate key %q", e.Key)
			}
			seen[e.Key] = true
			k, err := p.key(e.Key, e.Value, kp, depth, inElem)
			if err != nil {
				return node{}, err
			}
			n.deps |= k.deps
			n.kids = append(n.kids, k)
		}
		if len(n.kids) == 1 {
			return n.kids[0], nil
		}
		return n, nil
	}
	return node{}, fail(path, ErrSyntax, "an expression must be a boolean or an object, not a %s", mql.TypeName(v))
}

func (p *parser) key(k string, v any, path string, depth int, inElem bool) (node, error) {
	switch k {
	case "%and", "$and", "%or", "$or", "%nor", "$nor":
		arr, ok := v.(bson.A)
		if !ok || len(arr) == 0 {
			return node{}, fail(path, ErrSyntax, "%s takes a non-empty array of expressions", k)
		}
		n := node{kind: map[string]nodeKind{"and": nodeAnd, "or": nodeOr, "nor": nodeNor}[k[1:]], path: path}
		for i, e := range arr {
			kid, err := p.expr(e, index(path, i), depth+1, inElem)
			if err != nil {
				return node{}, err
			}
			n.deps |= kid.deps
			n.kids = append(n.kids, kid)
		}
		return n, nil
	case "%not", "$not":
		// %not takes one expression; a one-element array is accepted too,
		// since the argument form was never documented (spec §5.4).
		if arr, ok := v.(bson.A); ok {
			if len(arr) != 1 {
				return node{}, fail(path, ErrSyntax, "%s takes one expression (or an array of exactly one)", k)
			}
			v = arr[0]
		}
		kid, err := p.expr(v, path, depth+1, inElem)
		if err != nil {
			return node{}, err
		}
		return node{kind: nodeNot, kids: []node{kid}, path: path, deps: kid.deps}, nil
	}
	if k == "" {
		return node{}, fail(path, ErrSyntax, "empty field name")
	}
	if strings.HasPrefix(k, "%%") {
		r, err := p.ref(k, path, inElem)
		if err != nil {
			return node{}, err
		}
		return p.cond(r, v, path, depth)
	}
	if k[0] == '$' || k[0] == '%' {
		if why, ok := unsupported[k]; ok {
			return node{}, fail(path, ErrUnknownOperator, "%s", why)
		}
		return node{}, fail(path, ErrUnknownOperator, "unknown operator %q where a field name, an expansion or %%and/%%or/%%nor/%%not is expected", k)
	}
	segs, err := splitPath(k, path)
	if err != nil {
		return node{}, err
	}
	r := ref{src: srcRoot, path: segs, text: k}
	switch {
	case inElem:
		r.src = srcElem
	case p.scope == ScopeArgs:
		r.src = srcArgs
		p.uses |= UsesArgs
	default:
		p.uses |= UsesRoot
		p.fields[k] = true
	}
	return p.cond(r, v, path, depth)
}

func splitPath(k, path string) ([]string, error) {
	segs := strings.Split(k, ".")
	for _, s := range segs {
		if s == "" {
			return nil, fail(path, ErrSyntax, "field path %q has an empty segment", k)
		}
		if s[0] == '$' {
			return nil, fail(path, ErrSyntax, "field path %q has a segment starting with '$'", k)
		}
	}
	return segs, nil
}

// expansion names, and the first-level keys each structured one allows.
var expansions = map[string]source{
	"%%true": srcConst, "%%false": srcConst, "%%user": srcUser, "%%values": srcValues,
	"%%environment": srcEnvironment, "%%request": srcRequest, "%%partition": srcPartition,
	"%%args": srcArgs, "%%root": srcRoot, "%%prevRoot": srcPrevRoot, "%%this": srcThis, "%%prev": srcPrev,
}

var expansionKeys = map[source][]string{
	srcUser:        {"id", "type", "data", "custom_data", "identities"},
	srcEnvironment: {"tag", "values"},
	srcRequest: {"httpMethod", "httpReferrer", "httpUserAgent", "rawQueryString", "remoteIPAddress",
		"requestHeaders", "service", "action", "webhookUrl"},
}

var sourceUses = map[source]Uses{
	srcConst: UsesLiteralBool, srcUser: UsesUser, srcValues: UsesValues, srcEnvironment: UsesEnvironment,
	srcRequest: UsesRequest, srcPartition: UsesPartition, srcArgs: UsesArgs, srcRoot: UsesRoot,
	srcPrevRoot: UsesPrevRoot, srcThis: UsesThis, srcPrev: UsesPrev,
}

func (p *parser) ref(s, path string, inElem bool) (ref, error) {
	name, rest, dotted := strings.Cut(s, ".")
	src, ok := expansions[name]
	if !ok {
		if name == "%%ctx" {
			return ref{}, fail(path, ErrUnknownExpansion, "there is no %%%%ctx expansion; use %%%%user, %%%%values or %%%%environment")
		}
		return ref{}, fail(path, ErrUnknownExpansion, "unknown expansion %q", name)
	}
	r := ref{src: src, text: s}
	if dotted {
		segs, err := splitPath(rest, path)
		if err != nil {
			return ref{}, err
		}
		r.path = segs
	}
	if src == srcConst {
		if dotted {
			return ref{}, fail(path, ErrUnknownExpansion, "%s has no fields", name)
		}
		r.konst = name == "%%true"
	}
	if keys, ok := expansionKeys[src]; ok && len(r.path) > 0 {
		found := false
		for _, k := range keys {
			found = found || k == r.path[0]
		}
		if !found {
			return ref{}, fail(path, ErrUnknownExpansion, "%s has no field %q (known: %s)", name, r.path[0], strings.Join(keys, ", "))
		}
	}
	p.uses |= sourceUses[src]
	if src == srcValues && len(r.path) > 0 && p.values != nil {
		p.values[r.path[0]] = true
	}
	if (src == srcRoot || src == srcPrevRoot) && dotted {
		p.fields[rest] = true
	}
	return r, nil
}

// isOperatorObject reports whether a document in value position is a set of
// operators rather than a literal document.
func isOperatorObject(d bson.D) bool {
	if len(d) == 0 {
		return false
	}
	k := d[0].Key
	return (strings.HasPrefix(k, "$") || (strings.HasPrefix(k, "%") && !strings.HasPrefix(k, "%%"))) && !ejsonWrappers[k]
}

// ejsonWrappers are Extended JSON type keys: documents starting with one
// are literal values (spec §5.1), decoded if the caller did not.
var ejsonWrappers = map[string]bool{
	"$oid": true, "$date": true, "$numberLong": true, "$numberInt": true, "$numberDouble": true,
	"$numberDecimal": true, "$binary": true, "$uuid": true, "$regularExpression": true, "$timestamp": true,
	"$minKey": true, "$maxKey": true, "$undefined": true, "$symbol": true, "$code": true, "$scope": true,
	"$dbPointer": true,
}

func decodeWrapper(d bson.D, path string) (any, error) {
	raw, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: d}}, true, false)
	if err == nil {
		var out bson.D
		if err = bson.UnmarshalExtJSON(raw, false, &out); err == nil && len(out) == 1 {
			if _, still := out[0].Value.(bson.D); !still {
				return out[0].Value, nil
			}
			err = errors.New("not a recognised Extended JSON value")
		}
	}
	return nil, fail(path, ErrSyntax, "invalid Extended JSON value %s: %v", d[0].Key, err)
}

// cond parses the value of a field or expansion key.
func (p *parser) cond(r ref, v any, path string, depth int) (node, error) {
	n := node{kind: nodeCond, lhs: r, path: path, deps: sourceUses[r.src]}
	if r.src == srcElem {
		n.deps = 0
	}
	strict := r.src == srcConst
	if d, ok := v.(bson.D); ok && isOperatorObject(d) {
		tests, err := p.opObject(d, path, depth+1, strict)
		if err != nil {
			return node{}, err
		}
		n.tests = tests
	} else {
		val, err := p.value(v, path, depth+1)
		if err != nil {
			return node{}, err
		}
		n.tests = []test{{op: opEq, arg: val, strict: strict, path: path, deps: val.deps}}
	}
	for _, t := range n.tests {
		n.deps |= t.deps
	}
	return n, nil
}

// opObject parses {op: arg, ...}. A value operator (%function or a
// converter) must stand alone: it produces the value to compare with.
func (p *parser) opObject(d bson.D, path string, depth int, strict bool) ([]test, error) {
	if depth > MaxDepth {
		return nil, fail(path, ErrSyntax, "expression nesting exceeds the maximum depth of %d", MaxDepth)
	}
	if k := d[0].Key; k == "%function" || convNames[k] != 0 {
		if len(d) != 1 {
			return nil, fail(path, ErrSyntax, "%s must be the only key of its object", k)
		}
		val, err := p.value(d, path, depth)
		if err != nil {
			return nil, err
		}
		return []test{{op: opEq, arg: val, strict: strict, path: path, deps: val.deps}}, nil
	}
	var tests []test
	for _, e := range d {
		kp := child(path, e.Key)
		t, err := p.test(e.Key, e.Value, kp, depth, strict)
		if err != nil {
			return nil, err
		}
		tests = append(tests, t)
	}
	return tests, nil
}

func (p *parser) test(k string, v any, path string, depth int, strict bool) (test, error) {
	if k == "" || (k[0] != '$' && k[0] != '%') || strings.HasPrefix(k, "%%") {
		return test{}, fail(path, ErrSyntax, "%q mixes a field name into an operator object", k)
	}
	if k == "%function" || convNames[k] != 0 {
		return test{}, fail(path, ErrSyntax, "%s must be the only key of its object", k)
	}
	op, ok := opNames[k[1:]]
	if !ok {
		if why, bad := unsupported[k]; bad {
			return test{}, fail(path, ErrUnknownOperator, "%s", why)
		}
		return test{}, fail(path, ErrUnknownOperator, "unknown operator %q", k)
	}
	t := test{op: op, strict: strict, path: path}
	switch op {
	case opNot:
		d, ok := v.(bson.D)
		if !ok || !isOperatorObject(d) {
			return test{}, fail(path, ErrSyntax, "%s takes an operator object such as {\"$gt\": 1}", k)
		}
		sub, err := p.opObject(d, path, depth+1, strict)
		if err != nil {
			return test{}, err
		}
		t.sub = sub
	case opAnd, opOr, opNor:
		arr, ok := v.(bson.A)
		if !ok || len(arr) == 0 {
			return test{}, fail(path, ErrSyntax, "%s used on a value takes a non-empty array of operator objects", k)
		}
		for i, e := range arr {
			ep := index(path, i)
			d, ok := e.(bson.D)
			if !ok || !isOperatorObject(d) {
				return test{}, fail(ep, ErrSyntax, "%s used on a value takes operator objects such as {\"$gt\": 0}", k)
			}
			g, err := p.opObject(d, ep, depth+1, strict)
			if err != nil {
				return test{}, err
			}
			t.groups = append(t.groups, g)
		}
	case opElemMatch:
		d, ok := v.(bson.D)
		if !ok {
			return test{}, fail(path, ErrSyntax, "%s takes an object", k)
		}
		if isOperatorObject(d) {
			sub, err := p.opObject(d, path, depth+1, false)
			if err != nil {
				return test{}, err
			}
			t.sub = sub
		} else {
			n, err := p.expr(d, path, depth+1, true)
			if err != nil {
				return test{}, err
			}
			t.elem = &n
			t.deps |= n.deps
		}
	case opType:
		sels, err := typeSels(v, path)
		if err != nil {
			return test{}, err
		}
		t.types = sels
		t.rawType = v
	default:
		val, err := p.value(v, path, depth+1)
		if err != nil {
			return test{}, err
		}
		if val.kind == valLiteral {
			switch op {
			case opIn, opNin, opAll:
				if _, isArr := val.lit.(bson.A); !isArr {
					return test{}, fail(path, ErrSyntax, "%s takes an array (or an expansion that yields one)", k)
				}
			case opSize:
				if n, ok := mql.ToInt64(val.lit); !ok || n < 0 {
					return test{}, fail(path, ErrSyntax, "%s takes a non-negative whole number", k)
				}
			}
		}
		t.arg = val
	}
	t.deps |= t.arg.deps
	for _, s := range t.sub {
		t.deps |= s.deps
	}
	for _, g := range t.groups {
		for _, s := range g {
			t.deps |= s.deps
		}
	}
	return t, nil
}

func typeSels(v any, path string) ([]typeSel, error) {
	items, isArr := v.(bson.A)
	if !isArr {
		items = bson.A{v}
	}
	if len(items) == 0 {
		return nil, fail(path, ErrSyntax, "$type takes a type name, a type number or an array of them")
	}
	var out []typeSel
	for _, it := range items {
		switch x := it.(type) {
		case string:
			if x == "number" {
				out = append(out, typeSel{number: true})
				continue
			}
			t, ok := mql.TypeByAlias(x)
			if !ok {
				return nil, fail(path, ErrSyntax, "unknown BSON type alias %q", x)
			}
			out = append(out, typeSel{t: t})
		default:
			n, ok := mql.ToInt64(it)
			if !ok || !knownTypeCode(n) {
				return nil, fail(path, ErrSyntax, "invalid $type argument %v", it)
			}
			out = append(out, typeSel{t: bson.Type(byte(n))})
		}
	}
	return out, nil
}

func knownTypeCode(n int64) bool {
	return (n >= 1 && n <= 19) || n == -1 || n == 127
}

// value parses a value position: a literal, an expansion, a converter or
// %function, or an array/document that contains any of those.
func (p *parser) value(v any, path string, depth int) (value, error) {
	if depth > MaxDepth {
		return value{}, fail(path, ErrSyntax, "value nesting exceeds the maximum depth of %d", MaxDepth)
	}
	switch x := v.(type) {
	case string:
		if !strings.HasPrefix(x, "%%") {
			return value{kind: valLiteral, lit: x}, nil
		}
		r, err := p.ref(x, path, false)
		if err != nil {
			return value{}, err
		}
		if r.src == srcConst {
			return value{kind: valLiteral, lit: r.konst}, nil
		}
		return value{kind: valRef, ref: r, deps: sourceUses[r.src], where: path}, nil
	case bson.A:
		out := value{kind: valArray, where: path}
		lit := true
		for i, e := range x {
			kv, err := p.value(e, index(path, i), depth+1)
			if err != nil {
				return value{}, err
			}
			lit = lit && kv.kind == valLiteral
			out.deps |= kv.deps
			out.kids = append(out.kids, kv)
		}
		if lit {
			return value{kind: valLiteral, lit: x}, nil
		}
		return out, nil
	case bson.D:
		if len(x) > 0 && ejsonWrappers[x[0].Key] {
			lit, err := decodeWrapper(x, path)
			if err != nil {
				return value{}, err
			}
			return value{kind: valLiteral, lit: lit}, nil
		}
		if len(x) > 0 {
			k := x[0].Key
			if k == "%function" {
				return p.function(x, path, depth)
			}
			if op := convNames[k]; op != 0 {
				return p.converter(op, x, path, depth)
			}
			if isOperatorObject(x) {
				return value{}, fail(child(path, k), ErrSyntax, "operator %q cannot be used as a value", k)
			}
		}
		out := value{kind: valDoc, where: path}
		lit := true
		for _, e := range x {
			if strings.HasPrefix(e.Key, "$") || (strings.HasPrefix(e.Key, "%") && !strings.HasPrefix(e.Key, "%%")) {
				return value{}, fail(child(path, e.Key), ErrSyntax, "a literal document mixes field names with operator %q", e.Key)
			}
			kv, err := p.value(e.Value, child(path, e.Key), depth+1)
			if err != nil {
				return value{}, err
			}
			lit = lit && kv.kind == valLiteral
			out.deps |= kv.deps
			out.keys = append(out.keys, e.Key)
			out.kids = append(out.kids, kv)
		}
		if lit {
			return value{kind: valLiteral, lit: x}, nil
		}
		return out, nil
	}
	return value{kind: valLiteral, lit: v}, nil
}

func (p *parser) converter(op convOp, d bson.D, path string, depth int) (value, error) {
	kp := child(path, d[0].Key)
	if len(d) != 1 {
		return value{}, fail(path, ErrSyntax, "%s must be the only key of its object", d[0].Key)
	}
	arg := d[0].Value
	if ad, ok := arg.(bson.D); ok && !(len(ad) > 0 && ejsonWrappers[ad[0].Key]) {
		return value{}, fail(kp, ErrSyntax, "%s takes a literal or an expansion, not an object", d[0].Key)
	}
	if _, ok := arg.(bson.A); ok {
		return value{}, fail(kp, ErrSyntax, "%s takes a literal or an expansion, not an array", d[0].Key)
	}
	av, err := p.value(arg, kp, depth+1)
	if err != nil {
		return value{}, err
	}
	if av.kind == valLiteral {
		out, err := convert(op, av.lit)
		if err != nil {
			return value{}, fail(kp, ErrSyntax, "%v", err)
		}
		return value{kind: valLiteral, lit: out}, nil
	}
	return value{kind: valConvert, conv: op, kids: []value{av}, deps: av.deps, where: kp}, nil
}

func (p *parser) function(d bson.D, path string, depth int) (value, error) {
	kp := child(path, "%function")
	if len(d) != 1 {
		return value{}, fail(path, ErrSyntax, "%%function must be the only key of its object")
	}
	spec, ok := d[0].Value.(bson.D)
	if !ok {
		return value{}, fail(kp, ErrSyntax, "%%function takes {\"name\": ..., \"arguments\": [...]}")
	}
	out := value{kind: valFunction, deps: UsesFunction, where: kp}
	for _, e := range spec {
		switch e.Key {
		case "name":
			s, ok := e.Value.(string)
			if !ok || s == "" {
				return value{}, fail(child(kp, "name"), ErrSyntax, "the function name must be a non-empty string")
			}
			out.name = s
		case "arguments":
			arr, ok := e.Value.(bson.A)
			if !ok {
				return value{}, fail(child(kp, "arguments"), ErrSyntax, "arguments must be an array")
			}
			for i, a := range arr {
				av, err := p.value(a, index(child(kp, "arguments"), i), depth+1)
				if err != nil {
					return value{}, err
				}
				out.deps |= av.deps
				out.kids = append(out.kids, av)
			}
		default:
			return value{}, fail(child(kp, e.Key), ErrSyntax, "unknown %%function key %q (expected name, arguments)", e.Key)
		}
	}
	if out.name == "" {
		return value{}, fail(kp, ErrSyntax, "%%function needs a name")
	}
	p.uses |= UsesFunction
	if _, seen := p.funcs[out.name]; !seen {
		p.funcs[out.name] = kp
	}
	return out, nil
}
