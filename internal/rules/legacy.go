package rules

import (
	"context"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
)

func sortStrings(s []string) { sort.Strings(s) }

// FlexibleSync is legacy Flexible Sync permissions (§3.3) converted to the
// unified model: Default becomes default_rule.json and Collections the
// per-collection rules.json files, keyed by collection (table) name.
type FlexibleSync struct {
	Default     *Ruleset
	Collections map[string]*Ruleset
}

// LoadFlexibleSync converts the 2022 `permissions` object
// ({rules: {<Coll>: [roles]}, defaultRoles: [roles]}, camelCase keys) into
// unified rulesets (§3.3): applyWhen becomes apply_when, read/write become
// document_filters.read/write (a missing one is false), and the role gets
// read, write, insert, delete and search true.
//
// The 2022 server fell back to defaultRoles when none of a collection's
// roles applied; the unified engine never falls back (§4.1), so the default
// roles are appended after each collection's own roles, which keeps the old
// behaviour (§3.3 recommendation).
func LoadFlexibleSync(file string, data []byte) (*FlexibleSync, error) {
	l := loader{file: file}
	d, err := l.decode(data)
	if err != nil {
		return nil, err
	}
	out := &FlexibleSync{Collections: map[string]*Ruleset{}}
	var colls bson.D
	for _, e := range d {
		switch e.Key {
		case "defaultRoles":
			roles, err := l.flxRoles("defaultRoles", e.Value)
			if err != nil {
				return nil, err
			}
			out.Default = &Ruleset{File: file, Roles: roles}
		case "rules":
			c, ok := e.Value.(bson.D)
			if !ok {
				return nil, l.errf("rules", "must be an object, not %s", typeName(e.Value))
			}
			colls = c
		default:
			return nil, l.errf(e.Key, "unknown key %q", e.Key)
		}
	}
	for _, c := range colls {
		roles, err := l.flxRoles(join("rules", c.Key), c.Value)
		if err != nil {
			return nil, err
		}
		if out.Default != nil {
			roles = append(roles, out.Default.Roles...)
		}
		out.Collections[c.Key] = &Ruleset{File: file, Roles: roles}
	}
	return out, nil
}

func (l loader) flxRoles(path string, v any) ([]*Role, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, l.errf(path, "must be an array, not %s", typeName(v))
	}
	roles := make([]*Role, 0, len(arr))
	seen := map[string]bool{}
	for i, rv := range arr {
		p := index(path, i)
		d, ok := rv.(bson.D)
		if !ok {
			return nil, l.errf(p, "a role must be an object, not %s", typeName(rv))
		}
		t := true
		r := &Role{
			ApplyWhen:       expr.True,
			DocumentFilters: &DocumentFilters{Read: expr.False, Write: expr.False, ReadSet: true, WriteSet: true},
			Read:            expr.True, Write: expr.True, Insert: expr.True, Delete: expr.True, Search: &t,
		}
		var err error
		hasName := false
		syncExpr := forbiddenInRules | expr.UsesRequest | expr.UsesPrevRoot | expr.UsesThis | expr.UsesPrev
		for _, e := range d {
			ep := join(p, e.Key)
			switch e.Key {
			case "name":
				r.Name, err = l.name(ep, e.Value)
				hasName = true
			case "applyWhen":
				r.ApplyWhen, err = l.expression(ep, e.Value, syncExpr|expr.UsesRoot, "applyWhen")
			case "read":
				r.DocumentFilters.Read, err = l.expression(ep, e.Value, syncExpr|expr.UsesFunction, "a sync read filter")
			case "write":
				r.DocumentFilters.Write, err = l.expression(ep, e.Value, syncExpr|expr.UsesFunction, "a sync write filter")
			default:
				return nil, l.errf(ep, "unknown Flexible Sync role key %q (keys are name, applyWhen, read, write)", e.Key)
			}
			if err != nil {
				return nil, err
			}
		}
		if !hasName {
			return nil, l.errf(join(p, "name"), "a role needs a name")
		}
		r.raw = flxUnified(d)
		if seen[r.Name] {
			return nil, l.errf(join(p, "name"), "duplicate role name %q", r.Name)
		}
		seen[r.Name] = true
		roles = append(roles, r)
	}
	return roles, nil
}

// PartitionPermissions are partition-based sync permissions (§3.4):
// evaluated per user per partition, write implies read, no field rules.
type PartitionPermissions struct {
	Read, Write *expr.Expr
}

// LoadPartition loads `partition.permissions` ({read, write}). An absent key
// is false.
func LoadPartition(file string, data []byte) (*PartitionPermissions, error) {
	l := loader{file: file}
	d, err := l.decode(data)
	if err != nil {
		return nil, err
	}
	p := &PartitionPermissions{Read: expr.False, Write: expr.False}
	forbid := expr.UsesDocument | expr.UsesRequest | expr.UsesArgs
	for _, e := range d {
		switch e.Key {
		case "read":
			p.Read, err = l.expression("read", e.Value, forbid, "a partition permission")
		case "write":
			p.Write, err = l.expression("write", e.Value, forbid, "a partition permission")
		default:
			return nil, l.errf(e.Key, "unknown key %q", e.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Decide reports whether the caller bound in env (with Partition set) may
// read and write the partition. Write implies read; an evaluation error
// denies.
func (p *PartitionPermissions) Decide(ctx context.Context, env *expr.Env) (read, write bool) {
	w, err := p.Write.Eval(ctx, env, expr.NoDocument)
	if err != nil {
		w = false
	}
	if w {
		return true, true
	}
	r, err := p.Read.Eval(ctx, env, expr.NoDocument)
	return r && err == nil, false
}

// flxUnified writes a legacy Flexible Sync role in the unified format (§3.3,
// W-48): the shape ExportRuleset emits.
func flxUnified(d bson.D) bson.D {
	var name, applyWhen, read, write any = nil, bson.D{}, false, false
	for _, e := range d {
		switch e.Key {
		case "name":
			name = e.Value
		case "applyWhen":
			applyWhen = e.Value
		case "read":
			read = e.Value
		case "write":
			write = e.Value
		}
	}
	return bson.D{
		{Key: "name", Value: name},
		{Key: "apply_when", Value: applyWhen},
		{Key: "document_filters", Value: bson.D{{Key: "read", Value: read}, {Key: "write", Value: write}}},
		{Key: "read", Value: true}, {Key: "write", Value: true},
		{Key: "insert", Value: true}, {Key: "delete", Value: true}, {Key: "search", Value: true},
	}
}

// ExportRuleset writes rs in the unified rules.json format (for
// default_rule.json, and for `app export` after a legacy import).
func ExportRuleset(rs *Ruleset) ([]byte, error) {
	roles := bson.A{}
	for _, r := range rs.Roles {
		roles = append(roles, r.raw)
	}
	d := bson.D{{Key: "roles", Value: roles}}
	if len(rs.Filters) > 0 {
		fs := bson.A{}
		for _, f := range rs.Filters {
			fs = append(fs, f.raw)
		}
		d = append(d, bson.E{Key: "filters", Value: fs})
	}
	return bson.MarshalExtJSON(d, false, false)
}
