"""Autoscaling in local mode: a version set to 1..3 replicas grows under load and shrinks back after it."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.conftest import LocalMode, session_processes, start_local_mode
from tests.e2e.test_gateway_local import ROWS
from tests.e2e.test_lifecycle_local import create_model, runner_processes, status, trained_pipeline, wait_for

pytestmark = pytest.mark.e2e

# Compressed: a round every second, growing at once, shrinking after 4 quiet seconds (ECS: 60 s and 300 s).
FAST = {
    "KRAKEN_AUTOSCALE_SECONDS": "1",
    "KRAKEN_SCALE_OUT_COOLDOWN_SECONDS": "0",
    "KRAKEN_SCALE_IN_COOLDOWN_SECONDS": "4",
}


@pytest.fixture(scope="module")
def scaling_mode() -> Iterator[LocalMode]:
    local = start_local_mode(FAST)
    try:
        yield local
    finally:
        local.stop()
        for pid in session_processes(local.process.pid):
            os.kill(pid, signal.SIGKILL)


def healthy_replicas(local: LocalMode, model_id: str) -> int:
    return status(local, model_id)["deployment"][0]["healthyReplicas"]


def test_replicas_follow_the_request_rate_between_their_bounds(scaling_mode: LocalMode) -> None:
    local = scaling_mode
    model_id = create_model(local, "autoscaled", trained_pipeline())
    assert local.request("POST", f"/api/models/{model_id}/start", {}).status == 202
    wait_for(lambda: status(local, model_id)["status"] == "RUNNING", 30, "RUNNING")
    revision = status(local, model_id)["revision"]
    policy = {"minReplicas": 1, "maxReplicas": 3, "targetRequestsPerReplica": 5}
    body = {"versions": [{"version": 1, "weight": 100, "autoscaling": policy}], "message": "autoscale 1..3"}
    changed = local.request("PUT", f"/api/models/{model_id}/deployment", body, {"If-Match": f'"{revision}"'})
    assert changed.status == 202, changed.body

    # Four clients, back to back: far more than 5 requests per second for one replica.
    stop = threading.Event()
    failures: list[int] = []

    def client() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                body = {"modelData": ROWS, "metaData": {"modelId": model_id}}
                answer = session.post(f"{local.base_url}/api/predict", json=body, headers=local.auth, timeout=30)
                if answer.status_code != 200:
                    failures.append(answer.status_code)

    clients = [threading.Thread(target=client) for _ in range(4)]
    for thread in clients:
        thread.start()
    try:
        wait_for(lambda: healthy_replicas(local, model_id) == 3, 60, "three healthy replicas under load")
        assert len(runner_processes(local, model_id)) == 3
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=30)
    assert failures == [], f"requests failed while it scaled: {failures[:10]}"

    # No requests: after the quiet spell it shrinks back to its minimum, never below.
    wait_for(lambda: healthy_replicas(local, model_id) == 1, 60, "back to one replica")
    time.sleep(3)
    assert healthy_replicas(local, model_id) == 1
    wait_for(lambda: len(runner_processes(local, model_id)) == 1, 30, "the surplus processes gone")
    log = local.request("GET", f"/api/models/{model_id}/logs?limit=50").body["items"]
    scaled = [e for e in log if e["action"] == "scale"]
    assert scaled and all(e["actor"] == "system:autoscaler" for e in scaled)
    assert any("-> 3 replicas" in e["result"] and "requests per replica" in e["reason"] for e in scaled), scaled
    assert scaled[0]["result"].endswith("-> 1 replica"), scaled[0]
