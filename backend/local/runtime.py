"""The local container runtime: each deployed model version is supervised like an ECS service.

Each replica of a version has a supervisor thread that keeps it running: a container
(local/containers.py) where an engine works, else a child process of local mode. It reports each
replica's life to the domain (started, healthy, unhealthy, exited with its cause), ships the replica's
output to the emulator's CloudWatch Logs under the stream names ECS uses, and restarts a replica
that dies or fails its health checks, with backoff.
"""

from __future__ import annotations

import ctypes
import functools
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from chalicelib.adapters.cloudwatch_logs import stream_name
from chalicelib.config import Settings
from chalicelib.domain.clock import utc_now
from chalicelib.domain.models import Autoscaling, ModelRecord
from chalicelib.domain.ports import (
    ExitCause,
    ReplicaExit,
    ReplicaReport,
    ReplicaState,
    RuntimeRefused,
    RuntimeUnit,
    RuntimeView,
)
from chalicelib.domain.runner_contract import runner_environment
from local.limits import Limits, find_limits
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
ENGINE_NEEDED = (
    "image models run in a container engine (podman or Docker) locally, or on AWS; "
    "local mode runs models as processes here (KRAKEN_LOCAL_RUNTIME=container to use an engine)"
)

ReportSink = Callable[[ReplicaReport], None]
Process = subprocess.Popen[bytes]  # a replica's stand-in: the runner itself, or the engine's `run` client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def die_with_parent() -> None:
    # If local mode is killed outright, its model processes must not live on (Linux: PR_SET_PDEATHSIG).
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class Launcher(Protocol):
    """How one replica of a model is started, stopped and accounted for: a process or a container."""

    description: str  # said at start-up: how models run

    def refusal(self, record: ModelRecord) -> str | None:
        """Why this model cannot run here at all, or None."""
        ...

    def launch(
        self, record: ModelRecord, artifact_uri: str | None, replica_id: str, port: int, handed: Handed
    ) -> Process:
        """Start the replica serving on 127.0.0.1:port with what ECS would hand its task (`handed`);
        its output comes on the process's stdout/stderr."""
        ...

    def stop(self, replica_id: str, process: Process) -> None:
        """End the replica: politely, then by force; returns once its process has ended."""
        ...

    def ended(self, replica_id: str, exit_code: int) -> ExitCause:
        """Why the replica's process ended, and forget what is left of it."""
        ...

    def root_pid(self, replica_id: str, process: Process) -> int | None:
        """The host pid of the replica's first process (the replica is it and its descendants), or None."""
        ...

    def close(self) -> None:
        """After the last replica ended, as local mode exits."""
        ...


@dataclass(frozen=True)
class LiveReplica:
    """A replica that serves, with what its version reserved: what Container Insights would measure."""

    model_id: str
    version: int
    replica_id: str
    find_root_pid: Callable[[], int | None]  # asked once per replica: with an engine it costs a call
    cpu_reserved_units: float  # 1024 per vCPU, as ECS counts
    memory_reserved_mib: float


@dataclass(frozen=True)
class SessionKeys:
    """Temporary credentials of a role's session, as ECS hands a task its task role's."""

    access_key: str
    secret_key: str
    token: str


@dataclass(frozen=True)
class Handed:
    """What ECS hands a task as it starts: its role's session (None: no role) and its secret env values."""

    keys: SessionKeys | None
    secret_env: Mapping[str, str]


def model_environment(
    settings: Settings,
    record: ModelRecord,
    artifact_uri: str | None,
    port: int,
    endpoint_url: str,
    handed: Handed,
) -> dict[str, str]:
    """What a model's replica reads: the runner's settings and the secret env values, and for the runner the
    emulator's address and its model's own role's session (all in the environment, never a command line)."""
    environment = {**handed.secret_env, **runner_environment(record, artifact_uri, settings.artifact_max_bytes, port)}
    keys = handed.keys
    if artifact_uri is None or keys is None:  # an image model reads only what the user gave it
        return environment
    return {
        "AWS_ACCESS_KEY_ID": keys.access_key,
        "AWS_SECRET_ACCESS_KEY": keys.secret_key,
        "AWS_SESSION_TOKEN": keys.token,
        "AWS_DEFAULT_REGION": settings.region,
        "AWS_ENDPOINT_URL": endpoint_url,
        **environment,
    }


def docker_available() -> bool:
    """Whether a Docker engine answers here (the process suite's image-refusal test needs none)."""
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
    """One replica of a model: its id, port and the OS process that stands for it."""

    def __init__(self, replica_id: str, process: Process, port: int) -> None:
        self.id = replica_id
        self.process = process
        self.port = port
        self.healthy = False
        self.routed = False  # its healthy report was applied: the record lists it, so the gateway may route to it
        self.failed_health_check = False


class _Supervisor:
    """Keeps one replica of a model version running, restarting it with backoff, until told to stop."""

    def __init__(self, runtime: LocalContainerRuntime, unit: RuntimeUnit) -> None:
        self.runtime = runtime
        self.record = unit.record
        self.version = unit.version
        self.artifact_uri = unit.artifact_uri
        self.identity = unit.identity
        self.stop_requested = threading.Event()
        self.task: _Task | None = None
        self.thread = threading.Thread(
            target=self._run, name=f"model-{unit.record.id[:8]}-v{unit.version}", daemon=True
        )

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
        launcher = self.runtime.launcher
        replica_id = uuid.uuid4().hex
        # As ECS does for each task: a fresh session of the model's own role.
        keys = self.runtime.sessions(self.identity, replica_id) if self.identity else None
        handed = Handed(keys, self.runtime.reveal(self.record.secret_env))
        task = _Task(replica_id, launcher.launch(self.record, self.artifact_uri, replica_id, port, handed), port)
        process = task.process
        self.task = task
        pumps = [self._pump(process.stdout, task), self._pump(process.stderr, task)]
        self._report(task, ReplicaState.STARTED)
        self._await_health(task)
        if task.healthy:
            self.runtime.shipper.flush()  # the domain reads what the runner said on loading from the logs
            self._report(task, ReplicaState.HEALTHY)
            task.routed = True
            self._watch(task)
        if process.poll() is None:
            launcher.stop(task.id, process)
        for pump in pumps:
            pump.join(timeout=5)
        self.runtime.shipper.flush()  # the domain reads the runner's last words from the logs
        # Like Docker and ECS, a process ended by signal N reports exit code 128 + N.
        exit_code = process.returncode if process.returncode >= 0 else 128 - process.returncode
        cause = launcher.ended(task.id, exit_code)
        if task.failed_health_check and cause is ExitCause.EXITED:
            cause = ExitCause.HEALTH_CHECK
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

    def _report(self, task: _Task, state: ReplicaState, ended: ReplicaExit | None = None) -> None:
        report = ReplicaReport(
            model_id=self.record.id,
            replica_id=task.id,
            state=state,
            at=utc_now(),
            address="127.0.0.1",
            port=task.port,
            exit=ended,
            version=self.version,
        )
        self.runtime.sink(report)


class ProcessLauncher:
    """Replicas as child processes of local mode: no engine needed and no isolation, but their size's limits."""

    def __init__(self, settings: Settings, limits: Limits | None = None) -> None:
        self._settings = settings
        self._limits = limits or find_limits()
        self.description = f"as child processes of local mode (no container isolation; {self._limits.description})"

    def refusal(self, record: ModelRecord) -> str | None:
        return ENGINE_NEEDED if record.docker_image else None

    def launch(
        self, record: ModelRecord, artifact_uri: str | None, replica_id: str, port: int, handed: Handed
    ) -> Process:
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(BACKEND_DIR),
            "PYTHONUNBUFFERED": "1",
            "KRAKEN_MODEL_HOST": "127.0.0.1",
            **model_environment(
                self._settings, record, artifact_uri, port, self._settings.aws_endpoint_url or "", handed
            ),
        }
        held = self._limits.prepare(replica_id, record.container_cpu, record.container_memory)

        def before_exec() -> None:
            if sys.platform == "linux":
                die_with_parent()
            held()

        process = subprocess.Popen(
            [sys.executable, "-m", "runner"],
            cwd=BACKEND_DIR,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=before_exec,
        )
        self._limits.started(replica_id, process.pid)
        return process

    def stop(self, replica_id: str, process: Process) -> None:  # noqa: ARG002 - a process is its own handle
        process.terminate()
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_GRACE_SECONDS)

    def ended(self, replica_id: str, exit_code: int) -> ExitCause:  # noqa: ARG002 - its limits know why
        try:
            killed_for_memory = self._limits.out_of_memory(replica_id)
        finally:
            self._limits.release(replica_id)
        return ExitCause.OUT_OF_MEMORY if killed_for_memory else ExitCause.EXITED

    def close(self) -> None:
        self._limits.close()

    def root_pid(self, replica_id: str, process: Process) -> int | None:  # noqa: ARG002
        return process.pid


class _VersionSet:
    """The replicas of one deployed version, like an ECS service's tasks: resized and replaced without a gap."""

    def __init__(self, runtime: LocalContainerRuntime, unit: RuntimeUnit) -> None:
        self.runtime = runtime
        self.unit = unit
        self.replicas: list[_Supervisor] = []
        self.stopped = False
        self._lock = threading.Lock()
        self.apply(unit)

    def apply(self, unit: RuntimeUnit) -> None:
        """Reach the unit's replica count; a changed size or code replaces replicas, new ones healthy first."""
        with self._lock:
            self.stopped = False
            self.replicas = [s for s in self.replicas if not s.stop_requested.is_set()]
            changed = unit.record.unit_settings() != self.unit.record.unit_settings() or (
                unit.artifact_uri != self.unit.artifact_uri
            )
            self.unit = unit
            count = unit.replicas
            if unit.autoscaling is not None and self.replicas:
                count = unit.autoscaling.bounded(len(self.replicas))  # the scaler's count stands, within bounds
            if changed:
                old = self.replicas
                self.replicas = [self._launch() for _ in range(count)]
                threading.Thread(target=self._retire_when_ready, args=(old,), daemon=True).start()
                return
            self._resize(count)

    def scale(self, count: int) -> None:
        """The autoscaler's new count: new replicas start beside the serving ones; surplus ones stop."""
        with self._lock:
            if not self.stopped:
                self._resize(count)

    def _resize(self, count: int) -> None:
        while len(self.replicas) < count:
            self.replicas.append(self._launch())
        while len(self.replicas) > count:
            self.replicas.pop().stop_requested.set()

    def _launch(self) -> _Supervisor:
        supervisor = _Supervisor(self.runtime, self.unit)
        supervisor.thread.start()
        return supervisor

    def _retire_when_ready(self, old: list[_Supervisor]) -> None:
        deadline = time.monotonic() + self.runtime.settings.start_timeout_seconds
        while time.monotonic() < deadline and not self.stopped:
            with self._lock:
                current = list(self.replicas)
            # Healthy is not enough: until its report is applied, the routes name only the old replicas,
            # and stopping them then left callers nothing to reach (502s during a resize).
            if all(s.task is not None and s.task.healthy and s.task.routed for s in current):
                break
            time.sleep(HEALTH_POLL_SECONDS)
        for supervisor in old:
            supervisor.stop_requested.set()

    def stop(self) -> bool:
        with self._lock:
            if self.stopped:
                return False
            self.stopped = True
            had_task = any(s.task is not None for s in self.replicas)
            for supervisor in self.replicas:
                supervisor.stop_requested.set()
            return had_task

    def view(self) -> RuntimeView:
        with self._lock:
            tasks = [s.task for s in self.replicas if s.task is not None]
        healthy = tuple(f"127.0.0.1:{task.port}" for task in tasks if task.healthy)
        return RuntimeView(
            desired_running=not self.stopped,
            healthy_endpoints=healthy,
            tasks_alive=len(tasks),
            desired_count=0 if self.stopped else len(self.replicas),
        )

    def threads(self) -> list[threading.Thread]:
        with self._lock:
            return [s.thread for s in self.replicas]

    def live(self) -> list[LiveReplica]:
        with self._lock:
            tasks = [s.task for s in self.replicas if s.task is not None and s.task.healthy]
            record, version = self.unit.record, self.unit.version
        launcher = self.runtime.launcher
        return [
            LiveReplica(
                record.id,
                version,
                task.id,
                functools.partial(launcher.root_pid, task.id, task.process),
                record.container_cpu * 1024,
                record.container_memory * 1024,
            )
            for task in tasks
        ]


class LocalContainerRuntime:
    """ContainerRuntime on this machine; `sink` receives each replica report (the domain's lifecycle)."""

    def __init__(
        self,
        settings: Settings,
        sink: ReportSink,
        shipper: LogShipper,
        launcher: Launcher,
        sessions: Callable[[str, str], SessionKeys],
        reveal: Callable[[Mapping[str, str]], dict[str, str]],
    ) -> None:
        self.settings = settings
        # (role, session name) -> that role's session: what ECS does for a task's role.
        self.sessions = sessions
        # Secret env references -> their values, read as ECS reads them (with the task execution role).
        self.reveal = reveal
        self.sink = sink
        self.shipper = shipper
        self.launcher = launcher
        self._sets: dict[tuple[str, int], _VersionSet] = {}
        self._lock = threading.Lock()

    def start(self, unit: RuntimeUnit) -> None:
        refusal = self.launcher.refusal(unit.record)
        if refusal:
            raise RuntimeRefused(refusal)
        key = (unit.record.id, unit.version)
        with self._lock:
            current = self._sets.get(key)
            if current is None:
                self._sets[key] = _VersionSet(self, unit)
                return
        current.apply(unit)

    def stop(self, model_id: str, version: int) -> bool:
        with self._lock:
            found = self._sets.get((model_id, version))
        return found.stop() if found is not None else False

    def remove(self, model_id: str) -> None:
        with self._lock:
            for key in [key for key in self._sets if key[0] == model_id]:
                del self._sets[key]

    def view(self, model_id: str, version: int) -> RuntimeView:
        with self._lock:
            found = self._sets.get((model_id, version))
        if found is None:
            return RuntimeView(desired_running=False, healthy_endpoints=(), tasks_alive=0)
        return found.view()

    def autoscaled(self) -> list[tuple[str, int, Autoscaling, int]]:
        """(model id, version, policy, replicas now) of every running version that scales itself."""
        with self._lock:
            sets = list(self._sets.items())
        return [
            (model_id, version, found.unit.autoscaling, len(found.replicas))
            for (model_id, version), found in sets
            if found.unit.autoscaling is not None and not found.stopped
        ]

    def scale(self, model_id: str, version: int, count: int) -> None:
        with self._lock:
            found = self._sets.get((model_id, version))
        if found is not None:
            found.scale(count)

    def live(self) -> list[LiveReplica]:
        """Every replica that is up and healthy, across models and versions."""
        with self._lock:
            sets = list(self._sets.values())
        return [replica for version_set in sets for replica in version_set.live()]

    def shutdown(self) -> None:
        """Stop every model process and wait for them, as local mode exits."""
        with self._lock:
            sets = list(self._sets.values())
        for version_set in sets:
            version_set.stop()
        for version_set in sets:
            for thread in version_set.threads():
                thread.join(timeout=STOP_GRACE_SECONDS + 5)
        self.launcher.close()
