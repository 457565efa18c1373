package mql

import (
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// schemaJSONTypes maps JSON Schema's type names to BSON types; "number"
// is every numeric type and "integer" is not supported, as in MongoDB.
var schemaJSONTypes = map[string][]bson.Type{
	"object":  {bson.TypeEmbeddedDocument},
	"array":   {bson.TypeArray},
	"number":  {bson.TypeDouble, bson.TypeInt32, bson.TypeInt64, bson.TypeDecimal128},
	"boolean": {bson.TypeBoolean},
	"string":  {bson.TypeString},
	"null":    {bson.TypeNull},
}

func (c *schemaCompiler) subschema(keyword string, v any) (*schemaNode, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, c.errorf(CodeTypeMismatch, "$jsonSchema keyword '%s' must be an object", keyword)
	}
	return c.compile(d)
}

// at compiles v with seg appended to the error path.
func (c *schemaCompiler) at(keyword string, v any, segs ...string) (*schemaNode, error) {
	c.path = append(c.path, segs...)
	s, err := c.subschema(keyword, v)
	c.path = c.path[:len(c.path)-len(segs)]
	return s, err
}

func (c *schemaCompiler) nonNegative(keyword string, v any) (int64, error) {
	if !IsNumber(v) {
		return 0, c.errorf(CodeTypeMismatch, "$jsonSchema keyword '%s' must be a number", keyword)
	}
	n, ok := ToInt64(v)
	if !ok || n < 0 {
		return 0, c.errorf(CodeFailedToParse, "$jsonSchema keyword '%s' must be a non-negative integer", keyword)
	}
	return n, nil
}

func (c *schemaCompiler) stringSet(keyword string, v any) ([]string, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, c.errorf(CodeTypeMismatch, "$jsonSchema keyword '%s' must be an array", keyword)
	}
	if len(arr) == 0 {
		return nil, c.errorf(CodeFailedToParse, "$jsonSchema keyword '%s' cannot be an empty array", keyword)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, c.errorf(CodeTypeMismatch, "$jsonSchema keyword '%s' must be an array of strings", keyword)
		}
		if seen[s] {
			return nil, c.errorf(CodeFailedToParse, "$jsonSchema keyword '%s' array cannot contain duplicate values", keyword)
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, nil
}

func (c *schemaCompiler) schemaList(keyword string, v any) ([]*schemaNode, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, c.errorf(CodeTypeMismatch, "$jsonSchema keyword '%s' must be an array", keyword)
	}
	if len(arr) == 0 {
		return nil, c.errorf(CodeFailedToParse, "$jsonSchema keyword '%s' must be a non-empty array", keyword)
	}
	out := make([]*schemaNode, len(arr))
	for i, x := range arr {
		s, err := c.at(keyword, x, strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// schemaTypeTest is a compiled type or bsonType keyword.
type schemaTypeTest struct {
	pred  typePred
	extra []func(v any) bool
	names string
}

func (t *schemaTypeTest) match(v any) bool {
	if t.pred.matchValue(v) {
		return true
	}
	for _, f := range t.extra {
		if f(v) {
			return true
		}
	}
	return false
}

func (c *schemaCompiler) typeSet(keyword string, v any) (*schemaTypeTest, error) {
	items := bson.A{v}
	if a, ok := v.(bson.A); ok {
		items = a
		if len(a) == 0 {
			return nil, c.errorf(CodeFailedToParse, "$jsonSchema keyword '%s' must name at least one type", keyword)
		}
	}
	t := &schemaTypeTest{}
	names := make([]string, 0, len(items))
	for _, x := range items {
		name, ok := x.(string)
		if !ok {
			return nil, c.errorf(CodeTypeMismatch, "$jsonSchema keyword '%s' must be a string or an array of strings", keyword)
		}
		names = append(names, name)
		if keyword == "type" {
			if name == "integer" {
				return nil, c.errorf(CodeBadValue, "$jsonSchema type 'integer' is not currently supported.")
			}
			ts, ok := schemaJSONTypes[name]
			if !ok {
				return nil, c.errorf(CodeBadValue, "Unknown JSON Schema type: %s", name)
			}
			t.pred.types = append(t.pred.types, ts...)
			continue
		}
		if name == "number" {
			t.pred.number = true
			continue
		}
		if f, ok := c.opts.Types[name]; ok {
			t.extra = append(t.extra, f)
			continue
		}
		bt, ok := TypeByAlias(name)
		if !ok {
			return nil, c.errorf(CodeBadValue, "Unknown type name alias: %s", name)
		}
		t.pred.types = append(t.pred.types, bt)
	}
	t.names = strings.Join(names, ", ")
	return t, nil
}

// compile compiles one schema object.
func (c *schemaCompiler) compile(d bson.D) (*schemaNode, error) {
	if len(c.path) > 2*MaxDepth {
		return nil, c.errorf(CodeOverflow, "$jsonSchema nesting exceeds the maximum depth of %d", MaxDepth)
	}
	s := &schemaNode{}
	add := func(ch schemaCheck) { s.checks = append(s.checks, ch) }
	get := func(k string) any { return Get(d, k) }

	// required is known before properties is compiled so that nullable
	// optional properties can be told apart.
	var requiredSet map[string]bool
	if names, ok := get("required").(bson.A); ok && c.opts.NullableOptional {
		requiredSet = make(map[string]bool, len(names))
		for _, n := range names {
			if s, ok := n.(string); ok {
				requiredSet[s] = true
			}
		}
	}

	var props map[string]*schemaNode
	var patterns []schemaPattern
	seen := map[string]bool{}
	for _, e := range d {
		if seen[e.Key] {
			return nil, c.errorf(CodeFailedToParse, "Duplicate $jsonSchema keyword: %s", e.Key)
		}
		seen[e.Key] = true
		c.path = append(c.path, e.Key)
		err := c.keyword(e, add, get, &props, &patterns, requiredSet)
		c.path = c.path[:len(c.path)-1]
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// keyword compiles one keyword of schema d into checks on s.
func (c *schemaCompiler) keyword(e bson.E, add func(schemaCheck), get func(string) any,
	propsOut *map[string]*schemaNode, patternsOut *[]schemaPattern, requiredSet map[string]bool) error {
	switch e.Key {
	case "title", "description", "$comment":
		if _, ok := e.Value.(string); !ok && e.Key != "$comment" {
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword '%s' must be a string", e.Key)
		}
	case "type", "bsonType":
		if e.Key == "type" && !IsMissing(get("bsonType")) {
			return c.errorf(CodeFailedToParse, "Cannot specify both $jsonSchema keywords 'type' and 'bsonType'")
		}
		t, err := c.typeSet(e.Key, e.Value)
		if err != nil {
			return err
		}
		key := e.Key
		add(func(v any, r *schemaRun) bool {
			if t.match(v) {
				return true
			}
			return r.fail(key, "", "Invalid type. Expected: %s: %s, given: %s", key, t.names, schemaTypeName(v))
		})
	case "enum":
		arr, ok := e.Value.(bson.A)
		if !ok {
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword 'enum' must be an array")
		}
		if len(arr) == 0 {
			return c.errorf(CodeFailedToParse, "$jsonSchema keyword 'enum' cannot be an empty array")
		}
		add(func(v any, r *schemaRun) bool {
			for _, x := range arr {
				if Compare(v, x) == 0 {
					return true
				}
			}
			return r.fail("enum", "", "must be one of the following: %s", schemaList(arr))
		})
	case "minimum", "maximum":
		if !IsNumber(e.Value) {
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword '%s' must be a number", e.Key)
		}
		exKey := "exclusiveMinimum"
		op, exOp := cmpGTE, cmpGT
		if e.Key == "maximum" {
			exKey, op, exOp = "exclusiveMaximum", cmpLTE, cmpLT
		}
		if ex, ok := get(exKey).(bool); ok && ex {
			op = exOp
		}
		p := newCmpPred(op, e.Value)
		words := map[int]string{cmpGTE: "greater than or equal to", cmpGT: "greater than",
			cmpLTE: "less than or equal to", cmpLT: "less than"}[op]
		key, bound := e.Key, e.Value
		add(func(v any, r *schemaRun) bool {
			if !IsNumber(v) || p.matchValue(v) {
				return true
			}
			return r.fail(key, "", "Must be %s %s", words, schemaValue(bound))
		})
	case "exclusiveMinimum", "exclusiveMaximum":
		if _, ok := e.Value.(bool); !ok {
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword '%s' must be a boolean", e.Key)
		}
		base := "minimum"
		if e.Key == "exclusiveMaximum" {
			base = "maximum"
		}
		if IsMissing(get(base)) {
			return c.errorf(CodeFailedToParse, "$jsonSchema keyword '%s' must be a present if %s is present", base, e.Key)
		}
	case "multipleOf":
		if !IsNumber(e.Value) {
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword 'multipleOf' must be a number")
		}
		m, ok := schemaRat(e.Value)
		if !ok || m.Sign() <= 0 {
			return c.errorf(CodeFailedToParse, "$jsonSchema keyword 'multipleOf' must have a positive value")
		}
		bound := e.Value
		add(func(v any, r *schemaRun) bool {
			if !IsNumber(v) {
				return true
			}
			if x, ok := schemaRat(v); ok && new(big.Rat).Quo(x, m).IsInt() {
				return true
			}
			return r.fail("multipleOf", "", "Must be a multiple of %s", schemaValue(bound))
		})
	case "minLength", "maxLength":
		n, err := c.nonNegative(e.Key, e.Value)
		if err != nil {
			return err
		}
		isMin := e.Key == "minLength"
		add(func(v any, r *schemaRun) bool {
			str, ok := v.(string)
			if !ok {
				return true
			}
			l := int64(utf8.RuneCountInString(str))
			switch {
			case isMin && l < n:
				return r.fail("minLength", "", "String length must be greater than or equal to %d", n)
			case !isMin && l > n:
				return r.fail("maxLength", "", "String length must be less than or equal to %d", n)
			}
			return true
		})
	case "pattern":
		str, ok := e.Value.(string)
		if !ok {
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword 'pattern' must be a string")
		}
		re, err := newRegexPred(str, "")
		if err != nil {
			return &SchemaCompileError{Path: strings.Join(c.path, "."), Err: schemaErrorOf(err)}
		}
		add(func(v any, r *schemaRun) bool {
			s, ok := v.(string)
			if !ok || re.re.MatchString(s) {
				return true
			}
			return r.fail("pattern", "", "Does not match pattern '%s'", str)
		})
	case "minItems", "maxItems", "minProperties", "maxProperties":
		n, err := c.nonNegative(e.Key, e.Value)
		if err != nil {
			return err
		}
		key := e.Key
		isMin := key[:3] == "min"
		add(func(v any, r *schemaRun) bool {
			var l int64
			what := "items"
			switch x := v.(type) {
			case bson.A:
				if key != "minItems" && key != "maxItems" {
					return true
				}
				l = int64(len(x))
			case bson.D:
				if key != "minProperties" && key != "maxProperties" {
					return true
				}
				l = int64(len(x))
				what = "properties"
			default:
				return true
			}
			switch {
			case isMin && l < n:
				return r.fail(key, "", "Must have at least %d %s", n, what)
			case !isMin && l > n:
				return r.fail(key, "", "Must have at most %d %s", n, what)
			}
			return true
		})
	case "uniqueItems":
		b, ok := e.Value.(bool)
		if !ok {
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword 'uniqueItems' must be a boolean")
		}
		if b {
			add(func(v any, r *schemaRun) bool {
				a, ok := v.(bson.A)
				if !ok {
					return true
				}
				// Sorting finds equal neighbours in n log n; large arrays
				// would make the pairwise check quadratic.
				sorted := append(bson.A(nil), a...)
				sort.Slice(sorted, func(i, j int) bool { return Compare(sorted[i], sorted[j]) < 0 })
				for i := 1; i < len(sorted); i++ {
					if Compare(sorted[i-1], sorted[i]) == 0 {
						return r.fail("uniqueItems", "", "array items must be unique")
					}
				}
				return true
			})
		}
	case "required":
		names, err := c.stringSet("required", e.Value)
		if err != nil {
			return err
		}
		add(func(v any, r *schemaRun) bool {
			doc, ok := v.(bson.D)
			if !ok {
				return true
			}
			valid := true
			for _, n := range names {
				if IsMissing(Get(doc, n)) {
					if r == nil {
						return false
					}
					valid = r.fail("required", "", "%s is required", n)
				}
			}
			return valid
		})
	case "properties":
		pd, ok := e.Value.(bson.D)
		if !ok {
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword 'properties' must be an object")
		}
		props := make(map[string]*schemaNode, len(pd))
		for _, p := range pd {
			sub, err := c.at("properties", p.Value, p.Key)
			if err != nil {
				return err
			}
			props[p.Key] = sub
		}
		*propsOut = props
		nullable := c.opts.NullableOptional
		add(func(v any, r *schemaRun) bool {
			doc, ok := v.(bson.D)
			if !ok {
				return true
			}
			valid := true
			for _, f := range doc {
				sub, ok := props[f.Key]
				if !ok {
					continue
				}
				if nullable && f.Value == nil && !requiredSet[f.Key] {
					continue
				}
				r.push(f.Key)
				good := sub.eval(f.Value, r)
				r.pop()
				if !good {
					if r == nil {
						return false
					}
					valid = false
				}
			}
			return valid
		})
	case "patternProperties":
		pd, ok := e.Value.(bson.D)
		if !ok {
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword 'patternProperties' must be an object")
		}
		var patterns []schemaPattern
		for _, p := range pd {
			re, err := newRegexPred(p.Key, "")
			if err != nil {
				return &SchemaCompileError{Path: strings.Join(c.path, "."), Err: schemaErrorOf(err)}
			}
			sub, err := c.at("patternProperties", p.Value, p.Key)
			if err != nil {
				return err
			}
			patterns = append(patterns, schemaPattern{re: re.re, schema: sub})
		}
		*patternsOut = patterns
		add(func(v any, r *schemaRun) bool {
			doc, ok := v.(bson.D)
			if !ok {
				return true
			}
			valid := true
			for _, f := range doc {
				for _, p := range patterns {
					if !p.re.MatchString(f.Key) {
						continue
					}
					r.push(f.Key)
					good := p.schema.eval(f.Value, r)
					r.pop()
					if !good {
						if r == nil {
							return false
						}
						valid = false
					}
				}
			}
			return valid
		})
	case "additionalProperties":
		var extra *schemaNode
		switch x := e.Value.(type) {
		case bool:
			if x {
				return nil
			}
		case bson.D:
			sub, err := c.compile(x)
			if err != nil {
				return err
			}
			extra = sub
		default:
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword 'additionalProperties' must be either an object or a boolean")
		}
		// properties and patternProperties may follow this keyword, so
		// they are read when the check runs, not now.
		add(func(v any, r *schemaRun) bool {
			doc, ok := v.(bson.D)
			if !ok {
				return true
			}
			valid := true
			for _, f := range doc {
				if _, ok := (*propsOut)[f.Key]; ok {
					continue
				}
				matched := false
				for _, p := range *patternsOut {
					if p.re.MatchString(f.Key) {
						matched = true
						break
					}
				}
				if matched {
					continue
				}
				var good bool
				if extra == nil {
					good = r.fail("additionalProperties", "", "Additional property %s is not allowed", f.Key)
				} else {
					r.push(f.Key)
					good = extra.eval(f.Value, r)
					r.pop()
				}
				if !good {
					if r == nil {
						return false
					}
					valid = false
				}
			}
			return valid
		})
	case "dependencies":
		dd, ok := e.Value.(bson.D)
		if !ok {
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword 'dependencies' must be an object")
		}
		for _, dep := range dd {
			field := dep.Key
			switch x := dep.Value.(type) {
			case bson.A:
				names, err := c.stringSet("dependencies", x)
				if err != nil {
					return err
				}
				add(func(v any, r *schemaRun) bool {
					doc, ok := v.(bson.D)
					if !ok || IsMissing(Get(doc, field)) {
						return true
					}
					valid := true
					for _, n := range names {
						if IsMissing(Get(doc, n)) {
							if r == nil {
								return false
							}
							valid = r.fail("dependencies", "", "%s is required when %s is present", n, field)
						}
					}
					return valid
				})
			case bson.D:
				c.path = append(c.path, field)
				sub, err := c.compile(x)
				c.path = c.path[:len(c.path)-1]
				if err != nil {
					return err
				}
				add(func(v any, r *schemaRun) bool {
					doc, ok := v.(bson.D)
					if !ok || IsMissing(Get(doc, field)) {
						return true
					}
					return sub.eval(doc, r)
				})
			default:
				return c.errorf(CodeTypeMismatch, "property '%s' in $jsonSchema keyword 'dependencies' must be either an object or an array", field)
			}
		}
	case "items":
		return c.items(e.Value, get, add)
	case "additionalItems":
		switch x := e.Value.(type) {
		case bool:
		case bson.D:
			if _, err := c.compile(x); err != nil {
				return err
			}
		default:
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword 'additionalItems' must be either an object or a boolean")
		}
	case "allOf", "anyOf", "oneOf":
		subs, err := c.schemaList(e.Key, e.Value)
		if err != nil {
			return err
		}
		key := e.Key
		add(func(v any, r *schemaRun) bool {
			if key == "allOf" {
				// Every branch must hold, so each branch's own
				// violations say what is wrong.
				valid := true
				for _, sub := range subs {
					if !sub.eval(v, r) {
						if r == nil {
							return false
						}
						valid = false
					}
				}
				return valid
			}
			n := 0
			for _, sub := range subs {
				if sub.valid(v) {
					n++
				}
			}
			switch {
			case key == "anyOf" && n == 0:
				return r.fail("anyOf", "", "Must validate at least one schema (anyOf)")
			case key == "oneOf" && n != 1:
				return r.fail("oneOf", "", "Must validate one and only one schema (oneOf)")
			}
			return true
		})
	case "not":
		sub, err := c.subschema("not", e.Value)
		if err != nil {
			return err
		}
		add(func(v any, r *schemaRun) bool {
			if !sub.valid(v) {
				return true
			}
			return r.fail("not", "", "Must not validate the schema (not)")
		})
	case "encrypt", "encryptMetadata":
		return &SchemaCompileError{Path: strings.Join(c.path, "."), Err: errUnsupported("$jsonSchema keyword", e.Key)}
	case "const", "contains", "if", "then", "else", "format":
		if c.opts.Draft7 {
			return c.draft7(e, get, add)
		}
		if e.Key == "format" {
			return c.errorf(CodeFailedToParse, "$jsonSchema keyword '%s' is not currently supported", e.Key)
		}
		return c.errorf(CodeFailedToParse, "Unknown $jsonSchema keyword: %s", e.Key)
	case "$ref", "$schema", "default", "definitions", "id":
		return c.errorf(CodeFailedToParse, "$jsonSchema keyword '%s' is not currently supported", e.Key)
	default:
		return c.errorf(CodeFailedToParse, "Unknown $jsonSchema keyword: %s", e.Key)
	}
	return nil
}

// items compiles the items keyword: one schema for every element, or a
// tuple of schemas with additionalItems governing the rest.
func (c *schemaCompiler) items(value any, get func(string) any, add func(schemaCheck)) error {
	switch x := value.(type) {
	case bson.D:
		sub, err := c.compile(x)
		if err != nil {
			return err
		}
		add(func(v any, r *schemaRun) bool {
			a, ok := v.(bson.A)
			if !ok {
				return true
			}
			valid := true
			for i, el := range a {
				r.pushIndex(i)
				good := sub.eval(el, r)
				r.pop()
				if !good {
					if r == nil {
						return false
					}
					valid = false
				}
			}
			return valid
		})
	case bson.A:
		subs := make([]*schemaNode, len(x))
		for i, el := range x {
			sub, err := c.at("items", el, strconv.Itoa(i))
			if err != nil {
				return err
			}
			subs[i] = sub
		}
		var extra *schemaNode
		extraAllowed := true
		switch y := get("additionalItems").(type) {
		case bool:
			extraAllowed = y
		case bson.D:
			c.path[len(c.path)-1] = "additionalItems"
			sub, err := c.compile(y)
			c.path[len(c.path)-1] = "items"
			if err != nil {
				return err
			}
			extra = sub
		}
		add(func(v any, r *schemaRun) bool {
			a, ok := v.(bson.A)
			if !ok {
				return true
			}
			valid := true
			for i, el := range a {
				var good bool
				switch {
				case i < len(subs):
					r.pushIndex(i)
					good = subs[i].eval(el, r)
					r.pop()
				case extra != nil:
					r.pushIndex(i)
					good = extra.eval(el, r)
					r.pop()
				case !extraAllowed:
					// One violation for the array, not one per extra item.
					return r.fail("additionalItems", "", "Must have at most %d items", len(subs)) && valid
				default:
					good = true
				}
				if !good {
					if r == nil {
						return false
					}
					valid = false
				}
			}
			return valid
		})
	default:
		return c.errorf(CodeTypeMismatch, "$jsonSchema keyword 'items' must be an array or an object")
	}
	return nil
}

// draft7 compiles the keywords later JSON Schema drafts added, accepted
// only with SchemaOptions.Draft7.
func (c *schemaCompiler) draft7(e bson.E, get func(string) any, add func(schemaCheck)) error {
	switch e.Key {
	case "const":
		want := e.Value
		add(func(v any, r *schemaRun) bool {
			if Compare(v, want) == 0 {
				return true
			}
			return r.fail("const", "", "Does not match: %s", schemaValue(want))
		})
	case "contains":
		sub, err := c.subschema("contains", e.Value)
		if err != nil {
			return err
		}
		add(func(v any, r *schemaRun) bool {
			a, ok := v.(bson.A)
			if !ok {
				return true
			}
			for _, el := range a {
				if sub.valid(el) {
					return true
				}
			}
			return r.fail("contains", "", "At least one of the items must match")
		})
	case "if":
		cond, err := c.subschema("if", e.Value)
		if err != nil {
			return err
		}
		var then, els *schemaNode
		for _, k := range []string{"then", "else"} {
			raw := get(k)
			if IsMissing(raw) {
				continue
			}
			c.path[len(c.path)-1] = k
			sub, err := c.subschema(k, raw)
			c.path[len(c.path)-1] = "if"
			if err != nil {
				return err
			}
			if k == "then" {
				then = sub
			} else {
				els = sub
			}
		}
		add(func(v any, r *schemaRun) bool {
			if cond.valid(v) {
				if then != nil && !then.valid(v) {
					return r.fail("then", "", "Must validate \"then\" as \"if\" was valid")
				}
			} else if els != nil && !els.valid(v) {
				return r.fail("else", "", "Must validate \"else\" as \"if\" was not valid")
			}
			return true
		})
	case "then", "else":
		// Compiled with if; without if they have no effect but must
		// still be schemas.
		if _, err := c.subschema(e.Key, e.Value); err != nil {
			return err
		}
	case "format":
		// An annotation, as JSON Schema draft 7 defines it by default:
		// App Services' exports carry it without documenting checks.
		if _, ok := e.Value.(string); !ok {
			return c.errorf(CodeTypeMismatch, "$jsonSchema keyword 'format' must be a string")
		}
	}
	return nil
}

type schemaPattern struct {
	re     *regexp.Regexp
	schema *schemaNode
}

// schemaRat converts a number to an exact rational for multipleOf. Doubles
// go through their shortest decimal form, so that 0.3 is a multiple of 0.1
// as it is with MongoDB's decimal arithmetic.
func schemaRat(v any) (*big.Rat, bool) {
	switch x := v.(type) {
	case int32:
		return new(big.Rat).SetInt64(int64(x)), true
	case int64:
		return new(big.Rat).SetInt64(x), true
	case float64:
		r, ok := new(big.Rat).SetString(strconv.FormatFloat(x, 'g', -1, 64))
		return r, ok
	case bson.Decimal128:
		r, ok := new(big.Rat).SetString(x.String())
		return r, ok
	}
	return nil, false
}

// schemaValue renders a schema value in a violation's reason.
func schemaValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case nil:
		return "null"
	}
	if b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, false, false); err == nil {
		s := string(b)
		return strings.TrimSuffix(strings.TrimPrefix(s, `{"v":`), "}")
	}
	return "?"
}

func schemaList(arr bson.A) string {
	parts := make([]string, len(arr))
	for i, x := range arr {
		parts[i] = schemaValue(x)
	}
	return strings.Join(parts, ", ")
}

// schemaErrorOf returns err as an *Error, wrapping foreign errors as BadValue.
func schemaErrorOf(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return Errorf(CodeBadValue, "%s", err.Error())
}
