"""Runner fixtures: a moto S3 server per module and the runner started as a real child process."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

REPO = Path(__file__).resolve().parents[3]
BUCKET = "kraken-runner-tests"
FAILURE_PREFIX = "KRAKEN_FAILURE: "


class RunnerProcess:
    """One `python -m runner` child talking real HTTP on 127.0.0.1; logs go to files, not pipes."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.stdout_path = log_dir / "runner.stdout"
        self.stderr_path = log_dir / "runner.stderr"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "runner"], env=env, cwd=REPO, stdout=out, stderr=err)
        self.port: int | None = None

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def wait_listening(self, timeout: float = 20) -> int:
        # Port 0 is asked for, so the real port comes from the startup log line (no race on a port).
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stdout.splitlines():
                record = json.loads(line)
                if record.get("message") == "runner listening":
                    self.port = int(record["port"])
                    return self.port
            if self.proc.poll() is not None:
                raise AssertionError(f"runner exited with {self.proc.returncode}: {self.stderr[-2000:]}")
            time.sleep(0.02)
        raise AssertionError("runner did not start listening in time")

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        assert self.port is not None
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            raw = response.read()
            return response.status, dict(response.getheaders()), json.loads(raw) if raw else None
        finally:
            conn.close()

    def predict(self, model_data: Any, meta_data: dict[str, Any] | None = None) -> tuple[int, Any]:
        payload: dict[str, Any] = {"modelData": model_data}
        if meta_data is not None:
            payload["metaData"] = meta_data
        status, _, body = self.request(
            "POST", "/predict", json.dumps(payload).encode(), {"content-type": "application/json"}
        )
        return status, body

    def wait_healthy(self, timeout: float = 60) -> list[int]:
        """Poll health until 200; returns every status seen (503s while the model loads)."""
        self.wait_listening()
        seen: list[int] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"runner exited with {self.proc.returncode}: {self.stderr[-2000:]}")
            try:
                status, _, body = self.request("GET", "/health")
            except ConnectionRefusedError:
                # The runner may exit between the poll above and this request (a load failure);
                # the next poll then reports its exit code and reason instead of a bare refusal.
                seen.append(0)
                time.sleep(0.05)
                continue
            seen.append(status)
            if status == 200:
                workers = body["details"]["workers"]
                assert body["status"] == "ok" and workers["ready"] == workers["total"]
                return seen
            time.sleep(0.05)
        raise AssertionError(f"runner not healthy in time; health said {seen[-3:]}")

    def wait_exit(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def s3(moto_endpoint: str) -> Any:
    client = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    return client


def runner_env(moto_endpoint: str, key: str, fmt: str, **extra_env: str) -> dict[str, str]:
    """The child's whole environment: nothing from a developer's real AWS or KRAKEN settings leaks in."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("KRAKEN_", "AWS_"))}
    env.update(
        PYTHONPATH=str(REPO / "backend"),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=moto_endpoint,
        KRAKEN_ARTIFACT_URI=f"s3://{BUCKET}/{key}",
        KRAKEN_ARTIFACT_FORMAT=fmt,
        KRAKEN_MODEL_HOST="127.0.0.1",
        KRAKEN_MODEL_PORT="0",
    )
    env.update(extra_env)
    return env


@pytest.fixture
def start_runner(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Factory: start_runner(key, fmt, **extra_env) -> RunnerProcess; every child is killed after."""
    started: list[RunnerProcess] = []

    def start(key: str, fmt: str, **extra_env: str) -> RunnerProcess:
        env = runner_env(moto_endpoint, key, fmt, **extra_env)
        runner = RunnerProcess(env, tmp_path_factory.mktemp("runner"))
        started.append(runner)
        return runner

    yield start
    for runner in started:
        runner.kill()


def failure_line(stderr: str) -> str:
    """The single KRAKEN_FAILURE line, asserting the contract (one line, short, no traceback)."""
    lines = [line for line in stderr.splitlines() if line.startswith(FAILURE_PREFIX)]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert len(lines[0]) <= 320
    return lines[0].removeprefix(FAILURE_PREFIX)
