package dataaccess

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/rules"
)

var (
	p1 = bson.ObjectID{0x21} // alice's profile
	n1 = bson.ObjectID{0x31} // alice's note
	n2 = bson.ObjectID{0x32} // bob's note
)

// secretValue must never appear in anything an application user receives.
const secretValue = "TOPSECRET-42"

func seedProtected(f *fixture) {
	seedTracker(f)
	f.seed("profiles", d("_id", p1, "owner_id", "alice", "name", "Alice", "secret", secretValue,
		"tags", bson.A{"a", "b"}, "nested", d("pub", "x", "priv", secretValue), "extra", "ro",
		"items", bson.A{d("k", int32(1)), d("k", int32(2))}))
	f.seed("notes", d("_id", n1, "owner_id", "alice", "text", "hers"), d("_id", n2, "owner_id", "bob", "text", secretValue))
}

func TestRedactedReads(t *testing.T) {
	f := newFixture(t)
	seedProtected(f)
	for _, req := range []Request{f.alice, f.bob, f.anon} {
		prof := f.coll(req, "profiles")
		docs, err := prof.Find(f.ctx, nil, FindOptions{})
		if err != nil || len(docs) != 1 {
			t.Fatalf("find: %v %v", docs, err)
		}
		want := d("_id", p1, "owner_id", "alice", "name", "Alice", "tags", bson.A{"a", "b"}, "nested", d("pub", "x"), "extra", "ro",
			"items", bson.A{d("k", int32(1)), d("k", int32(2))})
		if ejson(t, docs[0]) != ejson(t, want) {
			t.Fatalf("redacted: %s", ejson(t, docs[0]))
		}
		// The client projection applies to the permitted view.
		docs, err = prof.Find(f.ctx, nil, FindOptions{Projection: d("nested", 1, "_id", 0)})
		if err == nil {
			t.Fatalf("projection of a partly readable object accepted: %v", docs)
		}
		docs, err = prof.Find(f.ctx, nil, FindOptions{Projection: d("nested.pub", 1, "_id", 0)})
		if err != nil || ejson(t, docs) != ejson(t, []bson.D{d("nested", d("pub", "x"))}) {
			t.Fatalf("projection: %v %v", docs, err)
		}
		agg, err := prof.Aggregate(f.ctx, []bson.D{d("$project", d("s", "$secret", "p", "$nested.priv", "all", "$$ROOT"))})
		if err != nil {
			t.Fatalf("aggregate: %v", err)
		}
		if strings.Contains(ejson(t, agg), secretValue) {
			t.Fatalf("aggregate leaked: %s", ejson(t, agg))
		}
	}
	// Owner rule: each sees only their notes; writes to others' match nothing.
	notes := f.coll(f.alice, "notes")
	docs, err := notes.Find(f.ctx, nil, FindOptions{})
	if err != nil || len(docs) != 1 || docs[0][0].Value != n1 {
		t.Fatalf("notes: %v %v", docs, err)
	}
	if n, err := notes.Count(f.ctx, nil, CountOptions{}); err != nil || n != 1 {
		t.Fatalf("count: %d %v", n, err)
	}
	res, err := notes.UpdateOne(f.ctx, d("_id", n2), d("$set", d("text", "mine")), UpdateOptions{})
	if err != nil || res.MatchedCount != 0 {
		t.Fatalf("update of an invisible note: %v %v", res, err)
	}
	del, err := notes.DeleteMany(f.ctx, nil)
	if err != nil || del.DeletedCount != 1 {
		t.Fatalf("deleteMany: %v %v", del, err)
	}
	if raw := f.raw("notes"); len(raw) != 1 || raw[0][0].Value != n2 {
		t.Fatalf("bob's note: %v", raw)
	}
	// $lookup into notes runs under notes' rules: bob sees only his.
	agg, err := f.coll(f.bob, "tasks").Aggregate(f.ctx, []bson.D{
		d("$match", d("_id", t2)),
		d("$lookup", d("from", "notes", "localField", "assignee", "foreignField", "owner_id", "as", "n")),
	})
	if err != nil || len(agg) != 1 || ejson(t, agg[0][len(agg[0])-1].Value) != ejson(t, bson.A{d("_id", n2, "owner_id", "bob", "text", secretValue)}) {
		t.Fatalf("lookup as bob: %v %v", agg, err)
	}
	agg, err = f.coll(f.alice, "tasks").Aggregate(f.ctx, []bson.D{
		d("$match", d("_id", t2)),
		d("$lookup", d("from", "notes", "localField", "assignee", "foreignField", "owner_id", "as", "n")),
		d("$unionWith", d("coll", "notes")),
	})
	if err != nil || strings.Contains(ejson(t, agg), secretValue) {
		t.Fatalf("lookup as alice leaked: %s %v", ejson(t, agg), err)
	}
	if _, err := f.coll(f.alice, "tasks").Aggregate(f.ctx, []bson.D{d("$lookup", d("from", "norules", "localField", "a", "foreignField", "b", "as", "x"))}); !isCode(err, CodeNoMatchingRule) {
		t.Fatalf("lookup into a namespace without rules: %v", err)
	}
}

func deep(n int) bson.D {
	v := d("x", int32(1))
	for i := 0; i < n; i++ {
		v = d("x", v)
	}
	return v
}

func TestBadInput(t *testing.T) {
	read := func(filter, sort, proj bson.D) func(f *fixture, c *Collection) (any, error) {
		return func(f *fixture, c *Collection) (any, error) {
			return c.Find(f.ctx, filter, FindOptions{Sort: sort, Projection: proj})
		}
	}
	count := func(filter bson.D) func(f *fixture, c *Collection) (any, error) {
		return func(f *fixture, c *Collection) (any, error) { return c.Count(f.ctx, filter, CountOptions{}) }
	}
	agg := func(stages ...bson.D) func(f *fixture, c *Collection) (any, error) {
		return func(f *fixture, c *Collection) (any, error) { return c.Aggregate(f.ctx, stages) }
	}
	upd := func(filter, update bson.D, af ...bson.D) func(f *fixture, c *Collection) (any, error) {
		return func(f *fixture, c *Collection) (any, error) {
			return c.UpdateOne(f.ctx, filter, update, UpdateOptions{ArrayFilters: af})
		}
	}
	updMany := func(filter, update bson.D) func(f *fixture, c *Collection) (any, error) {
		return func(f *fixture, c *Collection) (any, error) {
			return c.UpdateMany(f.ctx, filter, update, UpdateOptions{})
		}
	}
	ins := func(doc bson.D) func(f *fixture, c *Collection) (any, error) {
		return func(f *fixture, c *Collection) (any, error) { return c.InsertOne(f.ctx, doc) }
	}
	forbidden := rules.ErrForbidden
	huge := make(bson.A, 2_000_000)
	for i := range huge {
		huge[i] = int32(i)
	}
	cases := []writeCase{
		// Filters, sorts and projections on protected fields, any path form.
		{name: "filter secret", coll: "profiles", wantErr: forbidden, op: read(d("secret", secretValue), nil, nil)},
		{name: "filter secret dotted", coll: "profiles", wantErr: forbidden, op: read(d("secret.x", 1), nil, nil)},
		{name: "filter secret in $or", coll: "profiles", wantErr: forbidden, op: read(d("$or", bson.A{d("name", "A"), d("secret", secretValue)}), nil, nil)},
		{name: "filter secret in $nor", coll: "profiles", wantErr: forbidden, op: read(d("$nor", bson.A{d("secret", d("$exists", true))}), nil, nil)},
		{name: "filter secret under $not", coll: "profiles", wantErr: forbidden, op: read(d("secret", d("$not", d("$eq", "x"))), nil, nil)},
		{name: "filter nested.priv", coll: "profiles", wantErr: forbidden, op: read(d("nested.priv", secretValue), nil, nil)},
		{name: "filter whole nested", coll: "profiles", wantErr: forbidden, op: read(d("nested", d("pub", "x", "priv", secretValue)), nil, nil)},
		{name: "filter nested via $elemMatch", coll: "profiles", wantErr: forbidden, op: read(d("nested", d("$elemMatch", d("priv", secretValue))), nil, nil)},
		{name: "count on secret", coll: "profiles", wantErr: forbidden, op: count(d("secret", secretValue))},
		{name: "sort secret", coll: "profiles", wantErr: forbidden, op: read(nil, d("secret", 1), nil)},
		{name: "sort nested.priv", coll: "profiles", wantErr: forbidden, op: read(nil, d("nested.priv", -1), nil)},
		{name: "project secret", coll: "profiles", wantErr: forbidden, op: read(nil, nil, d("secret", 1))},
		{name: "project computed from secret", coll: "profiles", wantErr: forbidden, op: read(nil, nil, d("s", "$secret"))},
		{name: "project $$ROOT", coll: "profiles", wantErr: forbidden, op: read(nil, nil, d("r", "$$ROOT"))},
		// System-only operators.
		{name: "$where", coll: "tasks", wantErr: forbidden, op: read(d("$where", "this.name == 'x'"), nil, nil)},
		{name: "$expr", coll: "tasks", wantErr: forbidden, op: read(d("$expr", d("$eq", bson.A{"$name", "x"})), nil, nil)},
		{name: "$regex", coll: "tasks", wantErr: forbidden, op: read(d("name", d("$regex", "^w")), nil, nil)},
		{name: "regex literal", coll: "tasks", wantErr: forbidden, op: read(d("name", bson.Regex{Pattern: "^w"}), nil, nil)},
		{name: "$text", coll: "tasks", wantErr: forbidden, op: read(d("$text", d("$search", "x")), nil, nil)},
		{name: "$oid wrapper left in a filter value", coll: "tasks", wantErr: forbidden, op: read(d("_id", d("$oid", "zz")), nil, nil)},
		{name: "$function inside $expr in a later $match", coll: "tasks", wantErr: forbidden, op: agg(d("$project", d("name", 1)), d("$match", d("$expr", d("$function", d("body", "1", "args", bson.A{}, "lang", "js")))))},
		{name: "$where as a value wrapper", coll: "tasks", wantErr: forbidden, op: read(d("name", d("$where", "1")), nil, nil)},
		{name: "$function in aggregate", coll: "tasks", wantErr: forbidden, op: agg(d("$project", d("x", d("$function", d("body", "function(){}", "args", bson.A{}, "lang", "js")))))},
		{name: "$accumulator in aggregate", coll: "tasks", wantErr: forbidden, op: agg(d("$group", d("_id", nil, "x", d("$accumulator", d("init", "function(){}")))))},
		{name: "$where in a later $match", coll: "tasks", wantErr: forbidden, op: agg(d("$project", d("name", 1)), d("$match", d("$where", "1")))},
		{name: "$out", coll: "tasks", wantErr: forbidden, op: agg(d("$out", "stolen"))},
		{name: "$merge", coll: "tasks", wantErr: forbidden, op: agg(d("$merge", d("into", "stolen")))},
		{name: "$graphLookup", coll: "tasks", wantErr: forbidden, op: agg(d("$graphLookup", d("from", "users", "startWith", "$a", "connectFromField", "a", "connectToField", "b", "as", "c")))},
		{name: "$out inside $lookup", coll: "tasks", wantErr: forbidden, op: agg(d("$lookup", d("from", "notes", "pipeline", bson.A{d("$out", "x")}, "as", "y")))},
		{name: "leading $match on secret", coll: "profiles", wantErr: forbidden, op: agg(d("$match", d("secret", secretValue)))},
		// Updates reaching protected fields.
		{name: "$set secret", coll: "profiles", wantErr: forbidden, op: upd(d("_id", p1), d("$set", d("secret", "x")))},
		{name: "$set dotted nested.priv", coll: "profiles", wantErr: forbidden, op: upd(d("_id", p1), d("$set", d("nested.priv", "x")))},
		{name: "$unset secret", coll: "profiles", wantErr: forbidden, op: upd(d("_id", p1), d("$unset", d("secret", "")))},
		{name: "$rename into secret", coll: "profiles", wantErr: forbidden, op: upd(d("_id", p1), d("$rename", d("name", "secret")))},
		{name: "$rename secret out", coll: "profiles", wantErr: forbidden, op: upd(d("_id", p1), d("$rename", d("secret", "leak")))},
		{name: "$setOnInsert secret", coll: "profiles", wantErr: forbidden, op: upd(d("_id", p1), d("$setOnInsert", d("secret", "x")))},
		{name: "$[] into secret", coll: "profiles", wantErr: forbidden, op: upd(d("_id", p1), d("$set", d("secret.$[]", "x")))},
		{name: "$[id] into secret", coll: "profiles", wantErr: forbidden, op: upd(d("_id", p1), d("$set", d("secret.$[e]", "x")), d("e", "y"))},
		{name: "arrayFilters probing secret", coll: "profiles", wantErr: forbidden, op: upd(d("_id", p1), d("$set", d("tags.$[e]", "z")), d("e", "a"), d("secret", secretValue))},
		{name: "arrayFilters probing nested.priv", coll: "profiles", wantErr: forbidden, op: upd(d("_id", p1), d("$set", d("items.$[e].k", int32(3))), d("e.k", int32(1)), d("nested.priv", secretValue))},
		{name: "$pull condition on secret", coll: "profiles", wantErr: forbidden, op: upd(d("_id", p1), d("$pull", d("secret", "x")))},
		{name: "$inc secret", coll: "profiles", wantErr: forbidden, op: upd(d("_id", p1), d("$inc", d("secret", 1)))},
		{name: "replacement dropping secret", coll: "profiles", wantErr: rules.ErrUpdateNotPermitted, op: upd(d("_id", p1), d("owner_id", "alice", "name", "Alice"))},
		{name: "updateMany operator-less setting secret", coll: "profiles", wantErr: forbidden, op: updMany(d("_id", p1), d("secret", "x"))},
		{name: "read-only additional field", coll: "profiles", wantErr: rules.ErrUpdateNotPermitted, op: upd(d("_id", p1), d("$set", d("extra", "x")))},
		// Owner changes and upserts.
		{name: "owner change via $set", coll: "notes", wantErr: rules.ErrUpdateNotPermitted, op: upd(d("_id", n1), d("$set", d("owner_id", "bob")))},
		{name: "owner change via replacement", coll: "notes", wantErr: rules.ErrUpdateNotPermitted, op: upd(d("_id", n1), d("owner_id", "bob", "text", "x"))},
		{name: "owner removed via $unset", coll: "notes", wantErr: rules.ErrUpdateNotPermitted, op: upd(d("_id", n1), d("$unset", d("owner_id", "")))},
		{name: "owner moved via $rename", coll: "notes", wantErr: rules.ErrUpdateNotPermitted, op: upd(d("_id", n1), d("$rename", d("owner_id", "was")))},
		{name: "insert owned by someone else", coll: "notes", wantErr: rules.ErrInsertNotPermitted, op: ins(d("owner_id", "bob", "text", "x"))},
		{name: "upsert owned by someone else", coll: "notes", wantErr: rules.ErrInsertNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) {
				return c.UpdateOne(f.ctx, d("owner_id", "bob", "text", "new"), d("$set", d("n", 1)), UpdateOptions{Upsert: true})
			}},
		{name: "findOneAndUpdate owner change", coll: "notes", wantErr: rules.ErrUpdateNotPermitted,
			op: func(f *fixture, c *Collection) (any, error) {
				return c.FindOneAndUpdate(f.ctx, d("_id", n1), d("$set", d("owner_id", "bob")), FindOneAndModifyOptions{})
			}},
		// Values that are not data, nesting, size.
		{name: "$where wrapper inside an inserted value", coll: "notes", wantCode: CodeInvalidParameter, op: ins(d("owner_id", "alice", "x", d("$where", "1")))},
		{name: "$oid wrapper left as a document", coll: "notes", wantCode: CodeInvalidParameter, op: ins(d("owner_id", "alice", "x", d("$oid", "65f000000000000000000002")))},
		{name: "duplicate keys", coll: "notes", wantCode: CodeInvalidParameter, op: ins(d("owner_id", "alice", "owner_id", "bob"))},
		{name: "nesting beyond 100 in a document", coll: "notes", wantCode: CodeMongoDBError, op: ins(d("owner_id", "alice", "x", deep(120)))},
		{name: "nesting beyond 100 in a filter", coll: "notes", wantCode: CodeMongoDBError, op: read(d("x", deep(120)), nil, nil)},
		{name: "nesting beyond 100 in an update", coll: "notes", wantCode: CodeMongoDBError, op: upd(d("_id", n1), d("$set", d("x", deep(120))))},
		{name: "huge array", coll: "notes", wantCode: CodeMongoDBError, op: ins(d("owner_id", "alice", "x", huge))},
	}
	for i := range cases {
		cases[i].req = alice
	}
	runWriteCases(t, seedProtected, cases)
	// No error message carries a protected value.
	f := newFixture(t)
	seedProtected(f)
	for _, c := range cases {
		_, err := c.op(f, f.coll(f.alice, c.coll))
		if err != nil && strings.Contains(err.Error(), secretValue) {
			t.Errorf("%s: error leaks the value: %v", c.name, err)
		}
	}
}
