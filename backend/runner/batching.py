"""Adaptive batching: concurrent requests to one worker are scored in one call on their concatenated rows.

Inference runs inline on the event loop, so while one call runs the next requests gather in the socket
buffers. A queued request waits at most `max_wait` for the others: the wait ends as soon as every open
connection has a request queued (nobody else can send one) or the batch is full, so a lone client waits
for nothing. Only requests with equal batch keys (same method, columns and value types) are joined; a
batched call that fails is retried request by request, so one bad request never fails its neighbours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.models import Model


@dataclass(slots=True)
class _Queued:
    key: Hashable
    model_data: list[Any]
    meta_data: Mapping[str, Any]
    future: asyncio.Future[dict[str, Any]]


class Batcher:
    """Scores requests for one model, joining concurrent ones; `predict` answers what the model alone would."""

    def __init__(self, model: Model, max_size: int, max_wait: float, open_connections: Callable[[], int]) -> None:
        self.model = model
        self.max_size = max_size
        self.max_wait = max_wait
        self.enabled = max_size > 1 and model.batchable
        self._open_connections = open_connections
        self._queue: list[_Queued] = []
        self._timer: asyncio.TimerHandle | None = None
        self.batches = 0  # calls that scored more than one request
        self.batched_requests = 0

    async def predict(self, model_data: Any, meta_data: Mapping[str, Any]) -> dict[str, Any]:
        if not self.enabled or (not self._queue and self._open_connections() <= 1):
            return self.model.predict(model_data, meta_data)
        key = self.model.batch_key(model_data, meta_data)
        if key is None:
            return self.model.predict(model_data, meta_data)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._queue.append(_Queued(key, model_data, meta_data, future))
        if len(self._queue) >= min(self.max_size, self._open_connections()):
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.max_wait, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        queued, self._queue = self._queue, []
        groups: dict[Hashable, list[_Queued]] = {}
        for item in queued:
            groups.setdefault(item.key, []).append(item)
        for items in groups.values():
            if len(items) == 1:
                self._alone(items[0])
            else:
                self._together(items)

    def _together(self, items: list[_Queued]) -> None:
        rows = [row for item in items for row in item.model_data]
        try:
            answers = self.model.predict_batch(rows, items[0].meta_data, [len(item.model_data) for item in items])
        except Exception:
            for item in items:
                self._alone(item)
            return
        self.batches += 1
        self.batched_requests += len(items)
        for item, answer in zip(items, answers, strict=True):
            if not item.future.done():
                item.future.set_result(answer)

    def _alone(self, item: _Queued) -> None:
        try:
            answer = self.model.predict(item.model_data, item.meta_data)
        except Exception as exc:
            if not item.future.done():
                item.future.set_exception(exc)
            return
        if not item.future.done():
            item.future.set_result(answer)

    def describe(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "maxSize": self.max_size,
            "maxWaitMs": round(self.max_wait * 1000, 3),
            "batches": self.batches,
            "batchedRequests": self.batched_requests,
        }
