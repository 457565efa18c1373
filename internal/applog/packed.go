package applog

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Field names of a packed chunk (see chunkOf).
const (
	fieldDeflated = "deflated"
	fieldTypes    = "types"
)

// truncMark ends a cut field.
const truncMark = "…(truncated)"

// packedEntries is a sequence of entries encoded as BSON documents, one
// after the other in data, with what the writer needs of each without
// decoding it.
type packedEntries struct {
	data []byte
	ents []entryMeta
}

// entryMeta describes one entry of a packedEntries.
type entryMeta struct {
	end int // offset in data just after the entry's document
	id  bson.ObjectID
	typ string
}

// maxEntryBytes bounds one encoded entry. The bounds on its fields leave
// it far smaller, unless it has a great many console lines.
const maxEntryBytes = 8 << 20

// add appends e, with _id id and time t, to p, unless it encodes to more
// than maxEntryBytes.
func (p *packedEntries) add(e *Entry, id bson.ObjectID, t time.Time) bool {
	start := len(p.data)
	p.data = appendEntry(p.data, e, id, t)
	if len(p.data)-start > maxEntryBytes {
		p.data = p.data[:start]
		return false
	}
	p.ents = append(p.ents, entryMeta{end: len(p.data), id: id, typ: e.Type})
	return true
}

// addFrom appends entry i of q to p.
func (p *packedEntries) addFrom(q *packedEntries, i int) {
	start := 0
	if i > 0 {
		start = q.ents[i-1].end
	}
	m := q.ents[i]
	p.data = append(p.data, q.data[start:m.end]...)
	m.end = len(p.data)
	p.ents = append(p.ents, m)
}

// reset empties p, keeping its buffers unless they grew past keepBytes
// (a burst of large entries does not pin its memory).
func (p *packedEntries) reset() {
	const keepBytes = 4 << 20
	if cap(p.data) > keepBytes {
		p.data = nil
	}
	clear(p.ents) // drop the type strings
	p.data, p.ents = p.data[:0], p.ents[:0]
}

// appendEntry appends e as the BSON document Read returns for it:
// {_id, ts, type, name, duration_ms, user_id, system, trigger, logs,
// [arguments], [error | result]}, with the size bounds applied.
func appendEntry(dst []byte, e *Entry, id bson.ObjectID, t time.Time) []byte {
	start, dst := bsoncore.ReserveLength(dst)
	dst = bsoncore.AppendObjectIDElement(dst, "_id", id)
	dst = bsoncore.AppendDateTimeElement(dst, "ts", int64(bson.NewDateTimeFromTime(t)))
	dst = bsoncore.AppendStringElement(dst, "type", e.Type)
	dst = bsoncore.AppendStringElement(dst, "name", e.Name)
	dst = bsoncore.AppendDoubleElement(dst, "duration_ms", float64(e.Duration.Microseconds())/1000)
	dst = bsoncore.AppendStringElement(dst, "user_id", e.UserID)
	dst = bsoncore.AppendBooleanElement(dst, "system", e.System)
	dst = bsoncore.AppendStringElement(dst, "trigger", e.Trigger)
	dst = appendLogs(dst, e.Logs)
	if e.Arguments != "" {
		dst = appendCutString(dst, "arguments", e.Arguments, MaxFieldBytes)
	}
	if e.Error != "" {
		dst = appendCutString(dst, "error", e.Error, MaxFieldBytes)
	} else if e.Result != "" {
		dst = appendCutString(dst, "result", e.Result, MaxFieldBytes)
	}
	dst = append(dst, 0)
	return bsoncore.UpdateLength(dst, start, int32(len(dst)-int(start)))
}

// appendLogs appends the array "logs": the console lines, together cut
// to MaxLogBytes (the line crossing the bound is cut, keeping at least
// 32 bytes of it, and is the last one).
func appendLogs(dst []byte, logs []string) []byte {
	start, dst := bsoncore.AppendArrayElementStart(dst, "logs")
	total := 0
	for i, l := range logs {
		dst = append(dst, byte(bsoncore.TypeString))
		dst = strconv.AppendInt(dst, int64(i), 10)
		dst = append(dst, 0)
		if total+len(l) > MaxLogBytes {
			dst = appendCut(dst, l, max(MaxLogBytes-total, 32))
			break
		}
		total += len(l)
		dst = bsoncore.AppendString(dst, l)
	}
	dst = append(dst, 0)
	return bsoncore.UpdateLength(dst, start, int32(len(dst)-int(start)))
}

// appendCutString appends the string element key: s cut to n bytes.
func appendCutString(dst []byte, key, s string, n int) []byte {
	dst = bsoncore.AppendHeader(dst, bsoncore.TypeString, key)
	return appendCut(dst, s, n)
}

// appendCut appends the BSON string value cut(s, n) without building it.
func appendCut(dst []byte, s string, n int) []byte {
	if len(s) <= n {
		return bsoncore.AppendString(dst, s)
	}
	head := s[:cutAt(s, n)]
	dst = bsoncore.AppendInt32(dst, int32(len(head)+len(truncMark)+1))
	dst = append(dst, head...)
	dst = append(dst, truncMark...)
	return append(dst, 0)
}

// cutAt is where cut ends the kept part of s (longer than n): n less
// the mark, moved back to a rune boundary.
func cutAt(s string, n int) int {
	i := n - len(truncMark)
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return i
}

// chunkOf makes the document storing the entries of p, in the order they
// were recorded: {_id, n, last, types, deflated}, where n counts the
// entries, last is the greatest entry _id (for Query.After), types are
// the distinct entry types (for Query.Type) and deflated is a binary
// value: the entries' BSON documents, one after the other, compressed
// with DEFLATE (compress/flate). The store copies the bytes as they are
// instead of encoding (and on delete decoding) hundreds of documents
// field by field, and compression cuts what it writes (the row, its
// change-feed record, the write-ahead log) by an order of magnitude, for
// less CPU than writing it would take. The document refers to z's
// buffer, which must not change until the document is stored.
func chunkOf(p *packedEntries, z *deflater) (chunk, error) {
	data, err := z.deflate(p.data)
	if err != nil {
		return chunk{}, err
	}
	id := bson.NewObjectID()
	last := p.ents[0].id
	types := bson.A{}
	for _, m := range p.ents {
		if bytes.Compare(m.id[:], last[:]) > 0 {
			last = m.id
		}
		if !containsString(types, m.typ) {
			types = append(types, m.typ)
		}
	}
	return chunk{
		doc: bson.D{
			{Key: "_id", Value: id},
			{Key: "n", Value: int32(len(p.ents))},
			{Key: "last", Value: last},
			{Key: fieldTypes, Value: types},
			{Key: fieldDeflated, Value: bson.Binary{Subtype: bson.TypeBinaryGeneric, Data: data}},
		},
		ref: chunkRef{id: id, n: len(p.ents)},
	}, nil
}

// deflater compresses chunks, reusing its compressor and buffer.
type deflater struct {
	zw  *flate.Writer
	buf bytes.Buffer
}

// deflate returns b compressed, in z's buffer (valid until the next call
// or abandon).
func (z *deflater) deflate(b []byte) ([]byte, error) {
	z.buf.Reset()
	if z.zw == nil {
		zw, err := flate.NewWriter(&z.buf, flate.BestSpeed)
		if err != nil {
			return nil, err
		}
		z.zw = zw
	} else {
		z.zw.Reset(&z.buf)
	}
	if _, err := z.zw.Write(b); err != nil {
		return nil, err
	}
	if err := z.zw.Close(); err != nil {
		return nil, err
	}
	return z.buf.Bytes(), nil
}

// abandon leaves z's buffer to whoever still holds the last result.
func (z *deflater) abandon() { z.buf = bytes.Buffer{} }

func containsString(a bson.A, s string) bool {
	for _, v := range a {
		if v == s {
			return true
		}
	}
	return false
}

var errPacked = errors.New("applog: corrupt packed chunk")

// maxInflated bounds a chunk's entries once inflated: the writer ends a
// chunk with the entry reaching MaxChunkBytes.
const maxInflated = MaxChunkBytes + maxEntryBytes

// unpack returns the entry documents of a chunk's deflated value, in
// order.
func unpack(deflated []byte) ([]bsoncore.Document, error) {
	zr := flate.NewReader(bytes.NewReader(deflated))
	data, err := io.ReadAll(io.LimitReader(zr, maxInflated+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errPacked, err)
	}
	if len(data) > maxInflated {
		return nil, fmt.Errorf("%w: more than %d bytes", errPacked, maxInflated)
	}
	var out []bsoncore.Document
	for len(data) > 0 {
		doc, rest, ok := bsoncore.ReadDocument(data)
		if !ok {
			return nil, errPacked
		}
		if err := doc.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", errPacked, err)
		}
		out = append(out, doc)
		data = rest
	}
	return out, nil
}
