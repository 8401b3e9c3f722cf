"""Predictions through local mode's gateway to real runner processes: results, history, metrics, failures."""

from __future__ import annotations

import io
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import joblib
import pandas as pd
import pytest
import requests

from tests.e2e.conftest import LocalMode
from tests.e2e.test_lifecycle_local import create_model, runner_processes, status, trained_pipeline, wait_for

pytestmark = pytest.mark.e2e

ROWS = [{"carat": 0.23, "cut": "Ideal"}, {"carat": 1.1, "cut": "Good"}]


@pytest.fixture(scope="module")
def running(local_mode: LocalMode) -> tuple[str, Any]:
    artifact = trained_pipeline()
    model_id = create_model(local_mode, "gateway", artifact)
    local_mode.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 15, "RUNNING")
    return model_id, joblib.load(io.BytesIO(artifact))


def predict(local: LocalMode, model_id: str, session: requests.Session | None = None) -> requests.Response:
    body = {"modelData": ROWS, "metaData": {"modelId": model_id}}
    return (session or requests).post(f"{local.base_url}/api/predict", json=body, headers=local.auth, timeout=30)


def test_results_equal_the_models_own_predict(local_mode: LocalMode, running: tuple[str, Any]) -> None:
    model_id, pipeline = running
    response = predict(local_mode, model_id)
    assert response.status_code == 200
    assert response.json()["results"] == pytest.approx(list(pipeline.predict(pd.DataFrame(ROWS))))
    assert response.headers["X-Model-Id"] == model_id and response.headers["X-Request-Id"]
    request_id = response.headers["X-Request-Id"]

    def in_history() -> dict[str, Any] | None:
        items = local_mode.request("GET", f"/api/models/{model_id}/requests?limit=50").body["items"]
        return next((i for i in items if i["requestId"] == request_id), None)

    entry = wait_for(in_history, 10, "the prediction in the request history")
    assert entry["status"] == 200 and entry["latencyMs"] > 0 and '"carat"' in entry["requestBody"]

    def charted() -> bool:
        series = local_mode.request("GET", f"/api/models/{model_id}/metrics?period=60").body["series"]
        return any(series["requests"]) and any(v is not None for v in series["latencyP99"])

    wait_for(charted, 15, "the prediction on the metrics")
    logs = local_mode.request("GET", f"/api/models/{model_id}/container-logs?limit=100").body["items"]
    assert any("model loaded" in line["message"] for line in logs)
    download = requests.get(
        f"{local_mode.base_url}/api/models/{model_id}/container-logs?format=text", headers=local_mode.auth, timeout=30
    )
    assert download.headers["Content-Type"].startswith("text/plain") and "model loaded" in download.text


def test_each_version_s_cpu_and_memory_are_charted_as_container_insights_would(
    local_mode: LocalMode, running: tuple[str, Any]
) -> None:
    """The sampler measures the runner process tree (psutil) against its reservation (0.25 vCPU, 0.5 GB)."""
    model_id, _ = running
    for _ in range(20):  # some work for the CPU to show
        assert predict(local_mode, model_id).status_code == 200

    def sampled(query: str) -> dict[str, list[float | None]] | None:
        series = local_mode.request("GET", f"/api/models/{model_id}/metrics?period=60{query}").body["series"]
        has_all = all(any(v is not None for v in series[name]) for name in ("cpuPercent", "memoryPercent"))
        return series if has_all else None

    for query in ("", "&version=1"):
        series = wait_for(lambda q=query: sampled(q), 30, f"CPU and memory on the metrics{query}")
        memory = [v for v in series["memoryPercent"] if v is not None][-1]
        peak = [v for v in series["memoryPeakPercent"] if v is not None][-1]
        # A scikit-learn runner holds tens of MiB of its 512 reserved; never nothing, never all.
        assert 2 < memory < 90 and memory <= peak < 90, (memory, peak)
        assert all(0 <= v < 400 for v in series["cpuPercent"] if v is not None)


def test_parallel_predictions_lose_no_history(local_mode: LocalMode, running: tuple[str, Any]) -> None:
    model_id, _ = running

    def batch(_: int) -> list[tuple[int, str]]:
        with requests.Session() as session:
            return [
                (r.status_code, r.headers.get("X-Request-Id", ""))
                for r in (predict(local_mode, model_id, session) for _ in range(25))
            ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [result for chunk in pool.map(batch, range(8)) for result in chunk]
    assert [code for code, _ in results] == [200] * 200
    sent = {request_id for _, request_id in results}
    assert len(sent) == 200

    def all_recorded() -> bool:
        seen: set[str] = set()
        token = ""
        while True:
            page = local_mode.request("GET", f"/api/models/{model_id}/requests?limit=200{token}").body
            seen |= {item["requestId"] for item in page["items"]}
            if not page["nextToken"]:
                return sent <= seen
            token = f"&nextToken={page['nextToken']}"

    wait_for(all_recorded, 15, "all 200 predictions in the history")


def test_stop_is_an_immediate_409_and_a_kill_a_fast_502(local_mode: LocalMode, running: tuple[str, Any]) -> None:
    model_id, _ = running
    [pid] = runner_processes(local_mode, model_id)
    os.kill(pid, signal.SIGKILL)
    started = time.monotonic()
    response = predict(local_mode, model_id)
    assert response.status_code == 502 and response.json()["error"]["code"] == "bad_gateway"
    assert time.monotonic() - started < 5  # not a hang; refused connections fail at once
    wait_for(lambda: predict(local_mode, model_id).status_code == 200, 30, "the restarted model to answer")

    local_mode.request("POST", f"/api/models/{model_id}/stop", {})
    stopped = predict(local_mode, model_id)
    assert stopped.status_code == 409
    assert any(state in stopped.json()["error"]["message"] for state in ("STOPPING", "STOPPED"))


def test_custom_paths_of_an_ml_kraken_container_are_honoured(local_mode: LocalMode) -> None:
    created = local_mode.request(
        "POST",
        "/api/models",
        {
            "name": "kraken-paths",
            "version": "1.0",
            "artifactFormat": "joblib",
            "containerPort": 8080,
            "containerCpu": 0.5,
            "containerMemory": 1,
            "predictPath": "/api/v1/run-model",
            "healthPath": "/api/v1/health",
        },
    )
    model_id = created.body["id"]
    ticket = local_mode.request("POST", f"/api/models/{model_id}/artifact", {}).body
    requests.post(ticket["url"], data=ticket["fields"], files={"file": ("m", trained_pipeline())}, timeout=30)
    local_mode.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 15, "RUNNING on custom paths")
    assert predict(local_mode, model_id).status_code == 200
    local_mode.request("DELETE", f"/api/models/{model_id}?force=true")
