"""Status transitions from replica reports: the pure rules, one report at a time."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from chalicelib.domain.lifecycle import failure_reason, next_state
from chalicelib.domain.models import ArtifactFormat, ModelRecord, ModelStatus
from chalicelib.domain.ports import ExitCause, ReplicaExit, ReplicaReport, ReplicaState
from chalicelib.domain.runner_contract import RUNNER_CANNOT_LOAD_EXIT_CODE

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


def event(state: ReplicaState, address: str | None = "10.0.0.5", **extra: object) -> ReplicaReport:
    return ReplicaReport("m1", "t1", state, NOW, address, **extra)  # type: ignore[arg-type]


def exited(
    cause: ExitCause = ExitCause.EXITED, exit_code: int | None = None, detail: str | None = None
) -> ReplicaReport:
    return event(ReplicaState.EXITED, exit=ReplicaExit(cause, exit_code, detail))


def record(status: ModelStatus, endpoints: tuple[str, ...] = ()) -> ModelRecord:
    return dataclasses.replace(RECORD, status=status, endpoints=endpoints)


def never() -> str:
    raise AssertionError("no failure expected")


@pytest.mark.parametrize("status", [ModelStatus.PENDING, ModelStatus.FAILED])
def test_a_healthy_task_makes_the_model_running_with_its_endpoint(status: ModelStatus) -> None:
    moved = next_state(record(status), event(ReplicaState.HEALTHY), never)
    assert moved is not None and moved.status is ModelStatus.RUNNING and moved.endpoints == ("10.0.0.5:8080",)


def test_a_bound_port_wins_over_the_container_port() -> None:
    moved = next_state(record(ModelStatus.PENDING), event(ReplicaState.HEALTHY, "127.0.0.1", port=41234), never)
    assert moved is not None and moved.endpoints == ("127.0.0.1:41234",)


@pytest.mark.parametrize("status", [ModelStatus.STOPPING, ModelStatus.STOPPED])
def test_late_healthy_events_do_not_revive_a_stopped_model(status: ModelStatus) -> None:
    assert next_state(record(status), event(ReplicaState.HEALTHY), never) is None


def test_pending_and_provisioning_events_change_nothing() -> None:
    assert next_state(record(ModelStatus.PENDING), event(ReplicaState.STARTED), never) is None
    assert next_state(record(ModelStatus.PENDING), event(ReplicaState.STARTED, None), never) is None


def test_an_unexpected_stop_fails_the_model() -> None:
    moved = next_state(record(ModelStatus.RUNNING, ("10.0.0.5:8080",)), exited(), lambda: "exited with code 1")
    assert moved is not None and moved.status is ModelStatus.FAILED and moved.reason == "exited with code 1"
    assert moved.endpoints == ()


def test_a_stop_that_was_asked_for_ends_stopped() -> None:
    moved = next_state(record(ModelStatus.STOPPING, ("10.0.0.5:8080",)), exited(), never)
    assert moved is not None and moved.status is ModelStatus.STOPPED and moved.endpoints == ()


def test_an_unhealthy_task_fails_the_model() -> None:
    moved = next_state(record(ModelStatus.RUNNING, ("10.0.0.5:8080",)), event(ReplicaState.UNHEALTHY), lambda: "h")
    assert moved is not None and moved.status is ModelStatus.FAILED


def test_the_runner_explains_better_than_an_exit_code() -> None:
    stopped = exited(exit_code=3, detail="Essential container in task exited")
    assert failure_reason(RECORD, stopped, "artifact s3://b/k not found") == "artifact s3://b/k not found"
    assert failure_reason(RECORD, stopped, None) == "the container exited with code 3"
    killed = exited(exit_code=137)
    assert "signal 9" in failure_reason(RECORD, killed, None)
    oom = exited(ExitCause.OUT_OF_MEMORY, 137, "OutOfMemoryError: Container killed due to memory usage")
    assert failure_reason(RECORD, oom, None).startswith("out of memory")
    assert failure_reason(RECORD, oom, "the runner's last words") == (
        "out of memory: the container needed more than 1 GB; choose a larger containerMemory"
    )


def test_each_exit_cause_says_what_to_fix() -> None:
    image = dataclasses.replace(RECORD, docker_image="repo/model:1")
    pulled = failure_reason(image, exited(ExitCause.IMAGE_UNAVAILABLE, detail="CannotPullContainerError: nope"), None)
    assert pulled == "the image repo/model:1 cannot be pulled: CannotPullContainerError: nope"
    assert failure_reason(RECORD, exited(ExitCause.HEALTH_CHECK), None).startswith("health check failing: GET /health")
    assert failure_reason(RECORD, event(ReplicaState.UNHEALTHY), None).startswith("health check failing")
    assert failure_reason(RECORD, exited(detail="Task stopped by ECS"), None) == "Task stopped by ECS"
    assert failure_reason(RECORD, exited(), None) == "the container stopped unexpectedly"


def test_a_report_without_an_address_ends_every_endpoint() -> None:
    anonymous = dataclasses.replace(exited(), address=None)
    moved = next_state(record(ModelStatus.RUNNING, ("10.0.0.5:8080", "10.0.0.6:8080")), anonymous, lambda: "gone")
    assert moved is not None and moved.status is ModelStatus.FAILED and moved.endpoints == ()
    one = dataclasses.replace(exited(), address="10.0.0.6")
    kept = next_state(record(ModelStatus.RUNNING, ("10.0.0.5:8080", "10.0.0.6:8080")), one, lambda: "kept")
    assert kept is not None and kept.status is ModelStatus.RUNNING and kept.endpoints == ("10.0.0.5:8080",)


def test_a_runner_that_cannot_load_fails_for_good_and_a_crash_does_not() -> None:
    running = record(ModelStatus.PENDING)
    cannot_load = next_state(running, exited(exit_code=RUNNER_CANNOT_LOAD_EXIT_CODE), lambda: "bad artifact")
    assert cannot_load is not None and cannot_load.status is ModelStatus.FAILED and cannot_load.for_good
    no_image = next_state(running, exited(ExitCause.IMAGE_UNAVAILABLE), lambda: "no image")
    assert no_image is not None and no_image.for_good
    crashed = next_state(running, exited(exit_code=137), lambda: "killed")
    assert crashed is not None and crashed.status is ModelStatus.FAILED and not crashed.for_good
    image_model = dataclasses.replace(running, docker_image="repo/model:1", artifact_format=None)
    own_code = next_state(image_model, exited(exit_code=RUNNER_CANNOT_LOAD_EXIT_CODE), lambda: "exit 3")
    assert own_code is not None and not own_code.for_good  # a custom image's exit 3 means what it means to it


def test_after_a_final_failure_only_a_start_moves_the_model() -> None:
    given_up = dataclasses.replace(record(ModelStatus.FAILED), failed_for_good=True)
    assert next_state(given_up, exited(exit_code=RUNNER_CANNOT_LOAD_EXIT_CODE), never) is None
    assert next_state(given_up, event(ReplicaState.HEALTHY), never) is None


def test_the_runner_and_the_domain_agree_on_the_cannot_load_code() -> None:
    from runner import EXIT_LOAD_FAILURE

    assert EXIT_LOAD_FAILURE == RUNNER_CANNOT_LOAD_EXIT_CODE
