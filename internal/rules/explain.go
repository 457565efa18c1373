package rules

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/mql"
)

// Explanation answers "why was this document (or field) withheld?" for one
// caller, namespace and document: the question App Services never
// answered. It is built by re-running the read decision with reasons, off
// the hot path.
type Explanation struct {
	Namespace string
	// System is true when the caller bypasses rules.
	System bool
	// Filters are the rule filters that applied to the request.
	Filters []string
	// Skipped are the roles tried before the assigned one, with the reason
	// each did not apply.
	Skipped []RoleSkip
	// Role is the assigned role, "" when none applied.
	Role string
	// Level is the outcome: whole, partial or withheld.
	Level Level
	// Reason explains Level in one sentence.
	Reason string
	// Withheld lists the top-level (or nested, dotted) fields removed from
	// a partial document, with why.
	Withheld []FieldWithheld
}

// RoleSkip is a role that did not apply.
type RoleSkip struct {
	Role   string
	Reason string
}

// FieldWithheld is a field removed by field-level rules.
type FieldWithheld struct {
	Field  string
	Reason string
}

// Explain explains v's read decision on doc.
func Explain(ctx context.Context, v *View, doc bson.D) Explanation {
	ex := Explanation{Namespace: v.Namespace, System: v.system, Filters: v.filtersApplied}
	if v.system {
		ex.Level, ex.Reason = Whole, "system user: rules do not apply"
		return ex
	}
	if v.partition != nil {
		ex.Role = "partition permissions"
		if r, _ := v.partition.decide(ctx, doc); r {
			ex.Level, ex.Reason = Whole, "partition sync permissions (read or write) allow the document's partition"
		} else {
			ex.Level, ex.Reason = Withhold, "partition sync permissions deny the document's partition"
		}
		return ex
	}
	in := expr.ReadOf(doc)
	ri := -1
	for i := range v.roles {
		r := &v.roles[i]
		ok, err := v.evalErr(ctx, &r.applyWhen, in)
		if ok && err == nil {
			ri = i
			break
		}
		why := "apply_when is false for this document"
		switch {
		case err != nil:
			ex.Skipped = append(ex.Skipped, RoleSkip{Role: r.role.Name, Reason: "apply_when failed, which denies the document: " + err.Error()})
			ex.Level, ex.Reason = Withhold, "an apply_when failed to evaluate; later roles are not tried"
			return ex
		case v.kind(&r.applyWhen) == condFalse:
			why = "apply_when is false for this user"
		}
		ex.Skipped = append(ex.Skipped, RoleSkip{Role: r.role.Name, Reason: why})
	}
	if ri < 0 {
		ex.Level, ex.Reason = Withhold, "no role applies (roles are tried in order; there is no fallback to default roles)"
		return ex
	}
	r := &v.roles[ri]
	ex.Role = r.role.Name
	out, d := v.Read(ctx, doc)
	ex.Level = d.Level
	switch {
	case r.hasDF && !v.eval(ctx, &r.dfRead, in) && !v.eval(ctx, &r.dfWrite, in):
		ex.Reason = "document_filters: neither read nor write holds for this document"
	case v.kind(&r.read) != condAbsent && v.eval(ctx, &r.read, in):
		ex.Reason = "read is true"
	case v.eval(ctx, &r.write, in):
		ex.Reason = "write is true (write implies read)"
	case v.kind(&r.read) != condAbsent:
		ex.Reason = "read is false and write is not true"
	case !r.hasFieldPermissions:
		ex.Reason = "read and write are absent or false and the role has no fields or additional_fields"
	default:
		if d.Level == Withhold {
			ex.Reason = "field rules: no field is readable"
		} else {
			ex.Reason = "field rules: some fields are readable"
		}
		ex.Withheld = explainFields(ctx, doc, out, r.fields, r.additional, in, "")
	}
	return ex
}

func explainFields(ctx context.Context, doc, out bson.D, fields map[string]*planField, additional *planField, in expr.Input, prefix string) []FieldWithheld {
	var w []FieldWithheld
	for _, e := range doc {
		name := prefix + e.Key
		f, listed := fields[e.Key]
		got := lookup(out, e.Key)
		switch {
		case listed && f.own:
			if mql.IsMissing(got) {
				w = append(w, FieldWithheld{name, fmt.Sprintf("fields.%s: neither read nor write holds", name)})
			}
		case listed && f.fields != nil:
			sub, _ := e.Value.(bson.D)
			subOut, _ := got.(bson.D)
			if mql.IsMissing(got) {
				w = append(w, FieldWithheld{name, fmt.Sprintf("fields.%s has only nested rules and none of its sub-fields is readable", name)})
			} else if sub != nil {
				w = append(w, explainFields(ctx, sub, subOut, f.fields, nil, in, name+".")...)
			}
		case listed:
			w = append(w, FieldWithheld{name, fmt.Sprintf("fields.%s has neither read, write nor fields", name)})
		case mql.IsMissing(got) && additional == nil && prefix != "":
			w = append(w, FieldWithheld{name, "not listed under the parent's nested fields"})
		case mql.IsMissing(got) && additional == nil:
			w = append(w, FieldWithheld{name, "not listed in fields and the role has no additional_fields"})
		case mql.IsMissing(got):
			w = append(w, FieldWithheld{name, "not listed in fields; additional_fields read and write do not hold"})
		}
	}
	return w
}
