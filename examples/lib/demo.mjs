// The small toolkit every example demo shares: where the server is,
// numbered steps printed as they run, and checks that an operation was
// allowed or refused. It has no dependencies; each demo brings its own
// pinned realm-web and passes its objects in.
import { randomBytes } from "node:crypto";

/** The Atoll server (scripts/demos.sh sets it; `make run` listens here). */
export const baseUrl = process.env.ATOLL_BASE_URL ?? "http://127.0.0.1:8080";

/** The client app id, as in the example's root_config.json. */
export function appIdOr(fallback) {
  return process.env.ATOLL_APP_ID ?? fallback;
}

let stepNo = 0;

/** Prints a numbered step and runs it; a failure stops the demo. */
export async function step(title, fn) {
  stepNo += 1;
  console.log(`\n${stepNo}. ${title}`);
  return fn();
}

/** Runs fn, which must succeed, and prints that it was allowed. */
export async function allowed(what, fn) {
  let result;
  try {
    result = await fn();
  } catch (err) {
    throw new Error(`expected to be allowed: ${what}; refused with: ${err.message}`);
  }
  console.log(`   allowed: ${what}`);
  return result;
}

/**
 * Runs fn, which must fail (with an error matching pattern, if given),
 * and prints that it was refused. Returns the error.
 */
export async function refused(what, fn, pattern) {
  try {
    await fn();
  } catch (err) {
    if (pattern && !pattern.test(err.message)) {
      throw new Error(`${what}: refused, but with an unexpected error: ${err.message}`);
    }
    console.log(`   refused: ${what} (${describe(err)})`);
    return err;
  }
  throw new Error(`expected to be refused: ${what}; it succeeded`);
}

/** Prints a fact the demo observed (a value it then asserts). */
export function note(text) {
  console.log(`   ${text}`);
}

/** A unique email for this run, so a demo can run again on the same store. */
export function uniqueEmail(name) {
  return `${name}-${randomBytes(3).toString("hex")}@example.com`;
}

/** The password every demo user registers with. */
export const password = "correct-horse-battery";

/** Waits ms milliseconds. */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Registers a user with email/password (the app confirms automatically)
 * and logs in. Realm is the demo's realm-web module; returns
 * { user, email, name }.
 */
export async function signUp(app, Realm, name) {
  const email = uniqueEmail(name);
  await app.emailPasswordAuth.registerUser({ email, password });
  const user = await app.logIn(Realm.Credentials.emailPassword(email, password));
  return { user, email, name };
}

/**
 * An authentication trigger writes a new user's custom data document
 * after the first login: refresh the token's custom data until it is
 * there (at most 5 s), and return it.
 */
export async function waitForCustomData(who) {
  for (let i = 0; i < 100; i++) {
    const data = await who.user.refreshCustomData();
    if (data && data._id) return data;
    await sleep(50);
  }
  throw new Error(`the trigger never created the custom user data of ${who.name}`);
}

/** Runs a demo's main function: exit 1 with the error on failure. */
export function run(main) {
  main().then(
    () => console.log("\ndemo passed: every allowed and refused operation behaved as expected"),
    (err) => {
      console.error(`\ndemo FAILED: ${err.stack ?? err}`);
      process.exit(1);
    },
  );
}

/** realm-web's errors carry the server's error code and message. */
function describe(err) {
  if (err.errorCode || err.error) {
    return [err.errorCode, String(err.error ?? "").split("\n")[0]].filter(Boolean).join(": ");
  }
  const line = String(err.message).split("\n")[0];
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}
