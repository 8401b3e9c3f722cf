"""Local mode deletes what AWS deletes by itself and moto keeps: log events past their group's retention, and
operations-log entries past their time-to-live, on the project's own log group and table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from chalicelib import config
from chalicelib.adapters import dynamodb
from chalicelib.domain.models import ModelStatus, OperationEntry
from local.expiry import Expired, Expiry, expire
from local.state import Pausable

NOW = datetime.now(UTC)


def entry(at: datetime, result: str) -> OperationEntry:
    return OperationEntry("m1", at, "user:ana", "start", ModelStatus.STOPPED, ModelStatus.PENDING, result)


def put_events(settings: config.Settings, *ages: timedelta) -> None:
    logs = boto3.client("logs", region_name=settings.region)
    logs.create_log_stream(logGroupName=settings.request_log_group, logStreamName="s1")
    events = [{"timestamp": int((NOW - age).timestamp() * 1000), "message": str(age)} for age in ages]
    logs.put_log_events(
        logGroupName=settings.request_log_group,
        logStreamName="s1",
        logEvents=sorted(events, key=lambda event: event["timestamp"]),
    )


def messages(settings: config.Settings) -> list[str]:
    logs = boto3.client("logs", region_name=settings.region)
    return [e["message"] for e in logs.filter_log_events(logGroupName=settings.request_log_group)["events"]]


def test_log_events_past_their_groups_retention_go_and_the_rest_stay(aws: config.Settings) -> None:
    # The request log group keeps 30 days, as the stack sets it; AWS takes no event older than 14 days, so the
    # expiry is asked about a day 20 days ahead, when the 13-day-old event is 33 days old.
    put_events(aws, timedelta(days=13), timedelta(days=5), timedelta(hours=1))
    assert expire(NOW + timedelta(days=20)) == Expired(log_events=1, items=0)
    assert messages(aws) == [str(timedelta(days=5)), str(timedelta(hours=1))]
    assert expire(NOW + timedelta(days=20)) == Expired(log_events=0, items=0)


def test_a_group_without_retention_keeps_everything(aws: config.Settings) -> None:
    boto3.client("logs", region_name=aws.region).delete_retention_policy(logGroupName=aws.request_log_group)
    put_events(aws, timedelta(days=13))
    assert expire(NOW + timedelta(days=400)) == Expired(log_events=0, items=0)
    assert messages(aws) == [str(timedelta(days=13))]


def test_operations_log_entries_past_their_time_to_live_go(aws: config.Settings) -> None:
    dynamodb.configure(aws)
    log = dynamodb.DynamoOperationsLog(ttl_days=30)
    log.record(entry(NOW - timedelta(days=31), "old"))
    log.record(entry(NOW - timedelta(days=29), "recent"))
    log.record(entry(NOW, "now"))
    assert expire(NOW) == Expired(log_events=0, items=1)
    assert [e.result for e in log.list("m1", 10, None).items] == ["now", "recent"]


def test_a_run_that_expired_something_counts_as_a_change_so_the_next_save_keeps_it(aws: config.Settings) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return [b"ok"]

    emulator = Pausable(app)
    dynamodb.configure(aws)
    dynamodb.DynamoOperationsLog(ttl_days=1).record(entry(NOW - timedelta(days=2), "old"))
    expiry = Expiry(emulator)
    assert expiry.run_once() == Expired(log_events=0, items=1)
    assert emulator.changes == 1  # so the next save keeps the state without what expired
    assert expiry.run_once() == Expired(log_events=0, items=0)
    assert emulator.changes == 1  # nothing to save again
