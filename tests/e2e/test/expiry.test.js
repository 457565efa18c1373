// Access tokens that expire while the SDK holds them: atoll is started with
// a 2-second access token lifetime, and realm-web must refresh
// transparently (one POST /auth/session, then the original request again).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";

import { startServer, appIdOf } from "../lib/server.js";
import { Realm, newApp, recordingFetch, uniqueEmail, claimsOf, rejects } from "../lib/realm.js";

let server;
let appId;

before(async () => {
  appId = await appIdOf("auto");
  server = await startServer("auto", { env: { ATOLL_ACCESS_TOKEN_TTL: "2s", ATOLL_SECRET_jwtSigningKey: "2k66QfKeTRk3MdZ5vpDYgZCu2k66QfKeTRk3MdZ5vpDYgZCu" } });
});

after(async () => {
  await server?.stop();
});

test("an expired access token is refreshed transparently", async () => {
  const f = recordingFetch();
  const app = newApp(server, appId, f);
  const email = uniqueEmail("expiry");
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  const user = await app.logIn(Realm.Credentials.emailPassword(email, "password123"));
  const first = user.accessToken;
  const c = claimsOf(first);
  assert.equal(c.exp - c.iat, 2);

  await sleep(3000);
  f.calls.length = 0;
  await user.refreshProfile();
  assert.deepEqual(
    f.calls.map((x) => `${x.method} ${x.path}`),
    ["GET /api/client/v2.0/auth/profile", "POST /api/client/v2.0/auth/session", "GET /api/client/v2.0/auth/profile"],
  );
  assert.notEqual(user.accessToken, first);
  assert.equal(user.state, "active");

  // The expired token itself stays refused.
  const res = await fetch(`${server.url}/api/client/v2.0/auth/profile`, { headers: { Authorization: `Bearer ${first}` } });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error_code, "InvalidSession");
});

test("after logout the refresh fails and the SDK stays logged out", async () => {
  const app = newApp(server, appId);
  const user = await app.logIn(Realm.Credentials.anonymous(false));
  const refresh = user.refreshToken;
  await fetch(`${server.url}/api/client/v2.0/auth/session`, { method: "DELETE", headers: { Authorization: `Bearer ${refresh}` } });
  await sleep(3000);
  const err = await rejects(user.refreshProfile());
  assert.equal(err.statusCode, 401);
  assert.equal(user.state, "logged-out");
});
