"""The HTTP contract: error shapes and codes, the process surviving bad requests, clean stops."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import BUCKET, REPO, RunnerProcess, runner_env

MODEL = textwrap.dedent(
    """
    import numpy as np


    def predict(model_data, meta_data):
        if meta_data.get("explode"):
            raise RuntimeError("secret-internal-detail")
        if meta_data.get("reject"):
            raise KeyError("column 'age' is required")
        return np.asarray(model_data, dtype=float).sum(axis=1)
    """
)
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def runner(s3, moto_endpoint, tmp_path_factory):
    """One python-file runner shared by the module: every test also proves it is still serving."""
    s3.put_object(Bucket=BUCKET, Key="http/sum.py", Body=MODEL.encode())
    process = RunnerProcess(runner_env(moto_endpoint, "http/sum.py", "python"), tmp_path_factory.mktemp("http"))
    process.wait_healthy()
    yield process
    process.kill()


@pytest.fixture(autouse=True)
def _still_serving(runner):
    yield
    assert runner.proc.poll() is None
    assert runner.predict([[1, 2], [3, 4]]) == (200, {"results": [3.0, 7.0]})


def _assert_error(status: int, body: dict, expected_status: int, code: str) -> str:
    assert status == expected_status
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    return body["error"]["message"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2, 3]", '"modelData" field'),
        (b'{"rows": [[1, 2]]}', '"modelData" field'),
        (b'{"modelData": [[1, 2]], "metaData": [1]}', '"metaData" must be a JSON object'),
        (b'{"modelData": [[1, 2], [3]]}', "the model rejected the input: ValueError"),
        (b'{"modelData": [["a", "b"]]}', "could not convert string to float"),
        (b'{"modelData": [[1, 2]], "metaData": {"reject": true}}', "KeyError"),
    ],
)
def test_bad_input_is_a_400_without_the_input(runner, raw: bytes, fragment: str) -> None:
    status, _, body = runner.request("POST", "/predict", raw, JSON)

    message = _assert_error(status, body, 400, "invalid_input")
    assert fragment in message
    assert len(message) <= 300


def test_estimator_input_errors_do_not_echo_a_large_input(runner) -> None:
    rows = [[f"value-{i}" for i in range(50)] for _ in range(200)]
    status, _, body = runner.request("POST", "/predict", json.dumps({"modelData": rows}).encode(), JSON)

    message = _assert_error(status, body, 400, "invalid_input")
    assert len(message) <= 300


def test_unexpected_model_error_is_a_generic_500_with_a_request_id(runner) -> None:
    payload = json.dumps({"modelData": [[1]], "metaData": {"explode": True}}).encode()
    status, _, body = runner.request("POST", "/predict", payload, {**JSON, "x-request-id": "req-42"})

    assert status == 500
    assert body["error"]["code"] == "internal"
    assert body["error"]["requestId"] == "req-42"
    assert "secret-internal-detail" not in body["error"]["message"]
    deadline = time.monotonic() + 5
    while "secret-internal-detail" not in runner.stderr and time.monotonic() < deadline:
        time.sleep(0.05)
    log_line = next(line for line in runner.stderr.splitlines() if "req-42" in line)
    record = json.loads(log_line)
    assert record["level"] == "ERROR"
    assert "RuntimeError: secret-internal-detail" in record["error"]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nowhere", 404, "not_found"),
        ("POST", "/predict/extra", 404, "not_found"),
        ("GET", "/predict", 405, "method_not_allowed"),
        ("DELETE", "/health", 405, "method_not_allowed"),
    ],
)
def test_routing_errors_use_the_error_shape(runner, method: str, path: str, status: int, code: str) -> None:
    got, headers, body = runner.request(method, path)

    _assert_error(got, body, status, code)
    if status == 405:
        assert headers["allow"] in {"GET", "POST"}


def test_body_over_6_mb_is_a_413(runner) -> None:
    payload = b'{"modelData": [[' + b"1," * (3 * 1024 * 1024) + b"1]]}"

    status, _, body = runner.request("POST", "/predict", payload, JSON)

    _assert_error(status, body, 413, "payload_too_large")


def test_chunked_body_over_6_mb_is_a_413(runner) -> None:
    def chunks():
        yield b'{"modelData": [['
        for _ in range(7):
            yield b"1," * (512 * 1024)
        yield b"1]]}"

    conn = http.client.HTTPConnection("127.0.0.1", runner.port, timeout=15)
    try:
        conn.request("POST", "/predict", body=chunks(), headers={**JSON, "transfer-encoding": "chunked"})
        response = conn.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == "payload_too_large"
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before the client finishes sending; also a refusal
    finally:
        conn.close()


def test_keep_alive_connection_serves_many_requests(runner) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", runner.port, timeout=15)
    try:
        started = time.perf_counter()
        for i in range(50):
            conn.request("POST", "/predict", json.dumps({"modelData": [[i, 1]]}).encode(), JSON)
            response = conn.getresponse()
            assert json.loads(response.read()) == {"results": [float(i + 1)]}
        # No delayed-ACK stalls (~40 ms each) on a reused connection.
        assert time.perf_counter() - started < 1
    finally:
        conn.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_exits_0_promptly(s3, start_runner, signum: int) -> None:
    s3.put_object(Bucket=BUCKET, Key="http/stop.py", Body=MODEL.encode())
    process = start_runner("http/stop.py", "python")
    process.wait_healthy()

    started = time.monotonic()
    process.proc.send_signal(signum)

    assert process.wait_exit(timeout=10) == 0
    assert time.monotonic() - started < 5


def test_stop_signal_while_loading_exits_0(s3, start_runner) -> None:
    # A slow top level keeps the model loading; the stop must not wait for it.
    s3.put_object(Bucket=BUCKET, Key="http/slow.py", Body=b"import time\ntime.sleep(30)\n" + MODEL.encode())
    process = start_runner("http/slow.py", "python")
    process.wait_listening()
    status, _, body = process.request("GET", "/health")
    assert (status, body) == (503, {"status": "loading"})
    status, _, body = process.request("POST", "/predict", b'{"modelData": [[1]]}', JSON)
    assert status == 503
    assert body["error"]["code"] == "not_ready"

    started = time.monotonic()
    process.proc.send_signal(signal.SIGTERM)

    assert process.wait_exit(timeout=10) == 0
    assert time.monotonic() - started < 5


def test_healthcheck_probe_reports_a_healthy_runner(runner) -> None:
    env = {"PYTHONPATH": str(REPO / "backend"), "KRAKEN_MODEL_PORT": str(runner.port), "PATH": "/usr/bin:/bin"}

    healthy = subprocess.run([sys.executable, "-m", "runner.healthcheck"], env=env, timeout=30, check=False)
    dead = subprocess.run(
        [sys.executable, "-m", "runner.healthcheck"], env={**env, "KRAKEN_MODEL_PORT": "9"}, timeout=30, check=False
    )

    assert (healthy.returncode, dead.returncode) == (0, 1)


def test_the_protocol_paths_answer_in_their_own_shapes(runner) -> None:
    infer = "/v2/models/sum/versions/3/infer"
    body = {"id": "r-9", "inputs": [{"name": "x", "shape": [2, 2], "datatype": "INT64", "data": [1, 2, 3, 4]}]}
    status, _, answer = runner.request("POST", infer, json.dumps(body).encode(), JSON)
    assert status == 200 and answer["model_name"] == "sum" and answer["model_version"] == "3"
    assert answer["outputs"] == [{"name": "predict", "shape": [2], "datatype": "FP64", "data": [3.0, 7.0]}]
    status, _, metadata = runner.request("GET", "/v2/models/sum/versions/3")
    assert status == 200 and metadata == {
        "name": "sum", "versions": ["3"], "platform": "python", "inputs": [], "outputs": []
    }  # fmt: skip
    assert runner.request("GET", infer)[0::2] == (405, {"error": "use POST"})
    assert runner.request("GET", "/v2/models/sum/explain")[0] == 404
    bad = {"inputs": [{"name": "x", "shape": [3], "datatype": "FP64", "data": [1]}]}
    assert runner.request("POST", infer, json.dumps(bad).encode(), JSON)[0::2] == (
        400, {"error": "input 'x': shape [3] needs 3 values, data has 1"}
    )  # fmt: skip
    split = {"dataframe_split": {"data": [[1, 2]]}}
    assert runner.request("POST", "/invocations", json.dumps(split).encode(), JSON)[0::2] == (
        200, {"predictions": [3.0]}
    )  # fmt: skip
    status, _, refused = runner.request("POST", "/invocations", b"x", {"content-type": "text/plain"})
    assert status == 415 and refused["error_code"] == "BAD_REQUEST"
    seldon = {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}}
    assert runner.request("POST", "/api/v1.0/predictions", json.dumps(seldon).encode(), JSON)[0::2] == (
        200, {"data": {"names": [], "tensor": {"shape": [1], "values": [3.0]}}, "meta": {}}
    )  # fmt: skip
    status, _, failed = runner.request("POST", "/api/v1.0/predictions", b"{", JSON)
    assert status == 400 and failed["status"]["reason"] == "MICROSERVICE_BAD_DATA"
