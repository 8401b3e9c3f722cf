"""Project quotas: the capacity a project's models may hold, checked before a model starts, grows or arrives."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields

from chalicelib.domain.errors import QuotaExceeded
from chalicelib.domain.models import DeployedVersion, ModelRecord, ModelStatus


@dataclass(frozen=True)
class Quota:
    """The most a project's models may hold at once; None leaves a measure unbounded."""

    max_vcpu: float | None = None
    max_memory_gb: float | None = None
    max_replicas: int | None = None
    max_models: int | None = None


@dataclass(frozen=True)
class Usage:
    vcpu: float = 0.0
    memory_gb: float = 0.0
    replicas: int = 0
    models: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Usage)))


# Each measure: the quota field that bounds it, and how a message names it.
_MEASURES = (
    ("vcpu", "max_vcpu", "vCPU"),
    ("memory_gb", "max_memory_gb", "GB of memory"),
    ("replicas", "max_replicas", "replicas"),
    ("models", "max_models", "models"),
)


def reserved(spec: Sequence[DeployedVersion]) -> Usage:
    """What a deployment holds: an autoscaled version its maximum, so the autoscaler never grows past a quota."""
    usage = Usage()
    for deployed in spec:
        count = deployed.autoscaling.max_replicas if deployed.autoscaling else deployed.replicas
        usage += Usage(deployed.container_cpu * count, deployed.container_memory * count, count)
    return usage


def holds_capacity(record: ModelRecord) -> bool:
    """A model holds its deployment's capacity unless it is stopped: an IDLE one wakes by itself on a request,
    and a failed one is restarted by its runtime unless it failed for good."""
    if record.status is ModelStatus.STOPPED:
        return False
    return not (record.status is ModelStatus.FAILED and record.failed_for_good)


def usage_of(records: Iterable[ModelRecord]) -> Usage:
    usage = Usage()
    for record in records:
        held = reserved(record.deployment) if holds_capacity(record) else Usage()
        usage += Usage(held.vcpu, held.memory_gb, held.replicas, 1)
    return usage


def _amount(value: float) -> str:
    return f"{value:g}"


def check(project: str, quota: Quota, others: Usage, before: Usage, after: Usage) -> None:
    """QuotaExceeded when one model going from holding `before` to `after` takes the project past a bound.

    Only a measure that grows is checked, so a quota lowered below what runs never blocks a scale-down.
    """
    for measure, bound_name, unit in _MEASURES:
        bound = getattr(quota, bound_name)
        grows = getattr(after, measure) - getattr(before, measure)
        in_use = getattr(others, measure) + getattr(before, measure)
        if bound is None or grows <= 0 or in_use + grows <= bound + 1e-9:
            continue
        if bound == 1 and unit in ("replicas", "models"):
            unit = unit[:-1]  # "a quota of 1 replica"
        raise QuotaExceeded(
            f"project {project} has a quota of {_amount(bound)} {unit}: {_amount(in_use)} in use, "
            f"{_amount(grows)} more asked, {_amount(max(bound - in_use, 0))} left"
        )


class QuotaGuard:
    """Answers whether a project's quota lets one of its models start, change its deployment, or arrive."""

    def __init__(self, quota_of: Callable[[str], Quota], models_of: Callable[[str], list[ModelRecord]]) -> None:
        self._quota_of = quota_of
        self._models_of = models_of

    def usage(self, project: str) -> Usage:
        return usage_of(self._models_of(project))

    def admit_deployment(self, record: ModelRecord, spec: Sequence[DeployedVersion]) -> None:
        """Before `record` runs `spec`: what it holds now (nothing when stopped) becomes what `spec` reserves."""
        quota = self._quota_of(record.project)
        if quota == Quota():
            return
        others = usage_of(m for m in self._models_of(record.project) if m.id != record.id)
        before = reserved(record.deployment) if holds_capacity(record) else Usage()
        check(record.project, quota, others, before, reserved(spec))

    def admit_model(self, project: str, moving: ModelRecord | None = None) -> None:
        """Before a model is made in the project, or `moving` comes to it with the capacity it holds."""
        quota = self._quota_of(project)
        if quota == Quota() or (moving is not None and moving.project == project):
            return
        held = reserved(moving.deployment) if moving is not None and holds_capacity(moving) else Usage()
        check(project, quota, self.usage(project), Usage(), held + Usage(models=1))
