// Custom user data: `user.customData` comes from the access token, and
// refreshCustomData() must see a document inserted after login. The
// document is written with the test-only putdoc helper while the server is
// stopped; the server then restarts on the same address and data, so the
// SDK's session carries over.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { startServer, appIdOf, putDoc } from "../lib/server.js";
import { Realm, newApp, uniqueEmail, claimsOf } from "../lib/realm.js";

let server;
let appId;

before(async () => {
  appId = await appIdOf("auto");
  server = await startServer("auto", { env: { ATOLL_SECRET_jwtSigningKey: "2k66QfKeTRk3MdZ5vpDYgZCu2k66QfKeTRk3MdZ5vpDYgZCu" } });
});

after(async () => {
  await server?.stop();
});

test("customData is empty, then refreshCustomData() picks up the new document", async () => {
  const app = newApp(server, appId);
  const email = uniqueEmail("custom");
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  const user = await app.logIn(Realm.Credentials.emailPassword(email, "password123"));
  const other = await app.logIn(Realm.Credentials.anonymous(false));
  assert.deepEqual(user.customData, {});

  server = await server.restart((dataDir) => {
    putDoc(dataDir, "e2e", "userData", {
      _id: { $oid: "65f000000000000000000001" },
      user_id: user.id,
      favoriteColor: "teal",
      visits: { $numberInt: "3" },
    });
    putDoc(dataDir, "e2e", "userData", { _id: { $oid: "65f000000000000000000002" }, user_id: user.id, favoriteColor: "second-document-loses" });
  });

  // Still the token's (stale) copy until a refresh.
  assert.deepEqual(user.customData, {});
  const data = await user.refreshCustomData();
  assert.equal(data.favoriteColor, "teal");
  assert.equal(user.customData.favoriteColor, "teal");
  assert.equal(claimsOf(user.accessToken).user_data.favoriteColor, "teal");
  // Another user's token never carries it.
  await other.refreshCustomData();
  assert.deepEqual(other.customData, {});
});
