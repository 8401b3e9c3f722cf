"""ECS task state changes read as replica reports: ECS's vocabulary stays in its adapter."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import config
from chalicelib.adapters.ecs import family, replica_report_from_detail
from chalicelib.domain.ports import ExitCause, ReplicaState

SETTINGS = config.from_environment({"KRAKEN_STAGE": "unit"})


def detail(**fields: Any) -> dict[str, Any]:
    name = family(SETTINGS, "m1", 1)
    return {
        "clusterArn": f"arn:aws:ecs:{SETTINGS.region}:000000000000:cluster/{SETTINGS.cluster}",
        "taskArn": f"arn:aws:ecs:{SETTINGS.region}:000000000000:task/{SETTINGS.cluster}/abc123",
        "group": f"service:{name}",
        "containers": [{"name": "model", **fields.pop("container", {})}],
        **fields,
    }


def test_a_healthy_task_is_a_healthy_replica_with_its_address() -> None:
    report = replica_report_from_detail(
        detail(
            lastStatus="RUNNING",
            healthStatus="HEALTHY",
            container={"networkInterfaces": [{"privateIpv4Address": "10.1.2.3"}]},
        ),
        SETTINGS,
    )
    assert report is not None
    assert (report.model_id, report.replica_id, report.state) == ("m1", "abc123", ReplicaState.HEALTHY)
    assert (report.address, report.port, report.exit) == ("10.1.2.3", None, None)


@pytest.mark.parametrize(
    ("fields", "cause"),
    [
        ({"stoppedReason": "CannotPullContainerError: pull access denied"}, ExitCause.IMAGE_UNAVAILABLE),
        ({"container": {"exitCode": 137, "reason": "OutOfMemoryError: Container killed"}}, ExitCause.OUT_OF_MEMORY),
        ({"stoppedReason": "OutOfMemory", "container": {"exitCode": 137}}, ExitCause.OUT_OF_MEMORY),
        ({"stoppedReason": "Task failed container health checks"}, ExitCause.HEALTH_CHECK),
        ({"healthStatus": "UNHEALTHY"}, ExitCause.HEALTH_CHECK),
        ({"stoppedReason": "Essential container in task exited", "container": {"exitCode": 3}}, ExitCause.EXITED),
    ],
)
def test_why_a_task_stopped_becomes_an_exit_cause(fields: dict[str, Any], cause: ExitCause) -> None:
    report = replica_report_from_detail(detail(lastStatus="STOPPED", **fields), SETTINGS)
    assert report is not None and report.state is ReplicaState.EXITED
    assert report.exit is not None and report.exit.cause is cause


def test_the_exit_keeps_the_code_and_ecs_own_words() -> None:
    report = replica_report_from_detail(
        detail(lastStatus="STOPPED", stoppedReason="Essential container in task exited", container={"exitCode": 3}),
        SETTINGS,
    )
    assert report is not None and report.exit is not None
    assert (report.exit.exit_code, report.exit.detail) == (3, "Essential container in task exited")


@pytest.mark.parametrize(
    ("last", "health", "state"),
    [
        ("PROVISIONING", None, ReplicaState.STARTED),
        ("PENDING", None, ReplicaState.STARTED),
        ("RUNNING", "UNKNOWN", ReplicaState.STARTED),
        ("RUNNING", "UNHEALTHY", ReplicaState.UNHEALTHY),
        ("DEACTIVATING", None, None),
        ("STOPPING", None, None),
    ],
)
def test_statuses_map_to_replica_states(last: str, health: str | None, state: ReplicaState | None) -> None:
    report = replica_report_from_detail(detail(lastStatus=last, healthStatus=health), SETTINGS)
    assert (report.state if report else None) is state


def test_tasks_of_other_clusters_or_services_are_not_ours() -> None:
    other_cluster = detail(lastStatus="RUNNING", clusterArn="arn:aws:ecs:us-east-1:0:cluster/other")
    assert replica_report_from_detail(other_cluster, SETTINGS) is None
    other_service = detail(lastStatus="RUNNING", group="service:someone-else", taskDefinitionArn="x/other:1")
    assert replica_report_from_detail(other_service, SETTINGS) is None
    by_definition = detail(lastStatus="PENDING", group="", taskDefinitionArn=f"x/{family(SETTINGS, 'm2', 3)}:4")
    report = replica_report_from_detail(by_definition, SETTINGS)
    assert report is not None and (report.model_id, report.version) == ("m2", 3)
