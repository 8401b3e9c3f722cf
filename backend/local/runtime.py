"""The local container runtime: each started model is a child process supervised like an ECS service.

A supervisor thread per model keeps one process running while the model is started: it reports each
replica's life to the domain (started, healthy, unhealthy, exited with its exit code), ships the
process's output to the emulator's CloudWatch Logs under the stream names ECS uses, and restarts a
process that dies or fails its health checks, with backoff.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO

from chalicelib.adapters.cloudwatch_logs import stream_name
from chalicelib.config import Settings
from chalicelib.domain.clock import utc_now
from chalicelib.domain.models import ModelRecord
from chalicelib.domain.ports import ExitCause, ReplicaExit, ReplicaReport, ReplicaState, RuntimeRefused, RuntimeView
from chalicelib.domain.runner_contract import runner_environment
from local.logs import LogShipper

logger = logging.getLogger("kraken.local.runtime")

BACKEND_DIR = Path(__file__).resolve().parents[1]
HEALTH_POLL_SECONDS = 0.2
HEALTH_CHECK_SECONDS = 5.0
EXIT_POLL_SECONDS = 0.1
HEALTH_RETRIES = 3
STOP_GRACE_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 30.0
STABLE_SECONDS = 60.0  # a process healthy this long resets the restart backoff
DOCKER_NEEDED = "image models need Docker locally or AWS: no Docker engine answers on this machine"

ReportSink = Callable[[ReplicaReport], None]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    # If local mode is killed outright, its model processes must not live on (Linux: PR_SET_PDEATHSIG).
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=5, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _healthy(port: int, path: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


class _Task:
    """One process (one "task") of a model: its id, port and the OS process."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.id = uuid.uuid4().hex
        self.process = process
        self.port = port
        self.healthy = False
        self.failed_health_check = False


class _Supervisor:
    def __init__(self, runtime: LocalContainerRuntime, record: ModelRecord, artifact_uri: str | None) -> None:
        self.runtime = runtime
        self.record = record
        self.artifact_uri = artifact_uri
        self.stop_requested = threading.Event()
        self.task: _Task | None = None
        self.thread = threading.Thread(target=self._run, name=f"model-{record.id[:8]}", daemon=True)

    # --- the loop ---------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = 1.0
        while not self.stop_requested.is_set():
            started = time.monotonic()
            try:
                self._run_once()
            except Exception:
                logger.exception("the supervisor of model %s failed", self.record.id)
            if self.stop_requested.is_set():
                break
            backoff = 1.0 if time.monotonic() - started > STABLE_SECONDS else min(backoff * 2, MAX_BACKOFF_SECONDS)
            self.stop_requested.wait(backoff)

    def _run_once(self) -> None:
        port = _free_port()
        command, environment = self._command(port)
        process = subprocess.Popen(
            command,
            cwd=BACKEND_DIR,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        task = _Task(process, port)
        self.task = task
        pumps = [self._pump(process.stdout, task), self._pump(process.stderr, task)]
        self._report(task, ReplicaState.STARTED)
        self._await_health(task)
        if task.healthy:
            self._report(task, ReplicaState.HEALTHY)
            self._watch(task)
        if process.poll() is None:
            self._terminate(process)
        for pump in pumps:
            pump.join(timeout=5)
        self.runtime.shipper.flush()  # the handler reads the runner's last words from the logs
        # Like Docker and ECS, a process ended by signal N reports exit code 128 + N.
        exit_code = process.returncode if process.returncode >= 0 else 128 - process.returncode
        cause = ExitCause.HEALTH_CHECK if task.failed_health_check else ExitCause.EXITED
        self._report(task, ReplicaState.EXITED, ReplicaExit(cause, exit_code))
        self.task = None

    def _await_health(self, task: _Task) -> None:
        deadline = time.monotonic() + self.runtime.settings.start_timeout_seconds
        while time.monotonic() < deadline and not self.stop_requested.is_set():
            if task.process.poll() is not None:
                return
            if _healthy(task.port, self.record.health_path):
                task.healthy = True
                return
            time.sleep(HEALTH_POLL_SECONDS)
        if not self.stop_requested.is_set():
            task.failed_health_check = True

    def _watch(self, task: _Task) -> None:
        failures = 0
        next_check = time.monotonic() + HEALTH_CHECK_SECONDS
        # A dead process is noticed within a tenth of a second; health is checked every few seconds.
        while not self.stop_requested.wait(EXIT_POLL_SECONDS):
            if task.process.poll() is not None:
                return
            if time.monotonic() < next_check:
                continue
            next_check = time.monotonic() + HEALTH_CHECK_SECONDS
            failures = 0 if _healthy(task.port, self.record.health_path) else failures + 1
            if failures >= HEALTH_RETRIES:
                task.healthy = False
                task.failed_health_check = True
                self._report(task, ReplicaState.UNHEALTHY)
                return

    # --- pieces -----------------------------------------------------------------------------

    def _command(self, port: int) -> tuple[list[str], dict[str, str]]:
        record, settings = self.record, self.runtime.settings
        user_env = runner_environment(record, self.artifact_uri, settings.artifact_max_bytes, port)
        if record.docker_image:
            command = ["docker", "run", "--rm", "--init", "-p", f"127.0.0.1:{port}:{record.container_port}"]
            for name, value in sorted(user_env.items()):
                command += ["-e", f"{name}={value}"]
            return [*command, record.docker_image], dict(os.environ)
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(BACKEND_DIR),
            "PYTHONUNBUFFERED": "1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": settings.region,
            "AWS_ENDPOINT_URL": settings.aws_endpoint_url or "",
            "KRAKEN_MODEL_HOST": "127.0.0.1",
            **user_env,
        }
        return [sys.executable, "-m", "runner"], environment

    def _pump(self, stream: IO[bytes] | None, task: _Task) -> threading.Thread:
        group = self.runtime.settings.model_log_group(self.record.id)
        name = stream_name(task.id)

        def copy() -> None:
            assert stream is not None
            for raw in iter(stream.readline, b""):
                self.runtime.shipper.add(group, name, raw.decode(errors="replace").rstrip("\n"))
            stream.close()

        thread = threading.Thread(target=copy, name=f"logs-{task.id[:8]}", daemon=True)
        thread.start()
        return thread

    def _terminate(self, process: subprocess.Popen[bytes]) -> None:
        process.terminate()
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_GRACE_SECONDS)

    def _report(self, task: _Task, state: ReplicaState, ended: ReplicaExit | None = None) -> None:
        report = ReplicaReport(
            model_id=self.record.id,
            replica_id=task.id,
            state=state,
            at=utc_now(),
            address="127.0.0.1",
            port=task.port,
            exit=ended,
        )
        self.runtime.sink(report)


class LocalContainerRuntime:
    """ContainerRuntime on this machine; `sink` receives each replica report (the domain's lifecycle)."""

    def __init__(self, settings: Settings, sink: ReportSink, shipper: LogShipper) -> None:
        self.settings = settings
        self.sink = sink
        self.shipper = shipper
        self._supervisors: dict[str, _Supervisor] = {}
        self._lock = threading.Lock()

    def start(self, record: ModelRecord, artifact_uri: str | None) -> None:
        with self._lock:
            current = self._supervisors.get(record.id)
            if current is not None and not current.stop_requested.is_set():
                return
            if record.docker_image and not docker_available():
                raise RuntimeRefused(DOCKER_NEEDED)
            supervisor = _Supervisor(self, record, artifact_uri)
            self._supervisors[record.id] = supervisor
            supervisor.thread.start()

    def stop(self, model_id: str) -> bool:
        with self._lock:
            supervisor = self._supervisors.get(model_id)
        if supervisor is None or supervisor.stop_requested.is_set():
            return False
        had_task = supervisor.task is not None
        supervisor.stop_requested.set()
        return had_task

    def remove(self, model_id: str) -> None:
        with self._lock:
            self._supervisors.pop(model_id, None)

    def view(self, model_id: str) -> RuntimeView:
        with self._lock:
            supervisor = self._supervisors.get(model_id)
        if supervisor is None:
            return RuntimeView(desired_running=False, healthy_endpoints=(), tasks_alive=0)
        task = supervisor.task
        healthy = (f"127.0.0.1:{task.port}",) if task is not None and task.healthy else ()
        return RuntimeView(
            desired_running=not supervisor.stop_requested.is_set(),
            healthy_endpoints=healthy,
            tasks_alive=int(task is not None),
        )

    def shutdown(self) -> None:
        """Stop every model process and wait for them, as local mode exits."""
        with self._lock:
            supervisors = list(self._supervisors.values())
        for supervisor in supervisors:
            supervisor.stop_requested.set()
        for supervisor in supervisors:
            supervisor.thread.join(timeout=STOP_GRACE_SECONDS + 5)
