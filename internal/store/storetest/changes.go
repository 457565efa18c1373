package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

func needTransactions(t *testing.T, e *Env) {
	t.Helper()
	if !e.Store.Capabilities().Transactions {
		t.Skipf("%s declares no transactions (TransactionsUnsupported checks the refusal)", e.Harness.Name)
	}
}

func needChangeStreams(t *testing.T, e *Env) {
	t.Helper()
	if !e.Store.Capabilities().ChangeStreams {
		t.Skipf("%s declares no change streams (ChangeStreamsUnsupported checks the refusal)", e.Harness.Name)
	}
}

func testTransactionCommit(t *testing.T, e *Env) {
	needTransactions(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	Insert(t, e, c, `[{"_id": 0, "n": 0}]`)
	calls := 0
	err := e.Store.WithTransaction(e.Ctx, func(tctx context.Context) error {
		calls++
		if _, err := c.InsertOne(tctx, D(t, `{"_id": 1}`)); err != nil {
			return err
		}
		if _, err := c.UpdateOne(tctx, D(t, `{"_id": 0}`), D(t, `{"$inc": {"n": 1}}`), store.UpdateOptions{}); err != nil {
			return err
		}
		// The transaction sees its own writes...
		n, err := c.CountDocuments(tctx, bson.D{}, store.CountOptions{})
		if err != nil {
			return err
		}
		if n != 2 {
			t.Errorf("inside the transaction: %d documents, want 2", n)
		}
		// ...and nobody else does before the commit.
		d, err := c.FindOne(e.Ctx, D(t, `{"_id": 0}`), store.FindOptions{})
		if err != nil {
			return err
		}
		if ejson(d) != ejson(D(t, `{"_id": 0, "n": 0}`)) {
			t.Errorf("outside the transaction before commit: %s", ejson(d))
		}
		_, err = c.FindOne(e.Ctx, D(t, `{"_id": 1}`), store.FindOptions{})
		if !errors.Is(err, store.ErrNoDocuments) {
			t.Errorf("outside the transaction before commit, the insert is visible (err %v)", err)
		}
		return nil
	})
	NoErr(t, err)
	if calls != 1 {
		t.Errorf("fn ran %d times", calls)
	}
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{Sort: D(t, `{"_id": 1}`)}), `[{"_id": 0, "n": 1}, {"_id": 1}]`)
}

func testTransactionAbort(t *testing.T, e *Env) {
	needTransactions(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	Insert(t, e, c, `[{"_id": 0}]`)
	boom := errors.New("boom")
	err := e.Store.WithTransaction(e.Ctx, func(tctx context.Context) error {
		if _, err := c.InsertOne(tctx, D(t, `{"_id": 1}`)); err != nil {
			return err
		}
		if _, err := c.DeleteOne(tctx, D(t, `{"_id": 0}`)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("WithTransaction returned %v, want fn's error", err)
	}
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{}), `[{"_id": 0}]`)
	// A failed write inside aborts everything before it too.
	err = e.Store.WithTransaction(e.Ctx, func(tctx context.Context) error {
		if _, err := c.InsertOne(tctx, D(t, `{"_id": 2}`)); err != nil {
			return err
		}
		_, err := c.InsertOne(tctx, D(t, `{"_id": 0}`))
		return err
	})
	Code(t, err, store.CodeDuplicateKey)
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{}), `[{"_id": 0}]`)
}

// testTransactionReadModifyWrite: concurrent transactions that read a
// document and write back a value computed from it lose no update
// (MongoDB: snapshot reads, a write conflict aborts and WithTransaction
// retries; a single-writer engine may serialize instead).
func testTransactionReadModifyWrite(t *testing.T, e *Env) {
	needTransactions(t, e)
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1, "n": 0}]`)
	const workers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := e.Store.WithTransaction(e.Ctx, func(tctx context.Context) error {
					d, err := c.FindOne(tctx, bson.D{{Key: "_id", Value: int32(1)}}, store.FindOptions{})
					if err != nil {
						return err
					}
					n, _ := mql.Get(d, "n").(int32)
					_, err = c.UpdateOne(tctx, bson.D{{Key: "_id", Value: int32(1)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: n + 1}}}}, store.UpdateOptions{})
					return err
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		failed++
		t.Logf("transaction failed: %v", err)
	}
	got, err := c.FindOne(e.Ctx, D(t, `{"_id": 1}`), store.FindOptions{})
	NoErr(t, err)
	// Every committed transaction counted exactly once.
	Equal(t, got, fmt.Sprintf(`{"_id": 1, "n": %d}`, workers*each-failed))
	if failed > 0 {
		t.Errorf("%d of %d transactions failed (WithTransaction retries transient conflicts)", failed, workers*each)
	}
}

// testTransactionOutsideWrite: while a transaction is open, a write
// outside it to another document proceeds (MongoDB locks documents, not
// the database) and is not undone by the transaction's abort.
func testTransactionOutsideWrite(t *testing.T, e *Env) {
	needTransactions(t, e)
	c, log := e.C("c"), e.C("log")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	NoErr(t, e.DB.CreateCollection(e.Ctx, "log", store.CreateCollectionOptions{}))
	abort := errors.New("abort")
	outside := make(chan error, 1)
	blocked := false
	doc := D(t, `{"_id": "outside"}`)
	err := e.Store.WithTransaction(e.Ctx, func(tctx context.Context) error {
		if _, err := c.InsertOne(tctx, D(t, `{"_id": 1}`)); err != nil {
			return err
		}
		// The outside write runs in its own goroutine so that a store
		// which blocks it until the transaction ends fails this test
		// instead of deadlocking it.
		go func() {
			octx, cancel := context.WithTimeout(e.Ctx, 3*time.Second)
			defer cancel()
			_, err := log.InsertOne(octx, doc)
			outside <- err
		}()
		select {
		case err := <-outside:
			if err != nil {
				t.Errorf("a write outside the open transaction, to another collection, failed: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("a write outside the open transaction, to another collection, was still blocked after 10s, although its context ended after 3s")
			blocked = true
		}
		return abort
	})
	if !errors.Is(err, abort) {
		t.Errorf("WithTransaction: %v", err)
	}
	if blocked {
		select {
		case err := <-outside:
			if err != nil {
				t.Errorf("the outside write, after the transaction ended: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the outside write was still blocked 30s after the transaction ended")
		}
	}
	EqualDocs(t, Find(t, e, c, `{}`, store.FindOptions{}), `[]`)
	if !t.Failed() {
		EqualDocs(t, Find(t, e, log, `{}`, store.FindOptions{}), `[{"_id": "outside"}]`)
	}
}

// testTransactionOutsideWriteContext: whatever a store does with a write
// outside an open transaction, the write gives up when its context ends
// (the house rule: context first on every I/O) instead of waiting for the
// transaction.
func testTransactionOutsideWriteContext(t *testing.T, e *Env) {
	needTransactions(t, e)
	c, log := e.C("c"), e.C("log")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	NoErr(t, e.DB.CreateCollection(e.Ctx, "log", store.CreateCollectionOptions{}))
	abort := errors.New("abort")
	done := make(chan error, 1)
	doc := D(t, `{"_id": "outside"}`)
	err := e.Store.WithTransaction(e.Ctx, func(tctx context.Context) error {
		if _, err := c.InsertOne(tctx, D(t, `{"_id": 1}`)); err != nil {
			return err
		}
		ch := done
		go func() {
			octx, cancel := context.WithTimeout(e.Ctx, time.Second)
			defer cancel()
			_, err := log.InsertOne(octx, doc)
			ch <- err
		}()
		select {
		case err := <-done:
			done = nil
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("outside write: %v, want success or context.DeadlineExceeded", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("a write outside an open transaction ignored its context: still waiting 9s after its 1s deadline")
		}
		return abort
	})
	if !errors.Is(err, abort) {
		t.Errorf("WithTransaction: %v", err)
	}
	if done != nil {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("the outside write was still blocked 30s after the transaction ended")
		}
	}
}

func testTransactionsUnsupported(t *testing.T, e *Env) {
	if e.Store.Capabilities().Transactions {
		t.Skipf("%s declares transactions (TransactionCommit and TransactionAbort test them)", e.Harness.Name)
	}
	called := false
	err := e.Store.WithTransaction(e.Ctx, func(context.Context) error { called = true; return nil })
	Code(t, err, store.CodeIllegalOperation)
	if called {
		t.Errorf("fn ran although the store has no transactions")
	}
}

func testChangeStreamsUnsupported(t *testing.T, e *Env) {
	if e.Store.Capabilities().ChangeStreams {
		t.Skipf("%s declares change streams (the ChangeStream* tests test them)", e.Harness.Name)
	}
	_, err := e.C("c").Watch(e.Ctx, nil, store.WatchOptions{})
	Code(t, err, store.CodeChangeStreamNotSupported)
	_, err = e.DB.Watch(e.Ctx, nil, store.WatchOptions{})
	Code(t, err, store.CodeChangeStreamNotSupported)
}

// next waits (bounded) for the next event.
func next(t *testing.T, e *Env, cs store.ChangeStream) bson.D {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.Ctx, 20*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if cs.Next(ctx) {
			return cs.Event()
		}
		if err := cs.Err(); err != nil {
			t.Fatalf("change stream: %v", err)
		}
	}
	t.Fatalf("no change event within 20s")
	return nil
}

func watch(t *testing.T, e *Env, c store.Collection, pipeline []bson.D, opts store.WatchOptions) store.ChangeStream {
	t.Helper()
	cs, err := c.Watch(e.Ctx, pipeline, opts)
	NoErr(t, err)
	t.Cleanup(func() { _ = cs.Close(context.Background()) })
	return cs
}

// get returns a dotted path of an event (or mql.Missing).
func get(d bson.D, path ...string) any {
	var v any = d
	for _, p := range path {
		doc, ok := v.(bson.D)
		if !ok {
			return mql.Missing
		}
		v = mql.Get(doc, p)
	}
	return v
}

func checkEventEnvelope(t *testing.T, e *Env, ev bson.D, op, coll string) {
	t.Helper()
	if got := get(ev, "operationType"); got != op {
		t.Errorf("operationType %v, want %s in %s", got, op, ejson(ev))
	}
	if _, ok := get(ev, "_id").(bson.D); !ok {
		t.Errorf("event _id (the resume token) is %T, want a document: %s", get(ev, "_id"), ejson(ev))
	}
	if _, ok := get(ev, "clusterTime").(bson.Timestamp); !ok {
		t.Errorf("clusterTime is %T, want bson.Timestamp: %s", get(ev, "clusterTime"), ejson(ev))
	}
	if _, ok := get(ev, "wallTime").(bson.DateTime); !ok {
		t.Errorf("wallTime is %T, want bson.DateTime: %s", get(ev, "wallTime"), ejson(ev))
	}
	if get(ev, "ns", "db") != e.DB.Name() || get(ev, "ns", "coll") != coll {
		t.Errorf("ns is %s, want {db: %s, coll: %s}", ejson(get(ev, "ns")), e.DB.Name(), coll)
	}
	if err := checkTypes(ev); err != nil {
		t.Errorf("event: %v", err)
	}
}

func testChangeStreamShapes(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	cs := watch(t, e, c, nil, store.WatchOptions{})
	Insert(t, e, c, `[{"_id": 1, "a": 1, "b": 2, "arr": [1, 2, 3]}]`)
	_, err := c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"a": 5, "n.x": 1}, "$unset": {"b": ""}, "$pop": {"arr": 1}}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.ReplaceOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"r": true}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.DeleteOne(e.Ctx, D(t, `{"_id": 1}`))
	NoErr(t, err)

	ev := next(t, e, cs)
	checkEventEnvelope(t, e, ev, "insert", "c")
	Equal(t, get(ev, "documentKey"), `{"_id": 1}`)
	Equal(t, get(ev, "fullDocument"), `{"_id": 1, "a": 1, "b": 2, "arr": [1, 2, 3]}`)
	if tok := cs.ResumeToken(); ejson(tok) != ejson(get(ev, "_id")) {
		t.Errorf("ResumeToken %s is not the event's _id %s", ejson(tok), ejson(get(ev, "_id")))
	}
	first := get(ev, "clusterTime")

	ev = next(t, e, cs)
	checkEventEnvelope(t, e, ev, "update", "c")
	Equal(t, get(ev, "documentKey"), `{"_id": 1}`)
	if !mql.IsMissing(get(ev, "fullDocument")) {
		t.Errorf("update event with fullDocument by default: %s", ejson(ev))
	}
	ud := get(ev, "updateDescription")
	// MongoDB's documentation gives no order for updatedFields.
	Equal(t, sortedFields(get(ev, "updateDescription", "updatedFields")), `{"a": 5, "arr": [1, 2], "n": {"x": 1}}`)
	Equal(t, get(ev, "updateDescription", "removedFields"), `["b"]`)
	Equal(t, get(ev, "updateDescription", "truncatedArrays"), `[]`)
	if _, ok := ud.(bson.D); !ok {
		t.Errorf("updateDescription %s", ejson(ud))
	}
	if mql.Compare(get(ev, "clusterTime"), first) <= 0 {
		t.Errorf("clusterTime does not increase: %s then %s", ejson(first), ejson(get(ev, "clusterTime")))
	}

	ev = next(t, e, cs)
	checkEventEnvelope(t, e, ev, "replace", "c")
	Equal(t, get(ev, "fullDocument"), `{"_id": 1, "r": true}`)
	Equal(t, get(ev, "documentKey"), `{"_id": 1}`)

	ev = next(t, e, cs)
	checkEventEnvelope(t, e, ev, "delete", "c")
	Equal(t, get(ev, "documentKey"), `{"_id": 1}`)
	if !mql.IsMissing(get(ev, "fullDocument")) {
		t.Errorf("delete event with fullDocument: %s", ejson(ev))
	}
}

// sortedFields returns a document's fields sorted by name.
func sortedFields(v any) any {
	d, ok := v.(bson.D)
	if !ok {
		return v
	}
	d = slices.Clone(d)
	slices.SortStableFunc(d, func(a, b bson.E) int { return strings.Compare(a.Key, b.Key) })
	return d
}

func testChangeStreamResume(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	cs := watch(t, e, c, nil, store.WatchOptions{})
	for i := 1; i <= 4; i++ {
		_, err := c.InsertOne(e.Ctx, bson.D{{Key: "_id", Value: int32(i)}})
		NoErr(t, err)
	}
	ev1 := next(t, e, cs)
	tok := cs.ResumeToken()
	Equal(t, get(ev1, "documentKey"), `{"_id": 1}`)
	ev2 := next(t, e, cs)
	NoErr(t, cs.Close(e.Ctx))

	for _, opts := range []store.WatchOptions{{ResumeAfter: tok}, {StartAfter: tok}} {
		cs2 := watch(t, e, c, nil, opts)
		got := next(t, e, cs2)
		if ejson(got) != ejson(ev2) {
			t.Errorf("resumed stream starts with %s, want %s", ejson(got), ejson(ev2))
		}
		Equal(t, get(next(t, e, cs2), "documentKey"), `{"_id": 3}`)
		Equal(t, get(next(t, e, cs2), "documentKey"), `{"_id": 4}`)
	}
	// A resume token that was never issued is refused.
	_, err := c.Watch(e.Ctx, nil, store.WatchOptions{ResumeAfter: D(t, `{"_data": "nonsense"}`)})
	if err == nil {
		cs3 := watch(t, e, c, nil, store.WatchOptions{ResumeAfter: D(t, `{"_data": "nonsense"}`)})
		ctx, cancel := context.WithTimeout(e.Ctx, 2*time.Second)
		defer cancel()
		if cs3.Next(ctx) || cs3.Err() == nil {
			t.Errorf("a bogus resume token was accepted")
		}
	}
}

func testChangeStreamStartAtOperationTime(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	cs := watch(t, e, c, nil, store.WatchOptions{})
	Insert(t, e, c, `[{"_id": 1}]`)
	Insert(t, e, c, `[{"_id": 2}]`)
	Insert(t, e, c, `[{"_id": 3}]`)
	next(t, e, cs)
	ev2 := next(t, e, cs)
	ts, ok := get(ev2, "clusterTime").(bson.Timestamp)
	if !ok {
		t.Fatalf("clusterTime %T", get(ev2, "clusterTime"))
	}
	cs2 := watch(t, e, c, nil, store.WatchOptions{StartAtOperationTime: &ts})
	Equal(t, get(next(t, e, cs2), "documentKey"), `{"_id": 2}`)
	Equal(t, get(next(t, e, cs2), "documentKey"), `{"_id": 3}`)
}

func testChangeStreamFullDocument(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	cs := watch(t, e, c, nil, store.WatchOptions{FullDocument: "updateLookup"})
	Insert(t, e, c, `[{"_id": 1, "a": 1, "b": "keep"}]`)
	_, err := c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"a": 2}}`), store.UpdateOptions{})
	NoErr(t, err)
	ev := next(t, e, cs)
	Equal(t, get(ev, "fullDocument"), `{"_id": 1, "a": 1, "b": "keep"}`)
	ev = next(t, e, cs)
	checkEventEnvelope(t, e, ev, "update", "c")
	Equal(t, get(ev, "fullDocument"), `{"_id": 1, "a": 2, "b": "keep"}`)
	Equal(t, get(ev, "updateDescription", "updatedFields"), `{"a": 2}`)
}

func testChangeStreamPreImages(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{ChangeStreamPreAndPostImages: true}))
	Insert(t, e, c, `[{"_id": 1, "v": 1}, {"_id": 2, "v": 2}]`)
	cs := watch(t, e, c, nil, store.WatchOptions{FullDocumentBeforeChange: "required"})
	_, err := c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$set": {"v": 10}}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.ReplaceOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"w": 1}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.DeleteOne(e.Ctx, D(t, `{"_id": 2}`))
	NoErr(t, err)
	Insert(t, e, c, `[{"_id": 3}]`)
	ev := next(t, e, cs)
	checkEventEnvelope(t, e, ev, "update", "c")
	Equal(t, get(ev, "fullDocumentBeforeChange"), `{"_id": 1, "v": 1}`)
	ev = next(t, e, cs)
	checkEventEnvelope(t, e, ev, "replace", "c")
	Equal(t, get(ev, "fullDocumentBeforeChange"), `{"_id": 1, "v": 10}`)
	Equal(t, get(ev, "fullDocument"), `{"_id": 1, "w": 1}`)
	ev = next(t, e, cs)
	checkEventEnvelope(t, e, ev, "delete", "c")
	Equal(t, get(ev, "fullDocumentBeforeChange"), `{"_id": 2, "v": 2}`)
	ev = next(t, e, cs)
	checkEventEnvelope(t, e, ev, "insert", "c")
	if !mql.IsMissing(get(ev, "fullDocumentBeforeChange")) {
		t.Errorf("insert event with a pre-image: %s", ejson(ev))
	}

	// Without pre-images on the collection, "whenAvailable" gives null and
	// "required" fails.
	c2 := e.C("plain")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "plain", store.CreateCollectionOptions{}))
	Insert(t, e, c2, `[{"_id": 1}]`)
	cs2 := watch(t, e, c2, nil, store.WatchOptions{FullDocumentBeforeChange: "whenAvailable"})
	_, err = c2.DeleteOne(e.Ctx, D(t, `{"_id": 1}`))
	NoErr(t, err)
	ev = next(t, e, cs2)
	if v := get(ev, "fullDocumentBeforeChange"); v != nil {
		t.Errorf("whenAvailable without pre-images: fullDocumentBeforeChange %s, want null", ejson(v))
	}
}

func testChangeStreamMatch(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	cs := watch(t, e, c, []bson.D{
		D(t, `{"$match": {"$or": [{"operationType": "delete"}, {"operationType": "insert", "fullDocument.keep": true}]}}`),
		D(t, `{"$project": {"operationType": 1, "documentKey": 1}}`),
	}, store.WatchOptions{})
	Insert(t, e, c, `[{"_id": 1, "keep": false}, {"_id": 2, "keep": true}]`)
	_, err := c.UpdateOne(e.Ctx, D(t, `{"_id": 2}`), D(t, `{"$set": {"x": 1}}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.DeleteOne(e.Ctx, D(t, `{"_id": 1}`))
	NoErr(t, err)
	ev := next(t, e, cs)
	if len(ev) != 3 || ev[0].Key != "_id" {
		t.Errorf("projected event %s, want _id, operationType, documentKey", ejson(ev))
	}
	Equal(t, get(ev, "operationType"), `"insert"`)
	Equal(t, get(ev, "documentKey"), `{"_id": 2}`)
	ev = next(t, e, cs)
	Equal(t, get(ev, "operationType"), `"delete"`)
	Equal(t, get(ev, "documentKey"), `{"_id": 1}`)
}

func testChangeStreamDatabase(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	NoErr(t, e.DB.CreateCollection(e.Ctx, "a", store.CreateCollectionOptions{}))
	NoErr(t, e.DB.CreateCollection(e.Ctx, "b", store.CreateCollectionOptions{}))
	cs, err := e.DB.Watch(e.Ctx, nil, store.WatchOptions{})
	NoErr(t, err)
	defer cs.Close(context.Background())
	// A write to another database is not seen.
	other := e.Store.Database(uniqueName())
	t.Cleanup(func() { _ = other.Drop(context.Background()) })
	_, err = other.Collection("a").InsertOne(e.Ctx, D(t, `{"_id": 0}`))
	NoErr(t, err)
	Insert(t, e, e.C("a"), `[{"_id": 1}]`)
	Insert(t, e, e.C("b"), `[{"_id": 2}]`)
	ev := next(t, e, cs)
	checkEventEnvelope(t, e, ev, "insert", "a")
	Equal(t, get(ev, "documentKey"), `{"_id": 1}`)
	ev = next(t, e, cs)
	checkEventEnvelope(t, e, ev, "insert", "b")
	Equal(t, get(ev, "documentKey"), `{"_id": 2}`)
}

func testChangeStreamMaxAwaitTime(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	cs := watch(t, e, c, nil, store.WatchOptions{MaxAwaitTime: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(e.Ctx, 20*time.Second)
	defer cancel()
	if cs.Next(ctx) {
		t.Fatalf("an event with nothing written: %s", ejson(cs.Event()))
	}
	NoErr(t, cs.Err())
	if ctx.Err() != nil {
		t.Fatalf("Next waited for ctx instead of MaxAwaitTime")
	}
	Insert(t, e, c, `[{"_id": 1}]`)
	Equal(t, get(next(t, e, cs), "documentKey"), `{"_id": 1}`)
	// A context that ends stops the wait.
	cs2 := watch(t, e, c, nil, store.WatchOptions{})
	ctx2, cancel2 := context.WithTimeout(e.Ctx, 200*time.Millisecond)
	defer cancel2()
	if cs2.Next(ctx2) {
		t.Errorf("an event from an idle stream: %s", ejson(cs2.Event()))
	}
	// The stream outlives the context of one wait: the next Next, with a
	// live context, returns the next event.
	Insert(t, e, c, `[{"_id": 2}]`)
	Equal(t, get(next(t, e, cs2), "documentKey"), `{"_id": 2}`)
	NoErr(t, cs2.Err())
}

// testChangeStreamDropInvalidate: dropping a watched collection gives a
// drop event and then an invalidate event, after which the stream ends;
// StartAfter the invalidate token opens a stream on the new collection.
func testChangeStreamDropInvalidate(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	c := e.C("c")
	Insert(t, e, c, `[{"_id": 1}]`)
	cs := watch(t, e, c, nil, store.WatchOptions{})
	NoErr(t, c.Drop(e.Ctx))
	ev := next(t, e, cs)
	Equal(t, get(ev, "operationType"), `"drop"`)
	Equal(t, get(ev, "ns"), `{"db": "`+e.DB.Name()+`", "coll": "c"}`)
	ev = next(t, e, cs)
	Equal(t, get(ev, "operationType"), `"invalidate"`)
	tok := cs.ResumeToken()
	ctx, cancel := context.WithTimeout(e.Ctx, 5*time.Second)
	defer cancel()
	if cs.Next(ctx) {
		t.Errorf("an event after invalidate: %s", ejson(cs.Event()))
	}
	Insert(t, e, c, `[{"_id": 2}]`)
	cs2 := watch(t, e, c, nil, store.WatchOptions{StartAfter: tok})
	ev = next(t, e, cs2)
	Equal(t, get(ev, "operationType"), `"insert"`)
	Equal(t, get(ev, "documentKey"), `{"_id": 2}`)
}

// testChangeStreamTransaction: a committed transaction's writes appear as
// events, in order; an aborted one's never do.
func testChangeStreamTransaction(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	needTransactions(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	cs := watch(t, e, c, nil, store.WatchOptions{})
	err := e.Store.WithTransaction(e.Ctx, func(tctx context.Context) error {
		_, err := c.InsertMany(tctx, Docs(t, `[{"_id": 1}, {"_id": 2}]`), store.InsertManyOptions{})
		return err
	})
	NoErr(t, err)
	abort := errors.New("abort")
	err = e.Store.WithTransaction(e.Ctx, func(tctx context.Context) error {
		if _, err := c.InsertOne(tctx, D(t, `{"_id": 99}`)); err != nil {
			return err
		}
		return abort
	})
	if !errors.Is(err, abort) {
		t.Fatalf("aborted transaction: %v", err)
	}
	Insert(t, e, c, `[{"_id": 3}]`)
	for _, want := range []string{`{"_id": 1}`, `{"_id": 2}`, `{"_id": 3}`} {
		ev := next(t, e, cs)
		Equal(t, get(ev, "operationType"), `"insert"`)
		Equal(t, get(ev, "documentKey"), want)
	}
}

// testChangeStreamManyWrites: every write of a burst arrives once, in
// commit order, with tokens that resume exactly after each event.
func testChangeStreamManyWrites(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	cs := watch(t, e, c, nil, store.WatchOptions{BatchSize: 7})
	const n = 200
	docs := make([]bson.D, n)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: int32(i)}}
	}
	_, err := c.InsertMany(e.Ctx, docs[:n/2], store.InsertManyOptions{})
	NoErr(t, err)
	for i := n / 2; i < n; i++ {
		_, err := c.InsertOne(e.Ctx, docs[i])
		NoErr(t, err)
	}
	var tokens []bson.D
	for i := 0; i < n; i++ {
		ev := next(t, e, cs)
		if ejson(get(ev, "documentKey")) != ejson(docs[i]) {
			t.Fatalf("event %d is for %s", i, ejson(get(ev, "documentKey")))
		}
		tokens = append(tokens, cs.ResumeToken())
	}
	for _, i := range []int{0, n/2 - 1, n / 2, n - 2} {
		cs2 := watch(t, e, c, nil, store.WatchOptions{ResumeAfter: tokens[i]})
		ev := next(t, e, cs2)
		if ejson(get(ev, "documentKey")) != ejson(docs[i+1]) {
			t.Errorf("resuming after event %d gives %s", i, ejson(get(ev, "documentKey")))
		}
		NoErr(t, cs2.Close(e.Ctx))
	}
}

// testChangeStreamWriteKinds: which writes make which events. Multi-document
// writes make one event per document; a write that changes nothing makes
// none; an upsert that inserts makes an insert event.
func testChangeStreamWriteKinds(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{}))
	Insert(t, e, c, `[{"_id": 1, "g": 1, "n": {"x": 1, "y": 2}}, {"_id": 2, "g": 1}, {"_id": 3, "g": 2}]`)
	cs := watch(t, e, c, nil, store.WatchOptions{})
	_, err := c.UpdateMany(e.Ctx, D(t, `{"g": 1}`), D(t, `{"$set": {"h": true}}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.UpdateMany(e.Ctx, D(t, `{}`), D(t, `{"$set": {"g": 2}}`), store.UpdateOptions{}) // _id 3 unchanged
	NoErr(t, err)
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$unset": {"n.x": ""}}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 10}`), D(t, `{"$set": {"u": 1}}`), store.UpdateOptions{Upsert: true})
	NoErr(t, err)
	_, err = c.ReplaceOne(e.Ctx, D(t, `{"_id": 11}`), D(t, `{"r": 1}`), store.UpdateOptions{Upsert: true})
	NoErr(t, err)
	_, err = c.FindOneAndUpdate(e.Ctx, D(t, `{"_id": 12}`), D(t, `{"$set": {"f": 1}}`), store.FindOneAndModifyOptions{Upsert: true})
	if err != nil && !errors.Is(err, store.ErrNoDocuments) {
		t.Fatal(err)
	}
	_, err = c.DeleteMany(e.Ctx, D(t, `{"g": 2}`))
	NoErr(t, err)
	_, err = c.DeleteOne(e.Ctx, D(t, `{"_id": 999}`)) // nothing
	NoErr(t, err)
	Insert(t, e, c, `[{"_id": 20}]`)

	type want struct{ op, key string }
	wants := []want{
		{"update", `{"_id": 1}`}, {"update", `{"_id": 2}`}, // $set h
		{"update", `{"_id": 1}`}, {"update", `{"_id": 2}`}, // g: 2 (not _id 3)
		{"update", `{"_id": 1}`}, // $unset n.x
		{"insert", `{"_id": 10}`}, {"insert", `{"_id": 11}`}, {"insert", `{"_id": 12}`},
		{"delete", `{"_id": 1}`}, {"delete", `{"_id": 2}`}, {"delete", `{"_id": 3}`},
		{"insert", `{"_id": 20}`},
	}
	for i, w := range wants {
		ev := next(t, e, cs)
		if get(ev, "operationType") != w.op || ejson(get(ev, "documentKey")) != ejson(D(t, w.key)) {
			t.Fatalf("event %d: %s %s, want %s %s", i, get(ev, "operationType"), ejson(get(ev, "documentKey")), w.op, w.key)
		}
		if i == 4 {
			Equal(t, get(ev, "updateDescription", "removedFields"), `["n.x"]`)
			Equal(t, get(ev, "updateDescription", "updatedFields"), `{}`)
		}
		if i == 5 {
			Equal(t, get(ev, "fullDocument"), `{"_id": 10, "u": 1}`)
		}
	}
}

// testChangeStreamPostImages: with images stored, fullDocument "required"
// gives update events the document as it was after the update.
func testChangeStreamPostImages(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	c := e.C("c")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "c", store.CreateCollectionOptions{ChangeStreamPreAndPostImages: true}))
	Insert(t, e, c, `[{"_id": 1, "v": 1}]`)
	cs := watch(t, e, c, nil, store.WatchOptions{FullDocument: "required", FullDocumentBeforeChange: "whenAvailable"})
	_, err := c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$inc": {"v": 1}}`), store.UpdateOptions{})
	NoErr(t, err)
	_, err = c.UpdateOne(e.Ctx, D(t, `{"_id": 1}`), D(t, `{"$inc": {"v": 1}}`), store.UpdateOptions{})
	NoErr(t, err)
	ev := next(t, e, cs)
	Equal(t, get(ev, "fullDocument"), `{"_id": 1, "v": 2}`)
	Equal(t, get(ev, "fullDocumentBeforeChange"), `{"_id": 1, "v": 1}`)
	ev = next(t, e, cs)
	Equal(t, get(ev, "fullDocument"), `{"_id": 1, "v": 3}`)
	Equal(t, get(ev, "fullDocumentBeforeChange"), `{"_id": 1, "v": 2}`)
}

// testChangeStreamDropDatabase: on a database stream, dropping the
// database gives a drop event per collection, then dropDatabase, then
// invalidate.
func testChangeStreamDropDatabase(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	Insert(t, e, e.C("a"), `[{"_id": 1}]`)
	Insert(t, e, e.C("b"), `[{"_id": 1}]`)
	cs, err := e.DB.Watch(e.Ctx, nil, store.WatchOptions{})
	NoErr(t, err)
	defer cs.Close(context.Background())
	NoErr(t, e.DB.Drop(e.Ctx))
	var drops []string
	for {
		ev := next(t, e, cs)
		op, _ := get(ev, "operationType").(string)
		if op != "drop" {
			if op != "dropDatabase" {
				t.Fatalf("event %s, want drop or dropDatabase", ejson(ev))
			}
			Equal(t, get(ev, "ns"), `{"db": "`+e.DB.Name()+`"}`)
			break
		}
		coll, _ := get(ev, "ns", "coll").(string)
		drops = append(drops, coll)
	}
	slices.Sort(drops)
	Equal(t, toA(drops), `["a", "b"]`)
	Equal(t, get(next(t, e, cs), "operationType"), `"invalidate"`)
}

// testChangeStreamCollectionIsolation: a collection's stream sees only
// that collection.
func testChangeStreamCollectionIsolation(t *testing.T, e *Env) {
	needChangeStreams(t, e)
	a, b := e.C("a"), e.C("a.b")
	NoErr(t, e.DB.CreateCollection(e.Ctx, "a", store.CreateCollectionOptions{}))
	NoErr(t, e.DB.CreateCollection(e.Ctx, "a.b", store.CreateCollectionOptions{}))
	cs := watch(t, e, a, nil, store.WatchOptions{})
	Insert(t, e, b, `[{"_id": "other"}]`)
	other := e.Store.Database(uniqueName())
	t.Cleanup(func() { _ = other.Drop(context.Background()) })
	Insert(t, e, other.Collection("a"), `[{"_id": "other db"}]`)
	Insert(t, e, a, `[{"_id": "mine"}]`)
	ev := next(t, e, cs)
	checkEventEnvelope(t, e, ev, "insert", "a")
	Equal(t, get(ev, "documentKey"), `{"_id": "mine"}`)
}
