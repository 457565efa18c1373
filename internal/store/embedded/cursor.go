package embedded

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

// scanBatch is how many stored documents a scanning cursor reads per
// query.
const scanBatch = 512

// streamFind returns a cursor that scans the collection in _id order a
// batch at a time, for queries unsorted or sorted by _id alone that read
// the whole table, so a
// large result is never held in memory. Between batches the cursor holds
// no connection and no snapshot: like a MongoDB cursor across getMores,
// it sees each document at most once, with the writes committed meanwhile
// ahead of its position. ok is false when the query is better served by
// findDocs.
func (c *collection) streamFind(filter bson.D, opts store.FindOptions) (store.Cursor, bool, error) {
	if err := validateNS(c.db, c.name); err != nil {
		return nil, false, err
	}
	if opts.Skip < 0 || opts.Limit < 0 {
		return nil, false, mqlErr(mql.CodeBadValue, "skip and limit must not be negative")
	}
	filter = normD(filter)
	m := c.s.cat.Load().get(c.db, c.name)
	if m == nil {
		return nil, false, nil
	}
	p := planFilter(m, filter)
	if !p.full {
		return nil, false, nil
	}
	desc := idSortDir(opts.Sort) == -1
	var proj *mql.Projection
	if len(opts.Projection) > 0 {
		var err error
		if proj, err = mql.CompileProjection(normD(opts.Projection)); err != nil {
			return nil, false, err
		}
	}
	mt, err := compileMatcher(filter, p)
	if err != nil {
		return nil, false, err
	}
	return &scanCursor{s: c.s, m: m, mt: mt, proj: proj, wantPos: proj != nil && projectionNeedsPosition(opts.Projection),
		skip: opts.Skip, limit: opts.Limit, desc: desc}, true, nil
}

// scanCursor reads a collection in _id order, batch by batch.
type scanCursor struct {
	s        *Store
	m        *collMeta
	mt       *matcher
	proj     *mql.Projection
	wantPos  bool
	after    []byte // the last key read
	desc     bool   // descending _id order
	skip     int64
	limit    int64
	returned int64
	buf      []bson.D
	cur      bson.D
	err      error
	done     bool
}

func (sc *scanCursor) Next(ctx context.Context) bool {
	for len(sc.buf) == 0 {
		if sc.done || sc.err != nil {
			return false
		}
		if err := ctx.Err(); err != nil {
			sc.err = err
			return false
		}
		sc.fill(ctx)
	}
	sc.cur, sc.buf = sc.buf[0], sc.buf[1:]
	return true
}

func (sc *scanCursor) fill(ctx context.Context) {
	r := &reader{s: sc.s, cat: sc.s.cat.Load()}
	t := sc.m.table()
	read := 0
	visit := func(k, raw []byte) (bool, error) {
		read++
		sc.after = append(sc.after[:0], k...)
		doc, err := decodeDoc(raw)
		if err != nil {
			return false, err
		}
		ok, pos := sc.mt.match(doc, sc.wantPos)
		if !ok {
			return true, nil
		}
		if sc.skip > 0 {
			sc.skip--
			return true, nil
		}
		if sc.proj != nil {
			if doc, err = sc.proj.Apply(doc, pos); err != nil {
				return false, err
			}
		}
		sc.buf = append(sc.buf, doc)
		sc.returned++
		if sc.limit > 0 && sc.returned >= sc.limit {
			sc.done = true
			return false, nil
		}
		return true, nil
	}
	err := func() error {
		var q string
		var args []any
		order, cmp := ` ORDER BY k LIMIT ?`, ` > ?`
		if sc.desc {
			order, cmp = ` ORDER BY k DESC LIMIT ?`, ` < ?`
		}
		if sc.after == nil {
			q = `SELECT k, doc FROM ` + t + order
			args = []any{scanBatch}
		} else {
			q = `SELECT k, doc FROM ` + t + ` WHERE k` + cmp + order
			args = []any{append([]byte(nil), sc.after...), scanBatch}
		}
		rows, err := r.query(ctx, q, args...)
		if err != nil {
			if noSuchTable(err) {
				return nil // dropped meanwhile: the cursor ends
			}
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k, raw []byte
			if err := rows.Scan(&k, &raw); err != nil {
				return err
			}
			more, err := visit(k, raw)
			if err != nil || !more {
				return err
			}
		}
		return rows.Err()
	}()
	if err != nil {
		sc.err = err
		return
	}
	if read < scanBatch {
		sc.done = true
	}
}

func (sc *scanCursor) Doc() bson.D { return sc.cur }
func (sc *scanCursor) Err() error  { return sc.err }

func (sc *scanCursor) Close(ctx context.Context) error {
	sc.done = true
	sc.buf = nil
	return nil
}
