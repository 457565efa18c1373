// Test harness: build atoll once per process, start `atoll serve` on an
// ephemeral loopback port with a test app, and stop it when the test file
// is done. Every server also has a lifetime guard so a crashed or hung
// test run cannot leave a process behind.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "..", "..", "..");
export const appsDir = path.resolve(here, "..", "apps");

// Servers never outlive this, whatever happens to the test process.
const LIFETIME_MS = 5 * 60 * 1000;

const built = new Map();

/** Builds a Go package of this repository into a temporary directory (once per process). */
function goBuild(pkg, name) {
  if (built.has(pkg)) return built.get(pkg);
  const dir = mkdtempSync(path.join(tmpdir(), "atoll-e2e-bin-"));
  const bin = path.join(dir, name);
  execFileSync("go", ["build", "-o", bin, pkg], {
    cwd: repoRoot,
    stdio: ["ignore", "inherit", "inherit"],
    timeout: 300_000,
  });
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  built.set(pkg, bin);
  return bin;
}

/** Builds ./cmd/atoll (once per process) and returns the binary's path. */
export function buildAtoll() {
  return goBuild("./cmd/atoll", "atoll");
}

/**
 * Inserts one Extended JSON document into db.coll of an embedded store
 * directory, through the test-only tests/e2e/putdoc command. The server
 * using dataDir must be stopped (the embedded store admits one process).
 */
export function putDoc(dataDir, db, coll, doc) {
  const bin = goBuild("./tests/e2e/putdoc", "putdoc");
  execFileSync(bin, ["--data", dataDir, "--db", db, "--coll", coll, "--doc", JSON.stringify(doc)], {
    stdio: ["ignore", "inherit", "inherit"],
    timeout: 60_000,
  });
}

/**
 * Runs the atoll binary to completion (for CLI helpers such as API key
 * creation) and returns its stdout.
 */
export function runAtoll(args, env = {}) {
  return execFileSync(buildAtoll(), args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
}

/**
 * Starts `atoll serve` with tests/e2e/apps/<app>. Resolves with
 * { url, appId, dataDir, logs(), waitForLog(re), stop() } once the
 * server has logged its "listening on http://" line.
 */
export async function startServer(app, { env = {}, dataDir, addr = "127.0.0.1:0", extraArgs = [], ownDataDir } = {}) {
  const bin = buildAtoll();
  // The server that made its data directory removes it when stopped (a
  // restarted server inherits that duty).
  const ownData = ownDataDir ?? !dataDir;
  dataDir ??= mkdtempSync(path.join(tmpdir(), "atoll-e2e-data-"));
  const child = spawn(
    bin,
    ["serve", "--addr", addr, "--data", dataDir, "--app", path.join(appsDir, app), "--log-format", "json", ...extraArgs],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] },
  );
  const guard = setTimeout(() => child.kill("SIGKILL"), LIFETIME_MS);
  guard.unref();
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);

  const lines = [];
  const waiters = [];
  let buf = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      if (process.env.ATOLL_E2E_VERBOSE) process.stderr.write(`[atoll] ${line}\n`);
      for (const w of [...waiters]) {
        const m = line.match(w.re);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));

  function waitForLog(re, timeoutMs = 15_000) {
    for (const line of lines) {
      const m = line.match(re);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const w = { re, resolve };
      waiters.push(w);
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`timed out waiting for log ${re}; log so far:\n${lines.join("\n")}`));
      }, timeoutMs);
      t.unref();
      exited.then(({ code, signal }) => {
        if (waiters.includes(w)) {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`atoll exited (${code ?? signal}) before logging ${re}:\n${lines.join("\n")}`));
        }
      });
    });
  }

  const m = await waitForLog(/listening on (http:\/\/[0-9.]+:[0-9]+)/);
  const url = m[1];

  async function stop() {
    clearTimeout(guard);
    process.off("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    }
    if (ownData && !keepData) rmSync(dataDir, { recursive: true, force: true });
  }

  // restart stops the server and starts it again on the same address and
  // data directory, running between() in the gap (e.g. putDoc).
  let keepData = false;
  async function restart(between = () => {}) {
    keepData = true;
    await stop();
    await between(dataDir);
    return startServer(app, { env, dataDir, addr: url.slice("http://".length), extraArgs, ownDataDir: ownData });
  }

  return { url, dataDir, logs: () => lines.join("\n"), waitForLog, stop, restart, exited };
}

/** Reads the client app id of a test app (root_config.json app_id). */
export async function appIdOf(app) {
  const { readFile } = await import("node:fs/promises");
  const root = JSON.parse(await readFile(path.join(appsDir, app, "root_config.json"), "utf8"));
  return root.app_id ?? root.name;
}
