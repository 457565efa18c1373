// realm-web 2.0.1 against an app that confirms accounts by emailed link.
// No SMTP is configured, so atoll writes the email (with its token pair) to
// its log, which is where this test reads it, as a developer would.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { startServer, appIdOf } from "../lib/server.js";
import { Realm, newApp, uniqueEmail, rejects } from "../lib/realm.js";

let server;
let appId;

before(async () => {
  appId = await appIdOf("confirm");
  server = await startServer("confirm");
});

after(async () => {
  await server?.stop();
});

// The last token pair emailed to `email`, from the server log. Each JSON
// log line is parsed so escaping does not matter.
async function tokenPairFor(email, notBefore = 0) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = server.logs().split("\n").slice(notBefore);
    for (const line of lines.reverse()) {
      let rec;
      try {
        rec = JSON.parse(line);
      } catch {
        continue;
      }
      if (rec.to !== email || typeof rec.text !== "string") continue;
      const m = rec.text.match(/token=([^&\s]+)&tokenId=([^&\s]+)/);
      if (m) return { token: decodeURIComponent(m[1]), tokenId: decodeURIComponent(m[2]) };
    }
    if (Date.now() > deadline) throw new Error(`no confirmation email for ${email} in the log:\n${server.logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const logLines = () => server.logs().split("\n").length;

test("register, confirm with the emailed token, then log in", async () => {
  const app = newApp(server, appId);
  const email = uniqueEmail("confirm");
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });

  const pending = await rejects(app.logIn(Realm.Credentials.emailPassword(email, "password123")));
  assert.equal(pending.statusCode, 401, "a pending account cannot log in");

  const { token, tokenId } = await tokenPairFor(email);
  const wrong = await rejects(app.emailPasswordAuth.confirmUser({ token: token.slice(0, -2) + "xx", tokenId }));
  assert.equal(wrong.statusCode, 400);
  const swapped = await rejects(app.emailPasswordAuth.confirmUser({ token: tokenId, tokenId: token }));
  assert.equal(swapped.statusCode, 400);
  const still = await rejects(app.logIn(Realm.Credentials.emailPassword(email, "password123")));
  assert.equal(still.statusCode, 401, "wrong tokens confirm nothing");

  await app.emailPasswordAuth.confirmUser({ token, tokenId });
  const user = await app.logIn(Realm.Credentials.emailPassword(email, "password123"));
  assert.equal(user.profile.email, email);

  const reused = await rejects(app.emailPasswordAuth.confirmUser({ token, tokenId }));
  assert.equal(reused.statusCode, 400);
  const already = await rejects(app.emailPasswordAuth.resendConfirmationEmail({ email }));
  assert.match(already.error, /already confirmed/);
});

test("resend confirmation: the new link works", async () => {
  const app = newApp(server, appId);
  const email = uniqueEmail("resend");
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  await tokenPairFor(email);
  const mark = logLines();
  await app.emailPasswordAuth.resendConfirmationEmail({ email });
  const { token, tokenId } = await tokenPairFor(email, mark - 1);
  await app.emailPasswordAuth.confirmUser({ token, tokenId });
  await app.logIn(Realm.Credentials.emailPassword(email, "password123"));
});

test("password reset by emailed link", async () => {
  const app = newApp(server, appId);
  const email = uniqueEmail("reset");
  await app.emailPasswordAuth.registerUser({ email, password: "password123" });
  await app.emailPasswordAuth.confirmUser(await tokenPairFor(email));

  const mark = logLines();
  await app.emailPasswordAuth.sendResetPasswordEmail({ email });
  // An unknown address gets the same answer (no account enumeration).
  await app.emailPasswordAuth.sendResetPasswordEmail({ email: uniqueEmail("nobody") });
  const { token, tokenId } = await tokenPairFor(email, mark - 1);
  const bad = await rejects(app.emailPasswordAuth.resetPassword({ token: "e30=", tokenId, password: "newpassword456" }));
  assert.equal(bad.statusCode, 400);
  await app.emailPasswordAuth.resetPassword({ token, tokenId, password: "newpassword456" });
  const old = await rejects(app.logIn(Realm.Credentials.emailPassword(email, "password123")));
  assert.equal(old.statusCode, 401);
  await app.logIn(Realm.Credentials.emailPassword(email, "newpassword456"));
});

test("disabled providers and browser origins", async () => {
  const app = newApp(server, appId);
  const anon = await rejects(app.logIn(Realm.Credentials.anonymous(false)));
  assert.equal(anon.statusCode, 404);
  assert.equal(anon.errorCode, "AuthProviderNotFound");

  const loc = `${server.url}/api/client/v2.0/app/${appId}/location`;
  const pre = await fetch(loc, {
    method: "OPTIONS",
    headers: { Origin: "http://localhost:8080", "Access-Control-Request-Method": "GET" },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-origin"), "http://localhost:8080");
  const evil = await fetch(loc, { headers: { Origin: "http://evil.example" } });
  assert.equal(evil.status, 403);
  assert.equal((await evil.json()).error_code, "DomainNotAllowed");
});
