"""The operations log on DynamoDB keeps a run of identical entries as one line with a count."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from chalicelib import config
from chalicelib.adapters import dynamodb
from chalicelib.domain.models import ModelStatus, OperationEntry

T0 = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


def failed(at: datetime, reason: str = "artifact could not be loaded") -> OperationEntry:
    actor = "system:container-runtime"
    return OperationEntry("m1", at, actor, "transition", ModelStatus.PENDING, ModelStatus.FAILED, "ok", reason)


def test_repeats_are_counted_on_the_newest_line_and_anything_else_starts_a_new_one(aws: config.Settings) -> None:
    dynamodb.configure(aws)
    log = dynamodb.DynamoOperationsLog(ttl_days=30)
    for second in range(3):
        log.record(failed(T0 + timedelta(seconds=second)))
    log.record(failed(T0 + timedelta(seconds=10), reason="health check failing"))
    log.record(failed(T0 + timedelta(seconds=11)))
    entries = log.list("m1", 10, None).items
    assert [(e.reason, e.count) for e in entries] == [
        ("artifact could not be loaded", 1),
        ("health check failing", 1),
        ("artifact could not be loaded", 3),
    ]
    assert entries[2].at == T0 and entries[2].last_at == T0 + timedelta(seconds=2)
    assert entries[0].last_at is None


def test_concurrent_repeats_lose_no_count(aws: config.Settings) -> None:
    dynamodb.configure(aws)
    log = dynamodb.DynamoOperationsLog(ttl_days=30)
    log.record(failed(T0))
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: log.record(failed(T0 + timedelta(seconds=1 + i))), range(8)))
    (entry,) = log.list("m1", 10, None).items
    assert entry.count == 9


def test_a_person_s_alike_actions_each_keep_their_line(aws: config.Settings) -> None:
    dynamodb.configure(aws)
    log = dynamodb.DynamoOperationsLog(ttl_days=30)
    for second in range(2):
        log.record(OperationEntry("m2", T0 + timedelta(seconds=second), "ana", "update", None, None, "ok"))
    assert [e.count for e in log.list("m2", 10, None).items] == [1, 1]
