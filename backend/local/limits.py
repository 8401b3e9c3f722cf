"""Real CPU and memory limits for model processes: a cgroup per replica (v2, or v1), else a memory watchdog.

Fargate kills a task that passes its memory and throttles its CPU to what it reserved; local mode's
processes must fail the same way, or a model that works here breaks on its first day on AWS.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import psutil

logger = logging.getLogger("kraken.local")
CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP = "kraken-local"  # every replica's group sits in this one, named after the local mode's pid
CPU_PERIOD_MICROSECONDS = 100_000
WATCH_SECONDS = 0.2
MECHANISM = "KRAKEN_LOCAL_LIMITS"


class Limits(Protocol):
    description: str

    def prepare(self, replica_id: str, cpu: float, memory_gb: float) -> Callable[[], None]:
        """Make the replica's limits; returns what its child process runs before exec to be held to them."""
        ...

    def started(self, replica_id: str, pid: int) -> None: ...

    def out_of_memory(self, replica_id: str) -> bool:
        """Whether the replica was killed for passing its memory limit."""
        ...

    def release(self, replica_id: str) -> None: ...

    def close(self) -> None:
        """As local mode exits: what is left of its limits goes."""
        ...


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _join(procs: list[Path]) -> Callable[[], None]:
    def join() -> None:  # runs in the child between fork and exec: its own pid goes into each group
        for file in procs:
            with file.open("w") as handle:
                handle.write(str(os.getpid()))

    return join


def _remove(group: Path) -> None:
    """A group can go once its processes have: kill stragglers (a worker the runner forked), then rmdir."""
    procs = group / "cgroup.procs"
    for _ in range(50):
        try:
            pids = [int(p) for p in procs.read_text().split()] if procs.exists() else []
        except OSError:
            pids = []
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    try:
        group.rmdir()
    except OSError as error:
        logger.warning("could not remove the cgroup %s: %s", group, error)


class CgroupV2Limits:
    """memory.max (no swap) and cpu.max in a group per replica of the unified hierarchy."""

    description = "cgroup v2 CPU and memory limits"

    def __init__(self, root: Path) -> None:
        self._parent = root / f"{GROUP}-{os.getpid()}"
        self._parent.mkdir(exist_ok=True)
        _write(root / "cgroup.subtree_control", "+memory +cpu")
        _write(self._parent / "cgroup.subtree_control", "+memory +cpu")

    def _group(self, replica_id: str) -> Path:
        return self._parent / replica_id

    def prepare(self, replica_id: str, cpu: float, memory_gb: float) -> Callable[[], None]:
        group = self._group(replica_id)
        group.mkdir()
        _write(group / "memory.max", str(int(memory_gb * 2**30)))
        _write(group / "memory.swap.max", "0")
        _write(group / "cpu.max", f"{int(cpu * CPU_PERIOD_MICROSECONDS)} {CPU_PERIOD_MICROSECONDS}")
        return _join([group / "cgroup.procs"])

    def started(self, replica_id: str, pid: int) -> None:
        pass

    def out_of_memory(self, replica_id: str) -> bool:
        events = (self._group(replica_id) / "memory.events").read_text().split()
        return int(dict(zip(events[::2], events[1::2], strict=False)).get("oom_kill", "0")) > 0

    def release(self, replica_id: str) -> None:
        _remove(self._group(replica_id))

    def close(self) -> None:
        _remove(self._parent)


class CgroupV1Limits:
    """memory.limit_in_bytes (and memsw: no swap) and a CFS quota, in the memory and cpu hierarchies."""

    description = "cgroup v1 CPU and memory limits"

    def __init__(self, memory_root: Path, cpu_root: Path) -> None:
        name = f"{GROUP}-{os.getpid()}"
        self._memory = memory_root / name
        self._cpu = cpu_root / name
        self._memory.mkdir(exist_ok=True)
        self._cpu.mkdir(exist_ok=True)

    def prepare(self, replica_id: str, cpu: float, memory_gb: float) -> Callable[[], None]:
        memory, processor = self._memory / replica_id, self._cpu / replica_id
        memory.mkdir()
        processor.mkdir()
        limit = str(int(memory_gb * 2**30))
        _write(memory / "memory.limit_in_bytes", limit)
        if (memory / "memory.memsw.limit_in_bytes").exists():  # only with swap accounting
            _write(memory / "memory.memsw.limit_in_bytes", limit)
        _write(processor / "cpu.cfs_period_us", str(CPU_PERIOD_MICROSECONDS))
        _write(processor / "cpu.cfs_quota_us", str(int(cpu * CPU_PERIOD_MICROSECONDS)))
        return _join([memory / "cgroup.procs", processor / "cgroup.procs"])

    def started(self, replica_id: str, pid: int) -> None:
        pass

    def out_of_memory(self, replica_id: str) -> bool:
        control = (self._memory / replica_id / "memory.oom_control").read_text().split()
        return int(dict(zip(control[::2], control[1::2], strict=False)).get("oom_kill", "0")) > 0

    def release(self, replica_id: str) -> None:
        _remove(self._memory / replica_id)
        _remove(self._cpu / replica_id)

    def close(self) -> None:
        _remove(self._memory)
        _remove(self._cpu)


class WatchdogLimits:
    """Where no cgroup can be made: the process tree's resident memory is watched and killed past its limit.

    CPU cannot be limited this way; the start-up line says so."""

    description = "a memory limit on resident memory (no cgroups here, so no CPU limit)"

    def __init__(self) -> None:
        self._limits: dict[str, int] = {}
        self._killed: set[str] = set()
        self._lock = threading.Lock()

    def prepare(self, replica_id: str, cpu: float, memory_gb: float) -> Callable[[], None]:  # noqa: ARG002
        with self._lock:
            self._limits[replica_id] = int(memory_gb * 2**30)
        return lambda: None

    def started(self, replica_id: str, pid: int) -> None:
        watcher = threading.Thread(target=self._watch, args=(replica_id, pid), name=f"memory-{replica_id[:8]}")
        watcher.daemon = True
        watcher.start()

    def _watch(self, replica_id: str, pid: int) -> None:
        limit = self._limits.get(replica_id, 0)
        try:
            root = psutil.Process(pid)
            while root.is_running() and root.status() != psutil.STATUS_ZOMBIE:
                tree = [root, *root.children(recursive=True)]
                used = 0
                for process in tree:
                    try:
                        used += process.memory_info().rss
                    except psutil.NoSuchProcess:
                        continue
                if used > limit:
                    with self._lock:
                        self._killed.add(replica_id)
                    for process in tree:
                        try:
                            process.kill()
                        except psutil.NoSuchProcess:
                            continue
                    return
                time.sleep(WATCH_SECONDS)
        except psutil.NoSuchProcess:
            return

    def out_of_memory(self, replica_id: str) -> bool:
        with self._lock:
            return replica_id in self._killed

    def release(self, replica_id: str) -> None:
        with self._lock:
            self._limits.pop(replica_id, None)
            self._killed.discard(replica_id)

    def close(self) -> None:
        pass


def cgroup_version() -> int | None:
    """2 or 1 when this process may make CPU and memory cgroups (as root, with the controllers), else None."""
    if not os.access(CGROUP_ROOT, os.W_OK) and os.geteuid() != 0:
        return None
    controllers = CGROUP_ROOT / "cgroup.controllers"
    if controllers.exists():
        return 2 if {"memory", "cpu"} <= set(controllers.read_text().split()) else None
    memory, cpu = CGROUP_ROOT / "memory", CGROUP_ROOT / "cpu"
    if (
        os.access(memory, os.W_OK)
        and (memory / "memory.limit_in_bytes").exists()
        and (cpu / "cpu.cfs_quota_us").exists()
    ):
        return 1
    return None


def _forget_dead_runs(*roots: Path) -> None:
    """Empty groups a local mode killed by SIGKILL left behind (its processes died with it)."""
    for root in roots:
        for group in root.glob(f"{GROUP}-*"):
            pid = group.name.rsplit("-", 1)[1]
            if pid.isdigit() and not psutil.pid_exists(int(pid)):
                for child in [g for g in group.iterdir() if g.is_dir()]:
                    _remove(child)
                _remove(group)


def find_limits() -> CgroupV2Limits | CgroupV1Limits | WatchdogLimits:
    """The strongest mechanism this machine lets local mode use (KRAKEN_LOCAL_LIMITS=watchdog: the weakest)."""
    chosen = os.environ.get(MECHANISM, "auto")
    if chosen not in ("auto", "watchdog"):
        raise ValueError(f"{MECHANISM} is auto or watchdog, not {chosen!r}")
    if chosen == "watchdog":
        return WatchdogLimits()
    try:
        version = cgroup_version()
        if version == 2:
            _forget_dead_runs(CGROUP_ROOT)
            return CgroupV2Limits(CGROUP_ROOT)
        if version == 1:
            _forget_dead_runs(CGROUP_ROOT / "memory", CGROUP_ROOT / "cpu")
            return CgroupV1Limits(CGROUP_ROOT / "memory", CGROUP_ROOT / "cpu")
    except OSError as error:  # the hierarchy is read-only or delegated elsewhere here
        logger.info("no cgroup for model processes (%s): watching their memory instead", error)
    return WatchdogLimits()
