package mql

import (
	"iter"
	"math"
	"math/big"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

type groupField struct {
	name string
	op   string
	arg  exprFn
}

type groupStage struct {
	id     exprFn
	fields []groupField
}

func compileGroupStage(spec any, _ bool) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, Errorf(15947, "a group's fields must be specified in an object")
	}
	g := &groupStage{}
	for _, e := range d {
		if e.Key == "_id" {
			if g.id != nil {
				return nil, Errorf(16414, "$group: _id specified more than once")
			}
			fn, err := compileExpr(e.Value, 0)
			if err != nil {
				return nil, err
			}
			g.id = fn
			continue
		}
		if strings.HasPrefix(e.Key, "$") {
			return nil, Errorf(40236, "The field name '%s' cannot be an operator name", e.Key)
		}
		if strings.Contains(e.Key, ".") {
			return nil, Errorf(40235, "The field name '%s' cannot contain '.'", e.Key)
		}
		acc, ok := Normalize(e.Value).(bson.D)
		if !ok {
			return nil, Errorf(40234, "The field '%s' must be an accumulator object", e.Key)
		}
		if len(acc) != 1 {
			return nil, Errorf(40238, "The field '%s' must specify one accumulator", e.Key)
		}
		op := acc[0].Key
		if !groupAccumulators[op] {
			if unsupportedAccumulators[op] {
				return nil, errUnsupported("group accumulator", op)
			}
			return nil, Errorf(15952, "unknown group operator '%s'", op)
		}
		arg := acc[0].Value
		if op == "$count" {
			if ad, ok := Normalize(arg).(bson.D); !ok || len(ad) != 0 {
				return nil, Errorf(CodeTypeMismatch, "$count takes no arguments, i.e. $count:{}")
			}
			arg = int32(1)
		}
		if a, ok := arg.(bson.A); ok {
			if len(a) != 1 {
				return nil, Errorf(40237, "The %s accumulator is a unary operator", op)
			}
			arg = a[0]
		}
		fn, err := compileExpr(arg, 0)
		if err != nil {
			return nil, err
		}
		for _, f := range g.fields {
			if f.name == e.Key {
				return nil, Errorf(16406, "duplicate field name specified in $group: %s", e.Key)
			}
		}
		g.fields = append(g.fields, groupField{name: e.Key, op: op, arg: fn})
	}
	if g.id == nil {
		return nil, Errorf(15955, "a group specification must include an _id")
	}
	return g, nil
}

type group struct {
	id   any
	accs []accumulator
}

func (g *groupStage) run(rc *runCtx, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	return func(yield func(bson.D, error) bool) {
		index := map[string]*group{}
		var order []*group
		var key strings.Builder
		for doc, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			c := rc.evalCtx(doc)
			id, err := g.id(c)
			if err != nil {
				yield(nil, err)
				return
			}
			if IsMissing(id) {
				id = nil
			}
			key.Reset()
			writeGroupKey(&key, id)
			grp := index[key.String()]
			if grp == nil {
				grp = &group{id: id, accs: make([]accumulator, len(g.fields))}
				for i, f := range g.fields {
					grp.accs[i] = newAccumulator(f.op)
				}
				index[key.String()] = grp
				order = append(order, grp)
			}
			for i, f := range g.fields {
				v, err := f.arg(c)
				if err != nil {
					yield(nil, err)
					return
				}
				if err := grp.accs[i].add(v); err != nil {
					yield(nil, err)
					return
				}
			}
		}
		for _, grp := range order {
			out := make(bson.D, 0, len(g.fields)+1)
			out = append(out, bson.E{Key: "_id", Value: grp.id})
			for i, f := range g.fields {
				out = append(out, bson.E{Key: f.name, Value: grp.accs[i].result()})
			}
			if !yield(out, nil) {
				return
			}
		}
	}
}

// writeGroupKey writes a string that is equal for two values exactly when
// MongoDB considers them equal: numbers by exact value across types,
// strings and symbols alike, documents and arrays member by member.
func writeGroupKey(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil, missingType, bson.Null, bson.Undefined:
		b.WriteString("n;")
	case int32, int64, float64, bson.Decimal128:
		if n, ok := ToInt64(x); ok {
			b.WriteString("i")
			b.WriteString(strconv.FormatInt(n, 10))
			b.WriteString(";")
			return
		}
		c := classify(x)
		switch {
		case c.nan:
			b.WriteString("nan;")
		case c.inf != 0:
			b.WriteString("inf" + strconv.Itoa(c.inf) + ";")
		default:
			if f, ok := x.(float64); ok && !math.IsInf(f, 0) {
				b.WriteString("r" + new(big.Rat).SetFloat64(f).RatString() + ";")
				return
			}
			b.WriteString("r" + c.rat.RatString() + ";")
		}
	case string:
		b.WriteString("s" + strconv.Itoa(len(x)) + ":" + x)
	case bson.Symbol:
		b.WriteString("s" + strconv.Itoa(len(x)) + ":" + string(x))
	case bson.D:
		b.WriteString("{")
		for _, e := range x {
			b.WriteString(strconv.Itoa(len(e.Key)) + ":" + e.Key)
			writeGroupKey(b, e.Value)
		}
		b.WriteString("}")
	case bson.A:
		b.WriteString("[")
		for _, e := range x {
			writeGroupKey(b, e)
		}
		b.WriteString("]")
	default:
		b.WriteString("t" + strconv.Itoa(int(TypeOf(v))) + ":")
		s := fmtValue(v)
		b.WriteString(strconv.Itoa(len(s)) + ":" + s)
	}
}

type unwindStage struct {
	path      []string
	indexPath []string
	preserve  bool
}

func compileUnwindStage(spec any, _ bool) (stage, error) {
	u := &unwindStage{}
	var path string
	switch x := spec.(type) {
	case string:
		path = x
	case bson.D:
		for _, e := range x {
			switch e.Key {
			case "path":
				s, ok := e.Value.(string)
				if !ok {
					return nil, Errorf(28808, "expected a string as the path for $unwind stage, got %s", TypeName(e.Value))
				}
				path = s
			case "includeArrayIndex":
				s, ok := e.Value.(string)
				if !ok || s == "" {
					return nil, Errorf(28810, "expected a non-empty string for the includeArrayIndex option to $unwind stage")
				}
				if strings.HasPrefix(s, "$") {
					return nil, Errorf(28822, "includeArrayIndex option to $unwind stage should not be prefixed with a '$': %s", s)
				}
				p, err := splitFieldPath(s)
				if err != nil {
					return nil, err
				}
				u.indexPath = p
			case "preserveNullAndEmptyArrays":
				b, ok := e.Value.(bool)
				if !ok {
					return nil, Errorf(28809, "expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage")
				}
				u.preserve = b
			default:
				return nil, Errorf(28811, "unrecognized option to $unwind stage: %s", e.Key)
			}
		}
		if path == "" {
			return nil, Errorf(28812, "no path specified to $unwind stage")
		}
	default:
		return nil, Errorf(15981, "expected either a string or an object as specification for $unwind stage, got %s", TypeName(spec))
	}
	if !strings.HasPrefix(path, "$") {
		return nil, Errorf(28818, "path option to $unwind stage should be prefixed with a '$': %s", path)
	}
	p, err := splitFieldPath(path[1:])
	if err != nil {
		return nil, err
	}
	u.path = p
	return u, nil
}

// nestedGet follows a dotted path through documents only, as $unwind does.
func nestedGet(doc bson.D, path []string) any {
	var v any = doc
	for _, k := range path {
		d, ok := v.(bson.D)
		if !ok {
			return Missing
		}
		v = Get(d, k)
	}
	return v
}

// setPath returns a copy of doc with path set to v, creating documents on
// the way and replacing non-documents that are in the way.
func setPath(doc bson.D, path []string, v any) bson.D {
	out := make(bson.D, len(doc), len(doc)+1)
	copy(out, doc)
	if len(path) == 1 {
		return setField(out, path[0], v)
	}
	sub, _ := Get(doc, path[0]).(bson.D)
	return setField(out, path[0], setPath(sub, path[1:], v))
}

func (u *unwindStage) run(rc *runCtx, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	return func(yield func(bson.D, error) bool) {
		for doc, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			v := nestedGet(doc, u.path)
			arr, isArr := v.(bson.A)
			switch {
			case isArr && len(arr) > 0:
				for i, e := range arr {
					out := setPath(doc, u.path, e)
					if u.indexPath != nil {
						out = setPath(out, u.indexPath, int64(i))
					}
					if !yield(out, nil) {
						return
					}
				}
				continue
			case isArr || isNullish(v):
				if !u.preserve {
					continue
				}
				out := doc
				if isArr {
					// An empty array is removed from the preserved document.
					out = setPath(doc, u.path, Missing)
				}
				if u.indexPath != nil {
					out = setPath(out, u.indexPath, nil)
				}
				if !yield(out, nil) {
					return
				}
			default:
				out := doc
				if u.indexPath != nil {
					out = setPath(doc, u.indexPath, nil)
				}
				if !yield(out, nil) {
					return
				}
			}
		}
	}
}

type lookupStage struct {
	from         string
	as           []string
	localField   []string
	foreignField []string
	letNames     []string
	letFns       []exprFn
	stages       []stage
	pipeline     bool
}

func compileLookupStage(spec any, _ bool) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, Errorf(CodeFailedToParse, "the $lookup specification must be an object, got %s", TypeName(spec))
	}
	l := &lookupStage{}
	var local, foreign, as string
	var haveLocal, haveForeign bool
	for _, e := range d {
		str := func() (string, error) {
			s, ok := e.Value.(string)
			if !ok {
				return "", Errorf(CodeFailedToParse, "$lookup argument '%s: %s' must be a string, is type %s", e.Key, fmtValue(e.Value), TypeName(e.Value))
			}
			return s, nil
		}
		var err error
		switch e.Key {
		case "from":
			if _, isDoc := e.Value.(bson.D); isDoc {
				return nil, errUnsupported("$lookup 'from' form", "db/coll document")
			}
			l.from, err = str()
		case "as":
			as, err = str()
		case "localField":
			local, err = str()
			haveLocal = true
		case "foreignField":
			foreign, err = str()
			haveForeign = true
		case "let":
			ld, ok := Normalize(e.Value).(bson.D)
			if !ok {
				return nil, Errorf(CodeFailedToParse, "$lookup argument 'let' must be an object, is type %s", TypeName(e.Value))
			}
			for _, le := range ld {
				if err := checkVarName(le.Key, false); err != nil {
					return nil, err
				}
				fn, err := compileExpr(le.Value, 0)
				if err != nil {
					return nil, err
				}
				l.letNames = append(l.letNames, le.Key)
				l.letFns = append(l.letFns, fn)
			}
		case "pipeline":
			l.stages, err = compileSubPipeline(e.Value, false, CodeFailedToParse, "$lookup.pipeline")
			l.pipeline = true
		default:
			return nil, Errorf(CodeFailedToParse, "unknown argument to $lookup: %s", e.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	if l.from == "" {
		return nil, Errorf(CodeFailedToParse, "must specify 'from' field for a $lookup")
	}
	if as == "" {
		return nil, Errorf(CodeFailedToParse, "must specify 'as' field for a $lookup")
	}
	if haveLocal != haveForeign {
		return nil, Errorf(CodeFailedToParse, "$lookup requires both or neither of 'localField' and 'foreignField' to be specified")
	}
	if !haveLocal && !l.pipeline {
		return nil, Errorf(CodeFailedToParse, "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified")
	}
	if l.letNames != nil && !l.pipeline {
		return nil, Errorf(CodeFailedToParse, "$lookup with 'let' must also specify 'pipeline'")
	}
	var err error
	if l.as, err = splitFieldPath(as); err != nil {
		return nil, err
	}
	if haveLocal {
		if l.localField, err = splitFieldPath(local); err != nil {
			return nil, err
		}
		if l.foreignField, err = splitFieldPath(foreign); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// queryValues lists what an equality query on path sees in a foreign
// document: through an array the path continues into each document
// element (and into the numbered element for a numeric component); an
// array at the end of the path offers itself and its elements. Missing
// stands for "no value here", which an equality to null matches; an array
// without documents on the way offers nothing.
func queryValues(v any, path []string, out []any) []any {
	if len(path) == 0 {
		out = append(out, v)
		if a, ok := v.(bson.A); ok {
			out = append(out, a...)
		}
		return out
	}
	switch x := v.(type) {
	case bson.D:
		return queryValues(Get(x, path[0]), path[1:], out)
	case bson.A:
		if i, err := strconv.Atoi(path[0]); err == nil && i >= 0 && i < len(x) {
			out = queryValues(x[i], path[1:], out)
		}
		for _, e := range x {
			if d, ok := e.(bson.D); ok {
				out = queryValues(d, path, out)
			}
		}
		return out
	}
	return append(out, Missing)
}

// localValues are the values of localField that $lookup looks for: the
// path is followed through arrays of documents (a numeric component picks
// that element only), absent values are skipped, and an array at the end
// contributes its elements. Finding nothing means null.
func localValues(doc bson.D, path []string) []any {
	out := collectLocal(doc, path, nil)
	if len(out) == 0 {
		return []any{nil}
	}
	return out
}

func collectLocal(v any, path []string, out []any) []any {
	if len(path) == 0 {
		switch x := v.(type) {
		case bson.A:
			return append(out, x...)
		case missingType:
			return out
		}
		return append(out, v)
	}
	switch x := v.(type) {
	case bson.D:
		return collectLocal(Get(x, path[0]), path[1:], out)
	case bson.A:
		if i, err := strconv.Atoi(path[0]); err == nil {
			if i >= 0 && i < len(x) {
				return collectLocal(x[i], path[1:], out)
			}
			return out
		}
		for _, e := range x {
			if d, ok := e.(bson.D); ok {
				out = collectLocal(d, path, out)
			}
		}
	}
	return out
}

func lookupMatches(locals []any, foreign bson.D, path []string) bool {
	for _, fv := range queryValues(foreign, path, nil) {
		for _, lv := range locals {
			if lv == nil {
				if isNullish(fv) {
					return true
				}
				continue
			}
			if _, isRegex := lv.(bson.Regex); isRegex {
				if Equal(fv, lv) {
					return true
				}
				continue
			}
			if !IsMissing(fv) && Equal(fv, lv) {
				return true
			}
		}
	}
	return false
}

func (l *lookupStage) run(rc *runCtx, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	return func(yield func(bson.D, error) bool) {
		var foreign []bson.D
		loaded := false
		for doc, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			if !loaded {
				if rc.env.Collection == nil {
					yield(nil, Errorf(CodeNotImplemented, "$lookup: no collections are available here"))
					return
				}
				foreign, err = drain(rc, guarded(rc.ctx, rc.env.Collection(rc.ctx, l.from)))
				if err != nil {
					yield(nil, err)
					return
				}
				loaded = true
			}
			matched := foreign
			if l.localField != nil {
				locals := localValues(doc, l.localField)
				matched = nil
				for _, f := range foreign {
					if lookupMatches(locals, f, l.foreignField) {
						matched = append(matched, f)
					}
				}
			}
			if l.pipeline {
				sub := *rc
				if len(l.letNames) > 0 {
					sub.vars = make(map[string]any, len(rc.vars)+len(l.letNames))
					for k, v := range rc.vars {
						sub.vars[k] = v
					}
					c := rc.evalCtx(doc)
					for i, name := range l.letNames {
						v, err := l.letFns[i](c)
						if err != nil {
							yield(nil, err)
							return
						}
						if IsMissing(v) {
							v = nil
						}
						sub.vars[name] = v
					}
				}
				matched, err = collect(&sub, runStages(&sub, l.stages, sliceSeq(matched)))
				if err != nil {
					yield(nil, err)
					return
				}
			}
			arr := make(bson.A, len(matched))
			for i, m := range matched {
				arr[i] = m
			}
			if !yield(setPath(doc, l.as, arr), nil) {
				return
			}
		}
	}
}
