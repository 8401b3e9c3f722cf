"""What AWS deletes by itself and moto keeps for ever: log events past their group's retention, and items whose
time-to-live has passed. Local mode runs it now and then, so a state kept for months stays the size AWS would
keep (and its saves as quick)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.clock import utc_now
from local.state import Pausable

logger = logging.getLogger(__name__)

# AWS deletes within days of the deadline; an hour is closer than that, and costs one pass over the state.
EXPIRY_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True)
class Expired:
    log_events: int
    items: int


def expire(now: datetime) -> Expired:
    """Delete from moto's backends what AWS would have deleted by `now`. The caller holds the emulator's
    requests back meanwhile (`Pausable.paused`): moto's own handlers change the same lists."""
    return Expired(_expire_log_events(now), _expire_items(now))


def _expire_log_events(now: datetime) -> int:
    from moto.logs.models import logs_backends

    deleted = 0
    for regions in logs_backends.values():
        for logs in regions.values():
            for group in logs.groups.values():
                if not group.retention_in_days:
                    continue  # never expire, AWS's default
                oldest_kept = (now - timedelta(days=int(group.retention_in_days))).timestamp() * 1000
                for stream in group.streams.values():
                    kept = [event for event in stream.events if event.timestamp >= oldest_kept]
                    deleted += len(stream.events) - len(kept)
                    stream.events = kept
    return deleted


def _expire_items(now: datetime) -> int:
    from moto.dynamodb.models import dynamodb_backends

    deleted = 0
    for regions in dynamodb_backends.values():
        for dynamodb in regions.values():
            for table in dynamodb.tables.values():
                if table.ttl.get("TimeToLiveStatus") != "ENABLED":
                    continue
                attribute = table.ttl["AttributeName"]
                for item in table.all_items():
                    expires = item.attrs.get(attribute)
                    # As on AWS, an item without the attribute, or with a non-number in it, is kept.
                    if expires is not None and expires.type == "N" and float(expires.value) < now.timestamp():
                        table.delete_item(item.hash_key, item.range_key)
                        deleted += 1
    return deleted


class Expiry:
    """Runs `expire` on the emulator at `start` and every `every` seconds after, until `stop`."""

    def __init__(self, emulator: Pausable, every: float = EXPIRY_INTERVAL_SECONDS) -> None:
        self._emulator = emulator
        self._every = every
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-expiry", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def run_once(self) -> Expired:
        with self._emulator.paused():
            expired = expire(utc_now())
        if expired.log_events or expired.items:
            self._emulator.note_change()
            logger.info(
                "expired as AWS would: %d log events past their retention, %d items past their time-to-live",
                expired.log_events,
                expired.items,
            )
        return expired

    def _run(self) -> None:
        while True:
            try:
                self.run_once()
            except Exception as error:  # the next round tries again; a state kept too long is no reason to stop
                logger.warning("could not expire old log events and items: %s: %s", type(error).__name__, error)
            if self._stopped.wait(self._every):
                return
