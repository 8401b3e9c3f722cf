"""Deployment rules: which versions may serve, how a switch completes, and the model's status from its versions'."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from chalicelib.domain.errors import FieldProblem, InvalidRequest
from chalicelib.domain.models import (
    MAX_REPLICAS,
    Autoscaling,
    DeployedVersion,
    ModelRecord,
    ModelStatus,
    ModelVersion,
    Shadow,
    SpecLine,
    VersionState,
    fargate_size_problem,
)

# A version leaving the serving set keeps running this long after the switch, so that requests
# routed by a gateway's cached route (ROUTE_CACHE_SECONDS) finish on it; added to the predict timeout.
DRAIN_MARGIN_SECONDS = 12.0


def check_deployment(record: ModelRecord, spec: Sequence[DeployedVersion]) -> None:
    """Raise InvalidRequest listing every problem of a proposed deployment."""
    problems: list[FieldProblem] = []
    if not spec:
        problems.append(FieldProblem("versions", "a deployment has at least one version"))
    numbers = [line.version for line in spec]
    if len(set(numbers)) != len(numbers):
        problems.append(FieldProblem("versions", "each version appears once"))
    total = sum(line.weight for line in spec)
    if spec and total != 100:
        problems.append(FieldProblem("versions", f"the weights sum to {total}; they must sum to 100"))
    for index, line in enumerate(spec):
        where = f"versions[{index}]"
        version = record.find_version(line.version)
        if version is None:
            problems.append(FieldProblem(f"{where}.version", f"the model has no version {line.version}"))
        elif version.docker_image is None and version.artifact is None:
            problems.append(
                FieldProblem(
                    f"{where}.version",
                    f"version {line.version} has no artifact yet: "
                    f"POST /api/models/{record.id}/versions/{line.version}/artifact",
                )
            )
        if not 0 <= line.weight <= 100:
            problems.append(FieldProblem(f"{where}.weight", "a weight is from 0 to 100"))
        if not 1 <= line.replicas <= MAX_REPLICAS:
            problems.append(FieldProblem(f"{where}.replicas", f"replicas are from 1 to {MAX_REPLICAS}"))
        size = fargate_size_problem(line.container_cpu, line.container_memory)
        if size:
            problems.append(FieldProblem(f"{where}.{size.field}", size.message))
        if line.autoscaling is not None:
            problems += [FieldProblem(f"{where}.autoscaling.{f}", m) for f, m in autoscaling_problems(line.autoscaling)]
        if line.shadow is not None:
            problems += [FieldProblem(f"{where}.{f}", m) for f, m in shadow_problems(record, line.weight, line.shadow)]
    if problems:
        raise InvalidRequest("the deployment is not valid", tuple(problems))


def autoscaling_problems(policy: Autoscaling) -> list[tuple[str, str]]:
    """(field, message) for each rule the policy breaks."""
    problems = []
    if not 1 <= policy.min_replicas <= policy.max_replicas <= MAX_REPLICAS:
        problems.append(("minReplicas", f"1 <= minReplicas <= maxReplicas <= {MAX_REPLICAS}"))
    if policy.target_cpu_percent is None and policy.target_requests_per_replica is None:
        problems.append(("targetCpuPercent", "give a target: targetCpuPercent and/or targetRequestsPerReplica"))
    return problems


def shadow_problems(record: ModelRecord, weight: int, shadow: Shadow) -> list[tuple[str, str]]:
    """(field, message) for each rule a shadow breaks: its answers reach no caller, so it serves no share itself,
    and its comparison needs the captured request and answer."""
    problems = []
    if weight != 0:
        problems.append(("weight", "a shadow's weight is 0: its answers never reach a caller"))
    if not 1 <= shadow.percent <= 100:
        problems.append(("shadow.percent", "a shadow gets from 1 to 100 percent of the requests"))
    if record.capture_body_bytes <= 0:
        problems.append(
            ("shadow", "a shadow compares captured requests and answers: set the model's captureBodyBytes above 0")
        )
    rule = shadow.rule
    if rule.absolute < 0 or rule.relative < 0 or (rule.kind == "tolerance" and not (rule.absolute or rule.relative)):
        problems.append(("shadow.rule", "a tolerance is at least 0, and a tolerance rule needs one above 0"))
    return problems


def with_shadow_since(
    record: ModelRecord, spec: Sequence[DeployedVersion], now: datetime
) -> tuple[DeployedVersion, ...]:
    """The spec with each shadow's start: kept when the version is a shadow under the same rule already, else now
    (a version that becomes a shadow anew, or is compared by another rule, starts a fresh tally)."""
    current = {d.version: d.shadow for d in record.deployment if d.shadow is not None}
    lines = []
    for line in spec:
        if line.shadow is not None:
            before = current.get(line.version)
            kept = before.since if before is not None and before.rule == line.shadow.rule else None
            line = dataclasses.replace(line, shadow=dataclasses.replace(line.shadow, since=kept or now))
        lines.append(line)
    return tuple(lines)


def spec_lines(record: ModelRecord, spec: Sequence[DeployedVersion]) -> tuple[SpecLine, ...]:
    """The deployment as the history keeps it, with each version's artifact digest or image."""
    lines = []
    for line in spec:
        version = record.find_version(line.version)
        artifact = version.artifact if version else None
        lines.append(
            SpecLine(
                line.version,
                line.weight,
                line.replicas,
                line.container_cpu,
                line.container_memory,
                artifact.sha256 if artifact else None,
                version.docker_image if version else None,
                line.autoscaling,
                line.spot,
                line.shadow,
            )
        )
    return tuple(lines)


def version_from_settings(record: ModelRecord, actor: str, at: datetime, notes: str) -> ModelVersion:
    """A new version from the model's own settings (the simple path: create, upload, start)."""
    number = (record.latest_version.number + 1) if record.latest_version else 1
    return ModelVersion(
        number=number,
        notes=notes,
        created_by=actor,
        created_at=at,
        docker_image=record.docker_image,
        artifact_format=record.artifact_format,
        container_port=record.container_port,
        env=dict(record.env),
        predict_path=record.predict_path,
        health_path=record.health_path,
        secret_env=dict(record.secret_env),
    )


def sole_deployment(record: ModelRecord, version: ModelVersion) -> tuple[DeployedVersion, ...]:
    """All traffic to one version, one replica, at the model's own size."""
    return (DeployedVersion(version.number, 100, 1, record.container_cpu, record.container_memory),)


def with_state(record: ModelRecord, state: VersionState) -> ModelRecord:
    others = tuple(s for s in record.version_states if s.version != state.version)
    return dataclasses.replace(record, version_states=tuple(sorted((*others, state), key=lambda s: s.version)))


def settle(record: ModelRecord, now: datetime) -> ModelRecord:
    """Complete a switch whose versions are all healthy, forget stopped leftovers, and summarise the status."""
    if record.deployment != record.serving and record.deployment and _all_running(record, record.deployment):
        leaving = {d.version for d in record.serving} - {d.version for d in record.deployment}
        drain = timedelta(seconds=record.predict_timeout_seconds + DRAIN_MARGIN_SECONDS)
        record = dataclasses.replace(
            record, serving=record.deployment, retire_after=now + drain if leaving else record.retire_after
        )
    wanted = {d.version for d in record.wanted()}
    kept = tuple(s for s in record.version_states if s.version in wanted or s.status is not ModelStatus.STOPPED)
    record = dataclasses.replace(record, version_states=kept)
    status, reason, for_good = summary(record)
    serving = [record.state_of(d.version) for d in record.serving if d.weight > 0] or [
        record.state_of(d.version) for d in record.serving
    ]
    endpoints = tuple(e for state in serving if state.status is ModelStatus.RUNNING for e in state.endpoints)
    return dataclasses.replace(
        record,
        status=status,
        status_reason=reason,
        failed_for_good=for_good,
        endpoints=endpoints,
        status_changed_at=now if status is not record.status else record.status_changed_at,
    )


def leaving_versions(record: ModelRecord) -> tuple[int, ...]:
    """Versions with replicas that neither serve nor are deployed: to be stopped once drained."""
    wanted = {d.version for d in record.wanted()}
    return tuple(
        s.version
        for s in record.version_states
        if s.version not in wanted and s.status not in (ModelStatus.STOPPED, ModelStatus.STOPPING)
    )


def _all_running(record: ModelRecord, spec: Sequence[DeployedVersion]) -> bool:
    return all(record.state_of(d.version).status is ModelStatus.RUNNING for d in spec)


def summary(record: ModelRecord) -> tuple[ModelStatus, str | None, bool]:
    """The model's status, reason and final-failure flag, from its versions' states."""
    wanted = record.wanted()
    states = [record.state_of(d.version) for d in wanted]
    statuses = {s.status for s in states}
    leftovers = [s for s in record.version_states if s.version not in {d.version for d in wanted}]
    if not states or statuses <= {ModelStatus.STOPPED}:
        busy = any(s.status is not ModelStatus.STOPPED for s in leftovers)
        at_rest = ModelStatus.IDLE if record.idle_since is not None else ModelStatus.STOPPED
        return (ModelStatus.STOPPING if busy else at_rest), None, False
    if statuses <= {ModelStatus.STOPPED, ModelStatus.STOPPING}:
        return ModelStatus.STOPPING, None, False
    failed = [s for s in states if s.status is ModelStatus.FAILED]
    several = len(wanted) > 1
    reason = "; ".join(f"version {s.version}: {s.status_reason}" if several else str(s.status_reason) for s in failed)
    serving = [record.state_of(d.version) for d in record.serving]
    if any(s.status is ModelStatus.RUNNING for s in serving):
        return ModelStatus.RUNNING, reason or None, False
    if ModelStatus.PENDING in statuses or ModelStatus.RUNNING in statuses:
        return ModelStatus.PENDING, reason or None, False
    return ModelStatus.FAILED, reason or None, all(s.failed_for_good for s in failed)


def follow_settings(record: ModelRecord, actor: str, at: datetime) -> ModelRecord:
    """The simple path: when a stopped model's own code or size settings change, it deploys them.

    A code change makes a new version (serving the previous version's file, for a runner model); a size
    change resizes the one deployed version. A deployment of several versions is left as its owner made it.
    """
    primary = record.primary_version
    if primary is None or len(record.deployment) > 1:
        return record
    wanted = version_from_settings(record, actor, at, "from the model's changed settings")
    if wanted.code() != primary.code():
        if wanted.docker_image is None and (primary.artifact or primary.artifact_pending_since):
            wanted = dataclasses.replace(
                wanted,
                artifact=primary.artifact,
                artifact_of=primary.artifact_number,
                artifact_pending_since=primary.artifact_pending_since,
            )
        replicas = record.deployment[0].replicas if record.deployment else 1
        deployed = DeployedVersion(wanted.number, 100, replicas, record.container_cpu, record.container_memory)
        return dataclasses.replace(record, versions=(*record.versions, wanted), deployment=(deployed,))
    if record.deployment:
        current = record.deployment[0]
        resized = dataclasses.replace(
            current, container_cpu=record.container_cpu, container_memory=record.container_memory
        )
        return dataclasses.replace(record, deployment=(resized,))
    return record
