// realm-web 2.0.1 against `atoll serve` with the auto-confirm test app:
// anonymous, email/password, custom JWT, linking, deletion, user API keys,
// revoked sessions and the SDK's transparent refresh of a bad access token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { startServer, appIdOf } from "../lib/server.js";
import { Realm, newApp, recordingFetch, uniqueEmail, signHS256, claimsOf, rejects } from "../lib/realm.js";

const JWT_KEY = "2k66QfKeTRk3MdZ5vpDYgZCu2k66QfKeTRk3MdZ5vpDYgZCu";
let server;
let appId;

before(async () => {
  appId = await appIdOf("auto");
  server = await startServer("auto", { env: { ATOLL_SECRET_jwtSigningKey: JWT_KEY } });
});

after(async () => {
  await server?.stop();
});

async function registerAndLogIn(app, email, password = "password123") {
  await app.emailPasswordAuth.registerUser({ email, password });
  return app.logIn(Realm.Credentials.emailPassword(email, password));
}

test("location answers with the server's own URL", async () => {
  const res = await fetch(`${server.url}/api/client/v2.0/app/${appId}/location`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.hostname, server.url);
  const bad = await fetch(`${server.url}/api/client/v2.0/app/not-${appId}/location`);
  assert.equal(bad.status, 404);
  assert.equal((await bad.json()).error_code, "AppNotFound");
});

test("anonymous login; anonymous(false) makes a new user each time", async () => {
  const app = newApp(server, appId);
  const a = await app.logIn(Realm.Credentials.anonymous(false));
  const b = await app.logIn(Realm.Credentials.anonymous(false));
  assert.equal(typeof a.id, "string");
  assert.notEqual(a.id, b.id);
  assert.equal(a.state, "active");
  assert.equal(a.providerType, "anon-user");
  assert.equal(a.identities.length, 1);
  assert.equal(a.profile.name, undefined);
  assert.deepEqual(a.customData, {});
  assert.doesNotThrow(() => JSON.stringify(a));
  assert.equal(a.accessToken.split(".").length, 3);
  assert.equal(claimsOf(a.accessToken).sub, a.id);
  // Reuse (the default) does not create another user.
  const c = await app.logIn(Realm.Credentials.anonymous());
  assert.equal(c.id, b.id);
});

test("email/password: register, log in, wrong password refused, log out", async () => {
  const app = newApp(server, appId);
  const email = uniqueEmail("basic");
  const user = await registerAndLogIn(app, email);
  assert.equal(user.profile.email, email);
  assert.deepEqual(user.identities.map((i) => i.providerType), ["local-userpass"]);

  const wrong = await rejects(app.logIn(Realm.Credentials.emailPassword(email, "not-the-password")));
  assert.equal(wrong.statusCode, 401);
  assert.match(wrong.error, /unauthorized/);
  assert.equal(wrong.errorCode, "InvalidPassword");
  assert.doesNotMatch(wrong.message, /not-the-password/);

  const unknown = await rejects(app.logIn(Realm.Credentials.emailPassword(uniqueEmail("nobody"), "password123")));
  assert.equal(unknown.statusCode, 401);
  assert.equal(unknown.error, wrong.error, "unknown users and wrong passwords look the same");

  const dup = await rejects(app.emailPasswordAuth.registerUser({ email, password: "password456" }));
  assert.equal(dup.errorCode, "AccountNameInUse");

  const short = await rejects(app.emailPasswordAuth.registerUser({ email: uniqueEmail("short"), password: "abc" }));
  assert.equal(short.statusCode, 400);
  assert.match(short.error, /password must be between 6 and 128 characters/);

  const refreshToken = user.refreshToken;
  await user.logOut();
  assert.equal(user.state, "logged-out");
  // The session is gone server-side: its refresh token is refused.
  const res = await fetch(`${server.url}/api/client/v2.0/auth/session`, {
    method: "POST",
    headers: { Authorization: `Bearer ${refreshToken}` },
  });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error_code, "InvalidSession");
  // The account itself still works.
  const again = await app.logIn(Realm.Credentials.emailPassword(email, "password123"));
  assert.equal(again.id, user.id);
});

test("email/password helper errors the SDK's own tests look for", async () => {
  const app = newApp(server, appId);
  const email = uniqueEmail("helpers");
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  const bogus = await rejects(app.emailPasswordAuth.confirmUser({ token: "e30=", tokenId: "some-token-id" }));
  assert.match(bogus.error, /invalid token data/);
  const resend = await rejects(app.emailPasswordAuth.resendConfirmationEmail({ email }));
  assert.match(resend.error, /already confirmed/);
  const retry = await rejects(app.emailPasswordAuth.retryCustomConfirmation({ email }));
  assert.equal(retry.error, `cannot run confirmation for ${email}: automatic confirmation is enabled`);
});

test("a revoked session logs the user out", async () => {
  const app = newApp(server, appId);
  const user = await registerAndLogIn(app, uniqueEmail("revoked"));
  // Another client ends the session (a logout with the same refresh token).
  const res = await fetch(`${server.url}/api/client/v2.0/auth/session`, {
    method: "DELETE",
    headers: { Authorization: `Bearer ${user.refreshToken}` },
  });
  assert.equal(res.status, 204);
  // The access token died with the session; the SDK's refresh fails and it
  // logs the user out.
  const err = await rejects(user.refreshProfile());
  assert.equal(err.statusCode, 401);
  assert.equal(err.errorCode, "InvalidSession");
  assert.equal(user.state, "logged-out");
});

test("a foreign, expired access token is refreshed transparently", async () => {
  const f = recordingFetch();
  const app = newApp(server, appId, f);
  const user = await app.logIn(Realm.Credentials.anonymous(false));
  // What realm-web's own "refresh invalid access tokens" test does.
  user.accessToken = signHS256({ sub: user.id, exp: 1500000000, iat: 1499999000 }, "some-foreign-key");
  f.calls.length = 0;
  await user.refreshProfile();
  assert.deepEqual(
    f.calls.map((c) => `${c.method} ${c.path}`),
    ["GET /api/client/v2.0/auth/profile", "POST /api/client/v2.0/auth/session", "GET /api/client/v2.0/auth/profile"],
  );
  assert.equal(claimsOf(user.accessToken).sub, user.id);
});

test("delete user: the account is gone and its login is unauthorized", async () => {
  const app = newApp(server, appId);
  const email = uniqueEmail("delete");
  const user = await registerAndLogIn(app, email);
  await app.deleteUser(user);
  assert.equal(app.allUsers[user.id], undefined);
  const err = await rejects(app.logIn(Realm.Credentials.emailPassword(email, "password123")));
  assert.equal(err.statusCode, 401);
  assert.match(err.error, /unauthorized/);
});

test("linking an email identity to an anonymous user", async () => {
  const app = newApp(server, appId);
  const anon = await app.logIn(Realm.Credentials.anonymous(false));
  const email = uniqueEmail("link");
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  await anon.linkCredentials(Realm.Credentials.emailPassword(email, "password123"));
  assert.deepEqual(anon.identities.map((i) => i.providerType), ["anon-user", "local-userpass"]);
  const same = await app.logIn(Realm.Credentials.emailPassword(email, "password123"));
  assert.equal(same.id, anon.id);
  // The identity now belongs to that user: another user cannot take it.
  const other = await app.logIn(Realm.Credentials.anonymous(false));
  const err = await rejects(other.linkCredentials(Realm.Credentials.emailPassword(email, "password123")));
  assert.ok(err.statusCode >= 400);
  assert.deepEqual(other.identities.map((i) => i.providerType), ["anon-user"]);
});

test("custom JWT: metadata fields become profile data; bad tokens are refused", async () => {
  const app = newApp(server, appId);
  const claims = {
    sub: `jwt-${Date.now()}`,
    aud: appId,
    exp: 4070908800,
    mySecretField: "some-secret-stuff",
  };
  const user = await app.logIn(Realm.Credentials.jwt(signHS256(claims, JWT_KEY)));
  assert.deepEqual(user.profile, { secret: "some-secret-stuff" });
  const again = await app.logIn(Realm.Credentials.jwt(signHS256(claims, JWT_KEY)));
  assert.equal(again.id, user.id);

  const wrongKey = await rejects(app.logIn(Realm.Credentials.jwt(signHS256(claims, "x".repeat(48)))));
  assert.equal(wrongKey.statusCode, 401);
  const expired = await rejects(app.logIn(Realm.Credentials.jwt(signHS256({ ...claims, exp: 1500000000 }, JWT_KEY))));
  assert.equal(expired.statusCode, 401);
  const otherAud = await rejects(app.logIn(Realm.Credentials.jwt(signHS256({ ...claims, aud: "another-app" }, JWT_KEY))));
  assert.equal(otherAud.statusCode, 401);
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const none = await rejects(app.logIn(Realm.Credentials.jwt(`${enc({ alg: "none", typ: "JWT" })}.${enc(claims)}.`)));
  assert.equal(none.statusCode, 401);
  const { mySecretField, ...missing } = claims;
  const noField = await rejects(app.logIn(Realm.Credentials.jwt(signHS256(missing, JWT_KEY))));
  assert.equal(noField.statusCode, 401);
});

test("user API keys: create, list, fetch, disable, enable, delete, log in with one", async () => {
  const app = newApp(server, appId);
  const user = await registerAndLogIn(app, uniqueEmail("keys"));
  assert.deepEqual(await user.apiKeys.fetchAll(), []);
  const created = await user.apiKeys.create("my-key");
  assert.equal(typeof created._id, "string");
  assert.equal(typeof created.key, "string");
  assert.equal(created.name, "my-key");
  assert.equal(created.disabled, false);

  const all = await user.apiKeys.fetchAll();
  assert.deepEqual(all, [{ _id: created._id, name: "my-key", disabled: false }]);
  assert.deepEqual(await user.apiKeys.fetch(created._id), { _id: created._id, name: "my-key", disabled: false });

  const keyApp = newApp(server, appId);
  const viaKey = await keyApp.logIn(Realm.Credentials.apiKey(created.key));
  assert.equal(viaKey.id, user.id);

  await user.apiKeys.disable(created._id);
  assert.equal((await user.apiKeys.fetch(created._id)).disabled, true);
  const disabled = await rejects(newApp(server, appId).logIn(Realm.Credentials.apiKey(created.key)));
  assert.equal(disabled.statusCode, 401);

  await user.apiKeys.enable(created._id);
  await newApp(server, appId).logIn(Realm.Credentials.apiKey(created.key));

  await user.apiKeys.delete(created._id);
  assert.deepEqual(await user.apiKeys.fetchAll(), []);
  const deleted = await rejects(newApp(server, appId).logIn(Realm.Credentials.apiKey(created.key)));
  assert.equal(deleted.statusCode, 401);
  const missing = await rejects(user.apiKeys.fetch(created._id));
  assert.equal(missing.statusCode, 404);

  const anon = await app.logIn(Realm.Credentials.anonymous(false));
  const anonKey = await rejects(anon.apiKeys.create("nope"));
  assert.ok(anonKey.statusCode >= 400 && anonKey.statusCode !== 401);
});

test("refused logins and bad bodies never leave secrets in the server log", async () => {
  const app = newApp(server, appId);
  const email = uniqueEmail("quiet");
  const user = await registerAndLogIn(app, email, "hunter2-secret");
  await rejects(app.logIn(Realm.Credentials.emailPassword(email, "hunter3-secret")));
  const logs = server.logs();
  assert.ok(!logs.includes("hunter2-secret"));
  assert.ok(!logs.includes("hunter3-secret"));
  assert.ok(!logs.includes(user.accessToken));
  assert.ok(!logs.includes(user.refreshToken));
});
