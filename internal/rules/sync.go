package rules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
)

// SyncView is a Flexible Sync session's frozen permissions for one
// collection (§4.9): the role is chosen once at session start from the
// caller's token data and never changes for the session (W-51).
type SyncView struct {
	table           string
	role            *Role
	read, write     bool
	dfRead, dfWrite *expr.Bound
	insert, delete  *expr.Bound
	readFilter      bson.D
}

// syncAllowed are the inputs a sync document filter, insert or delete
// expression may read (§4.2).
const syncAllowed = expr.UsesUser | expr.UsesValues | expr.UsesEnvironment | expr.UsesLiteralBool | expr.UsesRoot

// SyncView starts a sync session for ns: the first role whose apply_when
// holds (evaluated without a document) is assigned; if it is not
// sync-compatible the session gets no access and later roles are not tried
// (W-52). queryable lists the collection's queryable fields; nil skips that
// check (the caller has no schema at hand).
func (s *Set) SyncView(ctx context.Context, ns string, c Caller, rc RequestContext, queryable []string) (*SyncView, error) {
	rs, err := s.For(ns)
	if err != nil {
		return nil, err
	}
	env, err := c.bind(rc)
	if err != nil {
		return nil, fmt.Errorf("rules: binding caller: %w", err)
	}
	table := ns
	if i := strings.IndexByte(ns, '.'); i >= 0 {
		table = ns[i+1:]
	}
	for _, r := range rs.Roles {
		ok, err := r.ApplyWhen.Eval(ctx, env, expr.NoDocument)
		if err != nil || !ok {
			continue
		}
		if why := syncIncompatible(r, queryable); why != "" {
			return nil, fmt.Errorf("%w: role %q is not sync-compatible: %s", ErrSyncPermissionDenied, r.Name, why)
		}
		return newSyncView(ctx, table, r, env)
	}
	return nil, fmt.Errorf("%w: no role applies", ErrSyncPermissionDenied)
}

// syncIncompatible says why a role cannot be used by sync (§4.2), or "".
func syncIncompatible(r *Role, queryable []string) string {
	df := r.DocumentFilters
	if df == nil || !df.ReadSet || !df.WriteSet {
		return "document_filters.read and .write are both required"
	}
	q := map[string]bool{}
	for _, f := range queryable {
		q[f] = true
	}
	for _, c := range []struct {
		name string
		e    *expr.Expr
	}{{"document_filters.read", df.Read}, {"document_filters.write", df.Write}, {"insert", r.Insert}, {"delete", r.Delete}} {
		if c.e == nil {
			continue
		}
		if bad := c.e.Uses() &^ syncAllowed; bad != 0 {
			return fmt.Sprintf("%s uses %s", c.name, bad)
		}
		if queryable != nil {
			for _, f := range c.e.Fields() {
				if !q[f] {
					return fmt.Sprintf("%s reads %q, which is not a queryable field", c.name, f)
				}
			}
		}
	}
	for _, c := range []struct {
		name string
		e    *expr.Expr
	}{{"read", r.Read}, {"write", r.Write}} {
		if c.e == nil {
			return c.name + " must be a boolean"
		}
		if _, ok := c.e.Literal(); !ok {
			return c.name + " must be a boolean"
		}
	}
	if _, ok := r.Fields["_id"]; ok {
		return "a field rule for _id is not allowed"
	}
	var literalFields func(m map[string]*FieldRule, path string) string
	literalFields = func(m map[string]*FieldRule, path string) string {
		for k, f := range m {
			for _, e := range []*expr.Expr{f.Read, f.Write} {
				if e == nil {
					continue
				}
				if _, ok := e.Literal(); !ok {
					return "field permission " + path + k + " must be a boolean"
				}
			}
			if why := literalFields(f.Fields, path+k+"."); why != "" {
				return why
			}
		}
		return ""
	}
	if why := literalFields(r.Fields, "fields."); why != "" {
		return why
	}
	if af := r.AdditionalFields; af != nil {
		for _, e := range []*expr.Expr{af.Read, af.Write} {
			if e == nil {
				continue
			}
			if _, ok := e.Literal(); !ok {
				return "additional_fields permissions must be booleans"
			}
		}
	}
	return ""
}

func literal(e *expr.Expr) bool {
	if e == nil {
		return false
	}
	v, _ := e.Literal()
	return v
}

func newSyncView(ctx context.Context, table string, r *Role, env *expr.Env) (*SyncView, error) {
	sv := &SyncView{
		table: table, role: r,
		read: literal(r.Read), write: literal(r.Write),
		dfRead:  r.DocumentFilters.Read.Bind(ctx, env),
		dfWrite: r.DocumentFilters.Write.Bind(ctx, env),
	}
	ins, del := r.Insert, r.Delete
	if ins == nil {
		ins = expr.True
	}
	if del == nil {
		del = expr.True
	}
	sv.insert, sv.delete = ins.Bind(ctx, env), del.Bind(ctx, env)
	rf := orCompiled(compileExactly(ctx, r.DocumentFilters.Read, env), compileExactly(ctx, r.DocumentFilters.Write, env))
	if !sv.read && !sv.write {
		rf = compiled{never: true}
	}
	sv.readFilter = rf.filter()
	if sv.readFilter == nil {
		sv.readFilter = bson.D{}
	}
	return sv, nil
}

// compileExactly compiles a sync document filter. Sync cannot post-filter,
// so a filter the compiler cannot make exact would be wrong either way;
// syncIncompatible has already refused the inputs that cause that, and an
// inexact result is narrowed to nothing rather than widened.
func compileExactly(ctx context.Context, e *expr.Expr, env *expr.Env) compiled {
	c := e.Compile(ctx, env)
	switch {
	case c.Kind == expr.KindAlways:
		return compiled{}
	case c.Kind == expr.KindNever:
		return compiled{never: true}
	case c.Kind == expr.KindFilter && c.Exact:
		return compiled{q: c.Query}
	}
	return compiled{never: true}
}

// RoleName is the session's role.
func (sv *SyncView) RoleName() string { return sv.role.Name }

// ReadFilter is the MongoDB filter of the session's read view: documents
// matching (read filter OR write filter), or nothing when neither read
// nor write is true (§4.9 step 2). The sync server ANDs it with the
// subscription queries.
func (sv *SyncView) ReadFilter() bson.D { return sv.readFilter }

func evalBound(ctx context.Context, b *expr.Bound, doc bson.D) bool {
	ok, err := b.Eval(ctx, expr.ReadOf(doc))
	return ok && err == nil
}

// CanRead reports whether doc is in the session's read view.
func (sv *SyncView) CanRead(ctx context.Context, doc bson.D) bool {
	if !sv.read && !sv.write {
		return false
	}
	return evalBound(ctx, sv.dfRead, doc) || evalBound(ctx, sv.dfWrite, doc)
}

// CanWrite reports whether doc satisfies the write filter under a role
// with write permission.
func (sv *SyncView) CanWrite(ctx context.Context, doc bson.D) bool {
	return sv.write && evalBound(ctx, sv.dfWrite, doc)
}

// CompensatingWrite is an upload the server must revert (sync error 231);
// Error is the reason text clients display.
type CompensatingWrite struct {
	Reason string
}

func (c *CompensatingWrite) Error() string { return c.Reason }

// CheckUpload decides one uploaded change (§4.9 step 3, the permission part;
// subscription membership is the sync server's): pre is nil for a new
// object and post nil for a deletion.
func (sv *SyncView) CheckUpload(ctx context.Context, pre, post bson.D) error {
	doc := post
	if doc == nil {
		doc = pre
	}
	pk := renderPK(lookup(doc, "_id"))
	deny := func() error {
		return &CompensatingWrite{Reason: fmt.Sprintf("write to %s in table %q was denied by write filter in role %q", pk, sv.table, sv.role.Name)}
	}
	if pre != nil && !sv.CanRead(ctx, pre) {
		return &CompensatingWrite{Reason: fmt.Sprintf("write to %s in table %q not allowed; object is outside of the current query view", pk, sv.table)}
	}
	switch {
	case post == nil:
		if !sv.CanWrite(ctx, pre) || !evalBound(ctx, sv.delete, pre) {
			return deny()
		}
	case pre == nil:
		if !sv.CanWrite(ctx, post) || !evalBound(ctx, sv.insert, post) {
			return deny()
		}
	default:
		if !sv.CanWrite(ctx, pre) || !sv.CanWrite(ctx, post) {
			return deny()
		}
	}
	return nil
}

// renderPK formats a primary key as sync error messages do.
func renderPK(v any) string {
	switch x := v.(type) {
	case bson.ObjectID:
		return `ObjectID("` + x.Hex() + `")`
	case bson.Binary:
		if x.Subtype == bson.TypeBinaryUUID && len(x.Data) == 16 {
			h := fmt.Sprintf("%x", x.Data)
			return "UUID(" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] + ")"
		}
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}
