"""The model lifecycle in local mode: real runner processes started, killed, restarted and stopped over HTTP."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pytest
import requests
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from local.runtime import docker_available
from tests.e2e.conftest import LocalMode, session_processes

pytestmark = pytest.mark.e2e

ARTIFACT_MODEL = {
    "version": "1.0",
    "artifactFormat": "joblib",
    "containerPort": 8080,
    "containerCpu": 0.5,
    "containerMemory": 1,
}


def trained_pipeline() -> bytes:
    frame = pd.DataFrame({"carat": [0.2, 0.3, 0.5, 1.0, 1.2], "cut": ["Ideal", "Good", "Ideal", "Fair", "Good"]})
    pipeline = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["cut"]), (StandardScaler(), ["carat"])),
        LinearRegression(),
    ).fit(frame, [300, 400, 900, 3000, 4000])
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    return buffer.getvalue()


def create_model(local: LocalMode, name: str, content: bytes, **settings: Any) -> str:
    """A model made through the API (ARTIFACT_MODEL's settings unless `settings` say otherwise), its file uploaded."""
    created = local.request("POST", "/api/models", {**ARTIFACT_MODEL, "name": name, **settings})
    assert created.status == 201, created.body
    model_id = created.body["id"]
    ticket = local.request("POST", f"/api/models/{model_id}/artifact", {}).body
    uploaded = requests.post(ticket["url"], data=ticket["fields"], files={"file": ("model", content)}, timeout=30)
    assert uploaded.status_code in (200, 204), uploaded.text
    return model_id


def wait_for(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def status(local: LocalMode, model_id: str) -> dict[str, Any]:
    return local.request("GET", f"/api/models/{model_id}").body


def runner_processes(local: LocalMode, model_id: str, artifact_of_version: int | None = None) -> list[int]:
    """The model processes local mode started for this model (serving one version's artifact), by their environment."""
    wanted = f"models/{model_id}/versions/{artifact_of_version or ''}".encode()
    found = []
    for pid in session_processes(local.process.pid):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if wanted in environ:
            found.append(pid)
    return found


def test_start_kill_recover_stop(local_mode: LocalMode) -> None:
    model_id = create_model(local_mode, "lifecycle", trained_pipeline())
    assert local_mode.request("POST", f"/api/models/{model_id}/start", {}).body["status"] == "PENDING"
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 10, "RUNNING")
    [pid] = runner_processes(local_mode, model_id)

    os.kill(pid, signal.SIGKILL)
    failed = wait_for(
        lambda: (record := status(local_mode, model_id))["status"] == "FAILED" and record, 5, "FAILED after a kill"
    )
    assert "killed by signal 9" in failed["statusReason"]
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 30, "RUNNING again")
    assert runner_processes(local_mode, model_id) not in ([], [pid])

    assert local_mode.request("POST", f"/api/models/{model_id}/stop", {}).body["status"] == "STOPPING"
    wait_for(lambda: status(local_mode, model_id)["status"] == "STOPPED", 15, "STOPPED")
    wait_for(lambda: not runner_processes(local_mode, model_id), 5, "the model process to end")

    log = local_mode.request("GET", f"/api/models/{model_id}/logs?limit=100").body["items"]
    transitions = [(e["fromStatus"], e["toStatus"]) for e in reversed(log) if e["action"] == "transition"]
    assert transitions == [
        ("PENDING", "RUNNING"),
        ("RUNNING", "FAILED"),
        ("FAILED", "RUNNING"),
        ("STOPPING", "STOPPED"),
    ]
    assert any(e["reason"] and "signal 9" in e["reason"] for e in log)


def test_a_garbage_artifact_fails_with_a_reason(local_mode: LocalMode) -> None:
    model_id = create_model(local_mode, "garbage", b"this is not a pickle at all")
    local_mode.request("POST", f"/api/models/{model_id}/start", {})
    failed = wait_for(lambda: (r := status(local_mode, model_id))["status"] == "FAILED" and r, 30, "FAILED")
    assert "joblib" in failed["statusReason"] and "KRAKEN_FAILURE" not in failed["statusReason"]
    local_mode.request("POST", f"/api/models/{model_id}/stop", {})
    wait_for(lambda: status(local_mode, model_id)["status"] == "STOPPED", 15, "STOPPED")


def test_a_model_that_cannot_load_fails_once_and_is_not_restarted(local_mode: LocalMode) -> None:
    model_id = create_model(local_mode, "unloadable", b"garbage, again")
    local_mode.request("POST", f"/api/models/{model_id}/start", {})
    failed = wait_for(lambda: (r := status(local_mode, model_id))["status"] == "FAILED" and r, 30, "FAILED")
    assert failed["failedForGood"] is True
    wait_for(lambda: not runner_processes(local_mode, model_id), 10, "the runner to be stopped, not restarted")
    time.sleep(6)  # the old supervisor would have restarted it at +4 s and +5 s
    assert status(local_mode, model_id)["status"] == "FAILED" and not runner_processes(local_mode, model_id)
    log = local_mode.request("GET", f"/api/models/{model_id}/logs?limit=100").body["items"]
    assert [e["toStatus"] for e in log if e["action"] == "transition"] == ["FAILED"]
    answer = local_mode.request("POST", "/api/predict", {"modelData": [[1]], "metaData": {"modelId": model_id}})
    assert answer.status == 502 and "start the model again" in answer.body["error"]["message"]
    again = local_mode.request("POST", f"/api/models/{model_id}/start", {})  # a person acts: it tries again
    assert again.status == 202 and again.body["status"] == "PENDING" and again.body["failedForGood"] is False
    wait_for(lambda: status(local_mode, model_id)["failedForGood"], 30, "the second failure")
    local_mode.request("POST", f"/api/models/{model_id}/stop", {})
    wait_for(lambda: status(local_mode, model_id)["status"] == "STOPPED", 15, "STOPPED")


def test_concurrent_starts_give_one_container(local_mode: LocalMode) -> None:
    model_id = create_model(local_mode, "concurrent", trained_pipeline())
    statuses: list[int] = []
    barrier = threading.Barrier(20)

    def start() -> None:
        barrier.wait(timeout=10)
        statuses.append(local_mode.request("POST", f"/api/models/{model_id}/start", {}).status)

    threads = [threading.Thread(target=start) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [202] * 20
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 15, "RUNNING")
    time.sleep(1)  # a second container, had one been started, would be up by now
    assert len(runner_processes(local_mode, model_id)) == 1
    log = local_mode.request("GET", f"/api/models/{model_id}/logs?limit=100").body["items"]
    assert sum(e["action"] == "start" and e["result"] == "accepted" for e in log) == 1
    assert local_mode.request("DELETE", f"/api/models/{model_id}?force=true").status == 204
    wait_for(lambda: not runner_processes(local_mode, model_id), 15, "the model process to end")


@pytest.mark.skipif(docker_available(), reason="a Docker engine answers here; the refusal needs none")
def test_image_models_without_docker_fail_at_once(local_mode: LocalMode) -> None:
    body = {**ARTIFACT_MODEL, "name": "image", "artifactFormat": None, "dockerImage": "repo/model:1"}
    model_id = local_mode.request("POST", "/api/models", body).body["id"]
    started = local_mode.request("POST", f"/api/models/{model_id}/start", {})
    assert started.status == 202
    assert started.body["status"] == "FAILED" and "Docker" in started.body["statusReason"]


def test_an_old_upload_ticket_cannot_change_what_a_version_serves(local_mode: LocalMode) -> None:
    """A presigned POST stays valid for its 15 minutes; the version serves the upload that was recorded."""
    created = local_mode.request("POST", "/api/models", {**ARTIFACT_MODEL, "name": "kept-upload"})
    model_id = created.body["id"]
    ticket = local_mode.request("POST", f"/api/models/{model_id}/artifact", {}).body
    original = trained_pipeline()
    requests.post(ticket["url"], data=ticket["fields"], files={"file": ("m", original)}, timeout=30)
    local_mode.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 30, "RUNNING")
    rows = [{"carat": 0.23, "cut": "Ideal"}]
    expected = list(joblib.load(io.BytesIO(original)).predict(pd.DataFrame(rows)))

    # The same ticket again, with other bytes: S3 accepts it (a new object version)...
    replaced = requests.post(ticket["url"], data=ticket["fields"], files={"file": ("m", b"not a model")}, timeout=30)
    assert replaced.status_code in (200, 204), replaced.text
    # ...and a replica that starts afresh (killed, restarted by the supervisor) still loads the recorded one.
    (pid,) = runner_processes(local_mode, model_id)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: runner_processes(local_mode, model_id) not in ([], [pid]), 30, "a new replica")
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 30, "RUNNING again")
    body = {"modelData": rows, "metaData": {"modelId": model_id}}
    answer = requests.post(f"{local_mode.base_url}/api/predict", json=body, headers=local_mode.auth, timeout=30)
    assert answer.status_code == 200 and answer.json()["results"] == pytest.approx(expected)
    local_mode.request("POST", f"/api/models/{model_id}/stop", {})


def pickled_by_another_scikit_learn() -> bytes:
    """A fitted model whose pickle says an older scikit-learn made it, as a model trained elsewhere would."""
    import pickle

    import sklearn

    model = LinearRegression().fit(pd.DataFrame({"carat": [0.2, 0.5, 1.0]}), [300, 900, 3000])
    raw = pickle.dumps(model)
    current = sklearn.__version__.encode()
    older = b"0" * (len(current) - 2) + b".1"  # the same length keeps the pickle's framing valid
    assert raw.count(current) == 1
    return raw.replace(current, older)


def test_a_model_from_another_scikit_learn_shows_its_load_warning(local_mode: LocalMode) -> None:
    import sklearn

    model_id = create_model(local_mode, "older-pickle", pickled_by_another_scikit_learn(), artifactFormat="pickle")
    assert local_mode.request("POST", f"/api/models/{model_id}/start", {}).status == 202
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 30, "RUNNING")
    [version] = status(local_mode, model_id)["deployment"]
    assert version["libraries"]["scikit-learn"] == sklearn.__version__
    [warning] = version["loadWarnings"]
    assert warning.startswith("InconsistentVersionWarning:") and sklearn.__version__ in warning
    log = local_mode.request("GET", f"/api/models/{model_id}/logs").body["items"]
    assert any("loaded with 1 warning: InconsistentVersionWarning" in e["result"] for e in log)

    plain = create_model(local_mode, "current-pickle", trained_pipeline())
    assert local_mode.request("POST", f"/api/models/{plain}/start", {}).status == 202
    wait_for(lambda: status(local_mode, plain)["status"] == "RUNNING", 30, "RUNNING")
    [version] = status(local_mode, plain)["deployment"]
    assert version["loadWarnings"] == [] and version["libraries"]["scikit-learn"] == sklearn.__version__
    for started in (model_id, plain):
        local_mode.request("POST", f"/api/models/{started}/stop", {})
