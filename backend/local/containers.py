"""Replicas as containers (podman or Docker) with the model's CPU and memory limits, as Fargate runs them.

Each replica is one `<engine> run` in the foreground: its output arrives on the engine's stdout and
stderr (shipped to the emulator's logs like a process's), its exit code is the container's, and
afterwards `inspect` says whether the kernel killed it for passing its memory limit. The model's
environment goes in through an env file readable by local mode only, never on a command line.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from chalicelib.config import Settings
from chalicelib.domain.models import ModelRecord
from chalicelib.domain.ports import ExitCause
from local.engine import RUNTIME_SETTING, Engine, EngineUnavailable, ensure_runner_image, find_engine
from local.logs import LogShipper
from local.runtime import (
    STOP_GRACE_SECONDS,
    Handed,
    Launcher,
    LocalContainerRuntime,
    Process,
    ProcessLauncher,
    ReportSink,
    SessionKeys,
    die_with_parent,
    model_environment,
)

logger = logging.getLogger("kraken.local.containers")
LABEL = "dev.kraken.local"  # every container local mode starts carries it, with the pid of its owner
MODEL_LABEL = "dev.kraken.model-id"
# slirp4netns gives each container its own network without touching the host's firewall (netavark
# would need iptables); the host's loopback, where the emulator listens, is 10.0.2.2 from inside.
PODMAN_NETWORK = "slirp4netns:allow_host_loopback=true"
PODMAN_HOST_LOOPBACK = "10.0.2.2"
ENGINE_SECONDS = 30


class ContainerLauncher:
    """Launcher whose replicas are containers of the runner image, or of the model's own image."""

    def __init__(self, settings: Settings, engine: Engine, runner_image: str) -> None:
        self._settings = settings
        self._engine = engine
        self._runner_image = runner_image
        self._secrets = Path(tempfile.mkdtemp(prefix="kraken-env-"))  # 0700: env files are for local mode only
        atexit.register(shutil.rmtree, self._secrets, ignore_errors=True)
        self.description = f"in {engine.command} containers with their CPU and memory limits ({runner_image})"

    def refusal(self, record: ModelRecord) -> str | None:
        broken = sorted(name for name, value in record.env.items() if "\n" in value or "\r" in value)
        if broken:  # an env file has one variable per line: such a value would become other variables
            return f"local containers take no line breaks in env values: {', '.join(broken)}"
        if record.docker_image and not self._engine.has_image(record.docker_image):
            return (
                f"the image {record.docker_image} is not on this machine: build or pull it with "
                f"{self._engine.command} (podman build / docker pull), then start the model again"
            )
        return None

    def launch(
        self, record: ModelRecord, artifact_uri: str | None, replica_id: str, port: int, handed: Handed
    ) -> Process:
        on_host_network = self._on_host_network(artifact_uri)
        listen_port = port if on_host_network else record.container_port
        environment = model_environment(self._settings, record, artifact_uri, listen_port, self._emulator_url(), handed)
        if on_host_network:
            environment["KRAKEN_MODEL_HOST"] = "127.0.0.1"
        workdir = self._secrets / replica_id
        workdir.mkdir(mode=0o700)
        env_file = workdir / "env"
        descriptor = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.writelines(f"{name}={value}\n" for name, value in sorted(environment.items()))
        memory = f"{int(record.container_memory * 1024)}m"
        command = [
            self._engine.command,
            "run",
            "--name",
            self._name(replica_id),
            "--label",
            f"{LABEL}={os.getpid()}",
            "--label",
            f"{MODEL_LABEL}={record.id}",
            *(["--network", "host"] if on_host_network else self._network(record, port)),
            "--cpus",
            f"{record.container_cpu:g}",
            "--memory",
            memory,
            "--memory-swap",  # as on Fargate: no swap, so passing the limit is an OOM kill
            memory,
            "--env-file",
            str(env_file),
            "--no-healthcheck",  # local mode probes the replica itself, as the ECS agent would
            record.docker_image or self._runner_image,
        ]
        return subprocess.Popen(
            command,
            # conmon (podman 4.3) writes its "oom" verdict into its working directory: this one, not the caller's.
            cwd=workdir,
            env=self._engine.environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )

    def stop(self, replica_id: str, process: Process) -> None:
        seconds = str(int(STOP_GRACE_SECONDS))
        try:
            self._engine.run("stop", "--time", seconds, self._name(replica_id), timeout=STOP_GRACE_SECONDS + 20)
        except subprocess.TimeoutExpired:
            logger.warning("the engine did not stop container %s in time", self._name(replica_id))
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_GRACE_SECONDS)

    def ended(self, replica_id: str, exit_code: int) -> ExitCause:
        workdir = self._secrets / replica_id
        conmon_saw_oom = (workdir / "oom").exists()
        shutil.rmtree(workdir, ignore_errors=True)
        name = self._name(replica_id)
        try:
            verdict = "{{.State.OOMKilled}} {{.Id}}"
            state = self._engine.run("inspect", "--format", verdict, name, timeout=ENGINE_SECONDS)
            self._engine.run("rm", "--force", name, timeout=ENGINE_SECONDS)
        except subprocess.TimeoutExpired:
            logger.warning("the engine did not answer about container %s", name)
            return ExitCause.EXITED
        engine_says, _, container_id = state.stdout.strip().partition(" ")
        # The kernel's own verdict: a container killed by hand (SIGKILL, also 137) was not out of memory.
        kernel_says = conmon_saw_oom or bool(container_id and _kernel_killed_for_memory(container_id))
        if exit_code == 137 and (engine_says == "true" or kernel_says):
            return ExitCause.OUT_OF_MEMORY
        return ExitCause.EXITED

    def root_pid(self, replica_id: str, process: Process) -> int | None:  # noqa: ARG002 - the engine knows it
        inspected = self._engine.run("inspect", "--format", "{{.State.Pid}}", self._name(replica_id))
        pid = inspected.stdout.strip()
        return int(pid) if inspected.returncode == 0 and pid.isdigit() and pid != "0" else None

    def close(self) -> None:
        shutil.rmtree(self._secrets, ignore_errors=True)

    def remove_leftovers(self) -> None:
        """Remove containers an earlier local mode left when it was killed outright (its pid is gone)."""
        listed = self._engine.run(
            "ps", "--all", "--filter", f"label={LABEL}", "--format", f'{{{{.ID}}}} {{{{index .Labels "{LABEL}"}}}}'
        )
        for line in listed.stdout.splitlines():
            container, _, owner = line.partition(" ")
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                self._engine.run("rm", "--force", container, timeout=ENGINE_SECONDS)

    def _name(self, replica_id: str) -> str:
        return f"kraken-{self._settings.stage}-{replica_id[:16]}"

    def _on_host_network(self, artifact_uri: str | None) -> bool:
        # Docker has no slirp4netns: a runner reaches the emulator (on the host's 127.0.0.1 only) from
        # the host's network, listening on 127.0.0.1:<free port> itself. Image models keep their own.
        return self._engine.command == "docker" and artifact_uri is not None

    def _network(self, record: ModelRecord, port: int) -> list[str]:
        published = ["--publish", f"127.0.0.1:{port}:{record.container_port}"]
        if self._engine.command == "podman":
            return ["--network", PODMAN_NETWORK, *published]
        return published

    def _emulator_url(self) -> str:
        """The emulator's address as seen from inside a container."""
        url = urlsplit(self._settings.aws_endpoint_url or "")
        if self._engine.command != "podman" or url.hostname not in ("127.0.0.1", "localhost"):
            return url.geturl()
        return urlunsplit(url._replace(netloc=f"{PODMAN_HOST_LOOPBACK}:{url.port}"))


def _kernel_killed_for_memory(container_id: str) -> bool:
    """Whether the kernel log records an OOM kill in the container's memory cgroup.

    podman 4.3's OOMKilled stays false here although the kernel killed the container for its memory
    limit (conmon notices, but writes its verdict where podman does not look); the kernel's
    "oom-kill:" record names the cgroup, which carries the container's id. Without the log: no.
    """
    try:
        kmsg = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    wanted = container_id.encode()
    try:
        while True:
            try:
                record = os.read(kmsg, 8192)
            except BlockingIOError:  # read to the end of the log
                return False
            except BrokenPipeError:  # the record was overwritten while reading; the next one follows
                continue
            if b"oom-kill:" in record and wanted in record:
                return True
    finally:
        os.close(kmsg)


def _launcher(settings: Settings) -> Launcher:
    wanted = os.environ.get(RUNTIME_SETTING, "auto").strip() or "auto"
    if wanted not in ("auto", "container", "process"):
        raise SystemExit(f"{RUNTIME_SETTING} must be process, container or auto, not {wanted!r}")
    if wanted == "process":
        return ProcessLauncher(settings)
    try:
        engine = find_engine()
        launcher = ContainerLauncher(settings, engine, ensure_runner_image(engine))
    except (EngineUnavailable, OSError, subprocess.SubprocessError) as error:
        if wanted == "container":
            raise SystemExit(f"{RUNTIME_SETTING}=container, but no container can run here: {error}") from error
        fallback = ProcessLauncher(settings)
        fallback.description += f"; no container engine works here: {error}"
        return fallback
    launcher.remove_leftovers()
    return launcher


def local_runtime(
    settings: Settings,
    sink: ReportSink,
    shipper: LogShipper,
    sessions: Callable[[str, str], SessionKeys],
    reveal: Callable[[Mapping[str, str]], dict[str, str]],
) -> LocalContainerRuntime:
    """Local mode's runtime: containers where an engine works (or as KRAKEN_LOCAL_RUNTIME says), else processes."""
    return LocalContainerRuntime(settings, sink, shipper, _launcher(settings), sessions, reveal)
