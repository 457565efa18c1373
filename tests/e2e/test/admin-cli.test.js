// Flows that need an administrator: a server API key created with
// `atoll apikeys create`, and a user disabled and enabled with `atoll users`.
// The embedded store admits one process, so the server is stopped around
// each CLI call and restarted on the same address and data directory; the
// SDK's sessions carry over.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { startServer, appIdOf, runAtoll } from "../lib/server.js";
import { Realm, newApp, uniqueEmail, rejects } from "../lib/realm.js";

let server;
let appId;
const env = { ATOLL_SECRET_jwtSigningKey: "2k66QfKeTRk3MdZ5vpDYgZCu2k66QfKeTRk3MdZ5vpDYgZCu" };

before(async () => {
  appId = await appIdOf("auto");
  server = await startServer("auto", { env });
});

after(async () => {
  await server?.stop();
});

test("a server API key from the CLI logs in as a server user", async () => {
  let out = "";
  server = await server.restart((dataDir) => {
    out = runAtoll(["apikeys", "create", "--data", dataDir, "--name", "backend-job"]);
  });
  const key = out.match(/^key:\s*(\S+)$/m)?.[1];
  assert.ok(key, `no key in CLI output:\n${out}`);
  assert.doesNotMatch(server.logs(), new RegExp(key));

  const app = newApp(server, appId);
  const user = await app.logIn(Realm.Credentials.apiKey(key));
  assert.equal(user.profile.name, "backend-job");
  assert.deepEqual(user.identities.map((i) => i.providerType), ["api-key"]);
  const again = await newApp(server, appId).logIn(Realm.Credentials.apiKey(key));
  assert.equal(again.id, user.id);

  const wrong = await rejects(newApp(server, appId).logIn(Realm.Credentials.apiKey(key.slice(0, -4) + "aaaa")));
  assert.equal(wrong.statusCode, 401);
});

test("a disabled user cannot log in or refresh; enabling restores it", async () => {
  const app = newApp(server, appId);
  const email = uniqueEmail("disabled");
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  const user = await app.logIn(Realm.Credentials.emailPassword(email, "password123"));

  server = await server.restart((dataDir) => {
    runAtoll(["users", "disable", "--data", dataDir, user.id]);
  });
  const login = await rejects(newApp(server, appId).logIn(Realm.Credentials.emailPassword(email, "password123")));
  assert.equal(login.statusCode, 401);
  assert.equal(login.errorCode, "UserDisabled");
  // The existing session ended with the disable.
  const refresh = await rejects(user.refreshCustomData());
  assert.equal(refresh.statusCode, 401);
  assert.equal(user.state, "logged-out");

  server = await server.restart((dataDir) => {
    runAtoll(["users", "enable", "--data", dataDir, user.id]);
  });
  const back = await newApp(server, appId).logIn(Realm.Credentials.emailPassword(email, "password123"));
  assert.equal(back.id, user.id);
});
