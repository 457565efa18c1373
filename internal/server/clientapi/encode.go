package clientapi

import (
	"bytes"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Canonical Extended JSON for results and change events. The driver's
// bson.MarshalExtJSON goes through reflection and its value-writer state
// machine; on a find of 20 small documents it was ~28% of the handler's
// CPU. Results are almost always documents, arrays, strings, numbers,
// booleans, null, ObjectIds and dates, so those are written directly here,
// byte-for-byte as the driver writes them (held by a differential test and
// a fuzz target); any other type is handed to the driver.

var encodeBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// appendCanonical encodes v as canonical Extended JSON into buf.
func appendCanonical(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bson.D:
		buf.WriteByte('{')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, e.Key)
			buf.WriteByte(':')
			if err := appendCanonical(buf, e.Value); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case bson.A:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := appendCanonical(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case string:
		writeJSONString(buf, x)
	case bool:
		if x {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case int32:
		buf.WriteString(`{"$numberInt":"`)
		buf.WriteString(strconv.FormatInt(int64(x), 10))
		buf.WriteString(`"}`)
	case int64:
		buf.WriteString(`{"$numberLong":"`)
		buf.WriteString(strconv.FormatInt(x, 10))
		buf.WriteString(`"}`)
	case float64:
		buf.WriteString(`{"$numberDouble":"`)
		buf.WriteString(canonicalDouble(x))
		buf.WriteString(`"}`)
	case bson.ObjectID:
		var h [24]byte
		hex.Encode(h[:], x[:])
		buf.WriteString(`{"$oid":"`)
		buf.Write(h[:])
		buf.WriteString(`"}`)
	case bson.DateTime:
		buf.WriteString(`{"$date":{"$numberLong":"`)
		buf.WriteString(strconv.FormatInt(int64(x), 10))
		buf.WriteString(`"}}`)
	default:
		b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
		if err != nil {
			return err
		}
		const prefix = `{"v":`
		buf.Write(b[len(prefix) : len(b)-1])
	}
	return nil
}

// canonicalDouble formats a double the way canonical Extended JSON
// spells it: shortest round-trip form, `.0` on integral values, and the
// names of the special values.
func canonicalDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	s := strconv.FormatFloat(f, 'G', -1, 64)
	if !strings.ContainsAny(s, "E.") {
		s += ".0"
	}
	return s
}

const hexDigits = "0123456789abcdef"

// writeJSONString writes s as a JSON string without HTML escaping:
// quotes, backslashes and control characters escaped, invalid UTF-8
// replaced by U+FFFD, and U+2028/U+2029 escaped (they end lines in
// JavaScript).
func writeJSONString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			buf.WriteString(s[start:i])
			switch b {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(b)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			case '\t':
				buf.WriteString(`\t`)
			case '\b':
				buf.WriteString(`\b`)
			case '\f':
				buf.WriteString(`\f`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[b>>4])
				buf.WriteByte(hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(s[start:i])
			buf.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf.WriteString(s[start:i])
			buf.WriteString(`\u202`)
			buf.WriteByte(hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}
