/**
 * What the browser tests stand on: local mode started as a child process in its own process group
 * (always stopped again), Debian's Chromium driven by playwright-core with a throw-away profile, a
 * watch on console errors, CSP violations and failed responses, and screenshots into frontend_build/screenshots/.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { chromium } from "playwright-core";

export const CONSOLE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO = resolve(CONSOLE_DIR, "..");
export const SCREENSHOTS = join(CONSOLE_DIR, "screenshots");
export const OUT = join(CONSOLE_DIR, "e2e", ".out");
export const CHROMIUM = process.env.KRAKEN_CHROMIUM ?? "/usr/bin/chromium";

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `python -m local` on a free port and waits for GET /api/health.
 * Returns { baseUrl, stop, logPath, operatorCredentials (a JSON file: accessKeyId, secretAccessKey) }; stop() sends SIGTERM to the process group, then SIGKILL.
 */
export async function startLocalMode({ timeoutMs = 90_000, env = {} } = {}) {
  if (!existsSync(join(CONSOLE_DIR, "dist", "index.html"))) {
    throw new Error("frontend_build/dist is missing: run `npm run build` first");
  }
  const python = join(REPO, ".venv", "bin", "python");
  if (!existsSync(python)) throw new Error(`${python} is missing: run ./scripts/local.sh or ./scripts/test.sh once`);
  mkdirSync(OUT, { recursive: true });
  const port = await freePort();
  const logPath = join(OUT, "local-mode.log");
  // The emulator refuses unsigned and unknown callers; these keys may manage the user pool's users.
  const operatorCredentials = join(OUT, "operator-credentials.json");
  // Its own data directory (never the checkout's .kraken/), removed by stop().
  const dataDir = mkdtempSync(join(tmpdir(), "kraken-e2e-data-"));
  const log = createWriteStream(logPath);
  const child = spawn(python, ["-m", "local"], {
    cwd: REPO,
    env: {
      ...process.env,
      KRAKEN_DATA_DIR: dataDir,
      ...env,
      PYTHONPATH: "backend",
      KRAKEN_PORT: String(port),
      PYTHONUNBUFFERED: "1",
      KRAKEN_OPERATOR_CREDENTIALS: operatorCredentials,
    },
    detached: true, // its own process group, so stop() reaches the emulator and model processes too
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  const exitPromise = new Promise((r) =>
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      r();
    }),
  );
  const cleanupOnExit = () => {
    killGroup(child.pid, "SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.on("exit", cleanupOnExit);

  const stop = async () => {
    process.off("exit", cleanupOnExit);
    if (exited) return;
    killGroup(child.pid, "SIGTERM");
    const done = await Promise.race([exitPromise.then(() => true), sleep(10_000).then(() => false)]);
    if (!done) killGroup(child.pid, "SIGKILL");
    await Promise.race([exitPromise, sleep(2000)]);
    // Model containers started by local mode are in the same group; make sure none outlive it.
    killGroup(child.pid, "SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    log.end();
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      throw new Error(`local mode exited (${JSON.stringify(exited)}) before answering:\n${tail(logPath)}`);
    }
    try {
      const res = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`local mode did not answer /api/health within ${timeoutMs} ms:\n${tail(logPath)}`);
    }
    await sleep(250);
  }
  return { baseUrl, stop, logPath, operatorCredentials };
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

function tail(path, lines = 30) {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Chromium with a fresh profile; close() removes the profile. */
export async function launchBrowser({ timezoneId = "America/New_York" } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const profile = mkdtempSync(join(tmpdir(), "kraken-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
    ],
    viewport: { width: 1280, height: 860 },
    locale: "en-US",
    timezoneId,
    acceptDownloads: true,
  });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/**
 * Collects page errors, console errors and HTTP failures. Chromium reports every failed fetch as a
 * console error ("Failed to load resource"); those count only when the response itself was not expected.
 */
export function watchPage(page) {
  const consoleErrors = [];
  const failedResponses = [];
  const allowed = [];
  const allowedConsole = [];
  page.on("pageerror", (err) => consoleErrors.push(`pageerror: ${err.message}`));
  // Local mode sends the production CSP; any violation is reported as a console error and fails the run.
  void page.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`),
    ),
  );
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const text = msg.text();
    if (text.startsWith("Failed to load resource")) return; // judged through the response below
    if (allowedConsole.some((pattern) => pattern.test(text))) return;
    consoleErrors.push(`console.error: ${text}`);
  });
  page.on("response", (response) => {
    if (response.status() < 400) return;
    const entry = { method: response.request().method(), url: response.url(), status: response.status() };
    if (!allowed.some((a) => a.status === entry.status && a.pattern.test(entry.url) && (!a.method || a.method === entry.method))) {
      failedResponses.push(entry);
    }
  });
  page.on("requestfailed", (request) => {
    const failure = request.failure()?.errorText ?? "";
    if (failure.includes("ERR_ABORTED")) return; // cancelled by the app (navigation, AbortController)
    const entry = { method: request.method(), url: request.url(), status: 0, failure };
    if (allowed.some((a) => a.status === 0 && a.pattern.test(entry.url) && (!a.method || a.method === entry.method))) return;
    failedResponses.push(entry);
  });
  return {
    consoleErrors,
    failedResponses,
    /** Declares HTTP failures the scenario causes on purpose (status 0: the request itself failed). */
    allow(pattern, status, method) {
      allowed.push({ pattern, status, method });
    },
    /** Declares a console error that is expected (a known gap of the emulator, named where it is allowed). */
    allowConsole(pattern) {
      allowedConsole.push(pattern);
      return () => allowedConsole.splice(allowedConsole.indexOf(pattern), 1);
    },
  };
}

/**
 * Saves a screenshot under e2e/.out/screenshots/, or under frontend_build/screenshots/ (the ones the
 * README shows, committed) when KRAKEN_UPDATE_SCREENSHOTS=1, so ordinary test runs leave the tree clean.
 * `target` is the page or one element (a locator) to keep the images small.
 */
export async function screenshot(target, name, { fullPage = false } = {}) {
  const dir = process.env.KRAKEN_UPDATE_SCREENSHOTS === "1" ? SCREENSHOTS : join(OUT, "screenshots");
  mkdirSync(dir, { recursive: true });
  const page = typeof target.page === "function" ? target.page() : target;
  // Hide the caret and let charts and transitions settle so images do not change between runs.
  await page.addStyleTag({ content: "*{caret-color:transparent !important}" }).catch(() => {});
  await page.waitForTimeout(150);
  const path = join(dir, `${name}.png`);
  await target.screenshot(target === page ? { path, fullPage } : { path });
  return path;
}

/** A model API call outside the browser, for set-up and to cause conflicts on purpose. */
export async function api(baseUrl, method, path, body, headers = {}) {
  const res = await fetch(`${baseUrl}/api${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

/** A strong throw-away password (upper, lower, digit, symbol; 30 characters) for local mode's admin. */
export function strongPassword() {
  return `Kr4-${randomBytes(18).toString("base64url")}-e2E!`;
}

/** The `auth` block of the server's /config.json (null if it were missing: the scenario then fails). */
export async function authSettings(baseUrl) {
  const res = await fetch(`${baseUrl}/config.json`);
  const config = res.ok ? await res.json() : {};
  return config.auth && config.auth.clientId ? config.auth : null;
}

/** Signs in with Cognito's API (USER_PASSWORD_AUTH) outside the browser; returns the access token. */
export async function cognitoAccessToken(auth, username, password) {
  const endpoint = (auth.cognitoEndpoint ?? `https://cognito-idp.${auth.region}.amazonaws.com`).replace(/\/+$/, "") + "/";
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth" },
    body: JSON.stringify({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: auth.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  });
  const body = await res.json();
  if (!res.ok || !body.AuthenticationResult) throw new Error(`sign-in as ${username} failed: ${res.status} ${JSON.stringify(body)}`);
  return body.AuthenticationResult.AccessToken;
}

/** Signs in through the console's sign-in page and waits for the models list. */
export async function signIn(page, baseUrl, username, password) {
  await page.goto(`${baseUrl}/`);
  await page.locator('input[autocomplete="username"]').fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Models" }).waitFor();
}

/** Creates a model through the API (`call`), version 1 in a small container on port 8080 unless `body` says otherwise; its id. */
export async function createModel(call, body) {
  const created = await call("POST", "/models", { version: "1", containerPort: 8080, containerCpu: 0.25, containerMemory: 0.5, ...body });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.id;
}

/** Uploads a file from Node through a presigned ticket (a model's own, `/models/{id}/artifact`, or a version's). */
export async function uploadThroughTicket(call, ticketPath, content, fileName) {
  const ticket = await call("POST", ticketPath, {});
  assert.equal(ticket.status, 200, JSON.stringify(ticket.body));
  const form = new FormData();
  for (const [key, value] of Object.entries(ticket.body.fields)) form.append(key, value);
  form.append("file", new Blob([content]), fileName);
  const upload = await fetch(ticket.body.url, { method: "POST", body: form });
  assert.ok(upload.ok, `upload: ${upload.status}`);
}

/**
 * What every browser scenario starts from: local mode (with `env`, which holds KRAKEN_ADMIN_PASSWORD), its
 * sign-in settings, the admin's API token, and a watched page of a fresh browser. `stop()` closes both. Its
 * `call`, `signIn`, `createModel` and `upload` act as the admin.
 */
export async function openScenario(env) {
  const local = await startLocalMode({ env });
  const auth = await authSettings(local.baseUrl);
  if (!auth?.cognitoEndpoint) throw new Error("local mode's config.json has no auth block with the emulator's endpoint");
  const token = await cognitoAccessToken(auth, "admin", env.KRAKEN_ADMIN_PASSWORD);
  const browser = await launchBrowser();
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(15_000);
  const stop = async () => {
    await browser.close();
    await local.stop();
  };
  const authHeaders = { Authorization: `Bearer ${token}` };
  const call = (method, path, body, headers = {}) => api(local.baseUrl, method, path, body, { ...authHeaders, ...headers });
  return {
    local,
    auth,
    authHeaders,
    browser,
    page,
    watch: watchPage(page),
    stop,
    call,
    signIn: () => signIn(page, local.baseUrl, "admin", env.KRAKEN_ADMIN_PASSWORD),
    createModel: (body) => createModel(call, body),
    upload: (ticketPath, content, fileName) => uploadThroughTicket(call, ticketPath, content, fileName),
  };
}

/** A test that, when it fails, leaves a full-page screenshot of `page()` under e2e/.out named after it. */
export function stepWithScreenshot(prefix, page) {
  return (name, fn, options = {}) =>
    test(name, options, async (t) => {
      try {
        await fn(t);
      } catch (err) {
        const file = join(OUT, `failed-${prefix}${name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60)}.png`);
        await page()
          ?.screenshot({ path: file, fullPage: true })
          .catch(() => {});
        console.error(`screenshot of the failure: ${file}\nurl: ${page()?.url()}`);
        throw err;
      }
    });
}
