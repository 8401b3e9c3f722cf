"""The rules that judge a rollout's step: plan validity, guardrail breaches, when a step has held, which baseline."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.domain.rollout_plans import (
    Guardrails,
    Rollout,
    RolloutStatus,
    StepNumbers,
    WindowCounts,
    breaches,
    held,
    numbers_of,
    steps_problem,
)

RAILS = Guardrails(max_5xx_rate=0.01, max_4xx_increase=0.05, max_p99_ratio=1.5, min_match_rate=0.9, min_requests=20)
ROLLOUT = Rollout(
    candidate_version=2,
    baseline_version=1,
    steps=(10, 50, 100),
    bake_seconds=60,
    guardrails=RAILS,
    status=RolloutStatus.RUNNING,
    started_by="alice",
    started_at=datetime(2026, 12, 7, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ((), "1 to 10 steps"),
        (tuple(range(10, 101, 8)), "1 to 10 steps"),
        ((0, 100), "from 1 to 100"),
        ((50, 50, 100), "increase"),
        ((10, 50), "the last step is 100"),
    ],
)
def test_a_plan_that_is_not_one_says_why(steps: tuple[int, ...], problem: str) -> None:
    assert problem in (steps_problem(steps) or "")


def test_a_plan_of_rising_steps_ending_at_100_is_valid() -> None:
    assert steps_problem((5, 25, 50, 100)) is None
    assert steps_problem((100,)) is None


def test_fewer_requests_than_the_minimum_say_nothing_either_way() -> None:
    awful = StepNumbers(candidate_requests=19, candidate_5xx_rate=1.0, p99_ratio=50.0, match_rate=0.0)
    assert breaches(awful, RAILS) == []
    assert held(awful, RAILS, baked_seconds=600, bake_seconds=60) is None


def test_each_broken_guardrail_is_named_with_its_numbers() -> None:
    numbers = StepNumbers(
        candidate_requests=200,
        candidate_5xx_rate=0.2,
        baseline_5xx_rate=0.0,
        candidate_4xx_rate=0.3,
        baseline_4xx_rate=0.1,
        candidate_p99=300.0,
        baseline_p99=100.0,
        p99_ratio=3.0,
        match_rate=0.5,
    )
    assert breaches(numbers, RAILS) == [
        "5xx rate 20.0% > 1.0% over 200 requests (baseline 0.0%)",
        "4xx rate 30.0% is 20.0 points above the baseline's 10.0% (at most 5.0) over 200 requests",
        "p99 latency 300.0 ms is 3.00 x the baseline's 100.0 ms (at most 1.5 x) over 200 requests",
        "match rate 50.0% < 90.0% (the candidate's shadow or replay comparison)",
    ]


def test_numbers_within_every_guardrail_hold_once_the_bake_time_has_passed() -> None:
    good = StepNumbers(
        candidate_requests=200,
        candidate_5xx_rate=0.005,
        candidate_4xx_rate=0.1,
        baseline_4xx_rate=0.08,
        p99_ratio=1.2,
        match_rate=0.95,
    )
    assert breaches(good, RAILS) == []
    assert held(good, RAILS, baked_seconds=59, bake_seconds=60) is None
    assert held(good, RAILS, baked_seconds=60, bake_seconds=60) == (
        "guardrails held for 60 s over 200 requests: 5xx rate 0.5%, 4xx rate 10.0%, p99 1.20 x the baseline's, "
        "match rate 95.0%"
    )


def test_a_step_compares_with_the_baseline_over_the_same_window() -> None:
    candidate = WindowCounts(requests=100, errors_4xx=2, errors_5xx=1, p99_ms=120.0)
    baseline = WindowCounts(requests=900, errors_4xx=9, errors_5xx=0, p99_ms=80.0)
    earlier = WindowCounts(requests=500, errors_4xx=0, errors_5xx=0, p99_ms=10.0)
    rollout = replace(ROLLOUT, baseline_alone=earlier, baseline_reference=earlier)
    numbers = numbers_of(rollout, candidate, baseline, None)
    assert numbers == StepNumbers(
        candidate_requests=100,
        baseline_requests=900,
        candidate_5xx_rate=0.01,
        baseline_5xx_rate=0.0,
        candidate_4xx_rate=0.02,
        baseline_4xx_rate=0.01,
        candidate_p99=120.0,
        baseline_p99=80.0,
        p99_ratio=1.5,
        match_rate=None,
    )


def test_at_100_percent_the_baseline_is_read_from_before_the_rollout_else_from_its_last_step() -> None:
    candidate = WindowCounts(requests=1000, errors_4xx=0, errors_5xx=0, p99_ms=150.0)
    silent = WindowCounts(requests=0, errors_4xx=0, errors_5xx=0, p99_ms=None)
    alone = WindowCounts(requests=3000, errors_4xx=0, errors_5xx=3, p99_ms=100.0)  # all the load, before
    half = WindowCounts(requests=500, errors_4xx=0, errors_5xx=0, p99_ms=60.0)  # half the load, at the 50% step
    both = replace(ROLLOUT, step=2, baseline_alone=alone, baseline_reference=half)
    at_full_load = numbers_of(both, candidate, silent, None)
    # Every baseline number shown with the decision is the one it was made on: those from before the rollout.
    assert (at_full_load.baseline_requests, at_full_load.baseline_p99, at_full_load.p99_ratio) == (3000, 100.0, 1.5)
    assert at_full_load.baseline_5xx_rate == 0.001
    no_traffic_before = replace(both, baseline_alone=None)
    assert numbers_of(no_traffic_before, candidate, silent, None).p99_ratio == 2.5
    neither = replace(both, baseline_alone=None, baseline_reference=None)
    assert numbers_of(neither, candidate, silent, None).p99_ratio is None
