"""A progressive rollout's plan and state, and the pure rules that judge a step from the gateway's numbers."""

from __future__ import annotations

import dataclasses
import enum
import itertools
from dataclasses import dataclass
from datetime import datetime

MAX_STEPS = 10
MAX_DECISIONS = 40  # a plan's decisions live in the model's item; older ones stay in the history


class RolloutStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    SUCCEEDED = "SUCCEEDED"
    ROLLED_BACK = "ROLLED_BACK"
    ABORTED = "ABORTED"


ACTIVE = frozenset({RolloutStatus.RUNNING, RolloutStatus.PAUSED})


class Verdict(enum.StrEnum):
    ADVANCE = "advance"
    ROLLBACK = "rollback"
    SUCCEED = "succeed"
    PROMOTE = "promote"
    ABORT = "abort"
    PAUSE = "pause"
    RESUME = "resume"


@dataclass(frozen=True)
class Guardrails:
    """What the candidate must hold against the baseline over a step's window to go on."""

    max_5xx_rate: float = 0.01  # the candidate's share of 5xx answers
    max_4xx_increase: float = 0.05  # the candidate's 4xx share minus the baseline's
    max_p99_ratio: float = 1.5  # the candidate's p99 latency over the baseline's
    min_match_rate: float | None = None  # of the candidate's shadow or replay comparison, when one ran
    # A verdict needs this many candidate requests in the window: fewer say nothing either way.
    min_requests: int = 20


@dataclass(frozen=True)
class WindowCounts:
    """One version's traffic over a window, as the gateway's metrics recorded it."""

    requests: int
    errors_4xx: int
    errors_5xx: int
    p99_ms: float | None

    def rate(self, errors: int) -> float | None:
        return errors / self.requests if self.requests else None


@dataclass(frozen=True)
class StepNumbers:
    """The numbers a decision was made on, kept with it."""

    candidate_requests: int | None = None
    baseline_requests: int | None = None
    candidate_5xx_rate: float | None = None
    baseline_5xx_rate: float | None = None
    candidate_4xx_rate: float | None = None
    baseline_4xx_rate: float | None = None
    candidate_p99: float | None = None
    baseline_p99: float | None = None
    p99_ratio: float | None = None
    match_rate: float | None = None


@dataclass(frozen=True)
class Decision:
    at: datetime
    step: int
    weight: int
    verdict: Verdict
    actor: str
    reason: str
    numbers: StepNumbers | None = None


@dataclass(frozen=True)
class Rollout:
    """A candidate taken from 0 to 100% of the traffic in steps, each held for its bake time under guardrails."""

    candidate_version: int
    baseline_version: int
    steps: tuple[int, ...]
    bake_seconds: int
    guardrails: Guardrails
    status: RolloutStatus
    started_by: str
    started_at: datetime
    step: int = 0
    # When the step's weights began to serve (the switch to them completed); None while it is under way.
    step_started_at: datetime | None = None
    ended_at: datetime | None = None
    reason: str | None = None
    decisions: tuple[Decision, ...] = ()
    # The baseline's numbers from the last step window where it had traffic.
    baseline_reference: WindowCounts | None = None
    # The baseline's numbers with all the traffic, just before the rollout began (None when it had too few
    # requests then). The 100% step, where the baseline has no traffic left, compares with these first: the
    # same share of the load, where a step window's baseline carried only part of it.
    baseline_alone: WindowCounts | None = None

    @property
    def weight(self) -> int:
        return self.steps[self.step]

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def decided(self, decision: Decision, **changes: object) -> Rollout:
        decisions = (*self.decisions, decision)[-MAX_DECISIONS:]
        return dataclasses.replace(self, decisions=decisions, **changes)  # type: ignore[arg-type]


def steps_problem(steps: tuple[int, ...]) -> str | None:
    """Why a list of step weights is not a plan, or None."""
    if not 1 <= len(steps) <= MAX_STEPS:
        return f"a plan has 1 to {MAX_STEPS} steps"
    if any(not 1 <= s <= 100 for s in steps):
        return "each step is a weight from 1 to 100"
    if any(b <= a for a, b in itertools.pairwise(steps)):
        return "the steps' weights increase, such as 5, 25, 50, 100"
    if steps[-1] != 100:
        return "the last step is 100: the candidate ends with all the traffic"
    return None


def numbers_of(
    rollout: Rollout, candidate: WindowCounts, baseline: WindowCounts, match_rate: float | None
) -> StepNumbers:
    """The step's numbers; a baseline without traffic in the window (the 100% step) is read from its numbers
    from before the rollout, else from its last step window with traffic."""
    reference = rollout.baseline_alone or rollout.baseline_reference
    compared = baseline if baseline.requests or reference is None else reference
    ratio = None
    if candidate.p99_ms is not None and compared.p99_ms:
        ratio = round(candidate.p99_ms / compared.p99_ms, 3)
    return StepNumbers(
        candidate_requests=candidate.requests,
        baseline_requests=compared.requests,
        candidate_5xx_rate=candidate.rate(candidate.errors_5xx),
        baseline_5xx_rate=compared.rate(compared.errors_5xx),
        candidate_4xx_rate=candidate.rate(candidate.errors_4xx),
        baseline_4xx_rate=compared.rate(compared.errors_4xx),
        candidate_p99=candidate.p99_ms,
        baseline_p99=compared.p99_ms,
        p99_ratio=ratio,
        match_rate=match_rate,
    )


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def breaches(numbers: StepNumbers, rails: Guardrails) -> list[str]:
    """Each guardrail the candidate broke, in words with its numbers; none before it has min_requests."""
    if (numbers.candidate_requests or 0) < rails.min_requests:
        return []
    broken = []
    requests = f"over {numbers.candidate_requests} requests"
    rate = numbers.candidate_5xx_rate
    if rate is not None and rate > rails.max_5xx_rate:
        broken.append(
            f"5xx rate {_percent(rate)} > {_percent(rails.max_5xx_rate)} {requests} "
            f"(baseline {_percent(numbers.baseline_5xx_rate)})"
        )
    if numbers.candidate_4xx_rate is not None and numbers.baseline_4xx_rate is not None:
        increase = numbers.candidate_4xx_rate - numbers.baseline_4xx_rate
        if increase > rails.max_4xx_increase:
            broken.append(
                f"4xx rate {_percent(numbers.candidate_4xx_rate)} is {increase * 100:.1f} points above the "
                f"baseline's {_percent(numbers.baseline_4xx_rate)} (at most {rails.max_4xx_increase * 100:.1f}) "
                f"{requests}"
            )
    if numbers.p99_ratio is not None and numbers.p99_ratio > rails.max_p99_ratio:
        broken.append(
            f"p99 latency {numbers.candidate_p99:.1f} ms is {numbers.p99_ratio:.2f} x the baseline's "
            f"{numbers.baseline_p99:.1f} ms (at most {rails.max_p99_ratio:g} x) {requests}"
        )
    if (
        rails.min_match_rate is not None
        and numbers.match_rate is not None
        and numbers.match_rate < rails.min_match_rate
    ):
        broken.append(
            f"match rate {_percent(numbers.match_rate)} < {_percent(rails.min_match_rate)} "
            "(the candidate's shadow or replay comparison)"
        )
    return broken


def held(numbers: StepNumbers, rails: Guardrails, baked_seconds: float, bake_seconds: int) -> str | None:
    """Why the step may advance (its guardrails held for the bake time, with enough requests), or None."""
    if baked_seconds < bake_seconds or (numbers.candidate_requests or 0) < rails.min_requests:
        return None
    p99 = "n/a" if numbers.p99_ratio is None else f"{numbers.p99_ratio:.2f} x the baseline's"
    return (
        f"guardrails held for {bake_seconds} s over {numbers.candidate_requests} requests: "
        f"5xx rate {_percent(numbers.candidate_5xx_rate)}, 4xx rate {_percent(numbers.candidate_4xx_rate)}, "
        f"p99 {p99}" + ("" if numbers.match_rate is None else f", match rate {_percent(numbers.match_rate)}")
    )
