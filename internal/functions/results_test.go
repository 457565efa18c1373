package functions

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestWriteResultCountsAreNumbers: the counts of updateOne, updateMany,
// deleteOne and deleteMany are JavaScript numbers inside functions (as in
// App Services), so strict comparisons with number literals hold.
func TestWriteResultCountsAreNumbers(t *testing.T) {
	src := `exports = async function(){
		const c = context.services.get("mongodb-atlas").db("db").collection("counts");
		await c.insertMany([{_id: 1, n: 0}, {_id: 2, n: 0}, {_id: 3, n: 0}]);
		const out = [];
		const check = (what, r, k, want) => {
			if (typeof r[k] !== "number") out.push(what + "." + k + " is " + typeof r[k]);
			else if (r[k] !== want) out.push(what + "." + k + " = " + r[k] + ", want " + want);
		};
		let r = await c.updateOne({_id: 1}, {$set: {n: 1}});
		check("updateOne", r, "matchedCount", 1); check("updateOne", r, "modifiedCount", 1);
		if (r.upsertedId !== undefined) out.push("updateOne.upsertedId set");
		r = await c.updateOne({_id: 9}, {$set: {n: 1}});
		check("updateOne none", r, "matchedCount", 0); check("updateOne none", r, "modifiedCount", 0);
		r = await c.updateOne({_id: 8}, {$set: {n: 1}}, {upsert: true});
		check("upsert", r, "matchedCount", 0); check("upsert", r, "modifiedCount", 0);
		if (r.upsertedId !== 8) out.push("upsert.upsertedId = " + r.upsertedId);
		r = await c.updateMany({}, {$set: {n: 2}});
		check("updateMany", r, "matchedCount", 4); check("updateMany", r, "modifiedCount", 4);
		r = await c.deleteOne({_id: 1});
		check("deleteOne", r, "deletedCount", 1);
		r = await c.deleteOne({_id: 1});
		check("deleteOne none", r, "deletedCount", 0);
		r = await c.deleteMany({});
		check("deleteMany", r, "deletedCount", 3);
		const n = await c.count({});
		if (n !== 0) out.push("count = " + n);
		return out.join("; ");
	}`
	e := testEngine(t, testApp(t, fnFiles(map[string]string{"counts": src}, `[{"name":"counts","run_as_system":true}]`)), Config{})
	got, err := e.Call(tctx(t), SystemCaller(), "counts", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != "" {
		t.Error(got)
	}
}

// TestMethodArgumentsRunningJavaScript: a collection method whose
// argument conversion runs JavaScript (a getter) calling another
// collection's method still runs on its own collection.
func TestMethodArgumentsRunningJavaScript(t *testing.T) {
	src := `exports = async function(){
		const db = context.services.get("mongodb-atlas").db("db");
		const a = db.collection("a"), b = db.collection("b");
		await a.insertOne({_id: 1, in: "a"});
		await b.insertOne({_id: 1, in: "b"});
		let inner;
		const filter = { get _id() { inner = b.findOne({_id: 1}); return 1 } };
		const got = await a.findOne(filter);
		return [got.in, (await inner).in];
	}`
	e := testEngine(t, testApp(t, fnFiles(map[string]string{"getter": src}, `[{"name":"getter","run_as_system":true}]`)), Config{})
	got, err := e.Call(tctx(t), SystemCaller(), "getter", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := got.(bson.A); !ok || len(a) != 2 || a[0] != "a" || a[1] != "b" {
		t.Errorf("got %#v, want [a b]", got)
	}
}
