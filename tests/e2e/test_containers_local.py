"""Local mode with real containers: the runner image built from its Dockerfile, limits enforced, OOM for real.

A focused set, not a copy of the process suites: start, predict, a container killed by hand heals,
a model that allocates past its memory fails with the out-of-memory reason, stop and Ctrl-C leave
no container behind, and the runner's own tests pass inside the image.
"""

from __future__ import annotations

import io
import json
import secrets
import signal
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import requests

from local.containers import LABEL, MODEL_LABEL
from local.engine import (
    REPO_ROOT,
    RUNNER_DIR,
    Engine,
    EngineUnavailable,
    base_image,
    ca_bundle_arguments,
    ensure_runner_image,
    find_engine,
)
from local.limits import cgroup_version
from tests.e2e.conftest import LocalMode, start_local_mode
from tests.e2e.test_gateway_local import ROWS, predict
from tests.e2e.test_lifecycle_local import ARTIFACT_MODEL, create_model, status, trained_pipeline, wait_for

pytestmark = pytest.mark.e2e
START_SECONDS = 90  # a container imports pandas and scikit-learn from a cold page cache


@pytest.fixture(scope="module")
def engine() -> Engine:
    try:
        engine = find_engine()
        ensure_runner_image(engine)  # built once per machine (./scripts/test.sh does it before pytest)
    except EngineUnavailable as error:
        pytest.skip(f"no container engine works here: {error}")
    return engine


@pytest.fixture(scope="module")
def container_mode(engine: Engine) -> Iterator[LocalMode]:
    local = start_local_mode({"KRAKEN_LOCAL_RUNTIME": "container"})
    try:
        yield local
    finally:
        local.stop()
    assert not containers(engine, f"{LABEL}={local.process.pid}"), "local mode left containers behind"


def containers(engine: Engine, label: str) -> list[str]:
    """Names of the containers (running or not) that carry the label."""
    listed = engine.run("ps", "--all", "--filter", f"label={label}", "--format", "{{.Names}}", check=True)
    return listed.stdout.split()


def model_containers(engine: Engine, model_id: str) -> list[str]:
    return containers(engine, f"{MODEL_LABEL}={model_id}")


class Allocates:
    """An "artifact" whose loading allocates (and touches) 1.5 GB: numpy fills every page with ones."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (np.ones, ((3 * 2**26,),))


def test_a_model_runs_in_a_container_with_its_limits_and_heals(engine: Engine, container_mode: LocalMode) -> None:
    artifact = trained_pipeline()
    model_id = create_model(container_mode, "in-a-container", artifact)
    container_mode.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(container_mode, model_id)["status"] == "RUNNING", START_SECONDS, "RUNNING")
    assert f"Models run in {engine.command} containers" in container_mode.output.read_text()
    [name] = model_containers(engine, model_id)
    limits = engine.run("inspect", "--format", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}", name, check=True)
    assert limits.stdout.split() == [str(int(ARTIFACT_MODEL["containerMemory"] * 2**30)), str(int(0.5e9))]
    published = engine.run("port", name, check=True).stdout
    assert published.strip().startswith("8080/tcp -> 127.0.0.1:"), published

    answer = predict(container_mode, model_id)
    assert answer.status_code == 200
    assert answer.json()["results"] == pytest.approx(
        list(joblib.load(io.BytesIO(artifact)).predict(pd.DataFrame(ROWS)))
    )

    def shipped() -> bool:  # the container's output reaches the emulator's logs in batches
        logs = container_mode.request("GET", f"/api/models/{model_id}/container-logs?limit=100").body["items"]
        return any("model loaded" in line["message"] for line in logs)

    wait_for(shipped, 15, "the container's output in its logs")

    def sampled() -> float | None:  # the container's own processes, found through the engine, against its limit
        series = container_mode.request("GET", f"/api/models/{model_id}/metrics?period=60").body["series"]
        return next((v for v in reversed(series["memoryPeakPercent"]) if v is not None), None)

    assert 2 < wait_for(sampled, 30, "the container's memory on the metrics") < 90

    engine.run("kill", name, check=True)
    failed = wait_for(lambda: (r := status(container_mode, model_id))["status"] == "FAILED" and r, 15, "FAILED")
    assert "killed by signal 9" in failed["statusReason"]
    wait_for(lambda: status(container_mode, model_id)["status"] == "RUNNING", START_SECONDS, "RUNNING again")
    assert model_containers(engine, model_id) not in ([], [name])
    assert predict(container_mode, model_id).status_code == 200

    container_mode.request("POST", f"/api/models/{model_id}/stop", {})
    wait_for(lambda: status(container_mode, model_id)["status"] == "STOPPED", 30, "STOPPED")
    wait_for(lambda: not model_containers(engine, model_id), 15, "no container left")


ECHO_SERVER = """
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Echo(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"results": [os.environ["GREETING"]]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer(("0.0.0.0", 8080), Echo).serve_forever()
"""


def echo_image(engine: Engine, context: Path) -> str:
    """A user's own image (no runner inside), built on the local Python base."""
    image = f"localhost/kraken-e2e-echo:{base_image().rsplit(':', 1)[1]}"
    if not engine.has_image(image):
        (context / "server.py").write_text(ECHO_SERVER)
        (context / "Containerfile").write_text(f'FROM {base_image()}\nCOPY server.py /\nCMD ["python", "/server.py"]\n')
        engine.run("build", "--tag", image, str(context), timeout=300, check=True)
    return image


def test_an_image_model_runs_in_its_own_image_with_its_env(
    engine: Engine, container_mode: LocalMode, tmp_path: Path
) -> None:
    secret = "e2e-" + secrets.token_urlsafe(12)
    body = {
        **ARTIFACT_MODEL,
        "name": "own-image",
        "artifactFormat": None,
        "dockerImage": echo_image(engine, tmp_path),
        "env": {"GREETING": secret},
    }
    model_id = container_mode.request("POST", "/api/models", body).body["id"]
    container_mode.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(container_mode, model_id)["status"] == "RUNNING", START_SECONDS, "RUNNING")
    answer = predict(container_mode, model_id)
    assert answer.status_code == 200 and answer.json()["results"] == [secret]
    command_lines = [p.read_bytes() for p in Path("/proc").glob("[0-9]*/cmdline") if p.exists()]
    assert not any(secret.encode() in line for line in command_lines), "the model's env is on a command line"
    assert container_mode.request("DELETE", f"/api/models/{model_id}?force=true").status == 204
    wait_for(lambda: not model_containers(engine, model_id), 30, "no container left")


def test_an_image_that_is_not_here_fails_at_once(container_mode: LocalMode) -> None:
    body = {**ARTIFACT_MODEL, "name": "absent", "artifactFormat": None, "dockerImage": "repo/absent:1"}
    model_id = container_mode.request("POST", "/api/models", body).body["id"]
    started = container_mode.request("POST", f"/api/models/{model_id}/start", {})
    assert started.status == 202 and started.body["status"] == "FAILED"
    assert "repo/absent:1 is not on this machine" in started.body["statusReason"]


def test_an_env_value_cannot_smuggle_in_other_variables(container_mode: LocalMode) -> None:
    env = {"NOTE": "line one\nKRAKEN_ARTIFACT_URI=s3://elsewhere/model"}
    model_id = create_model(container_mode, "smuggler", trained_pipeline())
    updated = container_mode.request("PUT", f"/api/models/{model_id}", {"env": env})
    assert updated.status == 200, updated.body
    started = container_mode.request("POST", f"/api/models/{model_id}/start", {})
    assert started.body["status"] == "FAILED"
    assert started.body["statusReason"] == "local containers take no line breaks in env values: NOTE"


def test_a_model_past_its_memory_fails_with_the_oom_reason(engine: Engine, container_mode: LocalMode) -> None:
    buffer = io.BytesIO()
    joblib.dump(Allocates(), buffer)
    created = container_mode.request(
        "POST", "/api/models", {**ARTIFACT_MODEL, "name": "greedy", "containerCpu": 0.25, "containerMemory": 0.5}
    )
    assert created.status == 201, created.body
    model_id = created.body["id"]
    ticket = container_mode.request("POST", f"/api/models/{model_id}/artifact", {}).body
    requests.post(ticket["url"], data=ticket["fields"], files={"file": ("m", buffer.getvalue())}, timeout=30)
    container_mode.request("POST", f"/api/models/{model_id}/start", {})
    failed = wait_for(
        lambda: (r := status(container_mode, model_id))["status"] == "FAILED" and r, START_SECONDS, "FAILED"
    )
    assert failed["statusReason"] == (
        "out of memory: the container needed more than 0.5 GB; choose a larger containerMemory"
    )
    assert container_mode.request("DELETE", f"/api/models/{model_id}?force=true").status == 204
    wait_for(lambda: not model_containers(engine, model_id), 30, "no container left")


def test_ctrl_c_leaves_no_container(engine: Engine) -> None:
    local = start_local_mode({"KRAKEN_LOCAL_RUNTIME": "container"})
    try:
        model_id = create_model(local, "interrupted", trained_pipeline())
        local.request("POST", f"/api/models/{model_id}/start", {})
        wait_for(lambda: status(local, model_id)["status"] == "RUNNING", START_SECONDS, "RUNNING")
        assert model_containers(engine, model_id)
        local.process.send_signal(signal.SIGINT)
        assert local.process.wait(timeout=60) == 0
    finally:
        local.stop()
    assert not containers(engine, f"{LABEL}={local.process.pid}")


def runner_test_image(engine: Engine) -> str:
    """The runner image plus the runner suite's test tools, built once per runner image."""
    image = ensure_runner_image(engine)
    tester = image.replace("kraken-runner:", "kraken-runner-tests:")
    if engine.has_image(tester):
        return tester
    wanted = (REPO_ROOT / "requirements.txt").read_text().splitlines()
    wanted += (RUNNER_DIR / "requirements-test.txt").read_text().splitlines()
    pins = [line for line in wanted if line.startswith(("moto", "pytest", "onnx"))]
    recipe = "\n".join([f"FROM {image}", "USER 0", f"RUN pip install {' '.join(pins)}"])
    subprocess.run(
        [
            engine.command,
            "build",
            "--network",
            "host",
            *ca_bundle_arguments(engine),
            "--format",
            "docker",
            "--tag",
            tester,
            "--file",
            "-",
            str(RUNNER_DIR),
        ],
        input=recipe.encode(),
        env=engine.environment,
        check=True,
        timeout=900,
    )
    return tester


def test_the_runner_suite_passes_inside_the_image(engine: Engine) -> None:
    """The runner's own tests with the image's Python and system libraries (libgomp1 for LightGBM...)."""
    # --confcutdir: the suite needs only its own conftest, not the API's (chalice is not in the image).
    command = ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--confcutdir", "tests/functional/runner"]
    ran = engine.run(
        "run",
        "--rm",
        "--network",
        "host",
        "--volume",
        f"{REPO_ROOT}:/src:ro",
        "--workdir",
        "/src",
        "--env",
        "PYTHONDONTWRITEBYTECODE=1",
        runner_test_image(engine),
        *command,
        "tests/functional/runner",
        timeout=900,
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]


# Issue 20: the standard image, uncompressed, in the SI megabytes `podman images` shows.
IMAGE_MAX_BYTES = 500 * 10**6


def test_the_runner_image_is_at_most_500_mb(engine: Engine) -> None:
    image = ensure_runner_image(engine)
    size = int(engine.run("image", "inspect", "--format", "{{.Size}}", image, check=True).stdout)
    assert size <= IMAGE_MAX_BYTES, f"{image} is {size / 1e6:.1f} MB, over 500 MB: see backend/runner/Dockerfile"


# Run in the image as deployed: the runner's own loader and predict for each artifact in /artifacts.
LOAD_EVERY_FORMAT = """
import json, shutil, sys, tempfile
from pathlib import Path
from runner.config import load_settings
from runner.loading import build_model
from runner.models import json_default

rows, formats = json.loads(sys.argv[1]), json.loads(sys.argv[2])
results = {}
for name, fmt in formats.items():
    path = Path(tempfile.mkdtemp()) / f"artifact.{fmt}"
    shutil.copy(f"/artifacts/{name}", path)
    env = {"KRAKEN_ARTIFACT_URI": f"s3://bucket/{name}", "KRAKEN_ARTIFACT_FORMAT": fmt, "KRAKEN_WORKERS": "1"}
    results[name] = build_model(path, load_settings(env)).predict(rows, {})["results"]
print(json.dumps(results, default=json_default))
"""


def _linear_onnx(model: Any) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    weights = model.coef_.astype(np.float32).reshape(-1, 1)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["XW"]), helper.make_node("Add", ["XW", "B"], ["Y"])],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, weights.shape[0]])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 1])],
        initializer=[
            numpy_helper.from_array(weights, "W"),
            numpy_helper.from_array(np.asarray([model.intercept_], dtype=np.float32), "B"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=9).SerializeToString()


def test_the_image_as_deployed_loads_every_built_in_format(engine: Engine, tmp_path: Path) -> None:
    """The runner suite runs on a test image whose tools (moto) bring back packages the runner image leaves
    out (cryptography...); here each built-in format is loaded and asked in the runner image itself."""
    import lightgbm
    import mlflow.sklearn
    import xgboost
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(7)
    features = rng.normal(size=(200, 3))
    target = features @ [1.5, -2.0, 0.5] + 3.0
    linear = LinearRegression().fit(features, target)
    booster = xgboost.train({"max_depth": 3, "nthread": 1}, xgboost.DMatrix(features, target), 5)
    gbm = lightgbm.train({"verbose": -1, "num_threads": 1}, lightgbm.Dataset(features, target), 5)
    mlflow.sklearn.save_model(linear, str(tmp_path / "mlflow-model"))
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    joblib.dump(linear, artifacts / "linear.joblib")
    (artifacts / "linear.onnx").write_bytes(_linear_onnx(linear))
    booster.save_model(str(artifacts / "booster.json"))
    gbm.save_model(str(artifacts / "gbm.txt"))
    with zipfile.ZipFile(artifacts / "mlflow.zip", "w") as archive:
        for path in (tmp_path / "mlflow-model").rglob("*"):
            archive.write(path, path.relative_to(tmp_path / "mlflow-model"))
    artifacts.chmod(0o755)  # the runner's uid reads them through the mount
    for path in artifacts.iterdir():
        path.chmod(0o644)
    rows = features[:4].tolist()
    formats = {
        "linear.joblib": "joblib",
        "linear.onnx": "onnx",
        "booster.json": "xgboost",
        "gbm.txt": "lightgbm",
        "mlflow.zip": "mlflow",
    }

    ran = engine.run(
        "run", "--rm", "--network", "none", "--volume", f"{artifacts}:/artifacts:ro", ensure_runner_image(engine),
        "python", "-c", LOAD_EVERY_FORMAT, json.dumps(rows), json.dumps(formats),
        timeout=300,
    )  # fmt: skip

    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-4000:]
    results = json.loads(ran.stdout.strip().splitlines()[-1])
    expected = linear.predict(np.asarray(rows))
    for name in ("linear.joblib", "mlflow.zip"):
        np.testing.assert_allclose(results[name], expected, rtol=1e-9)
    np.testing.assert_allclose(np.ravel(results["linear.onnx"]), expected, rtol=1e-4)
    np.testing.assert_allclose(results["booster.json"], booster.predict(xgboost.DMatrix(np.asarray(rows))), rtol=1e-6)
    np.testing.assert_allclose(results["gbm.txt"], gbm.predict(np.asarray(rows)), rtol=1e-6)


def test_without_an_engine_auto_falls_back_to_processes_and_says_why() -> None:
    local = start_local_mode({"KRAKEN_LOCAL_RUNTIME": "auto", "KRAKEN_CONTAINER_ENGINE": "no-such-engine"})
    try:
        said = [line for line in local.output.read_text().splitlines() if line.startswith("Models run")]
    finally:
        local.stop()
    limits = {2: "cgroup v2 CPU and memory limits", 1: "cgroup v1 CPU and memory limits"}.get(
        cgroup_version() or 0, "a memory limit on resident memory (no cgroups here, so no CPU limit)"
    )
    assert said == [
        f"Models run as child processes of local mode (no container isolation; {limits}); "
        "no container engine works here: no-such-engine is not installed."
    ]


def test_insisting_on_containers_without_an_engine_refuses_to_start() -> None:
    with pytest.raises(AssertionError, match="KRAKEN_LOCAL_RUNTIME=container, but no container can run here"):
        start_local_mode({"KRAKEN_LOCAL_RUNTIME": "container", "KRAKEN_CONTAINER_ENGINE": "no-such-engine"})
