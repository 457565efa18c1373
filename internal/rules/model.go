package rules

import (
	"errors"
	"fmt"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
)

// Errors the engine reports. The HTTP edge maps them to the App Services
// envelope; inside they are matched with errors.Is.
var (
	// ErrNoRule: the namespace has neither rules.json nor a default rule
	// (W-7). The edge reports it as NoMatchingRuleFound.
	ErrNoRule = errors.New("no rule exists for namespace")
	// ErrInsertNotPermitted, ErrUpdateNotPermitted and ErrDeleteNotPermitted
	// are the write denials; their texts are what SDKs display (§4.5).
	ErrInsertNotPermitted = errors.New("insert not permitted")
	ErrUpdateNotPermitted = errors.New("update not permitted")
	ErrDeleteNotPermitted = errors.New("delete not permitted")
	// ErrNotVisible: the document the write targets is not visible to the
	// caller (no role, or the document filters refuse it). The data-access
	// layer treats it as "did not match the selector", never as an error to
	// report (§4.5 pre-image rule, W-4).
	ErrNotVisible = errors.New("document not visible to the caller")
	// ErrForbidden: a query, sort, projection, pipeline or update uses an
	// operator, stage or option reserved to the system user, or a field the
	// caller may not read or write (§4.7).
	ErrForbidden = errors.New("not permitted for application users")
	// ErrMixedProjection: the applicable filters mix inclusion and
	// exclusion projections (W-42).
	ErrMixedProjection = errors.New("filter projections mix inclusion and exclusion")
	// ErrLoad is wrapped by every *LoadError.
	ErrLoad = errors.New("invalid rules")
	// ErrSyncPermissionDenied: no sync-compatible role applies (§4.2; sync
	// error 206).
	ErrSyncPermissionDenied = errors.New("permission denied")
)

// LoadError is a malformed rule file: which file, where in it (a JSON path
// such as `roles[1].fields.a.read.$or[0]`) and why. Rules are validated when a
// config version is loaded, never at request time.
type LoadError struct {
	File   string
	Path   string
	Reason string
	Err    error // the underlying parse error, if any
}

func (e *LoadError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Path, e.Reason)
}

// Unwrap lets errors.Is find ErrLoad and the expression sentinels.
func (e *LoadError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrLoad, e.Err}
	}
	return []error{ErrLoad}
}

// Ruleset is the rules of one namespace (or the default rule): roles in
// order and filters. Every format is converted into this one shape. A
// Ruleset must not be modified once it has been bound (Set.View, Bind):
// its prepared form is cached.
type Ruleset struct {
	// File is where the rules came from, for messages and Explain.
	File    string
	Roles   []*Role
	Filters []*Filter
	// plan is the caller-independent preparation of Roles, built on first
	// use (see planFor).
	plan atomic.Pointer[plan]
}

// Role is one role of the unified format (§3.1). A nil expression means the
// key was absent, which is not the same as false for Read and Write (§4.4).
type Role struct {
	Name      string
	ApplyWhen *expr.Expr // never nil: absent is {} (true)
	// DocumentFilters is nil when the object is absent (no gate).
	DocumentFilters *DocumentFilters
	Read, Write     *expr.Expr // nil: undefined, defer to field rules
	Insert, Delete  *expr.Expr // nil: Options.Defaults decide
	Search          *bool      // nil: Options.Defaults decide
	// Fields are the field rules by top-level name; nil when absent.
	Fields map[string]*FieldRule
	// AdditionalFields governs fields not named in Fields; nil when absent
	// (every unlisted field is then withheld and unwritable).
	AdditionalFields *FieldRule
	// raw is the role in the unified format, for ExportRuleset.
	raw bson.D
}

// DocumentFilters gate a role per document. A key absent in the file is
// recorded in ReadSet/WriteSet: non-sync evaluation treats it as true (the
// reference table, §3.1), sync compatibility requires both.
type DocumentFilters struct {
	Read, Write       *expr.Expr
	ReadSet, WriteSet bool
}

// FieldRule is a field-level permission. Read and Write are nil when
// absent; a rule with neither but with Fields delegates to its sub-fields
// (§4.4: "nested rules only").
type FieldRule struct {
	Read, Write *expr.Expr
	Fields      map[string]*FieldRule
}

// hasOwn reports whether the entry has a read or write key of its own,
// which overrides any nested rules (a parent field rule wins).
func (f *FieldRule) hasOwn() bool { return f.Read != nil || f.Write != nil }

// Filter is a rules filter (§3.1, §4.3).
type Filter struct {
	Name       string
	ApplyWhen  *expr.Expr
	Query      *expr.Query
	Projection []ProjectionField
	raw        bson.D
}

// ProjectionField is one key of a filter projection, in file order.
type ProjectionField struct {
	Path    string
	Include bool
}

// Defaults are the compatibility switches for the spec's open defaults
// (§3.1, §4.5, §11). The zero value is NOT the recommended setting; use
// DefaultOptions.
type Defaults struct {
	// Insert, Delete and Search apply when a role omits the key. The
	// reference table says true; the 2023 flowcharts say deny.
	Insert, Delete, Search bool
	// WriteFalseAllowsFields makes an explicit write:false defer to field
	// write rules (the one docs example) instead of denying (flowchart, W-34).
	WriteFalseAllowsFields bool
	// DeleteNeedsFieldWrites makes delete also require write permission on
	// every field of the document (2023 table text, §11.3).
	DeleteNeedsFieldWrites bool
}

// Options configure a Set.
type Options struct {
	Defaults Defaults
	// AllowRegex lets application users use $regex (and regex literals) in
	// filters. App Services refuses them; some apps need them (§4.7).
	AllowRegex bool
	// DeniedStages are aggregation stages refused to application users. Nil
	// means DefaultDeniedStages.
	DeniedStages []string
}

// DefaultOptions are the spec's recommendations: insert/delete/search
// default true, write:false blocks field writes, delete needs only delete,
// $regex off.
func DefaultOptions() Options {
	return Options{Defaults: Defaults{Insert: true, Delete: true, Search: true}}
}

// DefaultDeniedStages are the aggregation stages refused to application users
// (§4.7 recommendation: $lookup, $unionWith and $search stay allowed, with the
// foreign collection's rules applied by the data-access layer).
var DefaultDeniedStages = []string{
	"$collStats", "$currentOp", "$facet", "$geoNear", "$graphLookup",
	"$indexStats", "$merge", "$out", "$listSessions", "$listLocalSessions",
	"$planCacheStats", "$changeStream", "$documents",
}

// Set is every namespace's rules for one config version. It is immutable once
// built and safe for concurrent use.
type Set struct {
	Options     Options
	Collections map[string]*Ruleset // keyed by "<db>.<coll>"
	Default     *Ruleset            // nil when there is no default_rule.json
	// Partition, when set, replaces every namespace's rules with partition
	// sync permissions (legacy partition-sync apps, §3.2 item 4).
	Partition *PartitionCRUD
}

// NewSet returns an empty Set with opts.
func NewSet(opts Options) *Set {
	return &Set{Options: opts, Collections: map[string]*Ruleset{}}
}

// For returns the rules governing ns (§4.1): the namespace's own rules,
// else the default rule, else ErrNoRule. There is no fallback from a
// collection's roles to the default roles (W-6).
func (s *Set) For(ns string) (*Ruleset, error) {
	if rs, ok := s.Collections[ns]; ok {
		return rs, nil
	}
	if s.Default != nil {
		return s.Default, nil
	}
	return nil, fmt.Errorf("%w '%s'", ErrNoRule, ns)
}
