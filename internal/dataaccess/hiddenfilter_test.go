package dataaccess

import (
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// locker: the owner reads and writes everything; bob's other documents
// show alice nothing: a "ghost" (no read, write or field rights, W-31,
// with delete true), a "keep" (the same with delete false) and a
// "public" document withheld while closed (a document-dependent read and
// write). No role hides secret from a document it returns, so a filter on
// secret is accepted for the request: whether it matches a document the
// caller cannot see must not show in any outcome.
const lockerRules = `{"roles":[
 {"name":"owner","apply_when":{"owner_id":"%%user.id"},"read":true,"write":true,"insert":true,"delete":true},
 {"name":"ghost","apply_when":{"kind":"ghost"},"insert":true,"delete":true},
 {"name":"keep","apply_when":{"kind":"keep"},"insert":true,"delete":false},
 {"name":"public","apply_when":{"kind":"public"},"read":{"open":true},"write":{"open":true},"insert":true,"delete":true}]}`

// sparse: a role whose only field rule shows label; a document without a
// label shows nothing and is withheld, though delete is true.
const sparseRules = `{"roles":[{"name":"labels","apply_when":{},"insert":true,"delete":true,
 "fields":{"label":{"read":true,"write":true}}}]}`

var (
	lockerMine   = bson.ObjectID{0xc1}
	lockerGhost  = bson.ObjectID{0xc2}
	lockerKeep   = bson.ObjectID{0xc3}
	lockerClosed = bson.ObjectID{0xc4}
	lockerOpen   = bson.ObjectID{0xc5}
)

// lockerWithheld are the documents alice cannot see.
var lockerWithheld = []bson.ObjectID{lockerGhost, lockerKeep, lockerClosed}

// lockerSeed: alice's document and an open one (both read whole, secret
// fixed), and the withheld ones with secret set to hidden.
func lockerSeed(hidden any) []bson.D {
	withSecret := func(doc bson.D) bson.D {
		if !isMissingValue(hidden) {
			doc = append(doc, bson.E{Key: "secret", Value: hidden})
		}
		return doc
	}
	return []bson.D{
		d("_id", lockerMine, "owner_id", "alice", "kind", "plain", "name", "n", "secret", int32(7)),
		withSecret(d("_id", lockerGhost, "owner_id", "bob", "kind", "ghost", "name", "n")),
		withSecret(d("_id", lockerKeep, "owner_id", "bob", "kind", "keep", "name", "n")),
		withSecret(d("_id", lockerClosed, "owner_id", "bob", "kind", "public", "open", false, "name", "n")),
		d("_id", lockerOpen, "owner_id", "bob", "kind", "public", "open", true, "name", "n", "secret", int32(9)),
	}
}

// filterProbe is one request whose selector tests secret; upsert says
// whether it may insert.
type filterProbe struct {
	name   string
	upsert bool
	op     func(f *fixture, c *Collection, filter bson.D) (any, error)
}

func filterProbes() []filterProbe {
	set := d("$set", d("name", "m"))
	mine := d("$set", d("owner_id", "alice", "name", "m")) // an insert the owner role allows
	return []filterProbe{
		{"updateOne", false, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.UpdateOne(f.ctx, q, set, UpdateOptions{})
		}},
		{"updateMany", false, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.UpdateMany(f.ctx, q, set, UpdateOptions{})
		}},
		{"replaceOne", false, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.ReplaceOne(f.ctx, q, d("owner_id", "bob", "kind", "ghost", "name", "m"), UpdateOptions{})
		}},
		{"findOneAndUpdate", false, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.FindOneAndUpdate(f.ctx, q, set, FindOneAndModifyOptions{ReturnNewDocument: true})
		}},
		{"findOneAndReplace", false, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.FindOneAndReplace(f.ctx, q, d("owner_id", "bob", "name", "m"), FindOneAndModifyOptions{})
		}},
		{"deleteOne", false, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.DeleteOne(f.ctx, q)
		}},
		{"deleteMany", false, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.DeleteMany(f.ctx, q)
		}},
		{"findOneAndDelete", false, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.FindOneAndDelete(f.ctx, q, FindOneAndModifyOptions{})
		}},
		{"upsert refused insert", true, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.UpdateOne(f.ctx, q, set, UpdateOptions{Upsert: true})
		}},
		{"upsert allowed insert", true, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.UpdateOne(f.ctx, q, mine, UpdateOptions{Upsert: true})
		}},
		{"updateMany upsert", true, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.UpdateMany(f.ctx, q, mine, UpdateOptions{Upsert: true})
		}},
		{"replace upsert", true, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.ReplaceOne(f.ctx, q, d("owner_id", "alice", "name", "m"), UpdateOptions{Upsert: true})
		}},
		{"findOneAndUpdate upsert", true, func(f *fixture, c *Collection, q bson.D) (any, error) {
			return c.FindOneAndUpdate(f.ctx, q, mine, FindOneAndModifyOptions{Upsert: true, ReturnNewDocument: true})
		}},
	}
}

// filterOutcome is what a request tells its caller and what it did to
// the documents the caller can see, with ids the store made up masked.
// The withheld documents are left out; they must be unchanged.
func filterOutcome(t *testing.T, f *fixture, coll string, seeds []bson.D, withheld []bson.ObjectID, res any, err error) string {
	t.Helper()
	known := map[any]bool{}
	seeded := map[any]string{}
	for _, doc := range seeds {
		known[mqlGetID(doc)] = true
		seeded[mqlGetID(doc)] = ejson(t, doc)
	}
	hidden := map[any]bool{}
	for _, id := range withheld {
		hidden[id] = true
	}
	mask := func(s string) string {
		// An upserted _id the store generated differs on every run.
		for _, doc := range f.raw(coll) {
			if id := mqlGetID(doc); !known[id] {
				if oid, ok := id.(bson.ObjectID); ok {
					s = strings.ReplaceAll(s, oid.Hex(), "<new>")
				}
			}
		}
		return s
	}
	var b strings.Builder
	if err != nil {
		e := AsError(err)
		fmt.Fprintf(&b, "error %q code %s status %d", e.Message, e.Code, e.Status)
	} else {
		fmt.Fprintf(&b, "result %s", ejson(t, res))
	}
	b.WriteString("; stored")
	left := map[any]bool{}
	for _, doc := range f.raw(coll) {
		id := mqlGetID(doc)
		left[id] = true
		if hidden[id] {
			if ejson(t, doc) != seeded[id] {
				t.Errorf("withheld document %v changed: %s", id, ejson(t, doc))
			}
			continue
		}
		b.WriteString(" " + ejson(t, doc))
	}
	for id := range hidden {
		if known[id] && !left[id] {
			t.Errorf("withheld document %v deleted", id)
		}
	}
	return mask(b.String())
}

// withoutIDs is seeds without the documents ids names.
func withoutIDs(seeds []bson.D, ids ...bson.ObjectID) []bson.D {
	var out []bson.D
	for _, doc := range seeds {
		keep := true
		for _, id := range ids {
			if mqlGetID(doc) == id {
				keep = false
			}
		}
		if keep {
			out = append(out, doc)
		}
	}
	return out
}

// TestHiddenFilterIsNoOracle: an update, delete or upsert whose selector
// tests a value of a document the caller cannot see (W-31, with delete
// true or false; a document-dependent read that is false) treats that
// document as not matching (§4.5 pre-image rule): error, counts,
// returned document, upsert and the visible documents come out the same
// whatever the hidden value, and, but for an upsert (whose insert
// collides with the withheld _id as an insert would), the same as when
// the document does not exist. The withheld document is never changed.
func TestHiddenFilterIsNoOracle(t *testing.T) {
	f := newFixture(t)
	alice := f0alice()
	for _, target := range lockerWithheld {
		filters := []bson.D{
			d("_id", target, "secret", int32(52000)),
			d("_id", target, "secret", d("$exists", false)),
			d("_id", target, "secret", d("$type", "string")),
			d("_id", target, "$or", bson.A{d("secret", d("$gt", int32(0))), d("secret", d("$lt", int32(0)))}),
			d("_id", target, "secret", d("$ne", nil)),
			d("secret", int32(52000)),
			d("secret", d("$exists", true), "name", "n"),
		}
		for _, q := range filters {
			for _, p := range filterProbes() {
				name := fmt.Sprintf("%s %v on %v", p.name, q, target)
				var want string
				if !p.upsert {
					// As if the withheld documents did not exist.
					seeds := withoutIDs(lockerSeed(hiddenValues[0]), lockerWithheld...)
					reseed(f, "locker", seeds)
					res, err := p.op(f, f.coll(alice, "locker"), q)
					want = filterOutcome(t, f, "locker", seeds, nil, res, err)
				}
				for i, hv := range hiddenValues {
					seeds := lockerSeed(hv)
					reseed(f, "locker", seeds)
					res, err := p.op(f, f.coll(alice, "locker"), q)
					got := filterOutcome(t, f, "locker", seeds, lockerWithheld, res, err)
					if i == 0 && p.upsert {
						want = got
						continue
					}
					if got != want {
						t.Errorf("%s: the outcome depends on the hidden value or on the withheld document:\n  want: %s\n  %v: %s", name, want, hv, got)
					}
				}
			}
		}
	}

	// A document whose only readable field is absent shows nothing: a
	// delete does not reach it, though delete is true.
	hiddenDoc := d("_id", bson.ObjectID{0xd1}, "secret", int32(1))
	shown := d("_id", bson.ObjectID{0xd2}, "label", "l")
	reseed(f, "sparse", []bson.D{hiddenDoc, shown})
	c := f.coll(alice, "sparse")
	if res, err := c.DeleteMany(f.ctx, d("label", d("$exists", false))); err != nil || res.DeletedCount != 0 {
		t.Errorf("delete of a document that shows nothing: %v %v", res, err)
	}
	if res, err := c.UpdateMany(f.ctx, d("label", d("$exists", false)), d("$set", d("label", "x")), UpdateOptions{}); err != nil || res.MatchedCount != 0 {
		t.Errorf("update of a document that shows nothing: %v %v", res, err)
	}
	if res, err := c.DeleteMany(f.ctx, nil); err != nil || res.DeletedCount != 1 {
		t.Errorf("delete of every document: %v %v", res, err)
	}
	if got := f.raw("sparse"); len(got) != 1 || ejson(t, got[0]) != ejson(t, hiddenDoc) {
		t.Errorf("stored after the deletes: %v", got)
	}

	// The visible documents still take every write the rules allow.
	reseed(f, "locker", lockerSeed(int32(52000)))
	lc := f.coll(alice, "locker")
	if res, err := lc.UpdateMany(f.ctx, d("secret", d("$exists", true)), d("$set", d("name", "m")), UpdateOptions{}); err != nil || res.MatchedCount != 2 || res.ModifiedCount != 2 {
		t.Errorf("updateMany over the visible documents: %v %v", res, err)
	}
	if res, err := lc.DeleteMany(f.ctx, d("secret", d("$exists", true))); err != nil || res.DeletedCount != 2 {
		t.Errorf("deleteMany over the visible documents: %v %v", res, err)
	}
	if got := len(f.raw("locker")); got != len(lockerWithheld) {
		t.Errorf("%d documents left, want the %d withheld ones", got, len(lockerWithheld))
	}
}
