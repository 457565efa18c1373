package mql

import (
	"context"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Error codes of pipeline parsing, from the MongoDB server's assertions.
const (
	aggCodeStageOneField = 40323
	aggCodeNotInFacet    = 40600
	aggCodeLimitNumber   = 15957
	aggCodeLimitPositive = 15958
	aggCodeSkipNumber    = 15972
	aggCodeSkipNegative  = 15956
)

// Pipeline is a compiled aggregation pipeline. It is immutable and safe
// for concurrent use; each Run has its own state.
type Pipeline struct {
	stages []stage
}

// Env is what a running pipeline needs from its surroundings.
type Env struct {
	// Collection opens another collection of the same database, for
	// $lookup and $unionWith. Nil means those stages fail when run.
	Collection func(ctx context.Context, name string) iter.Seq2[bson.D, error]
	// Now is the value of $$NOW; zero means time.Now().
	Now time.Time
	// Rand is the random source of $sample; nil means a randomly seeded
	// one. Set it for reproducible samples. It is used by one Run only.
	Rand *rand.Rand
	// Vars are extra variables visible to every expression as $$name.
	Vars map[string]any
}

// stage is one compiled pipeline stage: it turns an input stream into an
// output stream. Stages that need all their input ($sort, $group, ...)
// drain it first; the others stream.
type stage interface {
	run(rc *runCtx, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error]
}

// runCtx is the per-Run state shared by the stages.
type runCtx struct {
	ctx  context.Context
	env  *Env
	now  time.Time
	rand *rand.Rand
	vars map[string]any
}

func (rc *runCtx) evalCtx(doc bson.D) *evalCtx {
	return &evalCtx{root: doc, current: doc, user: rc.vars, now: rc.now}
}

func (rc *runCtx) eval(fn exprFn, doc bson.D) (any, error) {
	return fn(rc.evalCtx(doc))
}

// stageNames lists every stage this package implements, with its parser.
var stageNames map[string]func(spec any, inFacet bool) (stage, error)

// unsupportedStages are MongoDB stages deliberately not implemented
// because they write, need server state or need an index.
var unsupportedStages = map[string]bool{
	"$out": true, "$merge": true, "$graphLookup": true, "$geoNear": true, "$search": true,
	"$searchMeta": true, "$vectorSearch": true, "$collStats": true, "$indexStats": true,
	"$currentOp": true, "$listSessions": true, "$listLocalSessions": true,
	"$planCacheStats": true, "$changeStream": true, "$changeStreamSplitLargeEvent": true,
	"$documents": true, "$bucket": true, "$bucketAuto": true, "$redact": true, "$densify": true,
	"$fill": true, "$setWindowFields": true, "$listSearchIndexes": true,
	"$shardedDataDistribution": true, "$listCatalog": true, "$querySettings": true,
	"$listSampledQueries": true,
}

// facetForbidden stages may not appear inside $facet.
var facetForbidden = map[string]bool{
	"$facet": true, "$out": true, "$merge": true, "$collStats": true, "$indexStats": true,
	"$geoNear": true, "$changeStream": true, "$documents": true, "$planCacheStats": true,
	"$search": true, "$searchMeta": true, "$vectorSearch": true, "$unionWith": false,
}

func init() {
	stageNames = map[string]func(any, bool) (stage, error){
		"$match":       compileMatchStage,
		"$project":     func(s any, _ bool) (stage, error) { return compileProjectStage(s, "$project") },
		"$addFields":   func(s any, _ bool) (stage, error) { return compileProjectStage(s, "$addFields") },
		"$set":         func(s any, _ bool) (stage, error) { return compileProjectStage(s, "$set") },
		"$unset":       compileUnsetStage,
		"$sort":        compileSortStage,
		"$limit":       compileLimitStage,
		"$skip":        compileSkipStage,
		"$count":       compileCountStage,
		"$group":       compileGroupStage,
		"$unwind":      compileUnwindStage,
		"$replaceRoot": compileReplaceRootStage,
		"$replaceWith": compileReplaceWithStage,
		"$sortByCount": compileSortByCountStage,
		"$facet":       compileFacetStage,
		"$sample":      compileSampleStage,
		"$lookup":      compileLookupStage,
		"$unionWith":   compileUnionWithStage,
	}
}

// CompilePipeline parses and validates an aggregation pipeline.
func CompilePipeline(stages []bson.D) (*Pipeline, error) {
	normalized := make([]bson.D, len(stages))
	for i, s := range stages {
		n, err := normalizeInput(s)
		if err != nil {
			return nil, err
		}
		// Bounds sub-pipeline nesting ($facet, $lookup, $unionWith) as well
		// as deep specifications.
		if err := CheckDepth(n); err != nil {
			return nil, err
		}
		normalized[i], _ = n.(bson.D)
	}
	compiled, err := compileStages(normalized, false)
	if err != nil {
		return nil, err
	}
	return &Pipeline{stages: compiled}, nil
}

func compileStages(stages []bson.D, inFacet bool) ([]stage, error) {
	out := make([]stage, 0, len(stages))
	for _, s := range stages {
		if len(s) != 1 {
			return nil, Errorf(aggCodeStageOneField, "A pipeline stage specification object must contain exactly one field.")
		}
		name, spec := s[0].Key, Normalize(s[0].Value)
		if inFacet && facetForbidden[name] {
			return nil, Errorf(aggCodeNotInFacet, "%s is not allowed to be used within a $facet stage", name)
		}
		parse, ok := stageNames[name]
		if !ok {
			if unsupportedStages[name] {
				return nil, errUnsupported("aggregation stage", name)
			}
			return nil, Errorf(CodeUnrecognizedStage, "Unrecognized pipeline stage name: '%s'", name)
		}
		st, err := parse(spec, inFacet)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// compileSubPipeline parses the array operand of $facet, $lookup and
// $unionWith.
func compileSubPipeline(v any, inFacet bool, code int, what string) ([]stage, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, Errorf(code, "%s must be an array of stages, found %s", what, TypeName(v))
	}
	docs := make([]bson.D, len(arr))
	for i, s := range arr {
		d, ok := s.(bson.D)
		if !ok {
			return nil, Errorf(code, "each stage of %s must be an object, found %s", what, TypeName(s))
		}
		docs[i] = d
	}
	return compileStages(docs, inFacet)
}

// checkEvery is how many documents pass between context checks.
const checkEvery = 64

// Run runs the pipeline over input and returns its output documents. It
// never modifies the input documents; output documents may share
// unmodified sub-values with them.
func (p *Pipeline) Run(ctx context.Context, input iter.Seq2[bson.D, error], env *Env) ([]bson.D, error) {
	if env == nil {
		env = &Env{}
	}
	vars, err := normalizeVars(env.Vars)
	if err != nil {
		return nil, err
	}
	rc := &runCtx{ctx: ctx, env: env, now: env.Now, rand: env.Rand, vars: vars}
	if rc.now.IsZero() {
		rc.now = time.Now()
	}
	if rc.rand == nil {
		rc.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return collect(rc, runStages(rc, p.stages, input))
}

func runStages(rc *runCtx, stages []stage, input iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	seq := guarded(rc.ctx, input)
	for _, s := range stages {
		seq = s.run(rc, seq)
	}
	return seq
}

func collect(rc *runCtx, seq iter.Seq2[bson.D, error]) ([]bson.D, error) {
	out := []bson.D{}
	for d, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rc.ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// guarded stops a stream with ctx's error once ctx is done, checking every
// checkEvery documents, and turns a nil input into an empty stream.
func guarded(ctx context.Context, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	return func(yield func(bson.D, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		if in == nil {
			return
		}
		n := 0
		for d, err := range in {
			n++
			if n%checkEvery == 0 {
				if cerr := ctx.Err(); cerr != nil {
					yield(nil, cerr)
					return
				}
			}
			if !yield(d, err) || err != nil {
				return
			}
		}
	}
}

// sliceSeq streams a slice of documents.
func sliceSeq(docs []bson.D) iter.Seq2[bson.D, error] {
	return func(yield func(bson.D, error) bool) {
		for _, d := range docs {
			if !yield(d, nil) {
				return
			}
		}
	}
}

// drain reads a whole stream, checking ctx.
func drain(rc *runCtx, in iter.Seq2[bson.D, error]) ([]bson.D, error) {
	var out []bson.D
	for d, err := range in {
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rc.ctx.Err()
}

// mapStage applies fn to each document; fn returns nil to drop one.
type mapStage func(rc *runCtx, doc bson.D) (bson.D, error)

func (f mapStage) run(rc *runCtx, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	return func(yield func(bson.D, error) bool) {
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			out, err := f(rc, d)
			if err != nil {
				yield(nil, err)
				return
			}
			if out != nil && !yield(out, nil) {
				return
			}
		}
	}
}

// blockingStage transforms the whole input at once.
type blockingStage func(rc *runCtx, docs []bson.D) ([]bson.D, error)

func (f blockingStage) run(rc *runCtx, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	return func(yield func(bson.D, error) bool) {
		docs, err := drain(rc, in)
		if err != nil {
			yield(nil, err)
			return
		}
		out, err := f(rc, docs)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, d := range out {
			if !yield(d, nil) {
				return
			}
		}
	}
}

func compileMatchStage(spec any, _ bool) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, Errorf(15959, "the match filter must be an expression in an object")
	}
	f, err := CompileFilter(d)
	if err != nil {
		return nil, err
	}
	return &matchStage{spec: d, filter: f, vars: mentionsVars(d)}, nil
}

type matchStage struct {
	spec   bson.D
	filter *Filter
	vars   bool // the filter refers to $$variables
}

func (m *matchStage) run(rc *runCtx, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	return func(yield func(bson.D, error) bool) {
		filter := m.filter
		if m.vars {
			// The filter engine has no variables: bind this run's values
			// ($lookup's let, Env.Vars, $$NOW) as literals.
			vars := make(map[string]any, len(rc.vars)+1)
			vars["NOW"] = bson.NewDateTimeFromTime(rc.now)
			for k, v := range rc.vars {
				vars[k] = v
			}
			sub, err := CompileFilter(bindFilterVars(m.spec, vars).(bson.D))
			if err != nil {
				yield(nil, err)
				return
			}
			filter = sub
		}
		for doc, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			if filter.Match(doc) && !yield(doc, nil) {
				return
			}
		}
	}
}

// mentionsVars reports whether a filter's $expr parts refer to a
// $$variable; outside $expr, "$$x" is an ordinary string.
func mentionsVars(v any) bool {
	switch x := v.(type) {
	case bson.D:
		for _, e := range x {
			if e.Key == "$expr" && exprMentionsVars(e.Value) {
				return true
			}
			if e.Key != "$expr" && mentionsVars(e.Value) {
				return true
			}
		}
	case bson.A:
		for _, e := range x {
			if mentionsVars(e) {
				return true
			}
		}
	}
	return false
}

func exprMentionsVars(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.HasPrefix(x, "$$")
	case bson.D:
		for _, e := range x {
			if exprMentionsVars(e.Value) {
				return true
			}
		}
	case bson.A:
		for _, e := range x {
			if exprMentionsVars(e) {
				return true
			}
		}
	}
	return false
}

// bindFilterVars rewrites the $expr parts of a filter with
// substituteVars.
func bindFilterVars(v any, vars map[string]any) any {
	switch x := v.(type) {
	case bson.D:
		out := make(bson.D, len(x))
		for i, e := range x {
			if e.Key == "$expr" {
				out[i] = bson.E{Key: e.Key, Value: substituteVars(e.Value, vars)}
			} else {
				out[i] = bson.E{Key: e.Key, Value: bindFilterVars(e.Value, vars)}
			}
		}
		return out
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = bindFilterVars(e, vars)
		}
		return out
	}
	return v
}

// substituteVars replaces "$$name" and "$$name.path" references to the
// given variables by {$literal: value}.
func substituteVars(v any, vars map[string]any) any {
	switch x := v.(type) {
	case string:
		if !strings.HasPrefix(x, "$$") {
			return x
		}
		name, rest, dotted := strings.Cut(x[2:], ".")
		val, ok := vars[name]
		if !ok {
			return x
		}
		if dotted {
			val = walkPath(val, strings.Split(rest, "."))
			if IsMissing(val) {
				return "$$REMOVE"
			}
		}
		return bson.D{{Key: "$literal", Value: val}}
	case bson.D:
		out := make(bson.D, len(x))
		for i, e := range x {
			out[i] = bson.E{Key: e.Key, Value: substituteVars(e.Value, vars)}
		}
		return out
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = substituteVars(e, vars)
		}
		return out
	}
	return v
}

func compileSortStage(spec any, _ bool) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, Errorf(15973, "the $sort key specification must be an object")
	}
	if len(d) == 0 {
		return nil, Errorf(15976, "$sort stage must have at least one sort key")
	}
	s, err := CompileSort(d)
	if err != nil {
		return nil, err
	}
	return blockingStage(func(rc *runCtx, docs []bson.D) ([]bson.D, error) {
		s.Sort(docs)
		return docs, nil
	}), nil
}

func compileLimitStage(spec any, _ bool) (stage, error) {
	if !IsNumber(spec) {
		return nil, Errorf(aggCodeLimitNumber, "the limit must be specified as a number")
	}
	n := truncToInt64(spec)
	if n <= 0 {
		return nil, Errorf(aggCodeLimitPositive, "the limit must be positive")
	}
	return limitStage(n), nil
}

// truncToInt64 reads a stage's numeric argument as MongoDB's
// safeNumberLong does: fractions are truncated, NaN is 0 and out-of-range
// values saturate.
func truncToInt64(v any) int64 {
	if n, ok := ToInt64(v); ok {
		return n
	}
	f, _ := ToFloat64(v)
	switch {
	case f != f:
		return 0
	case f >= 9.2e18:
		return math.MaxInt64
	case f <= -9.2e18:
		return math.MinInt64
	}
	return int64(f)
}

type limitStage int64

func (l limitStage) run(rc *runCtx, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	return func(yield func(bson.D, error) bool) {
		if l <= 0 {
			return
		}
		n := int64(0)
		for d, err := range in {
			if !yield(d, err) || err != nil {
				return
			}
			n++
			if n >= int64(l) {
				return
			}
		}
	}
}

func compileSkipStage(spec any, _ bool) (stage, error) {
	if !IsNumber(spec) {
		return nil, Errorf(aggCodeSkipNumber, "Argument to $skip must be a number")
	}
	n := truncToInt64(spec)
	if n < 0 {
		return nil, Errorf(aggCodeSkipNegative, "Argument to $skip cannot be negative")
	}
	return skipStage(n), nil
}

type skipStage int64

func (s skipStage) run(rc *runCtx, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	return func(yield func(bson.D, error) bool) {
		n := int64(0)
		for d, err := range in {
			if err == nil && n < int64(s) {
				n++
				continue
			}
			if !yield(d, err) || err != nil {
				return
			}
		}
	}
}

func compileCountStage(spec any, _ bool) (stage, error) {
	name, ok := spec.(string)
	switch {
	case !ok:
		return nil, Errorf(40156, "the count field must be a non-empty string")
	case name == "":
		return nil, Errorf(40157, "the count field must be a non-empty string")
	case strings.HasPrefix(name, "$"):
		return nil, Errorf(40158, "the count field cannot be a $-prefixed path")
	case strings.Contains(name, "."):
		return nil, Errorf(40160, "the count field cannot contain '.'")
	}
	return blockingStage(func(rc *runCtx, docs []bson.D) ([]bson.D, error) {
		if len(docs) == 0 {
			return nil, nil
		}
		return []bson.D{{{Key: name, Value: intResult(int64(len(docs)), kindInt32)}}}, nil
	}), nil
}

func compileReplaceWithStage(spec any, _ bool) (stage, error) {
	fn, err := compileExpr(spec, 0)
	if err != nil {
		return nil, err
	}
	return mapStage(func(rc *runCtx, doc bson.D) (bson.D, error) {
		v, err := rc.eval(fn, doc)
		if err != nil {
			return nil, err
		}
		d, ok := v.(bson.D)
		if !ok {
			return nil, Errorf(40228, "'newRoot' expression must evaluate to an object, but resulting value was: %s. Type of resulting value: '%s'. Input document: %s", fmtValue(v), TypeName(v), fmtValue(doc))
		}
		if d == nil {
			d = bson.D{} // nil would read as "drop this document"
		}
		return d, nil
	}), nil
}

func compileReplaceRootStage(spec any, inFacet bool) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, Errorf(40229, "expected an object as specification for $replaceRoot stage, got %s", TypeName(spec))
	}
	var newRoot any = Missing
	for _, e := range d {
		if e.Key != "newRoot" {
			return nil, Errorf(40415, "BSON field '$replaceRoot.%s' is an unknown field.", e.Key)
		}
		newRoot = e.Value
	}
	if IsMissing(newRoot) {
		return nil, Errorf(40414, "BSON field '$replaceRoot.newRoot' is missing but a required field")
	}
	return compileReplaceWithStage(newRoot, inFacet)
}

func compileSortByCountStage(spec any, inFacet bool) (stage, error) {
	switch x := spec.(type) {
	case string:
		if !strings.HasPrefix(x, "$") {
			return nil, Errorf(40148, "the sortByCount field must be defined as a $-prefixed path or an expression")
		}
	case bson.D:
		if len(x) != 1 || !strings.HasPrefix(x[0].Key, "$") {
			return nil, Errorf(40147, "the sortByCount field must be specified as an object with a single expression operator")
		}
	default:
		return nil, Errorf(40149, "the sortByCount field must be defined as a $-prefixed path or an expression")
	}
	group, err := compileGroupStage(bson.D{
		{Key: "_id", Value: spec},
		{Key: "count", Value: bson.D{{Key: "$sum", Value: int32(1)}}},
	}, inFacet)
	if err != nil {
		return nil, err
	}
	sort, err := compileSortStage(bson.D{{Key: "count", Value: int32(-1)}}, inFacet)
	if err != nil {
		return nil, err
	}
	return chainStage{group, sort}, nil
}

// chainStage runs stages one after the other, for stages MongoDB defines
// as an alias of others.
type chainStage []stage

func (c chainStage) run(rc *runCtx, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	for _, s := range c {
		in = s.run(rc, in)
	}
	return in
}

func compileFacetStage(spec any, _ bool) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, Errorf(15947, "the $facet specification must be an object, found %s", TypeName(spec))
	}
	if len(d) == 0 {
		return nil, Errorf(40169, "the $facet specification must be a non-empty object")
	}
	type facet struct {
		name   string
		stages []stage
	}
	facets := make([]facet, 0, len(d))
	for _, e := range d {
		if e.Key == "" || strings.HasPrefix(e.Key, "$") || strings.Contains(e.Key, ".") {
			return nil, Errorf(40353, "$facet output field name '%s' is invalid: it must be non-empty and contain neither '$' at its start nor '.'", e.Key)
		}
		arr, ok := e.Value.(bson.A)
		if !ok {
			return nil, Errorf(40170, "arguments to $facet must be arrays, %s is type %s", e.Key, TypeName(e.Value))
		}
		if len(arr) == 0 {
			return nil, Errorf(40171, "sub-pipeline in $facet stage cannot be empty")
		}
		stages, err := compileSubPipeline(arr, true, 40170, "$facet."+e.Key)
		if err != nil {
			return nil, err
		}
		facets = append(facets, facet{e.Key, stages})
	}
	return blockingStage(func(rc *runCtx, docs []bson.D) ([]bson.D, error) {
		out := make(bson.D, 0, len(facets))
		for _, f := range facets {
			res, err := collect(rc, runStages(rc, f.stages, sliceSeq(docs)))
			if err != nil {
				return nil, err
			}
			arr := make(bson.A, len(res))
			for i, r := range res {
				arr[i] = r
			}
			out = append(out, bson.E{Key: f.name, Value: arr})
		}
		return []bson.D{out}, nil
	}), nil
}

func compileSampleStage(spec any, _ bool) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, Errorf(28745, "the $sample stage specification must be an object")
	}
	size := int64(-1)
	for _, e := range d {
		if e.Key != "size" {
			return nil, Errorf(28748, "unrecognized option to $sample: %s", e.Key)
		}
		if !IsNumber(e.Value) {
			return nil, Errorf(28746, "size argument to $sample must be a number")
		}
		f, _ := ToFloat64(e.Value)
		if f < 0 {
			return nil, Errorf(28747, "size argument to $sample must not be negative")
		}
		size = int64(f)
	}
	if size < 0 {
		return nil, Errorf(28749, "$sample stage must specify a size")
	}
	return blockingStage(func(rc *runCtx, docs []bson.D) ([]bson.D, error) {
		// A partial Fisher-Yates shuffle picks size distinct documents in
		// random order.
		out := append([]bson.D(nil), docs...)
		n := min(int64(len(out)), size)
		for i := int64(0); i < n; i++ {
			j := i + rc.rand.Int64N(int64(len(out))-i)
			out[i], out[j] = out[j], out[i]
		}
		return out[:n], nil
	}), nil
}

func compileUnionWithStage(spec any, _ bool) (stage, error) {
	var coll string
	var stages []stage
	switch x := spec.(type) {
	case string:
		coll = x
	case bson.D:
		for _, e := range x {
			switch e.Key {
			case "coll":
				s, ok := e.Value.(string)
				if !ok {
					return nil, Errorf(CodeTypeMismatch, "BSON field '$unionWith.coll' is the wrong type '%s', expected type 'string'", TypeName(e.Value))
				}
				coll = s
			case "pipeline":
				st, err := compileSubPipeline(e.Value, false, CodeTypeMismatch, "$unionWith.pipeline")
				if err != nil {
					return nil, err
				}
				stages = st
			default:
				return nil, Errorf(40415, "BSON field '$unionWith.%s' is an unknown field.", e.Key)
			}
		}
		if coll == "" {
			return nil, errUnsupported("$unionWith form", "without 'coll'")
		}
	default:
		return nil, Errorf(CodeFailedToParse, "the $unionWith stage specification must be an object or string, but found %s", TypeName(spec))
	}
	return unionStage{coll: coll, stages: stages}, nil
}

type unionStage struct {
	coll   string
	stages []stage
}

func (u unionStage) run(rc *runCtx, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	return func(yield func(bson.D, error) bool) {
		for d, err := range in {
			if !yield(d, err) || err != nil {
				return
			}
		}
		if rc.env.Collection == nil {
			yield(nil, Errorf(CodeNotImplemented, "$unionWith: no collections are available here"))
			return
		}
		for d, err := range runStages(rc, u.stages, rc.env.Collection(rc.ctx, u.coll)) {
			if !yield(d, err) || err != nil {
				return
			}
		}
	}
}

// normalizeInput is Normalize for caller-supplied specifications: a Go
// value Normalize cannot represent becomes an error instead of a panic.
func normalizeInput(v any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, Errorf(CodeBadValue, "unsupported value in specification: %v", fmt.Sprint(r))
		}
	}()
	return Normalize(v), nil
}
