package embedded

import (
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// logOp appends an oplog entry in the current transaction. The entry
// carries what change events need: "dk" (documentKey), "ud" (update
// description), "post" and "pre" (images), by operation.
func (w *wtx) logOp(db, coll, op string, entry bson.D) error {
	if entry == nil {
		entry = bson.D{}
	}
	raw, err := bson.Marshal(entry)
	if err != nil {
		return err
	}
	w.st.seq++
	now := time.Now()
	sec := uint32(now.Unix())
	if sec > w.st.ts.T {
		w.st.ts = bson.Timestamp{T: sec, I: 1}
	} else {
		w.st.ts.I++
	}
	_, err = w.exec(`INSERT INTO oplog(seq, ts, wall, db, coll, op, entry) VALUES(?, ?, ?, ?, ?, ?, ?)`,
		w.st.seq, tsToInt(w.st.ts), now.UnixMilli(), db, coll, op, raw)
	return err
}

// updateDescription diffs two versions of a document into MongoDB's
// updateDescription: updatedFields (dotted paths to new values) and
// removedFields. As MongoDB does for operator updates, a changed element
// of an array is reported by its dotted index, appended elements the
// same way, and an array that shrank is reported whole, so
// truncatedArrays stays empty.
func updateDescription(old, cur bson.D) bson.D {
	upd := bson.D{}
	removed := bson.A{}
	truncated := bson.A{}
	diffDocs("", old, cur, &upd, &removed, &truncated)
	return bson.D{
		{Key: "updatedFields", Value: upd},
		{Key: "removedFields", Value: removed},
		{Key: "truncatedArrays", Value: truncated},
	}
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func diffDocs(prefix string, old, cur bson.D, upd *bson.D, removed, truncated *bson.A) {
	oldIdx := make(map[string]int, len(old))
	for i, e := range old {
		oldIdx[e.Key] = i
	}
	for _, e := range cur {
		i, ok := oldIdx[e.Key]
		if !ok {
			*upd = append(*upd, bson.E{Key: join(prefix, e.Key), Value: e.Value})
			continue
		}
		diffValues(join(prefix, e.Key), old[i].Value, e.Value, upd, removed, truncated)
	}
	curKeys := make(map[string]bool, len(cur))
	for _, e := range cur {
		curKeys[e.Key] = true
	}
	for _, e := range old {
		if !curKeys[e.Key] {
			*removed = append(*removed, join(prefix, e.Key))
		}
	}
}

func diffValues(path string, old, cur any, upd *bson.D, removed, truncated *bson.A) {
	if mql.Identical(old, cur) {
		return
	}
	switch c := cur.(type) {
	case bson.D:
		if o, ok := old.(bson.D); ok && sameKeyOrder(o, c) {
			diffDocs(path, o, c, upd, removed, truncated)
			return
		}
	case bson.A:
		if o, ok := old.(bson.A); ok {
			n := len(c)
			if n < len(o) {
				// MongoDB logs a shrunk array ($pop, $pull) whole
				// rather than as a truncation.
				break
			}
			for i := 0; i < n; i++ {
				p := path + "." + strconv.Itoa(i)
				if i < len(o) {
					diffValues(p, o[i], c[i], upd, removed, truncated)
				} else {
					*upd = append(*upd, bson.E{Key: p, Value: c[i]})
				}
			}
			return
		}
	}
	*upd = append(*upd, bson.E{Key: path, Value: cur})
}

// sameKeyOrder reports whether the keys common to both documents appear
// in the same order (otherwise the field is reported as replaced whole).
func sameKeyOrder(a, b bson.D) bool {
	pos := make(map[string]int, len(a))
	for i, e := range a {
		pos[e.Key] = i
	}
	last := -1
	for _, e := range b {
		if i, ok := pos[e.Key]; ok {
			if i < last {
				return false
			}
			last = i
		}
	}
	return true
}
