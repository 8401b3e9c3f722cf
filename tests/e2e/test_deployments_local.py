"""Versions and deployments in local mode over real HTTP with real runner processes: weights, switches, rollback."""

from __future__ import annotations

import collections
import io
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pytest
import requests
from sklearn.linear_model import LinearRegression

from tests.e2e.conftest import LocalMode
from tests.e2e.test_lifecycle_local import create_model, runner_processes, status, wait_for

pytestmark = pytest.mark.e2e

ROWS = [{"carat": 0.5}, {"carat": 1.0}]


def scaled_model(factor: float) -> bytes:
    """A model whose answers tell it apart: price = factor * carat."""
    frame = pd.DataFrame({"carat": [0.2, 0.5, 1.0, 2.0]})
    model = LinearRegression().fit(frame, [factor * c for c in frame["carat"]])
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def new_version(local: LocalMode, model_id: str, content: bytes, notes: str) -> int:
    created = local.request("POST", f"/api/models/{model_id}/versions", {"notes": notes})
    assert created.status == 201, created.body
    number = int(created.body["number"])
    ticket = local.request("POST", f"/api/models/{model_id}/versions/{number}/artifact", {})
    assert ticket.status == 200, ticket.body
    uploaded = requests.post(
        ticket.body["url"], data=ticket.body["fields"], files={"file": ("model", content)}, timeout=30
    )
    assert uploaded.status_code in (200, 204), uploaded.text
    return number


def deploy(local: LocalMode, model_id: str, weights: dict[int, int], message: str, replicas: int = 1) -> Any:
    revision = status(local, model_id)["revision"]
    body = {
        "versions": [{"version": v, "weight": w, "replicas": replicas} for v, w in weights.items()],
        "message": message,
    }
    changed = local.request("PUT", f"/api/models/{model_id}/deployment", body, {"If-Match": f'"{revision}"'})
    assert changed.status == 202, changed.body
    return changed.body


def serving(local: LocalMode, model_id: str) -> dict[int, int]:
    """Each running version's current share of traffic."""
    return {
        d["version"]: d["servingWeight"]
        for d in status(local, model_id)["deployment"]
        if d["status"] == "RUNNING" and d["servingWeight"]
    }


def predict(local: LocalMode, model_id: str, headers: dict[str, str] | None = None, **meta: Any) -> requests.Response:
    body = {"modelData": ROWS, "metaData": {"modelId": model_id, **meta}}
    return requests.post(
        f"{local.base_url}/api/predict", json=body, headers={**local.auth, **(headers or {})}, timeout=30
    )


class Traffic:
    """Clients sending predictions the whole time; every answer's status and serving version is kept."""

    def __init__(self, local: LocalMode, model_id: str, clients: int = 4, rows: list[dict[str, Any]] = ROWS) -> None:
        self.answers: list[tuple[int, str | None]] = []
        self._refusals: list[tuple[int, str]] = []  # each failure's status and what it said, for the assertion
        self._rows = rows
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._send, args=(local, model_id), daemon=True) for _ in range(clients)
        ]

    def _send(self, local: LocalMode, model_id: str) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                body = {"modelData": self._rows, "metaData": {"modelId": model_id}}
                try:
                    answer = session.post(f"{local.base_url}/api/predict", json=body, headers=local.auth, timeout=30)
                    self.answers.append((answer.status_code, answer.headers.get("X-Model-Version")))
                    if answer.status_code != 200:
                        self._refusals.append((answer.status_code, answer.text[:300]))
                except requests.RequestException as error:
                    self.answers.append((0, str(error)))
                    self._refusals.append((0, str(error)))

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=40)

    def failures(self) -> list[tuple[int, str]]:
        """Every answer that was not a 200, with what it said."""
        return list(self._refusals)


@pytest.fixture(scope="module")
def two_versions(local_mode: LocalMode) -> Iterator[str]:
    """A RUNNING model serving version 1 (price = carat), with version 2 (price = 10 x carat) uploaded."""
    model_id = create_model(local_mode, "versions", scaled_model(1))
    local_mode.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 30, "RUNNING")
    assert new_version(local_mode, model_id, scaled_model(10), "ten times") == 2
    yield model_id
    local_mode.request("POST", f"/api/models/{model_id}/stop", {})


def test_a_version_is_immutable_and_a_serving_one_cannot_go(local_mode: LocalMode, two_versions: str) -> None:
    model_id = two_versions
    versions = {v["number"]: v for v in local_mode.request("GET", f"/api/models/{model_id}/versions").body["items"]}
    assert set(versions) == {1, 2} and versions[1]["serving"] and not versions[2]["serving"]
    assert len(versions[2]["artifact"]["sha256"]) == 64 and versions[2]["artifact"]["size"] > 0
    assert versions[1]["artifact"]["sha256"] != versions[2]["artifact"]["sha256"]
    again = local_mode.request("POST", f"/api/models/{model_id}/versions/2/artifact", {})
    assert again.status == 409 and "never changes" in again.body["error"]["message"]
    onto_running = local_mode.request("POST", f"/api/models/{model_id}/artifact", {})
    assert onto_running.status == 409 and "would not be served" in onto_running.body["error"]["message"]
    serving_one = local_mode.request("DELETE", f"/api/models/{model_id}/versions/1")
    assert serving_one.status == 409


def test_bad_deployments_change_nothing(local_mode: LocalMode, two_versions: str) -> None:
    model_id = two_versions
    before = status(local_mode, model_id)
    bad = local_mode.request(
        "PUT",
        f"/api/models/{model_id}/deployment",
        {"versions": [{"version": 1, "weight": 60}, {"version": 2, "weight": 30}]},
    )
    assert bad.status == 422 and "sum to 90" in str(bad.body["error"]["details"])
    missing = local_mode.request(
        "PUT", f"/api/models/{model_id}/deployment", {"versions": [{"version": 9, "weight": 100}]}
    )
    assert missing.status == 422 and "no version 9" in str(missing.body["error"]["details"])
    stale = local_mode.request(
        "PUT",
        f"/api/models/{model_id}/deployment",
        {"versions": [{"version": 1, "weight": 100}]},
        {"If-Match": f'"{before["revision"] - 1}"'},
    )
    assert stale.status == 409
    assert status(local_mode, model_id)["revision"] == before["revision"]


def test_weights_split_traffic_and_history_and_metrics_carry_the_version(
    local_mode: LocalMode, two_versions: str
) -> None:
    model_id = two_versions
    deploy(local_mode, model_id, {1: 80, 2: 20}, "try version 2 on a fifth")
    wait_for(lambda: serving(local_mode, model_id) == {1: 80, 2: 20}, 40, "80/20 serving")
    for version, times in ((1, 3), (2, 2)):
        for _ in range(times):
            assert predict(local_mode, model_id, version=version).status_code == 200

    def charted(version: int, expected: int) -> bool:
        series = local_mode.request("GET", f"/api/models/{model_id}/metrics?version={version}").body["series"]
        return sum(x or 0 for x in series["requests"]) == expected

    wait_for(lambda: charted(1, 3) and charted(2, 2), 30, "each version's own metrics")

    counts: collections.Counter[str] = collections.Counter()
    with requests.Session() as session:
        for _ in range(1000):
            answer = session.post(
                f"{local_mode.base_url}/api/predict",
                json={"modelData": ROWS, "metaData": {"modelId": model_id}},
                headers=local_mode.auth,
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            counts[answer.headers["X-Model-Version"]] += 1
            expected = [0.5, 1.0] if answer.headers["X-Model-Version"] == "1" else [5.0, 10.0]
            assert answer.json()["results"] == pytest.approx(expected)
    assert abs(counts["2"] / 1000 - 0.20) <= 0.05, counts
    wait_for(
        lambda: (
            {
                i["modelVersion"]
                for i in local_mode.request("GET", f"/api/models/{model_id}/requests?limit=100").body["items"]
            }
            == {"1", "2"}
        ),
        30,
        "both versions in the request history",
    )


def test_a_pinned_version_and_a_routing_key(local_mode: LocalMode, two_versions: str) -> None:
    model_id = two_versions
    wait_for(lambda: len(serving(local_mode, model_id)) == 2, 40, "two versions serving")
    assert {predict(local_mode, model_id, version=2).headers["X-Model-Version"] for _ in range(20)} == {"2"}
    pinned = predict(local_mode, model_id, headers={"X-Kraken-Version": "1"})
    assert pinned.headers["X-Model-Version"] == "1"
    for key in ("alice", "bob", "carol", "dave"):
        seen = {predict(local_mode, model_id, routingKey=key).headers["X-Model-Version"] for _ in range(10)}
        assert len(seen) == 1, (key, seen)
    not_running = predict(local_mode, model_id, version=7)
    assert not_running.status_code == 409


def test_a_switch_under_load_fails_no_request_and_rollback_restores_the_spec(
    local_mode: LocalMode, two_versions: str
) -> None:
    model_id = two_versions
    with Traffic(local_mode, model_id) as traffic:
        deploy(local_mode, model_id, {2: 100}, "promote version 2")
        wait_for(lambda: serving(local_mode, model_id) == {2: 100}, 40, "version 2 at 100%")
        switched_at = len(traffic.answers)
        wait_for(lambda: len(traffic.answers) > switched_at + 40, 20, "answers after the switch")
    assert traffic.answers and not traffic.failures(), traffic.failures()[:5]
    assert {version for _, version in traffic.answers[switched_at + 20 :]} == {"2"}

    history = local_mode.request("GET", f"/api/models/{model_id}/history").body["items"]
    assert [e["action"] for e in history[:2]] == ["deploy", "deploy"] and history[0]["message"] == "promote version 2"
    earlier = next(e for e in history if e["message"] == "try version 2 on a fifth")
    assert [(s["version"], s["weight"]) for s in earlier["spec"]] == [(1, 80), (2, 20)]
    assert all(len(s["artifactSha256"]) == 64 for s in earlier["spec"])
    with Traffic(local_mode, model_id) as traffic:
        back = local_mode.request(
            "POST", f"/api/models/{model_id}/rollback", {"entryId": earlier["entryId"], "message": "back to 80/20"}
        )
        assert back.status == 202, back.body
        wait_for(lambda: serving(local_mode, model_id) == {1: 80, 2: 20}, 40, "80/20 restored")
    assert not traffic.failures(), traffic.failures()[:5]
    restored = status(local_mode, model_id)["deployment"]
    assert [(d["version"], d["weight"], d["replicas"]) for d in restored] == [
        (s["version"], s["weight"], s["replicas"]) for s in earlier["spec"]
    ]
    newest = local_mode.request("GET", f"/api/models/{model_id}/history?limit=1").body["items"][0]
    assert newest["action"] == "rollback" and newest["spec"] == earlier["spec"]


def test_a_version_that_cannot_load_gets_no_traffic(local_mode: LocalMode) -> None:
    model_id = create_model(local_mode, "broken-candidate", scaled_model(1))
    local_mode.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 30, "RUNNING")
    broken = new_version(local_mode, model_id, b"not a model at all", "broken")
    with Traffic(local_mode, model_id) as traffic:
        deploy(local_mode, model_id, {broken: 100}, "switch to a broken version")
        failed = wait_for(
            lambda: next(
                (
                    d
                    for d in status(local_mode, model_id)["deployment"]
                    if d["version"] == broken and d["status"] == "FAILED"
                ),
                None,
            ),
            60,
            "the broken version FAILED",
        )
        time.sleep(1)
    assert "joblib" in failed["statusReason"]
    assert traffic.answers and not traffic.failures(), traffic.failures()[:5]
    assert {version for _, version in traffic.answers} == {"1"}
    record = status(local_mode, model_id)
    assert record["status"] == "RUNNING" and f"version {broken}" in record["statusReason"]
    local_mode.request("POST", f"/api/models/{model_id}/stop", {})


def test_one_of_two_replicas_killed_under_load_fails_no_request(local_mode: LocalMode) -> None:
    model_id = create_model(local_mode, "replicas", scaled_model(1))
    local_mode.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 30, "RUNNING")
    deploy(local_mode, model_id, {1: 100}, "two replicas", replicas=2)
    wait_for(lambda: status(local_mode, model_id)["deployment"][0]["healthyReplicas"] == 2, 40, "two healthy replicas")
    first, _ = runner_processes(local_mode, model_id, 1)
    with Traffic(local_mode, model_id) as traffic:
        time.sleep(1)
        os.kill(first, signal.SIGKILL)
        time.sleep(3)
    assert len(traffic.answers) > 20 and not traffic.failures(), traffic.failures()[:5]
    local_mode.request("POST", f"/api/models/{model_id}/stop", {})


def test_resizing_a_running_version_replaces_its_replicas_without_a_failed_request(local_mode: LocalMode) -> None:
    """A new size is new replicas beside the serving ones, healthy first, as an ECS rolling update."""
    model_id = create_model(local_mode, "resized", scaled_model(1))
    local_mode.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 30, "RUNNING")
    (before,) = runner_processes(local_mode, model_id, 1)
    revision = status(local_mode, model_id)["revision"]
    body = {"versions": [{"version": 1, "weight": 100, "containerCpu": 1, "containerMemory": 2}], "message": "bigger"}
    with Traffic(local_mode, model_id) as traffic:
        changed = local_mode.request("PUT", f"/api/models/{model_id}/deployment", body, {"If-Match": f'"{revision}"'})
        assert changed.status == 202, changed.body

        def new_replica() -> bool:
            return runner_processes(local_mode, model_id, 1) not in ([], [before])

        wait_for(new_replica, 40, "a replica of the new size")
        wait_for(lambda: before not in runner_processes(local_mode, model_id, 1), 40, "the old replica retired")
        time.sleep(1)
    assert len(traffic.answers) > 20 and not traffic.failures(), traffic.failures()[:5]
    shown = status(local_mode, model_id)["deployment"][0]
    assert (shown["containerCpu"], shown["containerMemory"], shown["healthyReplicas"]) == (1, 2, 1)
    (after,) = runner_processes(local_mode, model_id, 1)
    groups = dict(line.split(":", 2)[1:] for line in Path(f"/proc/{after}/cgroup").read_text().splitlines())
    if groups.get("memory", "/") != "/":  # held by a cgroup v1 here: the new size is the new limit
        limit = Path(f"/sys/fs/cgroup/memory{groups['memory']}/memory.limit_in_bytes").read_text()
        assert int(limit) == 2 * 2**30
    local_mode.request("POST", f"/api/models/{model_id}/stop", {})
