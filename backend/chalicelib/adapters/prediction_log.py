"""Prediction records as one JSON line each: the request-history entry and its CloudWatch EMF metrics at once.

On Lambda the line goes to stdout: CloudWatch Logs keeps it as history and extracts the metrics from
its `_aws` block, with no PutMetricData call on the request path. The line's encoder and its decoder
live here side by side, so the wire format is written down once.
"""

from __future__ import annotations

import base64
import gzip
import json
import sys
import time
import uuid
from collections.abc import Sequence
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
        # Only a shadowed request's line has it: the subscription filter (config.SHADOW_FILTER_PATTERN) matches it.
        **({"shadow": list(prediction.shadow_versions)} if prediction.shadow_versions else {}),
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
            shadow_versions=tuple(int(v) for v in document.get("shadow") or ()),
        )
    except (KeyError, TypeError, ValueError):
        return None  # not a line this code wrote


def subscription_event(log_group: str, log_stream: str, lines: Sequence[str], filter_name: str) -> dict[str, Any]:
    """The event a CloudWatch Logs subscription filter gives its Lambda function for these lines: a base64, gzipped
    JSON document with one logEvent per line (local mode builds it as the service would)."""
    now = int(time.time() * 1000)
    document = {
        "messageType": "DATA_MESSAGE",
        "owner": "000000000000",
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": [filter_name],
        "logEvents": [{"id": str(uuid.uuid4().int)[:56], "timestamp": now, "message": line} for line in lines],
    }
    packed = gzip.compress(json.dumps(document, separators=(",", ":")).encode())
    return {"awslogs": {"data": base64.b64encode(packed).decode("ascii")}}


def subscription_predictions(event: Any) -> list[Prediction]:
    """The prediction lines a subscription filter delivered; anything else in the event (the service's CONTROL_MESSAGE
    probe, a line another program wrote) is left out."""
    try:
        document = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    except (KeyError, TypeError, ValueError, OSError):
        return []
    if not isinstance(document, dict) or document.get("messageType") != "DATA_MESSAGE":
        return []
    found = []
    for log_event in document.get("logEvents") or ():
        try:
            line = json.loads(log_event["message"])
        except (KeyError, TypeError, ValueError):
            continue
        prediction = prediction_of(line)
        if prediction is not None:
            found.append(prediction)
    return found


class StdoutPredictionLog:
    def __init__(self, namespace: str) -> None:
        self._namespace = namespace

    def record(self, prediction: Prediction) -> None:
        # One write per line keeps lines whole when threads share stdout.
        sys.stdout.write(json.dumps(prediction_document(prediction, self._namespace), separators=(",", ":")) + "\n")
        sys.stdout.flush()
