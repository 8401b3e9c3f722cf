"""Target tracking as the local runtime applies it: grow on any target, shrink only when all allow, after a cooldown."""

from __future__ import annotations

import math

from chalicelib.domain.autoscaling import Load, decide
from chalicelib.domain.models import Autoscaling

CPU = Autoscaling(min_replicas=1, max_replicas=3, target_cpu_percent=50)
BOTH = Autoscaling(min_replicas=1, max_replicas=4, target_cpu_percent=50, target_requests_per_replica=10)


def test_a_load_twice_the_target_doubles_the_replicas_within_the_bounds() -> None:
    grown = decide(CPU, 1, Load(cpu_percent=100, requests_per_replica=None), math.inf)
    assert grown is not None and grown.replicas == 2 and grown.reason == "CPU 100% against a target of 50%"
    capped = decide(CPU, 2, Load(cpu_percent=400, requests_per_replica=None), math.inf)
    assert capped is not None and capped.replicas == 3


def test_near_the_target_or_unmeasured_nothing_changes() -> None:
    assert decide(CPU, 2, Load(cpu_percent=54, requests_per_replica=None), math.inf) is None
    assert decide(CPU, 2, Load(cpu_percent=None, requests_per_replica=30), math.inf) is None


def test_shrinking_waits_for_the_scale_in_cooldown_and_growing_for_the_scale_out_one() -> None:
    idle = Load(cpu_percent=5, requests_per_replica=None)
    assert decide(CPU, 3, idle, seconds_since_last_change=100, scale_in_cooldown=300) is None
    shrunk = decide(CPU, 3, idle, seconds_since_last_change=301, scale_in_cooldown=300)
    assert shrunk is not None and shrunk.replicas == 1
    busy = Load(cpu_percent=150, requests_per_replica=None)
    assert decide(CPU, 1, busy, seconds_since_last_change=30, scale_out_cooldown=60) is None


def test_with_two_targets_either_grows_it_and_it_shrinks_only_as_far_as_both_allow() -> None:
    requests_high = Load(cpu_percent=10, requests_per_replica=30)  # CPU would shrink, requests want 3x
    grown = decide(BOTH, 2, requests_high, math.inf)
    assert grown is not None and grown.replicas == 4 and grown.reason.startswith("requests per replica 30/s")
    cpu_still_busy = Load(cpu_percent=50, requests_per_replica=1)  # requests would shrink, CPU is on target
    assert decide(BOTH, 2, cpu_still_busy, math.inf) is None


def test_a_count_outside_the_bounds_is_brought_back() -> None:
    back = decide(CPU, 5, Load(None, None), 0)
    assert back is not None and back.replicas == 3
