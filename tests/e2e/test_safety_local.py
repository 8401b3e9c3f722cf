"""Safe rollouts in local mode, with real runner processes over real HTTP: replays of captured requests, shadow
traffic, and progressive rollouts that advance or roll themselves back on the gateway's own numbers.

Time is compressed: the reconciler runs every second and each step bakes for a few seconds.
"""

from __future__ import annotations

import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.conftest import LocalMode, checked_local_mode
from tests.e2e.test_deployments_local import Traffic, new_version
from tests.e2e.test_lifecycle_local import create_model, status, wait_for

pytestmark = pytest.mark.e2e

# Python-format models (predict(model_data, meta_data)): each answers x -> 2x, so answers can be compared, and
# each misbehaves in its own way. The baseline sleeps a little so that latency ratios are about the model.
DOUBLE = b"""
import time
def predict(model_data, meta_data):
    time.sleep(0.01)
    return [row["x"] * 2 for row in model_data]
"""
# Differs from DOUBLE on every row whose x is a multiple of 10.
CHANGED = b"""
import time
def predict(model_data, meta_data):
    time.sleep(0.01)
    return [row["x"] * 2 + (1 if row["x"] % 10 == 0 else 0) for row in model_data]
"""
# Fails one request in five (a 500 from the runner), answers the rest as DOUBLE does.
FLAKY = b"""
import itertools, time
_calls = itertools.count(1)
def predict(model_data, meta_data):
    time.sleep(0.01)
    if next(_calls) % 5 == 0:
        raise RuntimeError("flaky candidate")
    return [row["x"] * 2 for row in model_data]
"""
# DOUBLE's answers at three times its time (and more).
SLOW = b"""
import time
def predict(model_data, meta_data):
    time.sleep(0.04)
    return [row["x"] * 2 for row in model_data]
"""
PYTHON_MODEL = {"artifactFormat": "python", "containerCpu": 0.25, "containerMemory": 0.5}
# Small enough that a few seconds of traffic decide a step.
FAST_GUARDRAILS = {"minRequests": 15}


@pytest.fixture(scope="module")
def local() -> Iterator[LocalMode]:
    # No saved state (KRAKEN_DATA_DIR empty): the traffic here would have the emulator's snapshot written every
    # second, and nothing in this module restarts local mode.
    with checked_local_mode({"KRAKEN_RECONCILE_SECONDS": "1", "KRAKEN_DATA_DIR": ""}) as mode:
        yield mode


_STARTED: list[str] = []


@pytest.fixture(autouse=True)
def stopped_after(local: LocalMode) -> Iterator[None]:
    """Each test's models are stopped when it ends, as a tidy user would: the next test runs on a quiet machine,
    and local mode's own stop (bounded in the harness) has no replicas left to stop."""
    yield
    while _STARTED:
        local.request("POST", f"/api/models/{_STARTED.pop()}/stop", {})


def serving_model(local: LocalMode, name: str) -> str:
    """A RUNNING model whose version 1 is DOUBLE."""
    model_id = create_model(local, name, DOUBLE, **PYTHON_MODEL)
    _STARTED.append(model_id)
    assert local.request("POST", f"/api/models/{model_id}/start", {}).status == 202
    wait_for(lambda: status(local, model_id)["status"] == "RUNNING", 60, "RUNNING")
    return model_id


def ask(session: requests.Session, local: LocalMode, model_id: str, x: int) -> requests.Response:
    body = {"modelData": [{"x": x}], "metaData": {"modelId": model_id}}
    return session.post(f"{local.base_url}/api/models/{model_id}/predict", json=body, headers=local.auth, timeout=30)


def callers_of(local: LocalMode, model_id: str) -> Traffic:
    """Two clients predicting the whole time; each answer's status and serving version is kept."""
    return Traffic(local, model_id, clients=2, rows=[{"x": 3}])


def rollout(local: LocalMode, model_id: str) -> dict[str, Any]:
    found = local.request("GET", f"/api/models/{model_id}/rollout")
    assert found.status == 200, found.body
    return found.body


def ended_rollout(local: LocalMode, model_id: str, seconds: float) -> dict[str, Any]:
    return wait_for(
        lambda: (plan := rollout(local, model_id))["status"] not in ("RUNNING", "PAUSED") and plan,
        seconds,
        "the rollout's end",
    )


def weights(local: LocalMode, model_id: str) -> dict[int, int]:
    return {d["version"]: d["weight"] for d in status(local, model_id)["deployment"] if not d["leaving"]}


def start_rollout(
    local: LocalMode, model_id: str, candidate: int, steps: list[int], guardrails: dict[str, Any] | None = None
) -> dict[str, Any]:
    rails = {**FAST_GUARDRAILS, **(guardrails or {})}
    plan = {"candidateVersion": candidate, "steps": steps, "bakeSeconds": 5, "guardrails": rails}
    started = local.request("POST", f"/api/models/{model_id}/rollout", plan)
    assert started.status == 201, started.body
    assert started.body["status"] == "RUNNING" and started.body["step"] == 0
    return started.body


def history(local: LocalMode, model_id: str) -> list[dict[str, Any]]:
    return local.request("GET", f"/api/models/{model_id}/history?limit=50").body["items"]


def test_a_candidate_failing_a_fifth_of_requests_is_rolled_back_in_its_first_step(local: LocalMode) -> None:
    model_id = serving_model(local, "flaky-canary")
    candidate = new_version(local, model_id, FLAKY, "fails one request in five")
    with callers_of(local, model_id) as callers:
        start_rollout(local, model_id, candidate, [25, 50, 100])
        ended = ended_rollout(local, model_id, 120)
        rolled_back_at = len(callers.answers)
        time.sleep(2)  # callers go on after the rollback
    assert ended["status"] == "ROLLED_BACK", ended
    assert ended["step"] == 0, "rolled back during its first step"
    assert "5xx rate" in ended["reason"], ended["reason"]
    decision = ended["decisions"][-1]
    assert decision["verdict"] == "rollback" and decision["actor"] == "system:rollout"
    assert decision["numbers"]["candidate5xxRate"] > 0.01 and decision["numbers"]["baseline5xxRate"] == 0
    assert weights(local, model_id) == {1: 100}

    # Callers kept getting answers: every failure is the candidate's own, none came after the rollback's switch.
    failed = [a for a in callers.answers if a[0] != 200]
    assert all(a[0] == 500 and a[1] == str(candidate) for a in failed), Counter((a[0], a[1]) for a in failed)
    assert not [a for a in callers.answers[rolled_back_at + 20 :] if a[1] != "1"], "the baseline serves alone again"

    # The rollback and its reason are in the deployment history and the operations log.
    entry = next(e for e in history(local, model_id) if e["action"] == "rollout-rollback")
    assert "5xx rate" in entry["message"] and entry["actor"] == "system:rollout"
    logged = local.request("GET", f"/api/models/{model_id}/logs?limit=100").body["items"]
    assert any(row["action"] == "rollout-rollback" and "5xx rate" in (row["reason"] or "") for row in logged)
    # Locally the console shows a banner (the model's rollout); on AWS the decision goes to the SNS topic too.
    assert status(local, model_id)["rollout"]["status"] == "ROLLED_BACK"


def test_a_slow_candidate_is_rolled_back_on_latency(local: LocalMode) -> None:
    model_id = serving_model(local, "slow-canary")
    candidate = new_version(local, model_id, SLOW, "four times slower")
    with callers_of(local, model_id):
        start_rollout(local, model_id, candidate, [50, 100])
        ended = ended_rollout(local, model_id, 120)
    assert ended["status"] == "ROLLED_BACK", ended
    assert "p99 latency" in ended["reason"] and "5xx" not in ended["reason"], ended["reason"]
    numbers = ended["decisions"][-1]["numbers"]
    assert numbers["p99Ratio"] > 1.5, numbers
    assert weights(local, model_id) == {1: 100}


def test_a_good_candidate_reaches_all_the_traffic_step_by_step(local: LocalMode) -> None:
    model_id = serving_model(local, "good-canary")
    candidate = new_version(local, model_id, DOUBLE, "the same model, again")
    with callers_of(local, model_id) as callers:
        # The baseline serves alone for a while first: the 100% step compares with those numbers.
        wait_for(lambda: len(callers.answers) >= 60, 60, "traffic before the rollout")
        # The p99 of a few dozen requests of a 10 ms model on a busy 2-core machine can jump by several times;
        # the latency guardrail has its own test (a candidate 4 x slower), so this one, about advancing step by
        # step on held guardrails, leaves latency out (the largest ratio allowed).
        start_rollout(local, model_id, candidate, [30, 100], {"maxP99Ratio": 100})
        ended = ended_rollout(local, model_id, 180)
    assert ended["status"] == "SUCCEEDED", [(d["reason"], d["numbers"]) for d in ended["decisions"]]
    verdicts = [(d["verdict"], d["weight"]) for d in ended["decisions"]]
    assert verdicts == [("advance", 30), ("advance", 100), ("succeed", 100)], verdicts
    assert all("guardrails held" in d["reason"] for d in ended["decisions"][1:])
    # At 100% the baseline has no traffic; its numbers shown are those it was compared with, over requests.
    last = ended["decisions"][-1]["numbers"]
    assert last["baselineRequests"] >= FAST_GUARDRAILS["minRequests"] and last["baselineP99"] is not None, last
    assert weights(local, model_id) == {candidate: 100}
    assert all(a[0] == 200 for a in callers.answers), Counter(a[0] for a in callers.answers)
    actions = [e["action"] for e in history(local, model_id)]
    assert actions.count("rollout") == 3, actions  # start, step 2, success


def history_size(local: LocalMode, model_id: str) -> int:
    """The request history's lines, read page by page."""
    count, token = 0, ""
    while True:
        page = local.request("GET", f"/api/models/{model_id}/requests?limit=200{token}").body
        count += len(page["items"])
        if not page["nextToken"]:
            return count
        token = f"&nextToken={urllib.parse.quote(page['nextToken'])}"


def captured(local: LocalMode, model_id: str, count: int) -> None:
    """`count` predictions answered by version 1, then waited for in the request history."""
    with requests.Session() as session:
        for x in range(count):
            assert ask(session, local, model_id, x).status_code == 200
    wait_for(lambda: history_size(local, model_id) >= count, 60, f"{count} requests in the history")


def finished_replay(local: LocalMode, model_id: str, candidate: int, limit: int) -> dict[str, Any]:
    body = {"candidateVersion": candidate, "source": {"limit": limit}, "ratePerSecond": 100}
    created = local.request("POST", f"/api/models/{model_id}/replays", body)
    assert created.status == 201, created.body
    replay_id = created.body["replayId"]
    return wait_for(
        lambda: (
            (r := local.request("GET", f"/api/models/{model_id}/replays/{replay_id}").body)["status"]
            in ("SUCCEEDED", "FAILED", "CANCELLED")
            and r
        ),
        120,
        "the replay's end",
    )


def test_a_replay_of_500_requests_matches_an_identical_model_and_shows_a_changed_models_differences(
    local: LocalMode,
) -> None:
    model_id = serving_model(local, "replayed")
    captured(local, model_id, 500)
    same = new_version(local, model_id, DOUBLE, "identical")
    changed = new_version(local, model_id, CHANGED, "off by one on multiples of ten")

    identical = finished_replay(local, model_id, same, 500)
    assert identical["status"] == "SUCCEEDED", identical
    assert identical["counts"] == {"matched": 500, "differed": 0, "errored": 0, "skipped": 0}, identical["counts"]
    assert identical["matchRate"] == 1.0 and identical["largest"] == []
    assert identical["candidateLatency"]["p50"] is not None and identical["baselineLatency"]["p50"] is not None
    # The replay's candidate is taken out again right after it ends.
    wait_for(lambda: weights(local, model_id) == {1: 100}, 10, "the candidate taken out")

    different = finished_replay(local, model_id, changed, 500)
    assert different["status"] == "SUCCEEDED", different
    counts = different["counts"]
    assert counts["differed"] == 50 and counts["matched"] == 450 and counts["errored"] == 0, counts
    assert different["matchRate"] == 0.9
    for row in different["largest"]:
        x = int(row["requestBody"].split('"x":')[1].split("}")[0])
        assert x % 10 == 0, row
        assert row["baselineBody"] != row["candidateBody"] and row["size"] == 1
    wait_for(lambda: weights(local, model_id) == {1: 100}, 10, "the candidate taken out")

    # No caller ever got the candidates' answers: the history holds only version 1's.
    answered_by = {
        line["modelVersion"]
        for line in local.request("GET", f"/api/models/{model_id}/requests?limit=200").body["items"]
    }
    assert answered_by == {"1"}, answered_by


def test_a_shadow_at_100_percent_changes_no_callers_answer_and_tallies_its_differences(local: LocalMode) -> None:
    model_id = serving_model(local, "shadowed")
    shadow = new_version(local, model_id, CHANGED, "shadowed")
    revision = status(local, model_id)["revision"]
    spec = {
        "versions": [
            {"version": 1, "weight": 100},
            {"version": shadow, "weight": 0, "shadow": {"percent": 100}},
        ],
        "message": "shadow the changed model",
    }
    changed = local.request("PUT", f"/api/models/{model_id}/deployment", spec, {"If-Match": f'"{revision}"'})
    assert changed.status == 202, changed.body
    wait_for(
        lambda: all(d["status"] == "RUNNING" for d in status(local, model_id)["deployment"]), 60, "the shadow running"
    )
    answers = []
    with requests.Session() as session:
        for x in range(100):
            answer = ask(session, local, model_id, x)
            answers.append((x, answer.status_code, answer.headers.get("X-Model-Version"), answer.json()))
    assert all(status_code == 200 and version == "1" for _, status_code, version, _ in answers)
    assert all(body["results"] == [2 * x] for x, _, _, body in answers), "every answer is the serving version's"

    tally = wait_for(
        lambda: (
            (items := local.request("GET", f"/api/models/{model_id}/shadow").body["items"])
            and items[0]["counts"]["matched"] + items[0]["counts"]["differed"] >= 100
            and items[0]
        ),
        60,
        "100 shadow comparisons",
    )
    assert tally["version"] == shadow and tally["percent"] == 100
    assert tally["counts"] == {"matched": 90, "differed": 10, "errored": 0, "skipped": 0}, tally["counts"]
    assert tally["matchRate"] == 0.9
    assert tally["candidateLatency"]["p50"] is not None
