"""Schedules in local mode: a model with a start schedule is started by local mode's reconciler at the schedule's time.

Real HTTP, real runner processes, the emulator enforcing IAM; the reconciler runs every second, so the
start comes within seconds of the minute the schedule names (every minute here: at most ~60 s to wait).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import LocalMode, checked_local_mode
from tests.e2e.test_lifecycle_local import create_model, runner_processes, status, trained_pipeline, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def local() -> Iterator[LocalMode]:
    with checked_local_mode({"KRAKEN_RECONCILE_SECONDS": "1"}) as mode:
        yield mode


def test_a_start_schedule_starts_the_model_at_its_time(local: LocalMode) -> None:
    every_minute = [{"action": "start", "cron": "* * * * *"}]
    model_id = create_model(local, "office-hours", trained_pipeline(), schedules=every_minute)
    [schedule] = status(local, model_id)["schedules"]
    next_run = datetime.fromisoformat(schedule["nextRun"])
    assert next_run.second == 0 and 0 < (next_run - datetime.now(UTC)).total_seconds() <= 60, schedule

    began = time.monotonic()
    wait_for(lambda: status(local, model_id)["status"] in ("PENDING", "RUNNING"), 75, "the scheduled start")
    started_at = datetime.now(UTC)
    print(f"started by the schedule {(started_at - next_run).total_seconds():.1f} s after its time")
    assert (started_at - next_run).total_seconds() < 10, "the reconciler runs every second here"
    wait_for(lambda: status(local, model_id)["status"] == "RUNNING", 60, "RUNNING")
    rows = local.request("GET", f"/api/models/{model_id}/logs?limit=100").body["items"]
    fired = [row for row in rows if row["action"] == "schedule"]
    assert fired and fired[-1]["actor"] == "system:schedule" and fired[-1]["result"].endswith("fired"), fired
    assert any(row["action"] == "start" and row["actor"] == "system:schedule" for row in rows)
    assert len(runner_processes(local, model_id)) == 1
    print(f"waited {time.monotonic() - began:.1f} s in all")
    assert local.request("PUT", f"/api/models/{model_id}", {"schedules": []}).status == 200
    assert local.request("POST", f"/api/models/{model_id}/stop", {}).status == 202
