"""Worker processes: one per vCPU of the container, forked after the model is loaded, sharing the port."""

from __future__ import annotations

import contextlib
import ctypes
import math
import mmap
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from runner.logs import log

CGROUP = Path("/sys/fs/cgroup")
RESTART_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0)
STOP_GRACE_SECONDS = 10
POLL_SECONDS = 0.05
PR_SET_PDEATHSIG = 1


def _cgroup_quota(root: Path) -> float | None:
    """The CPU quota of this cgroup in vCPUs: v2's `cpu.max`, else v1's cfs quota/period; None if unlimited."""
    try:
        quota, _, period = (root / "cpu.max").read_text().partition(" ")
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    for directory in (root / "cpu", root / "cpu,cpuacct"):
        try:
            quota_us = int((directory / "cpu.cfs_quota_us").read_text())
            period_us = int((directory / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return None if quota_us <= 0 or period_us <= 0 else quota_us / period_us
    return None


def container_cpus(root: Path = CGROUP) -> int:
    """vCPUs this container may use: the cgroup quota rounded up, never more than the CPUs we may run on."""
    available = len(os.sched_getaffinity(0))
    quota = _cgroup_quota(root)
    return available if quota is None else max(1, min(available, math.ceil(quota - 1e-9)))


def on_ecs() -> bool:
    """ECS (Fargate included) sets these in every container it starts."""
    return bool(os.environ.get("ECS_CONTAINER_METADATA_URI_V4") or os.environ.get("ECS_CONTAINER_METADATA_URI"))


def worker_count(configured: int, root: Path = CGROUP) -> int:
    """KRAKEN_WORKERS when set; else one worker per vCPU of the cgroup quota; on ECS without a visible quota,
    one per CPU we may run on. A process with no CPU limit anywhere (local mode, where many models share a
    developer's machine and own none of its CPUs) runs one."""
    if configured:
        return configured
    if _cgroup_quota(root) is not None or on_ecs():
        return container_cpus(root)
    return 1


def threads_per_worker(configured: int) -> int:
    """Each worker's share of the vCPUs, for libraries with their own thread pools."""
    return max(1, container_cpus() // worker_count(configured))


def limit_threads(threads: int) -> None:
    """Cap BLAS and OpenMP pools in this worker, so N workers do not each spin one thread per host core."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(threads)


class Readiness:
    """One byte per worker in memory shared across fork(): 1 while that worker serves. Any worker's health
    answer counts them, so a health check reflects all workers whichever one it lands on."""

    def __init__(self, workers: int) -> None:
        self._slots = mmap.mmap(-1, max(1, workers))  # anonymous and MAP_SHARED: children write, all see
        self.total = workers

    def set(self, slot: int, ready: bool) -> None:
        self._slots[slot] = 1 if ready else 0

    def count(self) -> tuple[int, int]:
        return sum(self._slots[: self.total]), self.total


def _stop_with_parent(parent: int) -> None:
    # A parent killed outright (SIGKILL, OOM) must not leave workers holding the port (Linux: PR_SET_PDEATHSIG).
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above took effect
        os._exit(0)


class Pool:
    """The parent after loading: forks `total` workers running `serve(slot)`, restarts any that dies, and on
    SIGTERM/SIGINT stops them all and returns 0. Workers inherit the listening socket (one accept queue)."""

    def __init__(self, total: int, readiness: Readiness, serve: Callable[[int], int]) -> None:
        self.total = total
        self.readiness = readiness
        self._serve = serve
        self._children: dict[int, int] = {}  # pid -> slot
        self._stopping = False

    def _fork(self, slot: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the parent's code
            code = 1
            try:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(signum, signal.SIG_DFL)
                _stop_with_parent(parent)
                code = self._serve(slot)
            finally:
                os._exit(code)
        self._children[pid] = slot

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self._stopping = True
        for pid in list(self._children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def take_signals(self) -> None:
        """From now on a stop signal stops the pool (call before deciding to run it, so none is lost)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)

    def run(self) -> int:
        self.take_signals()
        for slot in range(self.total):
            if self._stopping:  # a stop between two forks: the ones started already got their SIGTERM
                break
            self._fork(slot)
        log("INFO", "workers started", workers=self.total, pids=sorted(self._children))
        failures = 0
        deadline: float | None = None
        # Polling (not a blocking wait) so a stop that arrives mid-wait is acted on, with a grace period.
        while self._children:
            if self._stopping and deadline is None:
                deadline = time.monotonic() + STOP_GRACE_SECONDS
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                if deadline is not None and time.monotonic() > deadline:
                    for child in self._children:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(child, signal.SIGKILL)
                time.sleep(POLL_SECONDS)
                continue
            if pid not in self._children:
                continue
            slot = self._children.pop(pid)
            self.readiness.set(slot, False)
            if self._stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            log("ERROR", "worker exited; starting another", slot=slot, pid=pid, exitCode=code)
            time.sleep(RESTART_BACKOFF_SECONDS[min(failures, len(RESTART_BACKOFF_SECONDS) - 1)])
            failures += 1
            if not self._stopping:
                self._fork(slot)
        return 0
