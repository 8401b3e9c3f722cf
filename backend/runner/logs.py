"""Structured JSON log lines on stdout, one event per line (CloudWatch keeps each as one event)."""

from __future__ import annotations

import sys
import time
from typing import Any

import orjson


def log(level: str, message: str, **fields: Any) -> None:
    """Write one JSON log line; ERROR goes to stderr so it stands out in `docker logs` and tests."""
    record = {"time": round(time.time(), 3), "level": level, "logger": "kraken.runner", "message": message}
    record.update(fields)
    stream = sys.stderr if level == "ERROR" else sys.stdout
    stream.write(orjson.dumps(record, default=str).decode() + "\n")
    stream.flush()


def fail(reason: str) -> None:
    """The one stderr line the lifecycle code turns into the model's statusReason."""
    from runner import FAILURE_PREFIX
    from runner.errors import one_line

    sys.stderr.write(FAILURE_PREFIX + one_line(reason, 300) + "\n")
    sys.stderr.flush()
