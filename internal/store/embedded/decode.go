package embedded

import (
	"encoding/binary"
	"errors"
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// decodeBSON decodes a stored document into bson.D (nested documents
// bson.D, arrays bson.A), the form package mql works on. It is a direct
// decoder for speed (full scans decode every document); the rare types it
// does not handle fall back to the driver's decoder.
func decodeBSON(b []byte) (bson.D, error) {
	d, n, err := decodeDocument(b)
	if err == errFallback {
		var out bson.D
		if err := bson.Unmarshal(b, &out); err != nil {
			return nil, err
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, errCorrupt
	}
	return d, nil
}

var (
	errCorrupt  = errors.New("embedded: corrupt BSON document")
	errFallback = errors.New("fallback")
)

func decodeDocument(b []byte) (bson.D, int, error) {
	if len(b) < 5 {
		return nil, 0, errCorrupt
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	if n < 5 || n > len(b) || b[n-1] != 0 {
		return nil, 0, errCorrupt
	}
	d := make(bson.D, 0, 8)
	p := 4
	for p < n-1 {
		t := b[p]
		p++
		k, q, err := cstring(b, p, n)
		if err != nil {
			return nil, 0, err
		}
		p = q
		v, q, err := decodeValue(t, b, p, n)
		if err != nil {
			return nil, 0, err
		}
		p = q
		d = append(d, bson.E{Key: k, Value: v})
	}
	return d, n, nil
}

func decodeArray(b []byte) (bson.A, int, error) {
	if len(b) < 5 {
		return nil, 0, errCorrupt
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	if n < 5 || n > len(b) || b[n-1] != 0 {
		return nil, 0, errCorrupt
	}
	a := make(bson.A, 0, 4)
	p := 4
	for p < n-1 {
		t := b[p]
		p++
		_, q, err := cstring(b, p, n)
		if err != nil {
			return nil, 0, err
		}
		p = q
		v, q, err := decodeValue(t, b, p, n)
		if err != nil {
			return nil, 0, err
		}
		p = q
		a = append(a, v)
	}
	return a, n, nil
}

func cstring(b []byte, p, end int) (string, int, error) {
	for i := p; i < end; i++ {
		if b[i] == 0 {
			return string(b[p:i]), i + 1, nil
		}
	}
	return "", 0, errCorrupt
}

func need(p, k, end int) error {
	if k < 0 || p+k > end {
		return errCorrupt
	}
	return nil
}

func bstring(b []byte, p, end int) (string, int, error) {
	if err := need(p, 4, end); err != nil {
		return "", 0, err
	}
	l := int(int32(binary.LittleEndian.Uint32(b[p:])))
	p += 4
	if l < 1 || need(p, l, end) != nil {
		return "", 0, errCorrupt
	}
	return string(b[p : p+l-1]), p + l, nil
}

func decodeValue(t byte, b []byte, p, end int) (any, int, error) {
	switch t {
	case 0x01:
		if err := need(p, 8, end); err != nil {
			return nil, 0, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b[p:])), p + 8, nil
	case 0x02:
		return bstring(b, p, end)
	case 0x0E:
		s, q, err := bstring(b, p, end)
		return bson.Symbol(s), q, err
	case 0x0D:
		s, q, err := bstring(b, p, end)
		return bson.JavaScript(s), q, err
	case 0x03:
		d, n, err := decodeDocument(b[p:end])
		return d, p + n, err
	case 0x04:
		a, n, err := decodeArray(b[p:end])
		return a, p + n, err
	case 0x05:
		if err := need(p, 5, end); err != nil {
			return nil, 0, err
		}
		l := int(int32(binary.LittleEndian.Uint32(b[p:])))
		st := b[p+4]
		p += 5
		if err := need(p, l, end); err != nil {
			return nil, 0, err
		}
		data := append([]byte(nil), b[p:p+l]...)
		if st == 0x02 && len(data) >= 4 { // old binary: inner length prefix
			data = data[4:]
		}
		return bson.Binary{Subtype: st, Data: data}, p + l, nil
	case 0x06:
		return bson.Undefined{}, p, nil
	case 0x07:
		if err := need(p, 12, end); err != nil {
			return nil, 0, err
		}
		var id bson.ObjectID
		copy(id[:], b[p:p+12])
		return id, p + 12, nil
	case 0x08:
		if err := need(p, 1, end); err != nil {
			return nil, 0, err
		}
		return b[p] != 0, p + 1, nil
	case 0x09:
		if err := need(p, 8, end); err != nil {
			return nil, 0, err
		}
		return bson.DateTime(int64(binary.LittleEndian.Uint64(b[p:]))), p + 8, nil
	case 0x0A:
		return nil, p, nil
	case 0x0B:
		pat, q, err := cstring(b, p, end)
		if err != nil {
			return nil, 0, err
		}
		opt, q, err := cstring(b, q, end)
		if err != nil {
			return nil, 0, err
		}
		return bson.Regex{Pattern: pat, Options: opt}, q, nil
	case 0x10:
		if err := need(p, 4, end); err != nil {
			return nil, 0, err
		}
		return int32(binary.LittleEndian.Uint32(b[p:])), p + 4, nil
	case 0x11:
		if err := need(p, 8, end); err != nil {
			return nil, 0, err
		}
		return bson.Timestamp{I: binary.LittleEndian.Uint32(b[p:]), T: binary.LittleEndian.Uint32(b[p+4:])}, p + 8, nil
	case 0x12:
		if err := need(p, 8, end); err != nil {
			return nil, 0, err
		}
		return int64(binary.LittleEndian.Uint64(b[p:])), p + 8, nil
	case 0x13:
		if err := need(p, 16, end); err != nil {
			return nil, 0, err
		}
		l := binary.LittleEndian.Uint64(b[p:])
		h := binary.LittleEndian.Uint64(b[p+8:])
		return bson.NewDecimal128(h, l), p + 16, nil
	case 0xFF:
		return bson.MinKey{}, p, nil
	case 0x7F:
		return bson.MaxKey{}, p, nil
	}
	return nil, 0, errFallback
}
