package mql

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Error codes of the aggregation expression language, from MongoDB's
// error_codes.yml and the server's assertion ids.
const (
	exprCodeArity           = 16020 // wrong number of arguments
	exprCodeOneField        = 15983 // operator object with several fields
	exprCodeUndefinedVar    = 17276
	exprCodeBadVarName      = 16870
	exprCodeEmptyVarName    = 16869
	exprCodeDollarAlone     = 16872
	exprCodeEmptyPathField  = 15998
	exprCodeDollarPathField = 16410
	exprCodeDotInField      = 16412
	exprCodeDollarInObject  = 16404
	exprCodeConversion      = 241 // ConversionFailure
)

// Expression is a compiled aggregation expression. It is immutable and safe
// for concurrent use.
type Expression struct {
	fn exprFn
}

// exprFn evaluates one compiled node.
type exprFn func(c *evalCtx) (any, error)

// evalCtx carries what a node may refer to while it is evaluated.
type evalCtx struct {
	root    bson.D
	current any
	frame   *varFrame
	user    map[string]any
	now     time.Time
}

// varFrame is one variable binding of $let, $map, $filter or $reduce;
// frames form a stack so that nested bindings shadow outer ones without
// copying maps.
type varFrame struct {
	name string
	val  any
	next *varFrame
}

func (c *evalCtx) bind(name string, val any) *evalCtx {
	n := *c
	n.frame = &varFrame{name: name, val: val, next: c.frame}
	return &n
}

func (c *evalCtx) variable(name string) (any, error) {
	for f := c.frame; f != nil; f = f.next {
		if f.name == name {
			return f.val, nil
		}
	}
	switch name {
	case "ROOT":
		return c.root, nil
	case "CURRENT":
		return c.current, nil
	case "REMOVE":
		return Missing, nil
	case "NOW":
		if v, ok := c.user["NOW"]; ok {
			return v, nil
		}
		if c.now.IsZero() {
			return bson.NewDateTimeFromTime(time.Now()), nil
		}
		return bson.NewDateTimeFromTime(c.now), nil
	}
	if v, ok := c.user[name]; ok {
		return v, nil
	}
	return nil, Errorf(exprCodeUndefinedVar, "Use of undefined variable: %s", name)
}

// CompileExpression parses an aggregation expression such as
// {$add: ["$a", 1]}. Strings starting with "$" are field paths, "$$name"
// are variables, documents whose single key starts with "$" are operators,
// other documents and arrays are built from their compiled members, and
// everything else is a literal.
func CompileExpression(v any) (*Expression, error) {
	v, err := normalizeInput(v)
	if err != nil {
		return nil, err
	}
	fn, err := compileExpr(v, 0)
	if err != nil {
		return nil, err
	}
	return &Expression{fn: fn}, nil
}

// Eval evaluates the expression with $$ROOT and $$CURRENT bound to doc and
// the given extra variables (vars may also override $$NOW). The result is
// Missing when the expression refers to an absent field, so that callers
// can tell "no value" from null.
func (e *Expression) Eval(doc bson.D, vars map[string]any) (any, error) {
	vars, err := normalizeVars(vars)
	if err != nil {
		return nil, err
	}
	c := &evalCtx{root: doc, current: doc, user: vars}
	return e.fn(c)
}

// normalizeVars brings caller-supplied variable values (Go ints, bson.M,
// ...) into normal form, copying the map only when something changes.
func normalizeVars(vars map[string]any) (map[string]any, error) {
	var out map[string]any
	for k, v := range vars {
		if sameValue(v, v) {
			continue
		}
		n, err := normalizeInput(v)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = make(map[string]any, len(vars))
			for k2, v2 := range vars {
				out[k2] = v2
			}
		}
		out[k] = n
	}
	if out == nil {
		return vars, nil
	}
	return out, nil
}

func errDepth() error {
	return Errorf(CodeOverflow, "expression nesting exceeds the maximum depth of %d", MaxDepth)
}

func compileExpr(v any, depth int) (exprFn, error) {
	if depth > MaxDepth {
		return nil, errDepth()
	}
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, "$") {
			return compilePath(x)
		}
		return constant(x), nil
	case bson.M, map[string]any:
		return compileExpr(Normalize(x), depth)
	case []any:
		return compileExpr(bson.A(x), depth)
	case bson.D:
		if len(x) > 0 && strings.HasPrefix(x[0].Key, "$") {
			if len(x) != 1 {
				return nil, Errorf(exprCodeOneField, "an expression specification must contain exactly one field, the name of the expression. Found %d fields in %s", len(x), fmtValue(x))
			}
			return compileOperator(x[0].Key, x[0].Value, depth+1)
		}
		return compileObjectExpr(x, depth)
	case bson.A:
		fns := make([]exprFn, len(x))
		for i, e := range x {
			fn, err := compileExpr(e, depth+1)
			if err != nil {
				return nil, err
			}
			fns[i] = fn
		}
		return func(c *evalCtx) (any, error) {
			out := make(bson.A, len(fns))
			for i, fn := range fns {
				v, err := fn(c)
				if err != nil {
					return nil, err
				}
				if IsMissing(v) {
					v = nil
				}
				out[i] = v
			}
			return out, nil
		}, nil
	case int, int8, int16, uint8, uint16, uint32, float32, bson.Null:
		return constant(Normalize(x)), nil
	}
	return constant(v), nil
}

func constant(v any) exprFn {
	return func(*evalCtx) (any, error) { return v, nil }
}

func compileObjectExpr(d bson.D, depth int) (exprFn, error) {
	type field struct {
		key string
		fn  exprFn
	}
	fields := make([]field, 0, len(d))
	seen := make(map[string]bool, len(d))
	for _, e := range d {
		if e.Key == "" {
			return nil, Errorf(exprCodeEmptyPathField, "FieldPath field names may not be empty strings.")
		}
		if strings.HasPrefix(e.Key, "$") {
			return nil, Errorf(exprCodeDollarInObject, "Invalid object expression: field name '%s' cannot start with '$'", e.Key)
		}
		if strings.Contains(e.Key, ".") {
			return nil, Errorf(exprCodeDotInField, "FieldPath field names may not contain '.'. Consider using $getField or $setField.")
		}
		if seen[e.Key] {
			return nil, Errorf(16406, "duplicate field name specified in object literal: %s", fmtValue(d))
		}
		seen[e.Key] = true
		fn, err := compileExpr(e.Value, depth+1)
		if err != nil {
			return nil, err
		}
		fields = append(fields, field{e.Key, fn})
	}
	return func(c *evalCtx) (any, error) {
		out := make(bson.D, 0, len(fields))
		for _, f := range fields {
			v, err := f.fn(c)
			if err != nil {
				return nil, err
			}
			if IsMissing(v) {
				continue
			}
			out = append(out, bson.E{Key: f.key, Value: v})
		}
		return out, nil
	}, nil
}

// compilePath compiles "$a.b" (a path from $$CURRENT) and "$$var.a.b".
func compilePath(s string) (exprFn, error) {
	if strings.HasPrefix(s, "$$") {
		name, rest, _ := strings.Cut(s[2:], ".")
		if err := checkVarName(name, true); err != nil {
			return nil, err
		}
		var path []string
		if rest != "" || strings.Contains(s[2:], ".") {
			p, err := splitFieldPath(rest)
			if err != nil {
				return nil, err
			}
			path = p
		}
		return func(c *evalCtx) (any, error) {
			v, err := c.variable(name)
			if err != nil {
				return nil, err
			}
			if len(path) == 0 {
				return v, nil
			}
			return walkPath(v, path), nil
		}, nil
	}
	if s == "$" {
		return nil, Errorf(exprCodeDollarAlone, "'$' by itself is not a valid FieldPath")
	}
	path, err := splitFieldPath(s[1:])
	if err != nil {
		return nil, err
	}
	return func(c *evalCtx) (any, error) {
		return walkPath(c.current, path), nil
	}, nil
}

func splitFieldPath(s string) ([]string, error) {
	parts := strings.Split(s, ".")
	for _, p := range parts {
		if p == "" {
			return nil, Errorf(exprCodeEmptyPathField, "FieldPath field names may not be empty strings.")
		}
		if strings.HasPrefix(p, "$") {
			return nil, Errorf(exprCodeDollarPathField, "FieldPath field names may not start with '$'. Consider using $getField or $setField.")
		}
	}
	return parts, nil
}

// builtinVars may be referenced although they break the user naming rule.
var builtinVars = map[string]bool{"ROOT": true, "CURRENT": true, "NOW": true, "REMOVE": true}

// checkVarName applies MongoDB's rule for variable names: a lowercase
// letter or non-ASCII character first, then letters, digits and '_'.
// Built-in names may be read but not defined.
func checkVarName(name string, reading bool) error {
	if name == "" {
		return Errorf(exprCodeEmptyVarName, "empty variable names are not allowed")
	}
	if reading && builtinVars[name] {
		return nil
	}
	if !reading && builtinVars[name] {
		return Errorf(exprCodeBadVarName, "'%s' starts with an invalid character for a user variable name", name)
	}
	if name == "CLUSTER_TIME" || name == "SEARCH_META" || name == "USER_ROLES" {
		return errUnsupported("variable", "$$"+name)
	}
	r, _ := utf8.DecodeRuneInString(name)
	if !(r >= 'a' && r <= 'z') && r < utf8.RuneSelf {
		return Errorf(exprCodeBadVarName, "'%s' starts with an invalid character for a user variable name", name)
	}
	for _, r := range name {
		if r < utf8.RuneSelf && !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			return Errorf(16871, "'%s' contains an invalid character for a variable name: '%c'", name, r)
		}
	}
	return nil
}

// walkPath follows a dotted path with aggregation semantics: through an
// array, the path applies to each element; documents contribute their
// value (when present), nested arrays contribute their own mapped array,
// and scalars are dropped.
func walkPath(v any, path []string) any {
	for i, key := range path {
		switch x := v.(type) {
		case bson.D:
			v = Get(x, key)
		case bson.A:
			return walkArray(x, path[i:])
		default:
			return Missing
		}
	}
	return v
}

func walkArray(a bson.A, path []string) bson.A {
	out := bson.A{}
	for _, e := range a {
		switch x := e.(type) {
		case bson.D:
			if r := walkPath(x, path); !IsMissing(r) {
				out = append(out, r)
			}
		case bson.A:
			out = append(out, walkArray(x, path))
		}
	}
	return out
}

// operatorArgs spreads an operator's operand: an array is its argument
// list, anything else a single argument.
func operatorArgs(v any) []any {
	if a, ok := v.(bson.A); ok {
		return a
	}
	if a, ok := v.([]any); ok {
		return a
	}
	return []any{v}
}

func compileArgs(v any, depth int) ([]exprFn, error) {
	args := operatorArgs(v)
	fns := make([]exprFn, len(args))
	for i, a := range args {
		fn, err := compileExpr(a, depth+1)
		if err != nil {
			return nil, err
		}
		fns[i] = fn
	}
	return fns, nil
}

func evalArgs(c *evalCtx, fns []exprFn) ([]any, error) {
	vals := make([]any, len(fns))
	for i, fn := range fns {
		v, err := fn(c)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

// opCompiler compiles an operator's operand.
type opCompiler func(name string, arg any, depth int) (exprFn, error)

// operators is filled by init functions of the expression_*.go files.
var operators = map[string]opCompiler{}

// unsupportedOperators exist in MongoDB but are deliberately not offered.
var unsupportedOperators = map[string]bool{
	"$function": true, "$accumulator": true, "$meta": true,
}

func compileOperator(name string, arg any, depth int) (exprFn, error) {
	if depth > MaxDepth {
		return nil, errDepth()
	}
	// An implementation wins over the unsupported list, so the order in
	// which init functions fill the two does not matter.
	if oc, ok := operators[name]; ok {
		return oc(name, arg, depth)
	}
	if unsupportedOperators[name] {
		return nil, errUnsupported("expression operator", name)
	}
	return nil, Errorf(CodeInvalidPipelineOperator, "Unrecognized expression '%s'", name)
}

// nary registers an operator whose arguments are all evaluated first and
// then combined by fn. min and max bound the argument count (max < 0 means
// unbounded).
func nary(min, max int, fn func(name string, vals []any) (any, error)) opCompiler {
	return func(name string, arg any, depth int) (exprFn, error) {
		fns, err := compileArgs(arg, depth)
		if err != nil {
			return nil, err
		}
		if err := checkArity(name, len(fns), min, max); err != nil {
			return nil, err
		}
		return func(c *evalCtx) (any, error) {
			vals, err := evalArgs(c, fns)
			if err != nil {
				return nil, err
			}
			return fn(name, vals)
		}, nil
	}
}

func checkArity(name string, n, min, max int) error {
	switch {
	case min == max && n != min:
		return Errorf(exprCodeArity, "Expression %s takes exactly %d arguments. %d were passed in.", name, min, n)
	case n < min:
		return Errorf(exprCodeArity, "Expression %s takes at least %d arguments, and at most %d. %d were passed in.", name, min, max, n)
	case max >= 0 && n > max:
		return Errorf(exprCodeArity, "Expression %s takes at most %d arguments. %d were passed in.", name, max, n)
	}
	return nil
}

// unary registers a one-argument operator.
func unary(fn func(name string, v any) (any, error)) opCompiler {
	return nary(1, 1, func(name string, vals []any) (any, error) { return fn(name, vals[0]) })
}

// namedArgs compiles the document operand of operators such as $filter;
// required names must be present and no other names may appear.
func namedArgs(name string, arg any, depth int, required, optional []string) (map[string]exprFn, error) {
	d, ok := arg.(bson.D)
	if !ok {
		if m, isM := arg.(bson.M); isM {
			d = Normalize(m).(bson.D)
		} else {
			return nil, Errorf(CodeFailedToParse, "%s only supports an object as its argument", name)
		}
	}
	out := make(map[string]exprFn, len(d))
	for _, e := range d {
		known := false
		for _, k := range required {
			known = known || k == e.Key
		}
		for _, k := range optional {
			known = known || k == e.Key
		}
		if !known {
			return nil, Errorf(CodeFailedToParse, "%s found an unknown argument: %s", name, e.Key)
		}
		fn, err := compileExpr(e.Value, depth+1)
		if err != nil {
			return nil, err
		}
		out[e.Key] = fn
	}
	for _, k := range required {
		if out[k] == nil {
			return nil, Errorf(CodeFailedToParse, "Missing '%s' parameter to %s", k, name)
		}
	}
	return out, nil
}

func isNullish(v any) bool {
	switch v.(type) {
	case nil, missingType, bson.Undefined, bson.Null:
		return true
	}
	return false
}

// fmtValue renders a value in relaxed Extended JSON for error messages.
func fmtValue(v any) string {
	if IsMissing(v) {
		return "missing"
	}
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, false, false)
	if err != nil {
		return "?"
	}
	s := string(b)
	s = strings.TrimPrefix(s, `{"v":`)
	return strings.TrimSuffix(s, "}")
}
