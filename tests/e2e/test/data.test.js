// realm-web 2.0.1's remote MongoDB client against `atoll serve` with the
// seed 002 task tracker (apps/tracker): tracker.tasks where the assignee
// may insert, write and delete their own tasks and everyone reads, and a
// read-only tracker.users. Two email/password users and an anonymous one
// run CRUD, aggregate, count and watch(); every refused write is checked
// to have changed nothing by re-reading as the owner.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { startServer, appIdOf, putDoc } from "../lib/server.js";
import { Realm, newApp, uniqueEmail, rejects } from "../lib/realm.js";

const { BSON } = Realm;
let server;
let app;
let alice, bob, anon;

const tasksOf = (user) => user.mongoClient("mongodb-atlas").db("tracker").collection("tasks");
const usersOf = (user) => user.mongoClient("mongodb-atlas").db("tracker").collection("users");

async function register(email) {
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  return app.logIn(Realm.Credentials.emailPassword(email, "password123"));
}

before(async () => {
  // tracker.users is read-only for every client, so its one document is
  // written into the store before the server starts.
  const dataDir = mkdtempSync(path.join(tmpdir(), "atoll-e2e-data-"));
  putDoc(dataDir, "tracker", "users", {
    _id: { $oid: "65f000000000000000000001" },
    _partition: "My Project",
    user_id: "someone",
    name: "someone@example.com",
  });
  server = await startServer("tracker", { dataDir, ownDataDir: true });
  app = newApp(server, await appIdOf("tracker"));
  alice = await register(uniqueEmail("alice"));
  bob = await register(uniqueEmail("bob"));
  anon = await app.logIn(Realm.Credentials.anonymous());
});

after(async () => {
  await server?.stop();
});

const task = (user, name, extra = {}) => ({ _partition: "My Project", name, status: "Open", assignee: user.id, ...extra });

test("insertOne / insertMany: own tasks are accepted, ids are ObjectIds in input order", async () => {
  const res = await tasksOf(alice).insertOne(task(alice, "a-1"));
  assert.equal(res.insertedId.constructor.name, "ObjectId");
  const many = await tasksOf(alice).insertMany([task(alice, "a-2"), task(alice, "a-3")]);
  assert.equal(many.insertedIds.length, 2);
  const found = await tasksOf(alice).find({ _id: { $in: many.insertedIds } }, { sort: { name: 1 } });
  assert.deepEqual(found.map((t) => t.name), ["a-2", "a-3"]);
  assert.deepEqual(found.map((t) => t._id.toHexString()), many.insertedIds.map((id) => id.toHexString()));
});

test("inserts refused: a task for someone else, an anonymous task, a schema violation, tracker.users", async () => {
  const before = await tasksOf(alice).count();
  for (const [who, doc] of [
    [alice, task(bob, "for-bob")],
    [anon, task(alice, "anon-for-alice")],
    [anon, task(anon, "anon", { assignee: undefined })],
  ]) {
    const err = await rejects(tasksOf(who).insertOne(doc));
    assert.equal(err.statusCode >= 400 && err.statusCode < 500, true, err.message);
    assert.match(err.error, /insert not permitted/);
  }
  // The schema requires status; a whole insertMany fails with it.
  const schema = await rejects(tasksOf(alice).insertMany([task(alice, "ok"), { _partition: "My Project", name: "no-status", assignee: alice.id }]));
  assert.equal(schema.statusCode, 400);
  const wrongType = await rejects(tasksOf(alice).insertOne(task(alice, "typed", { status: 5 })));
  assert.equal(wrongType.statusCode, 400);
  const userDoc = await rejects(usersOf(alice).insertOne({ _partition: "My Project", user_id: alice.id, name: "alice" }));
  assert.match(userDoc.error, /insert not permitted/);

  assert.equal(await tasksOf(alice).count(), before, "refused inserts wrote nothing");
  assert.equal(await tasksOf(alice).count({ name: { $in: ["for-bob", "anon-for-alice", "anon", "ok", "no-status", "typed"] } }), 0);
  assert.equal(await usersOf(alice).count(), 1);
});

test("everyone reads every task and the users; find options, findOne null, count", async () => {
  await tasksOf(bob).insertOne(task(bob, "b-1", { status: "Closed" }));
  for (const who of [alice, bob, anon]) {
    const all = await tasksOf(who).find({}, { sort: { name: -1 }, projection: { name: 1, _id: 0 } });
    const names = all.map((t) => t.name);
    assert.ok(names.includes("a-1") && names.includes("b-1"), `${names}`);
    assert.deepEqual(Object.keys(all[0]), ["name"]);
    assert.deepEqual(names, [...names].sort().reverse());
    const limited = await tasksOf(who).find({}, { limit: 2 });
    assert.equal(limited.length, 2);
    assert.equal(await tasksOf(who).findOne({ name: "no-such-task" }), null);
    const one = await tasksOf(who).findOne({ name: "b-1" });
    assert.equal(one.assignee, bob.id);
    assert.equal(await tasksOf(who).count({ status: "Closed" }), 1);
    assert.equal(await tasksOf(who).count({}, { limit: 2 }), 2);
    const users = await usersOf(who).find();
    assert.deepEqual(users.map((u) => u.user_id), ["someone"]);
  }
});

test("updates: the assignee may, others may not, and refused updates change nothing", async () => {
  const own = await tasksOf(alice).updateOne({ name: "a-1" }, { $set: { status: "In Progress" } });
  assert.deepEqual(own, { matchedCount: 1, modifiedCount: 1 });
  assert.equal(own.upsertedId, undefined);

  const snapshot = await tasksOf(alice).find({ assignee: alice.id }, { sort: { name: 1 } });
  for (const who of [bob, anon]) {
    const err = await rejects(tasksOf(who).updateOne({ name: "a-1" }, { $set: { status: "Closed" } }));
    assert.match(err.error, /update not permitted/);
    const many = await rejects(tasksOf(who).updateMany({ assignee: alice.id }, { $set: { status: "Closed" } }));
    assert.match(many.error, /update not permitted/);
  }
  // Breaking the schema is refused too.
  const schema = await rejects(tasksOf(alice).updateOne({ name: "a-1" }, { $unset: { status: "" } }));
  assert.equal(schema.statusCode, 400);
  assert.deepEqual(await tasksOf(alice).find({ assignee: alice.id }, { sort: { name: 1 } }), snapshot);

  // updateMany over own tasks, an operator-less update as implicit $set.
  const mine = await tasksOf(alice).updateMany({ assignee: alice.id }, { status: "Open" });
  assert.equal(mine.matchedCount, snapshot.length);
  assert.equal(mine.upsertedId, undefined);
  // Upsert of an own task: upsertedId is an ObjectId.
  const up = await tasksOf(alice).updateOne(
    { name: "a-upserted", assignee: alice.id },
    { $set: { status: "Open", _partition: "My Project" } },
    { upsert: true },
  );
  assert.equal(up.matchedCount, 0);
  assert.equal(up.upsertedId.constructor.name, "ObjectId");
  // Upserting a task for someone else is an insert the rules refuse.
  const upOther = await rejects(
    tasksOf(alice).updateOne({ name: "a-for-bob", assignee: bob.id }, { $set: { status: "Open", _partition: "My Project" } }, { upsert: true }),
  );
  assert.match(upOther.error, /insert not permitted/);
  assert.equal(await tasksOf(bob).count({ name: "a-for-bob" }), 0);
});

test("findOneAndUpdate / findOneAndReplace / findOneAndDelete", async () => {
  const after = await tasksOf(alice).findOneAndUpdate({ name: "a-2" }, { $set: { status: "Closed" } }, { returnNewDocument: true });
  assert.equal(after.status, "Closed");
  const prior = await tasksOf(alice).findOneAndUpdate({ name: "a-2" }, { $set: { status: "Open" } }, { projection: { status: 1 } });
  assert.equal(prior.status, "Closed");
  assert.equal(prior.name, undefined);
  const replaced = await tasksOf(alice).findOneAndReplace(
    { name: "a-3" },
    { _partition: "My Project", name: "a-3", status: "Replaced", assignee: alice.id },
    { returnNewDocument: true },
  );
  assert.equal(replaced.status, "Replaced");
  assert.equal(await tasksOf(alice).findOneAndUpdate({ name: "nope" }, { $set: { status: "x" } }), null);

  const refused = await rejects(tasksOf(bob).findOneAndUpdate({ name: "a-3" }, { $set: { status: "Bob" } }));
  assert.match(refused.error, /update not permitted/);
  const refusedDelete = await rejects(tasksOf(bob).findOneAndDelete({ name: "a-3" }));
  assert.match(refusedDelete.error, /delete not permitted/);
  assert.equal((await tasksOf(alice).findOne({ name: "a-3" })).status, "Replaced");

  const count = await tasksOf(alice).count({ assignee: alice.id });
  const deleted = await tasksOf(alice).findOneAndDelete({ name: "a-3" });
  assert.equal(deleted.status, "Replaced");
  assert.equal(await tasksOf(alice).count({ assignee: alice.id }), count - 1);
});

test("deletes: the assignee may, others may not", async () => {
  const before = await tasksOf(alice).count();
  for (const who of [bob, anon]) {
    const one = await rejects(tasksOf(who).deleteOne({ name: "a-1" }));
    assert.match(one.error, /delete not permitted/);
    const many = await rejects(tasksOf(who).deleteMany({ assignee: alice.id }));
    assert.match(many.error, /delete not permitted/);
  }
  assert.equal(await tasksOf(alice).count(), before);
  const users = await rejects(usersOf(alice).deleteMany({}));
  assert.match(users.error, /delete not permitted/);
  assert.equal(await usersOf(alice).count(), 1);

  await tasksOf(bob).insertMany([task(bob, "b-del-1"), task(bob, "b-del-2")]);
  assert.deepEqual(await tasksOf(bob).deleteOne({ name: "b-del-1" }), { deletedCount: 1 });
  assert.deepEqual(await tasksOf(bob).deleteMany({ name: { $in: ["b-del-1", "b-del-2"] } }), { deletedCount: 1 });
  assert.deepEqual(await tasksOf(bob).deleteMany({ name: "b-del-none" }), { deletedCount: 0 });
});

test("aggregate: every user sees every task; system-only stages are refused", async () => {
  const expectTotal = await tasksOf(alice).count();
  for (const who of [alice, bob, anon]) {
    const [res] = await tasksOf(who).aggregate([
      { $match: {} },
      { $group: { _id: null, n: { $sum: 1 }, names: { $addToSet: "$name" } } },
      { $project: { _id: 0 } },
    ]);
    assert.equal(res.n, expectTotal);
    assert.ok(res.names.includes("b-1"));
  }
  const perUser = await tasksOf(bob).aggregate([{ $group: { _id: "$assignee", n: { $sum: 1 } } }, { $sort: { _id: 1 } }]);
  assert.deepEqual(perUser.map((g) => g._id).sort(), [alice.id, bob.id].sort());
  for (const stage of [{ $out: "stolen" }, { $merge: { into: "stolen" } }]) {
    const err = await rejects(tasksOf(alice).aggregate([stage]));
    assert.equal(err.statusCode >= 400 && err.statusCode < 500, true);
  }
  assert.equal(await tasksOf(alice).count(), expectTotal);
});

test("query operators reserved to the system user are refused", async () => {
  for (const query of [{ $where: "true" }, { name: { $regex: "^a" } }, { $expr: { $eq: ["$name", "a-1"] } }]) {
    const err = await rejects(tasksOf(alice).find(query));
    assert.equal(err.statusCode >= 400 && err.statusCode < 500, true, JSON.stringify(query));
  }
  const regexLiteral = await rejects(tasksOf(alice).find({ name: /^a/ }));
  assert.equal(regexLiteral.statusCode >= 400 && regexLiteral.statusCode < 500, true);
});

/** Reads a watch iterator until pred matches an event or the deadline passes. */
async function nextMatching(it, pred, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const r = await Promise.race([it.next(), new Promise((res) => setTimeout(() => res({ timeout: true }), deadline - Date.now()).unref())]);
    if (r.timeout) break;
    if (r.done) throw new Error("watch stream ended");
    if (pred(r.value)) return r.value;
  }
  throw new Error("no matching change event before the deadline");
}

test("watch(): every user sees changes they may read; ids and filter narrow them; break closes the stream", async () => {
  const marker = `watch-${Date.now()}`;
  const aliceStream = tasksOf(alice).watch();
  const bobIds = tasksOf(bob).watch({ filter: { "fullDocument.name": `${marker}-b` } });
  const anonStream = tasksOf(anon).watch();
  // The first next() sends the request; give the three streams a moment
  // to open before writing.
  const pending = [aliceStream.next(), bobIds.next(), anonStream.next()];
  await new Promise((r) => setTimeout(r, 500));

  const tricky = "100% sure\nline\r\nback\\slash ?>";
  const { insertedId } = await tasksOf(alice).insertOne(task(alice, `${marker}-a`, { status: tricky }));
  await rejects(tasksOf(bob).insertOne(task(alice, `${marker}-refused`)));
  await tasksOf(bob).insertOne(task(bob, `${marker}-b`));

  const first = await Promise.race([pending[0], new Promise((_, rej) => setTimeout(() => rej(new Error("no event")), 10_000).unref())]);
  assert.equal(first.value.operationType, "insert");
  assert.equal(first.value.fullDocument.name, `${marker}-a`);
  assert.equal(first.value.fullDocument.status, tricky);
  assert.equal(first.value.documentKey._id.toHexString(), insertedId.toHexString());

  const bobFirst = await pending[1];
  assert.equal(bobFirst.value.fullDocument.name, `${marker}-b`, "the filter dropped alice's insert");

  const anonFirst = await pending[2];
  assert.equal(anonFirst.value.fullDocument.name, `${marker}-a`);
  const anonSecond = await nextMatching(anonStream, () => true);
  assert.equal(anonSecond.fullDocument.name, `${marker}-b`, "the refused insert made no event");

  // ids: only changes of that document.
  const idStream = tasksOf(anon).watch({ ids: [insertedId] });
  const idNext = idStream.next();
  await new Promise((r) => setTimeout(r, 300));
  await tasksOf(bob).updateOne({ name: `${marker}-b` }, { $set: { status: "Closed" } });
  await tasksOf(alice).updateOne({ _id: insertedId }, { $set: { status: "Done" } });
  const idEvent = (await idNext).value;
  assert.equal(idEvent.operationType === "update" || idEvent.operationType === "replace", true);
  assert.equal(idEvent.documentKey._id.toHexString(), insertedId.toHexString());

  await tasksOf(alice).deleteOne({ _id: insertedId });
  const del = await nextMatching(aliceStream, (ev) => ev.operationType === "delete");
  assert.equal(del.documentKey._id.toHexString(), insertedId.toHexString());

  for (const it of [aliceStream, bobIds, anonStream, idStream]) await it.return();
});

test("watch() of a namespace without rules or an unknown service fails", async () => {
  const noRule = alice.mongoClient("mongodb-atlas").db("tracker").collection("secrets").watch();
  const err = await rejects(noRule.next());
  assert.equal(err.statusCode, 403);
  const noSvc = alice.mongoClient("mongo-db").db("tracker").collection("tasks").watch();
  const err2 = await rejects(noSvc.next());
  assert.equal(err2.statusCode, 404);
});
