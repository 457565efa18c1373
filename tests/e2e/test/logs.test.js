// The app log: function runs called through realm-web are recorded in the
// store, and `atoll logs` prints them once the server is stopped (the
// embedded store admits one process).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { startServer, appIdOf, runAtoll } from "../lib/server.js";
import { Realm, newApp, uniqueEmail, rejects } from "../lib/realm.js";

let server;
let app;

before(async () => {
  app = await appIdOf("functions");
  server = await startServer("functions");
});

after(async () => {
  await server?.stop();
});

test("function runs are in `atoll logs` with caller, arguments, result and error", async () => {
  const client = newApp(server, app);
  const email = uniqueEmail("logs");
  await client.emailPasswordAuth.registerUser({ email, password: "password123" });
  const user = await client.logIn(Realm.Credentials.emailPassword(email, "password123"));
  assert.equal(await user.functions.sum(20, 22), 42);
  await rejects(user.functions.boom());
  let out = "";
  server = await server.restart((dataDir) => {
    out = runAtoll(["logs", "--data", dataDir, "--type", "function", "--limit", "10"]);
  });
  const sum = out.match(/^\S+ function sum OK [0-9.]+ms caller=user (\S+) trigger=client$/m);
  assert.ok(sum, out);
  assert.equal(sum[1], user.id);
  assert.match(out, /arguments: \[\{"\$numberInt":"20"\},\{"\$numberInt":"22"\}\]/);
  assert.match(out, /result: \{"\$numberInt":"42"\}|result: \{"\$numberDouble":"42\.0"\}/);
  assert.match(out, /function boom ERROR .* trigger=client\n(.*\n)*?\s+error: .*boom: something went wrong/);
});
