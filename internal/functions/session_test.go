package functions

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/rules"
	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
)

// bank/accounts: an owner may write their own accounts; everyone reads.
const accountsRules = `{"database":"bank","collection":"accounts","roles":[
 {"name":"owner","apply_when":{"owner":"%%user.id"},"read":true,"write":true,"insert":true,"delete":true},
 {"name":"others","apply_when":{},"read":true,"write":false,"insert":false,"delete":false}]}`

const txPrelude = `const client = context.services.get("mongodb-atlas");
const accounts = client.db("bank").collection("accounts");
const move = async (session, n) => {
  await accounts.updateOne({_id: "a1"}, {$inc: {balance: -n}}, { session });
  await accounts.updateOne({_id: "a2"}, {$inc: {balance: n}}, { session });
};
`

var txSources = map[string]string{
	// The documented pattern, with the session's reads inside the
	// transaction seeing its own writes.
	"transfer": txPrelude + `exports = async function(n){
  const session = client.startSession();
  let seen;
  try {
    await session.withTransaction(async () => {
      await move(session, n);
      seen = (await accounts.findOne({_id: "a1"}, {}, { session })).balance;
    }, { readConcern: { level: "snapshot" }, writeConcern: { w: "majority" } });
  } finally {
    await session.endSession();
  }
  return seen;
}`,
	"transferThrow": txPrelude + `exports = async function(){
  const session = client.startSession();
  try {
    await session.withTransaction(async () => { await move(session, 10); throw new Error("changed my mind"); });
    return "committed";
  } catch (e) {
    await session.abortTransaction(); // as App Services' docs do: a no-op here
    return "aborted: " + e.message;
  } finally {
    session.endSession();
  }
}`,
	// A denied write fails inside the transaction and aborts it: a commit
	// that ignores the error cannot keep the writes before it.
	"deniedThenCommit": txPrelude + `exports = async function(){
  const session = client.startSession();
  session.startTransaction();
  await accounts.updateOne({_id: "a1"}, {$inc: {balance: -50}}, { session });
  let denied = "", after = "", commit = "";
  try { await accounts.insertOne({_id: "x", owner: "bob", balance: 1}, { session }) } catch (e) { denied = e.message }
  try { await accounts.updateOne({_id: "a2"}, {$inc: {balance: 50}}, { session }) } catch (e) { after = e.message }
  try { await session.commitTransaction() } catch (e) { commit = e.message }
  session.endSession();
  return [denied, after, commit];
}`,
	"manual": txPrelude + `exports = async function(commit){
  const session = client.startSession();
  session.startTransaction();
  const states = [session.inTransaction()];
  let again = "";
  try { session.startTransaction() } catch (e) { again = e.message }
  await move(session, 5);
  await accounts.insertOne({_id: "m", owner: context.user.id, balance: 0}, { session });
  if (commit) { await session.commitTransaction(); await session.commitTransaction(); } else { await session.abortTransaction(); }
  states.push(session.inTransaction());
  let afterAbort = "";
  if (!commit) { try { await session.commitTransaction() } catch (e) { afterAbort = e.message } }
  await session.endSession();
  let ended = "";
  try { await accounts.findOne({}, {}, { session }) } catch (e) { ended = e.message }
  return [states, again, afterAbort, ended, session.hasEnded];
}`,
	// Business-rule abort inside the callback: withTransaction must not
	// commit afterwards.
	"innerAbort": txPrelude + `exports = async function(){
  const session = client.startSession();
  const r = await session.withTransaction(async () => {
    await move(session, 7);
    await session.abortTransaction();
    return "gave up";
  });
  session.endSession();
  return r;
}`,
	"leak": txPrelude + `exports = async function(){
  const session = client.startSession();
  session.startTransaction();
  await move(session, 1000);
  return "left open";
}`,
	"leakSpin": txPrelude + `exports = async function(){
  const session = client.startSession();
  session.startTransaction();
  await move(session, 1000);
  while (true) {}
}`,
	"sysTx": `exports = async function(){
  const c = context.services.get("mongodb-atlas").db("bank").collection("audit");
  const session = context.services.get("mongodb-atlas").startSession();
  let n;
  await session.withTransaction(async () => {
    await c.insertMany([{_id: 1}, {_id: 2}], { session });
    await c.deleteOne({_id: 1}, { session });
    n = await c.count({}, { session });
    const viaCursor = await c.find({}, {}, { session }).toArray();
    const viaAgg = await c.aggregate([{$match: {}}], { session }).toArray();
    if (viaCursor.length !== 1 || viaAgg.length !== 1) throw new Error("cursor reads miss the transaction's writes");
  });
  return [n, context.runningAsSystem()];
}`,
	"notSession": txPrelude + `exports = async function(){
  try { await accounts.findOne({}, {}, { session: {} }); return "ran" } catch (e) { return e.name + ": " + e.message }
}`,
	"syncThrow": txPrelude + `exports = async function(){
  const session = client.startSession();
  try { await session.withTransaction(() => { throw new RangeError("sync") }) } catch (e) { return [e.name, session.inTransaction()] }
}`,
	"startOnly": txPrelude + `exports = function(){ client.startSession().startTransaction(); return "started" }`,
}

const txManifest = `[{"name":"transfer"},{"name":"transferThrow"},{"name":"deniedThenCommit"},{"name":"manual"},
 {"name":"innerAbort"},{"name":"leak"},{"name":"leakSpin"},{"name":"sysTx","run_as_system":true},{"name":"notSession"},
 {"name":"syncThrow"},{"name":"startOnly"}]`

func txFiles() map[string]string {
	f := fnFiles(txSources, txManifest)
	f["data_sources/mongodb-atlas/bank/accounts/rules.json"] = accountsRules
	return f
}

type txFixture struct {
	t     *testing.T
	e     *Engine
	ctx   context.Context
	alice Caller
}

func newTxFixture(t *testing.T, cfg Config) *txFixture {
	e := testEngine(t, testApp(t, txFiles()), cfg)
	f := &txFixture{t: t, e: e, ctx: tctx(t), alice: ClientCaller(rules.Caller{ID: "alice", Type: "normal"}, nil)}
	accts := e.cfg.Store.Database("bank").Collection("accounts")
	for _, d := range []bson.D{
		{{Key: "_id", Value: "a1"}, {Key: "owner", Value: "alice"}, {Key: "balance", Value: int32(100)}},
		{{Key: "_id", Value: "a2"}, {Key: "owner", Value: "alice"}, {Key: "balance", Value: int32(0)}},
		{{Key: "_id", Value: "b1"}, {Key: "owner", Value: "bob"}, {Key: "balance", Value: int32(100)}},
	} {
		if _, err := accts.InsertOne(f.ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// balances reads the stored accounts directly, and whether "m" exists.
func (f *txFixture) balances() (a1, a2 any, docs int) {
	f.t.Helper()
	cur, err := f.e.cfg.Store.Database("bank").Collection("accounts").Find(f.ctx, bson.D{}, store.FindOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	all, err := store.All(f.ctx, cur)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, d := range all {
		switch d[0].Value {
		case "a1":
			a1 = d[2].Value
		case "a2":
			a2 = d[2].Value
		}
	}
	return a1, a2, len(all)
}

func (f *txFixture) call(caller Caller, name string, args ...any) any {
	f.t.Helper()
	got, err := f.e.Call(f.ctx, caller, name, args)
	if err != nil {
		f.t.Fatalf("%s: %v", name, err)
	}
	return got
}

func TestSessionWithTransactionCommits(t *testing.T) {
	f := newTxFixture(t, Config{})
	if got := f.call(f.alice, "transfer", int32(30)); got != int32(70) {
		t.Fatalf("balance read inside the transaction = %#v, want 70", got)
	}
	if a1, a2, _ := f.balances(); a1 != int32(70) || a2 != int32(30) {
		t.Fatalf("after commit a1=%v a2=%v", a1, a2)
	}
}

func TestSessionThrowAbortsAll(t *testing.T) {
	f := newTxFixture(t, Config{})
	if got := f.call(f.alice, "transferThrow"); got != "aborted: changed my mind" {
		t.Fatalf("got %#v", got)
	}
	if got := f.call(f.alice, "syncThrow"); !equalA(got, bson.A{"RangeError", false}) {
		t.Fatalf("syncThrow: %#v", got)
	}
	if got := f.call(f.alice, "innerAbort"); got != "gave up" {
		t.Fatalf("innerAbort: %#v", got)
	}
	if a1, a2, _ := f.balances(); a1 != int32(100) || a2 != int32(0) {
		t.Fatalf("aborted writes visible: a1=%v a2=%v", a1, a2)
	}
}

func TestSessionDeniedWriteAbortsTransaction(t *testing.T) {
	f := newTxFixture(t, Config{})
	got, ok := f.call(f.alice, "deniedThenCommit").(bson.A)
	if !ok || len(got) != 3 {
		t.Fatalf("got %#v", got)
	}
	if denied := got[0].(string); !strings.Contains(denied, "insert not permitted") {
		t.Errorf("denied insert: %q", denied)
	}
	for i, msg := range got[1:] {
		if !strings.Contains(msg.(string), "Transaction has been aborted") {
			t.Errorf("message %d after the denial: %q", i+1, msg)
		}
	}
	if a1, a2, n := f.balances(); a1 != int32(100) || a2 != int32(0) || n != 3 {
		t.Fatalf("writes of an aborted transaction visible: a1=%v a2=%v docs=%d", a1, a2, n)
	}
}

func TestSessionManualCommitAndAbort(t *testing.T) {
	f := newTxFixture(t, Config{})
	got := f.call(f.alice, "manual", false)
	want := bson.A{bson.A{true, false}, "Transaction already in progress",
		"Cannot call commitTransaction after calling abortTransaction", "Cannot use a session that has ended", true}
	if !equalA(got, want) {
		t.Fatalf("abort: got %#v\nwant %#v", got, want)
	}
	if a1, _, n := f.balances(); a1 != int32(100) || n != 3 {
		t.Fatalf("aborted writes visible: a1=%v docs=%d", a1, n)
	}
	got = f.call(f.alice, "manual", true)
	want = bson.A{bson.A{true, false}, "Transaction already in progress", "", "Cannot use a session that has ended", true}
	if !equalA(got, want) {
		t.Fatalf("commit: got %#v", got)
	}
	if a1, a2, n := f.balances(); a1 != int32(95) || a2 != int32(5) || n != 4 {
		t.Fatalf("after commit a1=%v a2=%v docs=%d", a1, a2, n)
	}
}

func TestSessionSystemFunction(t *testing.T) {
	f := newTxFixture(t, Config{})
	if got := f.call(f.alice, "sysTx"); !equalA(got, bson.A{int32(1), true}) {
		t.Fatalf("got %#v", got)
	}
	n, err := f.e.cfg.Store.Database("bank").Collection("audit").CountDocuments(f.ctx, bson.D{}, store.CountOptions{})
	if err != nil || n != 1 {
		t.Fatalf("audit count %d, %v", n, err)
	}
}

func TestSessionRejectsForeignSession(t *testing.T) {
	f := newTxFixture(t, Config{})
	if got := f.call(f.alice, "notSession"); got != "TypeError: "+errNotSessionOfCall.Error() {
		t.Fatalf("got %#v", got)
	}
}

// A transaction the function never ends is rolled back when the call
// ends, normally or by timeout, and releases the embedded store's writer:
// the direct writes below would otherwise wait for the transaction
// lifetime limit (longer than the test context).
func TestSessionLeftOpenIsCleanedUp(t *testing.T) {
	f := newTxFixture(t, Config{Timeout: 500 * time.Millisecond})
	if got := f.call(f.alice, "leak"); got != "left open" {
		t.Fatalf("got %#v", got)
	}
	accts := f.e.cfg.Store.Database("bank").Collection("accounts")
	wctx, cancel := context.WithTimeout(f.ctx, 20*time.Second)
	defer cancel()
	if _, err := accts.InsertOne(wctx, bson.D{{Key: "_id", Value: "w1"}}); err != nil {
		t.Fatalf("write after the call: %v", err)
	}
	if _, err := f.e.Call(f.ctx, f.alice, "leakSpin", nil); err == nil {
		t.Fatal("leakSpin returned")
	}
	if _, err := accts.InsertOne(wctx, bson.D{{Key: "_id", Value: "w2"}}); err != nil {
		t.Fatalf("write after the timed-out call: %v", err)
	}
	if a1, a2, n := f.balances(); a1 != int32(100) || a2 != int32(0) || n != 5 {
		t.Fatalf("open transactions' writes kept: a1=%v a2=%v docs=%d", a1, a2, n)
	}
	// And the functions keep working.
	if got := f.call(f.alice, "transfer", int32(1)); got != int32(99) {
		t.Fatalf("transfer after the leaks: %#v", got)
	}
}

// noTxStore is a store without transactions (FerretDB, a standalone
// MongoDB).
type noTxStore struct{ store.Store }

func (noTxStore) Capabilities() store.Capabilities { return store.Capabilities{} }

func TestSessionWithoutTransactions(t *testing.T) {
	ctx := tctx(t)
	st, err := embedded.Open(ctx, t.TempDir(), embedded.Options{SyncOff: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	app := testApp(t, txFiles())
	da, err := dataaccess.New(app, noTxStore{st}, dataaccess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer da.Close()
	e, err := New(app, Config{Data: da, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, name := range []string{"startOnly", "transfer"} {
		_, err := e.Call(ctx, SystemCaller(), name, []any{int32(1)})
		if err == nil || !strings.Contains(err.Error(), "Transaction numbers are only allowed on a replica set member or mongos") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func equalA(got any, want bson.A) bool {
	a, ok := got.(bson.A)
	if !ok || len(a) != len(want) {
		return false
	}
	for i := range a {
		if w, ok := want[i].(bson.A); ok {
			if !equalA(a[i], w) {
				return false
			}
			continue
		}
		if a[i] != want[i] {
			return false
		}
	}
	return true
}
