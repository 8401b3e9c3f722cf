"""Prediction records as one JSON line each: the request-history entry and its CloudWatch EMF metrics at once.

On Lambda the line goes to stdout: CloudWatch Logs keeps it as history and extracts the metrics from
its `_aws` block, with no PutMetricData call on the request path. The line's encoder and its decoder
live here side by side, so the wire format is written down once.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from chalicelib.domain.clock import from_iso, to_iso
from chalicelib.domain.ports import Prediction

LINE_TYPE = "prediction"
METRICS = (("Latency", "Milliseconds"), ("Requests", "Count"), ("Errors4xx", "Count"), ("Errors5xx", "Count"))


VERSION_DIMENSION = "ModelVersion"


def version_dimension(model_id: str, version: object) -> str:
    return f"{model_id}/v{version}"


def prediction_document(prediction: Prediction, namespace: str) -> dict[str, Any]:
    # Each line counts for the model and, once a version answered, for that version too. The version's
    # dimension is one value naming both (not ModelId plus Version), so that no query for the model's
    # series can also match the version's points (moto matches dimensions as a subset).
    version = {VERSION_DIMENSION: version_dimension(prediction.model_id, prediction.model_version)}
    dimensions = [["ModelId"], [VERSION_DIMENSION]] if prediction.model_version else [["ModelId"]]
    return {
        "_aws": {
            "Timestamp": int(prediction.at.timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": dimensions,
                    "Metrics": [{"Name": name, "Unit": unit} for name, unit in METRICS],
                }
            ],
        },
        "type": LINE_TYPE,
        "ModelId": prediction.model_id,
        **(version if prediction.model_version else {}),
        "Latency": round(prediction.latency_ms, 3),
        "Requests": 1,
        "Errors4xx": int(400 <= prediction.status < 500),
        "Errors5xx": int(prediction.status >= 500),
        "requestId": prediction.request_id,
        "time": to_iso(prediction.at),
        "modelVersion": prediction.model_version,
        "status": prediction.status,
        "containerMs": round(prediction.container_ms, 3) if prediction.container_ms is not None else None,
        "requestBytes": prediction.request_bytes,
        "responseBytes": prediction.response_bytes,
        "requestBody": prediction.request_body,
        "responseBody": prediction.response_body,
        "caller": prediction.caller,
    }


def prediction_of(document: Any) -> Prediction | None:
    """The prediction a history line records, or None when the line is something else."""
    if not (isinstance(document, dict) and document.get("type") == LINE_TYPE):
        return None
    try:
        return Prediction(
            request_id=str(document.get("requestId", "")),
            at=from_iso(document["time"]),
            model_id=str(document.get("ModelId", "")),
            model_version=document.get("modelVersion"),
            status=int(document.get("status", 0)),
            latency_ms=float(document.get("Latency", 0)),
            container_ms=document.get("containerMs"),
            request_bytes=int(document.get("requestBytes", 0)),
            response_bytes=int(document.get("responseBytes", 0)),
            request_body=document.get("requestBody"),
            response_body=document.get("responseBody"),
            caller=document.get("caller"),
        )
    except (KeyError, TypeError, ValueError):
        return None  # not a line this code wrote


class StdoutPredictionLog:
    def __init__(self, namespace: str) -> None:
        self._namespace = namespace

    def record(self, prediction: Prediction) -> None:
        # One write per line keeps lines whole when threads share stdout.
        sys.stdout.write(json.dumps(prediction_document(prediction, self._namespace), separators=(",", ":")) + "\n")
        sys.stdout.flush()
