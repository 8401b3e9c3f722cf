"""Target tracking as Application Auto Scaling does it, for runtimes that scale replicas themselves (local mode)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from chalicelib.domain.models import Autoscaling

# As ECS's target tracking defaults: grow fast, shrink only after a quiet spell, so the count does not flap.
SCALE_OUT_COOLDOWN_SECONDS = 60.0
SCALE_IN_COOLDOWN_SECONDS = 300.0
# Application Auto Scaling leaves the count alone while the metric is within about 10% of the target.
TOLERANCE = 0.1


@dataclass(frozen=True)
class Load:
    """What the replicas of one version did over the last window; None where nothing was measured."""

    cpu_percent: float | None  # average over the replicas, of what each reserved
    requests_per_replica: float | None  # per second


@dataclass(frozen=True)
class Scaling:
    replicas: int
    reason: str


def describe_targets(policy: Autoscaling) -> str:
    """The policy's targets as the operations log says them: "CPU 60%, requests per replica 5/s"."""
    targets = []
    if policy.target_cpu_percent is not None:
        targets.append(f"CPU {policy.target_cpu_percent:g}%")
    if policy.target_requests_per_replica is not None:
        targets.append(f"requests per replica {policy.target_requests_per_replica:g}/s")
    return ", ".join(targets)


def _wanted(current: int, measured: float | None, target: float | None) -> int | None:
    if measured is None or target is None or target <= 0:
        return None
    ratio = measured / target
    if abs(ratio - 1) <= TOLERANCE:
        return current
    return max(1, math.ceil(current * ratio - 1e-9))


def decide(
    policy: Autoscaling,
    current: int,
    load: Load,
    seconds_since_last_change: float,
    scale_out_cooldown: float = SCALE_OUT_COOLDOWN_SECONDS,
    scale_in_cooldown: float = SCALE_IN_COOLDOWN_SECONDS,
) -> Scaling | None:
    """The new replica count and why, or None to leave it. With two targets, either may grow it and
    it shrinks only when both allow (as two target-tracking policies on one service do)."""
    if current < policy.min_replicas or current > policy.max_replicas:
        return Scaling(policy.bounded(current), f"back within {policy.min_replicas}..{policy.max_replicas}")
    by_metric = {
        "CPU": (
            _wanted(current, load.cpu_percent, policy.target_cpu_percent),
            load.cpu_percent,
            policy.target_cpu_percent,
            "%",
        ),
        "requests per replica": (
            _wanted(current, load.requests_per_replica, policy.target_requests_per_replica),
            load.requests_per_replica,
            policy.target_requests_per_replica,
            "/s",
        ),
    }
    wanted = {name: entry for name, entry in by_metric.items() if entry[0] is not None}
    if not wanted:
        return None  # nothing measured: keep the count rather than guess
    name, (replicas, measured, target, unit) = max(wanted.items(), key=lambda item: item[1][0] or 0)
    replicas = policy.bounded(replicas or current)
    if replicas > current and seconds_since_last_change >= scale_out_cooldown:
        return Scaling(replicas, f"{name} {measured:g}{unit} against a target of {target:g}{unit}")
    if replicas < current and seconds_since_last_change >= scale_in_cooldown:
        return Scaling(replicas, f"{name} {measured:g}{unit} against a target of {target:g}{unit}")
    return None
