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
	matchCodeInvalidRegex     = 51091
	matchCodeInvalidRegexFlag = 51108
)

func matchLocationError(code int, msg string) *Error {
	e := Errorf(CodeBadValue, "%s", msg)
	e.Code = code
	e.CodeName = "Location" + strconv.Itoa(code)
	return e
}

// compileFilterDoc compiles a query document: the conjunction of its
// top-level operators and field predicates.
func compileFilterDoc(d bson.D) (matchNode, error) {
	nodes := make([]matchNode, 0, len(d))
	for _, e := range d {
		var n matchNode
		var err error
		if strings.HasPrefix(e.Key, "$") {
			n, err = compileTopLevel(e.Key, e.Value)
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
// server-side JavaScript, text and geospatial search, and schemas.
var matchUnsupported = map[string]bool{
	"$where": true, "$function": true, "$accumulator": true, "$text": true,
	"$jsonSchema": true, "$sampleRate": true,
	"$near": true, "$nearSphere": true, "$geoWithin": true, "$geoIntersects": true,
	"$within": true, "$maxDistance": true, "$minDistance": true,
	"$box": true, "$center": true, "$centerSphere": true, "$polygon": true, "$geometry": true,
}

func compileTopLevel(name string, v any) (matchNode, error) {
	switch name {
	case "$and", "$or", "$nor":
		arr, ok := v.(bson.A)
		if !ok || len(arr) == 0 {
			return nil, Errorf(CodeBadValue, "%s must be a nonempty array", name)
		}
		children := make([]matchNode, 0, len(arr))
		for _, x := range arr {
			d, ok := x.(bson.D)
			if !ok {
				return nil, Errorf(CodeBadValue, "$or/$and/$nor entries need to be full objects")
			}
			n, err := compileFilterDoc(d)
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
	return nil, Errorf(CodeBadValue, "unknown top level operator: %s", name)
}

// isOperatorDoc reports whether a field's operand is a document of query
// operators rather than a literal document: MongoDB decides by the first
// field name alone, and DBRef fields ($ref, $id, $db) are literal.
func isOperatorDoc(d bson.D) bool {
	if len(d) == 0 || !strings.HasPrefix(d[0].Key, "$") {
		return false
	}
	switch d[0].Key {
	case "$ref", "$id", "$db":
		return false
	}
	return true
}

func compileField(path string, v any) (matchNode, error) {
	parts := parseMatchPath(path)
	switch x := v.(type) {
	case bson.Regex:
		p, err := newRegexPred(x.Pattern, x.Options)
		if err != nil {
			return nil, err
		}
		return &pathNode{path: parts, pred: p}, nil
	case bson.D:
		if isOperatorDoc(x) {
			specs, err := compileOperators(x)
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
	return &pathNode{path: parts, pred: &eqPred{value: v}}, nil
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
func compileOperators(d bson.D) ([]opSpec, error) {
	specs := make([]opSpec, 0, len(d))
	regexDone := false
	for _, e := range d {
		name, v := e.Key, e.Value
		var s opSpec
		var err error
		switch name {
		case "$eq":
			s = opSpec{pred: &eqPred{value: v}}
		case "$ne":
			s = opSpec{kind: specNegPred, pred: &eqPred{value: v}}
		case "$gt":
			s = opSpec{pred: newCmpPred(cmpGT, v)}
		case "$gte":
			s = opSpec{pred: newCmpPred(cmpGTE, v)}
		case "$lt":
			s = opSpec{pred: newCmpPred(cmpLT, v)}
		case "$lte":
			s = opSpec{pred: newCmpPred(cmpLTE, v)}
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
			p, err = compileType(v)
			s = opSpec{pred: p}
		case "$size":
			var p *sizePred
			p, err = compileSize(v)
			s = opSpec{pred: p, noExpand: true}
		case "$all":
			s, err = compileAll(v)
		case "$elemMatch":
			s, err = compileElemMatch(v)
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
			s, err = compileNot(v)
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

func compileNot(v any) (opSpec, error) {
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
		children, err := compileOperators(x)
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
	p := &inPred{}
	for _, x := range arr {
		switch y := x.(type) {
		case bson.Regex:
			r, err := newRegexPred(y.Pattern, y.Options)
			if err != nil {
				return nil, err
			}
			p.regexes = append(p.regexes, r)
			continue
		case bson.D:
			if isOperatorDoc(y) {
				return nil, Errorf(CodeBadValue, "cannot nest $ under %s", name)
			}
		}
		p.values = append(p.values, x)
	}
	return p, nil
}

func compileAll(v any) (opSpec, error) {
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
			c, err := compileElemMatch(d[0].Value)
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
			if isOperatorDoc(y) {
				return opSpec{}, Errorf(CodeBadValue, "no $ expressions in $all")
			}
		}
		s.children = append(s.children, opSpec{pred: &eqPred{value: x}})
	}
	return s, nil
}

// matchTopLevelNames are the operators that make an $elemMatch operand a
// query on document elements even though its first field starts with $.
var matchTopLevelNames = map[string]bool{
	"$and": true, "$or": true, "$nor": true, "$expr": true, "$where": true,
	"$text": true, "$comment": true, "$jsonSchema": true,
	"$alwaysTrue": true, "$alwaysFalse": true,
}

func compileElemMatch(v any) (opSpec, error) {
	d, ok := v.(bson.D)
	if !ok {
		return opSpec{}, Errorf(CodeBadValue, "$elemMatch needs an Object")
	}
	em := &elemMatchPred{}
	if len(d) > 0 && strings.HasPrefix(d[0].Key, "$") && !matchTopLevelNames[d[0].Key] {
		specs, err := compileOperators(d)
		if err != nil {
			return opSpec{}, err
		}
		em.values = opSpec{kind: specAll, children: specs}.valuePred()
	} else {
		n, err := compileFilterDoc(d)
		if err != nil {
			return opSpec{}, err
		}
		em.filter = n
	}
	return opSpec{pred: em, noExpand: true, em: em}, nil
}

func compileType(v any) (*typePred, error) {
	items := bson.A{v}
	if a, ok := v.(bson.A); ok {
		items = a
	}
	if len(items) == 0 {
		return nil, Errorf(CodeFailedToParse, "$type must match at least one type")
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
	div, ok := matchTruncateOperand(arr[0])
	if !ok {
		return nil, Errorf(CodeBadValue, "malformed mod, divisor value is invalid :: caused by :: %v cannot be converted to a 64-bit integer", arr[0])
	}
	rem, ok := matchTruncateOperand(arr[1])
	if !ok {
		return nil, Errorf(CodeBadValue, "malformed mod, remainder value is invalid :: caused by :: %v cannot be converted to a 64-bit integer", arr[1])
	}
	if div == 0 {
		return nil, Errorf(CodeBadValue, "divisor cannot be 0")
	}
	return &modPred{divisor: div, remainder: rem}, nil
}

// matchTruncateOperand truncates a $mod operand, refusing values outside
// the int64 range instead of saturating.
func matchTruncateOperand(v any) (int64, bool) {
	if f, ok := ToFloat64(v); ok {
		if math.IsNaN(f) || f >= 9.223372036854775807e18 || f < -9.223372036854775807e18 {
			return 0, false
		}
	}
	return matchTruncate(v)
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
				return nil, Errorf(CodeBadValue, "%s: bit positions must be numbers, found %v", name, e)
			}
			n, ok := ToInt64(e)
			if !ok {
				return nil, Errorf(CodeBadValue, "%s: bit position %v must be an integer", name, e)
			}
			if n < 0 {
				return nil, Errorf(CodeBadValue, "%s: bit position %v must be non-negative", name, e)
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
	var haveRegex, haveOptions, regexHasOptions bool
	for _, e := range d {
		switch e.Key {
		case "$regex":
			switch x := e.Value.(type) {
			case string:
				pattern = x
			case bson.Regex:
				pattern = x.Pattern
				if x.Options != "" {
					options = x.Options
					regexHasOptions = true
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
			if s != "" {
				haveOptions = true
			}
			if !regexHasOptions {
				options = s
			}
		}
	}
	if !haveRegex {
		return nil, Errorf(CodeBadValue, "$options needs a $regex")
	}
	if haveOptions && regexHasOptions {
		return nil, Errorf(CodeBadValue, "options set in both $regex and $options")
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
	if flags != "" {
		src = "(?" + flags + ")" + src
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, matchLocationError(matchCodeInvalidRegex, "Regular expression is invalid: "+err.Error())
	}
	return &regexPred{re: re, value: bson.Regex{Pattern: pattern, Options: options}}, nil
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
