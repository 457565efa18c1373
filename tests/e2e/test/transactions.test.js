// Multi-document transactions in functions (apps/transactions): sessions
// started with context.services.get("mongodb-atlas").startSession(),
// operations given { session }, called through realm-web. Commits make all
// writes visible, a throw or abort none, and a write the rules deny aborts
// the transaction it is in.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import path from "node:path";

import { startServer, appIdOf, appsDir, runAtoll } from "../lib/server.js";
import { Realm, newApp, uniqueEmail, rejects } from "../lib/realm.js";

let server;
let app;
let alice;
let bob;

async function register(tag) {
  const email = uniqueEmail(tag);
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  return app.logIn(Realm.Credentials.emailPassword(email, "password123"), false);
}

// The balances as the client API reads them (rules: everyone reads).
async function balances(user) {
  const accounts = user.mongoClient("mongodb-atlas").db("bank").collection("accounts");
  const out = {};
  for (const a of await accounts.find({})) out[a._id] = a.balance;
  return out;
}

before(async () => {
  server = await startServer("transactions");
  app = newApp(server, await appIdOf("transactions"));
  alice = await register("alice");
  bob = await register("bob");
  await alice.functions.openAccounts();
  await bob.functions.openAccounts();
});

after(async () => {
  await server?.stop();
});

test("withTransaction commits every write", async () => {
  const [checking, savings] = [`${alice.id}-checking`, `${alice.id}-savings`];
  assert.equal(await alice.functions.transfer(checking, savings, 30), "done");
  const b = await balances(alice);
  assert.equal(b[checking], 70);
  assert.equal(b[savings], 30);
});

test("a throw inside withTransaction keeps none of its writes", async () => {
  const [checking, savings] = [`${alice.id}-checking`, `${alice.id}-savings`];
  const before = await balances(alice);
  const err = await rejects(alice.functions.transfer(checking, savings, 1000));
  assert.match(err.message, /insufficient funds/);
  assert.deepEqual(await balances(alice), before);
});

test("startTransaction with commitTransaction or abortTransaction", async () => {
  const [checking, savings] = [`${bob.id}-checking`, `${bob.id}-savings`];
  assert.equal(await bob.functions.transferManually(checking, savings, 10, false), "aborted");
  let b = await balances(bob);
  assert.equal(b[checking], 100);
  assert.equal(b[savings], 0);
  assert.equal(await bob.functions.transferManually(checking, savings, 10, true), "committed");
  b = await balances(bob);
  assert.equal(b[checking], 90);
  assert.equal(b[savings], 10);
});

test("a write the rules deny aborts the transaction: nothing before it is kept", async () => {
  const before = await balances(alice);
  const { denied, commit } = await alice.functions.deniedInTransaction(`${alice.id}-checking`, `${bob.id}-checking`);
  assert.match(denied, /not permitted/);
  assert.match(commit, /Transaction has been aborted/);
  assert.deepEqual(await balances(alice), before);
});

test("a system function commits and aborts transactions too", async () => {
  assert.equal(await alice.functions.auditAsSystem("e2e"), 2);
});

test("`atoll logs --app` shows the transaction functions' runs", async () => {
  let out = "";
  server = await server.restart((dataDir) => {
    out = runAtoll(["logs", "--app", path.join(appsDir, "transactions"), "--data", dataDir, "--type", "function"]);
  });
  assert.match(out, /function transfer OK .* trigger=client/);
  assert.match(out, /function transfer ERROR .*\n(.*\n)*?\s+error: .*insufficient funds/);
  assert.match(out, /function auditAsSystem OK/);
});
