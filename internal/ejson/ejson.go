// Package ejson reads and writes Extended JSON without the driver's
// reflection and state machines, for the shapes requests and results
// are almost always made of: documents, arrays, strings, numbers,
// booleans, null, undefined, ObjectIds and dates.
//
// Append writes BSON values as canonical Extended JSON, byte for byte
// as the driver's bson.MarshalExtJSON writes them; any other type is
// handed to the driver. ParseDocument reads a canonical or relaxed
// Extended JSON object into a bson.D, exactly as bson.UnmarshalExtJSON
// reads it; any input it is not sure to read the same way, errors
// included, is handed to the driver. Differential tests and fuzz
// targets hold each side to the driver.
//
// It is a leaf package: the client API writes results and change events
// with it (and can read request bodies with ParseDocument), and the
// functions engine the arguments and results it logs.
package ejson

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// MaxDepth is the deepest nesting of documents and arrays Append
// encodes; deeper values (or a slice that contains itself) are refused
// with ErrTooDeep.
const MaxDepth = 200

// ErrTooDeep is returned for a value nested deeper than MaxDepth.
var ErrTooDeep = errors.New("ejson: value nested too deeply")

// Append appends v to b as canonical Extended JSON.
func Append(b []byte, v any) ([]byte, error) {
	return appendValue(b, v, 0)
}

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendString(b, x), nil
	case int32:
		b = append(b, `{"$numberInt":"`...)
		b = strconv.AppendInt(b, int64(x), 10)
		return append(b, `"}`...), nil
	case int64:
		b = append(b, `{"$numberLong":"`...)
		b = strconv.AppendInt(b, x, 10)
		return append(b, `"}`...), nil
	case float64:
		b = append(b, `{"$numberDouble":"`...)
		b = appendDouble(b, x)
		return append(b, `"}`...), nil
	case bson.ObjectID:
		b = append(b, `{"$oid":"`...)
		for _, c := range x {
			b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
		}
		return append(b, `"}`...), nil
	case bson.DateTime:
		b = append(b, `{"$date":{"$numberLong":"`...)
		b = strconv.AppendInt(b, int64(x), 10)
		return append(b, `"}}`...), nil
	case bson.Undefined:
		return append(b, `{"$undefined":true}`...), nil
	case bson.D:
		if depth >= MaxDepth {
			return b, ErrTooDeep
		}
		b = append(b, '{')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e.Key)
			b = append(b, ':')
			if b, err = appendValue(b, e.Value, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case bson.A:
		if depth >= MaxDepth {
			return b, ErrTooDeep
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, e, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
	out, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
	if err != nil {
		return b, err
	}
	const prefix = `{"v":`
	return append(b, out[len(prefix):len(out)-1]...), nil
}

// appendDouble writes a double the way canonical Extended JSON spells
// it: the shortest form that reads back the same, `.0` on integral
// values, and the names of the special values.
func appendDouble(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'G', -1, 64)
	if !bytes.ContainsAny(b[start:], "E.") {
		b = append(b, ".0"...)
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way the driver does:
// quotes, backslashes and control characters escaped (no HTML
// escaping), invalid UTF-8 replaced by U+FFFD, and U+2028 and U+2029
// escaped (they end lines in JavaScript).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			case '\b':
				b = append(b, `\b`...)
			case '\f':
				b = append(b, `\f`...)
			default:
				b = append(b, `\u00`...)
				b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
