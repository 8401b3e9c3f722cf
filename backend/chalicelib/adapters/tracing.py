"""X-Ray subsegments on Lambda through Powertools' Tracer; nothing at all elsewhere.

The Tracer is created on first use and only inside Lambda: aws_xray_sdk costs ~200 ms to import,
which must not land on the cold start of routes that never trace, nor on local mode.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from typing import Any


def _enabled() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and os.environ.get("POWERTOOLS_TRACE_DISABLED") != "true"


@lru_cache(maxsize=1)
def _tracer() -> Any:
    from aws_lambda_powertools import Tracer

    return Tracer(service="kraken-api")


def subsegment(name: str) -> AbstractContextManager[Any]:
    return _tracer().provider.in_subsegment(name) if _enabled() else nullcontext()
