package mql

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Update is a compiled update: either a document of update operators or a
// replacement document.
//
// An operator update is compiled into a tree keyed by path component, the
// way MongoDB's update system does it: two operators touching the same path
// (or one path and its prefix) collide while the tree is built, and applying
// the tree visits fields in MongoDB's order (lexicographic, numeric
// components numerically), so new fields are appended in that order.
type Update struct {
	replacement   bson.D
	isReplacement bool

	root        *updNode
	renames     []updRename
	positional  bool // some path uses the positional $
	touchesID   bool // some path starts with _id
	arrayFilter map[string]updMatcher
}

// UpdateOptions are the compile-time options of an update.
type UpdateOptions struct {
	// ArrayFilters are the filters named by $[<identifier>] in the update.
	ArrayFilters []bson.D
}

// ApplyOptions are the per-document options of Update.Apply.
type ApplyOptions struct {
	// Position is the array index the positional $ operator refers to
	// (from Filter.MatchPosition), or -1.
	Position int
	// Insert is true when the update applies to the seed document of an
	// upsert, so that $setOnInsert takes effect.
	Insert bool
	// Now is the time $currentDate writes; zero means time.Now().
	Now time.Time
}

// Error codes this file needs that the shared core does not define.
const (
	updCodeInvalidIDField      = 53
	updCodeNotSingleValueField = 54
)

// updMatcher is what the update engine needs of a compiled filter.
type updMatcher interface{ Match(doc bson.D) bool }

// updCompileFilter compiles array filters and $pull conditions. It is a
// variable only so that tests can exercise the plumbing around filters
// with a stand-in matcher.
var updCompileFilter = func(filter bson.D) (updMatcher, error) { return CompileFilter(filter) }

// updNormalize brings a hand-built document (Go ints, bson.M, slices) into
// the package's normal form, turning Normalize's panic on a Go type BSON
// has no counterpart for into an error. It walks containers itself because
// Normalize leaves typed slices nested in a bson.D as they are.
func updNormalize(d bson.D) (out bson.D, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, Errorf(CodeBadValue, "%v", r)
		}
	}()
	return updNormalizeValue(d).(bson.D), nil
}

func updNormalizeValue(v any) any {
	switch x := v.(type) {
	case bson.D:
		out := make(bson.D, len(x))
		for i, e := range x {
			out[i] = bson.E{Key: e.Key, Value: updNormalizeValue(e.Value)}
		}
		return out
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = updNormalizeValue(e)
		}
		return out
	}
	n := Normalize(v)
	switch n.(type) {
	case bson.D, bson.A:
		return updNormalizeValue(n)
	}
	return n
}

// updErrorf is Errorf for codes without an entry in the shared name table.
func updErrorf(code int, name, format string, args ...any) *Error {
	e := Errorf(code, format, args...)
	if e.CodeName == "" {
		e.CodeName = name
	}
	return e
}

// updOp identifies the operation of a leaf of the update tree.
type updOp uint8

const (
	opSet updOp = iota
	opSetOnInsert
	opUnset
	opInc
	opMul
	opMin
	opMax
	opCurrentDate
	opPush
	opAddToSet
	opPop
	opPull
	opPullAll
	opBit
	opRenameFrom
	opRenameTo
)

var updOperators = map[string]updOp{
	"$set":         opSet,
	"$setOnInsert": opSetOnInsert,
	"$unset":       opUnset,
	"$inc":         opInc,
	"$mul":         opMul,
	"$min":         opMin,
	"$max":         opMax,
	"$currentDate": opCurrentDate,
	"$push":        opPush,
	"$addToSet":    opAddToSet,
	"$pop":         opPop,
	"$pull":        opPull,
	"$pullAll":     opPullAll,
	"$bit":         opBit,
	"$rename":      opRenameFrom,
}

// updNode is one component of the compiled update tree. A node is either a
// leaf (an operation on the value at its path) or an inner node whose
// children address fields or array elements below it.
type updNode struct {
	key   string
	path  string // dotted path from the root, for messages
	index int    // the array index key denotes, or -1
	leaf  *updLeaf

	fields     []*updNode // sorted with updLessKey
	positional *updNode
	all        *updNode
	filtered   []*updNode // $[identifier] children, key is the identifier
}

// updRename is one $rename: the value at from moves to to.
type updRename struct {
	from, to []string
	fromPath string
	toPath   string
}

// CompileUpdate parses and validates an update document. A document whose
// first field starts with '$' is a document of update operators; any other
// document (including the empty one) is a replacement.
func CompileUpdate(update bson.D, opts UpdateOptions) (*Update, error) {
	if depth(update, 0) > MaxDepth+2 {
		return nil, Errorf(CodeOverflow, "update document nesting exceeds the maximum depth of %d", MaxDepth)
	}
	// Whatever cannot travel as BSON (NUL bytes in names, unsupported Go
	// types) could never reach MongoDB; refusing it here keeps results
	// storable.
	if _, err := bson.Marshal(update); err != nil {
		return nil, Errorf(CodeBadValue, "update document is not valid BSON: %v", err)
	}
	update, err := updNormalize(update)
	if err != nil {
		return nil, err
	}
	if len(update) == 0 || !strings.HasPrefix(update[0].Key, "$") {
		if len(opts.ArrayFilters) > 0 {
			return nil, Errorf(CodeFailedToParse, "arrayFilters may not be specified for a replacement-style update")
		}
		return compileReplacement(update)
	}
	u := &Update{root: &updNode{index: -1}}
	used := map[string]string{}
	for _, e := range update {
		op, ok := updOperators[e.Key]
		if !ok {
			return nil, Errorf(CodeFailedToParse, "Unknown modifier: %s. Expected a valid update modifier or pipeline-style update specified as an array", e.Key)
		}
		fields, ok := e.Value.(bson.D)
		if !ok {
			return nil, Errorf(CodeFailedToParse, "Modifiers operate on fields but we found type %s instead. For example: {$mod: {<field>: ...}} not {%s: %s}",
				TypeName(e.Value), e.Key, updFormat(e.Value))
		}
		for _, f := range fields {
			if err := u.compileField(e.Key, op, f, used); err != nil {
				return nil, err
			}
		}
	}
	if err := u.compileArrayFilters(opts.ArrayFilters, used, update); err != nil {
		return nil, err
	}
	u.root.sortChildren()
	return u, nil
}

func compileReplacement(update bson.D) (*Update, error) {
	for _, e := range update {
		if strings.HasPrefix(e.Key, "$") {
			return nil, Errorf(CodeDollarPrefixedFieldName,
				"The dollar ($) prefixed field '%s' in '%s' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.", e.Key, e.Key)
		}
	}
	if err := checkIDValue(Get(update, "_id")); err != nil {
		return nil, err
	}
	return &Update{replacement: update, isReplacement: true}, nil
}

// compileField compiles one "path: operand" entry of operator opName.
func (u *Update) compileField(opName string, op updOp, f bson.E, used map[string]string) error {
	parts, err := u.parsePath(f.Key, used)
	if err != nil {
		return err
	}
	if op == opRenameFrom {
		return u.compileRename(parts, f)
	}
	leaf, err := compileLeaf(opName, op, f)
	if err != nil {
		return err
	}
	return u.insert(parts, f.Key, leaf)
}

// parsePath splits and validates an update path, recording the array
// filter identifiers it uses.
func (u *Update) parsePath(path string, used map[string]string) ([]string, error) {
	if path == "" {
		return nil, Errorf(CodeEmptyFieldName, "An empty update path is not valid.")
	}
	if strings.IndexByte(path, 0) >= 0 {
		return nil, Errorf(CodeBadValue, "The update path '%s' contains a NUL byte, which field names cannot hold", path)
	}
	parts := strings.Split(path, ".")
	if len(parts) > MaxDepth {
		return nil, Errorf(CodeOverflow, "The update path '%s' has more than %d components", path, MaxDepth)
	}
	positional := 0
	for i, p := range parts {
		if p == "" {
			return nil, Errorf(CodeEmptyFieldName, "The update path '%s' contains an empty field name, which is not allowed.", path)
		}
		if p[0] != '$' {
			continue
		}
		switch {
		case p == "$":
			if i == 0 {
				return nil, Errorf(CodeBadValue, "Cannot have positional (i.e. '$') element in the first component in path '%s'", path)
			}
			positional++
			if positional > 1 {
				return nil, Errorf(CodeBadValue, "Too many positional (i.e. '$') elements found in path '%s'", path)
			}
			u.positional = true
		case strings.HasPrefix(p, "$[") && strings.HasSuffix(p, "]"):
			if i == 0 {
				return nil, Errorf(CodeBadValue, "Cannot have array filter identifier (i.e. '$[<id>]') element in the first component in path '%s'", path)
			}
			if id := p[2 : len(p)-1]; id != "" {
				if _, seen := used[id]; !seen {
					used[id] = path
				}
			}
		default:
			return nil, Errorf(CodeDollarPrefixedFieldName, "The dollar ($) prefixed field '%s' in '%s' is not valid for storage.", p, path)
		}
	}
	if parts[0] == "_id" {
		u.touchesID = true
	}
	return parts, nil
}

// insert adds a leaf at parts, reporting MongoDB's conflict error when the
// path or one of its prefixes is already updated.
func (u *Update) insert(parts []string, path string, leaf *updLeaf) error {
	n := u.root
	for i, p := range parts {
		if n.leaf != nil {
			return Errorf(CodeConflictingUpdateOperator, "Updating the path '%s' would create a conflict at '%s'", path, strings.Join(parts[:i], "."))
		}
		c := n.child(p)
		if i == len(parts)-1 {
			if c.leaf != nil || c.hasChildren() {
				return Errorf(CodeConflictingUpdateOperator, "Updating the path '%s' would create a conflict at '%s'", path, path)
			}
			c.leaf = leaf
		}
		n = c
	}
	return nil
}

// child returns n's child for component p, creating it.
func (n *updNode) child(p string) *updNode {
	switch {
	case p == "$":
		if n.positional == nil {
			n.positional = &updNode{key: p, path: n.sub(p), index: -1}
		}
		return n.positional
	case p == "$[]":
		if n.all == nil {
			n.all = &updNode{key: p, path: n.sub(p), index: -1}
		}
		return n.all
	case strings.HasPrefix(p, "$["):
		id := p[2 : len(p)-1]
		for _, c := range n.filtered {
			if c.key == id {
				return c
			}
		}
		c := &updNode{key: id, path: n.sub(p), index: -1}
		n.filtered = append(n.filtered, c)
		return c
	}
	for _, c := range n.fields {
		if c.key == p {
			return c
		}
	}
	c := &updNode{key: p, path: n.sub(p), index: updArrayIndex(p)}
	n.fields = append(n.fields, c)
	return c
}

func (n *updNode) sub(p string) string {
	if n.path == "" {
		return p
	}
	return n.path + "." + p
}

func (n *updNode) hasChildren() bool {
	return len(n.fields) > 0 || n.positional != nil || n.all != nil || len(n.filtered) > 0
}

func (n *updNode) sortChildren() {
	sort.Slice(n.fields, func(i, j int) bool { return updLessKey(n.fields[i].key, n.fields[j].key) })
	for _, c := range n.fields {
		c.sortChildren()
	}
	for _, c := range []*updNode{n.positional, n.all} {
		if c != nil {
			c.sortChildren()
		}
	}
	for _, c := range n.filtered {
		c.sortChildren()
	}
}

// updLessKey orders field names as MongoDB applies them: names that are
// both decimal numbers compare numerically, others as strings.
func updLessKey(a, b string) bool {
	if updIsDigits(a) && updIsDigits(b) {
		ta, tb := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(ta) != len(tb) {
			return len(ta) < len(tb)
		}
		if ta != tb {
			return ta < tb
		}
	}
	return a < b
}

func updIsDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// updArrayIndex returns the array index a path component denotes, or -1.
// A leading zero ("01") makes it a plain field name, so that two spellings
// never address one element.
func updArrayIndex(p string) int {
	if !updIsDigits(p) || len(p) > 9 || (len(p) > 1 && p[0] == '0') {
		return -1
	}
	n, _ := strconv.Atoi(p)
	return n
}

func (u *Update) compileRename(from []string, f bson.E) error {
	to, ok := f.Value.(string)
	if !ok {
		return Errorf(CodeBadValue, "The 'to' field for $rename must be a string: %s: %s", f.Key, updFormat(f.Value))
	}
	toParts, err := u.parsePath(to, map[string]string{})
	if err != nil {
		return err
	}
	for _, p := range from {
		if p[0] == '$' {
			return Errorf(CodeBadValue, "The source field for $rename may not be dynamic: %s", f.Key)
		}
	}
	for _, p := range toParts {
		if p[0] == '$' {
			return Errorf(CodeBadValue, "The destination field for $rename may not be dynamic: %s", to)
		}
	}
	if f.Key == to {
		return Errorf(CodeBadValue, "The source and target field for $rename must differ: %s: %s", f.Key, updFormat(to))
	}
	if strings.HasPrefix(to, f.Key+".") || strings.HasPrefix(f.Key, to+".") {
		return Errorf(CodeBadValue, "The source and target field for $rename must not be on the same path: %s: %s", f.Key, updFormat(to))
	}
	idx := len(u.renames)
	u.renames = append(u.renames, updRename{from: from, to: toParts, fromPath: f.Key, toPath: to})
	if err := u.insert(from, f.Key, &updLeaf{op: opRenameFrom, path: f.Key, rename: idx}); err != nil {
		return err
	}
	return u.insert(toParts, to, &updLeaf{op: opRenameTo, path: to, rename: idx})
}

// compileArrayFilters compiles the filters named by $[identifier] and
// checks that every identifier used has a filter and every filter is used.
func (u *Update) compileArrayFilters(filters []bson.D, used map[string]string, update bson.D) error {
	for _, f := range filters {
		id, err := arrayFilterIdentifier(f)
		if err != nil {
			return err
		}
		if _, dup := u.arrayFilter[id]; dup {
			return Errorf(CodeFailedToParse, "Found multiple array filters with the same top-level field name %s", id)
		}
		compiled, err := updCompileFilter(f)
		if err != nil {
			return err
		}
		if u.arrayFilter == nil {
			u.arrayFilter = map[string]updMatcher{}
		}
		u.arrayFilter[id] = compiled
	}
	for id, path := range used {
		if _, ok := u.arrayFilter[id]; !ok {
			return Errorf(CodeBadValue, "No array filter found for identifier '%s' in path '%s'", id, path)
		}
	}
	for id := range u.arrayFilter {
		if _, ok := used[id]; !ok {
			return Errorf(CodeFailedToParse, "The array filter for identifier '%s' was not used in the update %s", id, updFormat(update))
		}
	}
	return nil
}

// arrayFilterIdentifier finds the one identifier an array filter's
// top-level field names (or those of its $and/$or/$nor clauses) start with.
func arrayFilterIdentifier(f bson.D) (string, error) {
	var id string
	var walk func(d bson.D) error
	walk = func(d bson.D) error {
		for _, e := range d {
			switch e.Key {
			case "$and", "$or", "$nor":
				arr, _ := e.Value.(bson.A)
				for _, c := range arr {
					if cd, ok := c.(bson.D); ok {
						if err := walk(cd); err != nil {
							return err
						}
					}
				}
				continue
			}
			if strings.HasPrefix(e.Key, "$") {
				continue
			}
			name, _, _ := strings.Cut(e.Key, ".")
			if !updValidIdentifier(name) {
				return Errorf(CodeBadValue, "The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '%s'", name)
			}
			if id != "" && id != name {
				return Errorf(CodeFailedToParse, "Error parsing array filter :: caused by :: Expected a single top-level field name, found '%s' and '%s'", id, name)
			}
			id = name
		}
		return nil
	}
	if err := walk(f); err != nil {
		return "", err
	}
	if id == "" {
		return "", Errorf(CodeFailedToParse, "Cannot use an expression without a top-level field name in arrayFilters")
	}
	return id, nil
}

func updValidIdentifier(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// IsReplacement reports whether the update is a replacement document.
func (u *Update) IsReplacement() bool { return u.isReplacement }

// Apply applies the update to doc and returns the new document, whether it
// differs from doc, or an error. doc is not modified; the result may share
// unchanged nested documents and arrays with doc (copy-on-write), so
// neither should be modified in place afterwards. When nothing changed the
// result is doc itself.
func (u *Update) Apply(doc bson.D, opts ApplyOptions) (bson.D, bool, error) {
	if u.isReplacement {
		return u.applyReplacement(doc)
	}
	if u.positional && opts.Position < 0 {
		return nil, false, Errorf(CodeBadValue, "The positional operator did not find the match needed from the query.")
	}
	ctx := &updCtx{u: u, opts: opts, doc: doc}
	if len(u.renames) > 0 {
		if err := ctx.loadRenames(); err != nil {
			return nil, false, err
		}
	}
	out, modified, err := ctx.applyDoc(u.root, doc)
	if err != nil {
		return nil, false, err
	}
	if !modified {
		return doc, false, nil
	}
	if u.touchesID || len(u.renames) > 0 {
		if out, err = checkIDAfterUpdate(doc, out, opts.Insert); err != nil {
			return nil, false, err
		}
	}
	if err := checkUpdatedSize(out); err != nil {
		return nil, false, err
	}
	return out, true, nil
}

func (u *Update) applyReplacement(doc bson.D) (bson.D, bool, error) {
	out := make(bson.D, 0, len(u.replacement)+1)
	oldID := Get(doc, "_id")
	newID := Get(u.replacement, "_id")
	switch {
	case !IsMissing(oldID):
		if !IsMissing(newID) && !Identical(oldID, newID) {
			return nil, false, Errorf(CodeImmutableField, "After applying the update, the (immutable) field '_id' was found to have been altered to _id: %s", updFormat(newID))
		}
		out = append(out, bson.E{Key: "_id", Value: oldID})
	case !IsMissing(newID):
		out = append(out, bson.E{Key: "_id", Value: DeepCopy(newID)})
	}
	for _, e := range u.replacement {
		if e.Key != "_id" {
			out = append(out, bson.E{Key: e.Key, Value: DeepCopy(e.Value)})
		}
	}
	if Identical(out, doc) {
		return doc, false, nil
	}
	if err := checkUpdatedSize(out); err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// checkIDAfterUpdate enforces that _id is immutable and storable, and puts
// a newly created _id first as MongoDB does for inserted documents.
func checkIDAfterUpdate(before, after bson.D, insert bool) (bson.D, error) {
	oldID, newID := Get(before, "_id"), Get(after, "_id")
	if !IsMissing(oldID) && (IsMissing(newID) || !Identical(oldID, newID)) {
		return nil, Errorf(CodeImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'")
	}
	if IsMissing(newID) {
		return after, nil
	}
	if err := checkIDValue(newID); err != nil {
		return nil, err
	}
	if insert && after[0].Key != "_id" {
		moved := make(bson.D, 0, len(after))
		moved = append(moved, bson.E{Key: "_id", Value: newID})
		for _, e := range after {
			if e.Key != "_id" {
				moved = append(moved, e)
			}
		}
		after = moved
	}
	return after, nil
}

func checkIDValue(id any) error {
	switch id.(type) {
	case bson.A, bson.Regex, bson.Undefined:
		return updErrorf(updCodeInvalidIDField, "InvalidIdField", "The '_id' value cannot be of type %s", TypeName(id))
	}
	return nil
}

// checkUpdatedSize rejects results MongoDB could not store: nested more
// than MaxDepth levels or larger than MaxDocumentSize once encoded.
func checkUpdatedSize(doc bson.D) error {
	size, ok := updBSONSize(doc, 0)
	if !ok {
		return Errorf(CodeOverflow, "document nesting exceeds the maximum depth of %d", MaxDepth)
	}
	if size > MaxDocumentSize {
		return Errorf(CodeBSONObjectTooLarge, "Resulting document after update is larger than %d", MaxDocumentSize)
	}
	return nil
}
