package embedded

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"sort"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// reader runs queries either on the read pool (committed data) or, inside
// a transaction or a write operation, on the write connection (so that a
// transaction sees its own writes).
type reader struct {
	s      *Store
	w      *wtx
	cat    *catalog
	unlock func()
}

// readerFor returns the reader for ctx; the caller must call done.
func (s *Store) readerFor(ctx context.Context) *reader {
	if t := txFrom(ctx, s); t != nil {
		t.mu.Lock()
		if !t.ended {
			return &reader{s: s, w: t.w, cat: t.w.st.cat, unlock: t.mu.Unlock}
		}
		t.mu.Unlock()
	}
	return &reader{s: s, cat: s.cat.Load()}
}

func (r *reader) done() {
	if r.unlock != nil {
		r.unlock()
	}
}

// reader returns a reader on the writer's open transaction.
func (w *wtx) reader() *reader { return &reader{s: w.s, w: w, cat: w.st.cat} }

// stmtCache holds statements prepared on the read pool.
type stmtCache struct{ m sync.Map }

func (s *Store) rstmt(q string) (*sql.Stmt, error) {
	if v, ok := s.rstmts.m.Load(q); ok {
		return v.(*sql.Stmt), nil
	}
	st, err := s.rdb.Prepare(q)
	if err != nil {
		return nil, err
	}
	if v, loaded := s.rstmts.m.LoadOrStore(q, st); loaded {
		st.Close()
		return v.(*sql.Stmt), nil
	}
	return st, nil
}

func (r *reader) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if r.w != nil {
		st, err := r.w.stmt(q)
		if err != nil {
			return nil, err
		}
		return st.QueryContext(bg, args...)
	}
	st, err := r.s.rstmt(q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// noSuchTable reports the error of a query on a table dropped after the
// catalog snapshot was taken; such a collection reads as empty.
// A statement closed because its table was dropped counts the same.
func noSuchTable(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "no such table") || err.Error() == "sql: statement is closed")
}

// keyRange is a range of encoded keys: lo inclusive, hi exclusive (nil:
// unbounded), or an exact key when eq is set.
type keyRange struct {
	lo, hi []byte
	eq     bool
}

// plan is how a filter is read: the whole table, ranges of _id, or ranges
// of a secondary index. exact means the ranges alone decide the match.
type plan struct {
	idx    *indexMeta
	ranges []keyRange
	full   bool
	exact  bool
}

// plannable reports whether an operand's key encoding orders and equates
// it exactly with mql.Compare, so that an index range finds every match.
func plannable(v any) bool {
	switch x := v.(type) {
	case int32, int64, string, bson.ObjectID, bson.DateTime, bool:
		return true
	case float64:
		return x == x // not NaN
	}
	return false
}

// literalDoc reports whether v is a document (not an operator
// expression) whose key encoding equates exactly with mql.Equal.
func literalDoc(v any) bool {
	d, ok := v.(bson.D)
	if !ok || (len(d) > 0 && strings.HasPrefix(d[0].Key, "$")) {
		return false
	}
	return exactDeep(d)
}

func exactDeep(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bson.D:
		for _, e := range x {
			if !exactDeep(e.Value) {
				return false
			}
		}
		return true
	case bson.A:
		for _, e := range x {
			if !exactDeep(e) {
				return false
			}
		}
		return true
	case bson.Binary, bson.Timestamp, bson.MinKey, bson.MaxKey:
		return true
	}
	return plannable(v)
}

// clause is the index-usable part of one field's condition.
type clause struct {
	eqs      []any // equality or $in values
	lo, hi   any
	loIncl   bool
	hiIncl   bool
	hasRange bool
	pure     bool // the condition has nothing else
}

func analyze(v any) (clause, bool) {
	if plannable(v) {
		return clause{eqs: []any{v}, pure: true}, true
	}
	d, ok := v.(bson.D)
	if !ok || len(d) == 0 || !strings.HasPrefix(d[0].Key, "$") {
		return clause{}, false
	}
	c := clause{pure: true}
	var rank byte
	setRank := func(x any) bool {
		r := rankByte(x)
		if rank != 0 && r != rank {
			return false
		}
		rank = r
		return true
	}
	for _, e := range d {
		switch e.Key {
		case "$eq":
			if !plannable(e.Value) {
				c.pure = false
				continue
			}
			c.eqs = []any{e.Value}
		case "$in":
			a, ok := e.Value.(bson.A)
			if !ok {
				return clause{}, false
			}
			all := true
			for _, x := range a {
				if !plannable(x) {
					all = false
				}
			}
			if !all || len(a) == 0 {
				c.pure = false
				continue
			}
			c.eqs = append([]any(nil), a...)
		case "$gt", "$gte":
			if !plannable(e.Value) || !setRank(e.Value) {
				c.pure = false
				continue
			}
			c.hasRange = true
			c.lo, c.loIncl = e.Value, e.Key == "$gte"
		case "$lt", "$lte":
			if !plannable(e.Value) || !setRank(e.Value) {
				c.pure = false
				continue
			}
			c.hasRange = true
			c.hi, c.hiIncl = e.Value, e.Key == "$lte"
		default:
			c.pure = false
		}
	}
	if len(c.eqs) == 0 && !c.hasRange {
		return clause{}, false
	}
	return c, true
}

func (c clause) ranges() []keyRange {
	if len(c.eqs) > 0 {
		out := make([]keyRange, 0, len(c.eqs))
		seen := map[string]bool{}
		for _, v := range c.eqs {
			k := appendKey(nil, v)
			if seen[string(k)] {
				continue
			}
			seen[string(k)] = true
			out = append(out, keyRange{lo: k, hi: prefixEnd(k), eq: true})
		}
		return out
	}
	var rank byte
	if c.lo != nil {
		rank = rankByte(c.lo)
	} else {
		rank = rankByte(c.hi)
	}
	r := keyRange{lo: []byte{rank}, hi: rankEnd(rank)}
	if rank == kNumber {
		// Widen numeric bounds to every key with the bound's nearest
		// double: stored decimals that no double equals sit among those
		// keys in approximate order, and mql rechecks every candidate.
		if f, ok := mql.ToFloat64(c.lo); ok && c.lo != nil {
			r.lo = binary.BigEndian.AppendUint64([]byte{kNumber}, sortableFloat(f))
		}
		if f, ok := mql.ToFloat64(c.hi); ok && c.hi != nil {
			r.hi = prefixEnd(binary.BigEndian.AppendUint64([]byte{kNumber}, sortableFloat(f)))
		}
		return []keyRange{r}
	}
	if c.lo != nil {
		k := appendKey(nil, c.lo)
		if c.loIncl {
			r.lo = k
		} else {
			r.lo = prefixEnd(k)
		}
	}
	if c.hi != nil {
		k := appendKey(nil, c.hi)
		if c.hiIncl {
			r.hi = prefixEnd(k)
		} else {
			r.hi = k
		}
	}
	return []keyRange{r}
}

// planFilter picks how to read filter from collection m.
func planFilter(m *collMeta, filter bson.D) plan {
	type cand struct {
		field string
		c     clause
	}
	var cands []cand
	var add func(d bson.D)
	add = func(d bson.D) {
		for _, e := range d {
			if e.Key == "$and" {
				if a, ok := e.Value.(bson.A); ok {
					for _, x := range a {
						if xd, ok := x.(bson.D); ok {
							add(xd)
						}
					}
				}
				continue
			}
			if strings.HasPrefix(e.Key, "$") || hasNumericPart(e.Key) {
				continue
			}
			v := mql.Normalize(e.Value)
			if e.Key == "_id" && literalDoc(v) {
				// Equality with an embedded document: _id values are
				// never arrays, so the primary key decides exactly.
				cands = append(cands, cand{e.Key, clause{eqs: []any{v}, pure: true}})
				continue
			}
			if c, ok := analyze(v); ok {
				cands = append(cands, cand{e.Key, c})
			}
		}
	}
	add(filter)
	best := plan{full: true}
	score := 0
	for _, cd := range cands {
		if cd.field == "_id" {
			s := 2
			if len(cd.c.eqs) > 0 {
				s = 4
			}
			if s > score {
				score = s
				// Only equality is exact: numeric ranges are widened.
				best = plan{ranges: cd.c.ranges(), exact: cd.c.pure && len(cd.c.eqs) > 0 && len(filter) == 1 && filter[0].Key == "_id"}
			}
			continue
		}
		for _, x := range m.indexes {
			if x.filter != nil || x.paths[0] != cd.field {
				continue
			}
			s := 1
			if len(cd.c.eqs) > 0 {
				s = 3
			}
			if s > score {
				score = s
				c := cd.c
				if len(c.eqs) == 0 && c.lo != nil && c.hi != nil {
					// On an array field each bound may be met by a
					// different element (MongoDB matches {$gt: 1, $lt: 3}
					// against [0, 5]), so only one bound narrows the scan.
					c.hi = nil
				}
				best = plan{idx: x, ranges: c.ranges()}
			}
		}
	}
	return best
}

func hasNumericPart(path string) bool {
	for _, p := range strings.Split(path, ".") {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			return true
		}
	}
	return false
}

// scan calls fn with the key and stored bytes of each candidate of p; fn
// returns false to stop.
func (r *reader) scan(ctx context.Context, m *collMeta, p plan, fn func(k, raw []byte) (bool, error)) error {
	run := func(q string, args ...any) (bool, error) {
		rows, err := r.query(ctx, q, args...)
		if err != nil {
			if noSuchTable(err) {
				return false, nil
			}
			return false, err
		}
		defer rows.Close()
		for rows.Next() {
			var k, raw []byte
			if err := rows.Scan(&k, &raw); err != nil {
				return false, err
			}
			more, err := fn(k, raw)
			if err != nil || !more {
				return false, err
			}
		}
		if err := rows.Err(); err != nil && !noSuchTable(err) {
			return false, err
		}
		return true, nil
	}
	t := m.table()
	if p.full {
		_, err := run(`SELECT k, doc FROM ` + t)
		return err
	}
	if p.idx == nil {
		for _, kr := range p.ranges {
			var more bool
			var err error
			switch {
			case kr.eq:
				more, err = run(`SELECT k, doc FROM `+t+` WHERE k = ?`, kr.lo)
			case kr.hi == nil:
				more, err = run(`SELECT k, doc FROM `+t+` WHERE k >= ?`, kr.lo)
			default:
				more, err = run(`SELECT k, doc FROM `+t+` WHERE k >= ? AND k < ?`, kr.lo, kr.hi)
			}
			if err != nil || !more {
				return err
			}
		}
		return nil
	}
	seen := map[string]bool{}
	inner := fn
	fn = func(k, raw []byte) (bool, error) {
		if seen[string(k)] {
			return true, nil
		}
		seen[string(k)] = true
		return inner(k, raw)
	}
	xt := p.idx.table()
	for _, kr := range p.ranges {
		var more bool
		var err error
		if kr.hi == nil {
			more, err = run(`SELECT c.k, c.doc FROM `+xt+` AS x JOIN `+t+` AS c ON c.k = x.pk WHERE x.k >= ?`, kr.lo)
		} else {
			more, err = run(`SELECT c.k, c.doc FROM `+xt+` AS x JOIN `+t+` AS c ON c.k = x.pk WHERE x.k >= ? AND x.k < ?`, kr.lo, kr.hi)
		}
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// hit is one matching document.
type hit struct {
	k   []byte
	doc bson.D
	pos int
}

// matcher is a compiled filter (nil matches everything).
type matcher struct {
	f *mql.Filter
}

func compileMatcher(filter bson.D, p plan) (*matcher, error) {
	if len(filter) == 0 || p.exact {
		return &matcher{}, nil
	}
	f, err := mql.CompileFilter(filter)
	if err != nil {
		return nil, err
	}
	return &matcher{f: f}, nil
}

func (m *matcher) match(doc bson.D, wantPos bool) (bool, int) {
	if m.f == nil {
		return true, -1
	}
	if wantPos {
		return m.f.MatchPosition(doc)
	}
	return m.f.Match(doc), -1
}

// find returns the documents of m matching filter, in scan order, at most
// limit of them (0: all).
func (r *reader) find(ctx context.Context, m *collMeta, filter bson.D, limit int64, wantPos bool) ([]hit, error) {
	return r.findPlan(ctx, m, filter, planFilter(m, filter), limit, wantPos)
}

// findPlan is find with a plan chosen by the caller.
func (r *reader) findPlan(ctx context.Context, m *collMeta, filter bson.D, p plan, limit int64, wantPos bool) ([]hit, error) {
	mt, err := compileMatcher(filter, p)
	if err != nil {
		return nil, err
	}
	var out []hit
	err = r.scan(ctx, m, p, func(k, raw []byte) (bool, error) {
		doc, err := decodeDoc(raw)
		if err != nil {
			return false, err
		}
		ok, pos := mt.match(doc, wantPos)
		if ok {
			out = append(out, hit{k: k, doc: doc, pos: pos})
			if limit > 0 && int64(len(out)) >= limit {
				return false, nil
			}
		}
		return true, ctx.Err()
	})
	return out, err
}

// idSortDir returns 1 or -1 when spec sorts by _id alone, else 0.
func idSortDir(spec bson.D) int {
	if len(spec) != 1 || spec[0].Key != "_id" {
		return 0
	}
	f, ok := mql.ToFloat64(mql.Normalize(spec[0].Value))
	switch {
	case ok && f == 1:
		return 1
	case ok && f == -1:
		return -1
	}
	return 0
}

// inIDOrder reports whether p reads documents in ascending _id order,
// after putting its ranges in key order (the primary key is unique, so
// sorted disjoint ranges never repeat or reorder a document).
func (p *plan) inIDOrder() bool {
	if p.full {
		return true
	}
	if p.idx != nil {
		return false
	}
	sort.Slice(p.ranges, func(i, j int) bool { return bytes.Compare(p.ranges[i].lo, p.ranges[j].lo) < 0 })
	for i := 1; i < len(p.ranges); i++ {
		if p.ranges[i-1].hi == nil || bytes.Compare(p.ranges[i-1].hi, p.ranges[i].lo) > 0 {
			return false
		}
	}
	return true
}
