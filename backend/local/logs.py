"""Ships model processes' output to the emulator's CloudWatch Logs, in the groups and streams ECS would use."""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger("kraken.local.logs")
FLUSH_SECONDS = 0.5
MAX_BATCH = 1000


class PeriodicFlusher:
    """Calls `flush` from a background thread every `every` seconds, and once more on `close`."""

    def __init__(self, name: str, every: float) -> None:
        self._every = every
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def flush(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self.flush()

    def _run(self) -> None:
        while not self._closed.wait(self._every):
            self.flush()


class LogShipper(PeriodicFlusher):
    """Batches lines per (group, stream) and sends them from one background thread."""

    def __init__(self, logs_client: Any) -> None:
        self._logs = logs_client
        self._pending: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self._known_streams: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        super().__init__("local-log-shipper", FLUSH_SECONDS)

    def add(self, group: str, stream: str, line: str) -> None:
        with self._lock:
            self._pending[(group, stream)].append({"timestamp": int(time.time() * 1000), "message": line})

    def flush(self) -> None:
        """Send everything added so far; returns once it is in the emulator."""
        with self._send_lock:
            with self._lock:
                batches, self._pending = self._pending, defaultdict(list)
            for (group, stream), events in batches.items():
                self._send(group, stream, events)

    def _send(self, group: str, stream: str, events: list[dict[str, Any]]) -> None:
        try:
            if (group, stream) not in self._known_streams:
                try:
                    self._logs.create_log_stream(logGroupName=group, logStreamName=stream)
                except ClientError as error:
                    if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                        raise
                self._known_streams.add((group, stream))
            for start in range(0, len(events), MAX_BATCH):
                self._logs.put_log_events(
                    logGroupName=group, logStreamName=stream, logEvents=events[start : start + MAX_BATCH]
                )
        except (ClientError, BotoCoreError) as error:
            # A deleted model's group is gone; its last lines have nowhere to go.
            logger.debug("dropped %d log lines for %s: %s", len(events), group, error)
