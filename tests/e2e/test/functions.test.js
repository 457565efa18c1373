// realm-web 2.0.1 calling app functions on `atoll serve` (apps/functions:
// the task tracker's data source plus a handful of functions). Covers
// user.functions.name(...) and user.callFunction(...), BSON types in both
// directions, errors, private functions, and a function reading and writing
// data as the calling user (rules applied) versus as system (bypassed).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { startServer, appIdOf } from "../lib/server.js";
import { Realm, newApp, uniqueEmail, rejects } from "../lib/realm.js";

const { BSON } = Realm;
let server;
let app;
let alice;

before(async () => {
  server = await startServer("functions");
  app = newApp(server, await appIdOf("functions"));
  const email = uniqueEmail("alice");
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  alice = await app.logIn(Realm.Credentials.emailPassword(email, "password123"));
});

after(async () => {
  await server?.stop();
});

test("user.functions.name and user.callFunction call the same function", async () => {
  assert.equal(await alice.functions.sum(2, 3), 5);
  assert.equal(await alice.callFunction("sum", 40, 2), 42);
});

test("context.user and runningAsSystem see the calling user", async () => {
  const who = await alice.functions.whoami();
  assert.equal(who.id, alice.id);
  assert.equal(who.system, false);
});

test("BSON types survive the round trip", async () => {
  const oid = new BSON.ObjectId();
  const when = new Date("2024-02-29T12:34:56.789Z");
  const dec = BSON.Decimal128.fromString("1234.5678901234567890");
  const long = BSON.Long.fromString("9007199254740993");
  const nested = [1, [2, [3, "x"]], { k: [oid] }];
  const { args, types } = await alice.functions.echo(oid, when, dec, long, nested, null);
  assert.equal(args[0].toHexString(), oid.toHexString());
  assert.ok(args[0] instanceof BSON.ObjectId);
  assert.equal(args[1].getTime(), when.getTime());
  assert.ok(args[1] instanceof Date);
  assert.equal(args[2].toString(), dec.toString());
  assert.ok(args[2] instanceof BSON.Decimal128);
  // realm-web decodes responses as relaxed EJSON, so a Long comes back as
  // a JS number (see the wire-level test below for the exact value).
  assert.equal(types[3], "Long");
  assert.equal(args[3], 9007199254740992);
  assert.deepEqual(args[4][1], [2, [3, "x"]]);
  assert.equal(args[4][2].k[0].toHexString(), oid.toHexString());
  assert.equal(args[5], null);
  assert.equal(types[0], "ObjectId");
  assert.equal(types[1], "Date");
  assert.equal(types[2], "Decimal128");
});

test("a Long beyond 2^53 is exact on the wire (canonical EJSON)", async () => {
  const res = await fetch(`${server.url}/api/client/v2.0/app/${await appIdOf("functions")}/functions/call`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${alice.accessToken}` },
    body: JSON.stringify({ name: "echo", arguments: [{ $numberLong: "9007199254740993" }] }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.args, [{ $numberLong: "9007199254740993" }]);
  assert.deepEqual(body.types, ["Long"]);
});

test("errors: thrown Error, thrown value, unknown and private functions", async () => {
  const boom = await rejects(alice.functions.boom());
  assert.equal(boom.errorCode, "FunctionExecutionError");
  assert.match(boom.error, /boom: something went wrong/);

  const value = await rejects(alice.functions.throwsValue());
  assert.equal(value.errorCode, "FunctionExecutionError");

  const unknown = await rejects(alice.functions.noSuchFunction());
  assert.equal(unknown.errorCode, "FunctionNotFound");

  const priv = await rejects(alice.callFunction("utils/secret"));
  assert.equal(priv.errorCode, "FunctionExecutionError");
  assert.match(priv.error, /private/);

  // A private function may still be executed by another function.
  assert.equal(await alice.functions.callsSecret(), "only for other functions");
});

test("a function runs with the caller's rules, a system function bypasses them", async () => {
  const tasks = alice.mongoClient("mongodb-atlas").db("tracker").collection("tasks");

  // As alice: her own task is allowed...
  const mine = await alice.functions.insertTaskAs(alice.id, "fn-own");
  assert.ok(mine instanceof BSON.ObjectId);
  // ...a task assigned to someone else is refused, and nothing is written.
  const refused = await rejects(alice.functions.insertTaskAs("someone-else", "fn-foreign"));
  assert.equal(refused.errorCode, "FunctionExecutionError");
  assert.equal(await tasks.count({ name: "fn-foreign" }), 0);

  // run_as_system writes what the rules would refuse.
  const sys = await alice.functions.insertTaskAsSystem("someone-else", "fn-system");
  assert.ok(sys instanceof BSON.ObjectId);
  const found = await tasks.findOne({ name: "fn-system" });
  assert.equal(found.assignee, "someone-else");
});

test("%function in a rule runs the app function for the requesting user", async () => {
  const email = uniqueEmail("bob");
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  const bob = await app.logIn(Realm.Credentials.emailPassword(email, "password123"));
  const notes = (u) => u.mongoClient("mongodb-atlas").db("tracker").collection("notes");
  // isOwner(%%root.owner_id) decides the role, document by document.
  await notes(alice).insertOne({ owner_id: alice.id, text: "alice's" });
  await rejects(notes(alice).insertOne({ owner_id: bob.id, text: "forged" }));
  await notes(bob).insertOne({ owner_id: bob.id, text: "bob's" });
  assert.deepEqual((await notes(alice).find({}, { projection: { _id: 0 } })).map((n) => n.text), ["alice's"]);
  assert.deepEqual((await notes(bob).find({}, { projection: { _id: 0 } })).map((n) => n.text), ["bob's"]);
  const upd = await notes(bob).updateOne({ owner_id: alice.id }, { $set: { text: "hijacked" } });
  assert.equal(upd.modifiedCount, 0);
});
