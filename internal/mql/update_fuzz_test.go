package mql

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzUpdate compiles and applies arbitrary updates to arbitrary documents
// (both as Extended JSON): nothing may panic, the input must stay as it
// was, and every result must be storable BSON that survives a round trip.
func FuzzUpdate(f *testing.F) {
	seeds := []struct {
		doc, update string
		pos         int
		insert      bool
	}{
		{`{"_id":1,"a":1}`, `{"$set":{"a":2,"b.c":[1]}}`, -1, false},
		{`{"_id":1,"a":[1,{"b":2}]}`, `{"$inc":{"a.1.b":1},"$push":{"c":{"$each":[3,1],"$sort":1,"$slice":-1}}}`, -1, false},
		{`{"_id":1,"a":[1,2,3]}`, `{"$set":{"a.$":9},"$unset":{"x":1}}`, 1, false},
		{`{"_id":1,"a":[[1],[2]]}`, `{"$mul":{"a.$[].$[]":2.5}}`, -1, false},
		{`{"a":{"b":1}}`, `{"$rename":{"a.b":"c.d"},"$setOnInsert":{"_id":3}}`, -1, true},
		{`{"_id":1,"a":[1]}`, `{"$set":{"a.5":null},"$addToSet":{"s":{"$each":[1,1.0,{"$numberLong":"1"}]}}}`, -1, false},
		{`{"_id":1,"n":{"$numberDecimal":"1.5"}}`, `{"$inc":{"n":0.1},"$min":{"m":{"$minKey":1}},"$bit":{"k":{"xor":7}}}`, -1, false},
		{`{"_id":1,"l":[1,2,3]}`, `{"$pop":{"l":-1},"$pullAll":{"l":[3]},"$currentDate":{"t":{"$type":"timestamp"}}}`, -1, false},
		{`{"_id":1}`, `{"b":1,"_id":1}`, -1, false},
		{`{"_id":1}`, `{"$set":{"a.0.b":1,"a.10":2}}`, -1, false},
	}
	for _, s := range seeds {
		f.Add(s.doc, s.update, s.pos, s.insert)
	}
	f.Fuzz(func(t *testing.T, docJSON, updateJSON string, pos int, insert bool) {
		// Input that is not Extended JSON drives a generator instead, so
		// that mutated bytes still make well-formed updates.
		var doc, update bson.D
		if bson.UnmarshalExtJSON([]byte(docJSON), false, &doc) != nil {
			g := &updGen{b: []byte(docJSON)}
			doc = g.doc(0)
		}
		if bson.UnmarshalExtJSON([]byte(updateJSON), false, &update) != nil {
			g := &updGen{b: []byte(updateJSON)}
			update = g.update()
		}
		if CheckDepth(doc) != nil {
			return
		}
		if _, err := bson.Marshal(doc); err != nil {
			return // not a document MongoDB could hold
		}
		u, err := CompileUpdate(update, UpdateOptions{})
		if err != nil {
			return
		}
		before := DeepCopy(doc)
		opts := ApplyOptions{Position: pos, Insert: insert, Now: time.Unix(1700000000, 0)}
		got, modified, err := u.Apply(doc, opts)
		if !Identical(before, doc) {
			t.Fatalf("input modified: %s", updShow(doc))
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error is not *Error: %T %v", err, err)
			}
			return
		}
		if !modified && !Identical(got, doc) {
			t.Fatalf("not modified but different: %s", updShow(got))
		}
		if err := CheckDepth(got); err != nil {
			t.Fatalf("result too deep: %v", err)
		}
		raw, err := bson.Marshal(got)
		if err != nil {
			t.Fatalf("result does not marshal: %v %s", err, updShow(got))
		}
		var back bson.D
		if err := bson.Unmarshal(raw, &back); err != nil {
			t.Fatalf("result does not unmarshal: %v", err)
		}
		if !Identical(back, got) {
			t.Fatalf("round trip changed the result:\n%s\n%s", updShow(got), updShow(back))
		}
		// Operators that only state a final condition change nothing the
		// second time round.
		if updIdempotent(update) {
			// The new state may legitimately fail (a $pull meeting the nulls
			// that padding added); only a success must be a no-op.
			again, mod2, err := u.Apply(got, opts)
			if err == nil && (mod2 || !Identical(again, got)) {
				t.Fatalf("second application changed the result (%v):\n%s\n%s", err, updShow(got), updShow(again))
			}
		}
	})
}

// updGen turns fuzzer bytes into documents and updates over a small
// vocabulary of names, so that paths collide and operators meet often.
type updGen struct {
	b []byte
	i int
}

func (g *updGen) next() int {
	if g.i >= len(g.b) {
		return 0
	}
	g.i++
	return int(g.b[g.i-1])
}

var updGenNames = []string{"a", "b", "c", "_id", "0", "1", "2", "10"}

func (g *updGen) name() string { return updGenNames[g.next()%len(updGenNames)] }

func (g *updGen) value(depth int) any {
	switch k := g.next() % 12; {
	case k == 0:
		return int32(g.next() - 128)
	case k == 1:
		return int64(g.next()) << 40
	case k == 2:
		return float64(g.next()) / 4
	case k == 3:
		return string(rune('a' + g.next()%4))
	case k == 4:
		return nil
	case k == 5:
		return g.next()%2 == 0
	case k == 6:
		d, _ := bson.ParseDecimal128(fmt.Sprintf("%d.%d", g.next(), g.next()))
		return d
	case k == 7:
		return bson.DateTime(g.next())
	case (k == 8 || k == 9) && depth < 4:
		return g.doc(depth + 1)
	case k >= 10 && depth < 4:
		n := g.next() % 4
		a := bson.A{}
		for i := 0; i < n; i++ {
			a = append(a, g.value(depth+1))
		}
		return a
	}
	return int32(g.next() % 3)
}

func (g *updGen) doc(depth int) bson.D {
	n := g.next() % 5
	d := bson.D{}
	for i := 0; i < n; i++ {
		k := g.name()
		if !IsMissing(Get(d, k)) {
			continue // duplicate names are legal BSON but not worth testing
		}
		d = append(d, bson.E{Key: k, Value: g.value(depth + 1)})
	}
	return d
}

var updGenOps = []string{"$set", "$unset", "$inc", "$mul", "$min", "$max", "$rename", "$currentDate",
	"$setOnInsert", "$push", "$addToSet", "$pop", "$pull", "$pullAll", "$bit"}

func (g *updGen) path() string {
	n := 1 + g.next()%3
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.name()
		if i > 0 {
			switch g.next() % 8 {
			case 0:
				parts[i] = "$"
			case 1:
				parts[i] = "$[]"
			}
		}
	}
	return strings.Join(parts, ".")
}

func (g *updGen) update() bson.D {
	if g.next()%10 == 0 {
		return g.doc(0) // a replacement
	}
	u := bson.D{}
	for n := 1 + g.next()%3; n > 0; n-- {
		op := updGenOps[g.next()%len(updGenOps)]
		fields := bson.D{}
		for m := 1 + g.next()%2; m > 0; m-- {
			fields = append(fields, bson.E{Key: g.path(), Value: g.operand(op)})
		}
		u = append(u, bson.E{Key: op, Value: fields})
	}
	return u
}

func (g *updGen) operand(op string) any {
	switch op {
	case "$rename":
		return g.path()
	case "$pop":
		return int32(1 - 2*(g.next()%2))
	case "$bit":
		return bson.D{{Key: []string{"and", "or", "xor"}[g.next()%3], Value: int32(g.next())}}
	case "$currentDate":
		if g.next()%2 == 0 {
			return true
		}
		return bson.D{{Key: "$type", Value: "timestamp"}}
	case "$push", "$addToSet":
		if g.next()%2 == 0 {
			return g.value(1)
		}
		each := bson.A{g.value(1), g.value(1)}
		d := bson.D{{Key: "$each", Value: each}}
		if op == "$push" {
			if g.next()%2 == 0 {
				d = append(d, bson.E{Key: "$slice", Value: int32(g.next()%5 - 2)})
			}
			if g.next()%2 == 0 {
				d = append(d, bson.E{Key: "$position", Value: int32(g.next()%5 - 2)})
			}
			switch g.next() % 3 {
			case 0:
				d = append(d, bson.E{Key: "$sort", Value: int32(1)})
			case 1:
				d = append(d, bson.E{Key: "$sort", Value: bson.D{{Key: g.name(), Value: int32(-1)}}})
			}
		}
		return d
	case "$pullAll":
		return bson.A{g.value(1), g.value(1)}
	}
	return g.value(1)
}

func updIdempotent(update bson.D) bool {
	for _, e := range update {
		switch e.Key {
		case "$set", "$unset", "$min", "$max", "$addToSet", "$pull", "$pullAll", "$setOnInsert", "$rename":
		case "$currentDate":
			for _, f := range e.Value.(bson.D) {
				if _, isBool := f.Value.(bool); !isBool {
					if d, _ := f.Value.(bson.D); Get(d, "$type") != "date" {
						return false
					}
				}
			}
		default:
			if len(e.Key) > 0 && e.Key[0] == '$' {
				return false
			}
		}
	}
	return true
}
