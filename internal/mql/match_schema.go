package mql

import (
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// This file implements the $jsonSchema query operator: MongoDB's dialect
// of JSON Schema draft 4 with the bsonType keyword. Each keyword constrains
// only values of the kind it is about (minimum ignores strings, properties
// ignores arrays, and so on), properties of a document are looked up
// without array traversal, and an absent property satisfies everything
// but required.

// schemaNode is a compiled schema: a conjunction of keyword checks.
type schemaNode struct {
	checks []func(v any) bool
}

func (s *schemaNode) valid(v any) bool {
	for _, c := range s.checks {
		if !c(v) {
			return false
		}
	}
	return true
}

// schemaFilter is the top-level $jsonSchema: the document must satisfy it.
type schemaFilter struct{ schema *schemaNode }

func (n *schemaFilter) matchDoc(doc bson.D) (bool, int) { return n.schema.valid(doc), -1 }

func compileJSONSchema(v any) (matchNode, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, Errorf(CodeTypeMismatch, "$jsonSchema must be an object")
	}
	s, err := compileSchema(d)
	if err != nil {
		return nil, err
	}
	return &schemaFilter{schema: s}, nil
}

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

func schemaError(code int, format string, args ...any) error {
	return Errorf(code, format, args...)
}

func schemaSubschema(keyword string, v any) (*schemaNode, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword '%s' must be an object", keyword)
	}
	return compileSchema(d)
}

func schemaNonNegative(keyword string, v any) (int64, error) {
	if !IsNumber(v) {
		return 0, schemaError(CodeTypeMismatch, "$jsonSchema keyword '%s' must be a number", keyword)
	}
	n, ok := ToInt64(v)
	if !ok || n < 0 {
		return 0, schemaError(CodeFailedToParse, "$jsonSchema keyword '%s' must be a non-negative integer", keyword)
	}
	return n, nil
}

func schemaStringSet(keyword string, v any) ([]string, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword '%s' must be an array", keyword)
	}
	if len(arr) == 0 {
		return nil, schemaError(CodeFailedToParse, "$jsonSchema keyword '%s' cannot be an empty array", keyword)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword '%s' must be an array of strings", keyword)
		}
		if seen[s] {
			return nil, schemaError(CodeFailedToParse, "$jsonSchema keyword '%s' array cannot contain duplicate values", keyword)
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, nil
}

func schemaSchemaList(keyword string, v any) ([]*schemaNode, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword '%s' must be an array", keyword)
	}
	if len(arr) == 0 {
		return nil, schemaError(CodeFailedToParse, "$jsonSchema keyword '%s' must be a non-empty array", keyword)
	}
	out := make([]*schemaNode, len(arr))
	for i, x := range arr {
		s, err := schemaSubschema(keyword, x)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func schemaTypeSet(keyword string, v any) (types []bson.Type, number bool, err error) {
	items := bson.A{v}
	if a, ok := v.(bson.A); ok {
		items = a
		if len(a) == 0 {
			return nil, false, schemaError(CodeFailedToParse, "$jsonSchema keyword '%s' must name at least one type", keyword)
		}
	}
	for _, x := range items {
		name, ok := x.(string)
		if !ok {
			return nil, false, schemaError(CodeTypeMismatch, "$jsonSchema keyword '%s' must be a string or an array of strings", keyword)
		}
		if keyword == "type" {
			if name == "integer" {
				return nil, false, schemaError(CodeBadValue, "$jsonSchema type 'integer' is not currently supported.")
			}
			ts, ok := schemaJSONTypes[name]
			if !ok {
				return nil, false, schemaError(CodeBadValue, "Unknown JSON Schema type: %s", name)
			}
			types = append(types, ts...)
			continue
		}
		if name == "number" {
			number = true
			continue
		}
		t, ok := TypeByAlias(name)
		if !ok {
			return nil, false, schemaError(CodeBadValue, "Unknown type name alias: %s", name)
		}
		types = append(types, t)
	}
	return types, number, nil
}

// compileSchema compiles one schema object.
func compileSchema(d bson.D) (*schemaNode, error) {
	s := &schemaNode{}
	add := func(c func(v any) bool) { s.checks = append(s.checks, c) }
	get := func(k string) any { return Get(d, k) }

	var props map[string]*schemaNode
	var patterns []schemaPattern
	seen := map[string]bool{}
	for _, e := range d {
		if seen[e.Key] {
			return nil, schemaError(CodeFailedToParse, "Duplicate $jsonSchema keyword: %s", e.Key)
		}
		seen[e.Key] = true
		switch e.Key {
		case "title", "description", "$comment":
			if _, ok := e.Value.(string); !ok && e.Key != "$comment" {
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword '%s' must be a string", e.Key)
			}
		case "type", "bsonType":
			if e.Key == "type" && !IsMissing(get("bsonType")) {
				return nil, schemaError(CodeFailedToParse, "Cannot specify both $jsonSchema keywords 'type' and 'bsonType'")
			}
			types, number, err := schemaTypeSet(e.Key, e.Value)
			if err != nil {
				return nil, err
			}
			tp := &typePred{types: types, number: number}
			add(tp.matchValue)
		case "enum":
			arr, ok := e.Value.(bson.A)
			if !ok {
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword 'enum' must be an array")
			}
			if len(arr) == 0 {
				return nil, schemaError(CodeFailedToParse, "$jsonSchema keyword 'enum' cannot be an empty array")
			}
			add(func(v any) bool {
				for _, x := range arr {
					if Compare(v, x) == 0 {
						return true
					}
				}
				return false
			})
		case "minimum", "maximum":
			if !IsNumber(e.Value) {
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword '%s' must be a number", e.Key)
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
			add(func(v any) bool { return !IsNumber(v) || p.matchValue(v) })
		case "exclusiveMinimum", "exclusiveMaximum":
			if _, ok := e.Value.(bool); !ok {
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword '%s' must be a boolean", e.Key)
			}
			base := "minimum"
			if e.Key == "exclusiveMaximum" {
				base = "maximum"
			}
			if IsMissing(get(base)) {
				return nil, schemaError(CodeFailedToParse, "$jsonSchema keyword '%s' must be a present if %s is present", base, e.Key)
			}
		case "multipleOf":
			if !IsNumber(e.Value) {
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword 'multipleOf' must be a number")
			}
			m, ok := schemaRat(e.Value)
			if !ok || m.Sign() <= 0 {
				return nil, schemaError(CodeFailedToParse, "$jsonSchema keyword 'multipleOf' must have a positive value")
			}
			add(func(v any) bool {
				if !IsNumber(v) {
					return true
				}
				x, ok := schemaRat(v)
				if !ok {
					return false
				}
				return new(big.Rat).Quo(x, m).IsInt()
			})
		case "minLength", "maxLength":
			n, err := schemaNonNegative(e.Key, e.Value)
			if err != nil {
				return nil, err
			}
			isMin := e.Key == "minLength"
			add(func(v any) bool {
				str, ok := v.(string)
				if !ok {
					return true
				}
				l := int64(utf8.RuneCountInString(str))
				if isMin {
					return l >= n
				}
				return l <= n
			})
		case "pattern":
			str, ok := e.Value.(string)
			if !ok {
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword 'pattern' must be a string")
			}
			re, err := newRegexPred(str, "")
			if err != nil {
				return nil, err
			}
			add(func(v any) bool {
				str, ok := v.(string)
				return !ok || re.re.MatchString(str)
			})
		case "minItems", "maxItems", "minProperties", "maxProperties":
			n, err := schemaNonNegative(e.Key, e.Value)
			if err != nil {
				return nil, err
			}
			key := e.Key
			add(func(v any) bool {
				var l int64
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
				default:
					return true
				}
				if key[:3] == "min" {
					return l >= n
				}
				return l <= n
			})
		case "uniqueItems":
			b, ok := e.Value.(bool)
			if !ok {
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword 'uniqueItems' must be a boolean")
			}
			if b {
				add(func(v any) bool {
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
							return false
						}
					}
					return true
				})
			}
		case "required":
			names, err := schemaStringSet("required", e.Value)
			if err != nil {
				return nil, err
			}
			add(func(v any) bool {
				doc, ok := v.(bson.D)
				if !ok {
					return true
				}
				for _, n := range names {
					if IsMissing(Get(doc, n)) {
						return false
					}
				}
				return true
			})
		case "properties":
			pd, ok := e.Value.(bson.D)
			if !ok {
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword 'properties' must be an object")
			}
			props = make(map[string]*schemaNode, len(pd))
			for _, p := range pd {
				sub, err := schemaSubschema("properties", p.Value)
				if err != nil {
					return nil, err
				}
				props[p.Key] = sub
			}
			add(func(v any) bool {
				doc, ok := v.(bson.D)
				if !ok {
					return true
				}
				for _, f := range doc {
					if sub, ok := props[f.Key]; ok && !sub.valid(f.Value) {
						return false
					}
				}
				return true
			})
		case "patternProperties":
			pd, ok := e.Value.(bson.D)
			if !ok {
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword 'patternProperties' must be an object")
			}
			for _, p := range pd {
				re, err := newRegexPred(p.Key, "")
				if err != nil {
					return nil, err
				}
				sub, err := schemaSubschema("patternProperties", p.Value)
				if err != nil {
					return nil, err
				}
				patterns = append(patterns, schemaPattern{re: re.re, schema: sub})
			}
			add(func(v any) bool {
				doc, ok := v.(bson.D)
				if !ok {
					return true
				}
				for _, f := range doc {
					for _, p := range patterns {
						if p.re.MatchString(f.Key) && !p.schema.valid(f.Value) {
							return false
						}
					}
				}
				return true
			})
		case "additionalProperties":
			var extra *schemaNode
			switch x := e.Value.(type) {
			case bool:
				if x {
					continue
				}
			case bson.D:
				sub, err := compileSchema(x)
				if err != nil {
					return nil, err
				}
				extra = sub
			default:
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword 'additionalProperties' must be either an object or a boolean")
			}
			add(func(v any) bool {
				doc, ok := v.(bson.D)
				if !ok {
					return true
				}
				for _, f := range doc {
					if _, ok := props[f.Key]; ok {
						continue
					}
					matched := false
					for _, p := range patterns {
						if p.re.MatchString(f.Key) {
							matched = true
							break
						}
					}
					if matched {
						continue
					}
					if extra == nil || !extra.valid(f.Value) {
						return false
					}
				}
				return true
			})
		case "dependencies":
			dd, ok := e.Value.(bson.D)
			if !ok {
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword 'dependencies' must be an object")
			}
			for _, dep := range dd {
				field := dep.Key
				switch x := dep.Value.(type) {
				case bson.A:
					names, err := schemaStringSet("dependencies", x)
					if err != nil {
						return nil, err
					}
					add(func(v any) bool {
						doc, ok := v.(bson.D)
						if !ok || IsMissing(Get(doc, field)) {
							return true
						}
						for _, n := range names {
							if IsMissing(Get(doc, n)) {
								return false
							}
						}
						return true
					})
				case bson.D:
					sub, err := compileSchema(x)
					if err != nil {
						return nil, err
					}
					add(func(v any) bool {
						doc, ok := v.(bson.D)
						return !ok || IsMissing(Get(doc, field)) || sub.valid(doc)
					})
				default:
					return nil, schemaError(CodeTypeMismatch, "property '%s' in $jsonSchema keyword 'dependencies' must be either an object or an array", field)
				}
			}
		case "items":
			switch x := e.Value.(type) {
			case bson.D:
				sub, err := compileSchema(x)
				if err != nil {
					return nil, err
				}
				add(func(v any) bool {
					a, ok := v.(bson.A)
					if !ok {
						return true
					}
					for _, el := range a {
						if !sub.valid(el) {
							return false
						}
					}
					return true
				})
			case bson.A:
				subs := make([]*schemaNode, len(x))
				for i, el := range x {
					sub, err := schemaSubschema("items", el)
					if err != nil {
						return nil, err
					}
					subs[i] = sub
				}
				var extra *schemaNode
				extraAllowed := true
				switch y := get("additionalItems").(type) {
				case bool:
					extraAllowed = y
				case bson.D:
					sub, err := compileSchema(y)
					if err != nil {
						return nil, err
					}
					extra = sub
				}
				add(func(v any) bool {
					a, ok := v.(bson.A)
					if !ok {
						return true
					}
					for i, el := range a {
						switch {
						case i < len(subs):
							if !subs[i].valid(el) {
								return false
							}
						case extra != nil:
							if !extra.valid(el) {
								return false
							}
						case !extraAllowed:
							return false
						}
					}
					return true
				})
			default:
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword 'items' must be an array or an object")
			}
		case "additionalItems":
			switch e.Value.(type) {
			case bool, bson.D:
			default:
				return nil, schemaError(CodeTypeMismatch, "$jsonSchema keyword 'additionalItems' must be either an object or a boolean")
			}
			if x, ok := e.Value.(bson.D); ok {
				if _, err := compileSchema(x); err != nil {
					return nil, err
				}
			}
		case "allOf", "anyOf", "oneOf":
			subs, err := schemaSchemaList(e.Key, e.Value)
			if err != nil {
				return nil, err
			}
			key := e.Key
			add(func(v any) bool {
				n := 0
				for _, sub := range subs {
					if sub.valid(v) {
						n++
					} else if key == "allOf" {
						return false
					}
				}
				switch key {
				case "anyOf":
					return n > 0
				case "oneOf":
					return n == 1
				}
				return true
			})
		case "not":
			sub, err := schemaSubschema("not", e.Value)
			if err != nil {
				return nil, err
			}
			add(func(v any) bool { return !sub.valid(v) })
		case "encrypt", "encryptMetadata":
			return nil, errUnsupported("$jsonSchema keyword", e.Key)
		case "$ref", "$schema", "default", "definitions", "format", "id":
			return nil, schemaError(CodeFailedToParse, "$jsonSchema keyword '%s' is not currently supported", e.Key)
		default:
			return nil, schemaError(CodeFailedToParse, "Unknown $jsonSchema keyword: %s", e.Key)
		}
	}
	return s, nil
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
