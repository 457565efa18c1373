package mql

import (
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// updCtx carries the per-Apply state through the update tree.
type updCtx struct {
	u          *Update
	opts       ApplyOptions
	doc        bson.D
	now        time.Time
	renameVals []any
	padded     int // nulls added to arrays so far
}

func (c *updCtx) time() time.Time {
	if c.now.IsZero() {
		c.now = c.opts.Now
		if c.now.IsZero() {
			c.now = time.Now()
		}
	}
	return c.now
}

// loadRenames reads every $rename source from the original document before
// anything changes; conflicting paths are rejected at compile time, so the
// sources are not touched by any other operator.
func (c *updCtx) loadRenames() error {
	c.renameVals = make([]any, len(c.u.renames))
	for i, r := range c.u.renames {
		v, viaArray := updLookupExact(c.doc, r.from)
		c.renameVals[i] = v
		if IsMissing(v) {
			continue // nothing to move: not even the target is touched
		}
		if viaArray {
			return Errorf(CodeBadValue, "The source field cannot be an array element, '%s' in doc with %s", r.fromPath, updIDText(c.doc))
		}
		if updPathCrossesArray(c.doc, r.to) {
			return Errorf(CodeBadValue, "The destination field cannot be an array element, '%s' in doc with %s", r.toPath, updIDText(c.doc))
		}
	}
	return nil
}

// updLookupExact follows parts without implicit array traversal: numeric
// components index arrays. viaArray tells whether an array was crossed.
func updLookupExact(doc bson.D, parts []string) (v any, viaArray bool) {
	var cur any = doc
	for _, p := range parts {
		switch x := cur.(type) {
		case bson.D:
			cur = Get(x, p)
		case bson.A:
			i := updArrayIndex(p)
			if i < 0 || i >= len(x) {
				return Missing, false
			}
			cur, viaArray = x[i], true
		default:
			return Missing, false
		}
		if IsMissing(cur) {
			return Missing, false
		}
	}
	return cur, viaArray
}

// updPathCrossesArray reports whether an existing ancestor of the value at
// parts is an array.
func updPathCrossesArray(doc bson.D, parts []string) bool {
	var cur any = doc
	for _, p := range parts[:len(parts)-1] {
		switch x := cur.(type) {
		case bson.D:
			cur = Get(x, p)
		case bson.A:
			return true
		default:
			return false
		}
	}
	_, isArray := cur.(bson.A)
	return isArray
}

// apply applies node n to the value cur found at its path (Missing when
// absent). It returns the new value, whether the field is present
// afterwards, and whether anything changed.
func (c *updCtx) apply(n *updNode, cur any) (any, bool, bool, error) {
	if n.leaf != nil {
		return c.applyLeaf(n.leaf, cur)
	}
	switch x := cur.(type) {
	case bson.D:
		d, mod, err := c.applyDoc(n, x)
		return d, true, mod, err
	case bson.A:
		a, mod, err := c.applyArray(n, x)
		return a, true, mod, err
	case missingType:
		return c.applyMissing(n)
	}
	// A scalar: only operators that do not create anything may go below it.
	if n.all != nil || len(n.filtered) > 0 {
		return nil, false, false, Errorf(CodeBadValue, "Cannot apply array updates to non-array element %s: %s", n.path, updFormat(cur))
	}
	if n.positional != nil && c.wouldCreate(n.positional) {
		return nil, false, false, Errorf(CodePathNotViable, "Cannot create field '%d' in element {%s: %s}", c.opts.Position, n.key, updFormat(cur))
	}
	for _, f := range n.fields {
		if c.wouldCreate(f) {
			return nil, false, false, Errorf(CodePathNotViable, "Cannot create field '%s' in element {%s: %s}", f.key, n.key, updFormat(cur))
		}
	}
	return cur, true, false, nil
}

// wouldCreate reports whether applying n to a missing value would create
// something, which decides between an error and a no-op when the path
// runs into a scalar.
func (c *updCtx) wouldCreate(n *updNode) bool {
	if l := n.leaf; l != nil {
		switch l.op {
		case opUnset, opPop, opPull, opPullAll, opRenameFrom:
			return false
		case opSetOnInsert:
			return c.opts.Insert
		case opRenameTo:
			return !IsMissing(c.renameVals[l.rename])
		}
		return true
	}
	for _, f := range n.fields {
		if c.wouldCreate(f) {
			return true
		}
	}
	if n.positional != nil && c.wouldCreate(n.positional) {
		return true
	}
	return n.all != nil || len(n.filtered) > 0
}

// fieldsWithPositional returns n's field children with the positional
// child resolved to the matched index, merging it with a child of the same
// name.
func (c *updCtx) fieldsWithPositional(n *updNode) ([]*updNode, error) {
	if n.positional == nil {
		return n.fields, nil
	}
	key := strconv.Itoa(c.opts.Position)
	out := make([]*updNode, 0, len(n.fields)+1)
	var done bool
	for _, f := range n.fields {
		if f.key == key {
			m, err := updMerge(f, n.positional, key)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
			done = true
			continue
		}
		if !done && updLessKey(key, f.key) {
			out = append(out, updRekey(n.positional, key))
			done = true
		}
		out = append(out, f)
	}
	if !done {
		out = append(out, updRekey(n.positional, key))
	}
	return out, nil
}

func updRekey(n *updNode, key string) *updNode {
	m := *n
	m.key = key
	m.index = updArrayIndex(key)
	return &m
}

// updMerge combines two nodes that address the same element (for example
// a.$[] and a.0), failing as MongoDB does when both change the same path.
func updMerge(a, b *updNode, path string) (*updNode, error) {
	if a.leaf != nil || b.leaf != nil {
		return nil, Errorf(CodeConflictingUpdateOperator, "Update created a conflict at '%s'", path)
	}
	m := &updNode{key: a.key, path: a.path, index: a.index}
	m.fields = append(m.fields, a.fields...)
	for _, f := range b.fields {
		merged := false
		for i, g := range m.fields {
			if g.key == f.key {
				x, err := updMerge(g, f, path+"."+f.key)
				if err != nil {
					return nil, err
				}
				m.fields[i] = x
				merged = true
				break
			}
		}
		if !merged {
			m.fields = append(m.fields, f)
		}
	}
	sortNodes(m.fields)
	var err error
	if m.positional, err = updMergeOpt(a.positional, b.positional, path+".$"); err != nil {
		return nil, err
	}
	if m.all, err = updMergeOpt(a.all, b.all, path+".$[]"); err != nil {
		return nil, err
	}
	m.filtered = append(m.filtered, a.filtered...)
	for _, f := range b.filtered {
		merged := false
		for i, g := range m.filtered {
			if g.key == f.key {
				x, err := updMerge(g, f, path+".$["+f.key+"]")
				if err != nil {
					return nil, err
				}
				m.filtered[i] = x
				merged = true
			}
		}
		if !merged {
			m.filtered = append(m.filtered, f)
		}
	}
	return m, nil
}

func updMergeOpt(a, b *updNode, path string) (*updNode, error) {
	switch {
	case a == nil:
		return b, nil
	case b == nil:
		return a, nil
	}
	return updMerge(a, b, path)
}

func sortNodes(ns []*updNode) {
	for i := 1; i < len(ns); i++ {
		for j := i; j > 0 && updLessKey(ns[j].key, ns[j-1].key); j-- {
			ns[j], ns[j-1] = ns[j-1], ns[j]
		}
	}
}

// applyDoc applies the children of n to the fields of d. Existing fields
// keep their place; new ones are appended in the children's order.
func (c *updCtx) applyDoc(n *updNode, d bson.D) (bson.D, bool, error) {
	if n.all != nil || len(n.filtered) > 0 {
		return nil, false, Errorf(CodeBadValue, "Cannot apply array updates to non-array element %s: %s", n.path, updFormat(d))
	}
	fields, err := c.fieldsWithPositional(n)
	if err != nil {
		return nil, false, err
	}
	var out bson.D
	removed := 0
	for _, f := range fields {
		idx := -1
		for i := range d {
			if d[i].Key == f.key {
				idx = i
				break
			}
		}
		var cur any = Missing
		if idx >= 0 {
			cur = d[idx].Value
		}
		v, present, mod, err := c.apply(f, cur)
		if err != nil {
			return nil, false, err
		}
		if !mod {
			continue
		}
		if out == nil {
			out = make(bson.D, len(d), len(d)+len(fields))
			copy(out, d)
		}
		switch {
		case idx < 0:
			if present {
				out = append(out, bson.E{Key: f.key, Value: v})
			}
		case !present:
			out[idx].Value = Missing
			removed++
		case f.leaf != nil && f.leaf.op == opRenameTo:
			// $rename unsets the target before setting it, so an existing
			// target moves to the end.
			out[idx].Value = Missing
			removed++
			out = append(out, bson.E{Key: f.key, Value: v})
		default:
			out[idx].Value = v
		}
	}
	if out == nil {
		return d, false, nil
	}
	if removed > 0 {
		kept := out[:0]
		for _, e := range out {
			if !IsMissing(e.Value) {
				kept = append(kept, e)
			}
		}
		out = kept
	}
	return out, true, nil
}

// applyMissing applies inner node n where its path does not exist yet,
// building the embedded document the creating operators need.
func (c *updCtx) applyMissing(n *updNode) (any, bool, bool, error) {
	if n.all != nil || len(n.filtered) > 0 {
		return nil, false, false, Errorf(CodeBadValue, "The path '%s' must exist in the document in order to apply array updates.", n.path)
	}
	fields, err := c.fieldsWithPositional(n)
	if err != nil {
		return nil, false, false, err
	}
	var out bson.D
	for _, f := range fields {
		v, present, _, err := c.apply(f, Missing)
		if err != nil {
			return nil, false, false, err
		}
		if present {
			out = append(out, bson.E{Key: f.key, Value: v})
		}
	}
	if out == nil {
		return Missing, false, false, nil
	}
	return out, true, true, nil
}

// updMaxPadding is how many nulls MongoDB adds at most to reach an array
// index past the end.
const updMaxPadding = 1500000

// applyArray applies the children of n to the elements of a: numeric
// fields, the positional element, all elements ($[]) and the elements
// matching array filters ($[id]). Creating past the end pads with nulls.
func (c *updCtx) applyArray(n *updNode, a bson.A) (bson.A, bool, error) {
	fields, err := c.fieldsWithPositional(n)
	if err != nil {
		return nil, false, err
	}
	var beyond []*updNode
	var byIndex []*updNode // index-addressed children within range, sorted
	for _, f := range fields {
		if f.index < 0 {
			if c.wouldCreate(f) {
				return nil, false, Errorf(CodePathNotViable, "Cannot create field '%s' in element {%s: %s}", f.key, n.key, updFormat(a))
			}
			continue
		}
		if f.index >= len(a) {
			beyond = append(beyond, f)
		} else {
			byIndex = append(byIndex, f)
		}
	}
	var out bson.A
	set := func(i int, v any) {
		if out == nil {
			out = make(bson.A, len(a), len(a)+len(beyond))
			copy(out, a)
		}
		out[i] = v
	}
	applyAt := func(node *updNode, i int) error {
		v, present, mod, err := c.apply(node, a[i])
		if err != nil {
			return err
		}
		if !present {
			// Unsetting an array element leaves a null in its place.
			if a[i] == nil {
				return nil
			}
			v, mod = nil, true
		}
		if mod {
			set(i, v)
		}
		return nil
	}
	if n.all == nil && len(n.filtered) == 0 {
		for _, f := range byIndex {
			if err := applyAt(f, f.index); err != nil {
				return nil, false, err
			}
		}
	} else {
		next := 0
		for i := range a {
			var node *updNode
			if next < len(byIndex) && byIndex[next].index == i {
				node = byIndex[next]
				next++
			}
			path := n.path + "." + strconv.Itoa(i)
			if n.all != nil {
				if node, err = updMergeOpt(node, n.all, path); err != nil {
					return nil, false, err
				}
			}
			for _, f := range n.filtered {
				if !c.u.arrayFilter[f.key].Match(bson.D{{Key: f.key, Value: a[i]}}) {
					continue
				}
				if node, err = updMergeOpt(node, f, path); err != nil {
					return nil, false, err
				}
			}
			if node == nil {
				continue
			}
			if err := applyAt(node, i); err != nil {
				return nil, false, err
			}
		}
	}
	for _, f := range beyond {
		v, present, _, err := c.apply(f, Missing)
		if err != nil {
			return nil, false, err
		}
		if !present {
			continue
		}
		if f.index-len(a) > updMaxPadding {
			return nil, false, Errorf(CodeBadValue, "can't backfill more than %d elements", updMaxPadding)
		}
		// Every null takes at least three bytes of BSON: stop before
		// building a result that cannot be stored anyway.
		if c.padded += f.index - len(a); c.padded > MaxDocumentSize/3 {
			return nil, false, Errorf(CodeBSONObjectTooLarge, "Resulting document after update is larger than %d", MaxDocumentSize)
		}
		if out == nil {
			out = make(bson.A, len(a), f.index+1)
			copy(out, a)
		}
		for len(out) < f.index {
			out = append(out, nil)
		}
		out = append(out, v)
	}
	if out == nil {
		return a, false, nil
	}
	return out, true, nil
}

// updIDText renders "{_id: ...}" of a document for error messages.
func updIDText(doc bson.D) string {
	id := Get(doc, "_id")
	if IsMissing(id) {
		return "{}"
	}
	return "{_id: " + updFormat(id) + "}"
}

// updFormat renders a value for an error message in Extended JSON.
func updFormat(v any) string {
	if IsMissing(v) {
		return "missing"
	}
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, false, false)
	if err != nil {
		return "?"
	}
	s := strings.TrimPrefix(string(b), `{"v":`)
	return strings.TrimSuffix(s, "}")
}
