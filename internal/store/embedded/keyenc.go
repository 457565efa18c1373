package embedded

import (
	"encoding/binary"
	"math"
	"math/big"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Key encoding.
//
// Primary keys (_id) and index entries are stored as byte strings whose
// bytewise order equals mql.Compare order, so that SQLite's BLOB order
// (memcmp) serves range scans. Each encoded value starts with a byte for
// its canonical type rank, followed by a payload that is prefix-free, so a
// compound key is the plain concatenation of its components.
//
//   - numbers (int32, int64, double, exact decimals): the value rounded
//     to a double, in sign-flipped IEEE order, then the signed difference
//     between the exact integer and that double (zero for doubles), then
//     0x00; so 2^53+1 as an int64 sorts just after 2^53, and 1, 1.0,
//     NumberLong(1) and NumberDecimal("1") encode the same. -0 encodes as
//     0; NaN sorts below every number, as in MongoDB.
//   - strings and symbols: the UTF-8 bytes with 0x00 escaped as 0x00 0xFF,
//     terminated by 0x00 0x01 (bytewise order = Go string order).
//   - documents and arrays: element by element (documents: type rank, key,
//     value), each element preceded by 0x01 and the end marked by 0x00, so a
//     shorter prefix sorts first.
//   - binary: length, subtype, bytes (MongoDB orders by length first).
//   - ObjectId: its 12 bytes; bool: 0 or 1; date: sign-flipped int64;
//     timestamp: T then I, big-endian.
//
// Cases that are not ordered exactly (documented in docs/compat.md):
//   - A Decimal128 that equals an int64 or a double exactly encodes as
//     that number (NumberDecimal("1") and 1 share a key). Any other
//     decimal encodes as its nearest double followed by its exact value as
//     a reduced fraction, so equal decimals share a key, distinct ones never
//     collide, and none equals another number's key, but their order relative to numbers with the same nearest
//     double is approximate. Index scans are followed by an exact mql
//     check, so queries stay correct; only _id order among such values may
//     differ from MongoDB's.
//   - JavaScript-with-scope, DBPointer: encoded by their fields in order;
//     ordering among them follows MongoDB's but they are not expected as
//     keys.

// type rank bytes, in mql.Compare's order.
const (
	kMinKey    = 0x01
	kUndefined = 0x02
	kNull      = 0x05
	kNumber    = 0x0A
	kString    = 0x0F
	kObject    = 0x14
	kArray     = 0x19
	kBinary    = 0x1E
	kObjectID  = 0x23
	kBool      = 0x28
	kDate      = 0x2D
	kTimestamp = 0x2F
	kRegex     = 0x32
	kDBPointer = 0x37
	kCode      = 0x3C
	kCodeScope = 0x41
	kMaxKey    = 0x7F
)

// rankByte returns the type rank byte of v.
func rankByte(v any) byte {
	switch v.(type) {
	case nil, bson.Null:
		return kNull
	case float64, int32, int64, bson.Decimal128, int:
		return kNumber
	case string, bson.Symbol:
		return kString
	case bson.D, bson.M:
		return kObject
	case bson.A:
		return kArray
	case bson.Binary:
		return kBinary
	case bson.ObjectID:
		return kObjectID
	case bool:
		return kBool
	case bson.DateTime:
		return kDate
	case bson.Timestamp:
		return kTimestamp
	case bson.Regex:
		return kRegex
	case bson.DBPointer:
		return kDBPointer
	case bson.JavaScript:
		return kCode
	case bson.CodeWithScope:
		return kCodeScope
	case bson.MinKey:
		return kMinKey
	case bson.MaxKey:
		return kMaxKey
	case bson.Undefined:
		return kUndefined
	}
	return kMaxKey
}

// appendKey appends the order-preserving encoding of v to b.
func appendKey(b []byte, v any) []byte {
	r := rankByte(v)
	b = append(b, r)
	return appendPayload(b, v)
}

func appendPayload(b []byte, v any) []byte {
	switch x := v.(type) {
	case int32:
		return appendNumber(b, float64(x), 0)
	case int:
		return appendInt(b, int64(x))
	case int64:
		return appendInt(b, x)
	case float64:
		return appendNumber(b, x, 0)
	case bson.Decimal128:
		return appendDecimal(b, x)
	case string:
		return appendString(b, x)
	case bson.Symbol:
		return appendString(b, string(x))
	case bson.D:
		for _, e := range x {
			b = append(b, 0x01, rankByte(e.Value))
			b = appendString(b, e.Key)
			b = appendPayload(b, e.Value)
		}
		return append(b, 0x00)
	case bson.M:
		// Not normal form; callers normalize first. Encode as empty.
		return append(b, 0x00)
	case bson.A:
		for _, e := range x {
			b = append(b, 0x01)
			b = appendKey(b, e)
		}
		return append(b, 0x00)
	case bson.Binary:
		b = binary.BigEndian.AppendUint32(b, uint32(len(x.Data)))
		b = append(b, x.Subtype)
		return append(b, x.Data...)
	case bson.ObjectID:
		return append(b, x[:]...)
	case bool:
		if x {
			return append(b, 1)
		}
		return append(b, 0)
	case bson.DateTime:
		return binary.BigEndian.AppendUint64(b, uint64(x)^(1<<63))
	case bson.Timestamp:
		b = binary.BigEndian.AppendUint32(b, x.T)
		return binary.BigEndian.AppendUint32(b, x.I)
	case bson.Regex:
		b = appendString(b, x.Pattern)
		return appendString(b, x.Options)
	case bson.DBPointer:
		b = binary.BigEndian.AppendUint32(b, uint32(len(x.DB)))
		b = appendString(b, x.DB)
		return append(b, x.Pointer[:]...)
	case bson.JavaScript:
		return appendString(b, string(x))
	case bson.CodeWithScope:
		b = appendString(b, string(x.Code))
		if d, ok := x.Scope.(bson.D); ok {
			return appendPayload(b, d)
		}
		return append(b, 0x00)
	}
	return b
}

// sortableFloat maps a double to a uint64 whose unsigned order is the
// double's numeric order; NaN maps below everything.
func sortableFloat(f float64) uint64 {
	if math.IsNaN(f) {
		return 0
	}
	if f == 0 {
		f = 0 // fold -0 into +0
	}
	u := math.Float64bits(f)
	if u&(1<<63) != 0 {
		return ^u
	}
	return u | (1 << 63)
}

// appendNumber writes the double part, the integer correction and the
// exact marker 0x00.
func appendNumber(b []byte, f float64, diff int64) []byte {
	b = binary.BigEndian.AppendUint64(b, sortableFloat(f))
	b = binary.BigEndian.AppendUint64(b, uint64(diff)^(1<<63))
	return append(b, 0x00)
}

// appendDecimal encodes a Decimal128 like the int64 or double it equals
// exactly, when there is one (so NumberDecimal("1") and 1 share a key);
// otherwise as its nearest double, the marker 0x01 and its exact value as
// a reduced fraction, which keeps distinct decimals distinct, equal ones
// equal, and orders them only approximately.
func appendDecimal(b []byte, d bson.Decimal128) []byte {
	bi, exp, err := d.BigInt()
	if err != nil { // NaN or an infinity
		f, _ := decimalToFloat(d)
		return appendNumber(b, f, 0)
	}
	r := new(big.Rat).SetInt(bi)
	if exp != 0 {
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil)
		if exp > 0 {
			r.Mul(r, new(big.Rat).SetInt(p))
		} else {
			r.Quo(r, new(big.Rat).SetInt(p))
		}
	}
	if r.IsInt() && r.Num().IsInt64() {
		return appendInt(b, r.Num().Int64())
	}
	f, exact := r.Float64()
	if exact {
		return appendNumber(b, f, 0)
	}
	b = binary.BigEndian.AppendUint64(b, sortableFloat(f))
	b = binary.BigEndian.AppendUint64(b, 1<<63)
	b = append(b, 0x01)
	// The exact value in lowest terms, so equal decimals (0.1, 0.10)
	// share a key.
	return appendString(b, r.RatString())
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// appendInt encodes an int64 as its nearest double plus the exact
// difference, so integers beyond 2^53 keep their order and equality with
// doubles is exact.
func appendInt(b []byte, i int64) []byte {
	f := float64(i)
	var diff int64
	if f >= 9223372036854775808.0 { // 2^63: i rounded up past MaxInt64
		diff = (i - math.MaxInt64) - 1
	} else {
		diff = i - int64(f)
	}
	return appendNumber(b, f, diff)
}

// appendString writes s escaped and terminated.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			b = append(b, 0x00, 0xFF)
			continue
		}
		b = append(b, c)
	}
	return append(b, 0x00, 0x01)
}

// decimalToFloat converts a Decimal128 to its nearest double.
func decimalToFloat(d bson.Decimal128) (float64, bool) {
	bi, exp, err := d.BigInt()
	if err != nil {
		s := d.String()
		switch s {
		case "Infinity":
			return math.Inf(1), true
		case "-Infinity":
			return math.Inf(-1), true
		}
		return math.NaN(), true
	}
	f, _ := new(big.Float).SetInt(bi).Float64()
	return f * math.Pow10(exp), true
}

// rankEnd returns the smallest key above every key of the rank r.
func rankEnd(r byte) []byte { return []byte{r + 1} }

// prefixEnd returns the smallest byte string greater than every string
// that starts with p (nil when there is none).
func prefixEnd(p []byte) []byte {
	out := append([]byte(nil), p...)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] < 0xFF {
			out[i]++
			return out[:i+1]
		}
	}
	return nil
}
