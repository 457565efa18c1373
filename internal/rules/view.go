package rules

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/mql"
)

// Caller is who makes a request: what %%user expands to. System callers
// (functions running as system, server-side code) bypass rules entirely
// (§4.1 step 1, W-8).
type Caller struct {
	System     bool
	ID         string
	Type       string // "normal", "server" (API key users), "edge"
	Data       bson.D // provider metadata: email, name, ...
	CustomData bson.D
	Identities []expr.Identity
}

// RequestContext is the rest of what expressions may read for one request:
// app values, the environment, the HTTP request and the function runner
// for %function.
type RequestContext struct {
	Values      map[string]any
	Environment expr.Environment
	HTTP        *expr.Request
	Functions   expr.FunctionCaller
}

// Binding converts the caller and the request context into what expr binds.
func (c Caller) Binding(rc RequestContext) expr.Binding {
	var u *expr.User
	if !c.System {
		u = &expr.User{ID: c.ID, Type: c.Type, Data: c.Data, CustomData: c.CustomData, Identities: c.Identities}
	}
	return expr.Binding{User: u, Values: rc.Values, Environment: rc.Environment, Request: rc.HTTP, Functions: rc.Functions}
}

// bind is expr.Bind(c.Binding(rc)) without moving a copy of the user to
// the heap.
func (c Caller) bind(rc RequestContext) (*expr.Env, error) {
	b := expr.Binding{Values: rc.Values, Environment: rc.Environment, Request: rc.HTTP, Functions: rc.Functions}
	if c.System {
		return expr.Bind(b)
	}
	u := expr.User{ID: c.ID, Type: c.Type, Data: c.Data, CustomData: c.CustomData, Identities: c.Identities}
	return expr.BindUser(&u, b)
}

// condKind is what a rule expression is, for the ruleset or for a request.
type condKind uint8

const (
	condAbsent   condKind = iota // the key was absent
	condTrue                     // a literal, or decided at bind time
	condFalse                    // a literal, or decided at bind time
	condError                    // failed at bind time: denies, and says why
	condDynamic                  // depends on the document
	condSlot                     // plan only: resolved per request, see slot
	condDocument                 // plan only: reads the document and nothing bound
)

// cond is one rule expression of a prepared ruleset. Literals (true,
// false, absent with its default) are decided once per ruleset, and so is
// the nature of an expression that reads only the document (there is
// nothing to bind or specialise in it); every other expression has a
// slot: its per-request state in View.slots.
type cond struct {
	kind condKind
	slot int32
	e    *expr.Expr
}

func constCond(v bool) cond {
	if v {
		return cond{kind: condTrue}
	}
	return cond{kind: condFalse}
}

// orDefault returns c, or the constant d when the key was absent.
func (c cond) orDefault(d bool) cond {
	if c.kind == condAbsent {
		return constCond(d)
	}
	return c
}

// slotState is what a slot's expression is for one request. The zero
// value is "depends on the document", so that binding a ruleset whose
// expressions all read the document costs nothing per expression.
type slotState uint8

const (
	slotDynamic slotState = iota
	slotTrue
	slotFalse
	slotError
)

// slot is one non-literal rule expression bound to a request.
// Expressions that do not read the document are decided once at bind time
// (a %function among them is called once per request, never per
// document). Expressions that read the document are evaluated against the
// request's Env; specialising one to the request (expr.Bind: expansions
// resolved, user-only parts folded) costs about as much as evaluating it
// a few times, so it is done lazily, once the view has evaluated it
// specialiseAfter times: small requests skip it, large result sets get the
// faster per-document path. Expressions calling %function are specialised
// at bind time so that a call whose arguments do not depend on the
// document happens once per request. Safe for concurrent use.
type slot struct {
	state slotState
	evals atomic.Int32
	bound atomic.Pointer[expr.Bound]
}

// specialiseAfter is the number of evaluations after which a document
// expression is specialised to the request. BenchmarkSpecialise in
// internal/expr measures the break-even: binding a one-key expression costs
// as much as 11 to 18 evaluations save, so a request specialises once it
// has shown it will evaluate about that many documents, and never pays
// more than about twice the better of the two strategies.
const specialiseAfter = 16

// planField is a FieldRule prepared for binding.
type planField struct {
	own         bool // has read or write of its own
	read, write cond
	fields      map[string]*planField
}

// planRole is a Role prepared for binding: literal expressions and the
// option defaults are resolved; the rest refer to slots.
type planRole struct {
	role                *Role
	applyWhen           cond
	hasDF               bool
	dfRead, dfWrite     cond
	read, write         cond
	insert, delete      cond
	search              bool
	fields              map[string]*planField
	additional          *planField
	hasFieldPermissions bool // fields or additional_fields present
}

// plan is a Ruleset prepared once (per option defaults) for binding to
// requests: everything that does not depend on the caller.
type plan struct {
	defaults Defaults
	roles    []planRole
	exprs    []*expr.Expr // by slot
	// now are the slots decided (or specialised) at bind time: those that
	// do not read the document or that call %function, in rule order.
	now []int32
}

// planFor returns rs's plan for defaults, building it on first use.
func (rs *Ruleset) planFor(d Defaults) *plan {
	if p := rs.plan.Load(); p != nil && p.defaults == d {
		return p
	}
	p := buildPlan(rs, d)
	rs.plan.Store(p)
	return p
}

func buildPlan(rs *Ruleset, d Defaults) *plan {
	p := &plan{defaults: d, roles: make([]planRole, len(rs.Roles))}
	for i, r := range rs.Roles {
		pr := &p.roles[i]
		pr.role = r
		pr.applyWhen = p.cond(r.ApplyWhen).orDefault(true)
		if r.DocumentFilters != nil {
			pr.hasDF = true
			pr.dfRead = p.cond(r.DocumentFilters.Read).orDefault(true)
			pr.dfWrite = p.cond(r.DocumentFilters.Write).orDefault(true)
		}
		pr.read = p.cond(r.Read)
		pr.write = p.cond(r.Write)
		pr.insert = p.cond(r.Insert).orDefault(d.Insert)
		pr.delete = p.cond(r.Delete).orDefault(d.Delete)
		pr.search = d.Search
		if r.Search != nil {
			pr.search = *r.Search
		}
		pr.fields = p.fields(r.Fields)
		pr.additional = p.field(r.AdditionalFields)
		pr.hasFieldPermissions = r.Fields != nil || r.AdditionalFields != nil
	}
	return p
}

func (p *plan) cond(e *expr.Expr) cond {
	if e == nil {
		return cond{}
	}
	if v, ok := e.Literal(); ok {
		return constCond(v)
	}
	u := e.Uses()
	if u&^(expr.UsesDocument|expr.UsesLiteralBool) == 0 {
		return cond{kind: condDocument, e: e}
	}
	i := int32(len(p.exprs))
	p.exprs = append(p.exprs, e)
	if u&expr.UsesDocument == 0 || u&expr.UsesFunction != 0 {
		p.now = append(p.now, i)
	}
	return cond{kind: condSlot, slot: i, e: e}
}

func (p *plan) fields(m map[string]*FieldRule) map[string]*planField {
	if m == nil {
		return nil
	}
	out := make(map[string]*planField, len(m))
	for _, k := range sortedFieldNames(m) {
		out[k] = p.field(m[k])
	}
	return out
}

func (p *plan) field(f *FieldRule) *planField {
	if f == nil {
		return nil
	}
	return &planField{
		own:    f.hasOwn(),
		read:   p.cond(f.Read),
		write:  p.cond(f.Write),
		fields: p.fields(f.Fields),
	}
}

// sortedFieldNames orders field rules so that slots, and the %function
// calls made at bind time, follow a stable order.
func sortedFieldNames(m map[string]*FieldRule) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// bindSlot decides or specialises slot i at bind time.
func (v *View) bindSlot(ctx context.Context, i int32) {
	e, s := v.plan.exprs[i], &v.slots[i]
	if e.Uses()&expr.UsesDocument == 0 {
		ok, err := e.Eval(ctx, v.env, expr.NoDocument)
		switch {
		case err != nil:
			s.state = slotError
			if v.slotErrs == nil {
				v.slotErrs = map[int32]error{}
			}
			v.slotErrs[i] = err
		case ok:
			s.state = slotTrue
		default:
			s.state = slotFalse
		}
		return
	}
	b := e.Bind(ctx, v.env)
	if c, ok := b.Constant(); ok {
		s.state = slotFalse
		if c {
			s.state = slotTrue
		}
		return
	}
	s.bound.Store(b)
}

// kind is what c is for this request.
func (v *View) kind(c *cond) condKind {
	switch c.kind {
	case condDocument:
		return condDynamic
	case condSlot:
	default:
		return c.kind
	}
	switch v.slots[c.slot].state {
	case slotTrue:
		return condTrue
	case slotFalse:
		return condFalse
	case slotError:
		return condError
	}
	return condDynamic
}

// eval decides the condition; absent and a failed evaluation are false
// (an expression error denies, §11.19 recommendation).
func (v *View) eval(ctx context.Context, c *cond, in expr.Input) bool {
	ok, err := v.evalErr(ctx, c, in)
	return ok && err == nil
}

// evalErr is eval that also returns the evaluation error.
func (v *View) evalErr(ctx context.Context, c *cond, in expr.Input) (bool, error) {
	switch c.kind {
	case condTrue:
		return true, nil
	case condDocument:
		return c.e.Eval(ctx, v.env, in)
	case condSlot:
	default:
		return false, nil
	}
	s := &v.slots[c.slot]
	switch s.state {
	case slotTrue:
		return true, nil
	case slotFalse:
		return false, nil
	case slotError:
		return false, v.slotErrs[c.slot]
	}
	if b := s.bound.Load(); b != nil {
		return b.Eval(ctx, in)
	}
	if s.evals.Add(1) == specialiseAfter {
		b := c.e.Bind(ctx, v.env)
		s.bound.Store(b)
		return b.Eval(ctx, in)
	}
	return c.e.Eval(ctx, v.env, in)
}

// View is one caller's compiled view of one namespace: built once per
// request by Set.View or Bind and used for every document of the request.
// It is safe for concurrent use.
type View struct {
	// Namespace is "<db>.<coll>" (empty when bound without a Set).
	Namespace string
	system    bool
	set       *Set
	rules     *Ruleset
	env       *expr.Env
	plan      *plan
	roles     []planRole // plan.roles
	slots     []slot
	slotErrs  map[int32]error // why a slotError slot failed (rare)
	opts      Options
	// The pushed-down filters are compiled on first use (a request that
	// only inserts never needs them): filter is the rules part of the read
	// query (nil: none), for reads and write selectors alike.
	compileOnce    sync.Once
	bindCtx        context.Context
	filterQuery    bson.D
	filter         bson.D
	projection     bson.D
	filtersApplied []string
	partition      *partitionView
	// slotBuf holds the slots of small rulesets, saving an allocation.
	slotBuf [4]slot
}

// View binds caller to the rules of ns (§4.1): system callers get an
// unrestricted view; a namespace without rules fails with ErrNoRule.
func (s *Set) View(ctx context.Context, ns string, c Caller, rc RequestContext) (*View, error) {
	if c.System {
		return &View{Namespace: ns, system: true, set: s, opts: s.Options}, nil
	}
	if s.Partition != nil {
		return &View{Namespace: ns, set: s, opts: s.Options, partition: &partitionView{crud: s.Partition, binding: c.Binding(rc)}}, nil
	}
	rs, err := s.For(ns)
	if err != nil {
		return nil, err
	}
	env, err := c.bind(rc)
	if err != nil {
		return nil, fmt.Errorf("rules: binding caller: %w", err)
	}
	return s.viewFor(ctx, ns, rs, env)
}

// ViewEnv is View for an application user whose expression environment is
// already bound (expr.Bind of Caller.Binding): a request touching several
// namespaces ($lookup, GraphQL relationships) converts the caller once.
func (s *Set) ViewEnv(ctx context.Context, ns string, env *expr.Env) (*View, error) {
	rs, err := s.For(ns)
	if err != nil {
		return nil, err
	}
	return s.viewFor(ctx, ns, rs, env)
}

func (s *Set) viewFor(ctx context.Context, ns string, rs *Ruleset, env *expr.Env) (*View, error) {
	v, err := Bind(ctx, rs, s.Options, env)
	if err != nil {
		return nil, err
	}
	v.Namespace, v.set = ns, s
	return v, nil
}

// Bind specialises rs to one request's env. The caller-independent work
// (literals, defaults, which expressions read the document) is done once
// per ruleset; here only the expressions that do not read the document
// are decided (and those calling %function specialised). It evaluates the
// filters' apply_when, expands their queries and merges their projections
// (failing with ErrMixedProjection, W-42); the pushed-down filter is
// compiled on first use.
func Bind(ctx context.Context, rs *Ruleset, opts Options, env *expr.Env) (*View, error) {
	p := rs.planFor(opts.Defaults)
	v := &View{rules: rs, env: env, opts: opts, plan: p, roles: p.roles}
	if n := len(p.exprs); n <= len(v.slotBuf) {
		v.slots = v.slotBuf[:n]
	} else {
		v.slots = make([]slot, n)
	}
	for _, i := range p.now {
		v.bindSlot(ctx, i)
	}
	if len(rs.Filters) > 0 {
		if err := v.bindFilters(ctx); err != nil {
			return nil, err
		}
	}
	v.bindCtx = ctx
	return v, nil
}

// System reports whether the view bypasses rules.
func (v *View) System() bool { return v.system }

// Level is the outcome of a read decision.
type Level uint8

const (
	// Withhold: the document is not returned (silently, §4.4).
	Withhold Level = iota
	// Whole: the whole document is returned.
	Whole
	// Partial: some fields are returned.
	Partial
)

func (l Level) String() string {
	switch l {
	case Whole:
		return "whole"
	case Partial:
		return "partial"
	}
	return "withheld"
}

// Decision is the read decision for one document.
type Decision struct {
	// Role is the index of the assigned role in the ruleset, -1 for none.
	Role  int
	Level Level
}

// RoleName is the assigned role's name, "" when none applied.
func (v *View) RoleName(d Decision) string {
	if d.Role < 0 || v.rules == nil {
		return ""
	}
	return v.rules.Roles[d.Role].Name
}

// roleFor returns the first role whose apply_when holds (§4.2), or -1.
// An apply_when that fails to evaluate (a throwing %function) denies the
// document outright instead of moving on to a later, possibly broader,
// role (W-13, §11.19).
func (v *View) roleFor(ctx context.Context, in expr.Input) int {
	for i := range v.roles {
		ok, err := v.evalErr(ctx, &v.roles[i].applyWhen, in)
		if err != nil {
			return -1
		}
		if ok {
			return i
		}
	}
	return -1
}

// Read decides one stored document and returns what the caller sees: doc
// itself when the whole document is readable (no copy), a redacted copy
// when only some fields are, nil when it is withheld.
func (v *View) Read(ctx context.Context, doc bson.D) (bson.D, Decision) {
	return v.read(ctx, doc, false)
}

// ReadSearch is Read for documents returned by $search: the role's
// `search` must also be true (§4.4).
func (v *View) ReadSearch(ctx context.Context, doc bson.D) (bson.D, Decision) {
	return v.read(ctx, doc, true)
}

func (v *View) read(ctx context.Context, doc bson.D, search bool) (bson.D, Decision) {
	if v.system {
		return doc, Decision{Role: -1, Level: Whole}
	}
	if v.partition != nil {
		return v.partition.read(ctx, doc)
	}
	in := expr.ReadOf(doc)
	d := Decision{Role: v.roleFor(ctx, in)}
	if d.Role < 0 {
		return nil, d
	}
	r := &v.roles[d.Role]
	if search && !r.search {
		return nil, d
	}
	d.Level = v.docLevel(ctx, r, in)
	switch d.Level {
	case Whole:
		return doc, d
	case Partial:
		out := v.redactDoc(ctx, doc, r.fields, r.additional, in)
		if len(out) == 0 {
			// Nothing readable: withhold rather than return {} [I, §4.4].
			d.Level = Withhold
			return nil, d
		}
		return out, d
	}
	return nil, d
}

// Decide is the read decision without returning the document: which role
// applied and whether the document comes back whole, partial or not at all.
// It allocates nothing unless field rules must be checked.
func (v *View) Decide(ctx context.Context, doc bson.D) Decision {
	if v.system {
		return Decision{Role: -1, Level: Whole}
	}
	if v.partition != nil {
		_, d := v.partition.read(ctx, doc)
		return d
	}
	in := expr.ReadOf(doc)
	d := Decision{Role: v.roleFor(ctx, in)}
	if d.Role < 0 {
		return d
	}
	d.Level = v.docLevel(ctx, &v.roles[d.Role], in)
	if d.Level == Partial && !v.anyFieldReadable(ctx, &v.roles[d.Role], doc, in) {
		d.Level = Withhold
	}
	return d
}

// docLevel is the document-level part of the read flowchart (§4.4).
func (v *View) docLevel(ctx context.Context, r *planRole, in expr.Input) Level {
	if r.hasDF && !v.eval(ctx, &r.dfRead, in) && !v.eval(ctx, &r.dfWrite, in) {
		return Withhold
	}
	switch v.kind(&r.read) {
	case condAbsent:
	default:
		if v.eval(ctx, &r.read, in) {
			return Whole
		}
		// read evaluated false: only write can still grant the document.
		if v.eval(ctx, &r.write, in) {
			return Whole
		}
		return Withhold
	}
	if v.eval(ctx, &r.write, in) {
		return Whole
	}
	if !r.hasFieldPermissions {
		return Withhold
	}
	return Partial
}

func (v *View) readable(ctx context.Context, f *planField, in expr.Input) bool {
	return v.eval(ctx, &f.read, in) || v.eval(ctx, &f.write, in)
}

func (v *View) anyFieldReadable(ctx context.Context, r *planRole, doc bson.D, in expr.Input) bool {
	return len(v.redactDoc(ctx, doc, r.fields, r.additional, in)) > 0
}

// redactDoc applies field rules to doc (§4.4): a field's own read/write
// covers its whole subtree; an entry with only nested fields projects the
// sub-document (unlisted sub-fields dropped [I]); unlisted top-level fields
// follow additional_fields. %%this and %%prev are the field's value.
func (v *View) redactDoc(ctx context.Context, doc bson.D, fields map[string]*planField, additional *planField, in expr.Input) bson.D {
	var out bson.D
	for _, e := range doc {
		if f, ok := fields[e.Key]; ok {
			if f.own {
				if v.readable(ctx, f, in.WithField(e.Value, e.Value)) {
					out = appendElem(out, doc, e)
				}
				continue
			}
			if f.fields != nil {
				if sub, ok := v.redactNested(ctx, e.Value, f.fields, in); ok {
					out = appendElem(out, doc, bson.E{Key: e.Key, Value: sub})
				}
			}
			continue
		}
		if additional != nil && v.readable(ctx, additional, in.WithField(e.Value, e.Value)) {
			out = appendElem(out, doc, e)
		}
	}
	return out
}

func appendElem(out, doc bson.D, e bson.E) bson.D {
	if out == nil {
		out = make(bson.D, 0, len(doc))
	}
	return append(out, e)
}

// redactNested applies nested field rules to a sub-document, or to every
// sub-document of an array (other array elements are dropped [I]). ok is
// false when nothing is left.
func (v *View) redactNested(ctx context.Context, val any, fields map[string]*planField, in expr.Input) (any, bool) {
	switch x := val.(type) {
	case bson.D:
		out := v.redactDoc(ctx, x, fields, nil, in)
		return out, len(out) > 0
	case bson.A:
		var out bson.A
		for _, el := range x {
			if d, ok := el.(bson.D); ok {
				if r := v.redactDoc(ctx, d, fields, nil, in); len(r) > 0 {
					out = append(out, r)
				}
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

// compile filters --------------------------------------------------------

func (v *View) bindFilters(ctx context.Context) error {
	var parts []any
	var proj bson.D
	incl, excl := false, false
	for _, f := range v.rules.Filters {
		ok, err := f.ApplyWhen.Eval(ctx, v.env, expr.NoDocument)
		if err != nil {
			// Skipping a filter would widen what the caller sees: fail
			// closed instead.
			return fmt.Errorf("rules: filter %q apply_when: %w", f.Name, err)
		}
		if !ok {
			continue
		}
		q, err := f.Query.Expand(ctx, v.env)
		if err != nil {
			return fmt.Errorf("rules: filter %q: %w", f.Name, err)
		}
		if len(q) > 0 {
			parts = append(parts, q)
		}
		for _, p := range f.Projection {
			if p.Include {
				incl = true
			} else {
				excl = true
			}
			proj = mergeProjection(proj, p)
		}
		v.filtersApplied = append(v.filtersApplied, f.Name)
	}
	if incl && excl {
		return fmt.Errorf("rules: %w", ErrMixedProjection)
	}
	v.projection = proj
	v.filterQuery = andOf(parts)
	return nil
}

func mergeProjection(proj bson.D, p ProjectionField) bson.D {
	val := int32(0)
	if p.Include {
		val = 1
	}
	for i := range proj {
		if proj[i].Key == p.Path {
			proj[i].Value = val
			return proj
		}
	}
	return append(proj, bson.E{Key: p.Path, Value: val})
}

func andOf(parts []any) bson.D {
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0].(bson.D)
	}
	return bson.D{{Key: "$and", Value: bson.A(parts)}}
}

// neverFilter matches no stored document: every document has an _id.
var neverFilter = bson.D{{Key: "_id", Value: bson.D{{Key: "$exists", Value: false}}}}

// compiled is a partial filter: always (nil query), never, or a query.
type compiled struct {
	never bool
	q     bson.D // nil: always
}

func compileExpr(ctx context.Context, e *expr.Expr, env *expr.Env) compiled {
	c := e.Compile(ctx, env)
	switch c.Kind {
	case expr.KindNever:
		return compiled{never: true}
	case expr.KindFilter:
		return compiled{q: c.Query}
	}
	return compiled{} // always, or unfilterable: decided per document
}

func (v *View) compileCond(ctx context.Context, c *cond, e *expr.Expr) compiled {
	switch v.kind(c) {
	case condTrue, condAbsent:
		return compiled{}
	case condFalse:
		return compiled{never: true}
	}
	return compileExpr(ctx, e, v.env)
}

func andCompiled(cs ...compiled) compiled {
	var parts []any
	for _, c := range cs {
		if c.never {
			return compiled{never: true}
		}
		if c.q != nil {
			parts = append(parts, c.q)
		}
	}
	return compiled{q: andOf(parts)}
}

func orCompiled(cs ...compiled) compiled {
	var parts bson.A
	for _, c := range cs {
		if c.never {
			continue
		}
		if c.q == nil {
			return compiled{}
		}
		if !containsFilter(parts, c.q) {
			// Two roles with the same condition (an owner rule's read and
			// write filters) need one branch: a planner can then use the
			// index of the single remaining condition.
			parts = append(parts, c.q)
		}
	}
	switch len(parts) {
	case 0:
		return compiled{never: true}
	case 1:
		return compiled{q: parts[0].(bson.D)}
	}
	return compiled{q: bson.D{{Key: "$or", Value: parts}}}
}

// containsFilter reports whether parts holds a filter identical to q.
// Identical filters match the same documents, so dropping a repeated $or
// branch keeps the meaning; a miss only keeps a redundant branch.
func containsFilter(parts bson.A, q bson.D) bool {
	for _, p := range parts {
		if reflect.DeepEqual(p, q) {
			return true
		}
	}
	return false
}

func (c compiled) filter() bson.D {
	if c.never {
		return neverFilter
	}
	return c.q
}

// compileRoles builds the roles part of the pushed-down filter: the union
// over roles of (apply_when AND document gate AND "can read something").
// It is broader than the decision (an earlier role's apply_when is not
// negated, field-level emptiness is not compiled); the decider runs after it.
func (v *View) compileRoles(ctx context.Context) {
	reads := make([]compiled, 0, len(v.roles))
	for i := range v.roles {
		r := &v.roles[i]
		if v.neverReads(r) {
			continue
		}
		role := r.role
		aw := v.compileCond(ctx, &r.applyWhen, role.ApplyWhen)
		gate := compiled{}
		if r.hasDF {
			gate = orCompiled(
				v.compileCond(ctx, &r.dfRead, role.DocumentFilters.Read),
				v.compileCond(ctx, &r.dfWrite, role.DocumentFilters.Write))
		}
		reads = append(reads, andCompiled(aw, gate, v.compileReadable(ctx, r)))
	}
	v.filter = andOf(nonNil(v.filterQuery, orCompiled(reads...).filter()))
}

// compileReadable is the role's "read or write holds" condition, which a
// document must meet for the role to return it whole, as a partial filter
// (an owner rule written as read: {owner_id: "%%user.id"} becomes
// {owner_id: <id>}). A role with field rules can return a document whose
// read and write are false, so it restricts nothing; an absent read or
// write grants nothing; a condition that does not compile restricts
// nothing (expr's Compile is never narrower than the expression).
func (v *View) compileReadable(ctx context.Context, r *planRole) compiled {
	if r.hasFieldPermissions {
		return compiled{}
	}
	return orCompiled(v.compileGrant(ctx, &r.read, r.role.Read), v.compileGrant(ctx, &r.write, r.role.Write))
}

// compileGrant is compileCond for a permission, where absent means no.
func (v *View) compileGrant(ctx context.Context, c *cond, e *expr.Expr) compiled {
	if v.kind(c) == condAbsent {
		return compiled{never: true}
	}
	return v.compileCond(ctx, c, e)
}

// neverReads reports whether the role cannot return any document for this
// request whatever the document (W-31: no read, write or field rules).
func (v *View) neverReads(r *planRole) bool {
	if v.kind(&r.read) == condTrue || v.kind(&r.write) == condTrue {
		return false
	}
	if v.kind(&r.read) == condFalse && (v.kind(&r.write) == condFalse || v.kind(&r.write) == condAbsent) {
		return true
	}
	if v.kind(&r.read) == condAbsent && v.kind(&r.write) != condDynamic && !r.hasFieldPermissions {
		return true
	}
	return false
}

func nonNil(ds ...bson.D) []any {
	var out []any
	for _, d := range ds {
		if d != nil {
			out = append(out, d)
		}
	}
	return out
}

// RulesFilter is the rules part of the read query (filters' queries and
// the roles' filter), nil when the rules restrict nothing at the query level.
func (v *View) RulesFilter() bson.D {
	v.compile()
	return v.filter
}

// compile builds the pushed-down filters once per view.
func (v *View) compile() {
	if v.system || v.partition != nil {
		// Partition permissions read %%partition per document: nothing
		// to push down.
		return
	}
	v.compileOnce.Do(func() { v.compileRoles(v.bindCtx) })
}

// PushDown returns the query to send to the store for a read with the
// client's filter: {$and: [client, rules...]}. The client filter is never
// merged into or rewritten (a client $or stays intact inside the $and).
// An empty client filter is left out, and a conjunction of one part is
// that part ({} when neither side restricts anything), so an owner rule
// alone gives {owner_id: <id>}, which a planner can match to an index.
// System views return the client filter unchanged.
func (v *View) PushDown(client bson.D) bson.D {
	v.compile()
	return v.pushDown(client, v.filter)
}

// PushDownWrite is PushDown for update and delete selectors: only documents
// a read would return are candidates (§4.5 pre-image rule; the decision
// per document is the write check's, this only narrows what the store
// sends, so a role that returns no document, W-31, sends none).
func (v *View) PushDownWrite(client bson.D) bson.D {
	v.compile()
	return v.pushDown(client, v.filter)
}

func (v *View) pushDown(client, rules bson.D) bson.D {
	if v.system {
		return client
	}
	if client == nil {
		client = bson.D{}
	}
	var parts bson.A
	if len(client) > 0 {
		// An empty client filter adds nothing to the conjunction.
		parts = append(parts, client)
	}
	if rules != nil {
		// Filter queries come out of bindFilters as one $and; flatten it.
		if arr, ok := rules[0].Value.(bson.A); ok && len(rules) == 1 && rules[0].Key == "$and" {
			parts = append(parts, arr...)
		} else {
			parts = append(parts, rules)
		}
	}
	switch len(parts) {
	case 0:
		return bson.D{}
	case 1:
		if d, ok := parts[0].(bson.D); ok {
			return d
		}
	}
	return bson.D{{Key: "$and", Value: parts}}
}

// Projection is the merged projection of the applicable filters, nil when
// none; the data-access layer merges it with the client's by key and lets
// the query engine report a mixed projection (§4.3 recommendation).
func (v *View) Projection() bson.D { return v.projection }

// FiltersApplied names the filters whose apply_when held, for logs and
// Explain.
func (v *View) FiltersApplied() []string { return v.filtersApplied }

// MatchesRules reports whether doc passes the pushed-down rules filter; the
// differential tests use it as the store would.
func (v *View) MatchesRules(doc bson.D) (bool, error) {
	v.compile()
	if v.filter == nil {
		return true, nil
	}
	f, err := mql.CompileFilter(v.filter)
	if err != nil {
		return false, err
	}
	return f.Match(doc), nil
}

// SearchMetaAllowed reports whether $$SEARCH_META may be used: by system
// callers, or when the collection's first role has apply_when and read both
// literally true (§4.4).
func (v *View) SearchMetaAllowed() bool {
	if v.system {
		return true
	}
	if v.rules == nil || len(v.rules.Roles) == 0 {
		return false
	}
	r := v.rules.Roles[0]
	aw, _ := lookup(r.raw, "apply_when").(bool)
	rd, _ := lookup(r.raw, "read").(bool)
	return aw && rd
}

// Redact returns what the caller may see of a stored document (nil when it
// is withheld): Read without the decision.
func (v *View) Redact(ctx context.Context, doc bson.D) bson.D {
	out, _ := v.Read(ctx, doc)
	return out
}
