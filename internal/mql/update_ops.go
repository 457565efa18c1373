package mql

import (
	"sort"
	"strings"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// updLeaf is one operation on the value at a path.
type updLeaf struct {
	op   updOp
	name string // operator name, for messages
	path string
	val  any

	// $push
	each     bson.A
	slice    int64
	hasSlice bool
	position int64
	hasPos   bool
	sortMode int8   // 0 none, ±1 by whole value, 2 by fields
	sortKeys bson.D // field: ±1 when sortMode == 2

	// $pull
	pullQuery   updMatcher // condition on document elements
	pullWrapped updMatcher // operator expression on any element, wrapped under pullKey

	// $bit
	bits []bson.E

	// $currentDate
	timestamp bool

	rename int
}

// pullKey is the field name $pull wraps elements under to match them with
// an operator expression such as {$gte: 6}.
const pullKey = "pull"

func compileLeaf(opName string, op updOp, f bson.E) (*updLeaf, error) {
	l := &updLeaf{op: op, name: opName, path: f.Key, val: f.Value}
	switch op {
	case opInc, opMul:
		if !IsNumber(f.Value) {
			verb := "increment"
			if op == opMul {
				verb = "multiply"
			}
			return nil, Errorf(CodeTypeMismatch, "Cannot %s with non-numeric argument: {%s: %s}", verb, f.Key, updFormat(f.Value))
		}
	case opCurrentDate:
		switch x := f.Value.(type) {
		case bool:
		case bson.D:
			t, ok := Get(x, "$type").(string)
			if len(x) != 1 || !ok || (t != "date" && t != "timestamp") {
				return nil, Errorf(CodeBadValue, "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}")
			}
			l.timestamp = t == "timestamp"
		default:
			return nil, Errorf(CodeBadValue, "%s is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).", TypeName(f.Value))
		}
	case opPush:
		return l, l.compilePush()
	case opAddToSet:
		return l, l.compileAddToSet()
	case opPop:
		n, ok := ToFloat64(f.Value)
		if !ok || (n != 1 && n != -1) {
			return nil, Errorf(CodeFailedToParse, "$pop expects 1 or -1, found: %s", updFormat(f.Value))
		}
		l.slice = int64(n)
	case opPull:
		return l, l.compilePull()
	case opPullAll:
		arr, ok := f.Value.(bson.A)
		if !ok {
			return nil, Errorf(CodeBadValue, "$pullAll requires an array argument but was given a %s", TypeName(f.Value))
		}
		l.each = arr
	case opBit:
		return l, l.compileBit()
	}
	return l, nil
}

func (l *updLeaf) compilePush() error {
	d, ok := l.val.(bson.D)
	if !ok || IsMissing(Get(d, "$each")) {
		l.each = bson.A{l.val}
		return nil
	}
	for _, e := range d {
		switch e.Key {
		case "$each":
			arr, ok := e.Value.(bson.A)
			if !ok {
				return Errorf(CodeBadValue, "The argument to $each in $push must be an array but it was of type: %s", TypeName(e.Value))
			}
			l.each = arr
		case "$slice":
			n, ok := ToInt64(e.Value)
			if !ok {
				return Errorf(CodeBadValue, "The value for $slice must be an integral value but was given type: %s", TypeName(e.Value))
			}
			l.slice, l.hasSlice = n, true
		case "$position":
			n, ok := ToInt64(e.Value)
			if !ok {
				return Errorf(CodeBadValue, "The value for $position must be an integer value, not of type: %s", TypeName(e.Value))
			}
			l.position, l.hasPos = n, true
		case "$sort":
			if err := l.compilePushSort(e.Value); err != nil {
				return err
			}
		default:
			return Errorf(CodeBadValue, "Unrecognized clause in $push: %s", e.Key)
		}
	}
	return nil
}

func (l *updLeaf) compilePushSort(v any) error {
	bad := Errorf(CodeBadValue, "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields")
	if IsNumber(v) {
		n, _ := ToFloat64(v)
		if n != 1 && n != -1 {
			return bad
		}
		l.sortMode = int8(n)
		return nil
	}
	d, ok := v.(bson.D)
	if !ok || len(d) == 0 {
		return bad
	}
	for _, e := range d {
		n, ok := ToFloat64(e.Value)
		if !ok || (n != 1 && n != -1) {
			return bad
		}
		if e.Key == "" || strings.HasPrefix(e.Key, "$") || strings.HasPrefix(e.Key, ".") || strings.HasSuffix(e.Key, ".") || strings.Contains(e.Key, "..") {
			return Errorf(CodeBadValue, "The $sort field is a dotted field but has an empty part: %s", e.Key)
		}
		l.sortKeys = append(l.sortKeys, bson.E{Key: e.Key, Value: int32(n)})
	}
	l.sortMode = 2
	return nil
}

func (l *updLeaf) compileAddToSet() error {
	vals := bson.A{l.val}
	if d, ok := l.val.(bson.D); ok && len(d) > 0 && d[0].Key == "$each" {
		if len(d) > 1 {
			return Errorf(CodeBadValue, "Found unexpected fields after $each in $addToSet: %s", updFormat(d))
		}
		arr, ok := d[0].Value.(bson.A)
		if !ok {
			return Errorf(CodeBadValue, "The argument to $each in $addToSet must be an array but it was of type %s", TypeName(d[0].Value))
		}
		vals = arr
	}
	// Duplicates within the operand are added once.
	for _, v := range vals {
		if !updContains(l.each, v) {
			l.each = append(l.each, v)
		}
	}
	return nil
}

func (l *updLeaf) compilePull() error {
	d, ok := l.val.(bson.D)
	if !ok {
		return nil
	}
	if len(d) > 0 && strings.HasPrefix(d[0].Key, "$") && !updIsQueryLevelOperator(d[0].Key) {
		f, err := updCompileFilter(bson.D{{Key: pullKey, Value: d}})
		if err != nil {
			return err
		}
		l.pullWrapped = f
		return nil
	}
	f, err := updCompileFilter(d)
	if err != nil {
		return err
	}
	l.pullQuery = f
	return nil
}

// updIsQueryLevelOperator reports operators that stand for a whole query
// rather than a condition on one value.
func updIsQueryLevelOperator(name string) bool {
	switch name {
	case "$and", "$or", "$nor", "$expr", "$where", "$text", "$comment", "$jsonSchema":
		return true
	}
	return false
}

func (l *updLeaf) compileBit() error {
	d, ok := l.val.(bson.D)
	if !ok {
		return Errorf(CodeBadValue, "The $bit modifier is not compatible with a %s. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}", TypeName(l.val))
	}
	if len(d) == 0 {
		return Errorf(CodeBadValue, "You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}")
	}
	for _, e := range d {
		switch e.Key {
		case "and", "or", "xor":
		default:
			return Errorf(CodeBadValue, "The $bit modifier only supports 'and', 'or', and 'xor', not '%s' which is an unknown operator: {%s: %s}", e.Key, e.Key, updFormat(e.Value))
		}
		switch e.Value.(type) {
		case int32, int64:
		default:
			return Errorf(CodeBadValue, "The $bit modifier field must be an Integer(32/64 bit); a '%s' is not supported here: {%s: %s}", TypeName(e.Value), e.Key, updFormat(e.Value))
		}
	}
	l.bits = d
	return nil
}

// updTimestampCounter makes the timestamps $currentDate writes within one
// second distinct, as the oplog's increments are.
var updTimestampCounter atomic.Uint32

// applyLeaf applies a leaf to the value cur at its path (Missing when
// absent) and returns the new value, whether it is present, and whether it
// changed.
func (c *updCtx) applyLeaf(l *updLeaf, cur any) (any, bool, bool, error) {
	missing := IsMissing(cur)
	switch l.op {
	case opSet:
		return updSetValue(cur, l.val)
	case opSetOnInsert:
		if !c.opts.Insert {
			return cur, !missing, false, nil
		}
		return updSetValue(cur, l.val)
	case opUnset, opRenameFrom:
		return nil, false, !missing, nil
	case opRenameTo:
		v := c.renameVals[l.rename]
		if IsMissing(v) {
			return cur, !missing, false, nil
		}
		return v, true, true, nil
	case opInc, opMul:
		return c.applyArith(l, cur)
	case opMin, opMax:
		if !missing {
			cmp := Compare(l.val, cur)
			if (l.op == opMin && cmp >= 0) || (l.op == opMax && cmp <= 0) {
				return cur, true, false, nil
			}
		}
		return updSetValue(cur, l.val)
	case opCurrentDate:
		now := c.time()
		if l.timestamp {
			return updSetValue(cur, bson.Timestamp{T: uint32(now.Unix()), I: updTimestampCounter.Add(1)})
		}
		return updSetValue(cur, bson.NewDateTimeFromTime(now))
	case opPush:
		return c.applyPush(l, cur)
	case opAddToSet:
		return c.applyAddToSet(l, cur)
	case opPop:
		if missing {
			return cur, false, false, nil
		}
		arr, ok := cur.(bson.A)
		if !ok {
			return nil, false, false, Errorf(CodeTypeMismatch, "Path '%s' contains an element of non-array type '%s'", l.path, TypeName(cur))
		}
		if len(arr) == 0 {
			return cur, true, false, nil
		}
		if l.slice == 1 {
			return arr[: len(arr)-1 : len(arr)-1], true, true, nil
		}
		return arr[1:], true, true, nil
	case opPull, opPullAll:
		return c.applyPull(l, cur)
	case opBit:
		return c.applyBit(l, cur)
	}
	return cur, !missing, false, nil
}

// updSetValue sets a field to v, which is not a modification when the
// field already holds exactly v (same types, same field order).
func updSetValue(cur, v any) (any, bool, bool, error) {
	if Identical(cur, v) {
		return cur, true, false, nil
	}
	return updCopyValue(v), true, true, nil
}

// updCopyValue copies containers coming from the compiled update so that
// results never share memory with it.
func updCopyValue(v any) any {
	switch v.(type) {
	case bson.D, bson.A:
		return DeepCopy(v)
	}
	return v
}

func (c *updCtx) applyArith(l *updLeaf, cur any) (any, bool, bool, error) {
	if IsMissing(cur) {
		if l.op == opInc {
			return l.val, true, true, nil
		}
		return updZeroLike(l.val), true, true, nil
	}
	if !IsNumber(cur) {
		return nil, false, false, Errorf(CodeTypeMismatch, "Cannot apply %s to a value of non-numeric type. %s has the field '%s' of non-numeric type %s",
			l.name, updIDText(c.doc), updLastPart(l.path), TypeName(cur))
	}
	var res any
	var ok bool
	if l.op == opInc {
		res, ok = updAdd(cur, l.val)
	} else {
		res, ok = updMul(cur, l.val)
	}
	if !ok {
		return nil, false, false, Errorf(CodeBadValue, "Failed to apply %s operations to current value (%s) for document %s", l.name, updFormat(cur), updIDText(c.doc))
	}
	if Identical(cur, res) {
		return cur, true, false, nil
	}
	return res, true, true, nil
}

func updLastPart(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func (c *updCtx) applyPush(l *updLeaf, cur any) (any, bool, bool, error) {
	var arr bson.A
	if !IsMissing(cur) {
		var ok bool
		if arr, ok = cur.(bson.A); !ok {
			return nil, false, false, Errorf(CodeBadValue, "The field '%s' must be an array but is of type %s in document %s", l.path, TypeName(cur), updIDText(c.doc))
		}
	}
	out := make(bson.A, 0, len(arr)+len(l.each))
	pos := int64(len(arr))
	if l.hasPos {
		pos = l.position
		if pos < 0 {
			pos += int64(len(arr))
			if pos < 0 {
				pos = 0
			}
		}
		if pos > int64(len(arr)) {
			pos = int64(len(arr))
		}
	}
	out = append(out, arr[:pos]...)
	for _, v := range l.each {
		out = append(out, updCopyValue(v))
	}
	out = append(out, arr[pos:]...)
	switch l.sortMode {
	case 1, -1:
		dir := int(l.sortMode)
		sort.SliceStable(out, func(i, j int) bool { return dir*Compare(out[i], out[j]) < 0 })
	case 2:
		sort.SliceStable(out, func(i, j int) bool { return updCompareBy(out[i], out[j], l.sortKeys) < 0 })
	}
	if l.hasSlice {
		n := l.slice
		switch {
		case n >= 0 && n < int64(len(out)):
			out = out[:n]
		case n < 0 && -n < int64(len(out)):
			out = out[int64(len(out))+n:]
		}
	}
	if IsMissing(cur) {
		return out, true, true, nil
	}
	if (l.sortMode != 0 || l.hasSlice || len(l.each) == 0) && Identical(out, arr) {
		return cur, true, false, nil
	}
	return out, true, true, nil
}

// updCompareBy orders two array elements by the sort fields of $push's
// $sort; a missing field (or a non-document element) sorts as null.
func updCompareBy(a, b any, keys bson.D) int {
	for _, k := range keys {
		c := Compare(updPathValue(a, k.Key), updPathValue(b, k.Key))
		if c != 0 {
			if k.Value.(int32) < 0 {
				return -c
			}
			return c
		}
	}
	return 0
}

func updPathValue(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		d, ok := v.(bson.D)
		if !ok {
			return nil
		}
		v = Get(d, p)
	}
	if IsMissing(v) {
		return nil
	}
	return v
}

func (c *updCtx) applyAddToSet(l *updLeaf, cur any) (any, bool, bool, error) {
	if IsMissing(cur) {
		out := make(bson.A, len(l.each))
		for i, v := range l.each {
			out[i] = updCopyValue(v)
		}
		return out, true, true, nil
	}
	arr, ok := cur.(bson.A)
	if !ok {
		return nil, false, false, Errorf(CodeBadValue, "Cannot apply $addToSet to non-array field. Field named '%s' has non-array type %s", updLastPart(l.path), TypeName(cur))
	}
	var out bson.A
	for _, v := range l.each {
		if updContains(arr, v) {
			continue
		}
		if out == nil {
			out = make(bson.A, len(arr), len(arr)+len(l.each))
			copy(out, arr)
		}
		out = append(out, updCopyValue(v))
	}
	if out == nil {
		return cur, true, false, nil
	}
	return out, true, true, nil
}

func updContains(arr bson.A, v any) bool {
	for _, e := range arr {
		if Equal(e, v) {
			return true
		}
	}
	return false
}

func (c *updCtx) applyPull(l *updLeaf, cur any) (any, bool, bool, error) {
	if IsMissing(cur) {
		return cur, false, false, nil
	}
	arr, ok := cur.(bson.A)
	if !ok {
		return nil, false, false, Errorf(CodeBadValue, "Cannot apply %s to a non-array value", l.name)
	}
	var out bson.A
	for i, e := range arr {
		if l.pullMatches(e) {
			if out == nil {
				out = make(bson.A, i, len(arr))
				copy(out, arr[:i])
			}
			continue
		}
		if out != nil {
			out = append(out, e)
		}
	}
	if out == nil {
		return cur, true, false, nil
	}
	return out, true, true, nil
}

func (l *updLeaf) pullMatches(e any) bool {
	switch {
	case l.op == opPullAll:
		return updContains(l.each, e)
	case l.pullWrapped != nil:
		return l.pullWrapped.Match(bson.D{{Key: pullKey, Value: e}})
	case l.pullQuery != nil:
		d, ok := e.(bson.D)
		return ok && l.pullQuery.Match(d)
	}
	return Equal(e, l.val)
}

func (c *updCtx) applyBit(l *updLeaf, cur any) (any, bool, bool, error) {
	v := cur
	if IsMissing(cur) {
		v = int32(0)
	}
	switch v.(type) {
	case int32, int64:
	default:
		return nil, false, false, Errorf(CodeBadValue, "Cannot apply $bit to a value of non-integral type.%s has the field %s of non-integer type %s",
			updIDText(c.doc), updLastPart(l.path), TypeName(cur))
	}
	for _, b := range l.bits {
		v = updBitOp(b.Key, v, b.Value)
	}
	if Identical(cur, v) {
		return cur, true, false, nil
	}
	return v, true, true, nil
}

func updBitOp(op string, a, b any) any {
	x32, aIs32 := a.(int32)
	y32, bIs32 := b.(int32)
	if aIs32 && bIs32 {
		switch op {
		case "and":
			return x32 & y32
		case "or":
			return x32 | y32
		}
		return x32 ^ y32
	}
	x, _ := ToInt64(a)
	y, _ := ToInt64(b)
	switch op {
	case "and":
		return x & y
	case "or":
		return x | y
	}
	return x ^ y
}
