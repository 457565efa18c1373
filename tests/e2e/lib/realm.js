// Shared helpers for driving atoll through the unmodified realm-web SDK.
import { createRequire } from "node:module";
import { createHmac, randomBytes } from "node:crypto";

const require = createRequire(import.meta.url);
/** realm-web 2.0.1, the package under test (CommonJS). */
export const Realm = require("realm-web");

/** A fresh App instance (its own location lookup), as realm-web's own tests do. */
export function newApp(server, appId, fetchImpl) {
  const cfg = { id: appId, baseUrl: server.url };
  if (fetchImpl) cfg.fetch = fetchImpl;
  return new Realm.App(cfg);
}

/**
 * A fetch that records every request (method and path) before passing it on,
 * so tests can assert the SDK's transparent refresh happened.
 */
export function recordingFetch() {
  const calls = [];
  const f = (input, init = {}) => {
    const url = typeof input === "string" ? input : input.url;
    calls.push({ method: init.method ?? "GET", path: new URL(url).pathname });
    return globalThis.fetch(input, init);
  };
  f.calls = calls;
  return f;
}

/** A unique email for this run. */
export function uniqueEmail(tag) {
  return `${tag}-${randomBytes(4).toString("hex")}@example.com`;
}

/** An HS256 JWT signed with key, built with Node's crypto only. */
export function signHS256(claims, key, header = { alg: "HS256", typ: "JWT" }) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const signing = `${enc(header)}.${enc(claims)}`;
  const sig = createHmac("sha256", key).update(signing).digest("base64url");
  return `${signing}.${sig}`;
}

/** Decodes a JWT's claims (no verification). */
export function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

/** Expects promise to reject with a MongoDBRealmError-like error; returns it. */
export async function rejects(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail, and it succeeded");
}
