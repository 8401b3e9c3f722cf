"""Per-model request throttling: a token bucket per model in each warm gateway.

On Lambda every warm instance keeps its own bucket, so the stage admits up to the model's rate times
the number of instances serving it at once; the API function's reserved concurrency bounds that.
Locally one process serves everything and the limit is exact.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Admits `rate` requests per second on average, with bursts of up to one second's worth."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._clock = clock
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """0 when a request may pass now; otherwise the seconds until one may."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate


class Throttles:
    """One bucket per model, replaced when the model's rate changes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def wait_for(self, model_id: str, rate: float | None) -> float:
        """Seconds the caller must wait before this model takes another request; 0 to go ahead."""
        if rate is None:
            return 0.0
        with self._lock:
            bucket = self._buckets.get(model_id)
            if bucket is None or bucket.rate != rate:
                bucket = self._buckets[model_id] = TokenBucket(rate, self._clock)
        return bucket.take()
