package embedded

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

// CodeChangeStreamFatalError is MongoDB's code for a change stream that
// cannot continue (for example a required image that is missing).
const CodeChangeStreamFatalError = 280

// Resume tokens are {_data: "<16 hex digits>"}: the oplog sequence number
// of the event, big-endian, so tokens also compare in event order.
func tokenFor(seq int64) bson.D {
	return bson.D{{Key: "_data", Value: fmt.Sprintf("%016X", uint64(seq))}}
}

func parseToken(tok bson.D) (int64, error) {
	s, ok := mql.Get(tok, "_data").(string)
	if !ok || len(s) != 16 {
		return 0, mqlErr(store.CodeInvalidResumeToken, "invalid resume token: %v", tok)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return 0, mqlErr(store.CodeInvalidResumeToken, "invalid resume token: %v", tok)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, mqlErr(store.CodeInvalidResumeToken, "invalid resume token: %v", tok)
	}
	return int64(v), nil
}

// changeStream reads the oplog after a position, waking on commits.
type changeStream struct {
	s        *Store
	db, coll string
	p        *mql.Pipeline
	opts     store.WatchOptions
	pos      int64 // last oplog sequence read
	buf      []event
	cur      bson.D
	curTok   bson.D
	err      error
	finished bool // after invalidate or Close
}

type event struct {
	doc bson.D
	tok bson.D
}

var changeStages = map[string]bool{"$match": true, "$project": true, "$addFields": true, "$set": true,
	"$unset": true, "$replaceRoot": true, "$replaceWith": true, "$redact": true}

func (s *Store) watch(ctx context.Context, db, coll string, pipeline []bson.D, opts store.WatchOptions) (store.ChangeStream, error) {
	if s.closed.Load() {
		return nil, errClosed()
	}
	switch opts.FullDocument {
	case "", "default", "updateLookup", "whenAvailable", "required":
	default:
		return nil, mqlErr(mql.CodeBadValue, "unknown fullDocument mode %q", opts.FullDocument)
	}
	switch opts.FullDocumentBeforeChange {
	case "", "off", "whenAvailable", "required":
	default:
		return nil, mqlErr(mql.CodeBadValue, "unknown fullDocumentBeforeChange mode %q", opts.FullDocumentBeforeChange)
	}
	cs := &changeStream{s: s, db: db, coll: coll, opts: opts}
	for _, st := range pipeline {
		if len(st) != 1 || !changeStages[st[0].Key] {
			name := ""
			if len(st) > 0 {
				name = st[0].Key
			}
			return nil, mqlErr(mql.CodeBadValue, "%s is not permitted in a $changeStream pipeline", name)
		}
	}
	if len(pipeline) > 0 {
		p, err := mql.CompilePipeline(normStages(pipeline))
		if err != nil {
			return nil, err
		}
		cs.p = p
	}
	tok := opts.ResumeAfter
	if tok == nil {
		tok = opts.StartAfter
	}
	switch {
	case tok != nil:
		seq, err := parseToken(tok)
		if err != nil {
			return nil, err
		}
		if seq < s.minSeq.Load() {
			return nil, mqlErr(store.CodeChangeStreamHistoryLost, "Resume of change stream was not possible, as the resume point may no longer be in the oplog.")
		}
		if seq > s.lastSeq.Load() {
			return nil, mqlErr(store.CodeInvalidResumeToken, "resume token %v is ahead of the oplog", tok)
		}
		cs.pos = seq
	case opts.StartAtOperationTime != nil:
		var seq *int64
		r := s.readerFor(ctx)
		rows, err := r.query(ctx, `SELECT min(seq) FROM oplog WHERE ts >= ?`, tsToInt(*opts.StartAtOperationTime))
		if err == nil {
			if rows.Next() {
				rows.Scan(&seq)
			}
			rows.Close()
		}
		r.done()
		if err != nil {
			return nil, err
		}
		if seq == nil {
			cs.pos = s.lastSeq.Load()
		} else {
			cs.pos = *seq - 1
			if cs.pos < s.minSeq.Load() {
				return nil, mqlErr(store.CodeChangeStreamHistoryLost, "Resume of change stream was not possible, as the resume point may no longer be in the oplog.")
			}
		}
		if min := s.minSeq.Load(); min > 0 && seq != nil && *seq-1 < min {
			return nil, mqlErr(store.CodeChangeStreamHistoryLost, "Resume of change stream was not possible, as the resume point may no longer be in the oplog.")
		}
	default:
		cs.pos = s.lastSeq.Load()
	}
	return cs, nil
}

func (cs *changeStream) Event() bson.D { return cs.cur }
func (cs *changeStream) Err() error    { return cs.err }

func (cs *changeStream) ResumeToken() bson.D {
	if cs.curTok != nil {
		return cs.curTok
	}
	return tokenFor(cs.pos)
}

func (cs *changeStream) Close(ctx context.Context) error {
	cs.finished = true
	cs.buf = nil
	return nil
}

func (cs *changeStream) Next(ctx context.Context) bool {
	if cs.err != nil {
		return false
	}
	var timer <-chan time.Time
	if cs.opts.MaxAwaitTime > 0 {
		t := time.NewTimer(cs.opts.MaxAwaitTime)
		defer t.Stop()
		timer = t.C
	}
	for {
		if len(cs.buf) > 0 {
			ev := cs.buf[0]
			cs.buf = cs.buf[1:]
			cs.cur, cs.curTok = ev.doc, ev.tok
			return true
		}
		if cs.finished || cs.s.closed.Load() {
			return false
		}
		wake := cs.s.waitChan()
		n, err := cs.fetch(ctx)
		if err != nil {
			cs.err = err
			return false
		}
		if n > 0 || len(cs.buf) > 0 {
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return false
		case <-timer:
			return false
		}
	}
}

// fetch reads the next committed oplog entries into buf and reports how
// many entries it consumed.
func (cs *changeStream) fetch(ctx context.Context) (int, error) {
	s := cs.s
	hi := s.lastSeq.Load()
	if hi <= cs.pos {
		return 0, nil
	}
	if cs.pos < s.minSeq.Load() {
		return 0, mqlErr(store.CodeChangeStreamHistoryLost, "change stream history lost: entries after the stream's position were trimmed from the oplog")
	}
	r := &reader{s: s, cat: s.cat.Load()}
	q := `SELECT seq, ts, wall, db, coll, op, entry FROM oplog WHERE seq > ? AND seq <= ? AND db = ?`
	args := []any{cs.pos, hi, cs.db}
	if cs.coll != "" {
		q += ` AND (coll = ? OR op = 'dropDatabase')`
		args = append(args, cs.coll)
	}
	q += ` ORDER BY seq LIMIT 512`
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	type row struct {
		seq, ts, wall int64
		db, coll, op  string
		entry         []byte
	}
	var batch []row
	for rows.Next() {
		var x row
		if err := rows.Scan(&x.seq, &x.ts, &x.wall, &x.db, &x.coll, &x.op, &x.entry); err != nil {
			rows.Close()
			return 0, err
		}
		batch = append(batch, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(batch) < 512 {
		defer func() { cs.pos = max(cs.pos, hi) }()
	}
	for _, x := range batch {
		cs.pos = x.seq
		entry, err := decodeDoc(x.entry)
		if err != nil {
			return 0, err
		}
		evs, err := cs.events(ctx, x.seq, x.ts, x.wall, x.db, x.coll, x.op, entry)
		if err != nil {
			return 0, err
		}
		for _, ev := range evs {
			if err := cs.push(ctx, ev); err != nil {
				return 0, err
			}
		}
		if cs.finished {
			break
		}
	}
	return len(batch) + 1, nil
}

func (cs *changeStream) push(ctx context.Context, ev bson.D) error {
	tok, _ := mql.Get(ev, "_id").(bson.D)
	if cs.p == nil {
		cs.buf = append(cs.buf, event{doc: ev, tok: tok})
		return nil
	}
	out, err := cs.p.Run(ctx, func(yield func(bson.D, error) bool) { yield(ev, nil) }, nil)
	if err != nil {
		return err
	}
	for _, d := range out {
		t, ok := mql.Get(d, "_id").(bson.D)
		if !ok || !mql.Identical(t, tok) {
			return mqlErr(CodeChangeStreamFatalError, "Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.")
		}
		cs.buf = append(cs.buf, event{doc: d, tok: tok})
	}
	return nil
}

// events builds the change events of one oplog entry.
func (cs *changeStream) events(ctx context.Context, seq, ts, wall int64, db, coll, op string, entry bson.D) ([]bson.D, error) {
	head := bson.D{
		{Key: "_id", Value: tokenFor(seq)},
		{Key: "operationType", Value: op},
		{Key: "clusterTime", Value: tsFromInt(ts)},
		{Key: "wallTime", Value: bson.DateTime(wall)},
	}
	ns := bson.D{{Key: "db", Value: db}, {Key: "coll", Value: coll}}
	invalidate := bson.D{
		{Key: "_id", Value: tokenFor(seq)},
		{Key: "operationType", Value: "invalidate"},
		{Key: "clusterTime", Value: tsFromInt(ts)},
		{Key: "wallTime", Value: bson.DateTime(wall)},
	}
	dk := mql.Get(entry, "dk")
	post, hasPost := mql.Get(entry, "post").(bson.D)
	pre, hasPre := mql.Get(entry, "pre").(bson.D)
	ev := head
	switch op {
	case "insert", "replace":
		ev = append(ev, bson.E{Key: "fullDocument", Value: post}, bson.E{Key: "ns", Value: ns}, bson.E{Key: "documentKey", Value: dk})
	case "update":
		ev = append(ev, bson.E{Key: "ns", Value: ns}, bson.E{Key: "documentKey", Value: dk},
			bson.E{Key: "updateDescription", Value: mql.Get(entry, "ud")})
		switch cs.opts.FullDocument {
		case "updateLookup":
			var cur any
			if d, ok := dk.(bson.D); ok {
				doc, err := cs.s.Database(db).Collection(coll).FindOne(ctx, d, store.FindOptions{})
				if err == nil {
					cur = doc
				} else if err != store.ErrNoDocuments {
					return nil, err
				}
			}
			ev = append(ev, bson.E{Key: "fullDocument", Value: cur})
		case "whenAvailable", "required":
			if hasPost {
				ev = append(ev, bson.E{Key: "fullDocument", Value: post})
			} else if cs.opts.FullDocument == "required" {
				return nil, mqlErr(CodeChangeStreamFatalError, "Change stream was configured to require a post-image for all update events, but the post-image was not found for the event with token %v (the collection needs changeStreamPreAndPostImages)", tokenFor(seq))
			} else {
				ev = append(ev, bson.E{Key: "fullDocument", Value: nil})
			}
		}
	case "delete":
		ev = append(ev, bson.E{Key: "ns", Value: ns}, bson.E{Key: "documentKey", Value: dk})
	case "drop":
		ev = append(ev, bson.E{Key: "ns", Value: ns})
		if cs.coll != "" {
			cs.finished = true
			return []bson.D{ev, invalidate}, nil
		}
		return []bson.D{ev}, nil
	case "dropDatabase":
		ev = append(ev, bson.E{Key: "ns", Value: bson.D{{Key: "db", Value: db}}})
		cs.finished = true
		if cs.coll != "" {
			return []bson.D{invalidate}, nil
		}
		return []bson.D{ev, invalidate}, nil
	default:
		ev = append(ev, bson.E{Key: "ns", Value: ns})
		return []bson.D{ev}, nil
	}
	if op != "insert" {
		switch cs.opts.FullDocumentBeforeChange {
		case "whenAvailable":
			if hasPre {
				ev = append(ev, bson.E{Key: "fullDocumentBeforeChange", Value: pre})
			} else {
				ev = append(ev, bson.E{Key: "fullDocumentBeforeChange", Value: nil})
			}
		case "required":
			if !hasPre {
				return nil, mqlErr(CodeChangeStreamFatalError, "Change stream was configured to require a pre-image for all update, delete and replace events, but the pre-image was not found for the event with token %v (the collection needs changeStreamPreAndPostImages)", tokenFor(seq))
			}
			ev = append(ev, bson.E{Key: "fullDocumentBeforeChange", Value: pre})
		}
	}
	return []bson.D{ev}, nil
}
