"""Local mode's telemetry: prediction lines to the emulator's Logs, their EMF metrics to its CloudWatch, and the
shadowed requests' lines to the shadow consumer.

On Lambda, CloudWatch extracts metrics from the EMF lines the API prints. Locally a background worker
does that extraction and calls PutMetricData, so the request path is no slower and charts still work.
Likewise the request log group's subscription filter: a worker hands the lines it would match to the
shadow consumer in the event the service would send (the emulator does not deliver subscriptions).
"""

from __future__ import annotations

import collections
import json
import logging
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.prediction_log import prediction_document, subscription_event
from chalicelib.config import Settings
from chalicelib.domain.ports import Prediction
from local.logs import LogShipper, PeriodicFlusher

logger = logging.getLogger("kraken.local.telemetry")
REQUEST_STREAM = "api"
FLUSH_SECONDS = 1.0
MAX_DATUMS_PER_CALL = 1000


def metric_data(document: dict[str, Any]) -> list[dict[str, Any]]:
    """PutMetricData entries for one EMF document, as CloudWatch would extract them."""
    envelope = document["_aws"]
    timestamp = datetime.fromtimestamp(envelope["Timestamp"] / 1000, UTC)
    data = []
    for directive in envelope["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            dimensions = [{"Name": name, "Value": str(document[name])} for name in dimension_set]
            for metric in directive["Metrics"]:
                data.append(
                    {
                        "MetricName": metric["Name"],
                        "Dimensions": dimensions,
                        "Timestamp": timestamp,
                        "Value": float(document[metric["Name"]]),
                        "Unit": metric.get("Unit", "None"),
                        "_namespace": directive["Namespace"],
                    }
                )
    return data


class MetricsWorker(PeriodicFlusher):
    def __init__(self, cloudwatch: Any) -> None:
        self._cloudwatch = cloudwatch
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        super().__init__("local-metrics", FLUSH_SECONDS)

    def put(self, document: dict[str, Any]) -> None:
        self._queue.put(document)

    def flush(self) -> None:
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        while True:
            try:
                document = self._queue.get_nowait()
            except queue.Empty:
                break
            for datum in metric_data(document):
                by_namespace.setdefault(datum.pop("_namespace"), []).append(datum)
        for namespace, data in by_namespace.items():
            for start in range(0, len(data), MAX_DATUMS_PER_CALL):
                try:
                    self._cloudwatch.put_metric_data(
                        Namespace=namespace, MetricData=data[start : start + MAX_DATUMS_PER_CALL]
                    )
                except (ClientError, BotoCoreError):
                    logger.warning(
                        "the emulator refused %d metric values", len(data[start : start + MAX_DATUMS_PER_CALL])
                    )


SHADOW_FLUSH_SECONDS = 0.5
SHADOW_FILTER_NAME = "shadowed-requests"
MAX_LINES_PER_DELIVERY = 500


class ShadowDeliveries(PeriodicFlusher):
    """What the request log group's subscription filter does on AWS: batches the shadowed requests' lines and
    invokes the consumer with CloudWatch Logs' event for them, off the request path."""

    def __init__(self, log_group: str, deliver: Callable[[dict[str, Any]], None]) -> None:
        self._log_group = log_group
        self._deliver = deliver
        self._queue: queue.Queue[str] = queue.Queue()
        super().__init__("local-shadow-deliveries", SHADOW_FLUSH_SECONDS)

    def put(self, line: str) -> None:
        self._queue.put(line)

    def flush(self) -> None:
        while True:
            lines: list[str] = []
            while len(lines) < MAX_LINES_PER_DELIVERY:
                try:
                    lines.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if not lines:
                return
            try:
                self._deliver(subscription_event(self._log_group, REQUEST_STREAM, lines, SHADOW_FILTER_NAME))
            except Exception:  # as on AWS, a failed delivery is the consumer's error, not the caller's
                logger.exception("the shadow consumer failed on %d lines", len(lines))


class RequestCounts:
    """Requests per model version since the autoscaler last looked: the gateway's count, before it is shipped."""

    def __init__(self) -> None:
        self._counts: collections.Counter[tuple[str, str | None]] = collections.Counter()
        self._lock = threading.Lock()

    def add(self, model_id: str, version: str | None) -> None:
        with self._lock:
            self._counts[(model_id, version)] += 1

    def take(self, model_id: str, version: int) -> int:
        with self._lock:
            return self._counts.pop((model_id, str(version)), 0)


class LocalPredictionLog:
    def __init__(
        self,
        settings: Settings,
        shipper: LogShipper,
        metrics: MetricsWorker,
        shadows: ShadowDeliveries | None = None,
    ) -> None:
        self._settings = settings
        self._shipper = shipper
        self._metrics = metrics
        self._shadows = shadows
        self.counts = RequestCounts()

    def record(self, prediction: Prediction) -> None:
        self.counts.add(prediction.model_id, prediction.model_version)
        document = prediction_document(prediction, self._settings.metrics_namespace)
        line = json.dumps(document, separators=(",", ":"))
        self._shipper.add(self._settings.request_log_group, REQUEST_STREAM, line)
        self._metrics.put(document)
        # config.SHADOW_FILTER_PATTERN matches exactly the lines with shadow versions.
        if self._shadows is not None and prediction.shadow_versions:
            self._shadows.put(line)
