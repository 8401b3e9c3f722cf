"""Local mode's Container Insights: each replica's CPU and memory sampled into the metrics ECS records."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.cloudwatch_metrics import CONTAINER_INSIGHTS, container_dimensions
from chalicelib.domain.clock import utc_now
from local.runtime import LiveReplica

logger = logging.getLogger("kraken.local")
SAMPLE_SECONDS = "KRAKEN_RESOURCE_SAMPLE_SECONDS"
DEFAULT_SAMPLE_SECONDS = 15.0
MAX_DATUMS_PER_CALL = 1000  # PutMetricData's limit


def sample_interval() -> float:
    raw = os.environ.get(SAMPLE_SECONDS)
    try:
        seconds = float(raw) if raw else DEFAULT_SAMPLE_SECONDS
    except ValueError:
        raise ValueError(f"{SAMPLE_SECONDS} must be a number of seconds, not {raw!r}") from None
    if seconds <= 0:
        raise ValueError(f"{SAMPLE_SECONDS} must be positive")
    return seconds


def tree_usage(pid: int) -> tuple[float, float]:
    """CPU seconds so far and resident MiB of a process and all its descendants (a runner forks workers)."""
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    cpu = rss = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            cpu += times.user + times.system
            rss += process.memory_info().rss
        except psutil.NoSuchProcess:  # a worker that ended between the listing and the reading
            continue
    return cpu, rss / (1024 * 1024)


class ResourceSampler:
    """Every interval: each live replica's CPU (as CPU units used, 1024 per vCPU) and memory (MiB)."""

    def __init__(
        self,
        live: Callable[[], list[LiveReplica]],
        cloudwatch: Any,
        cluster: str,
        service_name: Callable[[str, int], str],
    ) -> None:
        self._live = live
        self._cloudwatch = cloudwatch
        self._cluster = cluster
        self._service_name = service_name
        self._pids: dict[str, int | None] = {}
        self._last: dict[str, tuple[float, float]] = {}  # replica -> (monotonic time, CPU seconds)
        self._cpu_percent: dict[str, tuple[str, int, float]] = {}  # replica -> (model, version, latest CPU %)
        self._stop = threading.Event()

    def sample_once(self) -> int:
        """Measure and send; returns how many values were sent."""
        data: list[dict[str, Any]] = []
        now = utc_now()
        seen = set()
        for replica in self._live():
            seen.add(replica.replica_id)
            measured = self._measure(replica)
            if measured is None:
                continue
            cpu_units, memory_mib = measured
            dimensions = container_dimensions(self._cluster, self._service_name(replica.model_id, replica.version))
            values = [("MemoryUtilized", memory_mib), ("MemoryReserved", replica.memory_reserved_mib)]
            if cpu_units is not None:  # a rate needs two samples
                values += [("CpuUtilized", cpu_units), ("CpuReserved", replica.cpu_reserved_units)]
                percent = 100 * cpu_units / replica.cpu_reserved_units
                self._cpu_percent[replica.replica_id] = (replica.model_id, replica.version, percent)
            data += [
                {"MetricName": name, "Dimensions": dimensions, "Timestamp": now, "Value": value}
                for name, value in values
            ]
        for gone in set(self._pids) - seen:
            self._pids.pop(gone, None)
            self._last.pop(gone, None)
            self._cpu_percent.pop(gone, None)
        for start in range(0, len(data), MAX_DATUMS_PER_CALL):
            try:
                self._cloudwatch.put_metric_data(
                    Namespace=CONTAINER_INSIGHTS, MetricData=data[start : start + MAX_DATUMS_PER_CALL]
                )
            except (ClientError, BotoCoreError):
                logger.warning("the emulator refused %d container metric values", len(data[start:]))
        return len(data)

    def cpu_percent(self, model_id: str, version: int) -> float | None:
        """The version's replicas' latest CPU, averaged, as a share of what each reserved (ECS's CPUUtilization)."""
        found = [p for m, v, p in list(self._cpu_percent.values()) if (m, v) == (model_id, version)]
        return round(sum(found) / len(found), 1) if found else None

    def _measure(self, replica: LiveReplica) -> tuple[float | None, float] | None:
        if replica.replica_id not in self._pids:
            self._pids[replica.replica_id] = replica.find_root_pid()
        pid = self._pids[replica.replica_id]
        if pid is None:
            return None
        try:
            cpu_seconds, memory_mib = tree_usage(pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        now = time.monotonic()
        previous = self._last.get(replica.replica_id)
        self._last[replica.replica_id] = (now, cpu_seconds)
        if previous is None or now <= previous[0]:
            return None, memory_mib
        return (cpu_seconds - previous[1]) / (now - previous[0]) * 1024, memory_mib

    def start(self, interval: float) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.sample_once()
                except Exception:  # the next round tries again
                    logger.exception("sampling the models' CPU and memory failed")

        threading.Thread(target=loop, name="local-resources", daemon=True).start()

    def close(self) -> None:
        self._stop.set()
