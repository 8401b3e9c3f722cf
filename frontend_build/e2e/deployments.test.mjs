/**
 * Versions and deployments in a real browser against local mode: a model with version 1 uploaded
 * and running; version 2 created and its file uploaded from the Versions tab; the Deploy dialog
 * refusing weights that do not add up to 100, then sending 90/10; both versions in the status per
 * version; v2 promoted to 100%; and a rollback to the 90/10 entry from History, after which the
 * deployment shown (and the API's) is 90/10 again.
 */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { OUT, REPO, api, openScenario, screenshot, stepWithScreenshot, strongPassword } from "./harness.mjs";

const NAME = `iris-deploy-${Date.now().toString(36)}`;
const ADMIN_PASSWORD = strongPassword();
const SWITCH_MS = 120_000;

let scenario;
let local;
let browser;
let page;
let watch;
let modelId;
let authHeaders = {};

const call = (method, path, body, headers = {}) => api(local.baseUrl, method, path, body, { ...authHeaders, ...headers });

before(async () => {
  // Compressed time for the idle stop's step: one idle "minute" is two seconds, the reconciler runs every two.
  scenario = await openScenario({
    KRAKEN_ADMIN_PASSWORD: ADMIN_PASSWORD,
    KRAKEN_IDLE_MINUTE_SECONDS: "2",
    KRAKEN_RECONCILE_SECONDS: "2",
  });
  ({ local, authHeaders, browser, page, watch } = scenario);
});

after(async () => {
  await scenario?.stop();
});

/** Saves a small scikit-learn iris classifier (joblib) made by `estimator` under e2e/.out. */
function train(fileName, estimator) {
  mkdirSync(OUT, { recursive: true });
  const path = join(OUT, fileName);
  const script = [
    "import sys, joblib",
    "from sklearn.datasets import load_iris",
    "from sklearn.linear_model import LogisticRegression",
    "from sklearn.tree import DecisionTreeClassifier",
    "X, y = load_iris(return_X_y=True)",
    `joblib.dump(${estimator}.fit(X, y), sys.argv[1])`,
  ].join("\n");
  execFileSync(join(REPO, ".venv", "bin", "python"), ["-c", script, path], { stdio: "inherit" });
  return path;
}

const step = stepWithScreenshot("deploy-", () => page);

const panel = () => page.getByTestId("deployment-panel");
const cell = (id) => panel().getByTestId(id);

/** Waits until the status per version shows these target and serving weights (and nothing else is a target). */
async function waitForDeployment(expected, timeout = SWITCH_MS) {
  const want = Object.entries(expected).map(([v, w]) => `v${v}:${w}%/${w}%`);
  const deadline = Date.now() + timeout;
  let seen = "";
  for (;;) {
    seen = await panel()
      .locator("tr[data-deployed-version]")
      .evaluateAll((rows) =>
        rows
          .map((r) => {
            const v = r.getAttribute("data-deployed-version");
            const target = r.querySelector(`[data-testid="target-weight-${v}"]`)?.textContent ?? "";
            const serving = r.querySelector(`[data-testid="serving-weight-${v}"]`)?.textContent ?? "";
            return { v, target: target.match(/^\d+%/)?.[0] ?? target, serving };
          })
          .filter((r) => r.target !== "0%" || r.serving !== "0%")
          .map((r) => `v${r.v}:${r.target}/${r.serving}`),
      );
    if (JSON.stringify([...seen].sort()) === JSON.stringify([...want].sort())) return;
    assert.ok(Date.now() < deadline, `the deployment shown is ${JSON.stringify(seen)}, not ${JSON.stringify(want)}`);
    await page.waitForTimeout(1000);
  }
}

/** A prediction pinned to a version from Node: the version that answered. */
async function predictPinned(version) {
  const res = await fetch(`${local.baseUrl}/api/predict`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders },
    body: JSON.stringify({ modelData: [[5.1, 3.5, 1.4, 0.2]], metaData: { modelId, version } }),
  });
  await res.text();
  assert.equal(res.status, 200, `a prediction pinned to v${version} answered ${res.status}`);
  return res.headers.get("X-Model-Version");
}

step("sign in, create a model, upload version 1 and start it", async () => {
  await scenario.signIn();

  modelId = await scenario.createModel({ name: NAME, version: "1.0", artifactFormat: "joblib" });

  await page.goto(`${local.baseUrl}/#/models/${modelId}`);
  await page.getByText("No file uploaded yet").waitFor();
  await page.setInputFiles("#artifact-file", train("iris-v1.joblib", "LogisticRegression(max_iter=500)"));
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await page.getByText(/^Uploaded iris-v1\.joblib/).waitFor();
  await page.waitForFunction(() => {
    const start = [...document.querySelectorAll(".page-header .actions button")].find((b) => b.textContent === "Start");
    return start && !start.hasAttribute("aria-disabled");
  });
  await page.getByRole("button", { name: "Start", exact: true }).click();
  await page.locator('.title-row [data-status="RUNNING"]').waitFor({ timeout: SWITCH_MS });
  await waitForDeployment({ 1: 100 });
  assert.equal(await cell("replicas-1").textContent(), "1 / 1");
  // 0.25 vCPU and 0.5 GB at us-east-1's list prices: 0.25 x 0.04048 + 0.5 x 0.004445 = $0.0123/hour.
  await page
    .getByTestId("cost")
    .getByText(/^\$0\.0123\/hour while running .* this month · \$[0-9.]+ per 1,000 predictions/)
    .waitFor();
});

step("create version 2 in the Versions tab and upload its file with progress", async () => {
  await page.getByRole("tab", { name: "Versions" }).click();
  await page.getByTestId("versions-panel").waitFor();
  await page.locator('tr[data-version="1"]').getByText("serving").waitFor();
  // Version 1 serves: it cannot be deleted, and the button says why.
  const del1 = page.locator('tr[data-version="1"]').getByRole("button", { name: "Delete" });
  assert.equal(await del1.getAttribute("aria-disabled"), "true");
  assert.match(await del1.getAttribute("title"), /in the deployment/);

  await page.getByRole("button", { name: "New version" }).click();
  const dialog = page.getByRole("dialog", { name: "New version" });
  await dialog.getByLabel("Notes").fill("A decision tree, to compare");
  await dialog.getByRole("button", { name: "Create version" }).click();
  const upload = page.getByRole("dialog", { name: "Upload the file of version 2" });
  await upload.waitFor();
  await upload.locator('input[type="file"]').setInputFiles(train("iris-v2.joblib", "DecisionTreeClassifier(max_depth=3, random_state=0)"));
  await upload.getByRole("button", { name: "Upload", exact: true }).click();
  await page.getByText(/^Uploaded iris-v2\.joblib/).waitFor();
  await upload.waitFor({ state: "hidden" });

  const row2 = page.locator('tr[data-version="2"]');
  await row2.getByText("A decision tree, to compare").waitFor();
  // The file's size and the start of its sha256 show once the upload is recorded.
  await row2.locator("code[title^='sha256 ']").waitFor({ timeout: 30_000 });
  const versions = await call("GET", `/models/${modelId}/versions`);
  assert.deepEqual(
    versions.body.items.map((v) => v.number),
    [2, 1],
  );
  assert.ok(versions.body.items[0].artifact?.sha256, "version 2 has no sha256");
  assert.notEqual(versions.body.items[0].artifact.sha256, versions.body.items[1].artifact.sha256);
  await screenshot(page.locator(".tabs"), "19-versions");
});

step("the Deploy dialog needs weights adding up to 100, then sends 90/10", async () => {
  await panel().getByRole("button", { name: "Deploy…" }).click();
  const dialog = page.getByRole("dialog", { name: `Deploy ${NAME}` });
  await dialog.waitFor();
  const deploy = dialog.getByRole("button", { name: "Deploy", exact: true });
  assert.equal(await dialog.getByTestId("weight-sum").textContent(), "100%");

  await dialog.getByLabel("Weight of version 1").fill("90");
  assert.equal(await dialog.getByTestId("weight-sum").textContent(), "90%");
  assert.equal(await deploy.isDisabled(), true);
  assert.match(await dialog.getByTestId("deploy-problem").textContent(), /add up to 90; they must add up to 100/);

  await dialog.getByLabel("Deploy version 2").check();
  await dialog.getByLabel("Weight of version 2").fill("15");
  assert.equal(await dialog.getByTestId("weight-sum").textContent(), "105%");
  assert.equal(await deploy.isDisabled(), true);
  await dialog.getByLabel("Weight of version 2").fill("10");
  assert.equal(await dialog.getByTestId("weight-sum").textContent(), "100%");
  assert.equal(await deploy.isDisabled(), false);
  await dialog.getByLabel("Update message").fill("Try v2 on 10%");
  await screenshot(dialog, "20-deploy-dialog");
  await deploy.click();
  await dialog.waitFor({ state: "hidden" });

  // Both versions in the status per version; v2 gets its 10% once its replica is healthy.
  await waitForDeployment({ 1: 90, 2: 10 });
  assert.equal(await cell("replicas-2").textContent(), "1 / 1");
  assert.equal(await predictPinned(2), "2");
  assert.equal(await predictPinned(1), "1");
  await screenshot(panel(), "21-deployment-status");
});

step("promote version 2 to 100% from the status per version", async () => {
  await panel().getByRole("button", { name: "Promote version 2 to 100%" }).click();
  const dialog = page.getByRole("dialog", { name: `Deploy ${NAME}` });
  await dialog.waitFor();
  assert.equal(await dialog.getByLabel("Weight of version 2").inputValue(), "100");
  assert.equal(await dialog.getByLabel("Deploy version 1").isChecked(), false);
  assert.equal(await dialog.getByLabel("Update message").inputValue(), "Promote version 2 to 100%");
  await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
  await dialog.waitFor({ state: "hidden" });
  await waitForDeployment({ 2: 100 });
  const model = await call("GET", `/models/${modelId}`);
  assert.deepEqual(
    model.body.deployment.filter((d) => d.weight > 0).map((d) => [d.version, d.weight]),
    [[2, 100]],
  );
});

step("roll back to the 90/10 entry from History; the deployment shown is 90/10 again", async () => {
  await page.getByRole("tab", { name: "History" }).click();
  const history = page.getByTestId("history-panel");
  const entry = history.locator("tr", { hasText: "Try v2 on 10%" });
  await entry.waitFor();
  await entry.getByText("v2 added: 10%").waitFor();
  await entry.getByText("v1 weight 100% → 90%").waitFor();
  // The newest entry (the promotion) is what runs now: it cannot be rolled back to.
  const newest = history.locator("tbody tr").first();
  await newest.getByText("Promote version 2 to 100%").waitFor();
  assert.equal(await newest.getByRole("button", { name: "Roll back to this" }).getAttribute("aria-disabled"), "true");
  await screenshot(page.locator(".tabs"), "22-history");

  await entry.getByRole("button", { name: /Roll back to the entry of/ }).click();
  const confirm = page.getByRole("dialog", { name: "Roll back?" });
  await confirm.getByText("v1 90% (1×), v2 10% (1×)").waitFor();
  await confirm.getByLabel("Update message").fill("Back to 90/10");
  await confirm.getByRole("button", { name: "Roll back" }).click();
  await confirm.waitFor({ state: "hidden" });

  await waitForDeployment({ 1: 90, 2: 10 });
  await history.locator("tbody tr").first().getByText("Back to 90/10").waitFor();
  await history.locator("tbody tr").first().getByText("rollback", { exact: true }).waitFor();
  const model = await call("GET", `/models/${modelId}`);
  const shown = model.body.deployment.filter((d) => d.weight > 0).map((d) => [d.version, d.weight, d.servingWeight, d.replicas]);
  assert.deepEqual(
    shown.sort((a, b) => a[0] - b[0]),
    [
      [1, 90, 90, 1],
      [2, 10, 10, 1],
    ],
  );
});

step("autoscale version 1 between 1 and 3 replicas from the Deploy dialog", async () => {
  await panel().getByRole("button", { name: "Deploy…" }).click();
  const dialog = page.getByRole("dialog", { name: `Deploy ${NAME}` });
  await dialog.waitFor();
  await dialog.getByLabel("Autoscale version 1").check();
  await dialog.getByLabel("Maximum replicas of version 1").fill("3");
  const deploy = dialog.getByRole("button", { name: "Deploy", exact: true });
  // Bounds without a target cannot be sent; the row says what is missing.
  assert.equal(await deploy.isDisabled(), true);
  await dialog.getByText("Give a target: CPU % and/or requests per second per replica.").waitFor();
  await dialog.getByLabel("Request target of version 1").fill("50");
  await dialog.getByLabel("Update message").fill("Autoscale v1");
  assert.equal(await deploy.isDisabled(), false);
  await deploy.click();
  await dialog.waitFor({ state: "hidden" });
  await page.getByTestId("replicas-1").getByText("1 / 1–3 (autoscaled)").waitFor({ timeout: SWITCH_MS });
  const model = await call("GET", `/models/${modelId}`);
  const v1 = model.body.deployment.find((d) => d.version === 1);
  assert.deepEqual(v1.autoscaling, { minReplicas: 1, maxReplicas: 3, targetCpuPercent: null, targetRequestsPerReplica: 50 });
});

step("an idle stop set in the form rests the model IDLE; the next request wakes it", async () => {
  await page.goto(`${local.baseUrl}/#/models/${modelId}/edit`);
  await page.getByRole("heading", { level: 1, name: `Edit ${NAME}` }).waitFor();
  await page.getByLabel("Idle stop (minutes)").fill("0");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("Enter whole minutes from 1 to 10080").waitFor();
  await page.getByLabel("Idle stop (minutes)").fill("1");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { level: 1, name: NAME }).waitFor();
  await page.getByTestId("idle-stop").getByText("after 1 min without a request").waitFor();

  // No request for the idle time: the reconciler stops it; Refresh shows the resting model.
  const deadline = Date.now() + 60_000;
  while ((await call("GET", `/models/${modelId}`)).body.status !== "IDLE") {
    assert.ok(Date.now() < deadline, "the model did not become IDLE");
    await new Promise((r) => setTimeout(r, 500));
  }
  await page.getByRole("button", { name: "Refresh" }).click();
  await page.locator('.title-row [data-status="IDLE"]').waitFor();
  await page.getByText(/The model is idle: the next request wakes it/).waitFor();
  await page
    .getByTestId("idle-stop")
    .getByText(/idle since/)
    .waitFor();
  await screenshot(page.locator(".page-header"), "23-idle");

  // The next request is held while the model wakes (two versions in containers here), then answered;
  // a wake longer than the hold answers 503 with Retry-After, which a client honours.
  const wakeDeadline = Date.now() + 120_000;
  for (;;) {
    const woken = await fetch(`${local.baseUrl}/api/predict`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders },
      body: JSON.stringify({ modelData: [[5.1, 3.5, 1.4, 0.2]], metaData: { modelId } }),
    });
    const answer = await woken.text();
    if (woken.status === 200) {
      assert.ok(["1", "2"].includes(woken.headers.get("X-Model-Version")));
      break;
    }
    assert.equal(woken.status, 503, `the waking request answered ${woken.status}: ${answer}`);
    assert.equal(JSON.parse(answer).error.code, "model_waking");
    assert.equal(woken.headers.get("Retry-After"), "5");
    assert.ok(Date.now() < wakeDeadline, "the model did not wake");
    await new Promise((r) => setTimeout(r, 5_000));
  }
  await page.getByRole("button", { name: "Refresh" }).click();
  await page.locator('.title-row [data-status="RUNNING"]').waitFor();
});

step("no console errors and no unexpected HTTP failures", () => {
  assert.deepEqual(watch.consoleErrors, []);
  assert.deepEqual(watch.failedResponses, []);
});
