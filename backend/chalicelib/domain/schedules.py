"""Start/stop schedules: cron expressions in a time zone, their runs, which one is due, and firing it.

Times are computed on the wall clock of the schedule's zone (cronsim, as Debian's cron does): a
daily time that a DST change skips runs at the first minute after the gap, one that it repeats runs
once, at its first occurrence. The per-minute reconciler fires what is due.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from chalicelib.domain.clock import to_iso, utc_now
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.lifecycle import Lifecycle
from chalicelib.domain.models import ModelRecord, Schedule, ScheduleAction
from chalicelib.domain.ports import ModelQuery, ModelRepository, OperationsLog
from chalicelib.domain.records import RecordKeeper

logger = logging.getLogger("kraken.schedules")

MAX_SCHEDULES = 10
SCHEDULE_ACTOR = "system:schedule"
_FIELDS = "minute hour day-of-month month day-of-week"
_RANGES = "minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 0-7 or SUN-SAT"


def cron_problem(cron: str) -> str | None:
    """Why `cron` is not a 5-field cron expression, or None when it is one."""
    if len(cron.split()) != 5:
        return f"a cron expression has 5 fields ({_FIELDS}), such as '0 8 * * 1-5'"
    try:
        CronSim(cron, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as error:  # its messages name the field: "Bad minute"
        return f"{str(error).lower()} field ({_RANGES})"
    return None


def timezone_problem(name: str) -> str | None:
    """Why `name` is not a time zone this machine knows, or None when it is one."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "not a known time zone: give an IANA name such as Europe/Berlin, America/New_York or UTC"
    return None


def next_run(schedule: Schedule, after: datetime) -> datetime:
    """The schedule's first run strictly after `after`, in UTC."""
    local = after.astimezone(ZoneInfo(schedule.timezone))
    return next(CronSim(schedule.cron, local)).astimezone(UTC)


def last_run(schedule: Schedule, until: datetime) -> datetime:
    """The schedule's newest run at or before `until`, in UTC."""
    # cronsim's reverse walk starts one second before the instant it is given.
    start = until.replace(microsecond=0) + timedelta(seconds=1)
    return next(CronSim(schedule.cron, start.astimezone(ZoneInfo(schedule.timezone)), reverse=True)).astimezone(UTC)


@dataclass(frozen=True)
class Due:
    number: int  # 1-based, as a person counts the schedules in the console
    schedule: Schedule
    at: datetime

    def describe(self) -> str:
        s = self.schedule
        return f"schedule {self.number} ({s.action} at '{s.cron}' {s.timezone}) due {to_iso(self.at)}"


def due(schedules: Sequence[Schedule], after: datetime, until: datetime) -> Due | None:
    """The schedule with the newest run in (after, until]; on a tie the stop wins, since it costs nothing."""
    found: Due | None = None
    for number, schedule in enumerate(schedules, start=1):
        at = last_run(schedule, until)
        if at <= after:
            continue
        rank = (at, schedule.action is ScheduleAction.STOP)
        if found is None or rank > (found.at, found.schedule.action is ScheduleAction.STOP):
            found = Due(number, schedule, at)
    return found


class ScheduleRunner(RecordKeeper):
    """Fires the due schedules of every scheduled model, once each, through the model's lifecycle."""

    def __init__(
        self,
        models: ModelRepository,
        operations: OperationsLog,
        lifecycle: Lifecycle,
        clock: Callable[[], datetime] = utc_now,
        on_change: Callable[[str], None] = lambda _model_id: None,
    ) -> None:
        super().__init__(models, operations, clock, on_change)
        self._lifecycle = lifecycle

    def run_due(self) -> None:
        """One round: the models with schedules come from a sparse index, so no round reads the whole table."""
        now = self._clock()
        cursor = None
        while True:
            page = self._models.list(ModelQuery(limit=100, scheduled=True, cursor=cursor))
            for listed in page.items:
                try:
                    self._fire_due(listed.id, now)
                except NotFound:
                    pass  # deleted since the index listed it
                except Exception:  # one model's trouble must not keep the others' schedules from firing
                    logger.exception("firing a schedule failed", extra={"model_id": listed.id})
            cursor = page.cursor
            if not cursor:
                return

    def _fire_due(self, model_id: str, now: datetime) -> None:
        record = self._models.get(model_id)  # the index is eventually consistent; the record is not
        fired = due(record.schedules, record.schedule_checked_at or record.updated_at, now)
        if fired is None:
            return
        # The claim comes first, in a conditional write: of two reconcilers (or a retry) only one fires it.
        claimed = self._save(dataclasses.replace(record, schedule_checked_at=now), record)
        if claimed is None:
            return  # written meanwhile; the next round decides again from what is stored then
        said = fired.describe()
        act = self._lifecycle.start if fired.schedule.action is ScheduleAction.START else self._lifecycle.stop
        try:
            after: ModelRecord = act(model_id, SCHEDULE_ACTOR)
        except DomainError as refused:
            self._log(claimed, SCHEDULE_ACTOR, "schedule", claimed.status, f"{said}: not done", refused.message)
            return
        self._log(claimed, SCHEDULE_ACTOR, "schedule", after.status, f"{said}: fired")
