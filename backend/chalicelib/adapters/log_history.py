"""Reading CloudWatch Logs newest first: prediction history and containers' own output."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.aws_errors import CLOUDWATCH_LOGS, error_code, translated
from chalicelib.adapters.cursors import NOT_OURS, seal, unseal
from chalicelib.adapters.prediction_log import prediction_of
from chalicelib.config import Settings
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.ports import LogDownload, LogLine, Page, Prediction

FIRST_WINDOW_MS = 60_000
MAX_CALLS = 20  # FilterLogEvents calls one request may make; a rare match answers partially, with a token
MAX_DOWNLOAD_BYTES = 5 * 1024 * 1024  # under Lambda's 6 MB response limit


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class LogReader:
    def __init__(self, logs: Any) -> None:
        self._logs = logs

    def _filter(self, **kwargs: Any) -> dict[str, Any]:
        with translated(CLOUDWATCH_LOGS):
            try:
                return dict(self._logs.filter_log_events(**kwargs))
            except ClientError as error:
                if error_code(error) == "ResourceNotFoundException":
                    return {"events": []}
                raise

    def newest_first(
        self,
        group: str,
        start: datetime,
        end: datetime,
        limit: int,
        cursor: str | None,
        pattern: str = "",
        accept: Callable[[dict[str, Any]], bool] = lambda _: True,
        filters: str = "",
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` events, newest first, looking back through widening time windows.

        A token is bound to the group and filters but not to the range, whose default start moves with
        the clock; the token itself carries where to continue.
        """
        query = json.dumps([group, pattern, filters])
        upper, skip = _ms(end), set[str]()
        if cursor:
            payload = unseal(cursor, query)
            if not (
                isinstance(payload, dict) and isinstance(payload.get("t"), int) and isinstance(payload.get("s"), list)
            ):
                raise BadRequest(NOT_OURS)
            upper, skip = payload["t"], set(payload["s"])
        lower_bound, window, calls = _ms(start), FIRST_WINDOW_MS, 0
        found: list[dict[str, Any]] = []
        while upper >= lower_bound:
            if calls >= MAX_CALLS:
                return found, seal({"t": upper, "s": sorted(skip)}, query)
            lower = max(lower_bound, upper - window + 1)
            events: list[dict[str, Any]] = []
            token = None
            while True:
                kwargs: dict[str, Any] = {"logGroupName": group, "startTime": lower, "endTime": upper}
                if pattern:
                    kwargs["filterPattern"] = pattern
                if token:
                    kwargs["nextToken"] = token
                page = self._filter(**kwargs)
                calls += 1
                events += [e for e in page.get("events", []) if e["eventId"] not in skip and accept(e)]
                token = page.get("nextToken")
                if not token:
                    break
            events.sort(key=lambda e: (e["timestamp"], e["eventId"]), reverse=True)
            for event in events:
                found.append(event)
                if len(found) == limit:
                    last = event["timestamp"]
                    same = {e["eventId"] for e in found if e["timestamp"] == last}
                    return found, seal({"t": last, "s": sorted(same | (skip if last == upper else set()))}, query)
            upper, skip, window = lower - 1, set(), window * 4
        return found, None

    def oldest_first_text(self, group: str, start: datetime, end: datetime) -> LogDownload:
        """The whole range as text, oldest first, cut at the download limit."""
        lines: list[str] = []
        size, token = 0, None
        while True:
            kwargs: dict[str, Any] = {"logGroupName": group, "startTime": _ms(start), "endTime": _ms(end)}
            if token:
                kwargs["nextToken"] = token
            page = self._filter(**kwargs)
            for event in sorted(page.get("events", []), key=lambda e: e["timestamp"]):
                line = f"{_instant(event['timestamp']).isoformat(timespec='milliseconds')} {event['message']}"
                size += len(line) + 1
                if size > MAX_DOWNLOAD_BYTES:
                    return LogDownload("\n".join(lines) + "\n", cut=True)
                lines.append(line)
            token = page.get("nextToken")
            if not token:
                return LogDownload(("\n".join(lines) + "\n") if lines else "", cut=False)


def _status_matches(status: int, wanted: str | None) -> bool:
    if not wanted:
        return True
    if wanted.endswith("xx"):
        return str(status).startswith(wanted[0])
    return str(status) == wanted


class CloudWatchRequestHistory:
    """Prediction lines of one model from the API's log group (plain-term filter, then an exact check)."""

    def __init__(self, reader: LogReader, settings: Settings) -> None:
        self._reader = reader
        self._group = settings.request_log_group

    def list(
        self, model_id: str, start: datetime, end: datetime, status: str | None, limit: int, cursor: str | None
    ) -> Page[Prediction]:
        def accept(event: dict[str, Any]) -> bool:
            try:
                prediction = prediction_of(json.loads(event["message"]))
            except ValueError:
                return False
            event["parsed"] = prediction
            return (
                prediction is not None
                and prediction.model_id == model_id
                and _status_matches(prediction.status, status)
            )

        # Quoted: a model id has hyphens, which the filter syntax would otherwise read as operators.
        events, next_cursor = self._reader.newest_first(
            self._group, start, end, limit, cursor, pattern=f'"{model_id}"', accept=accept, filters=status or ""
        )
        return Page([e["parsed"] for e in events], next_cursor)


class CloudWatchContainerLogReader:
    def __init__(self, reader: LogReader, settings: Settings) -> None:
        self._reader = reader
        self._settings = settings

    def latest(self, model_id: str, start: datetime, end: datetime, limit: int, cursor: str | None) -> Page[LogLine]:
        events, next_cursor = self._reader.newest_first(
            self._settings.model_log_group(model_id), start, end, limit, cursor
        )
        return Page(
            [LogLine(_instant(e["timestamp"]), e["message"], e.get("logStreamName", "")) for e in events], next_cursor
        )

    def download(self, model_id: str, start: datetime, end: datetime) -> LogDownload:
        return self._reader.oldest_first_text(self._settings.model_log_group(model_id), start, end)
