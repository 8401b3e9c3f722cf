/**
 * The console in a real browser against local mode. The steps run in order and share one model:
 * sign-in (only the sign-in page before it; a wrong password first), empty list, create (with a
 * validation error first), detail and its tabs, list features, edit (and a stale edit), phone
 * layouts, delete with the typed name, sign-out; and the lifecycle between (upload, start, predict,
 * client tokens, requests, metrics, stop). Every step runs: a route or sign-in that goes missing
 * fails the scenario instead of skipping it.
 */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { OUT, REPO, api, openScenario, screenshot, stepWithScreenshot, strongPassword, watchPage } from "./harness.mjs";

const NAME = `iris-e2e-${Date.now().toString(36)}`;
const SECRET_ENV_VALUE = `tok-${Date.now().toString(36)}-not-for-eyes`;
const PHONE = { width: 390, height: 844 };

let scenario;
let local;
let browser;
let page;
let watch;
let modelId;
/** The server's sign-in settings and headers for the test's own API calls. */
let auth = null;
let authHeaders = {};
const ADMIN_PASSWORD = strongPassword();
const CLIENT = "e2e-client";

/** An API call from the test itself, signed in as admin. */
const call = (method, path, body, headers = {}) => api(local.baseUrl, method, path, body, { ...authHeaders, ...headers });

before(async () => {
  // The containers' CPU and memory are sampled every 2 s instead of Container Insights' minute.
  scenario = await openScenario({ KRAKEN_ADMIN_PASSWORD: ADMIN_PASSWORD, KRAKEN_RESOURCE_SAMPLE_SECONDS: "2" });
  ({ local, auth, authHeaders, browser, page, watch } = scenario);
});

after(async () => {
  await scenario?.stop();
});

/** Runs a training script with the repository's Python; the script saves its model to sys.argv[1], under e2e/.out. */
function train(fileName, lines) {
  mkdirSync(OUT, { recursive: true });
  const path = join(OUT, fileName);
  execFileSync(join(REPO, ".venv", "bin", "python"), ["-c", lines.join("\n"), path], { stdio: "inherit" });
  return path;
}

/** A small scikit-learn classifier on iris, saved with joblib. */
const trainIris = () =>
  train("iris.joblib", [
    "import sys, joblib",
    "from sklearn.datasets import load_iris",
    "from sklearn.linear_model import LogisticRegression",
    "X, y = load_iris(return_X_y=True)",
    "joblib.dump(LogisticRegression(max_iter=500).fit(X, y), sys.argv[1])",
  ]);

/** A scenario step; on failure it saves the page as e2e/.out/failed-<step>.png for the post-mortem. */
const step = stepWithScreenshot("", () => page);

const rowOf = (name) => page.locator(`tr[data-model-name="${name}"]`);

step("without signing in, the console shows only the sign-in page and the API answers 401", async () => {
  const models = await fetch(`${local.baseUrl}/api/models`);
  assert.equal(models.status, 401);
  assert.match(models.headers.get("WWW-Authenticate") ?? "", /^Bearer/);
  assert.equal((await models.json()).error.code, "unauthorized");
  assert.equal((await fetch(`${local.baseUrl}/api/health`)).status, 200);

  await page.goto(`${local.baseUrl}/#/models`);
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  // Local mode's page says which user it created (config.json auth.localUser).
  await page.getByTestId("local-user").getByText(auth.localUser, { exact: true }).waitFor();
  assert.equal(await page.locator("header.app-header").count(), 0);
  assert.equal(await page.getByRole("link", { name: "Models" }).count(), 0);
  assert.equal(await page.getByRole("heading", { level: 1, name: "Models" }).count(), 0);

  // Keyboard only: the user name has the focus, Tab to the password, Enter submits.
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("autocomplete")), "username");
  await page.keyboard.type("admin");
  await page.keyboard.press("Tab");
  await page.keyboard.type("not-the-password");
  const endpoint = new URL(auth.cognitoEndpoint ?? `https://cognito-idp.${auth.region}.amazonaws.com`);
  watch.allow(new RegExp(`^${endpoint.origin.replace(/[.]/g, "\\.")}/`), 400, "POST");
  await page.keyboard.press("Enter");
  await page.getByTestId("signin-error").getByText("Incorrect username or password.").waitFor();
  await screenshot(page.locator(".signin-card"), "00-sign-in");
  assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0);
});

step("sign in through the page as admin; the header shows the user and role", async () => {
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Models" }).waitFor();
  await page.getByTestId("user-name").getByText("admin", { exact: true }).waitFor();
  await page.getByTestId("user-role").getByText("admin", { exact: true }).waitFor();
  // The session lives in sessionStorage (this tab only), never in localStorage.
  const stored = await page.evaluate(() => ({ session: sessionStorage.getItem("kraken.session"), local: localStorage.length }));
  assert.ok(stored.session && JSON.parse(stored.session).refreshToken, "no session in sessionStorage");
  assert.equal(stored.local, 0);
});

step("the models list starts empty", async () => {
  const existing = await call("GET", "/models?limit=1");
  await page.goto(`${local.baseUrl}/`);
  await page.getByRole("heading", { level: 1, name: "Models" }).waitFor();
  // What the stage costs idle: local mode shows the stack's defaults (one NAT gateway, 0.045 x 730 hours).
  await page
    .getByTestId("stage-cost")
    .getByText(/would cost \$32\.85\/month with no model running \(1 NAT gateway/)
    .waitFor();
  if (existing.body.items.length === 0) {
    await page.getByText("No models yet").waitFor();
    await screenshot(page, "01-models-empty");
  } else {
    // A reused local mode: the scenario below still works with other models around.
    await page.locator("table.table-models").waitFor();
  }
  await page.getByText(/API 0|API \d/).waitFor();
});

step("the create form shows validation errors, then creates an artifact model", async () => {
  await page
    .getByRole("link", { name: /Add (your first )?model/ })
    .first()
    .click();
  await page.getByRole("heading", { level: 1, name: "Add a model" }).waitFor();

  await page.getByLabel("Name", { exact: true }).fill("Iris Classifier!");
  await page.getByLabel("Port").fill("70000");
  await page.getByRole("button", { name: "Create model" }).click();
  await page.getByText("Use only lowercase letters a-z, digits 0-9 and hyphens (-).").waitFor();
  await page.getByText("Use a port from 1 to 65535.").waitFor();
  assert.equal(await page.getByLabel("Name", { exact: true }).getAttribute("aria-invalid"), "true");
  // Focus goes to the first field in error.
  assert.equal(await page.evaluate(() => document.activeElement?.id), await page.getByLabel("Name", { exact: true }).getAttribute("id"));
  await screenshot(page, "02-create-validation", { fullPage: true });

  // Memory choices follow the vCPU choice (Fargate pairs).
  await page.getByLabel("vCPU").selectOption("0.25");
  const memory = await page.getByLabel("Memory").locator("option").allTextContents();
  assert.deepEqual(memory, ["0.5 GB", "1 GB", "2 GB"]);
  await page.getByLabel("Memory").selectOption("1");

  await page.getByLabel("Name", { exact: true }).fill(NAME);
  await page.getByLabel("Version").fill("1.0");
  await page.getByLabel("Description").fill("Iris species from sepal and petal sizes (scikit-learn).");
  await page.getByLabel("Port").fill("8080");
  await page.getByLabel("Artifact format").selectOption("joblib");
  assert.equal(await page.getByLabel("Endpoint visibility").inputValue(), "private");
  await page.getByRole("button", { name: "Add variable" }).click();
  await page.getByLabel("Name 1").fill("LOG_LEVEL");
  await page.getByLabel("Value 1").fill("info");
  // A secret value: typed in a password field, stored in the secret store, never shown again.
  await page.getByRole("button", { name: "Add variable" }).click();
  await page.getByLabel("Name 2").fill("API_TOKEN");
  await page.getByLabel("Secret 2").check();
  assert.equal(await page.getByLabel("Value 2").getAttribute("type"), "password");
  await page.getByLabel("Value 2").fill(SECRET_ENV_VALUE);
  await page.getByRole("button", { name: "Create model" }).click();

  await page.getByRole("heading", { level: 1, name: NAME }).waitFor();
  modelId = decodeURIComponent(new URL(page.url()).hash.split("/")[2]);
  assert.match(modelId, /^[0-9a-f-]{36}$/);
  await page.getByText(`Created ${NAME}.`).waitFor();
});

step("the detail page shows the model, a curl example and every tab", async () => {
  await page.getByText("LOG_LEVEL=info").waitFor();
  await page.getByText("•••••• (secret, never shown)").waitFor();
  assert.ok(!(await page.content()).includes(SECRET_ENV_VALUE), "the secret env value is on the page");
  const answered = await call("GET", `/models/${modelId}`);
  assert.deepEqual(answered.body.env, { LOG_LEVEL: "info", API_TOKEN: { secret: true } });
  const curl = await page.getByTestId("curl").textContent();
  assert.ok(curl.includes(`${local.baseUrl}/api/predict`), curl);
  assert.ok(curl.includes(`"modelId":"${modelId}"`), curl);
  assert.ok(curl.includes("-H 'Authorization: Bearer <your token>'"), curl);
  // The same call from Python with the SDK, and the standard protocols' URLs, one click away.
  await page.getByText("From Python, and in the standard protocols").click();
  const python = await page.getByTestId("python-example").textContent();
  assert.ok(python.includes(`kraken.connect("${local.baseUrl}")`) && python.includes(`k.model("${NAME}")`), python);
  await page.getByTestId("protocol-urls").getByText(`${local.baseUrl}/api/v2/models/${NAME}/infer`).waitFor();
  await page
    .getByTestId("curl-auth-note")
    .getByText(/Public models need no token/)
    .waitFor();
  // Times: local zone in the text, UTC on hover.
  const title = await page.locator("time").first().getAttribute("title");
  assert.match(title, / UTC$/);
  await page.getByText("No file uploaded yet").waitFor();
  // No file yet: Start is disabled, and its reason points to the Model file panel (not to an API route).
  const start = page.getByRole("button", { name: "Start", exact: true });
  assert.equal(await start.getAttribute("aria-disabled"), "true");
  assert.match(await start.getAttribute("title"), /Upload the model file first \(in the Model file panel\)/);
  await start.click({ force: true }); // a disabled control: the click must do nothing
  assert.equal(await page.locator(".notice", { hasText: /Could not start|Starting/ }).count(), 0);
  assert.equal(await page.locator('.title-row [data-status="STOPPED"]').count(), 1);
  // Nothing sent yet, so the try-it box offers a neutral shape and says the model is stopped.
  const hint = await page.getByTestId("model-data-hint").textContent();
  assert.match(hint, /An example shape/);
  assert.match(hint, /The model is stopped; start it to get predictions\./);
  await page.locator(".tabpanel").locator(".state:not(.state-loading), table").first().waitFor();
  await screenshot(page, "03-model-detail", { fullPage: true });

  for (const [tab, shot] of [
    ["Versions", null],
    ["History", null],
    ["Requests", "04-tab-requests"],
    ["Container logs", "05-tab-container-logs"],
    ["Metrics", "06-tab-metrics"],
    ["Operations log", null],
  ]) {
    await page.getByRole("tab", { name: tab }).click();
    await page.getByRole("tab", { name: tab, selected: true }).waitFor();
    // Whatever the server has yet: a table, an empty state or a clear error state, never a blank panel.
    await page.locator(".tabpanel").locator(".state:not(.state-loading), table, .log-box, .charts").first().waitFor();
    if (shot) await screenshot(page.locator(".tabs"), shot);
  }
  // Arrow keys move between tabs.
  await page.getByRole("tab", { name: "Operations log" }).focus();
  await page.keyboard.press("ArrowRight");
  await page.waitForFunction(() => location.hash.endsWith("/versions"));
  await page.getByRole("tab", { name: "Operations log" }).click();
});

step("the list shows the model; search, status filter and the column chooser work", async () => {
  await page.getByRole("link", { name: "Models" }).first().click();
  await rowOf(NAME).waitFor();
  const row = await rowOf(NAME).textContent();
  assert.ok(
    row.includes("1.0") &&
      row.includes("0.25 vCPU") &&
      row.includes("1 GB") &&
      row.includes("artifact (joblib)") &&
      row.includes("Stopped"),
    row,
  );
  const rowStart = rowOf(NAME).getByRole("button", { name: `Start ${NAME}` });
  assert.equal(await rowStart.isDisabled(), true, "Start is enabled before the model file is uploaded");
  assert.match(await rowStart.getAttribute("title"), /Model file panel/);
  await screenshot(page, "07-models-list");

  await page.getByLabel("Search by name").fill("no-such-model-xyz");
  await page.getByText("No models match").waitFor();
  await page.getByRole("button", { name: "Clear filters" }).click();
  await rowOf(NAME).waitFor();

  await page.getByRole("combobox", { name: "Status" }).selectOption("RUNNING");
  await page.getByText("No models match").waitFor();
  await page.getByRole("combobox", { name: "Status" }).selectOption("");
  await rowOf(NAME).waitFor();

  await page.getByText("Columns", { exact: true }).click();
  await page.getByRole("checkbox", { name: "Port" }).check();
  await page.locator("thead th", { hasText: "Port" }).waitFor();
  await page.getByRole("checkbox", { name: "Port" }).uncheck();
  await page.locator("thead th", { hasText: "Port" }).waitFor({ state: "detached" });
  // Escape closes the menu.
  await page.keyboard.press("Escape");
  await page.getByRole("checkbox", { name: "Port" }).waitFor({ state: "hidden" });
});

step("edit saves a change, and a stale edit offers a reload", async () => {
  await page.goto(`${local.baseUrl}/#/models/${modelId}/edit`);
  await page.getByRole("heading", { level: 1, name: `Edit ${NAME}` }).waitFor();
  await page.getByLabel("Version").fill("1.1");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText(`Saved ${NAME}.`).waitFor();
  await page.getByRole("heading", { level: 1, name: NAME }).waitFor();
  await page.locator(".details").getByText("1.1", { exact: true }).waitFor();

  // Someone else changes the model while this form is open: the save gets 409.
  await page.getByRole("link", { name: "Edit" }).click();
  await page.getByRole("heading", { level: 1, name: `Edit ${NAME}` }).waitFor();
  const current = await call("GET", `/models/${modelId}`);
  const changed = await call(
    "PUT",
    `/models/${modelId}`,
    { description: "Changed elsewhere." },
    { "If-Match": String(current.body.revision) },
  );
  assert.equal(changed.status, 200);
  watch.allow(new RegExp(`/api/models/${modelId}$`), 409, "PUT");
  await page.getByLabel("Version").fill("1.2");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("This model was changed by someone else").waitFor();
  await screenshot(page, "08-edit-conflict", { fullPage: true });
  await page.getByRole("button", { name: "Reload the latest version" }).click();
  await page.waitForFunction(() => document.querySelector("textarea")?.value === "Changed elsewhere.");
  await page.getByLabel("Version").fill("1.2");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { level: 1, name: NAME }).waitFor();
  await page.locator(".details").getByText("1.2", { exact: true }).waitFor();
  await page.locator(".details").getByText("Changed elsewhere.").waitFor();
});

step("the form adds a schedule, checks it, and the model page shows its next run", async () => {
  await page.goto(`${local.baseUrl}/#/models/${modelId}/edit`);
  await page.getByRole("heading", { level: 1, name: `Edit ${NAME}` }).waitFor();
  await page.getByRole("button", { name: "Add schedule" }).click();
  await page.getByLabel("Action 1").selectOption("stop");
  // Far from any time this test runs at: nothing fires while the other steps use the model.
  await page.getByLabel("Cron 1").fill("0 25 1 1 *");
  await page.getByLabel("Time zone 1").fill("Europe/Berlin");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("The hour field is not valid").waitFor();
  assert.equal(await page.getByLabel("Cron 1").getAttribute("aria-invalid"), "true");
  await screenshot(page.locator("fieldset", { hasText: "Schedules" }), "08a-schedule-form");
  await page.getByLabel("Cron 1").fill("0 3 1 1 *");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText(`Saved ${NAME}.`).first().waitFor();

  const shown = page.getByTestId("schedule");
  await shown.getByText("Stop at").waitFor();
  assert.match(await shown.textContent(), /Stop at 0 3 1 1 \* \(Europe\/Berlin\) · next/);
  const { body } = await call("GET", `/models/${modelId}`);
  assert.deepEqual(
    body.schedules.map((s) => [s.action, s.cron, s.timezone]),
    [["stop", "0 3 1 1 *", "Europe/Berlin"]],
  );
  // The next run in the reader's zone, the exact instant (03:00 in Berlin, 02:00 UTC) on hover.
  assert.equal(await shown.locator("time").getAttribute("datetime"), body.schedules[0].nextRun);
  assert.match(body.schedules[0].nextRun, /-01-01T02:00:00\.000Z$/);
  await screenshot(page.getByTestId("schedules"), "08b-schedules");

  await page.getByRole("link", { name: "Edit" }).click();
  await page.getByRole("button", { name: "Remove schedule 1" }).click();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByTestId("schedules").getByText(/^none/).waitFor();
});

step("upload a trained scikit-learn model with a progress bar", async () => {
  const file = trainIris();
  await page.goto(`${local.baseUrl}/#/models/${modelId}`);
  await page.getByText("No file uploaded yet").waitFor();
  await page.setInputFiles("#artifact-file", file);
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await page.getByText(/^Uploaded iris\.joblib/).waitFor();
  await page.getByText("No file uploaded yet").waitFor({ state: "detached" });
  await page
    .locator("#artifact-title + p")
    .getByText(/joblib file, uploaded/)
    .waitFor();
  await page.waitForFunction(() => {
    const start = [...document.querySelectorAll(".page-header .actions button")].find((b) => b.textContent === "Start");
    return start && !start.hasAttribute("aria-disabled");
  });
  await screenshot(page, "12-artifact-uploaded");
});

let running = false;

step("start from the detail page; the page follows PENDING to RUNNING by itself", async () => {
  await page.goto(`${local.baseUrl}/#/models/${modelId}`);
  await page.getByRole("button", { name: "Start", exact: true }).click();
  const starting = page.locator(".notice", { hasText: `Starting ${NAME}…` });
  await starting.waitFor();
  // The notice sits clear of the try-it box.
  const [noticeBox, tryItBox] = [await starting.boundingBox(), await page.locator(".try-it").boundingBox()];
  const overlaps =
    noticeBox.x < tryItBox.x + tryItBox.width &&
    tryItBox.x < noticeBox.x + noticeBox.width &&
    noticeBox.y < tryItBox.y + tryItBox.height &&
    tryItBox.y < noticeBox.y + noticeBox.height;
  assert.ok(!overlaps, `the notice ${JSON.stringify(noticeBox)} covers the try-it box ${JSON.stringify(tryItBox)}`);
  if (await page.locator('.title-row [data-status="PENDING"]').count()) {
    assert.match(await page.getByTestId("model-data-hint").textContent(), /The model is starting; predictions work once it is running\./);
  }
  await page.locator('.title-row [data-status="RUNNING"]').waitFor({ timeout: 120_000 });
  running = true;
  // "Starting …" is no longer true: it goes at once, not when its timer runs out.
  await starting.waitFor({ state: "detached", timeout: 1000 });
  assert.match(await page.getByTestId("model-data-hint").textContent(), /Ctrl\+Enter sends\./);
  // The operations log shows the start and the transition.
  await page.locator(".tabpanel").getByText("PENDING → RUNNING").first().waitFor({ timeout: 15_000 });
  await screenshot(page, "13-running");
});

step("predict from the try-it form", async () => {
  assert.ok(running, "the model is not running");
  await page.getByLabel(/Try it/).fill("[[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]");
  await page.getByRole("button", { name: "Send" }).click();
  const result = page.getByTestId("predict-result");
  await result.waitFor();
  assert.equal((await result.locator(".http").textContent()).trim(), "200");
  assert.match(await result.locator("pre").textContent(), /results/);
});

/** POST /api/predict from Node with HTTP Basic client credentials (or none). */
async function predictAs(credentials) {
  const headers = { "Content-Type": "application/json" };
  if (credentials) headers.Authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
  const res = await fetch(`${local.baseUrl}/api/predict`, {
    method: "POST",
    headers,
    body: JSON.stringify({ modelData: [[5.1, 3.5, 1.4, 0.2]], metaData: { modelId } }),
  });
  await res.text();
  return res.status;
}

step("an admin creates a client token; Basic auth predicts with it; revoking it ends access", async (t) => {
  assert.ok(running, "the model is not running");
  await page.getByRole("tab", { name: "Clients" }).click();
  await page.getByTestId("clients-panel").waitFor();
  await page.getByText("No client tokens yet").waitFor();
  await page.getByLabel("New client name").fill(CLIENT);
  await page.getByLabel("New client name").press("Enter");
  const dialog = page.getByRole("dialog", { name: `Token for ${CLIENT}` });
  await dialog.waitFor();
  await dialog.getByText("It is shown only once").waitFor();
  const token = (await dialog.getByTestId("client-token").textContent()).trim();
  assert.ok(token.length >= 16, `token too short: ${token}`);
  // The dialog's button has the focus; it closes the dialog.
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "I have copied it");
  await page.keyboard.press("Enter");
  await dialog.waitFor({ state: "hidden" });
  await page.locator(`tr[data-client-name="${CLIENT}"]`).getByText("Never").waitFor();

  const curl = await page.getByTestId("curl").textContent();
  assert.ok(curl.includes(`-u '${CLIENT}:${token}'`), curl);

  assert.equal(await predictAs(null), 401, "a private model answered without credentials");
  assert.equal(await predictAs(`${CLIENT}:${token}`), 200);
  await page.locator(".tabpanel").getByRole("button", { name: "Refresh the clients" }).click();
  // Notices float over the panel: dismiss them so the picture shows the table.
  for (const dismiss of await page.getByRole("button", { name: "Dismiss" }).all()) await dismiss.click().catch(() => {});
  await screenshot(page.locator(".tabs"), "18-clients");

  await page.getByRole("button", { name: `Revoke ${CLIENT}` }).click();
  const confirm = page.getByRole("dialog", { name: `Revoke ${CLIENT}?` });
  await confirm.getByRole("button", { name: "Revoke token" }).click();
  await page.locator(`tr[data-client-name="${CLIENT}"]`).waitFor({ state: "detached" });
  const curlAfter = await page.getByTestId("curl").textContent();
  assert.ok(!curlAfter.includes(token), "the curl example still shows the revoked token");

  // The server may cache a token for up to 60 s.
  const revokedAt = Date.now();
  let status = await predictAs(`${CLIENT}:${token}`);
  while (status !== 401 && Date.now() - revokedAt < 70_000) {
    await new Promise((r) => setTimeout(r, 2000));
    status = await predictAs(`${CLIENT}:${token}`);
  }
  assert.equal(status, 401, "the revoked token still works after 70 s");
  t.diagnostic(`revoked token refused after ${Math.round((Date.now() - revokedAt) / 1000)} s`);
});

step("the request appears under Requests with its bodies", async () => {
  await page.getByRole("tab", { name: "Requests" }).click();
  // Request records may be written a moment after the answer: refresh until the row is there.
  const deadline = Date.now() + 60_000;
  while (!(await page.locator(".tabpanel table tbody tr").count())) {
    assert.ok(Date.now() < deadline, "no request listed within 60 s");
    await page.waitForTimeout(2000);
    await page
      .locator(".tabpanel")
      .getByRole("button", { name: /Refresh|Try again/ })
      .first()
      .click();
  }
  await page
    .locator(".tabpanel")
    .getByRole("button", { name: /Details of request/ })
    .first()
    .click();
  await page.getByRole("dialog", { name: "Request details" }).getByText("5.1").first().waitFor();
  await screenshot(page, "15-request-details");
  await page.keyboard.press("Escape");
  await page.getByRole("dialog", { name: "Request details" }).waitFor({ state: "hidden" });
});

step("older requests load page by page (50 at a time) below the newest", async () => {
  const before = (await call("GET", `/models/${modelId}/requests?limit=100`)).body.items.length;
  for (let i = 0; i < 55; i++) {
    const sent = await call("POST", `/models/${modelId}/predict`, { modelData: [[5.1, 3.5, 1.4, 0.2]] });
    assert.equal(sent.status, 200);
  }
  await until(
    "55 more requests in the history",
    async () => (await call("GET", `/models/${modelId}/requests?limit=100`)).body.items.length >= before + 55,
  );
  const rows = page.locator(".tabpanel table tbody tr");
  const historySize = async () => (await call("GET", `/models/${modelId}/requests?limit=100`)).body.items.length;
  // Lines of the earlier steps may still be landing in the history: the page's first page is known
  // to hold the newest of `total` lines only when the history had that size both before and after
  // the refresh that loaded it.
  let total = 0;
  await until(
    "the first page of 50 rows, over a history that stopped growing",
    async () => {
      const sizeBefore = await historySize();
      const loaded = page.waitForResponse(
        (answer) => answer.url().includes(`/models/${modelId}/requests`) && answer.request().method() === "GET",
      );
      await page.locator(".tabpanel").getByRole("button", { name: "Refresh", exact: true }).click();
      await loaded;
      await page.waitForTimeout(300);
      total = await historySize();
      return total === sizeBefore && (await rows.count()) === 50;
    },
    30_000,
  );
  assert.ok(total >= before + 55 && total < 100, `history holds ${total}`);
  await page.getByRole("button", { name: "Load older requests" }).click();
  await page.waitForFunction((n) => document.querySelectorAll(".tabpanel table tbody tr").length === n, total);
  assert.equal(await rows.count(), total);
  assert.equal(await page.getByRole("button", { name: "Load older requests" }).count(), 0);
});

step("the container log shows the model's lines", async () => {
  await page.getByRole("tab", { name: "Container logs" }).click();
  await page.locator(".tabpanel").locator(".log-box, .state:not(.state-loading)").first().waitFor();
  await screenshot(page.locator(".tabs"), "16-container-logs");
});

step("the request shows on the metrics charts", async () => {
  await page.getByRole("tab", { name: "Metrics" }).click();
  // Metrics can lag behind the request by up to a minute; refresh until the chart is there.
  const deadline = Date.now() + 90_000;
  while (!(await page.locator(".charts canvas").count())) {
    assert.ok(Date.now() < deadline, "no metrics chart within 90 s");
    await page.waitForTimeout(3000);
    await page
      .locator(".tabpanel")
      .getByRole("button", { name: /Refresh|Try again/ })
      .first()
      .click();
  }
  // A model minutes old gets the shortest range, not a few dots at the right edge of an hour.
  assert.equal(await page.locator(".tabpanel").getByLabel("Range").inputValue(), "15m");
  // Availability (no 5xx) and success (2xx) are two numbers, each labelled.
  await page.locator(".stats dt", { hasText: "Availability (no 5xx)" }).waitFor();
  await page.locator(".stats dt", { hasText: "Success (2xx)" }).waitFor();
  assert.match(await page.getByTestId("availability").textContent(), /%$/);
  assert.match(await page.getByTestId("success").textContent(), /%$/);
  // With the cursor off the chart the legend shows the latest values, never a dash where data exists.
  const latency = page.locator(".chart", { hasText: "Response time" });
  const legend = await latency.locator(".u-legend tr.u-series:not(:first-child) .u-value").allTextContents();
  assert.ok(legend.length === 4 && legend.every((v) => v && v !== "—"), `legend: ${JSON.stringify(legend)}`);
  assert.equal(await latency.locator(".u-legend tr.u-series:first-child .u-value").textContent(), "latest");
  // The runner's CPU and memory beside latency, as shares of what it reserved; a small model is far from its limit.
  const memoryDeadline = Date.now() + 60_000;
  while (
    !/^[0-9.]+%$/.test(
      (await page
        .getByTestId("memory-now")
        .textContent({ timeout: 1000 })
        .catch(() => "")) ?? "",
    )
  ) {
    assert.ok(Date.now() < memoryDeadline, "no memory figure within 60 s");
    await page.waitForTimeout(2000);
    await page.locator(".tabpanel").getByRole("button", { name: "Refresh" }).first().click();
  }
  await page.locator(".chart", { hasText: "CPU and memory (% of reserved)" }).waitFor();
  assert.equal(await page.getByTestId("memory-warning").count(), 0);
  await screenshot(page.locator(".tabs"), "17-metrics");
});

step("stop asks to confirm, then the page follows STOPPING to STOPPED", async () => {
  assert.ok(running, "the model is not running");
  await page.getByRole("button", { name: "Stop", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: `Stop ${NAME}?` });
  await dialog.waitFor();
  await dialog.getByRole("button", { name: "Stop model" }).click();
  await page.locator('.title-row [data-status="STOPPED"]').waitFor({ timeout: 60_000 });
  running = false;
});

/** The README's diamonds pipeline (one-hot "cut", linear in "carat"), saved with joblib. */
const trainDiamonds = () =>
  train("diamonds.joblib", [
    "import sys, joblib, pandas as pd",
    "from sklearn.compose import make_column_transformer",
    "from sklearn.linear_model import LinearRegression",
    "from sklearn.pipeline import make_pipeline",
    "from sklearn.preprocessing import OneHotEncoder",
    'X = pd.DataFrame({"carat": [0.2, 0.5, 1.0, 1.5], "cut": ["Ideal", "Good", "Ideal", "Fair"]})',
    'model = make_pipeline(make_column_transformer((OneHotEncoder(), ["cut"]), remainder="passthrough"), LinearRegression())',
    "joblib.dump(model.fit(X, [300, 900, 3000, 5000]), sys.argv[1])",
  ]);

async function until(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `${what} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A model set up as the README's walkthrough does, from outside the browser: created, its file uploaded, started; its id once RUNNING. */
async function runningModel(name, artifactFormat, file) {
  const created = await call("POST", "/models", {
    name,
    version: "1.0",
    artifactFormat,
    containerPort: 8080,
    containerCpu: 0.5,
    containerMemory: 1,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;
  const ticket = await call("POST", `/models/${id}/artifact`, {});
  const form = new FormData();
  for (const [key, value] of Object.entries(ticket.body.fields)) form.append(key, value);
  form.append("file", new Blob([readFileSync(file)]), basename(file));
  const upload = await fetch(ticket.body.url, { method: "POST", body: form });
  assert.ok(upload.ok, `upload: ${upload.status}`);
  assert.equal((await call("POST", `/models/${id}/start`, {})).status, 202);
  await until(`${name} running`, async () => (await call("GET", `/models/${id}`)).body.status === "RUNNING");
  return id;
}

step("try-it starts from the diamonds model's last successful request, and that example answers 200", async () => {
  // A scikit-learn pipeline declares no input: the example is its last successful request.
  const id = await runningModel(`diamonds-${NAME}`, "joblib", trainDiamonds());
  const rows = [{ carat: 0.23, cut: "Ideal" }];
  assert.equal((await call("POST", `/models/${id}/predict`, { modelData: rows })).status, 200);
  await until("the prediction in the history", async () => (await call("GET", `/models/${id}/requests?status=2xx`)).body.items.length > 0);

  await page.goto(`${local.baseUrl}/#/models/${id}`);
  await page
    .getByTestId("model-data-hint")
    .getByText(/From this model's last successful request/)
    .waitFor();
  assert.deepEqual(JSON.parse(await page.getByLabel(/Try it/).inputValue()), rows);
  await page.getByRole("button", { name: "Send" }).click();
  const result = page.getByTestId("predict-result");
  await result.waitFor();
  assert.equal((await result.locator(".http").textContent()).trim(), "200");
  assert.match(await result.locator("pre").textContent(), /results/);
  await screenshot(page.locator(".detail-side"), "14-try-it");
  assert.equal((await call("DELETE", `/models/${id}?force=true`)).status, 204);
});

/** An iris regression as an ONNX graph, made with the onnx helper API: one input, float_input of shape [N, 4]. */
const trainIrisOnnx = () =>
  train("iris.onnx", [
    "import sys, numpy as np",
    "from onnx import TensorProto, helper, numpy_helper",
    "from sklearn.datasets import load_iris",
    "from sklearn.linear_model import LinearRegression",
    "X, y = load_iris(return_X_y=True)",
    "fit = LinearRegression().fit(X, y)",
    "weights = numpy_helper.from_array(fit.coef_.astype(np.float32).reshape(4, 1), 'W')",
    "bias = numpy_helper.from_array(np.array([fit.intercept_], dtype=np.float32), 'B')",
    "nodes = [helper.make_node('MatMul', ['float_input', 'W'], ['XW']), helper.make_node('Add', ['XW', 'B'], ['variable'])]",
    "inputs = [helper.make_tensor_value_info('float_input', TensorProto.FLOAT, [None, 4])]",
    "outputs = [helper.make_tensor_value_info('variable', TensorProto.FLOAT, [None, 1])]",
    "graph = helper.make_graph(nodes, 'iris', inputs, outputs, initializer=[weights, bias])",
    "model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)], ir_version=9)",
    "open(sys.argv[1], 'wb').write(model.SerializeToString())",
  ]);

step("try-it starts from an ONNX model's declared input, over its history, and that example answers 200", async () => {
  const id = await runningModel(`onnx-${NAME}`, "onnx", trainIrisOnnx());
  // A request in its history too: the declared input still comes first.
  assert.equal((await call("POST", `/models/${id}/predict`, { modelData: [[5.1, 3.5, 1.4, 0.2]] })).status, 200);
  await until("the prediction in the history", async () => (await call("GET", `/models/${id}/requests?status=2xx`)).body.items.length > 0);

  const historyRead = page.waitForResponse((r) => r.url().includes(`/api/models/${id}/requests`));
  await page.goto(`${local.baseUrl}/#/models/${id}`);
  await page
    .getByTestId("model-data-hint")
    .getByText("From this model's declared input (its ONNX graph): replace the zeros with real values.")
    .waitFor();
  await (await historyRead).finished();
  const example = "[[0.0, 0.0, 0.0, 0.0]]";
  assert.equal(await page.getByLabel(/Try it/).inputValue(), example);
  assert.ok((await page.getByTestId("curl").textContent()).includes('"modelData":[[0.0,0.0,0.0,0.0]]'), "the curl command lost the 0.0");
  const sent = page.waitForRequest((r) => r.url().endsWith("/api/predict"));
  await page.getByRole("button", { name: "Send" }).click();
  // What was sent is the declared input's example (not the history's), as written.
  const body = (await sent).postData();
  assert.ok(body.startsWith(`{"modelData":${example},`), body);
  const result = page.getByTestId("predict-result");
  await result.waitFor();
  assert.equal((await result.locator(".http").textContent()).trim(), "200");
  assert.match(await result.locator("pre").textContent(), /"variable"/);
  assert.equal((await call("DELETE", `/models/${id}?force=true`)).status, 204);
});

step("start and stop from the list row; the list polls while a model changes", async () => {
  await page.goto(`${local.baseUrl}/#/models`);
  const row = rowOf(NAME);
  await row.getByRole("button", { name: `Start ${NAME}` }).click();
  await row.locator('[data-status="RUNNING"]').waitFor({ timeout: 120_000 });
  await row.getByRole("button", { name: `Stop ${NAME}` }).click();
  const dialog = page.getByRole("dialog", { name: `Stop ${NAME}?` });
  // The confirming button has the focus; Escape cancels.
  await dialog.getByRole("button", { name: "Stop model" }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Stop model");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  await row.getByRole("button", { name: `Stop ${NAME}` }).click();
  await dialog.getByRole("button", { name: "Stop model" }).click();
  await row.locator('[data-status="STOPPED"]').waitFor({ timeout: 60_000 });
});

/** Adds a user to local mode's emulated user pool with a temporary password (boto3 against the emulator). */
// Creating users is an operator's call: local mode writes that identity's keys for the test (harness.mjs).
function operatorKeys() {
  const { accessKeyId, secretAccessKey } = JSON.parse(readFileSync(local.operatorCredentials, "utf8"));
  return { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey };
}

function createEmulatorUser(username, temporaryPassword, group) {
  const script = [
    "import sys, boto3",
    "endpoint, region, pool, user, password, group = sys.argv[1:]",
    "c = boto3.client('cognito-idp', endpoint_url=endpoint, region_name=region)",
    "c.admin_create_user(UserPoolId=pool, Username=user, TemporaryPassword=password, MessageAction='SUPPRESS')",
    "c.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName=group)",
  ].join("\n");
  execFileSync(
    join(REPO, ".venv", "bin", "python"),
    ["-c", script, auth.cognitoEndpoint, auth.region, auth.userPoolId, username, temporaryPassword, group],
    { stdio: "inherit", env: { ...process.env, ...operatorKeys() } },
  );
}

const viewer = `viewer-${Date.now().toString(36)}`;

step("a viewer chooses a new password at first sign-in, then sees models but cannot change them", async () => {
  const temporary = strongPassword();
  const chosen = strongPassword();
  createEmulatorUser(viewer, temporary, "viewer");

  const vpage = await browser.context.newPage();
  vpage.setDefaultTimeout(15_000);
  const vwatch = watchPage(vpage);
  try {
    await vpage.goto(`${local.baseUrl}/#/models`);
    await vpage.getByLabel("Username").fill(viewer);
    await vpage.getByLabel("Password").fill(temporary);
    await vpage.getByLabel("Password").press("Enter");
    await vpage.getByRole("heading", { level: 1, name: "Choose a new password" }).waitFor();
    await vpage.getByLabel("New password", { exact: true }).fill(chosen);
    await vpage.getByLabel("Repeat the new password").fill(chosen + "x");
    await vpage.getByRole("button", { name: "Set password and sign in" }).click();
    await vpage.getByText("The two passwords are not the same.").waitFor();
    await vpage.getByLabel("Repeat the new password").fill(chosen);
    await vpage.getByRole("button", { name: "Set password and sign in" }).click();

    await vpage.getByRole("heading", { level: 1, name: "Models" }).waitFor();
    await vpage.getByTestId("user-role").getByText("viewer", { exact: true }).waitFor();
    await vpage.getByText("You have the viewer role").waitFor();
    const add = vpage.getByRole("button", { name: "Add model" });
    assert.equal(await add.getAttribute("aria-disabled"), "true");
    assert.match(await add.getAttribute("title"), /only editors and admins can add models/);
    const vrow = vpage.locator(`tr[data-model-name="${NAME}"]`);
    await vrow.waitFor();
    assert.equal(await vrow.getByRole("button", { name: /^(Start|Stop) / }).count(), 0);

    await vpage.goto(`${local.baseUrl}/#/models/${modelId}`);
    await vpage.getByRole("heading", { level: 1, name: NAME }).waitFor();
    for (const name of ["Start", "Edit", "Delete", "Send", "Upload a file"]) {
      const button = vpage.getByRole("button", { name, exact: true });
      assert.equal(await button.getAttribute("aria-disabled"), "true", `${name} is not disabled for a viewer`);
    }
    assert.equal(await vpage.getByRole("tab", { name: "Clients" }).count(), 0);
    await vpage.goto(`${local.baseUrl}/#/models/new`);
    await vpage.getByRole("heading", { level: 1, name: "Not allowed" }).waitFor();

    // The server enforces it too: the viewer's own token gets 403 on a change.
    const token = await vpage.evaluate(() => JSON.parse(sessionStorage.getItem("kraken.session")).accessToken);
    const start = await api(local.baseUrl, "POST", `/models/${modelId}/start`, {}, { Authorization: `Bearer ${token}` });
    assert.equal(start.status, 403);
    assert.equal(start.body.error.code, "forbidden");
    assert.deepEqual(vwatch.consoleErrors, []);
    assert.deepEqual(vwatch.failedResponses, []);
  } finally {
    await vpage.close();
  }
});

step("forgot password: a code, a new password, then sign-in with it", async () => {
  // The emulator sends no code and accepts any; on AWS the code arrives by email or SMS.
  const renewed = strongPassword();
  const fpage = await browser.context.newPage();
  fpage.setDefaultTimeout(15_000);
  const fwatch = watchPage(fpage);
  try {
    await fpage.goto(`${local.baseUrl}/`);
    await fpage.getByRole("button", { name: "Forgot password?" }).click();
    await fpage.getByRole("heading", { level: 1, name: "Reset your password" }).waitFor();
    await fpage.getByLabel("Username").fill(viewer);
    await fpage.getByRole("button", { name: "Send a code" }).click();
    await fpage.getByRole("heading", { level: 1, name: "Set a new password" }).waitFor();
    await fpage.getByLabel("Code").fill("123456");
    await fpage.getByLabel("New password", { exact: true }).fill(renewed);
    await fpage.getByLabel("Repeat the new password").fill(renewed);
    await fpage.getByRole("button", { name: "Set new password" }).click();
    await fpage.getByText("Your password was changed. Sign in with the new one.").waitFor();
    await fpage.getByLabel("Username").fill(viewer);
    await fpage.getByLabel("Password").fill(renewed);
    await fpage.getByLabel("Password").press("Enter");
    await fpage.getByTestId("user-role").getByText("viewer", { exact: true }).waitFor();
    assert.deepEqual(fwatch.consoleErrors, []);
    assert.deepEqual(fwatch.failedResponses, []);
  } finally {
    await fpage.close();
  }
});

/** A person in no stage group, with an e-mail address and a password of their own (as tests/e2e's add_viewer makes one). */
function createGrouplessUser(username, email, password) {
  const script = [
    "import sys, boto3",
    "endpoint, region, pool, user, email, password = sys.argv[1:]",
    "c = boto3.client('cognito-idp', endpoint_url=endpoint, region_name=region)",
    "c.admin_create_user(UserPoolId=pool, Username=user, UserAttributes=[{'Name': 'email', 'Value': email}], MessageAction='SUPPRESS')",
    "c.admin_set_user_password(UserPoolId=pool, Username=user, Password=password, Permanent=True)",
  ].join("\n");
  execFileSync(
    join(REPO, ".venv", "bin", "python"),
    ["-c", script, auth.cognitoEndpoint, auth.region, auth.userPoolId, username, email, password],
    { stdio: "inherit", env: { ...process.env, ...operatorKeys() } },
  );
}

const switcherOptions = (p) => p.getByTestId("project-switcher").locator("option").allTextContents();

step("projects: an admin makes fraud and pricing, adds a data scientist to pricing, who then sees and changes pricing only", async (t) => {
  const began = Date.now();
  const scientist = `ds-${Date.now().toString(36)}`;
  const email = `${scientist}@example.com`;
  const password = strongPassword();
  createGrouplessUser(scientist, email, password);

  // The admin makes both projects in the console: the name is checked as typed, and a taken one is the API's 409 on the field.
  await page.goto(`${local.baseUrl}/#/projects`);
  await page.getByRole("heading", { level: 1, name: "Projects" }).waitFor();
  await page.locator('tr[data-project-name="default"]').getByTestId("project-role").getByText("admin").waitFor();
  const projectName = page.getByLabel("Name", { exact: true });
  await projectName.fill("Fraud team");
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByText("Start with a lowercase letter a-z.").waitFor();
  assert.equal(await projectName.getAttribute("aria-invalid"), "true");
  for (const [name, description] of [
    ["fraud", "Card fraud models"],
    ["pricing", "Price suggestions"],
  ]) {
    await projectName.fill(name);
    await page.getByLabel("Description").fill(description);
    await page.getByRole("button", { name: "Create project" }).click();
    await page.locator(`tr[data-project-name="${name}"]`).waitFor();
  }
  watch.allow(/\/api\/projects$/, 409, "POST");
  await projectName.fill("fraud");
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByText("A project named fraud already exists. Choose another name.").waitFor();
  assert.equal(await projectName.getAttribute("aria-invalid"), "true");
  assert.deepEqual(await switcherOptions(page), ["All projects", "default (admin)", "fraud (admin)", "pricing (admin)"]);
  await screenshot(page, "24-projects");

  // The data scientist becomes an editor of pricing by their e-mail address; an address nobody has is said on the field.
  await page.getByRole("link", { name: "pricing", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "pricing" }).waitFor();
  watch.allow(/\/api\/projects\/pricing\/members\//, 404, "PUT");
  const who = page.getByLabel("Username or e-mail");
  await who.fill("nobody@example.com");
  await page.getByRole("button", { name: "Add member" }).click();
  await page.getByText("There is no user with the username or e-mail address nobody@example.com.").waitFor();
  assert.equal(await who.getAttribute("aria-invalid"), "true");
  await who.fill(email);
  await page.getByLabel("Role", { exact: true }).selectOption("editor");
  await page.getByRole("button", { name: "Add member" }).click();
  const member = page.locator(`tr[data-member="${scientist}"]`);
  await member.waitFor();
  assert.equal(await member.getByLabel(`Role of ${scientist}`).inputValue(), "editor");
  // Notices float over the page: dismiss them (one may go by itself meanwhile) so the picture shows the table.
  for (const dismiss of await page.getByRole("button", { name: "Dismiss" }).all()) await dismiss.click({ timeout: 1000 }).catch(() => {});
  await screenshot(page, "25-project-members");

  // A model of fraud, which the data scientist must not see.
  const spec = { version: "1", artifactFormat: "joblib", containerPort: 8080, containerCpu: 0.25, containerMemory: 0.5 };
  const fraud = await call("POST", "/models", { ...spec, name: `fraud-${NAME}`, project: "fraud" });
  assert.equal(fraud.status, 201, JSON.stringify(fraud.body));

  const spage = await browser.context.newPage();
  spage.setDefaultTimeout(15_000);
  const swatch = watchPage(spage);
  let made = null;
  try {
    await spage.goto(`${local.baseUrl}/#/models`);
    await spage.getByLabel("Username").fill(scientist);
    await spage.getByLabel("Password").fill(password);
    await spage.getByLabel("Password").press("Enter");
    await spage.getByRole("heading", { level: 1, name: "Models" }).waitFor();
    await spage.getByTestId("user-role").getByText("editor", { exact: true }).waitFor();
    // Only pricing in the switcher, and no model of another project in the list.
    await spage.getByTestId("project-switcher").locator("option", { hasText: "pricing" }).waitFor({ state: "attached" });
    assert.deepEqual(await switcherOptions(spage), ["All projects", "pricing (editor)"]);
    await spage.getByText("No models yet").waitFor(); // pricing has none yet, and nothing of fraud or default shows
    assert.equal(await spage.locator(`tr[data-model-name="fraud-${NAME}"]`).count(), 0);
    assert.equal(await spage.locator(`tr[data-model-name="${NAME}"]`).count(), 0);

    // They may add a model, in pricing only.
    await spage
      .getByRole("link", { name: /Add (your first )?model/ })
      .first()
      .click();
    await spage.getByRole("heading", { level: 1, name: "Add a model" }).waitFor();
    const project = spage.getByRole("main").getByLabel("Project", { exact: true });
    assert.deepEqual(await project.locator("option").allTextContents(), ["pricing"]);
    assert.equal(await project.inputValue(), "pricing");
    await spage.getByLabel("Name", { exact: true }).fill(`pricing-${NAME}`);
    await spage.getByRole("button", { name: "Create model" }).click();
    await spage.getByRole("heading", { level: 1, name: `pricing-${NAME}` }).waitFor();
    made = decodeURIComponent(new URL(spage.url()).hash.split("/")[2]);
    assert.equal((await spage.getByTestId("model-project").textContent()).trim(), "pricing");
    // Its controls follow the role in pricing: Edit and Delete are theirs.
    await spage.getByRole("link", { name: "Edit", exact: true }).waitFor();
    assert.equal(await spage.getByRole("button", { name: "Delete", exact: true }).getAttribute("aria-disabled"), null);

    // The list shows the new model with its project; choosing pricing lists it alone, and the choice survives a reload.
    await spage.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Models" }).click();
    const row = spage.locator(`tr[data-model-name="pricing-${NAME}"]`);
    await row.locator(".cell-project").getByText("pricing").waitFor();
    assert.equal(await spage.locator(`tr[data-model-name="fraud-${NAME}"]`).count(), 0);
    const listed = spage.waitForResponse((r) => r.url().includes("/api/models?") && r.url().includes("project=pricing"));
    await spage.getByTestId("project-switcher").selectOption("pricing");
    await listed;
    await spage.getByTestId("list-scope").getByText("pricing").waitFor();
    await spage.reload();
    await spage.getByTestId("list-scope").getByText("pricing").waitFor();
    assert.equal(await spage.getByTestId("project-switcher").inputValue(), "pricing");
    await row.waitFor();
    await screenshot(spage, "27-member-models");

    // The server agrees: fraud's model is as unknown to them as one that does not exist.
    const token = await spage.evaluate(() => JSON.parse(sessionStorage.getItem("kraken.session")).accessToken);
    const hidden = await api(local.baseUrl, "GET", `/models/${fraud.body.id}`, undefined, { Authorization: `Bearer ${token}` });
    assert.equal(hidden.status, 404);
    assert.deepEqual(swatch.consoleErrors, []);
    assert.deepEqual(swatch.failedResponses, []);
  } finally {
    await spage.close();
  }

  // Deleting fraud is refused while it has a model, then done.
  await page.goto(`${local.baseUrl}/#/projects`);
  watch.allow(/\/api\/projects\/fraud$/, 409, "DELETE");
  await page.getByRole("button", { name: "Delete fraud" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete project fraud?" });
  await dialog.getByRole("button", { name: "Delete project" }).click();
  await dialog.getByText(/Not deleted\. Project fraud still has models/).waitFor();
  assert.equal((await call("DELETE", `/models/${fraud.body.id}`)).status, 204);
  await dialog.getByRole("button", { name: "Delete project" }).click();
  await dialog.waitFor({ state: "hidden" });
  await page.locator('tr[data-project-name="fraud"]').waitFor({ state: "detached" });
  if (made) assert.equal((await call("DELETE", `/models/${made}`)).status, 204);

  // At phone width the members page stays within the screen.
  await page.setViewportSize(PHONE);
  await page.goto(`${local.baseUrl}/#/projects/pricing`);
  await page.locator(`tr[data-member="${scientist}"]`).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the members page overflows the phone width by ${overflow}px`);
  await screenshot(page, "26-phone-members");
  await page.setViewportSize({ width: 1280, height: 860 });
  t.diagnostic(`the projects step took ${((Date.now() - began) / 1000).toFixed(1)} s`);
});

step("phone width: list, form and detail stay readable", async () => {
  await page.setViewportSize(PHONE);
  await page.goto(`${local.baseUrl}/#/models`);
  await rowOf(NAME).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the list overflows the phone width by ${overflow}px`);
  await screenshot(page, "09-phone-list");
  await page.goto(`${local.baseUrl}/#/models/${modelId}`);
  await page.getByRole("heading", { level: 1, name: NAME }).waitFor();
  const overflowDetail = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflowDetail <= 1, `the detail page overflows the phone width by ${overflowDetail}px`);
  await screenshot(page, "10-phone-detail");
  await page.setViewportSize({ width: 1280, height: 860 });
});

step("delete asks for the model's name, then removes it", async () => {
  await page.goto(`${local.baseUrl}/#/models/${modelId}`);
  await page.getByRole("heading", { level: 1, name: NAME }).waitFor();
  await page.getByRole("button", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog", { name: `Delete ${NAME}?` });
  await dialog.waitFor();
  // Focus is in the dialog, on the confirmation field; Escape closes it.
  assert.equal(await page.evaluate(() => document.activeElement?.id), "confirm-name");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Delete");

  await page.getByRole("button", { name: "Delete" }).click();
  const confirm = dialog.getByRole("button", { name: "Delete model" });
  assert.equal(await confirm.isDisabled(), true);
  await dialog.getByLabel(/Type .* to confirm/).fill(NAME.slice(0, -1));
  assert.equal(await confirm.isDisabled(), true);
  await dialog.getByLabel(/Type .* to confirm/).fill(NAME);
  await screenshot(page, "11-delete-confirm");
  await confirm.click();
  await page.getByText(`Deleted ${NAME}.`).waitFor();
  await page.getByRole("heading", { level: 1, name: "Models" }).waitFor();
  await rowOf(NAME).waitFor({ state: "detached" });
  const gone = await call("GET", `/models/${modelId}`);
  assert.equal(gone.status, 404);
});

step("sign out returns to the sign-in page and forgets the session", async (t) => {
  await page.goto(`${local.baseUrl}/#/models`);
  const refreshToken = await page.evaluate(() => JSON.parse(sessionStorage.getItem("kraken.session")).refreshToken);
  // Sign-out revokes the refresh token at Cognito. moto (5.2.5) has no RevokeToken: the emulator
  // answers 500 without CORS headers, which Chromium reports; the console signs out all the same.
  const emulator = new RegExp(
    `^${new URL(auth.cognitoEndpoint ?? `https://cognito-idp.${auth.region}.amazonaws.com`).origin.replace(/[.]/g, "\\.")}/`,
  );
  watch.allow(emulator, 0, "POST");
  watch.allow(emulator, 500, "POST");
  const stopAllowing = watch.allowConsole(/blocked by CORS policy/);
  const isRevoke = (r) => r.headers()["x-amz-target"] === "AWSCognitoIdentityProviderService.RevokeToken";
  const revoked = Promise.race([page.waitForEvent("requestfinished", isRevoke), page.waitForEvent("requestfailed", isRevoke)]);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  const revoke = await revoked;
  assert.deepEqual(JSON.parse(revoke.postData()), { Token: refreshToken, ClientId: auth.clientId });
  await page.waitForTimeout(300); // the CORS report comes with the failure
  stopAllowing();
  const answer = await revoke.response().catch(() => null);
  if (answer?.status() === 200) {
    // An emulator that knows RevokeToken: the revoked refresh token must no longer mint access tokens.
    const refreshed = await fetch(revoke.url(), {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth" },
      body: JSON.stringify({ AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: auth.clientId, AuthParameters: { REFRESH_TOKEN: refreshToken } }),
    });
    assert.equal(refreshed.status, 400, "the revoked refresh token still works");
  } else {
    t.diagnostic("the emulator has no RevokeToken (moto answers 500): that the token stops working shows only on AWS");
  }
  assert.equal(await page.evaluate(() => sessionStorage.getItem("kraken.session")), null);
  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  assert.equal(await page.locator("header.app-header").count(), 0);
});

step("a session about to expire refreshes itself; a refused refresh returns to the sign-in page", async () => {
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByLabel("Password").press("Enter");
  await page.getByRole("heading", { level: 1, name: "Models" }).waitFor();

  // Ten seconds left: the next API call refreshes first (REFRESH_TOKEN_AUTH).
  const soon = await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem("kraken.session"));
    s.expiresAt = Date.now() + 10_000;
    sessionStorage.setItem("kraken.session", JSON.stringify(s));
    return s.expiresAt;
  });
  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Models" }).waitFor();
  await page.waitForFunction((old) => JSON.parse(sessionStorage.getItem("kraken.session") ?? "{}").expiresAt > old + 60_000, soon);

  // A token the API refuses and a refresh token Cognito refuses: back to the sign-in page, with the reason.
  watch.allow(/\/api\//, 401);
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem("kraken.session"));
    sessionStorage.setItem("kraken.session", JSON.stringify({ ...s, accessToken: "not-a-token", refreshToken: "revoked" }));
  });
  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  await page.getByText("Your session has ended. Sign in again.").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("kraken.session")), null);
});

step("no console errors and no unexpected HTTP failures", () => {
  assert.deepEqual(watch.consoleErrors, []);
  assert.deepEqual(watch.failedResponses, []);
});
