"""Time as the project stores and shows it: UTC, millisecond precision, fixed-width ISO-8601 with Z."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    # Millisecond precision keeps stored timestamps fixed-width, so they sort correctly as strings.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
