package rules

import (
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Restrictions for application users (§4.7). The data-access layer calls
// these before a request reaches the store; system views allow everything.
// Two kinds of refusal:
//   - operators, stages and options only the system may use;
//   - any reference to a field the caller may not read, in any path form
//     (dotted, array index, positional, inside $elemMatch, $not, $nor,
//     $or/$and, arrayFilters), so that a query result, a count, a sort order
//     or an update outcome can never be used as an oracle on a withheld field.

// allowedQueryOps are the field-level query operators application users may
// use; $regex/$options are added when Options.AllowRegex is set.
var allowedQueryOps = map[string]bool{
	"$eq": true, "$ne": true, "$gt": true, "$gte": true, "$lt": true, "$lte": true,
	"$in": true, "$nin": true, "$not": true, "$all": true, "$elemMatch": true,
	"$size": true, "$exists": true, "$type": true, "$mod": true,
}

// deniedExprOps are aggregation operators refused anywhere in a user's
// pipeline or projection (§4.7; $accumulator by recommendation).
var deniedExprOps = map[string]bool{
	"$function": true, "$accumulator": true, "$setIsSubset": true, "$where": true,
}

func forbidden(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrForbidden, fmt.Sprintf(format, args...))
}

// CheckFilter refuses a query filter using a system-only operator ($where,
// $expr, $text, $jsonSchema, geospatial, bitwise, and $regex unless
// enabled) or referencing a field the caller may not read.
func (v *View) CheckFilter(filter bson.D) error {
	if v.system {
		return nil
	}
	return v.checkQuery(filter, "", 0, v.checkReadable)
}

const maxCheckDepth = 100

// checkQuery checks a query's operators and hands every field path it
// names to visit (checkReadable for a filter; a collector for the
// conditions inside an update, which are decided per document).
func (v *View) checkQuery(q bson.D, prefix string, depth int, visit func(string) error) error {
	if depth > maxCheckDepth {
		return forbidden("filter nested too deeply")
	}
	for _, e := range q {
		switch {
		case e.Key == "$and" || e.Key == "$or" || e.Key == "$nor":
			arr, ok := e.Value.(bson.A)
			if !ok {
				return forbidden("%s needs an array", e.Key)
			}
			for _, x := range arr {
				d, ok := x.(bson.D)
				if !ok {
					return forbidden("%s elements must be documents", e.Key)
				}
				if err := v.checkQuery(d, prefix, depth+1, visit); err != nil {
					return err
				}
			}
		case e.Key == "$comment":
		case strings.HasPrefix(e.Key, "$"):
			return forbidden("query operator %s is not allowed", e.Key)
		default:
			path := prefix + e.Key
			if err := visit(path); err != nil {
				return err
			}
			if err := v.checkValue(path, e.Value, depth+1, visit); err != nil {
				return err
			}
		}
	}
	return nil
}

func isOperatorDoc(d bson.D) bool {
	return len(d) > 0 && strings.HasPrefix(d[0].Key, "$")
}

func (v *View) checkRegex() error {
	if v.opts.AllowRegex {
		return nil
	}
	return forbidden("$regex is not allowed for application users")
}

// checkValue checks the value side of {path: value}.
func (v *View) checkValue(path string, val any, depth int, visit func(string) error) error {
	if depth > maxCheckDepth {
		return forbidden("filter nested too deeply")
	}
	switch x := val.(type) {
	case bson.Regex:
		return v.checkRegex()
	case bson.D:
		if !isOperatorDoc(x) {
			return nil // a literal document: the whole path is already checked
		}
		for _, op := range x {
			switch op.Key {
			case "$regex", "$options":
				if err := v.checkRegex(); err != nil {
					return err
				}
			case "$not":
				if err := v.checkValue(path, op.Value, depth+1, visit); err != nil {
					return err
				}
			case "$elemMatch":
				d, ok := op.Value.(bson.D)
				if !ok {
					return forbidden("$elemMatch needs a document")
				}
				if isOperatorDoc(d) && d[0].Key != "$and" && d[0].Key != "$or" && d[0].Key != "$nor" {
					if err := v.checkValue(path, d, depth+1, visit); err != nil {
						return err
					}
				} else if err := v.checkQuery(d, path+".", depth+1, visit); err != nil {
					return err
				}
			case "$in", "$nin", "$all":
				arr, _ := op.Value.(bson.A)
				for _, el := range arr {
					if _, ok := el.(bson.Regex); ok {
						if err := v.checkRegex(); err != nil {
							return err
						}
					}
					if d, ok := el.(bson.D); ok && op.Key == "$all" && len(d) > 0 && d[0].Key == "$elemMatch" {
						if err := v.checkValue(path, d, depth+1, visit); err != nil {
							return err
						}
					}
				}
			default:
				if !allowedQueryOps[op.Key] {
					return forbidden("query operator %s is not allowed", op.Key)
				}
			}
		}
	}
	return nil
}

// CheckSort refuses sorting on a field the caller may not read.
func (v *View) CheckSort(sort bson.D) error {
	if v.system {
		return nil
	}
	for _, e := range sort {
		if d, ok := e.Value.(bson.D); ok && len(d) == 1 && d[0].Key == "$meta" {
			continue
		}
		if err := v.checkReadable(e.Key); err != nil {
			return err
		}
	}
	return nil
}

// CheckProjection refuses a client projection that names a field the caller
// may not read (inclusion and exclusion alike: an exclusion of a withheld
// field is harmless but naming it is refused for uniformity), a positional
// or $elemMatch projection probing one, or a computed field whose
// expression reads one or uses a denied operator.
func (v *View) CheckProjection(proj bson.D) error {
	if v.system {
		return nil
	}
	for _, e := range proj {
		path := strings.TrimSuffix(e.Key, ".$")
		switch x := e.Value.(type) {
		case bool, int32, int64, float64, bson.Decimal128:
			if err := v.checkReadable(path); err != nil {
				return err
			}
		case bson.D:
			if len(x) == 1 && (x[0].Key == "$elemMatch" || x[0].Key == "$slice") {
				if err := v.checkReadable(path); err != nil {
					return err
				}
				if x[0].Key == "$elemMatch" {
					q, ok := x[0].Value.(bson.D)
					if !ok {
						return forbidden("$elemMatch needs a document")
					}
					if err := v.checkQuery(q, path+".", 1, v.checkReadable); err != nil {
						return err
					}
				}
				continue
			}
			// A computed field: its name is an output, its expression reads.
			if err := v.checkExpression(x, 1); err != nil {
				return err
			}
		default:
			if err := v.checkExpression(x, 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkExpression walks an aggregation expression: denied operators are
// refused and every "$field" reference must be readable.
func (v *View) checkExpression(val any, depth int) error {
	if depth > maxCheckDepth {
		return forbidden("expression nested too deeply")
	}
	switch x := val.(type) {
	case string:
		if strings.HasPrefix(x, "$") && !strings.HasPrefix(x, "$$") {
			return v.checkReadable(x[1:])
		}
		if strings.HasPrefix(x, "$$ROOT") || strings.HasPrefix(x, "$$CURRENT") {
			rest := strings.TrimPrefix(strings.TrimPrefix(x, "$$ROOT"), "$$CURRENT")
			if rest == "" {
				return v.checkWholeReadable()
			}
			return v.checkReadable(strings.TrimPrefix(rest, "."))
		}
	case bson.D:
		for _, e := range x {
			if deniedExprOps[e.Key] {
				return forbidden("operator %s is not allowed", e.Key)
			}
			if err := v.checkExpression(e.Value, depth+1); err != nil {
				return err
			}
		}
	case bson.A:
		for _, el := range x {
			if err := v.checkExpression(el, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckPipeline refuses system-only stages and operators anywhere in a user's
// pipeline (sub-pipelines of $lookup and $unionWith included), and checks
// the leading $match and $sort stages, which the data-access layer pushes
// to the store before documents are redacted, like a find's filter and
// sort. Later stages see only redacted documents (§4.6 recommendation), so
// their field references cannot reach withheld fields.
func (v *View) CheckPipeline(stages []bson.D) error {
	if v.system {
		return nil
	}
	denied := v.opts.DeniedStages
	if denied == nil {
		denied = DefaultDeniedStages
	}
	leading := true
	for i, st := range stages {
		if len(st) != 1 {
			return forbidden("stage %d must have exactly one key", i)
		}
		name := st[0].Key
		for _, d := range denied {
			if name == d {
				return forbidden("aggregation stage %s is not allowed", name)
			}
		}
		switch name {
		case "$match":
			q, ok := st[0].Value.(bson.D)
			if !ok {
				return forbidden("$match needs a document")
			}
			if leading {
				if err := v.CheckFilter(q); err != nil {
					return err
				}
			} else if err := v.checkOperatorsOnly(q); err != nil {
				return err
			}
		case "$sort":
			q, _ := st[0].Value.(bson.D)
			if leading {
				if err := v.CheckSort(q); err != nil {
					return err
				}
			}
		case "$lookup", "$unionWith":
			leading = false
			if d, ok := st[0].Value.(bson.D); ok {
				if p, ok := lookupField(d, "pipeline").(bson.A); ok {
					sub := make([]bson.D, 0, len(p))
					for _, s := range p {
						if sd, ok := s.(bson.D); ok {
							sub = append(sub, sd)
						}
					}
					// The sub-pipeline runs on the foreign collection, whose
					// rules the data-access layer applies; only operators
					// and stages are checked here.
					if err := v.checkStagesOnly(sub, denied); err != nil {
						return err
					}
				}
			}
			continue
		default:
			leading = false
		}
		if err := v.checkOperatorsOnly(st[0].Value); err != nil {
			return err
		}
	}
	return nil
}

func (v *View) checkStagesOnly(stages []bson.D, denied []string) error {
	for _, st := range stages {
		for _, e := range st {
			for _, d := range denied {
				if e.Key == d {
					return forbidden("aggregation stage %s is not allowed", e.Key)
				}
			}
			if err := v.checkOperatorsOnly(e.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkOperatorsOnly refuses denied operators (and system-only query
// operators) anywhere in val, without checking field readability.
func (v *View) checkOperatorsOnly(val any) error {
	switch x := val.(type) {
	case bson.D:
		for _, e := range x {
			if deniedExprOps[e.Key] {
				return forbidden("operator %s is not allowed", e.Key)
			}
			switch e.Key {
			case "$text", "$jsonSchema", "$near", "$nearSphere", "$geoWithin", "$geoIntersects":
				return forbidden("operator %s is not allowed", e.Key)
			case "$regex":
				if err := v.checkRegex(); err != nil {
					return err
				}
			}
			if err := v.checkOperatorsOnly(e.Value); err != nil {
				return err
			}
		}
	case bson.A:
		for _, el := range x {
			if err := v.checkOperatorsOnly(el); err != nil {
				return err
			}
		}
	}
	return nil
}

func lookupField(d bson.D, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

// ForeignNamespaces lists the collections a pipeline reads besides its own
// ($lookup.from and $unionWith, nested ones included), so that the
// data-access layer can apply each one's rules.
func ForeignNamespaces(stages []bson.D) []string {
	var out []string
	var walk func([]bson.D)
	walk = func(stages []bson.D) {
		for _, st := range stages {
			for _, e := range st {
				if e.Key != "$lookup" && e.Key != "$unionWith" {
					continue
				}
				var sub bson.A
				switch x := e.Value.(type) {
				case string:
					out = append(out, x)
				case bson.D:
					for _, k := range []string{"from", "coll"} {
						if s, ok := lookupField(x, k).(string); ok {
							out = append(out, s)
						}
					}
					sub, _ = lookupField(x, "pipeline").(bson.A)
				}
				var ds []bson.D
				for _, s := range sub {
					if d, ok := s.(bson.D); ok {
						ds = append(ds, d)
					}
				}
				walk(ds)
			}
		}
	}
	walk(stages)
	return out
}

// updateOps are the update operators whose operand names target paths.
var updateOps = map[string]bool{
	"$set": true, "$unset": true, "$inc": true, "$mul": true, "$min": true, "$max": true,
	"$currentDate": true, "$setOnInsert": true, "$push": true, "$addToSet": true,
	"$pop": true, "$pull": true, "$pullAll": true, "$bit": true, "$rename": true,
}

// UpdateTargets is what CheckUpdateDoc found an update document to name,
// per role: which roles would have to let the caller see a field they
// hide for the update to be decided. CheckUpdateBefore refuses a document
// under such a role before the update is applied to it.
type UpdateTargets struct {
	checked bool
	// hides[i]: role i does not let the caller read, in every document
	// it returns, some path the update names (a replacement names every
	// field), or it returns no document at all.
	hides []bool
}

// CheckUpdateDoc checks an update document before any document is looked
// at and says which roles it may not be applied under.
//
// An update outcome must never depend on a value the caller may not read:
// applying $inc to a withheld non-number fails, $set of a withheld field
// to its current value changes nothing (and succeeds where a different
// value would be refused), $push needs an array, arrayFilters and $pull
// conditions test values. So every path the update names (every target of
// every operator, $rename source and target, positional, $[] and $[<id>]
// components stripped, every arrayFilters and $pull condition) is checked
// against each role: under a role that hides one of them (a field rule
// that is not a constant grant, or a path into an object shown only in
// part), CheckUpdateBefore refuses a document with ErrUpdateNotPermitted
// before the update touches it, whatever it holds, unless the caller
// reads that document whole; a document the caller cannot see at all
// (any role that returns no document) is no candidate and is skipped. The
// choice depends only on the role and the read decision, which the caller
// can already tell from a read of the document. A path that every role
// which may apply hides (none of them able to show a document whole
// through a document-dependent read or write) is refused here, for the
// whole request (ErrForbidden): no document could ever take the update.
// A replacement names every field: it is refused per document under any
// role that hides a field, unless the document is read whole. Operators
// and query operators only the system may use are refused here.
func (v *View) CheckUpdateDoc(update bson.D, arrayFilters []bson.D) (UpdateTargets, error) {
	if v.system || v.partition != nil {
		return UpdateTargets{checked: true}, nil
	}
	t := UpdateTargets{checked: true, hides: make([]bool, len(v.roles))}
	if !isOperatorDoc(update) {
		for i := range v.roles {
			t.hides[i] = !v.hidesNothing(&v.roles[i])
		}
		return t, nil
	}
	var paths []string
	collect := func(p string) error {
		paths = append(paths, p)
		return nil
	}
	idents := map[string]string{} // $[id] -> path of the array it ranges over
	for _, op := range update {
		if !updateOps[op.Key] {
			return UpdateTargets{}, forbidden("update operator %s is not allowed", op.Key)
		}
		args, ok := op.Value.(bson.D)
		if !ok {
			return UpdateTargets{}, forbidden("%s needs a document", op.Key)
		}
		for _, a := range args {
			targets := []string{a.Key}
			if op.Key == "$rename" {
				if s, ok := a.Value.(string); ok {
					targets = append(targets, s)
				}
			}
			for _, p := range targets {
				paths = append(paths, p)
				comps := strings.Split(p, ".")
				for i, c := range comps {
					if strings.HasPrefix(c, "$[") && c != "$[]" {
						idents[strings.TrimSuffix(strings.TrimPrefix(c, "$["), "]")] = strings.Join(comps[:i], ".")
					}
				}
			}
			if op.Key == "$pull" {
				if d, ok := a.Value.(bson.D); ok {
					if isOperatorDoc(d) {
						if err := v.checkValue(a.Key, d, 1, collect); err != nil {
							return UpdateTargets{}, err
						}
					} else if err := v.checkQuery(d, a.Key+".", 1, collect); err != nil {
						return UpdateTargets{}, err
					}
				}
			}
		}
	}
	for _, af := range arrayFilters {
		for _, e := range af {
			id, rest, _ := strings.Cut(e.Key, ".")
			base, ok := idents[id]
			if !ok {
				// The query engine reports unknown identifiers; refuse here
				// only what could leak.
				base = id
			}
			path := base
			if rest != "" {
				path = base + "." + rest
			}
			if err := v.checkQuery(bson.D{{Key: path, Value: e.Value}}, "", 1, collect); err != nil {
				return UpdateTargets{}, err
			}
		}
	}
	for _, p := range paths {
		comps := ruleComponents(p)
		if len(comps) == 0 {
			return UpdateTargets{}, forbidden("invalid field path %q", p)
		}
		// first: a role that may apply, may return documents and hides p;
		// some: such a role that does not hide p.
		first, some := "", false
		for i := range v.roles {
			r := &v.roles[i]
			never := v.neverReads(r)
			hidden := never || !v.updatePathReadable(r, comps)
			t.hides[i] = t.hides[i] || hidden
			if never || v.kind(&r.applyWhen) == condFalse {
				continue
			}
			if !hidden || v.maybeWhole(r) {
				some = true
			} else if first == "" {
				first = r.role.Name
			}
		}
		if !some && first != "" {
			return UpdateTargets{}, forbidden("field %q may not be read by this user (role %q)", p, first)
		}
	}
	return t, nil
}

// updatePathReadable is pathReadable for a path an update names, which
// must also not go into an object shown only in part (nested field rules):
// whether such an object exists, is a document or holds something else is
// not shown to the caller (a read omits it alike), and that decides
// whether an update of one of its fields fails.
func (v *View) updatePathReadable(r *planRole, comps []string) bool {
	if !v.wholeOrNothing(r) {
		if f, ok := r.fields[comps[0]]; ok && !f.own {
			return false
		}
	}
	return v.pathReadable(r, comps)
}

// maybeWhole reports whether a document-dependent read or write may make
// a document whole under the role, showing every field whatever the field
// rules (CheckUpdateBefore then lets an update through).
func (v *View) maybeWhole(r *planRole) bool {
	return v.kind(&r.read) == condDynamic || v.kind(&r.write) == condDynamic
}

// hidesNothing reports whether every field of every document the role
// returns is returned (constant grants only): a replacement under the
// role names no field the caller cannot read.
func (v *View) hidesNothing(r *planRole) bool {
	if v.neverReads(r) {
		return false
	}
	if v.wholeOrNothing(r) {
		return true
	}
	if r.additional == nil || !v.constantReadable(r.additional) {
		return false
	}
	return v.fieldsReadable(r.fields)
}

// fieldsReadable reports whether every listed field is readable by a
// constant grant; an entry with only nested rules drops unlisted
// sub-fields, so it hides something.
func (v *View) fieldsReadable(fields map[string]*planField) bool {
	for _, f := range fields {
		if !f.own || !v.constantReadable(f) {
			return false
		}
	}
	return true
}

func (v *View) constantReadable(f *planField) bool {
	return v.kind(&f.read) == condTrue || v.kind(&f.write) == condTrue
}

// checkReadable refuses path unless every role that may apply to a
// returned document lets the caller read it. Array indexes and positional
// components are transparent to field rules.
func (v *View) checkReadable(path string) error {
	comps := ruleComponents(path)
	if len(comps) == 0 {
		return forbidden("invalid field path %q", path)
	}
	for i := range v.roles {
		r := &v.roles[i]
		if v.kind(&r.applyWhen) == condFalse || v.neverReads(r) {
			continue
		}
		if !v.pathReadable(r, comps) {
			return forbidden("field %q may not be read by this user (role %q)", path, r.role.Name)
		}
	}
	return nil
}

// checkWholeReadable refuses $$ROOT unless every document is whole.
func (v *View) checkWholeReadable() error {
	for i := range v.roles {
		r := &v.roles[i]
		if v.kind(&r.applyWhen) == condFalse || v.neverReads(r) {
			continue
		}
		if !v.wholeOrNothing(r) {
			return forbidden("$$ROOT may not be read by this user (role %q has field rules)", r.role.Name)
		}
	}
	return nil
}

func ruleComponents(path string) []string {
	parts := strings.Split(path, ".")
	out := parts[:0]
	for _, p := range parts {
		if p == "" {
			return nil
		}
		if p == "$" || p == "$[]" || strings.HasPrefix(p, "$[") || isIndex(p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func isIndex(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// wholeOrNothing reports whether a document returned under the role is
// always the whole document.
func (v *View) wholeOrNothing(r *planRole) bool {
	if v.kind(&r.read) == condTrue || v.kind(&r.write) == condTrue {
		return true
	}
	if v.kind(&r.read) != condAbsent {
		// read false or dynamic: the document is whole or withheld.
		return true
	}
	return !r.hasFieldPermissions
}

// pathReadable reports whether the field at comps is readable in every
// document the role returns. Only constant grants count: a field rule that
// depends on the document could be probed on the documents where it is
// false.
func (v *View) pathReadable(r *planRole, comps []string) bool {
	if v.wholeOrNothing(r) {
		return true
	}
	fields, additional := r.fields, r.additional
	for i, c := range comps {
		f, ok := fields[c]
		if !ok {
			return additional != nil && (v.kind(&additional.read) == condTrue || v.kind(&additional.write) == condTrue)
		}
		if f.own {
			return v.kind(&f.read) == condTrue || v.kind(&f.write) == condTrue
		}
		if f.fields == nil || i == len(comps)-1 {
			// No rights of its own, or the whole nested object is
			// referenced while only parts of it are readable.
			return false
		}
		fields, additional = f.fields, nil
	}
	return false
}

// systemOnlyOptions are request options only the system user may set (§4.7).
var systemOnlyOptions = map[string]bool{"collation": true, "readConcern": true, "writeConcern": true}

// CheckOptions refuses request options reserved to the system user: read
// concern, write concern and collation. names are the option names the
// client set, as spelled in the MongoDB command.
func (v *View) CheckOptions(names ...string) error {
	if v.system {
		return nil
	}
	for _, n := range names {
		if systemOnlyOptions[n] {
			return forbidden("option %s is not allowed", n)
		}
	}
	return nil
}
