"""The prediction line's encoder and decoder agree: what the gateway writes, the history reads back unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chalicelib.adapters.prediction_log import prediction_document, prediction_of
from chalicelib.domain.ports import Prediction


def test_a_prediction_survives_its_log_line() -> None:
    prediction = Prediction(
        request_id="r-1",
        at=datetime(2026, 11, 30, 12, 0, 1, 250000, tzinfo=UTC),
        model_id="m-1",
        model_version="2.0",
        status=502,
        latency_ms=12.5,
        container_ms=None,
        request_bytes=40,
        response_bytes=12,
        request_body='{"modelData": [1]}',
        response_body=None,
        caller="client:billing",
    )
    line = json.dumps(prediction_document(prediction, "Kraken"))
    assert prediction_of(json.loads(line)) == prediction


def test_other_lines_are_not_predictions() -> None:
    assert prediction_of({"level": "INFO", "message": "hello"}) is None
    assert prediction_of({"type": "prediction", "time": "not a time"}) is None
    assert prediction_of(["a", "list"]) is None
