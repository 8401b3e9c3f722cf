"""Status transitions from task events: the pure rules, one event at a time."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from chalicelib.domain.lifecycle import failure_reason, next_state
from chalicelib.domain.models import ArtifactFormat, ModelRecord, ModelStatus
from chalicelib.domain.ports import TaskEvent

NOW = datetime(2026, 11, 21, tzinfo=UTC)
RECORD = ModelRecord(
    id="m1",
    name="m",
    version="1",
    description="",
    docker_image=None,
    artifact_format=ArtifactFormat.JOBLIB,
    container_port=8080,
    container_cpu=0.5,
    container_memory=1,
    env={},
    predict_path="/predict",
    health_path="/health",
    status=ModelStatus.PENDING,
    status_reason=None,
    created_by="a",
    updated_by="a",
    created_at=NOW,
    updated_at=NOW,
    revision=1,
)


def event(last: str, health: str = "UNKNOWN", address: str | None = "10.0.0.5", **extra: object) -> TaskEvent:
    return TaskEvent("m1", "t1", last, "RUNNING", health, address, NOW, **extra)  # type: ignore[arg-type]


def record(status: ModelStatus, endpoints: tuple[str, ...] = ()) -> ModelRecord:
    return dataclasses.replace(RECORD, status=status, endpoints=endpoints)


def never() -> str:
    raise AssertionError("no failure expected")


@pytest.mark.parametrize("status", [ModelStatus.PENDING, ModelStatus.FAILED])
def test_a_healthy_task_makes_the_model_running_with_its_endpoint(status: ModelStatus) -> None:
    moved = next_state(record(status), event("RUNNING", "HEALTHY"), never)
    assert moved is not None and moved.status is ModelStatus.RUNNING and moved.endpoints == ("10.0.0.5:8080",)


def test_a_bound_port_wins_over_the_container_port() -> None:
    moved = next_state(record(ModelStatus.PENDING), event("RUNNING", "HEALTHY", "127.0.0.1", port=41234), never)
    assert moved is not None and moved.endpoints == ("127.0.0.1:41234",)


@pytest.mark.parametrize("status", [ModelStatus.STOPPING, ModelStatus.STOPPED])
def test_late_healthy_events_do_not_revive_a_stopped_model(status: ModelStatus) -> None:
    assert next_state(record(status), event("RUNNING", "HEALTHY"), never) is None


def test_pending_and_provisioning_events_change_nothing() -> None:
    assert next_state(record(ModelStatus.PENDING), event("PROVISIONING"), never) is None
    assert next_state(record(ModelStatus.PENDING), event("RUNNING", "UNKNOWN"), never) is None


def test_an_unexpected_stop_fails_the_model() -> None:
    moved = next_state(record(ModelStatus.RUNNING, ("10.0.0.5:8080",)), event("STOPPED"), lambda: "exited with code 1")
    assert moved is not None and moved.status is ModelStatus.FAILED and moved.reason == "exited with code 1"
    assert moved.endpoints == ()


def test_a_stop_that_was_asked_for_ends_stopped() -> None:
    moved = next_state(record(ModelStatus.STOPPING, ("10.0.0.5:8080",)), event("STOPPED"), never)
    assert moved is not None and moved.status is ModelStatus.STOPPED and moved.endpoints == ()


def test_an_unhealthy_task_fails_the_model() -> None:
    moved = next_state(record(ModelStatus.RUNNING, ("10.0.0.5:8080",)), event("RUNNING", "UNHEALTHY"), lambda: "h")
    assert moved is not None and moved.status is ModelStatus.FAILED


def test_the_runner_explains_better_than_an_exit_code() -> None:
    stopped = event("STOPPED", exit_code=3, stopped_reason="Essential container in task exited")
    assert failure_reason(RECORD, stopped, "artifact s3://b/k not found") == "artifact s3://b/k not found"
    assert failure_reason(RECORD, stopped, None) == "the container exited with code 3"
    killed = event("STOPPED", exit_code=137)
    assert "signal 9" in failure_reason(RECORD, killed, None)
    oom = event("STOPPED", exit_code=137, container_reason="OutOfMemoryError: Container killed due to memory usage")
    assert failure_reason(RECORD, oom, None).startswith("out of memory")
