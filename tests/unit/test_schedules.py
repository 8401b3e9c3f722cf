"""Start/stop schedules as pure rules: next runs, which schedule is due in a window, DST, and validation messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chalicelib.domain.models import Schedule, ScheduleAction
from chalicelib.domain.schedules import cron_problem, due, last_run, next_run, timezone_problem
from chalicelib.schemas.models import UpdateModelRequest

START, STOP = ScheduleAction.START, ScheduleAction.STOP
OFFICE_HOURS = (Schedule(START, "0 8 * * 1-5", "Europe/Berlin"), Schedule(STOP, "0 18 * * 1-5", "Europe/Berlin"))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_the_next_run_is_on_the_zones_wall_clock() -> None:
    start, stop = OFFICE_HOURS
    # Thursday 3 December 2026, 07:30 UTC is 08:30 in Berlin (CET, +1): the start has passed today.
    assert next_run(stop, utc(2026, 12, 3, 7, 30)) == utc(2026, 12, 3, 17, 0)
    assert next_run(start, utc(2026, 12, 3, 7, 30)) == utc(2026, 12, 4, 7, 0)
    # Friday evening: the next start is Monday's.
    assert next_run(start, utc(2026, 12, 4, 17, 30)) == utc(2026, 12, 7, 7, 0)
    assert next_run(Schedule(START, "*/15 * * * *"), utc(2026, 12, 3, 7, 31, 5)) == utc(2026, 12, 3, 7, 45)


def test_a_run_exactly_now_is_next_after_and_last_until() -> None:
    every_minute = Schedule(START, "* * * * *")
    assert next_run(every_minute, utc(2026, 12, 3, 7, 30)) == utc(2026, 12, 3, 7, 31)
    assert last_run(every_minute, utc(2026, 12, 3, 7, 30)) == utc(2026, 12, 3, 7, 30)
    assert last_run(every_minute, utc(2026, 12, 3, 7, 30, 59, 999000)) == utc(2026, 12, 3, 7, 30)


def test_office_hours_follow_the_dst_change_in_berlin() -> None:
    start, stop = OFFICE_HOURS
    # Clocks go forward on Sunday 29 March 2026: 08:00 is 07:00 UTC on Friday, 06:00 UTC on Monday.
    assert next_run(start, utc(2026, 3, 26, 12, 0)) == utc(2026, 3, 27, 7, 0)
    assert next_run(start, utc(2026, 3, 27, 12, 0)) == utc(2026, 3, 30, 6, 0)
    # And back on Sunday 25 October 2026: 18:00 is 16:00 UTC on Friday, 17:00 UTC on Monday.
    assert next_run(stop, utc(2026, 10, 23, 12, 0)) == utc(2026, 10, 23, 16, 0)
    assert next_run(stop, utc(2026, 10, 23, 17, 0)) == utc(2026, 10, 26, 17, 0)


def test_a_time_the_dst_change_skips_runs_after_the_gap_and_a_repeated_one_runs_once() -> None:
    nightly = Schedule(STOP, "30 2 * * *", "Europe/Berlin")
    # 02:30 does not exist on 29 March (02:00 becomes 03:00 CEST = 01:00 UTC): it runs at 03:00.
    assert next_run(nightly, utc(2026, 3, 28, 23, 0)) == utc(2026, 3, 29, 1, 0)
    assert last_run(nightly, utc(2026, 3, 29, 1, 5)) == utc(2026, 3, 29, 1, 0)
    # 02:30 happens twice on 25 October (CEST 00:30 UTC, then CET 01:30 UTC): it runs at the first only.
    assert next_run(nightly, utc(2026, 10, 24, 23, 0)) == utc(2026, 10, 25, 0, 30)
    assert next_run(nightly, utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 26, 1, 30)
    assert due((nightly,), utc(2026, 10, 25, 0, 31), utc(2026, 10, 25, 1, 45)) is None


def test_due_is_the_newest_run_in_the_window() -> None:
    start, _ = OFFICE_HOURS
    fired = due(OFFICE_HOURS, utc(2026, 12, 3, 6, 59), utc(2026, 12, 3, 7, 0, 20))
    assert fired is not None and (fired.number, fired.schedule, fired.at) == (1, start, utc(2026, 12, 3, 7, 0))
    assert fired.describe() == "schedule 1 (start at '0 8 * * 1-5' Europe/Berlin) due 2026-12-03T07:00:00.000Z"
    # Nothing between the last check and now: nothing is due, however recent the last run.
    assert due(OFFICE_HOURS, utc(2026, 12, 3, 7, 0), utc(2026, 12, 3, 7, 1)) is None
    # A reconciler that missed a whole day applies only the newest: the stop of the evening.
    missed = due(OFFICE_HOURS, utc(2026, 12, 2, 12, 0), utc(2026, 12, 3, 19, 0))
    assert missed is not None and (missed.number, missed.at) == (2, utc(2026, 12, 3, 17, 0))


def test_a_start_and_a_stop_at_the_same_minute_stop() -> None:
    both = (Schedule(START, "0 8 * * *"), Schedule(STOP, "0 * * * *"))
    fired = due(both, utc(2026, 12, 3, 7, 59), utc(2026, 12, 3, 8, 0))
    assert fired is not None and fired.schedule.action is STOP


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 8 * * 1-5", None),
        ("*/5 9-17 * JAN-MAR MON-FRI", None),
        ("61 8 * * *", "bad minute field"),
        ("0 25 * * *", "bad hour field"),
        ("0 8 32 * *", "bad day-of-month field"),
        ("0 8 * 13 *", "bad month field"),
        ("0 8 * * 9", "bad day-of-week field"),
        ("0 8 * *", "has 5 fields"),
        ("0 0 8 * * *", "has 5 fields"),  # cronsim's seconds field is not Unix cron
        ("@daily", "has 5 fields"),
    ],
)
def test_cron_expressions_are_checked_naming_what_is_wrong(cron: str, message: str | None) -> None:
    problem = cron_problem(cron)
    assert problem is None if message is None else message in (problem or ""), problem


def test_time_zones_are_iana_names() -> None:
    assert timezone_problem("Europe/Berlin") is None and timezone_problem("UTC") is None
    for bad in ("Mars/Base", "CEST", "../etc/passwd", "Europe/"):
        assert "IANA name" in (timezone_problem(bad) or ""), bad


def test_the_api_names_the_bad_schedule_field_and_keeps_the_default_zone() -> None:
    accepted = UpdateModelRequest.model_validate({"schedules": [{"action": "stop", "cron": "0  18 * * *"}]})
    assert accepted.changes() == {"schedules": (Schedule(STOP, "0 18 * * *", "UTC"),)}
    with pytest.raises(ValidationError) as refused:
        schedules = [{"action": "start", "cron": "0 8 * * *"}, {"action": "stop", "cron": "x", "timezone": "Nowhere"}]
        UpdateModelRequest.model_validate({"schedules": schedules})
    assert {tuple(e["loc"]) for e in refused.value.errors()} == {("schedules", 1, "cron"), ("schedules", 1, "timezone")}
    for bad in ({"action": "pause", "cron": "0 8 * * *"}, {"cron": "0 8 * * *"}):
        with pytest.raises(ValidationError):
            UpdateModelRequest.model_validate({"schedules": [bad]})
    with pytest.raises(ValidationError):
        UpdateModelRequest.model_validate({"schedules": [{"action": "start", "cron": "0 8 * * *"}] * 11})
    with pytest.raises(ValidationError):
        UpdateModelRequest.model_validate({"schedules": None})


def test_zones_come_from_the_bundled_database_when_the_system_has_none() -> None:
    """A Lambda image without /usr/share/zoneinfo: zoneinfo falls back to the tzdata package we ship."""
    import zoneinfo

    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        assert timezone_problem("Europe/Berlin") is None
        assert next_run(OFFICE_HOURS[0], utc(2026, 7, 1, 12, 0)) == utc(2026, 7, 2, 6, 0)  # CEST, +2
        assert timezone_problem("Mars/Olympus_Mons") is not None
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()
