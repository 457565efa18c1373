package mql

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The aggregation form of projection ($project, $addFields/$set, $unset)
// is a tree of field specs. It differs from find's projection: values
// other than numbers and booleans are expressions, nested documents are
// sub-projections, and there are no positional or $elemMatch forms.

type projMode int

const (
	projUndecided projMode = iota
	projInclusion
	projExclusion
	projAddFields
)

type projField struct {
	name    string
	include bool
	exclude bool
	expr    exprFn
	child   *projNode
}

type projNode struct {
	fields []*projField
}

func (n *projNode) get(name string) *projField {
	for _, f := range n.fields {
		if f.name == name {
			return f
		}
	}
	return nil
}

// hasExprs reports whether the subtree computes any field.
func (n *projNode) hasExprs() bool {
	for _, f := range n.fields {
		if f.expr != nil || (f.child != nil && f.child.hasExprs()) {
			return true
		}
	}
	return false
}

type projection struct {
	mode      projMode
	root      *projNode
	excludeID bool // inclusion mode only: _id was explicitly excluded
}

type projParser struct {
	p    *projection
	name string
}

// compileAggProjection parses the operand of $project (mode undecided
// until a field decides it) or $addFields (mode projAddFields).
func compileAggProjection(spec bson.D, stageName string) (*projection, error) {
	p := &projection{root: &projNode{}}
	if stageName != "$project" && stageName != "$unset" {
		p.mode = projAddFields
	}
	if len(spec) == 0 {
		if p.mode == projAddFields {
			return p, nil
		}
		return nil, Errorf(51272, "Invalid %s :: caused by :: projection specification must have at least one field", stageName)
	}
	pp := &projParser{p: p, name: stageName}
	if err := pp.parse(p.root, spec, "", 0); err != nil {
		return nil, err
	}
	if p.mode == projUndecided {
		// Only _id was listed: {_id: 1} keeps just _id, {_id: 0} drops it.
		p.mode = projExclusion
		if f := p.root.get("_id"); f != nil && f.include {
			p.mode = projInclusion
		}
	}
	if p.mode == projInclusion && !p.excludeID && p.root.get("_id") == nil {
		p.root.fields = append([]*projField{{name: "_id", include: true}}, p.root.fields...)
	}
	return p, nil
}

func (pp *projParser) parse(node *projNode, spec bson.D, prefix string, depth int) error {
	if depth > MaxDepth {
		return errDepth()
	}
	for _, e := range spec {
		full := prefix + e.Key
		if e.Key == "" {
			return Errorf(40352, "Invalid %s :: caused by :: FieldPath cannot be constructed with empty string", pp.name)
		}
		if strings.HasPrefix(e.Key, "$") {
			return Errorf(16410, "Invalid %s :: caused by :: FieldPath field names may not start with '$'. Consider using $getField or $setField.", pp.name)
		}
		parts := strings.Split(e.Key, ".")
		for _, part := range parts {
			if part == "" {
				return Errorf(15998, "Invalid %s :: caused by :: FieldPath field names may not be empty strings.", pp.name)
			}
			if strings.HasPrefix(part, "$") {
				return Errorf(16410, "Invalid %s :: caused by :: FieldPath field names may not start with '$'. Consider using $getField or $setField.", pp.name)
			}
		}
		// Walk to the parent of the leaf, creating intermediate nodes.
		n := node
		for i, part := range parts[:len(parts)-1] {
			f := n.get(part)
			if f == nil {
				f = &projField{name: part, child: &projNode{}}
				n.fields = append(n.fields, f)
			} else if f.child == nil {
				return Errorf(31249, "Invalid %s :: caused by :: Path collision at %s remaining portion %s", pp.name, prefix+strings.Join(parts[:i+1], "."), strings.Join(parts[i+1:], "."))
			}
			n = f.child
		}
		leaf := parts[len(parts)-1]
		if existing := n.get(leaf); existing != nil {
			if existing.child == nil {
				return Errorf(31250, "Invalid %s :: caused by :: Path collision at %s", pp.name, full)
			}
			sub, isSub := e.Value.(bson.D)
			if !isSub || len(sub) == 0 || strings.HasPrefix(sub[0].Key, "$") {
				return Errorf(31249, "Invalid %s :: caused by :: Path collision at %s", pp.name, full)
			}
		}
		if err := pp.parseValue(n, leaf, full, e.Value, depth); err != nil {
			return err
		}
	}
	return nil
}

func (pp *projParser) setMode(m projMode, path string) error {
	p := pp.p
	if p.mode == projAddFields {
		return nil
	}
	if p.mode == projUndecided {
		p.mode = m
		return nil
	}
	if p.mode != m {
		if m == projExclusion {
			return Errorf(31254, "Invalid %s :: caused by :: Cannot do exclusion on field %s in inclusion projection", pp.name, path)
		}
		return Errorf(31253, "Invalid %s :: caused by :: Cannot do inclusion on field %s in exclusion projection", pp.name, path)
	}
	return nil
}

func (pp *projParser) parseValue(n *projNode, leaf, full string, v any, depth int) error {
	v = Normalize(v)
	addField := func(f *projField) {
		if existing := n.get(leaf); existing != nil {
			*existing = *f
			return
		}
		n.fields = append(n.fields, f)
	}
	if pp.p.mode != projAddFields {
		var flag, isFlag bool
		switch x := v.(type) {
		case bool:
			flag, isFlag = x, true
		case int32, int64, float64, bson.Decimal128:
			flag, isFlag = Truthy(x), true
		}
		if isFlag {
			if full == "_id" {
				if !flag {
					pp.p.excludeID = true
					addField(&projField{name: leaf, exclude: true})
				} else {
					addField(&projField{name: leaf, include: true})
				}
				return nil
			}
			if flag {
				if err := pp.setMode(projInclusion, full); err != nil {
					return err
				}
				addField(&projField{name: leaf, include: true})
				return nil
			}
			if err := pp.setMode(projExclusion, full); err != nil {
				return err
			}
			addField(&projField{name: leaf, exclude: true})
			return nil
		}
	}
	if d, ok := v.(bson.D); ok && (len(d) == 0 || !strings.HasPrefix(d[0].Key, "$")) {
		if len(d) == 0 {
			if pp.p.mode == projAddFields {
				return Errorf(40180, "Invalid %s :: caused by :: an empty object is not a valid value. Found empty object at path %s", pp.name, full)
			}
			return Errorf(51270, "Invalid %s :: caused by :: An empty sub-projection is not a valid value. Found empty object at path", pp.name)
		}
		f := n.get(leaf)
		if f == nil {
			f = &projField{name: leaf, child: &projNode{}}
			n.fields = append(n.fields, f)
		}
		return pp.parse(f.child, d, full+".", depth+1)
	}
	// Anything else is an expression: its presence makes $project an
	// inclusion projection.
	if err := pp.setMode(projInclusion, full); err != nil {
		if pp.p.mode == projExclusion {
			return Errorf(31252, "Invalid %s :: caused by :: Cannot use expression other than $meta in exclusion projection", pp.name)
		}
		return err
	}
	fn, err := compileExpr(v, depth+1)
	if err != nil {
		return err
	}
	addField(&projField{name: leaf, expr: fn})
	return nil
}

// apply projects one document. c evaluates expressions against the
// original document.
func (p *projection) apply(c *evalCtx, doc bson.D) (bson.D, error) {
	var out bson.D
	switch p.mode {
	case projInclusion:
		out = includeDoc(p.root, doc)
	case projExclusion:
		return excludeDoc(p.root, doc), nil
	default:
		out = doc
	}
	if !p.root.hasExprs() {
		return out, nil
	}
	return computeDoc(c, p.root, out)
}

func includeDoc(n *projNode, doc bson.D) bson.D {
	out := bson.D{}
	for _, e := range doc {
		f := n.get(e.Key)
		if f == nil {
			continue
		}
		switch {
		case f.include:
			out = append(out, e)
		case f.child != nil:
			if v, ok := includeValue(f.child, e.Value); ok {
				out = append(out, bson.E{Key: e.Key, Value: v})
			}
		}
	}
	return out
}

// includeValue applies a sub-projection to a value: documents are
// projected, arrays element by element, scalars are dropped.
func includeValue(n *projNode, v any) (any, bool) {
	switch x := v.(type) {
	case bson.D:
		return includeDoc(n, x), true
	case bson.A:
		out := bson.A{}
		keepSlots := n.hasExprs()
		for _, e := range x {
			if r, ok := includeValue(n, e); ok {
				out = append(out, r)
			} else if keepSlots {
				// A dropped scalar keeps its slot when fields are computed
				// below: computeValue turns it into a document of them.
				out = append(out, Missing)
			}
		}
		return out, true
	}
	return nil, false
}

func excludeDoc(n *projNode, doc bson.D) bson.D {
	out := make(bson.D, 0, len(doc))
	for _, e := range doc {
		f := n.get(e.Key)
		switch {
		case f == nil:
			out = append(out, e)
		case f.exclude:
		case f.child != nil:
			out = append(out, bson.E{Key: e.Key, Value: excludeValue(f.child, e.Value)})
		default:
			out = append(out, e)
		}
	}
	return out
}

func excludeValue(n *projNode, v any) any {
	switch x := v.(type) {
	case bson.D:
		return excludeDoc(n, x)
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = excludeValue(n, e)
		}
		return out
	}
	return v
}

// computeDoc sets the computed fields of n on a copy of doc: existing
// fields are replaced in place, new ones appended, and a field whose
// expression yields Missing ($$REMOVE) is removed.
func computeDoc(c *evalCtx, n *projNode, doc bson.D) (bson.D, error) {
	out := make(bson.D, len(doc), len(doc)+len(n.fields))
	copy(out, doc)
	for _, f := range n.fields {
		var v any
		switch {
		case f.expr != nil:
			r, err := f.expr(c)
			if err != nil {
				return nil, err
			}
			v = r
		case f.child != nil && f.child.hasExprs():
			r, err := computeValue(c, f.child, Get(out, f.name))
			if err != nil {
				return nil, err
			}
			v = r
		default:
			continue
		}
		out = setField(out, f.name, v)
	}
	return out, nil
}

func computeValue(c *evalCtx, n *projNode, v any) (any, error) {
	switch x := v.(type) {
	case bson.D:
		return computeDoc(c, n, x)
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			r, err := computeValue(c, n, e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return computeDoc(c, n, bson.D{})
}

// setField replaces or appends key in doc (which the caller owns);
// Missing removes it.
func setField(doc bson.D, key string, v any) bson.D {
	for i := range doc {
		if doc[i].Key == key {
			if IsMissing(v) {
				return append(doc[:i:i], doc[i+1:]...)
			}
			doc[i].Value = v
			return doc
		}
	}
	if IsMissing(v) {
		return doc
	}
	return append(doc, bson.E{Key: key, Value: v})
}

func compileProjectStage(spec any, name string) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		if name == "$project" {
			return nil, Errorf(15969, "$project specification must be an object")
		}
		return nil, Errorf(40272, "%s specification stage must be an object, got %s", name, TypeName(spec))
	}
	p, err := compileAggProjection(d, name)
	if err != nil {
		return nil, err
	}
	return mapStage(func(rc *runCtx, doc bson.D) (bson.D, error) {
		return p.apply(rc.evalCtx(doc), doc)
	}), nil
}

func compileUnsetStage(spec any, _ bool) (stage, error) {
	var fields []string
	switch x := spec.(type) {
	case string:
		fields = []string{x}
	case bson.A:
		if len(x) == 0 {
			return nil, Errorf(31119, "$unset specification must be a string or an array with at least one field")
		}
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, Errorf(31120, "$unset specification must be a string or an array containing only string values")
			}
			fields = append(fields, s)
		}
	default:
		return nil, Errorf(31002, "$unset specification must be a string or an array")
	}
	spec2 := make(bson.D, len(fields))
	for i, f := range fields {
		spec2[i] = bson.E{Key: f, Value: int32(0)}
	}
	p, err := compileAggProjection(spec2, "$unset")
	if err != nil {
		return nil, err
	}
	p.mode = projExclusion
	return mapStage(func(rc *runCtx, doc bson.D) (bson.D, error) {
		return excludeDoc(p.root, doc), nil
	}), nil
}
