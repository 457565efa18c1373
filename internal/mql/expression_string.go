package mql

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	operators["$concat"] = nary(0, -1, evalConcat)
	operators["$substr"] = nary(3, 3, evalSubstrBytes)
	operators["$substrBytes"] = nary(3, 3, evalSubstrBytes)
	operators["$substrCP"] = nary(3, 3, evalSubstrCP)
	operators["$toLower"] = unary(func(n string, v any) (any, error) { return caseFold(n, v, strings.ToLower) })
	operators["$toUpper"] = unary(func(n string, v any) (any, error) { return caseFold(n, v, strings.ToUpper) })
	operators["$strLenCP"] = unary(evalStrLen)
	operators["$strLenBytes"] = unary(evalStrLen)
	operators["$split"] = nary(2, 2, evalSplit)
	operators["$trim"] = opTrim
	operators["$ltrim"] = opTrim
	operators["$rtrim"] = opTrim
	operators["$indexOfBytes"] = nary(2, 4, evalIndexOfStr)
	operators["$indexOfCP"] = nary(2, 4, evalIndexOfStr)
	operators["$regexMatch"] = opRegex
	operators["$regexFind"] = opRegex
	operators["$regexFindAll"] = opRegex
	operators["$strcasecmp"] = nary(2, 2, evalStrcasecmp)
}

func evalConcat(name string, vals []any) (any, error) {
	var b strings.Builder
	for _, v := range vals {
		if isNullish(v) {
			return nil, nil
		}
		s, ok := v.(string)
		if !ok {
			return nil, Errorf(16702, "$concat only supports strings, not %s", TypeName(v))
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// coerceString is the loose string conversion of $substr, $toLower and
// $strcasecmp: null is "", numbers, dates and timestamps print.
func coerceString(name string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bson.Symbol:
		return string(x), nil
	case nil, missingType, bson.Undefined, bson.Null:
		return "", nil
	case int32, int64, float64, bson.Decimal128, bson.DateTime, bson.Timestamp:
		s, err := convertToString(x)
		if err != nil {
			return "", err
		}
		return s, nil
	}
	return "", Errorf(16007, "can't convert from BSON type %s to String", TypeName(v))
}

func evalSubstrBytes(name string, vals []any) (any, error) {
	s, err := coerceString(name, vals[0])
	if err != nil {
		return nil, err
	}
	if !IsNumber(vals[1]) {
		return nil, Errorf(16034, "%s: starting index must be a numeric type (is BSON type %s)", name, TypeName(vals[1]))
	}
	if !IsNumber(vals[2]) {
		return nil, Errorf(16035, "%s: length must be a numeric type (is BSON type %s)", name, TypeName(vals[2]))
	}
	startF, _ := ToFloat64(vals[1])
	lenF, _ := ToFloat64(vals[2])
	// Compare in float64 first: NaN and huge values must not reach the
	// integer conversions.
	if !(startF >= 0) || startF >= float64(len(s)) {
		return "", nil
	}
	start := int(startF)
	end := len(s)
	if lenF >= 0 && lenF < float64(len(s)-start) {
		end = start + int(lenF)
	}
	if start < len(s) && !utf8.RuneStart(s[start]) {
		return nil, Errorf(28656, "%s: Invalid range, starting index is a UTF-8 continuation byte.", name)
	}
	if end < len(s) && !utf8.RuneStart(s[end]) {
		return nil, Errorf(28657, "%s: Invalid range, ending index is in the middle of a UTF-8 character.", name)
	}
	return s[start:end], nil
}

func evalSubstrCP(name string, vals []any) (any, error) {
	s, err := coerceString(name, vals[0])
	if err != nil {
		return nil, err
	}
	if !IsNumber(vals[1]) {
		return nil, Errorf(34450, "%s: starting index must be a numeric type (is BSON type %s)", name, TypeName(vals[1]))
	}
	start, ok := ToInt64(vals[1])
	if !ok {
		return nil, Errorf(34451, "%s: starting index cannot be represented as a 32-bit integral value", name)
	}
	if !IsNumber(vals[2]) {
		return nil, Errorf(34452, "%s: length must be a numeric type (is BSON type %s)", name, TypeName(vals[2]))
	}
	length, ok := ToInt64(vals[2])
	if !ok {
		return nil, Errorf(34453, "%s: length cannot be represented as a 32-bit integral value", name)
	}
	if start < 0 {
		return nil, Errorf(34455, "%s: the starting index must be nonnegative integer.", name)
	}
	if length < 0 {
		return nil, Errorf(34454, "%s: length must be a nonnegative integer.", name)
	}
	runes := []rune(s)
	if start >= int64(len(runes)) {
		return "", nil
	}
	end := int64(len(runes))
	if length < end-start {
		end = start + length
	}
	return string(runes[start:end]), nil
}

func caseFold(name string, v any, f func(string) string) (any, error) {
	s, err := coerceString(name, v)
	if err != nil {
		return nil, err
	}
	// MongoDB folds ASCII letters only.
	return strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf {
			return []rune(f(string(r)))[0]
		}
		return r
	}, s), nil
}

func evalStrLen(name string, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		if name == "$strLenCP" {
			return nil, Errorf(34471, "$strLenCP requires a string argument, found: %s", TypeName(v))
		}
		return nil, Errorf(34473, "$strLenBytes requires a string argument, found: %s", TypeName(v))
	}
	if name == "$strLenCP" {
		return int32(utf8.RuneCountInString(s)), nil
	}
	return int32(len(s)), nil
}

func evalSplit(name string, vals []any) (any, error) {
	s, sep := vals[0], vals[1]
	if isNullish(s) {
		return nil, nil
	}
	str, ok := s.(string)
	if !ok {
		return nil, Errorf(40085, "$split requires an expression that evaluates to a string as a first argument, found: %s", TypeName(s))
	}
	d, ok := sep.(string)
	if !ok {
		if isNullish(sep) {
			return nil, nil
		}
		return nil, Errorf(40086, "$split requires an expression that evaluates to a string as a second argument, found: %s", TypeName(sep))
	}
	if d == "" {
		return nil, Errorf(40087, "$split requires a non-empty separator")
	}
	parts := strings.Split(str, d)
	out := make(bson.A, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// trimWhitespace is MongoDB's default $trim set: the null character and
// the Unicode spaces it lists.
const trimWhitespace = "\u0000\u0020\u0009\u000A\u000B\u000C\u000D\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A"

func opTrim(name string, arg any, depth int) (exprFn, error) {
	args, err := namedArgs(name, arg, depth, []string{"input"}, []string{"chars"})
	if err != nil {
		return nil, err
	}
	input, chars := args["input"], args["chars"]
	return func(c *evalCtx) (any, error) {
		v, err := input(c)
		if err != nil {
			return nil, err
		}
		if isNullish(v) {
			return nil, nil
		}
		s, ok := v.(string)
		if !ok {
			return nil, Errorf(50699, "%s requires its input to be a string, got %s (of type %s) instead.", name, fmtValue(v), TypeName(v))
		}
		set := trimWhitespace
		if chars != nil {
			cv, err := chars(c)
			if err != nil {
				return nil, err
			}
			if isNullish(cv) {
				return nil, nil
			}
			cs, ok := cv.(string)
			if !ok {
				return nil, Errorf(50700, "%s requires 'chars' to be a string, got %s (of type %s) instead.", name, fmtValue(cv), TypeName(cv))
			}
			set = cs
		}
		switch name {
		case "$ltrim":
			return strings.TrimLeft(s, set), nil
		case "$rtrim":
			return strings.TrimRight(s, set), nil
		}
		return strings.Trim(s, set), nil
	}, nil
}

func evalIndexOfStr(name string, vals []any) (any, error) {
	s, sub := vals[0], vals[1]
	if isNullish(s) {
		return nil, nil
	}
	str, ok := s.(string)
	if !ok {
		return nil, Errorf(40091, "%s requires a string as the first argument, found: %s", name, TypeName(s))
	}
	needle, ok := sub.(string)
	if !ok {
		return nil, Errorf(40092, "%s requires a string as the second argument, found: %s", name, TypeName(sub))
	}
	cp := name == "$indexOfCP"
	var runes []rune
	length := int64(len(str))
	if cp {
		runes = []rune(str)
		length = int64(len(runes))
	}
	start, end := int64(0), length
	if len(vals) > 2 {
		n, ok := ToInt64(vals[2])
		if !ok {
			return nil, Errorf(40096, "%s requires an integral starting index, found a value of type: %s", name, TypeName(vals[2]))
		}
		if n < 0 {
			return nil, Errorf(40097, "%s requires a nonnegative start index, found: %d", name, n)
		}
		start = n
	}
	if len(vals) > 3 {
		n, ok := ToInt64(vals[3])
		if !ok {
			return nil, Errorf(40096, "%s requires an integral ending index, found a value of type: %s", name, TypeName(vals[3]))
		}
		if n < 0 {
			return nil, Errorf(40097, "%s requires a nonnegative ending index, found: %d", name, n)
		}
		if n < end {
			end = n
		}
	}
	if start > end || start > length {
		return int32(-1), nil
	}
	if cp {
		hay := string(runes[start:end])
		i := strings.Index(hay, needle)
		if i < 0 {
			return int32(-1), nil
		}
		return int32(start + int64(utf8.RuneCountInString(hay[:i]))), nil
	}
	i := strings.Index(str[start:end], needle)
	if i < 0 {
		return int32(-1), nil
	}
	return int32(start + int64(i)), nil
}

func evalStrcasecmp(name string, vals []any) (any, error) {
	a, err := coerceString(name, vals[0])
	if err != nil {
		return nil, err
	}
	b, err := coerceString(name, vals[1])
	if err != nil {
		return nil, err
	}
	return int32(strings.Compare(strings.ToUpper(a), strings.ToUpper(b))), nil
}

// compileRegexOptions builds a Go regexp from a MongoDB pattern and
// options. Go's RE2 syntax is close to PCRE for common patterns; back
// references and lookaround are not supported and fail to compile.
func compileRegexOptions(name, pattern, options string) (*regexp.Regexp, error) {
	flags := ""
	for _, o := range options {
		switch o {
		case 'i', 'm', 's':
			flags += string(o)
		case 'x':
			pattern = stripExtended(pattern)
		case 'u':
		default:
			return nil, Errorf(51108, "%s invalid flag in regex options: %c", name, o)
		}
	}
	if flags != "" {
		pattern = "(?" + flags + ")" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, Errorf(51111, "Invalid Regex in %s: %v", name, err)
	}
	return re, nil
}

// stripExtended removes unescaped whitespace and #-comments, as PCRE's
// extended mode does.
func stripExtended(p string) string {
	var b strings.Builder
	escaped, inClass, comment := false, false, false
	for _, r := range p {
		switch {
		case comment:
			if r == '\n' {
				comment = false
			}
			continue
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '[':
			inClass = true
		case r == ']':
			inClass = false
		case !inClass && (r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'):
			continue
		case !inClass && r == '#':
			comment = true
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func opRegex(name string, arg any, depth int) (exprFn, error) {
	args, err := namedArgs(name, arg, depth, []string{"input", "regex"}, []string{"options"})
	if err != nil {
		return nil, err
	}
	input, rx, opts := args["input"], args["regex"], args["options"]
	return func(c *evalCtx) (any, error) {
		v, err := input(c)
		if err != nil {
			return nil, err
		}
		r, err := rx(c)
		if err != nil {
			return nil, err
		}
		var o any = Missing
		if opts != nil {
			if o, err = opts(c); err != nil {
				return nil, err
			}
		}
		pattern, flags := "", ""
		switch x := r.(type) {
		case string:
			pattern = x
		case bson.Regex:
			pattern, flags = x.Pattern, x.Options
			if os, ok := o.(string); ok && os != "" && x.Options != "" {
				return nil, Errorf(51075, "%s: regex option(s) specified in both 'regex' and 'option' fields", name)
			}
		default:
			if !isNullish(r) {
				return nil, Errorf(51105, "%s needs 'regex' to be of type string or regex", name)
			}
		}
		if os, ok := o.(string); ok {
			flags += os
		} else if !isNullish(o) {
			return nil, Errorf(51106, "%s needs 'options' to be of type string", name)
		}
		if isNullish(v) || isNullish(r) {
			switch name {
			case "$regexMatch":
				return false, nil
			case "$regexFind":
				return nil, nil
			}
			return bson.A{}, nil
		}
		s, ok := v.(string)
		if !ok {
			return nil, Errorf(51104, "%s needs 'input' to be of type string", name)
		}
		re, err := compileRegexOptions(name, pattern, flags)
		if err != nil {
			return nil, err
		}
		switch name {
		case "$regexMatch":
			return re.MatchString(s), nil
		case "$regexFind":
			m := re.FindStringSubmatchIndex(s)
			if m == nil {
				return nil, nil
			}
			return regexResult(s, m), nil
		}
		out := bson.A{}
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			out = append(out, regexResult(s, m))
		}
		return out, nil
	}, nil
}

func regexResult(s string, m []int) bson.D {
	captures := bson.A{}
	for i := 2; i+1 < len(m); i += 2 {
		if m[i] < 0 {
			captures = append(captures, nil)
		} else {
			captures = append(captures, s[m[i]:m[i+1]])
		}
	}
	return bson.D{
		{Key: "match", Value: s[m[0]:m[1]]},
		{Key: "idx", Value: int32(utf8.RuneCountInString(s[:m[0]]))},
		{Key: "captures", Value: captures},
	}
}
