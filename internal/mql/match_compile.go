package mql

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// MongoDB's numbered ("Location") error codes for regular expressions.
const (
	matchCodeInvalidRegex      = 51091
	matchCodeInvalidRegexFlag  = 51108
	matchCodeRegexOptionsTwice = 51074 // options in the regex, then $options
	matchCodeOptionsTwice      = 51075 // $options, then options in the regex
	matchCodePathTooLong       = 5729100
)

// matchMaxPathComponents is MongoDB's limit on the components of a field
// path in a query: its BSON depth for user storage (200 less 20 levels
// reserved for the system).
const matchMaxPathComponents = 180

func matchLocationError(code int, msg string) *Error {
	e := Errorf(CodeBadValue, "%s", msg)
	e.Code = code
	e.CodeName = "Location" + strconv.Itoa(code)
	return e
}

// compileFilterDoc compiles a query document: the conjunction of its
// top-level operators and field predicates.
//
// sub is set inside the query form of $elemMatch, where the query applies
// to array elements and operators on whole documents are refused.
func compileFilterDoc(d bson.D, sub bool) (matchNode, error) {
	nodes := make([]matchNode, 0, len(d))
	for _, e := range d {
		var n matchNode
		var err error
		if strings.HasPrefix(e.Key, "$") {
			n, err = compileTopLevel(e.Key, e.Value, sub)
		} else {
			n, err = compileField(e.Key, e.Value)
		}
		if err != nil {
			return nil, err
		}
		if n != nil {
			nodes = append(nodes, n)
		}
	}
	return matchAllOf(nodes), nil
}

func matchAllOf(nodes []matchNode) matchNode {
	switch len(nodes) {
	case 0:
		return &constNode{value: true}
	case 1:
		return nodes[0]
	}
	return &andNode{children: nodes}
}

// matchUnsupported lists operators MongoDB has that this package refuses:
// server-side JavaScript, text search, sampling and geospatial queries.
var matchUnsupported = map[string]bool{}

func init() {
	for _, name := range []string{
		"$where", "$function", "$accumulator", "$text", "$sampleRate",
		"$near", "$nearSphere", "$geoWithin", "$geoIntersects", "$within",
		"$maxDistance", "$minDistance", "$box", "$center", "$centerSphere",
		"$polygon", "$geometry",
	} {
		matchUnsupported[name] = true
	}
}

func compileTopLevel(name string, v any, sub bool) (matchNode, error) {
	switch name {
	case "$and", "$or", "$nor":
		arr, ok := v.(bson.A)
		if !ok {
			return nil, Errorf(CodeBadValue, "%s must be an array", name)
		}
		if len(arr) == 0 {
			return nil, Errorf(CodeBadValue, "$and/$or/$nor must be a nonempty array")
		}
		children := make([]matchNode, 0, len(arr))
		for _, x := range arr {
			d, ok := x.(bson.D)
			if !ok {
				return nil, Errorf(CodeBadValue, "$or/$and/$nor entries need to be full objects")
			}
			n, err := compileFilterDoc(d, sub)
			if err != nil {
				return nil, err
			}
			children = append(children, n)
		}
		switch name {
		case "$and":
			return matchAllOf(children), nil
		case "$or":
			if len(children) == 1 {
				return children[0], nil
			}
			return &orNode{children: children}, nil
		}
		return &notNode{child: &orNode{children: children}}, nil
	case "$comment":
		return nil, nil
	case "$jsonSchema":
		return compileJSONSchema(v)
	case "$ref", "$id", "$db":
		// DBRef fields, which MongoDB matches by plain equality on the
		// field of that name (they reach here inside $elemMatch).
		return &pathNode{path: parseMatchPath(name), pred: newEqPred(v)}, nil
	case "$expr", "$where", "$text", "$sampleRate":
		if sub {
			return nil, Errorf(CodeBadValue, "%s can only be applied to the top-level document", name)
		}
	}
	switch name {
	case "$expr":
		ex, err := CompileExpression(v)
		if err != nil {
			return nil, err
		}
		return &exprNode{expr: ex}, nil
	case "$alwaysTrue", "$alwaysFalse":
		if n, ok := ToInt64(v); !ok || n != 1 {
			return nil, Errorf(CodeFailedToParse, "%s must be an integer value of 1", name)
		}
		return &constNode{value: name == "$alwaysTrue"}, nil
	}
	if matchUnsupported[name] {
		return nil, errUnsupported("query operator", name)
	}
	hint := ". If you have a field name that starts with a '$' symbol, consider using $getField or $setField."
	if name == "$not" {
		hint = ". If you are trying to negate an entire expression, use $nor."
	}
	return nil, Errorf(CodeBadValue, "unknown top level operator: %s%s", name, hint)
}

// isOperatorDoc reports whether a field's operand is a document of query
// operators rather than a literal document. MongoDB decides by the first
// field name, except that a DBRef ($ref and $id, or with incomplete set
// any of $ref, $id, $db) is literal.
func isOperatorDoc(d bson.D, incomplete bool) bool {
	if len(d) == 0 || !strings.HasPrefix(d[0].Key, "$") {
		return false
	}
	var ref, id, db bool
	for _, e := range d {
		switch e.Key {
		case "$ref":
			ref = true
		case "$id":
			id = true
		case "$db":
			db = true
		}
	}
	if incomplete {
		return !(ref || id || db)
	}
	return !(ref && id)
}

func compileField(path string, v any) (matchNode, error) {
	if strings.Count(path, ".")+1 > matchMaxPathComponents {
		return nil, matchLocationError(matchCodePathTooLong, "FieldPath is too long")
	}
	parts := parseMatchPath(path)
	switch x := v.(type) {
	case bson.Regex:
		p, err := newRegexPred(x.Pattern, x.Options)
		if err != nil {
			return nil, err
		}
		return &pathNode{path: parts, pred: p}, nil
	case bson.D:
		if isOperatorDoc(x, false) {
			specs, err := compileOperators(path, x)
			if err != nil {
				return nil, err
			}
			nodes := make([]matchNode, len(specs))
			for i, s := range specs {
				nodes[i] = s.node(parts)
			}
			return matchAllOf(nodes), nil
		}
	}
	if _, ok := v.(bson.Undefined); ok {
		return nil, Errorf(CodeBadValue, "cannot compare to undefined")
	}
	return &pathNode{path: parts, pred: newEqPred(v)}, nil
}

// Kinds of opSpec.
const (
	specPred    = iota // pred over the path
	specNegPred        // negation of pred over the whole path ($ne, $nin)
	specAll            // conjunction of children, each over the path ($all)
	specNot            // negation of the conjunction of children ($not)
)

// opSpec is one parsed field operator. The same spec becomes a path node
// for a field ({a: {$gt: 1}}) or a value predicate inside the value form
// of $elemMatch, where every operator applies to one element.
type opSpec struct {
	kind     int
	pred     valuePred
	noExpand bool
	em       *elemMatchPred
	children []opSpec
}

func (s opSpec) node(parts []matchPathPart) matchNode {
	switch s.kind {
	case specNegPred:
		return &notNode{child: &pathNode{path: parts, pred: s.pred, noExpand: s.noExpand, em: s.em}}
	case specAll, specNot:
		nodes := make([]matchNode, len(s.children))
		for i, c := range s.children {
			nodes[i] = c.node(parts)
		}
		if s.kind == specNot {
			return &notNode{child: matchAllOf(nodes)}
		}
		if len(nodes) == 0 {
			return &constNode{value: false}
		}
		return matchAllOf(nodes)
	}
	return &pathNode{path: parts, pred: s.pred, noExpand: s.noExpand, em: s.em}
}

func (s opSpec) valuePred() valuePred {
	switch s.kind {
	case specNegPred:
		return &notPred{pred: s.pred}
	case specAll, specNot:
		preds := make([]valuePred, len(s.children))
		for i, c := range s.children {
			preds[i] = c.valuePred()
		}
		var p valuePred = &andPred{preds: preds}
		if len(preds) == 1 {
			p = preds[0]
		}
		if s.kind == specNot {
			return &notPred{pred: p}
		}
		if len(preds) == 0 {
			return &constPred{value: false}
		}
		return p
	}
	return s.pred
}

// compileOperators parses a document of field operators such as
// {$gt: 1, $lt: 5}. Each operator is a separate spec: MongoDB applies each
// to the path on its own, so {a: [0, 10]} matches {a: {$gt: 1, $lt: 5}}.
func compileOperators(path string, d bson.D) ([]opSpec, error) {
	specs := make([]opSpec, 0, len(d))
	regexDone := false
	for _, e := range d {
		name, v := e.Key, e.Value
		var s opSpec
		var err error
		switch name {
		case "$eq":
			if _, ok := v.(bson.Undefined); ok {
				return nil, Errorf(CodeBadValue, "cannot compare to undefined")
			}
			s = opSpec{pred: newEqPred(v)}
		case "$ne":
			if _, ok := v.(bson.Regex); ok {
				return nil, Errorf(CodeBadValue, "Can't have regex as arg to $ne.")
			}
			if _, ok := v.(bson.Undefined); ok {
				return nil, Errorf(CodeBadValue, "cannot compare to undefined")
			}
			s = opSpec{kind: specNegPred, pred: newEqPred(v)}
		case "$gt", "$gte", "$lt", "$lte":
			switch v.(type) {
			case bson.Regex:
				return nil, Errorf(CodeBadValue, "Can't have RegEx as arg to predicate over field '%s'.", path)
			case bson.Undefined:
				return nil, Errorf(CodeBadValue, "cannot compare to undefined")
			}
			op := map[string]int{"$gt": cmpGT, "$gte": cmpGTE, "$lt": cmpLT, "$lte": cmpLTE}[name]
			s = opSpec{pred: newCmpPred(op, v)}
		case "$in", "$nin":
			var p *inPred
			p, err = compileIn(name, v)
			s = opSpec{pred: p}
			if name == "$nin" {
				s.kind = specNegPred
			}
		case "$exists":
			s = opSpec{pred: existsPred{}}
			if !Truthy(v) {
				s.kind = specNegPred
			}
		case "$type":
			var p *typePred
			p, err = compileType(path, v)
			s = opSpec{pred: p}
		case "$size":
			var p *sizePred
			p, err = compileSize(v)
			s = opSpec{pred: p, noExpand: true}
		case "$all":
			s, err = compileAll(path, v)
		case "$elemMatch":
			s, err = compileElemMatch(path, v)
		case "$regex", "$options":
			if regexDone {
				continue
			}
			regexDone = true
			var p *regexPred
			p, err = compileRegexOperator(d)
			s = opSpec{pred: p}
		case "$mod":
			var p *modPred
			p, err = compileMod(v)
			s = opSpec{pred: p}
		case "$bitsAllSet", "$bitsAnySet", "$bitsAllClear", "$bitsAnyClear":
			var p *bitsPred
			p, err = compileBits(name, v)
			s = opSpec{pred: p}
		case "$not":
			s, err = compileNot(path, v)
		case "$where":
			return nil, Errorf(CodeBadValue, "$where cannot be applied to a field")
		default:
			if matchUnsupported[name] {
				return nil, errUnsupported("query operator", name)
			}
			return nil, Errorf(CodeBadValue, "unknown operator: %s", name)
		}
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	return specs, nil
}

func compileNot(path string, v any) (opSpec, error) {
	switch x := v.(type) {
	case bson.Regex:
		p, err := newRegexPred(x.Pattern, x.Options)
		if err != nil {
			return opSpec{}, err
		}
		return opSpec{kind: specNot, children: []opSpec{{pred: p}}}, nil
	case bson.D:
		if len(x) == 0 {
			return opSpec{}, Errorf(CodeBadValue, "$not cannot be empty")
		}
		children, err := compileOperators(path, x)
		if err != nil {
			return opSpec{}, err
		}
		return opSpec{kind: specNot, children: children}, nil
	}
	return opSpec{}, Errorf(CodeBadValue, "$not needs a regex or a document")
}

func compileIn(name string, v any) (*inPred, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, Errorf(CodeBadValue, "%s needs an array", name)
	}
	var values []any
	var regexes []*regexPred
	for _, x := range arr {
		switch y := x.(type) {
		case bson.Regex:
			r, err := newRegexPred(y.Pattern, y.Options)
			if err != nil {
				return nil, err
			}
			regexes = append(regexes, r)
			continue
		case bson.D:
			if isOperatorDoc(y, false) {
				return nil, Errorf(CodeBadValue, "cannot nest $ under $in")
			}
		}
		if _, ok := x.(bson.Undefined); ok {
			return nil, Errorf(CodeBadValue, "InMatchExpression equality cannot be undefined")
		}
		values = append(values, x)
	}
	return newInPred(values, regexes), nil
}

func compileAll(path string, v any) (opSpec, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return opSpec{}, Errorf(CodeBadValue, "$all needs an array")
	}
	s := opSpec{kind: specAll, children: make([]opSpec, 0, len(arr))}
	elemMatchForm := false
	if len(arr) > 0 {
		if d, ok := arr[0].(bson.D); ok && len(d) > 0 && d[0].Key == "$elemMatch" {
			elemMatchForm = true
		}
	}
	for _, x := range arr {
		if elemMatchForm {
			d, ok := x.(bson.D)
			if !ok || len(d) != 1 || d[0].Key != "$elemMatch" {
				return opSpec{}, Errorf(CodeBadValue, "$all/$elemMatch has to be consistent")
			}
			c, err := compileElemMatch(path, d[0].Value)
			if err != nil {
				return opSpec{}, err
			}
			s.children = append(s.children, c)
			continue
		}
		switch y := x.(type) {
		case bson.Regex:
			r, err := newRegexPred(y.Pattern, y.Options)
			if err != nil {
				return opSpec{}, err
			}
			s.children = append(s.children, opSpec{pred: r})
			continue
		case bson.D:
			if len(y) > 0 && matchFieldOperators[y[0].Key] {
				return opSpec{}, Errorf(CodeBadValue, "no $ expressions in $all")
			}
		}
		if _, ok := x.(bson.Undefined); ok {
			return opSpec{}, Errorf(CodeBadValue, "cannot compare to undefined")
		}
		s.children = append(s.children, opSpec{pred: newEqPred(x)})
	}
	return s, nil
}

// matchFieldOperators are the operators that apply to a field; a document
// starting with one of them inside $all is an error rather than a literal.
var matchFieldOperators = map[string]bool{
	"$eq": true, "$ne": true, "$gt": true, "$gte": true, "$lt": true, "$lte": true,
	"$in": true, "$nin": true, "$exists": true, "$type": true, "$size": true,
	"$all": true, "$elemMatch": true, "$regex": true, "$options": true, "$mod": true,
	"$bitsAllSet": true, "$bitsAnySet": true, "$bitsAllClear": true, "$bitsAnyClear": true,
	"$not": true, "$near": true, "$nearSphere": true, "$geoWithin": true,
	"$geoIntersects": true, "$within": true, "$maxDistance": true, "$minDistance": true,
}

// matchTopLevelNames are the operators that make an $elemMatch operand a
// query on document elements even though its first field starts with $.
var matchTopLevelNames = map[string]bool{
	"$and": true, "$or": true, "$nor": true, "$expr": true, "$where": true,
	"$text": true, "$comment": true, "$jsonSchema": true,
	"$alwaysTrue": true, "$alwaysFalse": true, "$sampleRate": true,
}

func compileElemMatch(path string, v any) (opSpec, error) {
	d, ok := v.(bson.D)
	if !ok {
		return opSpec{}, Errorf(CodeBadValue, "$elemMatch needs an Object")
	}
	em := &elemMatchPred{}
	if isOperatorDoc(d, true) && !matchTopLevelNames[d[0].Key] {
		specs, err := compileOperators("", d)
		if err != nil {
			return opSpec{}, err
		}
		em.values = opSpec{kind: specAll, children: specs}.valuePred()
	} else {
		n, err := compileFilterDoc(d, true)
		if err != nil {
			return opSpec{}, err
		}
		em.filter = n
	}
	return opSpec{pred: em, noExpand: true, em: em}, nil
}

func compileType(path string, v any) (*typePred, error) {
	items := bson.A{v}
	if a, ok := v.(bson.A); ok {
		items = a
	}
	if len(items) == 0 {
		return nil, Errorf(CodeFailedToParse, "%s must match at least one type", path)
	}
	p := &typePred{}
	for _, x := range items {
		switch y := x.(type) {
		case string:
			if y == "number" {
				p.number = true
				continue
			}
			t, ok := TypeByAlias(y)
			if !ok {
				return nil, Errorf(CodeBadValue, "Unknown type name alias: %s", y)
			}
			p.types = append(p.types, t)
		case int32, int64, float64, bson.Decimal128:
			n, ok := ToInt64(y)
			switch {
			case ok && n >= 1 && n <= 19:
				p.types = append(p.types, bson.Type(n))
			case ok && n == -1:
				p.types = append(p.types, bson.TypeMinKey)
			case ok && n == 127:
				p.types = append(p.types, bson.TypeMaxKey)
			default:
				return nil, Errorf(CodeBadValue, "Invalid numerical type code: %v", y)
			}
		default:
			return nil, Errorf(CodeTypeMismatch, "type must be represented as a number or a string")
		}
	}
	return p, nil
}

func compileSize(v any) (*sizePred, error) {
	if !IsNumber(v) {
		return nil, Errorf(CodeBadValue, "Failed to parse $size. Expected a number in: $size: %v", v)
	}
	n, ok := ToInt64(v)
	if !ok {
		return nil, Errorf(CodeBadValue, "Failed to parse $size. Expected an integer in: $size: %v", v)
	}
	if n < 0 {
		return nil, Errorf(CodeBadValue, "Failed to parse $size. Expected a non-negative number in: $size: %v", v)
	}
	if n > math.MaxInt32 {
		return nil, Errorf(CodeBadValue, "Failed to parse $size. Cannot represent as a 32-bit integer: $size: %v", v)
	}
	return &sizePred{n: n}, nil
}

func compileMod(v any) (*modPred, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, Errorf(CodeBadValue, "malformed mod, needs to be an array")
	}
	switch {
	case len(arr) < 2:
		return nil, Errorf(CodeBadValue, "malformed mod, not enough elements")
	case len(arr) > 2:
		return nil, Errorf(CodeBadValue, "malformed mod, too many elements")
	}
	if !IsNumber(arr[0]) {
		return nil, Errorf(CodeBadValue, "malformed mod, divisor not a number")
	}
	if !IsNumber(arr[1]) {
		return nil, Errorf(CodeBadValue, "malformed mod, remainder not a number")
	}
	div, ok := matchTruncate(arr[0])
	if !ok {
		return nil, Errorf(CodeBadValue, "malformed mod, divisor value is invalid :: caused by :: %v cannot be converted to a 64-bit integer", arr[0])
	}
	rem, ok := matchTruncate(arr[1])
	if !ok {
		return nil, Errorf(CodeBadValue, "malformed mod, remainder value is invalid :: caused by :: %v cannot be converted to a 64-bit integer", arr[1])
	}
	if div == 0 {
		return nil, Errorf(CodeBadValue, "divisor cannot be 0")
	}
	return &modPred{divisor: div, remainder: rem}, nil
}

func compileBits(name string, v any) (*bitsPred, error) {
	p := &bitsPred{}
	switch name {
	case "$bitsAnySet":
		p.kind = bitsAnySet
	case "$bitsAllClear":
		p.kind = bitsAllClear
	case "$bitsAnyClear":
		p.kind = bitsAnyClear
	}
	switch x := v.(type) {
	case int32, int64, float64, bson.Decimal128:
		n, ok := ToInt64(x)
		if !ok {
			return nil, Errorf(CodeBadValue, "%s: bitmask %v cannot be represented as a 64-bit integer", name, x)
		}
		if n < 0 {
			return nil, Errorf(CodeBadValue, "%s: bitmask %v must be non-negative", name, x)
		}
		for i := uint64(0); i < 63; i++ {
			if n&(1<<i) != 0 {
				p.positions = append(p.positions, i)
			}
		}
	case bson.Binary:
		for i, b := range x.Data {
			for j := uint64(0); j < 8; j++ {
				if b&(1<<j) != 0 {
					p.positions = append(p.positions, uint64(i)*8+j)
				}
			}
		}
	case bson.A:
		for _, e := range x {
			if !IsNumber(e) {
				return nil, Errorf(CodeBadValue, "Failed to parse bit position. Expected a number: %v", e)
			}
			n, ok := ToInt64(e)
			if !ok {
				return nil, Errorf(CodeBadValue, "Failed to parse bit position. Expected an integer: %v", e)
			}
			if n < 0 || n > math.MaxInt32 {
				return nil, Errorf(CodeBadValue, "Failed to parse bit position. Expected a non-negative 32-bit integer: %v", e)
			}
			p.positions = append(p.positions, uint64(n))
		}
	default:
		return nil, Errorf(CodeBadValue, "%s takes an Array, a number, or a BinData but received: %v", name, v)
	}
	return p, nil
}

// compileRegexOperator reads $regex and $options from the operator
// document they share.
func compileRegexOperator(d bson.D) (*regexPred, error) {
	var pattern, options string
	haveRegex := false
	for _, e := range d {
		switch e.Key {
		case "$regex":
			switch x := e.Value.(type) {
			case string:
				pattern = x
			case bson.Regex:
				pattern = x.Pattern
				if x.Options != "" {
					if options != "" {
						return nil, matchLocationError(matchCodeRegexOptionsTwice, "options set in both $regex and $options")
					}
					options = x.Options
				}
			default:
				return nil, Errorf(CodeBadValue, "$regex has to be a string")
			}
			haveRegex = true
		case "$options":
			s, ok := e.Value.(string)
			if !ok {
				return nil, Errorf(CodeBadValue, "$options has to be a string")
			}
			if options != "" {
				return nil, matchLocationError(matchCodeOptionsTwice, "options set in both $regex and $options")
			}
			options = s
		}
	}
	if !haveRegex {
		return nil, Errorf(CodeBadValue, "$options needs a $regex")
	}
	return newRegexPred(pattern, options)
}

// newRegexPred compiles a MongoDB (PCRE) regular expression with Go's
// regexp package. The options i, m, s and x map to Go flags or, for x, to
// stripping whitespace and comments; u is accepted and has no effect since
// Go patterns are always Unicode-aware. Patterns using PCRE features RE2
// lacks (backreferences, lookaround) are reported as invalid.
func newRegexPred(pattern, options string) (*regexPred, error) {
	flags := ""
	extended := false
	for _, c := range options {
		switch c {
		case 'i', 'm', 's':
			if !strings.ContainsRune(flags, c) {
				flags += string(c)
			}
		case 'x':
			extended = true
		case 'u':
		default:
			return nil, matchLocationError(matchCodeInvalidRegexFlag, "invalid flag in regex options: "+string(c))
		}
	}
	if strings.IndexByte(pattern, 0) >= 0 {
		return nil, Errorf(CodeBadValue, "Regular expression cannot contain an embedded null byte")
	}
	src := pattern
	if extended {
		src = stripExtendedRegex(src)
	}
	src = pcreAnchors(src, strings.ContainsRune(flags, 'm') || regexInlineMultiline.MatchString(src))
	if flags != "" {
		src = "(?" + flags + ")" + src
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, matchLocationError(matchCodeInvalidRegex, "Regular expression is invalid: "+err.Error())
	}
	return &regexPred{re: re, value: bson.Regex{Pattern: pattern, Options: options}}, nil
}

// regexInlineMultiline finds an inline (?m) flag group, which makes $ a
// line anchor from there on; pcreAnchors then leaves $ alone.
var regexInlineMultiline = regexp.MustCompile(`\(\?[a-zA-Z]*m`)

// pcreAnchors rewrites the end anchors whose PCRE meaning Go lacks: outside
// multiline mode PCRE's $, and always its \Z, also match before a final
// newline. Go has no lookahead, so they become \n?\z, which consumes that
// newline; nothing can follow an end anchor in a useful pattern, so the
// set of matching strings is the same.
func pcreAnchors(p string, multiline bool) string {
	if !strings.ContainsAny(p, "$Z") {
		return p
	}
	const end = `(?:\n?\z)`
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			if p[i+1] == 'Z' && !inClass {
				b.WriteString(end)
			} else {
				b.WriteByte(c)
				b.WriteByte(p[i+1])
			}
			i++
		case inClass:
			if c == '[' && i+1 < len(p) && p[i+1] == ':' {
				if j := strings.Index(p[i:], ":]"); j > 0 {
					b.WriteString(p[i : i+j+2])
					i += j + 1
					continue
				}
			}
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
		case c == '$' && !multiline:
			b.WriteString(end)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// stripExtendedRegex applies PCRE's x option: unescaped whitespace outside
// character classes is dropped and # starts a comment to the end of line.
func stripExtendedRegex(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			// A ] right after [ or [^ is a literal member.
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		case c == '#':
			for i < len(p) && p[i] != '\n' {
				i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
