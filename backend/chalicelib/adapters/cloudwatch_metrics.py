"""CloudWatch metrics read back for charts: aligned series of a model's latency, traffic and errors."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.aws_errors import CLOUDWATCH, translated
from chalicelib.adapters.prediction_log import VERSION_DIMENSION, version_dimension
from chalicelib.domain.ports import MetricSeries

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


class CloudWatchMetricsReader:
    def __init__(self, cloudwatch: Any, namespace: str) -> None:
        self._cloudwatch = cloudwatch
        self._namespace = namespace

    def series(
        self, model_id: str, start: datetime, end: datetime, period: int, version: int | None = None
    ) -> MetricSeries:
        """One point per period from start to end (both aligned to the period); None where nothing was sent."""
        dimensions = [{"Name": "ModelId", "Value": model_id}]
        if version is not None:
            dimensions = [{"Name": VERSION_DIMENSION, "Value": version_dimension(model_id, version)}]
        # The last, still filling period is included: a prediction a moment ago should show.
        points = math.ceil((end - start).total_seconds() / period)
        grid = [start + timedelta(seconds=period * i) for i in range(points)]
        queries: list[dict[str, Any]] = [
            {
                "Id": name.lower(),
                "MetricStat": {
                    "Metric": {
                        "Namespace": self._namespace,
                        "MetricName": metric,
                        "Dimensions": dimensions,
                    },
                    "Period": period,
                    "Stat": stat,
                },
            }
            for name, (metric, stat) in SERIES.items()
        ]
        by_id: dict[str, dict[datetime, float]] = {q["Id"]: {} for q in queries}
        token = None
        with translated(CLOUDWATCH):
            while True:
                kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
                if token:
                    kwargs["NextToken"] = token
                answer = self._cloudwatch.get_metric_data(**kwargs)
                for result in answer["MetricDataResults"]:
                    by_id[result["Id"]].update(zip(result["Timestamps"], result["Values"], strict=False))
                token = answer.get("NextToken")
                if not token:
                    break
        series = {name: [by_id[name.lower()].get(t) for t in grid] for name in SERIES}
        series["successRate"] = [
            None if not requests else round(1 - ((e5 or 0) / requests), 6)
            for requests, e5 in zip(series["requests"], series["errors5xx"], strict=True)
        ]
        return MetricSeries(grid, series)
