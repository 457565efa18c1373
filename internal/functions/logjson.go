package functions

import (
	"strconv"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// appendCanonical appends v as canonical Extended JSON, byte for byte as
// bson.MarshalExtJSON writes it, for the values function results are
// mostly made of (documents, arrays, strings, int32, int64, booleans,
// null, ObjectIds, dates); ok is false for anything else, and the caller
// then uses the driver's encoder. The app log renders every call's
// arguments and result, and the driver's reflection-based encoder was
// the larger part of writing a log entry.
func appendCanonical(b []byte, v any, depth int) ([]byte, bool) {
	if depth > maxDepth {
		return b, false
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case bool:
		return strconv.AppendBool(b, x), true
	case string:
		if !utf8.ValidString(x) {
			return b, false
		}
		return appendJSONString(b, x), true
	case int32:
		b = append(b, `{"$numberInt":"`...)
		b = strconv.AppendInt(b, int64(x), 10)
		return append(b, `"}`...), true
	case int64:
		b = append(b, `{"$numberLong":"`...)
		b = strconv.AppendInt(b, x, 10)
		return append(b, `"}`...), true
	case bson.ObjectID:
		b = append(b, `{"$oid":"`...)
		b = append(b, x.Hex()...)
		return append(b, `"}`...), true
	case bson.DateTime:
		b = append(b, `{"$date":{"$numberLong":"`...)
		b = strconv.AppendInt(b, int64(x), 10)
		return append(b, `"}}`...), true
	case bson.Undefined:
		return append(b, `{"$undefined":true}`...), true
	case bson.D:
		b = append(b, '{')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if !utf8.ValidString(e.Key) {
				return b, false
			}
			b = appendJSONString(b, e.Key)
			b = append(b, ':')
			var ok bool
			if b, ok = appendCanonical(b, e.Value, depth+1); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	case bson.A:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendCanonical(b, e, depth+1); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	}
	return b, false
}

// appendJSONString appends s quoted with the driver's escapes: quote,
// backslash, \b \f \n \r \t, other control characters as \u00xx, and
// U+2028 and U+2029.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == '\u2028' || r == '\u2029' {
				b = append(b, s[start:i]...)
				b = append(b, `\u202`...)
				b = append(b, hex[r&0xf])
				start = i + size
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, `\u00`...)
			b = append(b, hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
