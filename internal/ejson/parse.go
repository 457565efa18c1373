package ejson

import (
	"math"
	"strconv"
	"sync"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ParseDocument parses b, which must hold one Extended JSON object
// (canonical or relaxed), into a bson.D, giving exactly what
// bson.UnmarshalExtJSON(b, false, &d) gives, error-ness included.
//
// Plain JSON and the wrappers for ObjectIds, 32- and 64-bit integers,
// doubles, canonical dates and undefined are read directly. Anything
// else (another wrapper, a malformed one, a number or escape the driver
// reads in a peculiar way, any syntax error, trailing bytes after the
// document) makes the whole input go to the driver, so every error
// comes from the driver.
//
// The strings of a document read directly share one copy of b, so
// keeping any of them keeps that copy; b itself is not retained.
func ParseDocument(b []byte) (bson.D, error) {
	if d, ok := parseFast(b); ok {
		return d, nil
	}
	var d bson.D
	err := bson.UnmarshalExtJSON(b, false, &d)
	return d, err
}

// parseFast reads b if it sticks to the forms the reader knows to
// decode exactly as the driver does; ok is false otherwise.
func parseFast(b []byte) (d bson.D, ok bool) {
	r := readers.Get().(*reader)
	defer r.release()
	r.b, r.i, r.depth = b, 0, 0
	r.skipSpace()
	if !r.eat('{') {
		return nil, false
	}
	r.src = string(b)
	v, ok := r.object(true)
	if !ok {
		return nil, false
	}
	d = v.(bson.D)
	r.skipSpace()
	if r.i != len(r.b) {
		return nil, false
	}
	return d, true
}

// reader is the state of one parseFast call.
type reader struct {
	b     []byte
	i     int
	depth int // open objects and arrays, wrappers included

	// src is b as a string: strings without escapes are cut from it,
	// so a document costs one allocation for all of them. They keep
	// the whole text alive while any of them is.
	src string
	// rawStart and rawEnd place the last string read in src; rawStart
	// is -1 when it had escapes and was decoded into buf.
	rawStart, rawEnd int
	buf              []byte

	// elems and items hold the members of the documents and arrays
	// being read, innermost last, until each is complete and is
	// copied out at its exact size.
	elems []bson.E
	items []any
}

// readers keeps the scratch space of readers between calls.
var readers = sync.Pool{New: func() any { return new(reader) }}

// maxKept bounds the scratch space a reader keeps in the pool.
const maxKept = 1 << 10

// release returns r to the pool, without references into the text
// or the values read.
func (r *reader) release() {
	r.b, r.src = nil, ""
	clear(r.elems)
	clear(r.items)
	if cap(r.elems) > maxKept || cap(r.items) > maxKept || cap(r.buf) > maxKept {
		return
	}
	r.elems, r.items, r.buf = r.elems[:0], r.items[:0], r.buf[:0]
	readers.Put(r)
}

// wrapper identifies the first key of a nested object.
type wrapper int

const (
	notWrapper   wrapper = iota // an ordinary document
	otherWrapper                // a wrapper the driver is left to read
	oidWrapper
	int32Wrapper
	int64Wrapper
	doubleWrapper
	dateWrapper
	undefinedWrapper
)

// wrapperKind tells how the driver reads a nested object whose first
// key is key: every key it treats as a type wrapper, and nothing else,
// is a wrapper here. Other `$` keys ($gt, $set, $regex, $type, ...)
// start ordinary documents, for the driver as here.
func wrapperKind(key []byte) wrapper {
	if len(key) == 0 || key[0] != '$' {
		return notWrapper
	}
	switch string(key) {
	case "$oid":
		return oidWrapper
	case "$numberInt":
		return int32Wrapper
	case "$numberLong":
		return int64Wrapper
	case "$numberDouble":
		return doubleWrapper
	case "$date":
		return dateWrapper
	case "$undefined":
		return undefinedWrapper
	case "$symbol", "$numberDecimal", "$binary", "$code", "$scope", "$timestamp",
		"$regularExpression", "$dbPointer", "$minKey", "$maxKey", "$uuid":
		return otherWrapper
	}
	return notWrapper
}

func (r *reader) skipSpace() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// eat consumes c if it is the next byte.
func (r *reader) eat(c byte) bool {
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// open counts a '{' or '[' just consumed against MaxDepth. The driver
// limits only objects, to the same depth, so anything read here is
// within its limit.
func (r *reader) open() bool {
	r.depth++
	return r.depth <= MaxDepth
}

// object reads an object after its '{': a wrapper or a document. At
// the top level the driver treats no key as a wrapper.
func (r *reader) object(top bool) (any, bool) {
	if !r.open() {
		return nil, false
	}
	r.skipSpace()
	if r.eat('}') {
		r.depth--
		return bson.D{}, true
	}
	key, ok := r.key()
	if !ok {
		return nil, false
	}
	kind := notWrapper
	if !top {
		kind = wrapperKind(key)
	}
	switch kind {
	case notWrapper:
		return r.members(r.text(key))
	case otherWrapper:
		return nil, false
	default:
		return r.wrapped(kind)
	}
}

// key reads a member name and the colon after it. The result may point
// into r.buf, so it must be used before the next string is read.
func (r *reader) key() ([]byte, bool) {
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return nil, false
	}
	k, ok := r.str()
	if !ok {
		return nil, false
	}
	r.skipSpace()
	return k, r.eat(':')
}

// members reads the members of a document whose first key, with its
// colon, has been read, up to and including the closing '}'.
func (r *reader) members(key string) (bson.D, bool) {
	base := len(r.elems)
	for {
		v, ok := r.value()
		if !ok {
			return nil, false
		}
		r.elems = append(r.elems, bson.E{Key: key, Value: v})
		r.skipSpace()
		if r.eat('}') {
			r.depth--
			d := make(bson.D, len(r.elems)-base)
			copy(d, r.elems[base:])
			clear(r.elems[base:])
			r.elems = r.elems[:base]
			return d, true
		}
		if !r.eat(',') {
			return nil, false
		}
		r.skipSpace()
		k, ok := r.key()
		if !ok {
			return nil, false
		}
		key = r.text(k)
	}
}

// array reads an array after its '['.
func (r *reader) array() (bson.A, bool) {
	if !r.open() {
		return nil, false
	}
	r.skipSpace()
	if r.eat(']') {
		r.depth--
		return bson.A{}, true
	}
	base := len(r.items)
	for {
		v, ok := r.value()
		if !ok {
			return nil, false
		}
		r.items = append(r.items, v)
		r.skipSpace()
		if r.eat(']') {
			r.depth--
			a := make(bson.A, len(r.items)-base)
			copy(a, r.items[base:])
			clear(r.items[base:])
			r.items = r.items[:base]
			return a, true
		}
		if !r.eat(',') {
			return nil, false
		}
	}
}

// value reads any value, after optional white space. A value must be
// followed by white space, ',', '}' or ']', which the caller checks: the
// driver demands the same after numbers and literals.
func (r *reader) value() (any, bool) {
	r.skipSpace()
	if r.i >= len(r.b) {
		return nil, false
	}
	switch c := r.b[r.i]; c {
	case '{':
		r.i++
		return r.object(false)
	case '[':
		r.i++
		a, ok := r.array()
		return a, ok
	case '"':
		s, ok := r.str()
		if !ok {
			return nil, false
		}
		return r.text(s), true
	case 't':
		return true, r.literal("true")
	case 'f':
		return false, r.literal("false")
	case 'n':
		return nil, r.literal("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return r.number()
		}
		return nil, false
	}
}

// literal consumes lit if the input continues with it.
func (r *reader) literal(lit string) bool {
	if len(r.b)-r.i >= len(lit) && string(r.b[r.i:r.i+len(lit)]) == lit {
		r.i += len(lit)
		return true
	}
	return false
}

// str reads a string at its opening quote and returns its decoded
// bytes: a slice of the input when it holds no escapes, else r.buf.
// Like the driver, it keeps raw control characters and invalid UTF-8
// as they are.
func (r *reader) str() ([]byte, bool) {
	r.i++
	start := r.i
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case '"':
			r.rawStart, r.rawEnd = start, r.i
			r.i++
			return r.b[start : r.i-1], true
		case '\\':
			r.rawStart = -1
			r.buf = append(r.buf[:0], r.b[start:r.i]...)
			return r.escaped()
		}
		r.i++
	}
	return nil, false
}

// text returns the string whose decoded bytes s the last call of str
// returned.
func (r *reader) text(s []byte) string {
	if r.rawStart >= 0 {
		return r.src[r.rawStart:r.rawEnd]
	}
	return string(s)
}

// escaped continues str from the first backslash, decoding into r.buf.
func (r *reader) escaped() ([]byte, bool) {
	for r.i < len(r.b) {
		c := r.b[r.i]
		r.i++
		switch c {
		case '"':
			return r.buf, true
		case '\\':
			if !r.escape() {
				return nil, false
			}
		default:
			r.buf = append(r.buf, c)
		}
	}
	return nil, false
}

// escape decodes the escape after a backslash into r.buf. It refuses
// \u escapes with bad hex digits and surrogates that do not form a
// pair: the driver writes replacement characters for those, in ways
// not worth copying.
func (r *reader) escape() bool {
	if r.i >= len(r.b) {
		return false
	}
	c := r.b[r.i]
	r.i++
	switch c {
	case '"', '\\', '/':
		r.buf = append(r.buf, c)
	case 'b':
		r.buf = append(r.buf, '\b')
	case 'f':
		r.buf = append(r.buf, '\f')
	case 'n':
		r.buf = append(r.buf, '\n')
	case 'r':
		r.buf = append(r.buf, '\r')
	case 't':
		r.buf = append(r.buf, '\t')
	case 'u':
		rn, ok := r.hex4()
		if !ok || rn >= 0xdc00 && rn <= 0xdfff {
			return false
		}
		if rn >= 0xd800 && rn <= 0xdbff {
			if !r.eat('\\') || !r.eat('u') {
				return false
			}
			lo, ok := r.hex4()
			if !ok || lo < 0xdc00 || lo > 0xdfff {
				return false
			}
			rn = 0x10000 + (rn-0xd800)<<10 + (lo - 0xdc00)
		}
		r.buf = utf8.AppendRune(r.buf, rn)
	default:
		return false
	}
	return true
}

// hex4 reads the four hex digits of a \u escape.
func (r *reader) hex4() (rune, bool) {
	if len(r.b)-r.i < 4 {
		return 0, false
	}
	var rn rune
	for _, c := range r.b[r.i : r.i+4] {
		d, ok := hexValue(c)
		if !ok {
			return 0, false
		}
		rn = rn<<4 | rune(d)
	}
	r.i += 4
	return rn, true
}

func hexValue(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// number reads a relaxed JSON number as the driver does: an integer is
// an int32 when it fits, else an int64, else a double; a fraction or
// exponent makes a double. -0 is the int32 0. A double out of range is
// an error for the driver, so it is refused here.
func (r *reader) number() (any, bool) {
	start := r.i
	r.eat('-')
	digits := r.i
	switch {
	case r.eat('0'):
	case r.i < len(r.b) && r.b[r.i] >= '1' && r.b[r.i] <= '9':
		r.digits()
	default:
		return nil, false
	}
	integral := r.i - digits
	isFloat := false
	if r.eat('.') {
		isFloat = true
		if r.digits() == 0 {
			return nil, false
		}
	}
	if r.eat('e') || r.eat('E') {
		isFloat = true
		if !r.eat('+') {
			r.eat('-')
		}
		if r.digits() == 0 {
			return nil, false
		}
	}
	text := r.b[start:r.i]
	if !isFloat {
		var n int64
		if integral <= 18 {
			for _, c := range r.b[digits:r.i] {
				n = n*10 + int64(c-'0')
			}
			if digits > start {
				n = -n
			}
		} else {
			var err error
			if n, err = strconv.ParseInt(string(text), 10, 64); err != nil {
				return parseFloat(text)
			}
		}
		if n == int64(int32(n)) {
			return int32(n), true
		}
		return n, true
	}
	return parseFloat(text)
}

// digits consumes decimal digits and returns how many.
func (r *reader) digits() int {
	start := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	return r.i - start
}

func parseFloat(text []byte) (any, bool) {
	f, err := strconv.ParseFloat(string(text), 64)
	return f, err == nil
}

// wrapped reads the rest of a wrapper object of a kind read here, from
// after the colon that follows its key to its closing '}'. The driver
// wants exactly one member, whose value has the one JSON type the
// wrapper takes; the text is then read with the functions the driver
// uses.
func (r *reader) wrapped(kind wrapper) (v any, ok bool) {
	r.skipSpace()
	switch kind {
	case undefinedWrapper:
		v, ok = bson.Undefined{}, r.literal("true")
	case dateWrapper:
		v, ok = r.canonicalDate()
	default:
		var s []byte
		if s, ok = r.stringValue(); ok {
			v, ok = wrappedString(kind, s)
		}
	}
	if !ok {
		return nil, false
	}
	r.skipSpace()
	if !r.eat('}') {
		return nil, false
	}
	r.depth--
	return v, true
}

// stringValue reads a string where a value is expected.
func (r *reader) stringValue() ([]byte, bool) {
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return nil, false
	}
	return r.str()
}

// wrappedString decodes the string held by an $oid, $numberInt,
// $numberLong or $numberDouble wrapper.
func wrappedString(kind wrapper, s []byte) (any, bool) {
	switch kind {
	case oidWrapper:
		return objectID(s)
	case int32Wrapper:
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil || n != int64(int32(n)) {
			return nil, false
		}
		return int32(n), true
	case int64Wrapper:
		n, err := strconv.ParseInt(string(s), 10, 64)
		return n, err == nil
	case doubleWrapper:
		return parseDouble(s)
	}
	return nil, false
}

// objectID decodes the 24 hex digits of an ObjectId, either case, as
// bson.ObjectIDFromHex does.
func objectID(s []byte) (any, bool) {
	if len(s) != 24 {
		return nil, false
	}
	var id bson.ObjectID
	for i := range id {
		hi, ok1 := hexValue(s[2*i])
		lo, ok2 := hexValue(s[2*i+1])
		if !ok1 || !ok2 {
			return nil, false
		}
		id[i] = hi<<4 | lo
	}
	return id, true
}

// parseDouble decodes the text of $numberDouble: the driver's three
// names for the special values, or what strconv.ParseFloat accepts.
func parseDouble(s []byte) (any, bool) {
	switch string(s) {
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	case "NaN":
		return math.NaN(), true
	}
	return parseFloat(s)
}

// canonicalDate reads the {"$numberLong": "..."} object of a canonical
// $date. Relaxed dates (a string or a number) go to the driver.
func (r *reader) canonicalDate() (any, bool) {
	if !r.eat('{') || !r.open() {
		return nil, false
	}
	r.skipSpace()
	if key, ok := r.key(); !ok || string(key) != "$numberLong" {
		return nil, false
	}
	r.skipSpace()
	s, ok := r.stringValue()
	if !ok {
		return nil, false
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return nil, false
	}
	r.skipSpace()
	if !r.eat('}') {
		return nil, false
	}
	r.depth--
	return bson.DateTime(n), true
}
