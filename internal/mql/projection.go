package mql

import (
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Projection error codes from the MongoDB server (projection_parser).
const (
	projCodePathCollisionRest  = 31249 // "a" then "a.b"
	projCodePathCollision      = 31250 // "a.b" then "a", or "a" twice
	projCodeExprInExclusion    = 31252
	projCodeInclInExclusion    = 31253
	projCodeExclInInclusion    = 31254
	projCodeElemMatchPositonal = 31255 // $elemMatch after a positional
	projCodePositionalElem     = 31256 // positional after $elemMatch
	projCodePositionalEndsDot  = 31270
	projCodePositionalWithObj  = 31271
	projCodeElemMatchArg       = 31274
	projCodeElemMatchNested    = 31275
	projCodeTwoPositionals     = 31276
	projCodePositionalTwice    = 31287
	projCodePositionalLiteral  = 31308
	projCodeLiteralInExclusion = 31310
	projCodeUnknownExpression  = 31325
	projCodeEmptySubProjection = 51270
)

// projKind says what a projection AST node does.
type projKind uint8

const (
	projPath       projKind = iota // inner node: a sub-projection
	projInclude                    // field: 1
	projExclude                    // field: 0
	projExpr                       // literal or aggregation expression
	projElemMatch                  // field: {$elemMatch: ...}
	projSlice                      // field: {$slice: ...}
	projPositional                 // field.$: 1
)

// projAST is the parsed specification: a tree of path components in the
// order they were written.
type projAST struct {
	kind   projKind
	names  []string // children of a projPath node, in order
	kids   map[string]*projAST
	expr   *Expression
	filter *Filter
	skip   int
	limit  int
	hasSkp bool
}

func newProjPath() *projAST { return &projAST{kind: projPath, kids: map[string]*projAST{}} }

func (n *projAST) child(name string) *projAST { return n.kids[name] }

func (n *projAST) addChild(name string, c *projAST) {
	n.names = append(n.names, name)
	n.kids[name] = c
}

func (n *projAST) removeChild(name string) {
	if _, ok := n.kids[name]; !ok {
		return
	}
	delete(n.kids, name)
	for i, s := range n.names {
		if s == name {
			n.names = append(n.names[:i:i], n.names[i+1:]...)
			break
		}
	}
}

// Projection is a compiled find projection with MongoDB 4.4+ semantics:
// inclusion or exclusion of (dotted) fields, the find-only operators
// $slice, $elemMatch and the positional a.$, and computed fields given as
// literals or aggregation expressions. It is safe for concurrent use.
type Projection struct {
	inclusion bool
	root      *projExecNode
	post      []projPost // $slice and positional steps, applied to the projected document
	empty     bool
}

// projParse holds what parsing has learned about the specification so far.
type projParse struct {
	typ                int // 0 unknown, projTypeInclusion, projTypeExclusion
	idSpecified        bool
	hasPositional      bool
	hasElemMatch       bool
	hasFindSlice       bool
	idIncludedEntirely bool
	root               *projAST
}

const (
	projTypeInclusion = 1
	projTypeExclusion = 2
)

// CompileProjection parses and validates a find projection. An empty
// specification returns whole documents.
func CompileProjection(spec bson.D) (*Projection, error) {
	if err := CheckDepth(spec); err != nil {
		return nil, err
	}
	ctx := &projParse{root: newProjPath()}
	for _, e := range spec {
		if e.Key == "_id" || strings.HasPrefix(e.Key, "_id.") {
			ctx.idSpecified = true
		}
		if err := ctx.parseElement(e.Key, e.Value, nil, ctx.root, 0); err != nil {
			return nil, err
		}
	}
	if ctx.typ == 0 {
		ctx.typ = ctx.defaultType()
	}
	if !ctx.idSpecified && ctx.typ == projTypeInclusion {
		ctx.root.addChild("_id", &projAST{kind: projInclude})
	}
	if ctx.typ == projTypeExclusion && ctx.idIncludedEntirely {
		// {_id: 1} in an exclusion projection keeps _id, which an
		// exclusion does anyway.
		ctx.root.removeChild("_id")
	}
	p := &Projection{inclusion: ctx.typ == projTypeInclusion, empty: len(spec) == 0}
	p.root = newProjExecNode()
	p.build(ctx.root, nil)
	return p, nil
}

// defaultType decides the kind of a projection that has only _id and
// find-only operators, with MongoDB's compatibility rules.
func (ctx *projParse) defaultType() int {
	switch {
	case ctx.hasFindSlice:
		if ctx.idIncludedEntirely {
			return projTypeInclusion
		}
		return projTypeExclusion
	case ctx.hasElemMatch:
		return projTypeInclusion
	case ctx.idIncludedEntirely:
		return projTypeInclusion
	}
	return projTypeExclusion
}

// projFirstPositional returns where the first positional operator of a
// projected field name begins and ends, or ok false.
func projFirstPositional(name string) (begin, end int, ok bool) {
	if i := strings.Index(name, ".$."); i >= 0 {
		return i, i + 3, true
	}
	if strings.HasSuffix(name, ".$") {
		return len(name) - 2, len(name), true
	}
	if name == "$" {
		return 0, 1, true
	}
	return 0, 0, false
}

// projFlagTrue reports whether a flag value includes. Decimal zero has
// many encodings (0E+0, 0.00, -0), so it is tested by value.
func projFlagTrue(v any) bool {
	if d, ok := v.(bson.Decimal128); ok {
		c := classify(d)
		return c.nan || c.inf != 0 || c.rat.Sign() != 0
	}
	return Truthy(v)
}

func projIsFlag(v any) bool {
	switch v.(type) {
	case bool, int32, int64, float64, bson.Decimal128:
		return true
	}
	return false
}

func (ctx *projParse) parseElement(name string, v any, parentPath []string, parent *projAST, depth int) error {
	if depth > MaxDepth {
		return Errorf(CodeOverflow, "projection nesting exceeds the maximum depth of %d", MaxDepth)
	}
	if i, ok := v.(int); ok {
		// Callers building specs in Go write bson.D{{"a", 1}}.
		v = int64(i)
	}
	begin, end, positional := projFirstPositional(name)
	switch {
	case projIsDoc(v):
		if positional {
			return Errorf(projCodePositionalWithObj, "positional projection cannot be used with an expression or sub object")
		}
		return ctx.parseSubObject(name, v.(bson.D), parentPath, parent, depth)
	case projIsFlag(v):
		if projFlagTrue(v) {
			return ctx.parseInclusion(name, parent, positional, begin, end)
		}
		return ctx.parseExclusion(name, parent)
	}
	if positional {
		return Errorf(projCodePositionalLiteral, "positional projection cannot be used with a literal")
	}
	return ctx.parseLiteral(name, v, parent)
}

func projIsDoc(v any) bool { _, ok := v.(bson.D); return ok }

func (ctx *projParse) parseInclusion(name string, parent *projAST, positional bool, begin, end int) error {
	topID := name == "_id" && parent == ctx.root
	if !positional {
		path, err := projsortSplitPath(name)
		if err != nil {
			return err
		}
		if err := projAddAtPath(parent, path, &projAST{kind: projInclude}); err != nil {
			return err
		}
		if topID {
			ctx.idIncludedEntirely = true
		}
	} else {
		if ctx.hasPositional {
			return Errorf(projCodeTwoPositionals, "Cannot specify more than one positional projection per query.")
		}
		if ctx.hasElemMatch {
			return Errorf(projCodePositionalElem, "Cannot specify positional operator and $elemMatch.")
		}
		if strings.HasSuffix(name, ".$.") {
			return Errorf(projCodePositionalEndsDot, "Path cannot end with '.$.'")
		}
		rest := name[end:]
		if _, _, again := projFirstPositional(rest); again || rest == "$" {
			return Errorf(projCodePositionalTwice, "Cannot use positional operator twice: %s", name)
		}
		path, err := projsortSplitPath(name[:begin])
		if err != nil {
			return err
		}
		if err := projAddAtPath(parent, path, &projAST{kind: projPositional}); err != nil {
			return err
		}
		ctx.hasPositional = true
	}
	if !topID {
		if ctx.typ == projTypeExclusion {
			return Errorf(projCodeInclInExclusion, "Cannot do inclusion on field %s in exclusion projection", name)
		}
		ctx.typ = projTypeInclusion
	}
	return nil
}

func (ctx *projParse) parseExclusion(name string, parent *projAST) error {
	path, err := projsortSplitPath(name)
	if err != nil {
		return err
	}
	if err := projAddAtPath(parent, path, &projAST{kind: projExclude}); err != nil {
		return err
	}
	if name == "_id" && parent == ctx.root {
		return nil
	}
	if ctx.typ == projTypeInclusion {
		return Errorf(projCodeExclInInclusion, "Cannot do exclusion on field %s in inclusion projection", name)
	}
	ctx.typ = projTypeExclusion
	return nil
}

func (ctx *projParse) parseLiteral(name string, v any, parent *projAST) error {
	path, err := projsortSplitPath(name)
	if err != nil {
		return err
	}
	// The kind check comes first so that the error does not depend on the
	// literal being a valid expression.
	if ctx.typ == projTypeExclusion {
		return Errorf(projCodeLiteralInExclusion, "Cannot use an expression %s: %s in an exclusion projection", name, projsortDescribe(v))
	}
	expr, err := CompileExpression(v)
	if err != nil {
		return err
	}
	if err := projAddAtPath(parent, path, &projAST{kind: projExpr, expr: expr}); err != nil {
		return err
	}
	ctx.typ = projTypeInclusion
	return nil
}

func (ctx *projParse) parseSubObject(name string, obj bson.D, parentPath []string, parent *projAST, depth int) error {
	path, err := projsortSplitPath(name)
	if err != nil {
		return err
	}
	if len(obj) == 1 && strings.HasPrefix(obj[0].Key, "$") {
		return ctx.parseOperator(name, path, obj, parent)
	}
	if len(obj) == 0 {
		return Errorf(projCodeEmptySubProjection, "An empty sub-projection is not a valid value. Found empty object at path %s", strings.Join(append(slices.Clone(parentPath), path...), "."))
	}
	node, err := projPathNodeAt(parent, path)
	if err != nil {
		return err
	}
	full := append(slices.Clone(parentPath), path...)
	for _, e := range obj {
		if err := ctx.parseElement(e.Key, e.Value, full, node, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// parseOperator handles {field: {$op: arg}}: the find-only operators
// $slice and $elemMatch, and otherwise an aggregation expression.
func (ctx *projParse) parseOperator(name string, path []string, obj bson.D, parent *projAST) error {
	op, arg := obj[0].Key, obj[0].Value
	switch op {
	case "$slice":
		node, ferr := projParseFindSlice(arg)
		if ferr == nil {
			ctx.hasFindSlice = true
			return projAddAtPath(parent, path, node)
		}
		if !projLooksLikeAggSlice(arg) {
			return ferr
		}
		// {$slice: ["$arr", n]} is the aggregation operator.
		return ctx.parseExpression(name, path, obj, parent)
	case "$elemMatch":
		sub, ok := arg.(bson.D)
		if !ok {
			return Errorf(projCodeElemMatchArg, "elemMatch: Invalid argument, object required, but got %s", TypeName(arg))
		}
		if ctx.hasPositional {
			return Errorf(projCodeElemMatchPositonal, "Cannot specify positional operator and $elemMatch.")
		}
		if len(path) != 1 || parent != ctx.root {
			return Errorf(projCodeElemMatchNested, "Cannot use $elemMatch projection on a nested field.")
		}
		f, err := CompileFilter(bson.D{{Key: name, Value: bson.D{{Key: "$elemMatch", Value: sub}}}})
		if err != nil {
			return err
		}
		if err := projAddAtPath(parent, path, &projAST{kind: projElemMatch, filter: f}); err != nil {
			return err
		}
		ctx.hasElemMatch = true
		return nil
	case "$meta":
		return errUnsupported("projection", "$meta (on field "+name+")")
	}
	return ctx.parseExpression(name, path, obj, parent)
}

func (ctx *projParse) parseExpression(name string, path []string, obj bson.D, parent *projAST) error {
	if ctx.typ == projTypeExclusion {
		return Errorf(projCodeExprInExclusion, "Cannot use expression other than $meta in exclusion projection")
	}
	expr, err := CompileExpression(obj)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Code == CodeInvalidPipelineOperator {
			return Errorf(projCodeUnknownExpression, "Unknown expression %s", obj[0].Key)
		}
		return err
	}
	if err := projAddAtPath(parent, path, &projAST{kind: projExpr, expr: expr}); err != nil {
		return err
	}
	ctx.typ = projTypeInclusion
	return nil
}

// projParseFindSlice parses the find form of $slice: a number (limit, or
// from the end when negative) or [skip, limit] with a positive limit.
func projParseFindSlice(arg any) (*projAST, error) {
	if IsNumber(arg) {
		return &projAST{kind: projSlice, limit: projNumberInt(arg)}, nil
	}
	arr, ok := arg.(bson.A)
	if !ok {
		return nil, Errorf(CodeBadValue, "$slice only supports numbers and [skip, limit] arrays")
	}
	if len(arr) != 2 {
		return nil, Errorf(CodeBadValue, "$slice array argument should be of form [skip, limit]")
	}
	if !IsNumber(arr[0]) {
		return nil, Errorf(CodeBadValue, "$slice expects the skip argument to be a number, got %s", TypeName(arr[0]))
	}
	if !IsNumber(arr[1]) {
		return nil, Errorf(CodeBadValue, "$slice expects the limit argument to be a number, got %s", TypeName(arr[1]))
	}
	limit := projNumberInt(arr[1])
	if limit <= 0 {
		return nil, Errorf(CodeBadValue, "$slice limit must be positive, got %d", limit)
	}
	return &projAST{kind: projSlice, skip: projNumberInt(arr[0]), hasSkp: true, limit: limit}, nil
}

// projLooksLikeAggSlice reports whether a $slice argument that is not valid
// find syntax is meant as the aggregation $slice: an array of two or three
// operands that are not all numbers.
func projLooksLikeAggSlice(arg any) bool {
	arr, ok := arg.(bson.A)
	if !ok || len(arr) < 2 || len(arr) > 3 {
		return false
	}
	for _, e := range arr {
		if !IsNumber(e) {
			return true
		}
	}
	return false
}

// projNumberInt converts a number to int the way MongoDB's numberInt does
// for $slice arguments, truncating toward zero and clamping to int32.
func projNumberInt(v any) int {
	f, _ := ToFloat64(v)
	switch {
	case f != f:
		return 0
	case f >= 2147483647:
		return 2147483647
	case f <= -2147483648:
		return -2147483648
	}
	return int(f)
}

// projAddAtPath adds leaf at path below parent, creating inner nodes;
// two specifications for one path, or for a path and its prefix, collide.
func projAddAtPath(parent *projAST, path []string, leaf *projAST) error {
	n := parent
	for i, c := range path {
		child := n.child(c)
		if i == len(path)-1 {
			if child != nil {
				return Errorf(projCodePathCollision, "Path collision at %s", strings.Join(path, "."))
			}
			n.addChild(c, leaf)
			return nil
		}
		if child == nil {
			child = newProjPath()
			n.addChild(c, child)
		} else if child.kind != projPath {
			return Errorf(projCodePathCollisionRest, "Path collision at %s remaining portion %s", strings.Join(path, "."), strings.Join(path[i+1:], "."))
		}
		n = child
	}
	return nil
}

// projPathNodeAt returns the inner node at path, creating it if needed, so
// that {a: {b: 1}, "a.c": 1} merge into one sub-projection.
func projPathNodeAt(parent *projAST, path []string) (*projAST, error) {
	n := parent
	for i, c := range path {
		child := n.child(c)
		if child == nil {
			child = newProjPath()
			n.addChild(c, child)
		} else if child.kind != projPath {
			if i == len(path)-1 {
				return nil, Errorf(projCodePathCollision, "Path collision at %s", strings.Join(path, "."))
			}
			return nil, Errorf(projCodePathCollisionRest, "Path collision at %s remaining portion %s", strings.Join(path, "."), strings.Join(path[i+1:], "."))
		}
		n = child
	}
	return n, nil
}
