package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
)

// maxNameLen bounds role and filter names, as App Services does.
const maxNameLen = 100

// loader carries the file name so that every error says where it is.
type loader struct{ file string }

func (l loader) errf(path, format string, args ...any) error {
	return &LoadError{File: l.file, Path: path, Reason: fmt.Sprintf(format, args...)}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// decode parses a rule file as MongoDB Extended JSON (rule files are EJSON:
// {"$oid": ...} is a literal ObjectId, §5.1).
func (l loader) decode(data []byte) (bson.D, error) {
	var d bson.D
	if err := bson.UnmarshalExtJSON(data, false, &d); err != nil {
		return nil, &LoadError{File: l.file, Reason: "not a JSON object: " + err.Error(), Err: err}
	}
	return d, nil
}

// LoadRules loads a rules.json, a default_rule.json or a v1
// services/<svc>/rules/<db>.<coll>.json file (current and legacy role formats,
// §3.1, §3.2) into a Ruleset. file is only used in error messages. Unknown
// keys, wrong types, unknown expansions or operators and Stitch-era field
// rules fail here with the JSON path and the reason.
func LoadRules(file string, data []byte) (*Ruleset, error) {
	l := loader{file: file}
	d, err := l.decode(data)
	if err != nil {
		return nil, err
	}
	rs := &Ruleset{File: file}
	for _, e := range d {
		switch e.Key {
		case "database", "collection", "id", "_id":
			// Identification only: the folder names the namespace (W-63).
		case "schema", "relationships":
			// v1 files embed these; appconfig reads them.
		case "roles":
			arr, ok := e.Value.(bson.A)
			if !ok {
				return nil, l.errf("roles", "must be an array, not %s", typeName(e.Value))
			}
			seen := map[string]bool{}
			for i, rv := range arr {
				p := index("roles", i)
				role, err := l.role(p, rv)
				if err != nil {
					return nil, err
				}
				if seen[role.Name] {
					return nil, l.errf(join(p, "name"), "duplicate role name %q", role.Name)
				}
				seen[role.Name] = true
				rs.Roles = append(rs.Roles, role)
			}
		case "filters":
			arr, ok := e.Value.(bson.A)
			if !ok {
				return nil, l.errf("filters", "must be an array, not %s", typeName(e.Value))
			}
			for i, fv := range arr {
				f, err := l.filter(index("filters", i), fv)
				if err != nil {
					return nil, err
				}
				rs.Filters = append(rs.Filters, f)
			}
		default:
			return nil, l.errf(e.Key, "unknown key %q", e.Key)
		}
	}
	return rs, nil
}

func typeName(v any) string {
	switch v.(type) {
	case bson.D:
		return "an object"
	case bson.A:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// forbiddenInRules are the inputs a data-access rule can never have: %%args
// belongs to service rules and %%partition to partition-sync permissions.
const forbiddenInRules = expr.UsesArgs | expr.UsesPartition

// expression parses an expression value at path.
func (l loader) expression(path string, v any, forbid expr.Uses, why string) (*expr.Expr, error) {
	switch v.(type) {
	case bool, bson.D:
	default:
		return nil, l.errf(path, "an expression must be a boolean or an object, not %s", typeName(v))
	}
	e, err := expr.Parse(v)
	if err != nil {
		var pe *expr.ParseError
		if errors.As(err, &pe) {
			return nil, &LoadError{File: l.file, Path: join(path, pe.Path), Reason: pe.Reason, Err: err}
		}
		return nil, &LoadError{File: l.file, Path: path, Reason: err.Error(), Err: err}
	}
	if bad := e.Uses() & forbid; bad != 0 {
		return nil, l.errf(path, "%s may not use %s", why, bad)
	}
	return e, nil
}

func (l loader) name(path string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", l.errf(path, "must be a string, not %s", typeName(v))
	}
	if s == "" {
		return "", l.errf(path, "must not be empty")
	}
	if len(s) > maxNameLen {
		return "", l.errf(path, "longer than %d characters", maxNameLen)
	}
	return s, nil
}

func (l loader) role(path string, v any) (*Role, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, l.errf(path, "a role must be an object, not %s", typeName(v))
	}
	r := &Role{ApplyWhen: expr.True, raw: withoutID(d)}
	hasName := false
	var err error
	for _, e := range d {
		p := join(path, e.Key)
		switch e.Key {
		case "_id":
		case "name":
			r.Name, err = l.name(p, e.Value)
			hasName = true
		case "apply_when":
			r.ApplyWhen, err = l.expression(p, e.Value, forbiddenInRules, "apply_when")
		case "read":
			r.Read, err = l.expression(p, e.Value, forbiddenInRules, "read")
		case "write":
			r.Write, err = l.expression(p, e.Value, forbiddenInRules, "write")
		case "insert":
			r.Insert, err = l.expression(p, e.Value, forbiddenInRules, "insert")
		case "delete":
			r.Delete, err = l.expression(p, e.Value, forbiddenInRules, "delete")
		case "search":
			b, ok := e.Value.(bool)
			if !ok {
				// Boolean only since Sep 2022 (§3.1).
				return nil, l.errf(p, "search must be a boolean, not %s", typeName(e.Value))
			}
			r.Search = &b
		case "document_filters":
			r.DocumentFilters, err = l.documentFilters(p, e.Value)
		case "fields":
			r.Fields, err = l.fields(p, e.Value)
		case "additional_fields":
			r.AdditionalFields, err = l.fieldRule(p, e.Value, false)
		case "other_fields", "valid":
			return nil, l.errf(p, "Stitch-era field rules (%s) are not supported; rewrite the role with fields/additional_fields", e.Key)
		default:
			return nil, l.errf(p, "unknown role key %q", e.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasName {
		return nil, l.errf(join(path, "name"), "a role needs a name")
	}
	return r, nil
}

func (l loader) documentFilters(path string, v any) (*DocumentFilters, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, l.errf(path, "must be an object, not %s", typeName(v))
	}
	df := &DocumentFilters{Read: expr.True, Write: expr.True}
	var err error
	for _, e := range d {
		p := join(path, e.Key)
		switch e.Key {
		case "read":
			df.Read, err = l.expression(p, e.Value, forbiddenInRules|expr.UsesThis|expr.UsesPrev, "a document filter")
			df.ReadSet = true
		case "write":
			df.Write, err = l.expression(p, e.Value, forbiddenInRules|expr.UsesThis|expr.UsesPrev, "a document filter")
			df.WriteSet = true
		default:
			return nil, l.errf(p, "unknown document_filters key %q", e.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	return df, nil
}

func (l loader) fields(path string, v any) (map[string]*FieldRule, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, l.errf(path, "must be an object, not %s", typeName(v))
	}
	out := make(map[string]*FieldRule, len(d))
	for _, e := range d {
		p := join(path, e.Key)
		if e.Key == "" || strings.HasPrefix(e.Key, "$") || strings.Contains(e.Key, ".") {
			return nil, l.errf(p, "invalid field name %q", e.Key)
		}
		fr, err := l.fieldRule(p, e.Value, true)
		if err != nil {
			return nil, err
		}
		out[e.Key] = fr
	}
	return out, nil
}

func (l loader) fieldRule(path string, v any, nested bool) (*FieldRule, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, l.errf(path, "a field rule must be an object, not %s", typeName(v))
	}
	fr := &FieldRule{}
	var err error
	for _, e := range d {
		p := join(path, e.Key)
		switch {
		case e.Key == "read":
			fr.Read, err = l.expression(p, e.Value, forbiddenInRules, "a field rule")
		case e.Key == "write":
			fr.Write, err = l.expression(p, e.Value, forbiddenInRules, "a field rule")
		case e.Key == "fields" && nested:
			fr.Fields, err = l.fields(p, e.Value)
		case e.Key == "valid" || e.Key == "other_fields":
			return nil, l.errf(p, "Stitch-era field rules (%s) are not supported; rewrite the role with fields/additional_fields", e.Key)
		default:
			return nil, l.errf(p, "unknown field rule key %q", e.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	return fr, nil
}

func (l loader) filter(path string, v any) (*Filter, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, l.errf(path, "a filter must be an object, not %s", typeName(v))
	}
	f := &Filter{ApplyWhen: expr.True, raw: withoutID(d)}
	hasName, hasQuery := false, false
	var err error
	for _, e := range d {
		p := join(path, e.Key)
		switch e.Key {
		case "_id":
		case "name":
			f.Name, err = l.name(p, e.Value)
			hasName = true
		case "apply_when":
			// Evaluated before any document is read (§4.3, W-43).
			f.ApplyWhen, err = l.expression(p, e.Value, forbiddenInRules|expr.UsesDocument, "a filter's apply_when")
		case "query":
			q, ok := e.Value.(bson.D)
			if !ok {
				return nil, l.errf(p, "query must be an object, not %s", typeName(e.Value))
			}
			f.Query, err = expr.ParseQuery(q)
			if err != nil {
				return nil, &LoadError{File: l.file, Path: p, Reason: err.Error(), Err: err}
			}
			if bad := f.Query.Uses() & (forbiddenInRules | expr.UsesDocument); bad != 0 {
				return nil, l.errf(p, "a filter query may not use %s", bad)
			}
			hasQuery = true
		case "projection":
			f.Projection, err = l.projection(p, e.Value)
		default:
			// "project" is a docs typo; only projection is accepted (§3.1).
			return nil, l.errf(p, "unknown filter key %q", e.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasName {
		return nil, l.errf(join(path, "name"), "a filter needs a name")
	}
	if !hasQuery {
		f.Query, _ = expr.ParseQuery(bson.D{})
	}
	return f, nil
}

func (l loader) projection(path string, v any) ([]ProjectionField, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, l.errf(path, "projection must be an object, not %s", typeName(v))
	}
	out := make([]ProjectionField, 0, len(d))
	for _, e := range d {
		p := join(path, e.Key)
		if e.Key == "" || strings.HasPrefix(e.Key, "$") {
			return nil, l.errf(p, "invalid projection field %q", e.Key)
		}
		var inc bool
		switch x := e.Value.(type) {
		case int32:
			inc = x != 0
		case int64:
			inc = x != 0
		case float64:
			inc = x != 0
		case bool:
			inc = x
		default:
			return nil, l.errf(p, "projection values must be 0 or 1, not %s", typeName(e.Value))
		}
		out = append(out, ProjectionField{Path: e.Key, Include: inc})
	}
	return out, nil
}

// Functions lists the functions the ruleset calls through %function, so
// that the config loader can check they exist.
func (rs *Ruleset) Functions() []string {
	seen := map[string]bool{}
	add := func(e *expr.Expr) {
		if e != nil {
			for _, n := range e.Functions() {
				seen[n] = true
			}
		}
	}
	var fieldRules func(m map[string]*FieldRule)
	fieldRules = func(m map[string]*FieldRule) {
		for _, f := range m {
			add(f.Read)
			add(f.Write)
			fieldRules(f.Fields)
		}
	}
	for _, r := range rs.Roles {
		add(r.ApplyWhen)
		add(r.Read)
		add(r.Write)
		add(r.Insert)
		add(r.Delete)
		if r.DocumentFilters != nil {
			add(r.DocumentFilters.Read)
			add(r.DocumentFilters.Write)
		}
		fieldRules(r.Fields)
		if r.AdditionalFields != nil {
			add(r.AdditionalFields.Read)
			add(r.AdditionalFields.Write)
		}
	}
	for _, f := range rs.Filters {
		add(f.ApplyWhen)
		for _, n := range f.Query.Functions() {
			seen[n] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sortStrings(out)
	return out
}

// withoutID drops the _id the admin API adds to roles and filters.
func withoutID(d bson.D) bson.D {
	out := make(bson.D, 0, len(d))
	for _, e := range d {
		if e.Key != "_id" {
			out = append(out, e)
		}
	}
	return out
}
