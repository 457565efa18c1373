package dataaccess

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/rules"
)

// employeesRules are the rules of examples/employees: Manager, Employee,
// Teammate, in that order; Teammate hides salary.
func employeesRules() string {
	b, err := os.ReadFile("../../examples/employees/data_sources/mongodb-atlas/company/employees/rules.json")
	if err != nil {
		panic(err)
	}
	return string(b)
}

// vault: the owner reads and writes everything; a "ghost" document shows
// nothing to anyone else (no permissions at all, W-31); a "public"
// document is whole when open and withheld otherwise, with no write; any
// other document hides secret from non-owners and lets them write the
// rest (no document-level write, so an update that changes nothing is
// accepted: the no-op oracle the per-document check must close).
const vaultRules = `{"roles":[
 {"name":"owner","apply_when":{"owner_id":"%%user.id"},"read":true,"write":true,"insert":true,"delete":true},
 {"name":"ghost","apply_when":{"kind":"ghost"}},
 {"name":"public","apply_when":{"kind":"public"},"read":{"open":true}},
 {"name":"other","apply_when":{},"insert":true,"delete":true,
  "fields":{"secret":{"read":false,"write":false}},"additional_fields":{"read":true,"write":true}}]}`

// shared: one role for everyone; the owner of a document writes, and so
// reads, all of it (a document-dependent write); others read it without
// secret.
const sharedRules = `{"roles":[{"name":"member","apply_when":{},"insert":true,
 "write":{"owner_id":"%%user.id"},
 "fields":{"secret":{"read":false,"write":false}},"additional_fields":{"read":true}}]}`

var (
	sharedAlice = bson.ObjectID{0xb1}
	sharedBob   = bson.ObjectID{0xb2}
)

// sharedSeed holds alice's and bob's documents, secret set to hidden.
func sharedSeed(hidden any) []bson.D {
	out := []bson.D{d("_id", sharedAlice, "owner_id", "alice", "name", "n"), d("_id", sharedBob, "owner_id", "bob", "name", "n")}
	if !isMissingValue(hidden) {
		for i := range out {
			out[i] = append(out[i], bson.E{Key: "secret", Value: hidden})
		}
	}
	return out
}

var (
	empPhylis  = bson.ObjectID{0x52, 0x8}
	empStanley = bson.ObjectID{0x71, 0x3}
	empAndy    = bson.ObjectID{0x86, 0x5}
	empOscar   = bson.ObjectID{0x94, 0x2}

	vaultOther  = bson.ObjectID{0xa1}
	vaultGhost  = bson.ObjectID{0xa2}
	vaultClosed = bson.ObjectID{0xa3}
	vaultOwned  = bson.ObjectID{0xa4}
)

func employeeDoc(id bson.ObjectID, empID, name, team, email string, manages bson.A, salary any) bson.D {
	doc := d("_id", id, "employeeId", empID, "name", name, "team", team, "email", email, "manages", manages)
	if !isMissingValue(salary) {
		doc = append(doc, bson.E{Key: "salary", Value: salary})
	}
	return doc
}

// missingValue stands for "the field is absent" in the hidden-value lists.
type missingValue struct{}

func isMissingValue(v any) bool { _, ok := v.(missingValue); return ok }

// employeesSeed is the example's directory with Phylis's salary set to
// hidden (a value, or missingValue for none).
func employeesSeed(hidden any) []bson.D {
	return []bson.D{
		employeeDoc(empPhylis, "0528", "Phylis Lapin", "sales", "phylis@dm.com", bson.A{}, hidden),
		employeeDoc(empStanley, "0713", "Stanley Hudson", "sales", "stanley@dm.com", bson.A{}, int32(55000)),
		employeeDoc(empAndy, "0865", "Andy Bernard", "sales", "andy@dm.com", bson.A{"phylis@dm.com", "stanley@dm.com"}, int32(61000)),
		employeeDoc(empOscar, "0942", "Oscar Martinez", "accounting", "oscar@dm.com", bson.A{}, int32(58000)),
	}
}

// vaultSeed holds one document per role, each with secret set to hidden.
func vaultSeed(hidden any) []bson.D {
	withSecret := func(doc bson.D) bson.D {
		if !isMissingValue(hidden) {
			doc = append(doc, bson.E{Key: "secret", Value: hidden})
		}
		return doc
	}
	return []bson.D{
		withSecret(d("_id", vaultOther, "owner_id", "bob", "kind", "plain", "name", "n")),
		withSecret(d("_id", vaultGhost, "owner_id", "bob", "kind", "ghost", "name", "n")),
		withSecret(d("_id", vaultClosed, "owner_id", "bob", "kind", "public", "open", false, "name", "n")),
		withSecret(d("_id", vaultOwned, "owner_id", "alice", "kind", "plain", "name", "n")),
	}
}

func employee(id, email, team string, manages ...any) Request {
	list := bson.A{} // as custom data holds it: an array, never null
	list = append(list, manages...)
	return Request{Caller: Caller{ID: id, Type: "normal",
		Data:       d("email", email, "team", team),
		CustomData: d("manages", list)}}
}

var (
	stanley = employee("u-stanley", "stanley@dm.com", "sales")
	andy    = employee("u-andy", "andy@dm.com", "sales", "phylis@dm.com", "stanley@dm.com")
)

// hiddenValues are what a hidden field may hold: among them the value
// the probing updates name (52000 as int32), so that a no-op is tried.
var hiddenValues = []any{int32(52000), int32(1), "52000", missingValue{}, nil, bson.A{int32(1)}, d("x", int32(1)), 52000.0}

// hiddenProbe is one request naming the hidden field.
type hiddenProbe struct {
	name string
	op   func(f *fixture, c *Collection, id bson.ObjectID) (any, error)
}

func probeUpdate(update bson.D, af ...bson.D) func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
	return func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
		return c.UpdateOne(f.ctx, d("_id", id), update, UpdateOptions{ArrayFilters: af})
	}
}

// hiddenProbes are the requests an attacker could use on field h: every
// operator, no-ops, type errors, updateMany, findOneAndUpdate (both
// images), replacements naming or omitting h, and upserts.
func hiddenProbes(h string, rest bson.D) []hiddenProbe {
	set := func(v any) bson.D { return d("$set", d(h, v)) }
	replacement := func(withHidden bool) bson.D {
		out := append(bson.D{}, rest...)
		if withHidden {
			out = append(out, bson.E{Key: h, Value: int32(52000)})
		}
		return out
	}
	return []hiddenProbe{
		{"$set same int", probeUpdate(set(int32(52000)))},
		{"$set string", probeUpdate(set("52000"))},
		{"$set null", probeUpdate(set(nil))},
		{"$set with a visible field", probeUpdate(d("$set", d("name", "n", h, int32(52000))))},
		{"$inc 1", probeUpdate(d("$inc", d(h, int32(1))))},
		{"$inc 0", probeUpdate(d("$inc", d(h, int32(0))))},
		{"$mul 1", probeUpdate(d("$mul", d(h, int32(1))))},
		{"$min", probeUpdate(d("$min", d(h, int32(0))))},
		{"$max", probeUpdate(d("$max", d(h, int32(0))))},
		{"$bit", probeUpdate(d("$bit", d(h, d("and", int32(0)))))},
		{"$push", probeUpdate(d("$push", d(h, int32(1))))},
		{"$addToSet", probeUpdate(d("$addToSet", d(h, int32(1))))},
		{"$pop", probeUpdate(d("$pop", d(h, int32(1))))},
		{"$pull value", probeUpdate(d("$pull", d(h, int32(1))))},
		{"$pull condition", probeUpdate(d("$pull", d(h, d("x", int32(1)))))},
		{"$pullAll", probeUpdate(d("$pullAll", d(h, bson.A{int32(1)})))},
		{"$unset", probeUpdate(d("$unset", d(h, "")))},
		{"$rename out", probeUpdate(d("$rename", d(h, "elsewhere")))},
		{"$rename in", probeUpdate(d("$rename", d("name", h)))},
		{"$currentDate", probeUpdate(d("$currentDate", d(h, true)))},
		{"$set dotted", probeUpdate(d("$set", d(h+".x", int32(1))))},
		{"$set positional all", probeUpdate(d("$set", d(h+".$[]", int32(1))))},
		{"$set arrayFilters", probeUpdate(d("$set", d(h+".$[e]", int32(1))), d("e", d("$gt", int32(0))))},
		{"$setOnInsert", probeUpdate(d("$setOnInsert", d(h, int32(1))))},
		{"updateMany $set same", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.UpdateMany(f.ctx, d("_id", id), set(int32(52000)), UpdateOptions{})
		}},
		{"updateMany $inc", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.UpdateMany(f.ctx, d("_id", id), d("$inc", d(h, int32(1))), UpdateOptions{})
		}},
		{"updateMany operator-less", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.UpdateMany(f.ctx, d("_id", id), d(h, int32(52000)), UpdateOptions{})
		}},
		{"updateMany over the collection", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.UpdateMany(f.ctx, nil, set(int32(52000)), UpdateOptions{Upsert: true})
		}},
		{"findOneAndUpdate old", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.FindOneAndUpdate(f.ctx, d("_id", id), set(int32(52000)), FindOneAndModifyOptions{})
		}},
		{"findOneAndUpdate new", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.FindOneAndUpdate(f.ctx, d("_id", id), d("$inc", d(h, int32(0))), FindOneAndModifyOptions{ReturnNewDocument: true})
		}},
		{"findOneAndUpdate upsert", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.FindOneAndUpdate(f.ctx, d("_id", id), set(int32(52000)), FindOneAndModifyOptions{Upsert: true, ReturnNewDocument: true})
		}},
		{"upsert $set same", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.UpdateOne(f.ctx, d("_id", id), set(int32(52000)), UpdateOptions{Upsert: true})
		}},
		{"upsert updateMany $inc", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.UpdateMany(f.ctx, d("_id", id), d("$inc", d(h, int32(1))), UpdateOptions{Upsert: true})
		}},
		{"replace with the value", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.ReplaceOne(f.ctx, d("_id", id), replacement(true), UpdateOptions{})
		}},
		{"replace without it", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.ReplaceOne(f.ctx, d("_id", id), replacement(false), UpdateOptions{})
		}},
		{"replace upsert", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.ReplaceOne(f.ctx, d("_id", id), replacement(true), UpdateOptions{Upsert: true})
		}},
		{"updateOne operator-less replacement", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.UpdateOne(f.ctx, d("_id", id), replacement(true), UpdateOptions{})
		}},
		{"findOneAndReplace", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.FindOneAndReplace(f.ctx, d("_id", id), replacement(true), FindOneAndModifyOptions{ReturnNewDocument: true})
		}},
		{"findOneAndReplace empty", func(f *fixture, c *Collection, id bson.ObjectID) (any, error) {
			return c.FindOneAndReplace(f.ctx, d("_id", id), nil, FindOneAndModifyOptions{})
		}},
	}
}

// outcome is everything a request tells its caller, and whether it
// changed the stored document: error text and code, counts, the upserted
// id, the returned document.
func outcome(t *testing.T, f *fixture, collName string, id bson.ObjectID, seed bson.D, res any, err error) string {
	t.Helper()
	var b strings.Builder
	if err != nil {
		e := AsError(err)
		fmt.Fprintf(&b, "error %q code %s status %d", e.Message, e.Code, e.Status)
	} else {
		fmt.Fprintf(&b, "result %s", ejson(t, res))
	}
	changed := true
	for _, doc := range f.raw(collName) {
		if mqlGetID(doc) == id {
			changed = ejson(t, doc) != ejson(t, seed)
		}
	}
	fmt.Fprintf(&b, "; stored changed %v", changed)
	return b.String()
}

func mqlGetID(doc bson.D) any {
	for _, e := range doc {
		if e.Key == "_id" {
			return e.Value
		}
	}
	return nil
}

// reseed puts the collection back as seeds says.
func reseed(f *fixture, collName string, seeds []bson.D) {
	f.t.Helper()
	if _, err := f.coll(f.sys, collName).DeleteMany(f.ctx, nil); err != nil {
		f.t.Fatal(err)
	}
	f.seed(collName, seeds...)
}

// assertNoHiddenOracle runs every probe against the document id under
// req, once per hidden value, and requires the outcomes to be identical
// and the document untouched: nothing the caller learns depends on the
// field it may not read. A document whose role hides the field must be
// refused as such; a document the caller cannot see at all (withheld)
// is no candidate (§4.5 pre-image rule): every outcome must be the one
// of the same request when that document does not exist.
func assertNoHiddenOracle(t *testing.T, req Request, collName, field string, id bson.ObjectID, seeds func(hidden any) []bson.D, rest bson.D, withheld bool) {
	t.Helper()
	f := newFixture(t)
	for _, p := range hiddenProbes(field, rest) {
		var first string
		if withheld {
			var others []bson.D
			for _, doc := range seeds(hiddenValues[0]) {
				if mqlGetID(doc) != id {
					others = append(others, doc)
				}
			}
			reseed(f, collName, others)
			res, err := p.op(f, f.coll(req, collName), id)
			first, _, _ = strings.Cut(outcome(t, f, collName, id, nil, res, err), "; stored")
		}
		for i, hv := range hiddenValues {
			docs := seeds(hv)
			reseed(f, collName, docs)
			var seed bson.D
			for _, doc := range docs {
				if mqlGetID(doc) == id {
					seed = doc
				}
			}
			res, err := p.op(f, f.coll(req, collName), id)
			got := outcome(t, f, collName, id, seed, res, err)
			if strings.Contains(got, "stored changed true") {
				t.Errorf("%s on %s: the document changed (hidden %v): %s", p.name, collName, hv, got)
			}
			got, _, _ = strings.Cut(got, "; stored")
			if i == 0 && !withheld {
				// Every probe reaches a document whose role hides the
				// field: it must be refused as such, not fail elsewhere
				// (which would make the comparison say nothing).
				if !strings.HasPrefix(got, `error "update not permitted"`) {
					t.Errorf("%s on %s: %s, want update not permitted", p.name, collName, got)
				}
				first = got
				continue
			}
			if got != first {
				t.Errorf("%s on %s: the outcome depends on the hidden value or on the withheld document:\n  want: %s\n  %v: %s", p.name, collName, first, hv, got)
			}
		}
	}
}

// TestHiddenFieldUpdateIsNoOracle: whatever an application user sends
// that names a field its role hides for a document, what comes back
// (error text and code, counts, upserts, returned documents) is the same
// whatever the field holds, and the document is not changed.
func TestHiddenFieldUpdateIsNoOracle(t *testing.T) {
	// Stanley is Phylis's teammate: salary is hidden from him.
	assertNoHiddenOracle(t, stanley, "employees", "salary", empPhylis, employeesSeed,
		d("employeeId", "0528", "name", "Phylis Lapin", "team", "sales", "email", "phylis@dm.com", "manages", bson.A{}), false)
	// Field rules without a document-level write (a no-op is accepted
	// under such a role when it names only visible fields).
	assertNoHiddenOracle(t, f0alice(), "vault", "secret", vaultOther, vaultSeed,
		d("owner_id", "bob", "kind", "plain", "name", "n"), false)
	// A role that shows nothing (W-31) and a withheld document under a
	// role with a document-dependent read: no candidates, as if absent.
	assertNoHiddenOracle(t, f0alice(), "vault", "secret", vaultGhost, vaultSeed,
		d("owner_id", "bob", "kind", "ghost", "name", "n"), true)
	assertNoHiddenOracle(t, f0alice(), "vault", "secret", vaultClosed, vaultSeed,
		d("owner_id", "bob", "kind", "public", "open", false, "name", "n"), true)
	// A role whose field rules hide secret from all but the owner, who
	// reads the whole document through a document-dependent write.
	assertNoHiddenOracle(t, f0alice(), "shared", "secret", sharedBob, sharedSeed,
		d("owner_id", "bob", "name", "n"), false)
}

func f0alice() Request { return Request{Caller: Caller{ID: "alice", Type: "normal"}} }

// TestManagerUpdatesSalary: a field one role hides is still writable under
// the roles that show it (examples/employees: a Manager gives a report a
// raise), with updateOne, updateMany, findOneAndUpdate, replace and
// upsert; requests reaching a document where the caller's role hides or
// protects the field are refused whole.
func TestManagerUpdatesSalary(t *testing.T) {
	f := newFixture(t)
	f.seed("employees", employeesSeed(int32(52000))...)
	salaryOf := func(id bson.ObjectID) any {
		for _, doc := range f.raw("employees") {
			if mqlGetID(doc) == id {
				for _, e := range doc {
					if e.Key == "salary" {
						return e.Value
					}
				}
			}
		}
		return nil
	}
	his := f.coll(andy, "employees")
	res, err := his.UpdateOne(f.ctx, d("_id", empPhylis), d("$inc", d("salary", int32(1000))), UpdateOptions{})
	if err != nil || res.MatchedCount != 1 || res.ModifiedCount != 1 || salaryOf(empPhylis) != int32(53000) {
		t.Fatalf("manager $inc salary: %v %v, stored %v", res, err, salaryOf(empPhylis))
	}
	doc, err := his.FindOneAndUpdate(f.ctx, d("_id", empPhylis), d("$set", d("salary", int32(52000))), FindOneAndModifyOptions{ReturnNewDocument: true})
	if err != nil || ejson(t, doc) != ejson(t, employeesSeed(int32(52000))[0]) {
		t.Fatalf("manager findOneAndUpdate: %v %v", doc, err)
	}
	res, err = his.UpdateMany(f.ctx, d("email", d("$in", bson.A{"phylis@dm.com", "stanley@dm.com"})), d("$inc", d("salary", int32(1))), UpdateOptions{})
	if err != nil || res.MatchedCount != 2 || res.ModifiedCount != 2 || salaryOf(empStanley) != int32(55001) {
		t.Fatalf("manager updateMany: %v %v", res, err)
	}
	// The whole team includes Andy himself (Employee: salary read-only):
	// nothing is changed.
	before := f.raw("employees")
	if _, err := his.UpdateMany(f.ctx, d("team", "sales"), d("$inc", d("salary", int32(1))), UpdateOptions{}); !isErr(err, rules.ErrUpdateNotPermitted) {
		t.Fatalf("manager updateMany over his own document: %v", err)
	}
	if ejson(t, f.raw("employees")) != ejson(t, before) {
		t.Fatal("a refused updateMany changed documents")
	}
	repl := employeesSeed(int32(60000))[0][1:]
	if res, err := his.ReplaceOne(f.ctx, d("_id", empPhylis), repl, UpdateOptions{}); err != nil || res.ModifiedCount != 1 || salaryOf(empPhylis) != int32(60000) {
		t.Fatalf("manager replace: %v %v", res, err)
	}
	newHire := bson.ObjectID{0x99}
	res, err = his.UpdateOne(f.ctx, d("_id", newHire, "email", "stanley@dm.com"), d("$set", d("employeeId", "0714", "name", "S2", "team", "sales", "manages", bson.A{}, "salary", int32(40000))), UpdateOptions{Upsert: true})
	if err != nil || res.UpsertedID != newHire || salaryOf(newHire) != int32(40000) {
		t.Fatalf("manager upsert: %v %v", res, err)
	}

	// Stanley: his own salary is read-only, Phylis's hidden; the name of a
	// teammate read-only. Oscar has no role for the sales documents.
	before = f.raw("employees")
	mine := f.coll(stanley, "employees")
	for _, c := range []struct {
		id     bson.ObjectID
		update bson.D
	}{
		{empStanley, d("$inc", d("salary", int32(1)))},
		{empPhylis, d("$inc", d("salary", int32(1)))},
		{empPhylis, d("$set", d("name", "Phil"))},
		{empAndy, d("$unset", d("salary", ""))},
	} {
		if _, err := mine.UpdateOne(f.ctx, d("_id", c.id), c.update, UpdateOptions{}); !isErr(err, rules.ErrUpdateNotPermitted) {
			t.Errorf("stanley %v on %v: %v", c.update, c.id, err)
		}
	}
	if _, err := mine.UpdateMany(f.ctx, d("team", "sales"), d("$set", d("salary", int32(1))), UpdateOptions{Upsert: true}); !isErr(err, rules.ErrUpdateNotPermitted) {
		t.Errorf("stanley updateMany salary: %v", err)
	}
	oscar := employee("u-oscar", "oscar@dm.com", "accounting")
	res, err = f.coll(oscar, "employees").UpdateMany(f.ctx, d("team", "sales"), d("$inc", d("salary", int32(1))), UpdateOptions{})
	if err != nil || res.MatchedCount != 0 {
		t.Errorf("oscar on sales: %v %v", res, err)
	}
	if ejson(t, f.raw("employees")) != ejson(t, before) {
		t.Fatal("refused or unmatched updates changed documents")
	}

	// vault: the visible fields of a document whose role hides secret stay
	// writable; naming secret as well refuses the request.
	f.seed("vault", vaultSeed(int32(7))...)
	vault := f.coll(f.alice, "vault")
	if res, err := vault.UpdateOne(f.ctx, d("_id", vaultOther), d("$set", d("name", "m")), UpdateOptions{}); err != nil || res.ModifiedCount != 1 {
		t.Errorf("visible field under field rules: %v %v", res, err)
	}
	if _, err := vault.UpdateOne(f.ctx, d("_id", vaultOther), d("$set", d("name", "m", "secret", int32(7))), UpdateOptions{}); !isErr(err, rules.ErrUpdateNotPermitted) {
		t.Errorf("visible and hidden field: %v", err)
	}
	if res, err := vault.UpdateOne(f.ctx, d("_id", vaultOwned), d("$inc", d("secret", int32(1))), UpdateOptions{}); err != nil || res.ModifiedCount != 1 {
		t.Errorf("owner's secret: %v %v", res, err)
	}

	// shared: one role hides secret, except from the owner, who reads the
	// whole document (write true for it): not refused for the request.
	f.seed("shared", sharedSeed(int32(7))...)
	shared := f.coll(f.alice, "shared")
	if res, err := shared.UpdateOne(f.ctx, d("_id", sharedAlice), d("$inc", d("secret", int32(1))), UpdateOptions{}); err != nil || res.ModifiedCount != 1 {
		t.Errorf("owner's secret under a document-dependent write: %v %v", res, err)
	}
	if res, err := shared.ReplaceOne(f.ctx, d("_id", sharedAlice), d("owner_id", "alice", "name", "m"), UpdateOptions{}); err != nil || res.ModifiedCount != 1 {
		t.Errorf("owner's replacement: %v %v", res, err)
	}
	if _, err := shared.UpdateMany(f.ctx, nil, d("$inc", d("secret", int32(1))), UpdateOptions{}); !isErr(err, rules.ErrUpdateNotPermitted) {
		t.Errorf("secret of every document: %v", err)
	}
}

func isErr(err, target error) bool { return err != nil && errors.Is(err, target) }
