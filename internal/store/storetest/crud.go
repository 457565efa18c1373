package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

// Tests is the suite, in the order it runs.
var Tests = []Test{
	{"NamesDatabase", testNamesDatabase},
	{"NamesCollection", testNamesCollection},
	{"Databases", testDatabases},
	{"Collections", testCollections},
	{"DatabaseNameCase", testDatabaseNameCase},
	{"InsertOne", testInsertOne},
	{"InsertOneDuplicateID", testInsertOneDuplicateID},
	{"DuplicateKeyMessage", testDuplicateKeyMessage},
	{"InsertManyOrdered", testInsertManyOrdered},
	{"InsertManyUnordered", testInsertManyUnordered},
	{"InsertManyGeneratedIDs", testInsertManyGeneratedIDs},
	{"InsertNearSizeLimit", testInsertNearSizeLimit},
	{"InsertOversize", testInsertOversize},
	{"InsertManyUnorderedMixedFailures", testInsertManyUnorderedMixedFailures},
	{"UpdateOversize", testUpdateOversize},
	{"InsertOverDeep", testInsertOverDeep},
	{"IDOrderAcrossTypes", testIDOrderAcrossTypes},
	{"FindMalformedOptions", testFindMalformedOptions},
	{"ValueTypes", testValueTypes},
	{"ValueTypesDecimalMinMaxKey", testValueTypesDecimalMinMaxKey},
	{"FindOptions", testFindOptions},
	{"FindBatchSize", testFindBatchSize},
	{"SortArrays", testSortArrays},
	{"FindOne", testFindOne},
	{"FindMalformedFilter", testFindMalformedFilter},
	{"CountDocuments", testCountDocuments},
	{"Distinct", testDistinct},
	{"UpdateOneMany", testUpdateOneMany},
	{"UpdateUpsert", testUpdateUpsert},
	{"UpdateUpsertID", testUpdateUpsertID},
	{"UpdateArrayFilters", testUpdateArrayFilters},
	{"UpdatePositional", testUpdatePositional},
	{"UpdateIDImmutable", testUpdateIDImmutable},
	{"UpdateMalformed", testUpdateMalformed},
	{"ReplaceOne", testReplaceOne},
	{"ReplaceOneNoChange", testReplaceOneNoChange},
	{"DeleteOneMany", testDeleteOneMany},
	{"FindOneAndUpdate", testFindOneAndUpdate},
	{"FindOneAndUpdateUpsert", testFindOneAndUpdateUpsert},
	{"FindOneAndReplace", testFindOneAndReplace},
	{"FindOneAndDelete", testFindOneAndDelete},
	{"FindOneAndModifyProjection", testFindOneAndModifyProjection},
	{"ConcurrentWrites", testConcurrentWrites},
	{"CancelledContext", testCancelledContext},
	{"Aggregate", testAggregate},
	{"AggregateExpressions", testAggregateExpressions},
	{"AggregateUnknownStage", testAggregateUnknownStage},
	{"AggregateLookup", testAggregateLookup},
	{"IndexesCreateListDrop", testIndexesCreateListDrop},
	{"IndexesOnID", testIndexesOnID},
	{"IndexesGoIntKeys", testIndexesGoIntKeys},
	{"IndexesBadSpec", testIndexesBadSpec},
	{"IndexesUnique", testIndexesUnique},
	{"IndexesUniqueUpdate", testIndexesUniqueUpdate},
	{"IndexesUniqueMissingField", testIndexesUniqueMissingField},
	{"IndexesUniqueOnExistingDuplicates", testIndexesUniqueOnExistingDuplicates},
	{"IndexesUniqueMultikey", testIndexesUniqueMultikey},
	{"IndexesPartial", testIndexesPartial},
	{"IndexesQueryResults", testIndexesQueryResults},
	{"TransactionCommit", testTransactionCommit},
	{"TransactionAbort", testTransactionAbort},
	{"TransactionReadModifyWrite", testTransactionReadModifyWrite},
	{"TransactionOutsideWrite", testTransactionOutsideWrite},
	{"TransactionOutsideWriteContext", testTransactionOutsideWriteContext},
	{"TransactionsUnsupported", testTransactionsUnsupported},
	{"ChangeStreamsUnsupported", testChangeStreamsUnsupported},
	{"ChangeStreamShapes", testChangeStreamShapes},
	{"ChangeStreamResume", testChangeStreamResume},
	{"ChangeStreamStartAtOperationTime", testChangeStreamStartAtOperationTime},
	{"ChangeStreamFullDocument", testChangeStreamFullDocument},
	{"ChangeStreamPreImages", testChangeStreamPreImages},
	{"ChangeStreamMatch", testChangeStreamMatch},
	{"ChangeStreamDatabase", testChangeStreamDatabase},
	{"ChangeStreamMaxAwaitTime", testChangeStreamMaxAwaitTime},
	{"ChangeStreamDropInvalidate", testChangeStreamDropInvalidate},
	{"ChangeStreamTransaction", testChangeStreamTransaction},
	{"ChangeStreamManyWrites", testChangeStreamManyWrites},
	{"ChangeStreamWriteKinds", testChangeStreamWriteKinds},
	{"ChangeStreamPostImages", testChangeStreamPostImages},
	{"ChangeStreamDropDatabase", testChangeStreamDropDatabase},
	{"ChangeStreamCollectionIsolation", testChangeStreamCollectionIsolation},
}

var badDatabaseNames = []string{"", "a.b", "a$b", "a b", "a/b", "a\\b", "a\x00b", "a*b", "a:b", strings.Repeat("d", 64)}

func testNamesDatabase(t *testing.T, e *Env) {
	for _, name := range badDatabaseNames {
		db := e.Store.Database(name)
		_, err := db.Collection("c").InsertOne(e.Ctx, D(t, `{"a": 1}`))
		Code(t, err, store.CodeInvalidNamespace)
		_, err = db.ListCollections(e.Ctx)
		Code(t, err, store.CodeInvalidNamespace)
		Code(t, db.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}), store.CodeInvalidNamespace)
		_, err = db.Collection("c").Find(e.Ctx, bson.D{}, store.FindOptions{})
		Code(t, err, store.CodeInvalidNamespace)
		_, err = db.Watch(e.Ctx, nil, store.WatchOptions{})
		Code(t, err, store.CodeInvalidNamespace)
		Code(t, db.Drop(e.Ctx), store.CodeInvalidNamespace)
	}
	dbs, err := e.Store.ListDatabases(e.Ctx)
	NoErr(t, err)
	for _, name := range dbs {
		if store.ValidateDatabaseName(name) != nil {
			t.Errorf("a database with an invalid name was created: %q", name)
		}
	}
}

func testNamesCollection(t *testing.T, e *Env) {
	bad := []string{"", "a$b", "system.users", "system.x", "a\x00b", ".a", "a.", strings.Repeat("c", 255)}
	for _, name := range bad {
		c := e.C(name)
		_, err := c.InsertOne(e.Ctx, D(t, `{"a": 1}`))
		Code(t, err, store.CodeInvalidNamespace)
		_, err = c.InsertMany(e.Ctx, Docs(t, `[{"a": 1}]`), store.InsertManyOptions{})
		Code(t, err, store.CodeInvalidNamespace)
		_, err = c.UpdateOne(e.Ctx, bson.D{}, D(t, `{"$set": {"a": 1}}`), store.UpdateOptions{Upsert: true})
		Code(t, err, store.CodeInvalidNamespace)
		_, err = c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"a": 1}`)})
		Code(t, err, store.CodeInvalidNamespace)
		Code(t, e.DB.CreateCollection(e.Ctx, name, store.CreateCollectionOptions{}), store.CodeInvalidNamespace)
		_, err = c.Watch(e.Ctx, nil, store.WatchOptions{})
		Code(t, err, store.CodeInvalidNamespace)
		_, err = c.FindOneAndDelete(e.Ctx, bson.D{}, store.FindOneAndModifyOptions{})
		Code(t, err, store.CodeInvalidNamespace)
	}
	// Dots inside a name are fine.
	_, err := e.C("a.b").InsertOne(e.Ctx, D(t, `{"_id": 1}`))
	NoErr(t, err)
	names, err := e.DB.ListCollections(e.Ctx)
	NoErr(t, err)
	Equal(t, toA(names), `["a.b"]`)
}

func toA[T any](xs []T) bson.A {
	a := bson.A{}
	for _, x := range xs {
		a = append(a, x)
	}
	return a
}

func testDatabases(t *testing.T, e *Env) {
	_, err := e.C("c").InsertOne(e.Ctx, D(t, `{"_id": 1}`))
	NoErr(t, err)
	dbs, err := e.Store.ListDatabases(e.Ctx)
	NoErr(t, err)
	if !contains(dbs, e.DB.Name()) {
		t.Errorf("ListDatabases %q lacks %s after an insert", dbs, e.DB.Name())
	}
	if !strings.HasPrefix(e.DB.Name(), "st_") || e.C("c").Database() != e.DB.Name() || e.C("c").Name() != "c" {
		t.Errorf("handle names are wrong")
	}
	NoErr(t, e.DB.Drop(e.Ctx))
	dbs, err = e.Store.ListDatabases(e.Ctx)
	NoErr(t, err)
	if contains(dbs, e.DB.Name()) {
		t.Errorf("ListDatabases %q still lists %s after Drop", dbs, e.DB.Name())
	}
	n, err := e.C("c").CountDocuments(e.Ctx, bson.D{}, store.CountOptions{})
	NoErr(t, err)
	if n != 0 {
		t.Errorf("dropped database still has %d documents", n)
	}
	// Dropping what does not exist is not an error.
	NoErr(t, e.Store.Database(uniqueName()).Drop(e.Ctx))
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// testDatabaseNameCase: MongoDB refuses a database whose name differs
// from an existing one only in case (code 13297, DatabaseDifferCase).
func testDatabaseNameCase(t *testing.T, e *Env) {
	_, err := e.C("c").InsertOne(e.Ctx, D(t, `{"_id": 1}`))
	NoErr(t, err)
	upper := e.Store.Database(strings.ToUpper(e.DB.Name()))
	t.Cleanup(func() { _ = upper.Drop(context.Background()) })
	_, err = upper.Collection("c").InsertOne(e.Ctx, D(t, `{"_id": 1}`))
	Code(t, err, 13297)
}

func testCollections(t *testing.T, e *Env) {
	names, err := e.DB.ListCollections(e.Ctx)
	NoErr(t, err)
	if len(names) != 0 {
		t.Errorf("a new database lists %q", names)
	}
	NoErr(t, e.DB.CreateCollection(e.Ctx, "b", store.CreateCollectionOptions{}))
	Code(t, e.DB.CreateCollection(e.Ctx, "b", store.CreateCollectionOptions{}), store.CodeNamespaceExists)
	_, err = e.C("a").InsertOne(e.Ctx, D(t, `{"_id": 1}`)) // implicit creation
	NoErr(t, err)
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	names, err = e.DB.ListCollections(e.Ctx)
	NoErr(t, err)
	Equal(t, toA(names), `["a", "b", "c"]`)
	// An explicitly created collection is empty and has its _id index.
	idx, err := e.C("b").ListIndexes(e.Ctx)
	NoErr(t, err)
	if len(idx) != 1 || idx[0].Name != "_id_" {
		t.Errorf("ListIndexes of a new collection: %+v", idx)
	}
	NoErr(t, e.C("a").Drop(e.Ctx))
	NoErr(t, e.C("a").Drop(e.Ctx)) // dropping twice is fine
	NoErr(t, e.C("nope").Drop(e.Ctx))
	names, err = e.DB.ListCollections(e.Ctx)
	NoErr(t, err)
	Equal(t, toA(names), `["b", "c"]`)
	docs := Find(t, e, e.C("a"), `{}`, store.FindOptions{})
	if len(docs) != 0 {
		t.Errorf("dropped collection returns %d documents", len(docs))
	}
	// Reading a collection does not create it.
	names, _ = e.DB.ListCollections(e.Ctx)
	if contains(names, "a") {
		t.Errorf("a read re-created the dropped collection")
	}
}

func testInsertOne(t *testing.T, e *Env) {
	c := e.C("c")
	r, err := c.InsertOne(e.Ctx, D(t, `{"_id": "x", "a": 1}`))
	NoErr(t, err)
	Equal(t, r.InsertedID, `"x"`)
	r, err = c.InsertOne(e.Ctx, D(t, `{"a": 2, "b": {"c": [1, {"d": 2}]}}`))
	NoErr(t, err)
	id, ok := r.InsertedID.(bson.ObjectID)
	if !ok {
		t.Fatalf("generated _id is %T, want bson.ObjectID", r.InsertedID)
	}
	got, err := c.FindOne(e.Ctx, bson.D{{Key: "_id", Value: id}}, store.FindOptions{})
	NoErr(t, err)
	want := append(bson.D{{Key: "_id", Value: id}}, D(t, `{"a": 2, "b": {"c": [1, {"d": 2}]}}`)...)
	if ejson(got) != ejson(want) {
		t.Errorf("stored %s, want %s (the generated _id first)", ejson(got), ejson(want))
	}
	// An _id that is a document or null is allowed.
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": {"k": 1, "j": 2}}`))
	NoErr(t, err)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": null}`))
	NoErr(t, err)
	got, err = c.FindOne(e.Ctx, D(t, `{"_id": {"k": 1, "j": 2}}`), store.FindOptions{})
	NoErr(t, err)
	Equal(t, got, `{"_id": {"k": 1, "j": 2}}`)
	// _id is placed first even when given later.
	_, err = c.InsertOne(e.Ctx, D(t, `{"z": 1, "_id": 9}`))
	NoErr(t, err)
	got, err = c.FindOne(e.Ctx, D(t, `{"_id": 9}`), store.FindOptions{})
	NoErr(t, err)
	Equal(t, got, `{"_id": 9, "z": 1}`)
	// An array _id is refused, and nothing is written.
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": [1, 2]}`))
	if err == nil {
		t.Errorf("an array _id was accepted")
	}
	n, err := c.CountDocuments(e.Ctx, bson.D{}, store.CountOptions{})
	NoErr(t, err)
	if n != 5 {
		t.Errorf("count %d, want 5", n)
	}
}

func testInsertOneDuplicateID(t *testing.T, e *Env) {
	c := e.C("c")
	_, err := c.InsertOne(e.Ctx, D(t, `{"_id": 1, "v": "first"}`))
	NoErr(t, err)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 1, "v": "second"}`))
	se := Code(t, err, store.CodeDuplicateKey)
	if !store.IsDuplicateKey(err) {
		t.Errorf("IsDuplicateKey is false for %v", err)
	}
	if want := "E11000 duplicate key error collection: " + e.DB.Name() + ".c"; se != nil && !strings.HasPrefix(se.Message, want) {
		t.Errorf("message %q does not start with %q", se.Message, want)
	}
	// 1, 1.0 and NumberLong(1) are the same _id.
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": 1.0}`))
	Code(t, err, store.CodeDuplicateKey)
	_, err = c.InsertOne(e.Ctx, D(t, `{"_id": {"$numberLong": "1"}}`))
	Code(t, err, store.CodeDuplicateKey)
	got, err := c.FindOne(e.Ctx, D(t, `{"_id": 1}`), store.FindOptions{})
	NoErr(t, err)
	Equal(t, got, `{"_id": 1, "v": "first"}`)
}

// testDuplicateKeyMessage holds the whole of MongoDB's E11000 message:
// the namespace, the index and the key, in the shell's notation.
func testDuplicateKeyMessage(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "email": "x", "a": 1, "b": "x"}]`)
	_, err := c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"email": 1}`), Unique: true})
	NoErr(t, err)
	_, err = c.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"a": 1, "b": 1}`), Unique: true})
	NoErr(t, err)
	cases := []struct{ doc, want string }{
		{`{"_id": 1}`, `index: _id_ dup key: { _id: 1 }`},
		{`{"_id": 2, "email": "x"}`, `index: email_1 dup key: { email: "x" }`},
		{`{"_id": 3, "email": "y", "a": 1, "b": "x"}`, `index: a_1_b_1 dup key: { a: 1, b: "x" }`},
	}
	for _, tc := range cases {
		_, err := c.InsertOne(e.Ctx, D(t, tc.doc))
		if se := Code(t, err, store.CodeDuplicateKey); se != nil {
			want := "E11000 duplicate key error collection: " + e.DB.Name() + ".c " + tc.want
			if se.Message != want {
				t.Errorf("message %q\nwant    %q", se.Message, want)
			}
		}
	}
}

func bulkError(t *testing.T, err error) *store.BulkWriteError {
	t.Helper()
	var bwe *store.BulkWriteError
	if !errors.As(err, &bwe) {
		t.Fatalf("error %v (%T) is not a *store.BulkWriteError", err, err)
	}
	return bwe
}

func failedIndexes(bwe *store.BulkWriteError) bson.A {
	a := bson.A{}
	for _, we := range bwe.WriteErrors {
		a = append(a, int32(we.Index))
	}
	return a
}

func testInsertManyOrdered(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 3}]`)
	r, err := c.InsertMany(e.Ctx, Docs(t, `[{"_id": 1}, {"_id": 2}, {"_id": 3}, {"_id": 4}, {"_id": 3}]`), store.InsertManyOptions{})
	bwe := bulkError(t, err)
	Equal(t, failedIndexes(bwe), `[2]`)
	if bwe.WriteErrors[0].Code != store.CodeDuplicateKey || !strings.Contains(bwe.WriteErrors[0].Message, "E11000") {
		t.Errorf("write error %+v, want an E11000 duplicate key error", bwe.WriteErrors[0])
	}
	if store.ErrorCode(err) != store.CodeDuplicateKey {
		t.Errorf("ErrorCode(%v) = %d", err, store.ErrorCode(err))
	}
	if r == nil {
		t.Fatalf("no result with the partial failure")
	}
	Equal(t, toA(r.InsertedIDs), `[1, 2]`)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}), `[{"_id": 1}, {"_id": 2}, {"_id": 3}]`)

	// Duplicates within the batch.
	c2 := e.C("c2")
	r, err = c2.InsertMany(e.Ctx, Docs(t, `[{"_id": 1}, {"_id": 1}, {"_id": 2}]`), store.InsertManyOptions{})
	Equal(t, failedIndexes(bulkError(t, err)), `[1]`)
	Equal(t, toA(r.InsertedIDs), `[1]`)
	EqualDocs(t, Find(t, e, c2, `{}`, store.FindOptions{}), `[{"_id": 1}]`)

	// A fully successful InsertMany.
	r, err = e.C("c3").InsertMany(e.Ctx, Docs(t, `[{"_id": "a"}, {"_id": "b"}]`), store.InsertManyOptions{})
	NoErr(t, err)
	Equal(t, toA(r.InsertedIDs), `["a", "b"]`)
}

func testInsertManyUnordered(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 3}]`)
	r, err := c.InsertMany(e.Ctx, Docs(t, `[{"_id": 1}, {"_id": 1}, {"_id": 2}, {"_id": 3}, {"_id": 4}]`), store.InsertManyOptions{Unordered: true})
	bwe := bulkError(t, err)
	Equal(t, failedIndexes(bwe), `[1, 3]`)
	for _, we := range bwe.WriteErrors {
		if we.Code != store.CodeDuplicateKey {
			t.Errorf("write error %+v, want code 11000", we)
		}
	}
	if r == nil {
		t.Fatalf("no result with the partial failure")
	}
	Equal(t, toA(r.InsertedIDs), `[1, 2, 4]`)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}), `[{"_id": 1}, {"_id": 2}, {"_id": 3}, {"_id": 4}]`)
}

func testInsertManyGeneratedIDs(t *testing.T, e *Env) {
	c := e.C("c")
	r, err := c.InsertMany(e.Ctx, Docs(t, `[{"n": 1}, {"_id": 7, "n": 2}, {"n": 3}]`), store.InsertManyOptions{})
	NoErr(t, err)
	if len(r.InsertedIDs) != 3 {
		t.Fatalf("InsertedIDs %v", r.InsertedIDs)
	}
	Equal(t, r.InsertedIDs[1], `7`)
	for i, n := range []int32{1, 2, 3} {
		got, err := c.FindOne(e.Ctx, bson.D{{Key: "n", Value: n}}, store.FindOptions{})
		NoErr(t, err)
		if ejson(got[0].Value) != ejson(r.InsertedIDs[i]) {
			t.Errorf("document %d has _id %s, InsertedIDs says %s", i, ejson(got[0].Value), ejson(r.InsertedIDs[i]))
		}
	}
	if _, ok := r.InsertedIDs[0].(bson.ObjectID); !ok {
		t.Errorf("generated _id is %T", r.InsertedIDs[0])
	}
	// A null _id is an _id like any other.
	r, err = e.C("nulls").InsertMany(e.Ctx, Docs(t, `[{"_id": null}, {"_id": 1}, {"_id": null}]`), store.InsertManyOptions{Unordered: true})
	Equal(t, failedIndexes(bulkError(t, err)), `[2]`)
	Equal(t, toA(r.InsertedIDs), `[null, 1]`)
}

func testInsertNearSizeLimit(t *testing.T, e *Env) {
	c := e.C("c")
	// A document just under 16 MiB is stored and read back whole.
	s := strings.Repeat("z", mql.MaxDocumentSize-1024)
	_, err := c.InsertOne(e.Ctx, bson.D{{Key: "_id", Value: int32(1)}, {Key: "s", Value: s}})
	NoErr(t, err)
	got, err := c.FindOne(e.Ctx, D(t, `{"_id": 1}`), store.FindOptions{})
	NoErr(t, err)
	if v, _ := mql.Get(got, "s").(string); len(v) != len(s) {
		t.Errorf("read back %d bytes, want %d", len(v), len(s))
	}
}

func testInsertOversize(t *testing.T, e *Env) {
	c := e.C("c")
	big := strings.Repeat("x", mql.MaxDocumentSize)
	_, err := c.InsertOne(e.Ctx, bson.D{{Key: "_id", Value: 1}, {Key: "s", Value: big}})
	Code(t, err, mql.CodeBSONObjectTooLarge)
	// Ordered: the documents before the oversize one are inserted.
	r, err := c.InsertMany(e.Ctx, []bson.D{{{Key: "_id", Value: 2}}, {{Key: "_id", Value: 3}, {Key: "s", Value: big}}, {{Key: "_id", Value: 4}}}, store.InsertManyOptions{})
	bwe := bulkError(t, err)
	Equal(t, failedIndexes(bwe), `[1]`)
	if bwe.WriteErrors[0].Code != mql.CodeBSONObjectTooLarge {
		t.Errorf("write error %+v, want code %d", bwe.WriteErrors[0], mql.CodeBSONObjectTooLarge)
	}
	Equal(t, toA(r.InsertedIDs), `[2]`)
	// Ordered, a failure before the oversize document stops the insert
	// there: only the first failure is reported.
	r, err = c.InsertMany(e.Ctx, []bson.D{{{Key: "_id", Value: 5}}, {{Key: "_id", Value: 2}}, {{Key: "_id", Value: 6}, {Key: "s", Value: big}}, {{Key: "_id", Value: 7}}}, store.InsertManyOptions{})
	bwe = bulkError(t, err)
	Equal(t, failedIndexes(bwe), `[1]`)
	if bwe.WriteErrors[0].Code != store.CodeDuplicateKey {
		t.Errorf("write error %+v, want code 11000", bwe.WriteErrors[0])
	}
	Equal(t, toA(r.InsertedIDs), `[5]`)
	_, err = c.DeleteOne(e.Ctx, D(t, `{"_id": 5}`))
	NoErr(t, err)
	// A replacement that is too large is refused and nothing changes.
	_, err = c.ReplaceOne(e.Ctx, D(t, `{"_id": 2}`), bson.D{{Key: "s", Value: big}}, store.UpdateOptions{})
	if err == nil {
		t.Errorf("an oversize replacement was accepted")
	}
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{}), `[{"_id": 2}]`)
}

func testUpdateOversize(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 2}]`)
	// An update that would grow the document past the limit is refused.
	half := strings.Repeat("y", mql.MaxDocumentSize/2+10)
	_, err := c.UpdateOne(e.Ctx, D(t, `{"_id": 2}`), bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: half}, {Key: "b", Value: half}}}}, store.UpdateOptions{})
	if err == nil {
		t.Errorf("an update growing the document past 16 MiB was accepted")
	} else if _, ok := errors.AsType[*store.Error](err); !ok {
		t.Errorf("oversize update: %v is not a *store.Error", err)
	}
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{}), `[{"_id": 2}]`)
}

func testInsertManyUnorderedMixedFailures(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1}]`)
	big := strings.Repeat("x", mql.MaxDocumentSize)
	docs := []bson.D{{{Key: "_id", Value: int32(10)}}, {{Key: "_id", Value: int32(11)}, {Key: "s", Value: big}}, {{Key: "_id", Value: int32(1)}}, {{Key: "_id", Value: int32(12)}}, {{Key: "_id", Value: int32(13)}, {Key: "d", Value: nested(150)}}}
	r, err := c.InsertMany(e.Ctx, docs, store.InsertManyOptions{Unordered: true})
	bwe := bulkError(t, err)
	Equal(t, failedIndexes(bwe), `[1, 2, 4]`)
	if len(bwe.WriteErrors) == 3 {
		if bwe.WriteErrors[0].Code != mql.CodeBSONObjectTooLarge || bwe.WriteErrors[1].Code != store.CodeDuplicateKey {
			t.Errorf("write errors %+v", bwe.WriteErrors)
		}
	}
	Equal(t, toA(r.InsertedIDs), `[10, 12]`)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}), `[{"_id": 1}, {"_id": 10}, {"_id": 12}]`)
}

func nested(depth int) bson.D {
	d := bson.D{{Key: "leaf", Value: 1}}
	for i := 1; i < depth; i++ {
		d = bson.D{{Key: "x", Value: d}}
	}
	return d
}

func testInsertOverDeep(t *testing.T, e *Env) {
	c := e.C("c")
	_, err := c.InsertOne(e.Ctx, append(bson.D{{Key: "_id", Value: 1}}, nested(50)...))
	NoErr(t, err)
	_, err = c.InsertOne(e.Ctx, bson.D{{Key: "_id", Value: 2}, {Key: "deep", Value: nested(150)}})
	if err == nil {
		t.Fatalf("a document nested 150 levels deep was accepted")
	}
	if _, ok := errors.AsType[*store.Error](err); !ok {
		t.Errorf("over-deep insert: %v (%T) is not a *store.Error", err, err)
	}
	n, err := c.CountDocuments(e.Ctx, bson.D{}, store.CountOptions{})
	NoErr(t, err)
	if n != 1 {
		t.Errorf("count %d, want 1", n)
	}
}

// testIDOrderAcrossTypes: _id values of different types sort in MongoDB's
// comparison order, and range queries stay within a type (bracketing).
func testIDOrderAcrossTypes(t *testing.T, e *Env) {
	c := e.C("c")
	oid := bson.NewObjectID()
	docs := []bson.D{
		{{Key: "_id", Value: "a"}}, {{Key: "_id", Value: int64(7)}}, {{Key: "_id", Value: oid}}, {{Key: "_id", Value: 3.5}},
		{{Key: "_id", Value: bson.D{{Key: "x", Value: int32(1)}}}}, {{Key: "_id", Value: nil}}, {{Key: "_id", Value: "B"}},
		{{Key: "_id", Value: int32(1)}}, {{Key: "_id", Value: true}}, {{Key: "_id", Value: bson.DateTime(0)}},
		{{Key: "_id", Value: bson.D{{Key: "x", Value: int32(0)}, {Key: "y", Value: int32(5)}}}}, {{Key: "_id", Value: -2.25}},
	}
	_, err := c.InsertMany(e.Ctx, docs, store.InsertManyOptions{})
	NoErr(t, err)
	ids := func(filter string, sort string) bson.A {
		a := bson.A{}
		for _, d := range Find(t, e, c, filter, store.FindOptions{Sort: D(t, sort)}) {
			a = append(a, d[0].Value)
		}
		return a
	}
	want := bson.A{nil, -2.25, int32(1), 3.5, int64(7), "B", "a", bson.D{{Key: "x", Value: int32(0)}, {Key: "y", Value: int32(5)}},
		bson.D{{Key: "x", Value: int32(1)}}, oid, true, bson.DateTime(0)}
	if got := ids(`{}`, `{"_id": 1}`); ejson(got) != ejson(want) {
		t.Errorf("sorted by _id:\n got %s\nwant %s", ejson(got), ejson(want))
	}
	rev := slices.Clone(want)
	slices.Reverse(rev)
	if got := ids(`{}`, `{"_id": -1}`); ejson(got) != ejson(rev) {
		t.Errorf("sorted by _id descending:\n got %s\nwant %s", ejson(got), ejson(rev))
	}
	Equal(t, ids(`{"_id": {"$gt": 2}}`, `{"_id": 1}`), `[3.5, {"$numberLong": "7"}]`)
	Equal(t, ids(`{"_id": {"$lte": 1}}`, `{"_id": 1}`), `[-2.25, 1]`)
	Equal(t, ids(`{"_id": {"$lt": "b"}}`, `{"_id": 1}`), `["B", "a"]`)
	Equal(t, ids(`{"_id": {"$in": [7, "a", null, 99]}}`, `{"_id": 1}`), `[null, {"$numberLong": "7"}, "a"]`)
	Equal(t, ids(`{"_id": {"$gte": {"x": 0}}}`, `{"_id": 1}`), `[{"x": 0, "y": 5}, {"x": 1}]`)
	Equal(t, ids(`{"_id": 1.0}`, `{"_id": 1}`), `[1]`)
}

// testFindMalformedOptions: bad sort and projection specifications are
// refused with a typed error.
func testFindMalformedOptions(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "a": 1, "b": 2}]`)
	bad := []store.FindOptions{
		{Projection: D(t, `{"a": 1, "b": 0}`)},
		{Projection: D(t, `{"a": 0, "b": 1}`)},
		{Sort: D(t, `{"a": 2}`)},
		{Sort: D(t, `{"a": "up"}`)},
	}
	for _, opts := range bad {
		cur, err := c.Find(e.Ctx, bson.D{}, opts)
		if err == nil {
			_, err = store.All(e.Ctx, cur)
		}
		if _, ok := errors.AsType[*store.Error](err); !ok {
			t.Errorf("find with sort %s, projection %s: %v (%T), want a *store.Error", ejson(opts.Sort), ejson(opts.Projection), err, err)
		}
	}
	// Excluding _id in an inclusion projection is fine.
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Projection: D(t, `{"a": 1, "_id": 0}`)}), `[{"a": 1}]`)
}

func testValueTypes(t *testing.T, e *Env) {
	c := e.C("c")
	oid := bson.NewObjectID()
	doc := bson.D{
		{Key: "_id", Value: oid},
		{Key: "i32", Value: int32(1)},
		{Key: "i64", Value: int64(1) << 40},
		{Key: "goint", Value: 5},
		{Key: "f", Value: 1.5},
		{Key: "s", Value: "héllo"},
		{Key: "b", Value: true},
		{Key: "n", Value: nil},
		{Key: "date", Value: bson.DateTime(1700000000123)},
		{Key: "bin", Value: bson.Binary{Subtype: 0, Data: []byte{1, 2, 3}}},
		{Key: "uuid", Value: bson.Binary{Subtype: 4, Data: make([]byte, 16)}},
		{Key: "re", Value: bson.Regex{Pattern: "^a", Options: "i"}},
		{Key: "ts", Value: bson.Timestamp{T: 5, I: 6}},
		{Key: "doc", Value: bson.D{{Key: "z", Value: int32(1)}, {Key: "a", Value: bson.A{int32(1), bson.D{{Key: "q", Value: bson.A{}}}}}}},
		{Key: "empty", Value: bson.D{}},
	}
	_, err := c.InsertOne(e.Ctx, doc)
	NoErr(t, err)
	got, err := c.FindOne(e.Ctx, bson.D{{Key: "_id", Value: oid}}, store.FindOptions{})
	NoErr(t, err)
	// Go ints are stored as int32 when they fit, as the driver encodes them.
	want := slices_replace(doc, "goint", int32(5))
	if ejson(got) != ejson(want) {
		t.Errorf("round trip\n got %s\nwant %s", ejson(got), ejson(want))
	}
	if err := checkTypes(got); err != nil {
		t.Errorf("decoded document: %v", err)
	}
	for i := range got {
		if i < len(want) && !sameType(got[i].Value, want[i].Value) && want[i].Value != nil {
			t.Errorf("field %s decoded as %T, want %T", got[i].Key, got[i].Value, want[i].Value)
		}
	}
}

func testValueTypesDecimalMinMaxKey(t *testing.T, e *Env) {
	c := e.C("c")
	doc := bson.D{
		{Key: "_id", Value: int32(1)},
		{Key: "dec", Value: mustDecimal(t, "1.10")},
		{Key: "min", Value: bson.MinKey{}},
		{Key: "max", Value: bson.MaxKey{}},
		{Key: "a", Value: bson.A{mustDecimal(t, "-0"), bson.MinKey{}}},
	}
	_, err := c.InsertOne(e.Ctx, doc)
	NoErr(t, err)
	got, err := c.FindOne(e.Ctx, D(t, `{"_id": 1}`), store.FindOptions{})
	NoErr(t, err)
	if ejson(got) != ejson(doc) {
		t.Errorf("round trip\n got %s\nwant %s", ejson(got), ejson(doc))
	}
	// Decimal compares with the other numbers.
	EqualDocs(t, Find(t, e, c, `{"dec": {"$gt": 1.05, "$lt": 1.2}}`, store.FindOptions{Projection: D(t, `{"_id": 1}`)}), `[{"_id": 1}]`)
}

func slices_replace(d bson.D, key string, v any) bson.D {
	out := make(bson.D, len(d))
	copy(out, d)
	for i := range out {
		if out[i].Key == key {
			out[i].Value = v
		}
	}
	return out
}

func mustDecimal(t *testing.T, s string) bson.Decimal128 {
	d, err := bson.ParseDecimal128(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func testFindOptions(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "a": 5, "b": "x"}, {"_id": 2, "a": 3, "b": "y"}, {"_id": 3, "a": 9, "b": "x"},
		{"_id": 4, "a": 1, "b": "z"}, {"_id": 5, "a": 7, "b": "x", "c": {"d": 1, "e": 2}}, {"_id": 6, "b": "w"}]`)
	EqualDocs(t, Find(t, e, c, `{"a": {"$gte": 3}}`, store.FindOptions{Sort: D(t, `{"a": -1}`), Skip: 1, Limit: 2, Projection: D(t, `{"a": 1, "_id": 0}`)}),
		`[{"a": 7}, {"a": 5}]`)
	EqualDocs(t, Find(t, e, c, `{"b": "x"}`, store.FindOptions{Sort: D(t, `{"a": 1}`), Projection: D(t, `{"b": 0}`)}),
		`[{"_id": 1, "a": 5}, {"_id": 5, "a": 7, "c": {"d": 1, "e": 2}}, {"_id": 3, "a": 9}]`)
	// Missing sorts before numbers ascending.
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"a": 1}`), Limit: 2, Projection: D(t, `{"_id": 1}`)}), `[{"_id": 6}, {"_id": 4}]`)
	// Compound sort and dotted projection.
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"b": 1, "a": -1}`), Projection: D(t, `{"c.e": 1}`)}),
		`[{"_id": 6}, {"_id": 3}, {"_id": 5, "c": {"e": 2}}, {"_id": 1}, {"_id": 2}, {"_id": 4}]`)
	// Skip past the end.
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Skip: 100}), `[]`)
	// A nil filter matches everything.
	cur, err := c.Find(e.Ctx, nil, store.FindOptions{})
	NoErr(t, err)
	all, err := store.All(e.Ctx, cur)
	NoErr(t, err)
	if len(all) != 6 {
		t.Errorf("nil filter found %d documents, want 6", len(all))
	}
}

// testSortArrays: an array sorts by its smallest element ascending and by
// its largest descending, computed from the whole array whatever the
// query predicate (MongoDB 3.6+), with or without an index on the field.
func testSortArrays(t *testing.T, e *Env) {
	docs := `[{"_id": 1, "a": [3, -1]}, {"_id": 2, "a": 2}, {"_id": 3, "a": [0, 5]}, {"_id": 4, "a": []}, {"_id": 5}]`
	plain, indexed := e.C("plain"), e.C("indexed")
	_, err := indexed.CreateIndex(e.Ctx, store.IndexModel{Keys: D(t, `{"a": 1}`)})
	NoErr(t, err)
	Insert(t, e, plain, docs)
	Insert(t, e, indexed, docs)
	for _, c := range []store.Collection{plain, indexed} {
		ids := func(sort string, filter string) []bson.D {
			return Find(t, e, c, filter, store.FindOptions{Sort: D(t, sort), Projection: D(t, `{"_id": 1}`)})
		}
		EqualDocs(t, ids(`{"a": 1, "_id": 1}`, `{"a": {"$exists": true, "$ne": []}}`), `[{"_id": 1}, {"_id": 3}, {"_id": 2}]`)
		EqualDocs(t, ids(`{"a": -1, "_id": 1}`, `{"a": {"$exists": true, "$ne": []}}`), `[{"_id": 3}, {"_id": 1}, {"_id": 2}]`)
		EqualDocs(t, ids(`{"a": 1, "_id": 1}`, `{"a": {"$gte": 1}}`), `[{"_id": 1}, {"_id": 3}, {"_id": 2}]`)
	}
}

func testFindBatchSize(t *testing.T, e *Env) {
	c := e.C("c")
	docs := make([]bson.D, 50)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: int32(i)}}
	}
	_, err := c.InsertMany(e.Ctx, docs, store.InsertManyOptions{})
	NoErr(t, err)
	got := Find(t, e, c, `{}`, store.FindOptions{BatchSize: 7, Sort: D(t, `{"_id": 1}`)})
	if len(got) != 50 {
		t.Fatalf("found %d documents with batch size 7, want 50", len(got))
	}
	for i, d := range got {
		if ejson(d) != ejson(docs[i]) {
			t.Fatalf("document %d is %s", i, ejson(d))
		}
	}
	// Doc stays valid after Next.
	cur, err := c.Find(e.Ctx, bson.D{}, store.FindOptions{BatchSize: 2, Sort: D(t, `{"_id": 1}`)})
	NoErr(t, err)
	defer cur.Close(e.Ctx)
	var kept []bson.D
	for cur.Next(e.Ctx) {
		kept = append(kept, cur.Doc())
	}
	NoErr(t, cur.Err())
	if len(kept) != 50 || ejson(kept[0]) != ejson(docs[0]) || ejson(kept[49]) != ejson(docs[49]) {
		t.Errorf("documents changed after Next")
	}
}

func testFindOne(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "a": 2}, {"_id": 2, "a": 1}, {"_id": 3, "a": 3}]`)
	got, err := c.FindOne(e.Ctx, D(t, `{"a": {"$gt": 1}}`), store.FindOptions{Sort: D(t, `{"a": -1}`)})
	NoErr(t, err)
	Equal(t, got, `{"_id": 3, "a": 3}`)
	got, err = c.FindOne(e.Ctx, D(t, `{}`), store.FindOptions{Sort: D(t, `{"a": 1}`), Skip: 1, Projection: D(t, `{"_id": 0}`)})
	NoErr(t, err)
	Equal(t, got, `{"a": 2}`)
	_, err = c.FindOne(e.Ctx, D(t, `{"a": 99}`), store.FindOptions{})
	if !errors.Is(err, store.ErrNoDocuments) {
		t.Errorf("FindOne with no match: %v, want store.ErrNoDocuments", err)
	}
	_, err = e.C("nope").FindOne(e.Ctx, D(t, `{}`), store.FindOptions{})
	if !errors.Is(err, store.ErrNoDocuments) {
		t.Errorf("FindOne on a missing collection: %v, want store.ErrNoDocuments", err)
	}
}

func testFindMalformedFilter(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1}]`)
	cases := []struct {
		filter string
		code   int
	}{
		{`{"a": {"$foo": 1}}`, mql.CodeBadValue},    // unknown operator
		{`{"$and": []}`, mql.CodeBadValue},          // $and needs a non-empty array
		{`{"a": {"$in": 5}}`, mql.CodeBadValue},     // $in needs an array
		{`{"$or": {"a": 1}}`, mql.CodeBadValue},     // $or needs an array
		{`{"a": {"$size": "x"}}`, mql.CodeBadValue}, // $size needs a number
		{`{"a": {"$regex": 5}}`, mql.CodeBadValue},  // $regex needs a string
	}
	for _, tc := range cases {
		cur, err := c.Find(e.Ctx, D(t, tc.filter), store.FindOptions{})
		if err == nil {
			_, err = store.All(e.Ctx, cur)
		}
		if err == nil {
			t.Errorf("filter %s accepted", tc.filter)
			continue
		}
		var se *store.Error
		if !errors.As(err, &se) {
			t.Errorf("filter %s: %v (%T) is not a *store.Error", tc.filter, err, err)
			continue
		}
		if se.Code != tc.code {
			t.Errorf("filter %s: code %d (%s), want %d", tc.filter, se.Code, se.Message, tc.code)
		}
	}
}

func testCountDocuments(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "a": 1}, {"_id": 2, "a": 2}, {"_id": 3, "a": 3}, {"_id": 4, "a": 4}, {"_id": 5, "b": 1}]`)
	cases := []struct {
		filter      string
		skip, limit int64
		want        int64
	}{
		{`{}`, 0, 0, 5},
		{`{"a": {"$gte": 2}}`, 0, 0, 3},
		{`{"a": {"$gte": 2}}`, 1, 0, 2},
		{`{"a": {"$gte": 2}}`, 0, 2, 2},
		{`{"a": {"$gte": 2}}`, 2, 5, 1},
		{`{"a": {"$gte": 2}}`, 10, 0, 0},
		{`{"a": {"$exists": false}}`, 0, 0, 1},
	}
	for _, tc := range cases {
		n, err := c.CountDocuments(e.Ctx, D(t, tc.filter), store.CountOptions{Skip: tc.skip, Limit: tc.limit})
		NoErr(t, err)
		if n != tc.want {
			t.Errorf("CountDocuments(%s, skip %d, limit %d) = %d, want %d", tc.filter, tc.skip, tc.limit, n, tc.want)
		}
	}
	n, err := e.C("nope").CountDocuments(e.Ctx, bson.D{}, store.CountOptions{})
	NoErr(t, err)
	if n != 0 {
		t.Errorf("count of a missing collection %d", n)
	}
}

func testDistinct(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "a": 2, "t": "x", "n": {"b": "p"}}, {"_id": 2, "a": [1, 2, 3], "t": "x", "n": {"b": "q"}},
		{"_id": 3, "a": "s", "t": "y", "n": [{"b": "p"}, {"b": "r"}]}, {"_id": 4, "a": 1.0, "t": "y"}, {"_id": 5, "t": "z"}, {"_id": 6, "a": null, "t": "z"}]`)
	vals, err := c.Distinct(e.Ctx, "a", bson.D{})
	NoErr(t, err)
	// Arrays contribute their elements; 1 and 1.0 are one value; order is
	// MongoDB's comparison order (null < numbers < strings).
	if len(vals) != 5 {
		t.Errorf("Distinct(a) = %s, want null, 1, 2, 3, \"s\"", ejson(vals))
	} else {
		want := bson.A{nil, int32(1), int32(2), int32(3), "s"}
		for i, w := range want {
			if mql.Compare(vals[i], w) != 0 {
				t.Errorf("Distinct(a) = %s, want null, 1, 2, 3, \"s\"", ejson(vals))
				break
			}
		}
	}
	vals, err = c.Distinct(e.Ctx, "a", D(t, `{"t": "x"}`))
	NoErr(t, err)
	Equal(t, vals, `[1, 2, 3]`)
	vals, err = c.Distinct(e.Ctx, "n.b", bson.D{})
	NoErr(t, err)
	Equal(t, vals, `["p", "q", "r"]`)
	vals, err = c.Distinct(e.Ctx, "missing", bson.D{})
	NoErr(t, err)
	Equal(t, vals, `[]`)
	vals, err = e.C("nope").Distinct(e.Ctx, "a", bson.D{})
	NoErr(t, err)
	Equal(t, vals, `[]`)
}

func updateResult(r *store.UpdateResult) bson.D {
	return bson.D{{Key: "matched", Value: r.MatchedCount}, {Key: "modified", Value: r.ModifiedCount},
		{Key: "upserted", Value: r.UpsertedCount}, {Key: "id", Value: r.UpsertedID}}
}

func testUpdateOneMany(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "a": 1, "g": "x"}, {"_id": 2, "a": 2, "g": "x"}, {"_id": 3, "a": 3, "g": "y"}]`)
	r, err := c.UpdateOne(e.Ctx, D(t, `{"g": "x"}`), D(t, `{"$inc": {"a": 10}}`), store.UpdateOptions{})
	NoErr(t, err)
	Equal(t, updateResult(r), `{"matched": {"$numberLong": "1"}, "modified": {"$numberLong": "1"}, "upserted": {"$numberLong": "0"}, "id": null}`)
	r, err = c.UpdateMany(e.Ctx, D(t, `{"g": "x"}`), D(t, `{"$set": {"s": true}, "$unset": {"g": ""}}`), store.UpdateOptions{})
	NoErr(t, err)
	Equal(t, updateResult(r), `{"matched": {"$numberLong": "2"}, "modified": {"$numberLong": "2"}, "upserted": {"$numberLong": "0"}, "id": null}`)
	// Setting a field to the value it has matches without modifying.
	r, err = c.UpdateMany(e.Ctx, D(t, `{}`), D(t, `{"$set": {"s": true}}`), store.UpdateOptions{})
	NoErr(t, err)
	Equal(t, updateResult(r), `{"matched": {"$numberLong": "3"}, "modified": {"$numberLong": "1"}, "upserted": {"$numberLong": "0"}, "id": null}`)
	r, err = c.UpdateOne(e.Ctx, D(t, `{"g": "nope"}`), D(t, `{"$set": {"s": 1}}`), store.UpdateOptions{})
	NoErr(t, err)
	Equal(t, updateResult(r), `{"matched": {"$numberLong": "0"}, "modified": {"$numberLong": "0"}, "upserted": {"$numberLong": "0"}, "id": null}`)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}),
		`[{"_id": 1, "a": 11, "s": true}, {"_id": 2, "a": 2, "s": true}, {"_id": 3, "a": 3, "g": "y", "s": true}]`)
}

func testUpdateUpsert(t *testing.T, e *Env) {
	c := e.C("c")
	r, err := c.UpdateOne(e.Ctx, D(t, `{"_id": 5, "a": 1}`), D(t, `{"$set": {"b": 2}}`), store.UpdateOptions{Upsert: true})
	NoErr(t, err)
	Equal(t, updateResult(r), `{"matched": {"$numberLong": "0"}, "modified": {"$numberLong": "0"}, "upserted": {"$numberLong": "1"}, "id": 5}`)
	got, err := c.FindOne(e.Ctx, D(t, `{"_id": 5}`), store.FindOptions{})
	NoErr(t, err)
	Equal(t, got, `{"_id": 5, "a": 1, "b": 2}`)
	// Upsert with a generated id; equality fields of the filter seed the
	// new document, operators do not.
	r, err = c.UpdateMany(e.Ctx, D(t, `{"k": "new", "n": {"$gt": 3}, "d.e": 4}`), D(t, `{"$setOnInsert": {"fresh": true}, "$inc": {"cnt": 1}}`), store.UpdateOptions{Upsert: true})
	NoErr(t, err)
	id, ok := r.UpsertedID.(bson.ObjectID)
	if !ok || r.UpsertedCount != 1 {
		t.Fatalf("upsert result %+v: want a generated ObjectId", r)
	}
	got, err = c.FindOne(e.Ctx, D(t, `{"k": "new"}`), store.FindOptions{})
	NoErr(t, err)
	// MongoDB 5.0+ applies update operators to fields in lexicographic
	// order, whatever the operator: cnt is created before fresh.
	want := append(bson.D{{Key: "_id", Value: id}}, D(t, `{"k": "new", "d": {"e": 4}, "cnt": 1, "fresh": true}`)...)
	if ejson(got) != ejson(want) {
		t.Errorf("upserted %s\nwant     %s", ejson(got), ejson(want))
	}
	// The same upsert again matches and does not run $setOnInsert.
	r, err = c.UpdateMany(e.Ctx, D(t, `{"k": "new"}`), D(t, `{"$setOnInsert": {"fresh": false}, "$inc": {"cnt": 1}}`), store.UpdateOptions{Upsert: true})
	NoErr(t, err)
	Equal(t, updateResult(r), `{"matched": {"$numberLong": "1"}, "modified": {"$numberLong": "1"}, "upserted": {"$numberLong": "0"}, "id": null}`)
	got, err = c.FindOne(e.Ctx, D(t, `{"k": "new"}`), store.FindOptions{Projection: D(t, `{"_id": 0}`)})
	NoErr(t, err)
	Equal(t, got, `{"k": "new", "d": {"e": 4}, "cnt": 2, "fresh": true}`)
}

// testUpdateUpsertID: where an upserted document's _id comes from.
func testUpdateUpsertID(t *testing.T, e *Env) {
	c := e.C("c")
	// From $setOnInsert when the filter has none.
	r, err := c.UpdateOne(e.Ctx, D(t, `{"k": 1}`), D(t, `{"$setOnInsert": {"_id": "given"}, "$set": {"v": 1}}`), store.UpdateOptions{Upsert: true})
	NoErr(t, err)
	Equal(t, r.UpsertedID, `"given"`)
	// From an $eq in the filter.
	r, err = c.UpdateOne(e.Ctx, D(t, `{"_id": {"$eq": 7}}`), D(t, `{"$set": {"v": 2}}`), store.UpdateOptions{Upsert: true})
	NoErr(t, err)
	Equal(t, r.UpsertedID, `7`)
	// A replacement upsert takes the filter's _id.
	r, err = c.ReplaceOne(e.Ctx, D(t, `{"_id": {"a": 1}}`), D(t, `{"v": 3}`), store.UpdateOptions{Upsert: true})
	NoErr(t, err)
	Equal(t, r.UpsertedID, `{"a": 1}`)
	// _id first in every upserted document.
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"v": 1}`)}),
		`[{"_id": "given", "k": 1, "v": 1}, {"_id": 7, "v": 2}, {"_id": {"a": 1}, "v": 3}]`)
}

func testUpdateArrayFilters(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "grades": [95, 92, 90]}, {"_id": 2, "grades": [98, 100, 102]}, {"_id": 3, "grades": [95, 110, 100]},
		{"_id": 4, "items": [{"k": "a", "q": 1}, {"k": "b", "q": 2}, {"k": "a", "q": 3}]}]`)
	r, err := c.UpdateMany(e.Ctx, D(t, `{"grades": {"$gte": 100}}`), D(t, `{"$set": {"grades.$[el]": 100}}`),
		store.UpdateOptions{ArrayFilters: []bson.D{D(t, `{"el": {"$gte": 100}}`)}})
	NoErr(t, err)
	if r.MatchedCount != 2 || r.ModifiedCount != 2 {
		t.Errorf("result %+v", r)
	}
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 4}`), D(t, `{"$inc": {"items.$[it].q": 10}}`),
		store.UpdateOptions{ArrayFilters: []bson.D{D(t, `{"it.k": "a"}`)}})
	NoErr(t, err)
	// $[] updates every element.
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$inc": {"grades.$[]": 1}}`), store.UpdateOptions{})
	NoErr(t, err)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}),
		`[{"_id": 1, "grades": [96, 93, 91]}, {"_id": 2, "grades": [98, 100, 100]}, {"_id": 3, "grades": [95, 100, 100]},
		  {"_id": 4, "items": [{"k": "a", "q": 11}, {"k": "b", "q": 2}, {"k": "a", "q": 13}]}]`)
	// An identifier without an array filter is BadValue in MongoDB.
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"grades.$[nope]": 1}}`), store.UpdateOptions{})
	Code(t, err, mql.CodeBadValue)
}

func testUpdatePositional(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "arr": [1, 2, 3]}, {"_id": 2, "subs": [{"n": "a", "v": 1}, {"n": "b", "v": 2}]}]`)
	_, err := c.UpdateOne(e.Ctx, D(t, `{"arr": 2}`), D(t, `{"$set": {"arr.$": 20}}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.UpdateOne(e.Ctx, D(t, `{"subs.n": "b"}`), D(t, `{"$inc": {"subs.$.v": 5}}`), store.UpdateOptions{})
	NoErr(t, err)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}),
		`[{"_id": 1, "arr": [1, 20, 3]}, {"_id": 2, "subs": [{"n": "a", "v": 1}, {"n": "b", "v": 7}]}]`)
	// The positional operator without the array in the query is an error.
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"arr.$": 0}}`), store.UpdateOptions{})
	Code(t, err, mql.CodeBadValue)
}

func testUpdateIDImmutable(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "a": 1}]`)
	_, err := c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"_id": 2}}`), store.UpdateOptions{})
	Code(t, err, mql.CodeImmutableField)
	_, err = c.ReplaceOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"_id": 2, "a": 5}`), store.UpdateOptions{})
	Code(t, err, mql.CodeImmutableField)
	_, err = c.FindOneAndReplace(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"_id": 3}`), store.FindOneAndModifyOptions{})
	Code(t, err, mql.CodeImmutableField)
	// Setting _id to its own value is allowed.
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"_id": 1, "a": 2}}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.ReplaceOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"_id": 1, "a": 3}`), store.UpdateOptions{})
	NoErr(t, err)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{}), `[{"_id": 1, "a": 3}]`)
}

func testUpdateMalformed(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "a": 1, "s": "x"}]`)
	cases := []struct {
		update string
		code   int
	}{
		{`{"$foo": {"a": 1}}`, mql.CodeFailedToParse},                               // unknown modifier
		{`{"$set": {"a": 1}, "$inc": {"a": 1}}`, mql.CodeConflictingUpdateOperator}, // conflict
		{`{"$inc": {"s": 1}}`, mql.CodeTypeMismatch},                                // $inc on a string
		{`{"$set": {"a.b": 1}}`, mql.CodePathNotViable},                             // through a number
	}
	for _, tc := range cases {
		_, err := c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, tc.update), store.UpdateOptions{})
		if se := Code(t, err, tc.code); se == nil {
			t.Logf("update %s", tc.update)
		}
	}
	// An empty update document is refused.
	_, err := c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), bson.D{}, store.UpdateOptions{})
	if _, ok := errors.AsType[*store.Error](err); !ok {
		t.Errorf("empty update: %v (%T), want a *store.Error", err, err)
	}
	// A replacement document given to UpdateOne is refused.
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"a": 5}`), store.UpdateOptions{})
	if _, ok := errors.AsType[*store.Error](err); !ok {
		t.Errorf("replacement document as update: %v (%T), want a *store.Error", err, err)
	}
	// An operator in a replacement is refused.
	_, err = c.ReplaceOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"a": 5}}`), store.UpdateOptions{})
	if _, ok := errors.AsType[*store.Error](err); !ok {
		t.Errorf("operator in a replacement: %v (%T), want a *store.Error", err, err)
	}
	// Nothing changed.
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{}), `[{"_id": 1, "a": 1, "s": "x"}]`)
}

func testReplaceOne(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "a": 1, "b": 1}, {"_id": 2, "a": 1}]`)
	r, err := c.ReplaceOne(e.Ctx, D(t, `{"a": 1}`), D(t, `{"c": 3}`), store.UpdateOptions{})
	NoErr(t, err)
	Equal(t, updateResult(r), `{"matched": {"$numberLong": "1"}, "modified": {"$numberLong": "1"}, "upserted": {"$numberLong": "0"}, "id": null}`)
	r, err = c.ReplaceOne(e.Ctx, D(t, `{"_id": 9}`), D(t, `{"c": 9}`), store.UpdateOptions{Upsert: true})
	NoErr(t, err)
	Equal(t, updateResult(r), `{"matched": {"$numberLong": "0"}, "modified": {"$numberLong": "0"}, "upserted": {"$numberLong": "1"}, "id": 9}`)
	docs := Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)})
	if len(docs) != 3 {
		t.Fatalf("docs %s", ejson(docs))
	}
	// Which of the two a:1 documents was replaced is the server's choice.
	if ejson(docs[0]) != ejson(D(t, `{"_id": 1, "c": 3}`)) && ejson(docs[1]) != ejson(D(t, `{"_id": 2, "c": 3}`)) {
		t.Errorf("after replace: %s", ejson(docs))
	}
	Equal(t, docs[2], `{"_id": 9, "c": 9}`)
}

// testReplaceOneNoChange: a replacement identical to the document matches
// but modifies nothing, as with an update that changes nothing.
func testReplaceOneNoChange(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 9, "c": 9, "d": [1, {"e": 2}]}]`)
	r, err := c.ReplaceOne(e.Ctx, D(t, `{"_id": 9}`), D(t, `{"c": 9, "d": [1, {"e": 2}]}`), store.UpdateOptions{})
	NoErr(t, err)
	Equal(t, updateResult(r), `{"matched": {"$numberLong": "1"}, "modified": {"$numberLong": "0"}, "upserted": {"$numberLong": "0"}, "id": null}`)
	// The same values in another field order are a change.
	r, err = c.ReplaceOne(e.Ctx, D(t, `{"_id": 9}`), D(t, `{"d": [1, {"e": 2}], "c": 9}`), store.UpdateOptions{})
	NoErr(t, err)
	Equal(t, updateResult(r), `{"matched": {"$numberLong": "1"}, "modified": {"$numberLong": "1"}, "upserted": {"$numberLong": "0"}, "id": null}`)
}

func testDeleteOneMany(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "a": 1}, {"_id": 2, "a": 1}, {"_id": 3, "a": 2}, {"_id": 4, "a": 2}, {"_id": 5, "a": 3}]`)
	r, err := c.DeleteOne(e.Ctx, D(t, `{"a": 1}`))
	NoErr(t, err)
	if r.DeletedCount != 1 {
		t.Errorf("DeleteOne deleted %d", r.DeletedCount)
	}
	r, err = c.DeleteMany(e.Ctx, D(t, `{"a": {"$gte": 2}}`))
	NoErr(t, err)
	if r.DeletedCount != 3 {
		t.Errorf("DeleteMany deleted %d", r.DeletedCount)
	}
	r, err = c.DeleteMany(e.Ctx, D(t, `{"a": 99}`))
	NoErr(t, err)
	if r.DeletedCount != 0 {
		t.Errorf("DeleteMany of nothing deleted %d", r.DeletedCount)
	}
	n, _ := c.CountDocuments(e.Ctx, bson.D{}, store.CountOptions{})
	if n != 1 {
		t.Errorf("%d documents left, want 1", n)
	}
	r, err = c.DeleteMany(e.Ctx, bson.D{})
	NoErr(t, err)
	if r.DeletedCount != 1 {
		t.Errorf("DeleteMany({}) deleted %d", r.DeletedCount)
	}
	r, err = e.C("nope").DeleteOne(e.Ctx, bson.D{})
	NoErr(t, err)
	if r.DeletedCount != 0 {
		t.Errorf("delete from a missing collection: %d", r.DeletedCount)
	}
}

func testFindOneAndUpdate(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "g": "x", "n": 5, "p": "keep"}, {"_id": 2, "g": "x", "n": 3, "p": "keep"}, {"_id": 3, "g": "y", "n": 1}]`)
	got, err := c.FindOneAndUpdate(e.Ctx, D(t, `{"g": "x"}`), D(t, `{"$inc": {"n": 1}}`), store.FindOneAndModifyOptions{Sort: D(t, `{"n": 1}`)})
	NoErr(t, err)
	Equal(t, got, `{"_id": 2, "g": "x", "n": 3, "p": "keep"}`) // before, the lowest n
	got, err = c.FindOneAndUpdate(e.Ctx, D(t, `{"g": "x"}`), D(t, `{"$inc": {"n": 1}}`),
		store.FindOneAndModifyOptions{Sort: D(t, `{"n": -1}`), ReturnAfter: true})
	NoErr(t, err)
	Equal(t, got, `{"_id": 1, "g": "x", "n": 6, "p": "keep"}`) // after, the highest n
	_, err = c.FindOneAndUpdate(e.Ctx, D(t, `{"g": "nope"}`), D(t, `{"$set": {"n": 0}}`), store.FindOneAndModifyOptions{})
	if !errors.Is(err, store.ErrNoDocuments) {
		t.Errorf("no match: %v, want store.ErrNoDocuments", err)
	}
	got, err = c.FindOneAndUpdate(e.Ctx, D(t, `{"_id": 3}`), D(t, `{"$push": {"arr": "a"}}`), store.FindOneAndModifyOptions{ReturnAfter: true})
	NoErr(t, err)
	Equal(t, got, `{"_id": 3, "g": "y", "n": 1, "arr": ["a"]}`)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}),
		`[{"_id": 1, "g": "x", "n": 6, "p": "keep"}, {"_id": 2, "g": "x", "n": 4, "p": "keep"}, {"_id": 3, "g": "y", "n": 1, "arr": ["a"]}]`)
}

func testFindOneAndUpdateUpsert(t *testing.T, e *Env) {
	c := e.C("c")
	// Upsert returning the document before: there was none.
	_, err := c.FindOneAndUpdate(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"a": 1}}`), store.FindOneAndModifyOptions{Upsert: true})
	if !errors.Is(err, store.ErrNoDocuments) {
		t.Errorf("upsert returning before: %v, want store.ErrNoDocuments", err)
	}
	got, err := c.FindOneAndUpdate(e.Ctx, D(t, `{"_id": 2}`), D(t, `{"$set": {"a": 2}}`), store.FindOneAndModifyOptions{Upsert: true, ReturnAfter: true})
	NoErr(t, err)
	Equal(t, got, `{"_id": 2, "a": 2}`)
	got, err = c.FindOneAndReplace(e.Ctx, D(t, `{"_id": 3}`), D(t, `{"r": 3}`), store.FindOneAndModifyOptions{Upsert: true, ReturnAfter: true})
	NoErr(t, err)
	Equal(t, got, `{"_id": 3, "r": 3}`)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}), `[{"_id": 1, "a": 1}, {"_id": 2, "a": 2}, {"_id": 3, "r": 3}]`)
}

func testFindOneAndReplace(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "n": 1}, {"_id": 2, "n": 2}]`)
	got, err := c.FindOneAndReplace(e.Ctx, D(t, `{}`), D(t, `{"r": true}`), store.FindOneAndModifyOptions{Sort: D(t, `{"n": -1}`)})
	NoErr(t, err)
	Equal(t, got, `{"_id": 2, "n": 2}`)
	got, err = c.FindOneAndReplace(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"r": false, "x": 1}`), store.FindOneAndModifyOptions{ReturnAfter: true})
	NoErr(t, err)
	Equal(t, got, `{"_id": 1, "r": false, "x": 1}`)
	_, err = c.FindOneAndReplace(e.Ctx, D(t, `{"_id": 99}`), D(t, `{"r": 1}`), store.FindOneAndModifyOptions{})
	if !errors.Is(err, store.ErrNoDocuments) {
		t.Errorf("no match: %v, want store.ErrNoDocuments", err)
	}
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}), `[{"_id": 1, "r": false, "x": 1}, {"_id": 2, "r": true}]`)
}

func testFindOneAndDelete(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "n": 1, "s": "a"}, {"_id": 2, "n": 2, "s": "b"}, {"_id": 3, "n": 3, "s": "c"}]`)
	got, err := c.FindOneAndDelete(e.Ctx, D(t, `{"n": {"$lt": 3}}`), store.FindOneAndModifyOptions{Sort: D(t, `{"n": -1}`)})
	NoErr(t, err)
	Equal(t, got, `{"_id": 2, "n": 2, "s": "b"}`)
	_, err = c.FindOneAndDelete(e.Ctx, D(t, `{"n": 99}`), store.FindOneAndModifyOptions{})
	if !errors.Is(err, store.ErrNoDocuments) {
		t.Errorf("no match: %v, want store.ErrNoDocuments", err)
	}
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}), `[{"_id": 1, "n": 1, "s": "a"}, {"_id": 3, "n": 3, "s": "c"}]`)
}

func testFindOneAndModifyProjection(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "n": 1, "s": "a", "a": [1, 5, 9]}, {"_id": 2, "n": 2, "s": "b"}, {"_id": 3, "n": 3, "s": "c"}]`)
	got, err := c.FindOneAndUpdate(e.Ctx, D(t, `{}`), D(t, `{"$inc": {"n": 10}}`),
		store.FindOneAndModifyOptions{Sort: D(t, `{"n": -1}`), ReturnAfter: true, Projection: D(t, `{"n": 1, "_id": 0}`)})
	NoErr(t, err)
	Equal(t, got, `{"n": 13}`)
	got, err = c.FindOneAndUpdate(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"a.$[x]": 0}}`),
		store.FindOneAndModifyOptions{Projection: D(t, `{"a": 1}`), ArrayFilters: []bson.D{D(t, `{"x": {"$gt": 4}}`)}})
	NoErr(t, err)
	Equal(t, got, `{"_id": 1, "a": [1, 5, 9]}`)
	got, err = c.FindOneAndReplace(e.Ctx, D(t, `{"_id": 2}`), D(t, `{"r": false, "x": 1}`), store.FindOneAndModifyOptions{ReturnAfter: true, Projection: D(t, `{"x": 0}`)})
	NoErr(t, err)
	Equal(t, got, `{"_id": 2, "r": false}`)
	got, err = c.FindOneAndDelete(e.Ctx, D(t, `{"_id": 1}`), store.FindOneAndModifyOptions{Projection: D(t, `{"s": 1, "a": {"$slice": 1}}`)})
	NoErr(t, err)
	Equal(t, got, `{"_id": 1, "s": "a", "a": [1]}`)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}), `[{"_id": 2, "r": false, "x": 1}, {"_id": 3, "n": 13, "s": "c"}]`)
}

// testConcurrentWrites: single-document writes are atomic under
// concurrency: no $inc is lost, and of writers racing to insert one _id
// exactly one wins.
func testConcurrentWrites(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": "counter", "n": 0}]`)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	wins := make(chan int, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := c.UpdateOne(e.Ctx, bson.D{{Key: "_id", Value: "counter"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: int32(1)}}}}, store.UpdateOptions{}); err != nil {
					errs <- err
				}
			}
			_, err := c.InsertOne(e.Ctx, bson.D{{Key: "_id", Value: "race"}, {Key: "w", Value: int32(w)}})
			switch {
			case err == nil:
				wins <- w
			case !store.IsDuplicateKey(err):
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(wins)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	if n := len(wins); n != 1 {
		t.Errorf("%d writers inserted the same _id, want 1", n)
	}
	got, err := c.FindOne(e.Ctx, D(t, `{"_id": "counter"}`), store.FindOptions{})
	NoErr(t, err)
	Equal(t, got, fmt.Sprintf(`{"_id": "counter", "n": %d}`, writers*each))
}

// testCancelledContext: an operation given a context that has ended
// fails with the context's error and writes nothing.
func testCancelledContext(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "n": 1}]`)
	ctx, cancel := context.WithCancel(e.Ctx)
	cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", op, err)
		}
	}
	_, err := c.InsertOne(ctx, D(t, `{"_id": 2}`))
	check("InsertOne", err)
	_, err = c.InsertMany(ctx, Docs(t, `[{"_id": 3}, {"_id": 4}]`), store.InsertManyOptions{})
	check("InsertMany", err)
	_, err = c.UpdateOne(ctx, D(t, `{"_id": 1}`), D(t, `{"$inc": {"n": 1}}`), store.UpdateOptions{})
	check("UpdateOne", err)
	_, err = c.DeleteMany(ctx, bson.D{})
	check("DeleteMany", err)
	_, err = c.FindOne(ctx, bson.D{}, store.FindOptions{})
	check("FindOne", err)
	cur, err := c.Find(ctx, bson.D{}, store.FindOptions{})
	if err == nil {
		_, err = store.All(ctx, cur)
	}
	check("Find", err)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{}), `[{"_id": 1, "n": 1}]`)
}

func testAggregate(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "g": "a", "v": 1}, {"_id": 2, "g": "b", "v": 2}, {"_id": 3, "g": "a", "v": 3}, {"_id": 4, "g": "c", "v": 4}, {"_id": 5, "g": "b", "v": 5}]`)
	pipeline := []bson.D{
		D(t, `{"$match": {"v": {"$gte": 2}}}`),
		D(t, `{"$group": {"_id": "$g", "total": {"$sum": "$v"}}}`),
		D(t, `{"$sort": {"total": -1}}`),
		D(t, `{"$skip": 1}`),
		D(t, `{"$limit": 1}`),
	}
	cur, err := c.Aggregate(e.Ctx, pipeline, store.AggregateOptions{BatchSize: 1})
	NoErr(t, err)
	docs, err := store.All(e.Ctx, cur)
	NoErr(t, err)
	EqualDocs(t, docs, `[{"_id": "c", "total": 4}]`)
	cur, err = c.Aggregate(e.Ctx, []bson.D{D(t, `{"$sort": {"_id": -1}}`), D(t, `{"$project": {"v": 1}}`), D(t, `{"$limit": 2}`)}, store.AggregateOptions{})
	NoErr(t, err)
	docs, err = store.All(e.Ctx, cur)
	NoErr(t, err)
	EqualDocs(t, docs, `[{"_id": 5, "v": 5}, {"_id": 4, "v": 4}]`)
	cur, err = c.Aggregate(e.Ctx, []bson.D{D(t, `{"$count": "n"}`)}, store.AggregateOptions{})
	NoErr(t, err)
	docs, err = store.All(e.Ctx, cur)
	NoErr(t, err)
	EqualDocs(t, docs, `[{"n": 5}]`)
	// An empty pipeline returns every document.
	cur, err = c.Aggregate(e.Ctx, nil, store.AggregateOptions{BatchSize: 2})
	NoErr(t, err)
	docs, err = store.All(e.Ctx, cur)
	NoErr(t, err)
	if len(docs) != 5 {
		t.Errorf("empty pipeline returned %d documents", len(docs))
	}
	// A missing collection aggregates to nothing.
	cur, err = e.C("nope").Aggregate(e.Ctx, []bson.D{D(t, `{"$match": {}}`)}, store.AggregateOptions{})
	NoErr(t, err)
	docs, err = store.All(e.Ctx, cur)
	NoErr(t, err)
	EqualDocs(t, docs, `[]`)
}

// testAggregateExpressions: accumulators over constants and computed
// $project fields.
func testAggregateExpressions(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "g": "a", "v": 1}, {"_id": 2, "g": "b", "v": 2}, {"_id": 3, "g": "a", "v": 3}, {"_id": 4, "g": "c", "v": 4}, {"_id": 5, "g": "b", "v": 5}]`)
	pipeline := []bson.D{
		D(t, `{"$match": {"v": {"$gte": 2}}}`),
		D(t, `{"$group": {"_id": "$g", "total": {"$sum": "$v"}, "n": {"$sum": 1}}}`),
		D(t, `{"$sort": {"total": -1}}`),
		D(t, `{"$project": {"_id": 0, "g": "$_id", "total": 1, "n": 1}}`),
		D(t, `{"$limit": 2}`),
	}
	cur, err := c.Aggregate(e.Ctx, pipeline, store.AggregateOptions{})
	NoErr(t, err)
	docs, err := store.All(e.Ctx, cur)
	NoErr(t, err)
	if len(docs) != 2 {
		t.Fatalf("aggregate returned %s", ejson(docs))
	}
	// $project keeps included fields in document order and appends computed
	// ones; compare fields, not order.
	for i, want := range []bson.D{D(t, `{"g": "b", "total": 7, "n": 2}`), D(t, `{"g": "c", "total": 4, "n": 1}`)} {
		for _, f := range want {
			if v := mql.Get(docs[i], f.Key); mql.Compare(v, f.Value) != 0 {
				t.Errorf("result %d: %s, want %s", i, ejson(docs[i]), ejson(want))
				break
			}
		}
	}
}

func testAggregateUnknownStage(t *testing.T, e *Env) {
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1}]`)
	cur, err := c.Aggregate(e.Ctx, []bson.D{D(t, `{"$nope": {}}`)}, store.AggregateOptions{})
	if err == nil {
		_, err = store.All(e.Ctx, cur)
	}
	Code(t, err, mql.CodeUnrecognizedStage)
}

// testAggregateLookup: $lookup joins another collection of the same
// database.
func testAggregateLookup(t *testing.T, e *Env) {
	orders, items := e.C("orders"), e.C("items")
	Insert(t, e, items, `[{"_id": "a", "price": 2}, {"_id": "b", "price": 5}]`)
	Insert(t, e, orders, `[{"_id": 1, "item": "a"}, {"_id": 2, "item": "b"}, {"_id": 3, "item": "zz"}]`)
	cur, err := orders.Aggregate(e.Ctx, []bson.D{
		D(t, `{"$lookup": {"from": "items", "localField": "item", "foreignField": "_id", "as": "found"}}`),
		D(t, `{"$sort": {"_id": 1}}`),
	}, store.AggregateOptions{})
	NoErr(t, err)
	docs, err := store.All(e.Ctx, cur)
	NoErr(t, err)
	EqualDocs(t, docs, `[{"_id": 1, "item": "a", "found": [{"_id": "a", "price": 2}]},
		{"_id": 2, "item": "b", "found": [{"_id": "b", "price": 5}]}, {"_id": 3, "item": "zz", "found": []}]`)
}
