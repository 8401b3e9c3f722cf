"""CloudWatch metrics read back for charts: aligned series of a model's latency, traffic, errors and containers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.aws_errors import CLOUDWATCH, translated
from chalicelib.adapters.prediction_log import VERSION_DIMENSION, version_dimension
from chalicelib.domain.ports import MetricSeries
from chalicelib.domain.resources import ResourceSample, resource_series
from chalicelib.domain.rollout_plans import WindowCounts

# Series name -> (metric, statistic); success rate is derived from requests and errors.
SERIES = {
    "latencyAvg": ("Latency", "Average"),
    "latencyP50": ("Latency", "p50"),
    "latencyP90": ("Latency", "p90"),
    "latencyP99": ("Latency", "p99"),
    "requests": ("Requests", "Sum"),
    "errors4xx": ("Errors4xx", "Sum"),
    "errors5xx": ("Errors5xx", "Sum"),
}
# What ECS Container Insights records per service (one service per model version); local mode samples
# its replicas into the same names. CPU in CPU units (1024 per vCPU), memory in MiB.
CONTAINER_INSIGHTS = "ECS/ContainerInsights"
CONTAINER_METRICS = {
    "cpu_used": ("CpuUtilized", "Sum"),
    "cpu_reserved": ("CpuReserved", "Sum"),
    "memory_used": ("MemoryUtilized", "Sum"),
    "memory_reserved": ("MemoryReserved", "Sum"),
    "memory_peak": ("MemoryUtilized", "Maximum"),
    "memory_peak_reserved": ("MemoryReserved", "Maximum"),
}
MAX_QUERIES = 500  # GetMetricData's limit per call
WINDOW_RESOLUTION_SECONDS = 60  # the gateway's EMF metrics are per minute


def container_dimensions(cluster: str, service: str) -> list[dict[str, str]]:
    return [{"Name": "ClusterName", "Value": cluster}, {"Name": "ServiceName", "Value": service}]


class CloudWatchMetricsReader:
    def __init__(self, cloudwatch: Any, namespace: str, cluster: str, service_name: Callable[[str, int], str]) -> None:
        self._cloudwatch = cloudwatch
        self._namespace = namespace
        self._cluster = cluster
        self._service_name = service_name

    def series(
        self,
        model_id: str,
        start: datetime,
        end: datetime,
        period: int,
        version: int | None = None,
        containers: Sequence[int] = (),
    ) -> MetricSeries:
        """One point per period from start to end (both aligned to the period); None where nothing was sent.

        `containers` are the versions whose CPU and memory count (one version's, or the model's)."""
        dimensions = [{"Name": "ModelId", "Value": model_id}]
        if version is not None:
            dimensions = [{"Name": VERSION_DIMENSION, "Value": version_dimension(model_id, version)}]
        # The last, still filling period is included: a prediction a moment ago should show.
        points = math.ceil((end - start).total_seconds() / period)
        grid = [start + timedelta(seconds=period * i) for i in range(points)]
        queries = [
            _query(name.lower(), self._namespace, metric, dimensions, period, stat)
            for name, (metric, stat) in SERIES.items()
        ]
        for number in containers:
            service = container_dimensions(self._cluster, self._service_name(model_id, number))
            queries += [
                _query(f"{name}_{number}", CONTAINER_INSIGHTS, metric, service, period, stat)
                for name, (metric, stat) in CONTAINER_METRICS.items()
            ]
        by_id = self._fetch(queries, start, end)
        series = {name: [by_id[name.lower()].get(t) for t in grid] for name in SERIES}
        series["successRate"] = [
            None if not requests else round(1 - ((e5 or 0) / requests), 6)
            for requests, e5 in zip(series["requests"], series["errors5xx"], strict=True)
        ]
        samples = [
            [
                ResourceSample(**{name: by_id[f"{name}_{number}"].get(t) for name in CONTAINER_METRICS})
                for number in containers
            ]
            for t in grid
        ]
        series.update(resource_series(samples))
        return MetricSeries(grid, series)

    def window(self, model_id: str, version: int, start: datetime, end: datetime) -> WindowCounts:
        """The version's totals over the window as one period: CloudWatch computes the p99 of all its requests.

        The period is whole minutes (the resolution of the gateway's EMF metrics) from `start` on, so it may
        reach a little past `end`; nothing is recorded there yet."""
        dimensions = [{"Name": VERSION_DIMENSION, "Value": version_dimension(model_id, version)}]
        period = WINDOW_RESOLUTION_SECONDS * max(
            1, math.ceil((end - start).total_seconds() / WINDOW_RESOLUTION_SECONDS)
        )
        wanted = {"requests": ("Requests", "Sum"), "e4": ("Errors4xx", "Sum"), "e5": ("Errors5xx", "Sum")}
        wanted["p99"] = ("Latency", "p99")
        queries = [
            _query(key, self._namespace, metric, dimensions, period, stat) for key, (metric, stat) in wanted.items()
        ]
        by_id = self._fetch(queries, start, start + timedelta(seconds=period))

        def total(key: str) -> float:
            return sum(by_id[key].values())

        p99 = max(by_id["p99"].values(), default=None)
        return WindowCounts(int(total("requests")), int(total("e4")), int(total("e5")), p99)

    def _fetch(self, queries: list[dict[str, Any]], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        by_id: dict[str, dict[datetime, float]] = {q["Id"]: {} for q in queries}
        with translated(CLOUDWATCH):
            for first in range(0, len(queries), MAX_QUERIES):
                token = None
                while True:
                    kwargs: dict[str, Any] = {
                        "MetricDataQueries": queries[first : first + MAX_QUERIES],
                        "StartTime": start,
                        "EndTime": end,
                    }
                    if token:
                        kwargs["NextToken"] = token
                    answer = self._cloudwatch.get_metric_data(**kwargs)
                    for result in answer["MetricDataResults"]:
                        by_id[result["Id"]].update(zip(result["Timestamps"], result["Values"], strict=False))
                    token = answer.get("NextToken")
                    if not token:
                        break
        return by_id


def _query(
    query_id: str, namespace: str, metric: str, dimensions: list[dict[str, str]], period: int, stat: str
) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
            "Period": period,
            "Stat": stat,
        },
    }
