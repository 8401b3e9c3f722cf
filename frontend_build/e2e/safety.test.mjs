/**
 * Safe rollouts in a real browser against local mode (the reconciler every second): a Python model serving
 * version 1 answers predictions; on the Replays tab that captured traffic is replayed against a version 2 whose
 * answers differ on every fifth request, and the diff view shows the match count and the differing answers side
 * by side; on the Rollout tab a canary plan for a version 3 that fails every third request rolls itself back
 * while callers keep predicting: the banner, the Rollout tab and the History tab say so with the 5xx rate, and no
 * caller's request went unanswered (the only failures are the candidate's own 500s before the rollback).
 */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { api, openScenario, screenshot, stepWithScreenshot, strongPassword } from "./harness.mjs";

const NAME = `doubler-${Date.now().toString(36)}`;
const ADMIN_PASSWORD = strongPassword();
const START_MS = 90_000;
const CAPTURED = 40;

// Python-format models: predict(model_data, meta_data) for rows like {"x": 7}. Version 1 doubles x.
const DOUBLE = `import time
def predict(model_data, meta_data):
    time.sleep(0.01)
    return [row["x"] * 2 for row in model_data]
`;
// Version 2 is off by one on every x that is a multiple of 5: 8 of the 40 captured requests differ.
const OFF_BY_ONE = `import time
def predict(model_data, meta_data):
    time.sleep(0.01)
    return [row["x"] * 2 + (1 if row["x"] % 5 == 0 else 0) for row in model_data]
`;
// Version 3 answers as version 1 but raises on every third call: a 500 from the runner.
const BROKEN = `import itertools, time
_calls = itertools.count(1)
def predict(model_data, meta_data):
    time.sleep(0.01)
    if next(_calls) % 3 == 0:
        raise RuntimeError("broken candidate")
    return [row["x"] * 2 for row in model_data]
`;

let scenario;
let local;
let page;
let watch;
let modelId;
let authHeaders = {};
let callers;

const call = (method, path, body, headers = {}) => api(local.baseUrl, method, path, body, { ...authHeaders, ...headers });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  scenario = await openScenario({ KRAKEN_ADMIN_PASSWORD: ADMIN_PASSWORD, KRAKEN_RECONCILE_SECONDS: "1" });
  ({ local, authHeaders, page, watch } = scenario);
});

after(async () => {
  await callers?.stop();
  await scenario?.stop();
});

const step = stepWithScreenshot("safety-", () => page);

/** Uploads a Python model's source through a presigned ticket (the model's own or a version's). */
const uploadSource = (ticketPath, source) => scenario.upload(ticketPath, source, "model.py");

/**
 * A new version with its source (made from Node, as a CI job would), then seen in the Versions tab: Refresh until
 * its file is recorded (its sha256 shows), so the page knows it before a form offers it.
 */
async function newVersion(source, notes) {
  const created = await call("POST", `/models/${modelId}/versions`, { notes });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const number = created.body.number;
  await uploadSource(`/models/${modelId}/versions/${number}/artifact`, source);
  await page.getByRole("tab", { name: "Versions" }).click();
  const recorded = page.locator(`tr[data-version="${number}"] code[title^='sha256 ']`);
  await waitFor(
    `version ${number}'s file in the Versions tab`,
    async () => {
      await page.getByRole("button", { name: "Refresh" }).click();
      return (await recorded.count()) > 0;
    },
    30_000,
  );
  await page.locator(`tr[data-version="${number}"]`).getByText(notes).waitFor();
  return number;
}

/** One prediction from Node, as a program calling the model would: its status, the version that answered, the body. */
async function predict(x) {
  const res = await fetch(`${local.baseUrl}/api/models/${modelId}/predict`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders },
    body: JSON.stringify({ modelData: [{ x }], metaData: { modelId } }),
  });
  const text = await res.text();
  return { at: Date.now(), x, status: res.status, version: res.headers.get("X-Model-Version"), text };
}

/** Callers predicting the whole time (two at once); every answer is kept, a request that got none as status 0. */
function startCallers(count = 2) {
  const answers = [];
  let running = true;
  let x = 1000;
  const loops = Array.from({ length: count }, async () => {
    while (running) {
      const mine = x++;
      try {
        answers.push(await predict(mine));
      } catch (err) {
        answers.push({ at: Date.now(), x: mine, status: 0, version: null, text: String(err) });
      }
    }
  });
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function waitFor(what, condition, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    assert.ok(Date.now() < deadline, `${what} did not happen within ${timeoutMs} ms`);
    await sleep(500);
  }
}

const tally = (answers) => {
  const counts = {};
  for (const a of answers) counts[`${a.status} v${a.version}`] = (counts[`${a.status} v${a.version}`] ?? 0) + 1;
  return counts;
};

step(`sign in; a Python model serving version 1 answers ${CAPTURED} predictions, which its history captures`, async (t) => {
  const began = Date.now();
  await scenario.signIn();

  modelId = await scenario.createModel({ name: NAME, artifactFormat: "python" });
  await uploadSource(`/models/${modelId}/artifact`, DOUBLE);
  assert.equal((await call("POST", `/models/${modelId}/start`, {})).status, 202);
  await page.goto(`${local.baseUrl}/#/models/${modelId}`);
  await page.locator('.title-row [data-status="RUNNING"]').waitFor({ timeout: START_MS });

  for (let x = 0; x < CAPTURED; x++) {
    const answer = await predict(x);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.version, "1");
    assert.deepEqual(JSON.parse(answer.text).results, [2 * x]);
  }
  await newVersion(OFF_BY_ONE, "Off by one on multiples of five");
  await waitFor(
    `${CAPTURED} requests in the history`,
    async () => (await call("GET", `/models/${modelId}/requests?limit=200`)).body.items.length >= CAPTURED,
    30_000,
  );
  t.diagnostic(`set-up took ${((Date.now() - began) / 1000).toFixed(1)} s`);
});

step("on the Replays tab, replay that traffic against version 2 and read the differences side by side", async (t) => {
  const began = Date.now();
  await page.getByRole("tab", { name: "Replays" }).click();
  const panel = page.getByTestId("replays-panel");
  await panel.getByText("No replays yet").waitFor();
  await panel.getByRole("button", { name: "New replay" }).click();
  const form = page.getByTestId("replay-form");
  // The newest version that does not serve is the likely candidate; 2xx answers of the last 24 hours by default.
  assert.equal(await form.getByLabel("Candidate version").inputValue(), "2");
  assert.equal(await form.getByLabel("Requests of").inputValue(), "24h");
  assert.equal(await form.getByLabel("With status").inputValue(), "2xx");
  await form.getByLabel("Rate (requests per second)").fill("0");
  await form.getByRole("button", { name: "Start replay" }).click();
  await form.getByText("1 to 100 requests per second.").waitFor();
  await form.getByLabel("Rate (requests per second)").fill("50");
  await form.getByRole("button", { name: "Start replay" }).click();
  await form.waitFor({ state: "hidden" });

  // The diff view opens on the new replay and follows it until it ends.
  const diff = page.getByTestId("replay-diff");
  await diff.getByRole("heading", { name: "Replay to v2" }).waitFor();
  await diff.locator('[data-replay-status="SUCCEEDED"]').waitFor({ timeout: START_MS });
  const summary = diff.getByTestId("replay-summary");
  assert.equal(await summary.getByTestId("match-rate").textContent(), "80%");
  assert.equal(await summary.getByTestId("count-matched").textContent(), "32");
  assert.equal(await summary.getByTestId("count-differed").textContent(), "8");
  assert.equal(await summary.getByTestId("count-errored").textContent(), "0");
  await diff.getByText(`${CAPTURED} / ${CAPTURED}`).waitFor();
  await summary
    .getByTestId("candidate-latency")
    .getByText(/^v2 [\d.]+ ms \/ [\d.]+ ms$/)
    .waitFor();

  // The largest difference is open: the request and both answers side by side, the differing value marked.
  const first = diff.getByTestId("largest-differences").locator("li").first();
  await first.getByText("$.results[0]").waitFor();
  const [request, serving, candidate] = await first.locator("figure").all();
  const x = Number((await request.locator(".json-line").allTextContents()).join("").match(/"x": (\d+)/)?.[1]);
  assert.equal(x % 5, 0, `the differing request's x is ${x}`);
  assert.equal((await serving.locator(".json-marked").textContent()).trim(), String(2 * x));
  assert.equal((await candidate.locator(".json-marked").textContent()).trim(), String(2 * x + 1));
  await serving.getByText("200", { exact: true }).waitFor();
  await candidate.getByText("Candidate v2").waitFor();
  const boxes = await Promise.all([request, serving, candidate].map((f) => f.boundingBox()));
  assert.ok(
    boxes[0].x < boxes[1].x && boxes[1].x < boxes[2].x && Math.abs(boxes[0].y - boxes[2].y) < 2,
    `the request and both answers are side by side: ${JSON.stringify(boxes)}`,
  );
  assert.equal(await diff.getByTestId("largest-differences").locator("li").count(), 8);

  // The list says the same, and no caller ever got version 2's answers.
  const row = panel.getByTestId("replays-table").locator("tbody tr").first();
  await row.locator('[data-replay-status="SUCCEEDED"]').waitFor();
  await row.getByText("80%").waitFor();
  await screenshot(page.locator(".tabs"), "35-replay-diff");
  const history = await call("GET", `/models/${modelId}/requests?limit=200`);
  assert.deepEqual([...new Set(history.body.items.map((line) => line.modelVersion))], ["1"]);
  t.diagnostic(`the replay step took ${((Date.now() - began) / 1000).toFixed(1)} s`);
});

let rolledBackAt;

step("on the Rollout tab, a canary of a broken version 3 rolls itself back while callers keep predicting", async (t) => {
  const began = Date.now();
  await newVersion(BROKEN, "Fails every third request");
  const before = await call("GET", `/models/${modelId}`);
  t.diagnostic(
    `deployment before the rollout: ${JSON.stringify(before.body.deployment.map((d) => [d.version, d.weight, d.status, d.leaving]))}`,
  );
  await page.getByRole("tab", { name: "Rollout" }).click();
  const panel = page.getByTestId("rollout-panel");
  await panel.getByText("No rollout yet").waitFor();
  await panel.getByRole("button", { name: "New rollout" }).click();
  const form = page.getByTestId("rollout-form");
  assert.equal(await form.getByLabel("Candidate version").inputValue(), "3");
  await form.getByLabel("Steps (% of traffic)").fill("20, 50, 10");
  await form.getByRole("button", { name: "Start rollout" }).click();
  await form.getByText("Each step must give the candidate more than the one before.").waitFor();
  await form.getByLabel("Steps (% of traffic)").fill("20, 50, 100");
  await form.getByLabel("Bake time per step (seconds)").fill("5");
  await form.getByLabel("Judge on at least (requests)").fill("10");
  await form.getByLabel("Message").fill("Canary of v3");

  await form.getByRole("button", { name: "Start rollout" }).click();
  await form.waitFor({ state: "hidden" });
  const banner = page.getByTestId("rollout-banner");
  await banner.getByText(/^Rolling out v3: step 1 of 3 \(20%\)/).waitFor();
  await panel.locator('[data-rollout-status="RUNNING"]').waitFor();
  await panel.locator('li[data-step-state="current"]', { hasText: "20%" }).waitFor();
  // The bake runs once version 3's replica is healthy and serves its 20%. With no traffic yet it cannot end (the
  // step needs 10 requests to be judged either way), so the running bake is seen for sure: with callers from the
  // start, the broken candidate was rolled back between two of the page's polls in one CI run.
  await panel
    .getByTestId("bake")
    .getByText(/^20% baked \d+ s of 5 s/)
    .waitFor({ timeout: START_MS });
  await screenshot(page.locator(".tabs"), "36-rollout-running");
  callers = startCallers();

  await panel.locator('[data-rollout-status="ROLLED_BACK"]').waitFor({ timeout: START_MS });
  rolledBackAt = Date.now();
  const reason = await panel.getByTestId("rollout-reason").textContent();
  assert.match(reason, /^rolled back at step 1 \(20%\): 5xx rate [\d.]+% > 1(\.0)?% over \d+ requests/);
  await banner.getByText(/^The rollout of v3 was rolled back to v1: rolled back at step 1 \(20%\): 5xx rate/).waitFor();
  assert.equal(await banner.getAttribute("role"), "alert");
  await panel.locator('li[data-step-state="failed"]', { hasText: "20%" }).waitFor();
  assert.equal(await panel.locator('li[data-step-state="pending"]').count(), 2);
  const decision = panel.getByTestId("decisions-table").locator("tbody tr").first();
  assert.equal(await decision.getAttribute("data-verdict"), "rollback");
  await decision.getByText("system:rollout").waitFor();
  const candidate5xx = Number((await decision.locator('td[data-label="5xx"]').textContent()).match(/^([\d.]+)%/)?.[1]);
  assert.ok(candidate5xx > 1, `the candidate's 5xx rate shown is ${candidate5xx}%`);
  assert.equal(await panel.getByTestId("rollout-actions").getByRole("button").count(), 0, "an ended rollout has no actions");

  // Callers go on for a while after the rollback, then the answers are judged.
  await sleep(4000);
  await callers.stop();
  const answers = callers.answers;
  const counts = tally(answers);
  t.diagnostic(`answers during the rollout: ${JSON.stringify(counts)}`);
  assert.deepEqual(
    answers.filter((a) => a.status === 0),
    [],
    "every request got an answer",
  );
  const failures = answers.filter((a) => a.status !== 200);
  assert.ok(failures.length > 0, "the broken candidate served some requests");
  assert.deepEqual(
    failures.filter((a) => !(a.status === 500 && a.version === "3")),
    [],
    "the only failures are the candidate's own 500s",
  );
  assert.ok(
    answers.some((a) => a.status === 200 && a.version === "3"),
    "the candidate served its share",
  );
  // Once the rollback has switched (the baseline kept running), version 1 answers everything.
  const after = answers.filter((a) => a.at > rolledBackAt + 1500);
  assert.ok(after.length > 10, `only ${after.length} answers after the rollback`);
  assert.deepEqual(tally(after), { "200 v1": after.length });
  await screenshot(page.locator("main"), "37-rollout-rolled-back");
  t.diagnostic(`the rollout step took ${((Date.now() - began) / 1000).toFixed(1)} s`);
});

step("the History tab shows the rollout's start and its rollback with the reason; version 1 serves alone", async (t) => {
  await page.getByRole("tab", { name: "History" }).click();
  const history = page.getByTestId("history-panel");
  const rollback = history.locator("tbody tr").first();
  await rollback.getByText("rollout-rollback", { exact: true }).waitFor();
  await rollback.getByText("system:rollout").waitFor();
  await rollback.getByText(/^rolled back at step 1 \(20%\): 5xx rate/).waitFor();
  // Against the entry before it (the rollout's start at 20%): the candidate leaves, version 1 takes all again.
  await rollback.getByText("v3 removed (was 20%)").waitFor();
  await rollback.getByText("v1 weight 80% → 100%").waitFor();
  const start = history.locator("tbody tr", { hasText: "rollout of version 3 over 20%, 50%, 100% started" });
  await start.getByText("rollout", { exact: true }).waitFor();
  await start.getByText("admin", { exact: true }).waitFor();
  await screenshot(page.locator(".tabs"), "38-history-rollback");

  const model = await call("GET", `/models/${modelId}`);
  t.diagnostic(
    `deployment after the rollback: ${JSON.stringify(model.body.deployment.map((d) => [d.version, d.weight, d.status, d.leaving]))}`,
  );
  assert.deepEqual(
    model.body.deployment.filter((d) => !d.leaving && d.weight > 0).map((d) => [d.version, d.weight]),
    [[1, 100]],
  );
  assert.equal(model.body.rollout.status, "ROLLED_BACK");
});

step("no console errors and no unexpected HTTP failures", () => {
  assert.deepEqual(watch.consoleErrors, []);
  assert.deepEqual(watch.failedResponses, []);
});
