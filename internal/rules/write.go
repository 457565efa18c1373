package rules

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/mql"
)

// CheckInsert decides inserting doc (after the automatic _id), and the
// insert side of an upsert (§4.5): the role is chosen on the new document,
// its write document filter must hold, every field must be writable (or
// `write` true), then `insert` must be true. Any failure is
// ErrInsertNotPermitted.
func (v *View) CheckInsert(ctx context.Context, doc bson.D) error {
	if v.system {
		return nil
	}
	if v.partition != nil {
		return v.partition.checkWrite(ctx, nil, doc, ErrInsertNotPermitted)
	}
	in := expr.InsertOf(doc)
	i := v.roleFor(ctx, in)
	if i < 0 {
		return ErrInsertNotPermitted
	}
	r := &v.roles[i]
	if r.hasDF && !v.eval(ctx, &r.dfWrite, in) {
		return ErrInsertNotPermitted
	}
	if !v.fieldsWritable(ctx, r, in, nil, doc) {
		return ErrInsertNotPermitted
	}
	if !v.eval(ctx, &r.insert, in) {
		return ErrInsertNotPermitted
	}
	return nil
}

// CheckUpsertInsert is CheckInsert for the document an upsert would
// create (upsert is treated as insert, W-36).
func (v *View) CheckUpsertInsert(ctx context.Context, doc bson.D) error {
	return v.CheckInsert(ctx, doc)
}

// visibleRole reports the role of a stored document and the read
// decision's level, which says whether the document is a write candidate
// for the caller (any level but Withhold). Only a document a read
// would return (role assigned, document filters pass, and the read
// decision shows at least one field, as Decide says) is one (§4.5
// pre-image rule): a document the caller cannot see at all (a role
// without read, write or field rights, W-31; a document-dependent read
// or write that is false for it; field rules showing none of its fields)
// is treated as not matching the selector, silently, for updates and
// deletes alike. Otherwise whether the selector matched it, a value the
// caller may not read, would show in the outcome: an error instead of
// matched 0, a deleted count, an upsert that does not insert. Which
// documents are skipped depends only on what a read shows, and a read
// shows nothing of a skipped document.
func (v *View) visibleRole(ctx context.Context, doc bson.D) (int, Level) {
	d := v.Decide(ctx, doc)
	return d.Role, d.Level
}

// CheckUpdateBefore decides a stored document before an update is applied
// to it, with what CheckUpdateDoc found the update to name. ErrNotVisible:
// the document is not a candidate (skip it silently): the caller cannot
// see it at all (visibleRole). ErrUpdateNotPermitted: its role hides a
// path the update names, so that applying the update could reveal a value
// the caller may not see (an error, a no-op accepted); the request fails
// without the update ever touching the document. A document the caller
// reads whole (read or write true for it) hides nothing, whatever the
// role's field rules. Otherwise the update may be applied and the result
// decided by CheckUpdate.
func (v *View) CheckUpdateBefore(ctx context.Context, pre bson.D, t UpdateTargets) error {
	if v.system {
		return nil
	}
	if !t.checked {
		// Not from CheckUpdateDoc: nothing is known of the update.
		return ErrUpdateNotPermitted
	}
	if v.partition != nil {
		// Partition permissions are whole-document: a readable partition
		// shows every field.
		if err := v.partition.checkWrite(ctx, pre, pre, ErrUpdateNotPermitted); errors.Is(err, ErrNotVisible) {
			return err
		}
		return nil
	}
	i, level := v.visibleRole(ctx, pre)
	switch {
	case level == Withhold:
		return ErrNotVisible
	case i >= len(t.hides):
		return ErrUpdateNotPermitted
	case level == Whole:
		// What the caller can read of this document, as Decide says: a
		// read of it shows every field (read or write true for it), so
		// deciding on it reveals nothing more.
		return nil
	case t.hides[i]:
		return ErrUpdateNotPermitted
	}
	return nil
}

// CheckUpdate decides an update or replacement of pre (the stored document)
// into post (§4.5). The role is chosen on the pre-image; its write document
// filter must hold on both images; %%root is the post-image and %%prevRoot
// the pre-image. ErrNotVisible means the
// document is not a candidate (skip it silently); ErrUpdateNotPermitted
// fails the request.
func (v *View) CheckUpdate(ctx context.Context, pre, post bson.D) error {
	if v.system {
		return nil
	}
	if v.partition != nil {
		return v.partition.checkWrite(ctx, pre, post, ErrUpdateNotPermitted)
	}
	i, level := v.visibleRole(ctx, pre)
	if level == Withhold {
		return ErrNotVisible
	}
	r := &v.roles[i]
	// The write filter must hold on the stored document (a reader may not
	// take a document over by rewriting the field the filter checks) and
	// on the result (it must stay writable, W-35).
	if r.hasDF && !v.eval(ctx, &r.dfWrite, expr.ReadOf(pre)) {
		return ErrUpdateNotPermitted
	}
	in := expr.UpdateOf(pre, post)
	if r.hasDF && !v.eval(ctx, &r.dfWrite, in) {
		return ErrUpdateNotPermitted
	}
	if !v.fieldsWritable(ctx, r, in, pre, post) {
		return ErrUpdateNotPermitted
	}
	return nil
}

// CheckDelete decides deleting a stored document: the write document filter
// and `delete` (flowchart; field writes only with Defaults.DeleteNeedsFieldWrites).
func (v *View) CheckDelete(ctx context.Context, doc bson.D) error {
	if v.system {
		return nil
	}
	if v.partition != nil {
		return v.partition.checkWrite(ctx, doc, nil, ErrDeleteNotPermitted)
	}
	i, level := v.visibleRole(ctx, doc)
	if level == Withhold {
		// A document the caller cannot see is not deleted, whatever
		// `delete` says (W-31 with delete true deletes nothing).
		return ErrNotVisible
	}
	r := &v.roles[i]
	in := expr.ReadOf(doc)
	if r.hasDF && !v.eval(ctx, &r.dfWrite, in) {
		return ErrDeleteNotPermitted
	}
	if v.opts.Defaults.DeleteNeedsFieldWrites && !v.fieldsWritable(ctx, r, in, doc, nil) {
		return ErrDeleteNotPermitted
	}
	if !v.eval(ctx, &r.delete, in) {
		return ErrDeleteNotPermitted
	}
	return nil
}

// fieldsWritable applies the document-level write and, when it is absent,
// the field-level write rules to every field that differs between pre and
// post (nil pre: insert; nil post: delete, every field).
func (v *View) fieldsWritable(ctx context.Context, r *planRole, in expr.Input, pre, post bson.D) bool {
	switch v.kind(&r.write) {
	case condAbsent:
	default:
		if v.eval(ctx, &r.write, in) {
			return true
		}
		if !v.opts.Defaults.WriteFalseAllowsFields {
			// An explicit (or evaluated) write:false blocks field rules (W-34).
			return false
		}
	}
	return v.changedWritable(ctx, pre, post, r.fields, r.additional, in)
}

// changedWritable checks every top-level field added, changed or removed.
func (v *View) changedWritable(ctx context.Context, pre, post bson.D, fields map[string]*planField, additional *planField, in expr.Input) bool {
	check := func(key string, before, after any) bool {
		if f, ok := fields[key]; ok {
			if f.own {
				return v.eval(ctx, &f.write, in.WithField(after, before))
			}
			if f.fields != nil {
				bd, ok1 := before.(bson.D)
				ad, ok2 := after.(bson.D)
				if (ok1 || mql.IsMissing(before)) && (ok2 || mql.IsMissing(after)) {
					return v.changedWritable(ctx, bd, ad, f.fields, nil, in)
				}
			}
			return false
		}
		return additional != nil && v.eval(ctx, &additional.write, in.WithField(after, before))
	}
	for _, e := range post {
		before := lookup(pre, e.Key)
		if !mql.IsMissing(before) && sameValue(before, e.Value) {
			continue
		}
		if !check(e.Key, before, e.Value) {
			return false
		}
	}
	for _, e := range pre {
		if !mql.IsMissing(lookup(post, e.Key)) {
			continue
		}
		if post == nil && pre == nil {
			continue
		}
		if !check(e.Key, e.Value, mql.Missing) {
			return false
		}
	}
	return true
}

func lookup(d bson.D, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return mql.Missing
}

// sameValue is "unchanged" for the write check: equal values of the same
// BSON type (an int turned into a double is a change worth a permission).
func sameValue(a, b any) bool {
	return mql.TypeOf(a) == mql.TypeOf(b) && mql.Compare(a, b) == 0
}

// CanWrite reports whether the caller may write doc as a whole (role
// assigned, write document filter and document-level write true): what a
// UI or the GraphQL layer shows as "editable". Field-level write rights are
// decided per change by CheckUpdate.
func (v *View) CanWrite(ctx context.Context, doc bson.D) bool {
	if v.system {
		return true
	}
	if v.partition != nil {
		_, w := v.partition.decide(ctx, doc)
		return w
	}
	in := expr.ReadOf(doc)
	i := v.roleFor(ctx, in)
	if i < 0 {
		return false
	}
	r := &v.roles[i]
	if r.hasDF && !v.eval(ctx, &r.dfWrite, in) {
		return false
	}
	return v.eval(ctx, &r.write, in)
}
