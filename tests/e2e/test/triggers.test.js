// realm-web 2.0.1 against `atoll serve` with apps/triggers: the seed 002
// task tracker plus its onNewUser AUTHENTICATION trigger, which runs
// createNewUserDocument after an email/password user is created. The
// trigger runs asynchronously, so the test polls tracker.users.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { startServer, appIdOf } from "../lib/server.js";
import { Realm, newApp, uniqueEmail } from "../lib/realm.js";

let server;
let app;

before(async () => {
  server = await startServer("triggers");
  app = newApp(server, await appIdOf("triggers"));
});

after(async () => {
  await server?.stop();
});

async function findUserDoc(user, deadlineMs) {
  const users = user.mongoClient("mongodb-atlas").db("tracker").collection("users");
  const end = Date.now() + deadlineMs;
  for (;;) {
    const doc = await users.findOne({ user_id: user.id });
    if (doc || Date.now() > end) return doc;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("registering a user runs createNewUserDocument from the onNewUser trigger", async () => {
  const email = uniqueEmail("trig");
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  const user = await app.logIn(Realm.Credentials.emailPassword(email, "password123"));
  const doc = await findUserDoc(user, 10000);
  assert.ok(doc, "tracker.users has no document for the new user");
  assert.equal(doc._partition, "My Project");
  assert.equal(doc.user_id, user.id);
  assert.equal(doc.name, email);
});

test("an anonymous user does not fire the local-userpass trigger", async () => {
  const anon = await app.logIn(Realm.Credentials.anonymous());
  // A later email/password user's document shows the trigger queue has
  // moved past the anonymous login (events run in order).
  const email = uniqueEmail("after");
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  const user = await app.logIn(Realm.Credentials.emailPassword(email, "password123"));
  assert.ok(await findUserDoc(user, 10000), "the later user's document is missing");
  const users = anon.mongoClient("mongodb-atlas").db("tracker").collection("users");
  assert.equal(await users.findOne({ user_id: anon.id }), null);
});
