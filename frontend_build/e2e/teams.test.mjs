/**
 * Teams in a real browser against local mode: a stage admin bounds a project's quota (a bad bound refused as it
 * is typed) and sees its bars; a model whose pickle an older scikit-learn made runs and shows its load warning
 * and its runner's libraries; a second model's start passes the quota and is refused with the quota's message;
 * metadata and a Markdown description (a <script> in it shown as text) edited in the form, shown on hover in the
 * list and filtered by key; "Deployed by me"; a version's notes and metadata; an image model's registry
 * credentials saved and cleared; and a project's own admin, who may neither change its quota nor delete it.
 */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { OUT, REPO, api, openScenario, screenshot, stepWithScreenshot, strongPassword, watchPage } from "./harness.mjs";

const SUFFIX = Date.now().toString(36);
const PROJECT = "ml-team";
const WARNED = `older-pickle-${SUFFIX}`;
const REFUSED = `second-${SUFFIX}`;
const IMAGE = `private-image-${SUFFIX}`;
const ADMIN_PASSWORD = strongPassword();
const START_MS = 120_000;

let scenario;
let local;
let auth;
let browser;
let page;
let watch;
let authHeaders = {};
const ids = {};

const call = (method, path, body, headers = {}) => api(local.baseUrl, method, path, body, { ...authHeaders, ...headers });

before(async () => {
  scenario = await openScenario({ KRAKEN_ADMIN_PASSWORD: ADMIN_PASSWORD });
  ({ local, auth, authHeaders, browser, page, watch } = scenario);
});

after(async () => {
  await scenario?.stop();
});

const step = stepWithScreenshot("teams-", () => page);

/**
 * A fitted model whose pickle says an older scikit-learn made it, as one trained elsewhere would be (the idea of
 * tests/e2e/test_lifecycle_local.py): the runner loads it with an InconsistentVersionWarning.
 */
function olderPickle() {
  mkdirSync(OUT, { recursive: true });
  const path = join(OUT, "older-sklearn.pkl");
  const script = [
    "import pickle, sys, pandas as pd, sklearn",
    "from sklearn.linear_model import LinearRegression",
    "model = LinearRegression().fit(pd.DataFrame({'carat': [0.2, 0.5, 1.0]}), [300, 900, 3000])",
    "raw = pickle.dumps(model)",
    "current = sklearn.__version__.encode()",
    "older = b'0' * (len(current) - 2) + b'.1'  # the same length keeps the pickle's framing valid",
    "assert raw.count(current) == 1",
    "open(sys.argv[1], 'wb').write(raw.replace(current, older))",
    "print(sklearn.__version__)",
  ].join("\n");
  const version = execFileSync(join(REPO, ".venv", "bin", "python"), ["-c", script, path], { encoding: "utf8" }).trim();
  return { path, version };
}

/** Uploads a model's file from Node through its presigned ticket (set-up the browser steps do not look at). */
const uploadFromNode = (id, file) => scenario.upload(`/models/${id}/artifact`, readFileSync(file), basename(file));

const bar = (key) => page.getByTestId(`quota-${key}`);
const rowOf = (name) => page.locator(`tr[data-model-name="${name}"]`);
let sklearn;

step("a stage admin bounds a project's quota, each bound checked as typed, and sees its bars", async (t) => {
  const began = Date.now();
  await scenario.signIn();
  assert.equal((await call("POST", "/projects", { name: PROJECT, description: "The ML team's models" })).status, 201);

  await page.goto(`${local.baseUrl}/#/projects/${PROJECT}`);
  await page.getByRole("heading", { level: 1, name: PROJECT }).waitFor();
  await bar("maxVcpu").getByText("0 vCPU in use · no limit").waitFor();
  assert.equal(await page.getByTestId("quota-panel").getByRole("meter").count(), 0, "a bar without a bound");

  await page.getByRole("button", { name: "Edit quota" }).click();
  const save = page.getByRole("button", { name: "Save quota" });
  await page.getByLabel("Most vCPU").fill("-1");
  // Said as it is typed, before any round trip; Save waits for a bound the API would take.
  await page.getByText("Enter a number above 0 and at most 100,000, or leave it empty for no limit.").waitFor();
  assert.equal(await page.getByLabel("Most vCPU").getAttribute("aria-invalid"), "true");
  assert.equal(await save.isDisabled(), true);
  await page.getByLabel("Most replicas").fill("1.5");
  await page.getByText("Enter a whole number from 0 to 100,000, or leave it empty for no limit.").waitFor();
  await page.getByLabel("Most vCPU").fill("1");
  await page.getByLabel("Most replicas").fill("1");
  await save.click();
  await page.getByText(`Saved the quota of ${PROJECT}.`).waitFor();
  await bar("maxReplicas").getByText("0 of 1 replica", { exact: true }).waitFor();
  assert.equal(await bar("maxVcpu").getByRole("meter").getAttribute("aria-valuetext"), "0 of 1 vCPU");
  await bar("maxModels").getByText("0 models in use · no limit").waitFor();
  const { body } = await call("GET", `/projects/${PROJECT}`);
  assert.deepEqual(body.quota, { maxVcpu: 1, maxMemoryGb: null, maxReplicas: 1, maxModels: null });

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Projects" }).click();
  await page.locator(`tr[data-project-name="${PROJECT}"]`).getByTestId("project-quota").getByText("1 vCPU · 1 replica").waitFor();
  t.diagnostic(`the quota step took ${((Date.now() - began) / 1000).toFixed(1)} s`);
});

step("a pickle from an older scikit-learn, uploaded in the browser, runs with its load warning and the runner's libraries", async (t) => {
  const began = Date.now();
  const file = olderPickle();
  sklearn = file.version;
  ids.warned = await scenario.createModel({ name: WARNED, artifactFormat: "pickle", project: PROJECT });
  await page.goto(`${local.baseUrl}/#/models/${ids.warned}`);
  await page.getByText("No file uploaded yet").waitFor();
  await page.setInputFiles("#artifact-file", file.path);
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await page.getByText(/^Uploaded older-sklearn\.pkl/).waitFor();
  await page.waitForFunction(() => {
    const start = [...document.querySelectorAll(".page-header .actions button")].find((b) => b.textContent === "Start");
    return start && !start.hasAttribute("aria-disabled");
  });
  assert.equal(await page.getByTestId("load-warnings").count(), 0);
  await page.getByRole("button", { name: "Start", exact: true }).click();
  await page.locator('.title-row [data-status="RUNNING"]').waitFor({ timeout: START_MS });

  const banner = page.getByTestId("load-warnings");
  await banner.getByText("Version 1's file loaded with warnings:").waitFor();
  const said = await banner.textContent();
  assert.match(said, /InconsistentVersionWarning: /);
  assert.ok(said.includes(sklearn), `the warning does not name scikit-learn ${sklearn}: ${said}`);
  for (const dismiss of await page.getByRole("button", { name: "Dismiss" }).all()) await dismiss.click({ timeout: 1000 }).catch(() => {});
  await screenshot(page, "33-load-warning");
  const libraries = page.getByTestId("libraries-1");
  await libraries.getByText("1 load warning").waitFor();
  await libraries.getByText(/\d+ libraries/).click();
  await libraries.getByText(`scikit-learn ${sklearn}`, { exact: true }).waitFor();
  await screenshot(page.getByTestId("deployment-panel"), "34-libraries");
  t.diagnostic(`the load-warning step took ${((Date.now() - began) / 1000).toFixed(1)} s`);
});

step("a start past the project's quota is refused, with the quota's message as a banner", async () => {
  ids.refused = await scenario.createModel({ name: REFUSED, artifactFormat: "pickle", project: PROJECT });
  await uploadFromNode(ids.refused, join(OUT, "older-sklearn.pkl"));

  // The bars follow what runs: the first model's replica fills the bound of one.
  await page.goto(`${local.baseUrl}/#/projects/${PROJECT}`);
  await bar("maxReplicas").getByText("1 of 1 replica", { exact: true }).waitFor();
  assert.equal(await bar("maxReplicas").getAttribute("data-level"), "full");
  await bar("maxVcpu").getByText("0.25 of 1 vCPU").waitFor();
  await bar("maxModels").getByText("2 models in use · no limit").waitFor();
  await screenshot(page.getByTestId("quota-panel"), "28-quota");

  await page.goto(`${local.baseUrl}/#/models/${ids.refused}`);
  await page.waitForFunction(() => {
    const start = [...document.querySelectorAll(".page-header .actions button")].find((b) => b.textContent === "Start");
    return start && !start.hasAttribute("aria-disabled");
  });
  watch.allow(new RegExp(`/api/models/${ids.refused}/start$`), 409, "POST");
  const answered = page.waitForResponse((r) => r.url().endsWith(`/api/models/${ids.refused}/start`));
  await page.getByRole("button", { name: "Start", exact: true }).click();
  const answer = await answered;
  assert.equal(answer.status(), 409);
  assert.equal((await answer.json()).error.code, "quota_exceeded");
  const banner = page.getByTestId("quota-exceeded");
  await banner.getByText(`Refused by the quota of project ${PROJECT}.`).waitFor();
  assert.match(await banner.textContent(), /Project ml-team has a quota of 1 replicas?: 1 in use, 1 more asked, 0 left\./);
  assert.equal(await banner.getByRole("link", { name: "its quota" }).getAttribute("href"), `#/projects/${PROJECT}`);
  // Refused, not stale: nothing was started and the page did not reload as for a change made meanwhile.
  assert.equal(await page.locator('.title-row [data-status="STOPPED"]').count(), 1);
  await screenshot(page, "29-quota-refused");
});

step("metadata and a Markdown description from the form: shown on the page (a <script> as text) and on hover in the list", async () => {
  await page.goto(`${local.baseUrl}/#/models/${ids.refused}/edit`);
  await page.getByRole("heading", { level: 1, name: `Edit ${REFUSED}` }).waitFor();
  const description = [
    "Prices from **carat**, see [the notebook](https://example.com/notebook).",
    "",
    "- trained on 2024-05",
    '- <script>window.__kraken_pwned = 1</script> and <img src="x" onerror="window.__kraken_pwned = 2">',
  ].join("\n");
  await page.getByLabel("Description").fill(description);
  await page.getByRole("button", { name: "Add metadata" }).click();
  // A key is checked as it is typed, before any submit.
  await page.getByLabel("Metadata key 1").fill("bad key");
  await page.getByText("Start with a letter or digit; then use letters, digits and _ . : / - only.").waitFor();
  assert.equal(await page.getByLabel("Metadata key 1").getAttribute("aria-invalid"), "true");
  await page.getByLabel("Metadata key 1").fill("team");
  await page.getByLabel("Metadata value 1").fill("fraud");
  await page.getByRole("button", { name: "Add metadata" }).click();
  await page.getByLabel("Metadata key 2").fill("dataset");
  await page.getByLabel("Metadata value 2").fill("2024-05");
  assert.equal(await page.getByTestId("metadata-editor").locator("[aria-invalid='true']").count(), 0);
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { level: 1, name: REFUSED, exact: true }).waitFor();
  assert.deepEqual((await call("GET", `/models/${ids.refused}`)).body.metadata, { team: "fraud", dataset: "2024-05" });

  const shown = page.getByTestId("model-description");
  await shown.locator("strong", { hasText: "carat" }).waitFor();
  const link = shown.getByRole("link", { name: "the notebook" });
  assert.equal(await link.getAttribute("rel"), "noopener noreferrer");
  assert.equal(await link.getAttribute("target"), "_blank");
  // The HTML is text: no element, nothing run, nothing fetched.
  await shown.getByText('<script>window.__kraken_pwned = 1</script> and <img src="x" onerror="window.__kraken_pwned = 2">').waitFor();
  assert.equal(await shown.locator("script, img").count(), 0);
  assert.equal(await page.evaluate(() => window.__kraken_pwned), undefined);
  await page.getByTestId("model-metadata").getByText("team=fraud").waitFor();
  await page.getByTestId("model-metadata").getByText("dataset=2024-05").waitFor();
  await screenshot(page.locator("#info-title").locator(".."), "30-markdown-metadata");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Models" }).click();
  const trigger = rowOf(REFUSED).getByRole("button", { name: `Metadata of ${REFUSED}` });
  await trigger.getByText("2 tags").waitFor();
  assert.equal(
    await rowOf(WARNED)
      .getByRole("button", { name: `Metadata of ${WARNED}` })
      .count(),
    0,
  );
  await trigger.hover();
  const card = page.getByRole("tooltip");
  await card.getByText("team=fraud").waitFor();
  await card.getByText("dataset=2024-05").waitFor();
  await screenshot(page, "31-metadata-hover");
  await page.mouse.move(0, 0);
  await card.waitFor({ state: "hidden" });
});

step("the list filters by metadata key and value, and by 'Deployed by me'; a bad key is not sent", async () => {
  const listed = (test) => page.waitForResponse((r) => r.url().includes("/api/models?") && test(new URL(r.url()).searchParams));
  let sent = listed((q) => q.get("metadataKey") === "team" && !q.has("metadataValue"));
  await page.getByLabel("Metadata key").fill("team");
  await sent;
  await rowOf(WARNED).waitFor({ state: "detached" });
  await rowOf(REFUSED).waitFor();
  sent = listed((q) => q.get("metadataKey") === "team" && q.get("metadataValue") === "fraud");
  await page.getByLabel("Metadata value").fill("fraud");
  await sent;
  await rowOf(REFUSED).waitFor();
  await page.getByLabel("Metadata value").fill("payments");
  await page.getByText("No models match").waitFor();
  // A key the API would refuse is said and left out of the query (the list shows every model again).
  await page.getByLabel("Metadata key").fill("bad key");
  await page
    .getByTestId("filter-problem")
    .getByText(/^Metadata key: Start with a letter or digit/)
    .waitFor();
  await rowOf(WARNED).waitFor();
  await page.getByRole("button", { name: "Refresh the list" }).click();
  await rowOf(WARNED).waitFor();
  await page.getByLabel("Metadata key").fill("");
  await page.getByLabel("Metadata value").fill("");

  // The admin started the first model; the second's start was refused, so nobody deployed it.
  sent = listed((q) => q.get("deployedBy") === "admin");
  await page.getByLabel("Deployed by me").check();
  await sent;
  await rowOf(WARNED).waitFor();
  await rowOf(REFUSED).waitFor({ state: "detached" });
  await page.getByLabel("Deployed by me").uncheck();
  await rowOf(REFUSED).waitFor();
});

step("a new version takes notes and metadata, shown on its row", async () => {
  await page.goto(`${local.baseUrl}/#/models/${ids.warned}/versions`);
  await page.getByTestId("versions-panel").waitFor();
  await page.getByRole("button", { name: "New version" }).click();
  const dialog = page.getByRole("dialog", { name: "New version" });
  await dialog.getByLabel("Notes").fill("Refit on May's data");
  await dialog.getByRole("button", { name: "Add metadata" }).click();
  await dialog.getByLabel("Metadata key 1").fill("-stage");
  await dialog.getByText("Start with a letter or digit; then use letters, digits and _ . : / - only.").waitFor();
  await dialog.getByLabel("Metadata key 1").fill("stage");
  await dialog.getByLabel("Metadata value 1").fill("candidate");
  await dialog.getByRole("button", { name: "Create version" }).click();
  const upload = page.getByRole("dialog", { name: "Upload the file of version 2" });
  await upload.waitFor();
  await upload.getByRole("button", { name: "Close" }).click();
  const row = page.locator('tr[data-version="2"]');
  await row.getByText("Refit on May's data").waitFor();
  await row.getByTestId("version-metadata-2").getByText("stage=candidate").waitFor();
  const versions = await call("GET", `/models/${ids.warned}/versions`);
  assert.deepEqual(versions.body.items.find((v) => v.number === 2).metadata, { stage: "candidate" });
});

step("an image model's registry credentials are saved (never shown again), then cleared", async () => {
  ids.image = await scenario.createModel({ name: IMAGE, dockerImage: "registry.example.com/team/iris:1.0" });
  await page.goto(`${local.baseUrl}/#/models/${ids.image}`);
  const panel = page.getByTestId("registry-panel");
  await panel.getByTestId("private-registry").getByText("none").waitFor();
  await panel.getByRole("button", { name: "Save credentials" }).click();
  await panel.getByText("Enter the registry's user name.").waitFor();
  await panel.getByLabel("Registry user name").fill("robot$pull");
  const secret = `pw-${SUFFIX}-Zq9`;
  await panel.getByLabel("Registry password").fill(secret);
  assert.equal(await panel.getByLabel("Registry password").getAttribute("type"), "password");
  const saved = page.waitForResponse((r) => r.url().endsWith(`/api/models/${ids.image}/registry-credentials`));
  await panel.getByRole("button", { name: "Save credentials" }).click();
  const answer = await saved;
  assert.ok(!(await answer.text()).includes(secret), "the API answered with the password");
  await panel.getByTestId("private-registry").getByText("credentials stored").waitFor();
  assert.equal(await panel.getByLabel("Registry password").inputValue(), "");
  assert.equal(await panel.getByLabel("Registry user name").inputValue(), "");
  const stored = await call("GET", `/models/${ids.image}`);
  assert.equal(stored.body.privateRegistry, true);
  assert.ok(!JSON.stringify(stored.body).includes(secret));
  for (const dismiss of await page.getByRole("button", { name: "Dismiss" }).all()) await dismiss.click({ timeout: 1000 }).catch(() => {});
  await screenshot(panel, "32-registry-credentials");

  await panel.getByRole("button", { name: "Remove credentials" }).click();
  const confirm = page.getByRole("dialog", { name: `Remove the registry credentials of ${IMAGE}?` });
  await confirm.getByRole("button", { name: "Remove credentials" }).click();
  await confirm.waitFor({ state: "hidden" });
  await panel.getByTestId("private-registry").getByText("none").waitFor();
  assert.equal((await call("GET", `/models/${ids.image}`)).body.privateRegistry, false);
});

/** A person in no stage group, with a password of their own (as console.test.mjs makes one, with the operator's keys). */
function createGrouplessUser(username, password) {
  const { accessKeyId, secretAccessKey } = JSON.parse(readFileSync(local.operatorCredentials, "utf8"));
  const script = [
    "import sys, boto3",
    "endpoint, region, pool, user, password = sys.argv[1:]",
    "c = boto3.client('cognito-idp', endpoint_url=endpoint, region_name=region)",
    "c.admin_create_user(UserPoolId=pool, Username=user, MessageAction='SUPPRESS')",
    "c.admin_set_user_password(UserPoolId=pool, Username=user, Password=password, Permanent=True)",
  ].join("\n");
  execFileSync(
    join(REPO, ".venv", "bin", "python"),
    ["-c", script, auth.cognitoEndpoint, auth.region, auth.userPoolId, username, password],
    { stdio: "inherit", env: { ...process.env, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } },
  );
}

step("a project's own admin reads its quota and may not delete it: both are the stage admins'", async () => {
  const lead = `lead-${SUFFIX}`;
  const password = strongPassword();
  createGrouplessUser(lead, password);
  assert.equal((await call("PUT", `/projects/${PROJECT}/members/${lead}`, { role: "admin" })).status, 200);

  const lpage = await browser.context.newPage();
  lpage.setDefaultTimeout(15_000);
  const lwatch = watchPage(lpage);
  try {
    await lpage.goto(`${local.baseUrl}/#/projects/${PROJECT}`);
    await lpage.getByLabel("Username").fill(lead);
    await lpage.getByLabel("Password").fill(password);
    await lpage.getByLabel("Password").press("Enter");
    await lpage.getByRole("heading", { level: 1, name: PROJECT }).waitFor();
    // They manage the members, and see the quota with its bars, read-only.
    await lpage.getByRole("button", { name: "Add member" }).waitFor();
    await lpage.getByTestId("quota-maxReplicas").getByText("1 of 1 replica", { exact: true }).waitFor();
    await lpage
      .getByTestId("quota-read-only")
      .getByText(`You have the admin role in project ${PROJECT}: only the stage's admins can change a project's quota.`)
      .waitFor();
    assert.equal(await lpage.getByRole("button", { name: "Edit quota" }).count(), 0);

    await lpage.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Projects" }).click();
    const remove = lpage.locator(`tr[data-project-name="${PROJECT}"]`).getByRole("button", { name: "Delete" });
    const reason = `You have the admin role in project ${PROJECT}: only the stage's admins can delete projects.`;
    await lpage.locator(`tr[data-project-name="${PROJECT}"] button[title="${reason}"]`).waitFor();
    assert.equal(await remove.getAttribute("aria-disabled"), "true");

    // The API says the same.
    const token = await lpage.evaluate(() => JSON.parse(sessionStorage.getItem("kraken.session")).accessToken);
    const as = { Authorization: `Bearer ${token}` };
    assert.equal((await api(local.baseUrl, "PUT", `/projects/${PROJECT}/quota`, { maxReplicas: 10 }, as)).status, 403);
    assert.equal((await api(local.baseUrl, "DELETE", `/projects/${PROJECT}`, undefined, as)).status, 403);
    assert.deepEqual(lwatch.consoleErrors, []);
    assert.deepEqual(lwatch.failedResponses, []);
  } finally {
    await lpage.close();
  }
  // The stage admin's Delete is offered (the project still has models, so it is not tried here).
  await page.goto(`${local.baseUrl}/#/projects`);
  assert.equal(await page.getByRole("button", { name: `Delete ${PROJECT}` }).getAttribute("aria-disabled"), null);
});

step("no console errors and no unexpected HTTP failures", () => {
  assert.deepEqual(watch.consoleErrors, []);
  assert.deepEqual(watch.failedResponses, []);
});
