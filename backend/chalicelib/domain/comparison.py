"""Comparing a candidate version's answers with the serving version's: the rule, one comparison, and the tally.

Replays and shadow traffic both compare answers and keep the same tally; a rollout's guardrail reads its
match rate. The tally merges (shadow answers arrive in batches from many consumers), so latencies are
kept as a histogram of fixed buckets rather than as samples.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the ports' record types build on this module's tally
    from chalicelib.domain.ports import Prediction

MAX_LARGEST = 10  # the differences a tally keeps whole, largest first
# Each body a kept difference shows, in characters: ten examples of three bodies stay far below DynamoDB's 400 KB.
EXAMPLE_BODY_CHARS = 4096
# Latency buckets: each 10% wider than the one before, from 0.1 ms; a percentile is off by at most 10%.
_BUCKET_BASE = 0.1
_BUCKET_GROWTH = 1.1


class RuleKind(enum.StrEnum):
    EXACT = "exact"
    TOLERANCE = "tolerance"


@dataclass(frozen=True)
class ComparisonRule:
    """Exact, or numbers equal within `absolute` + `relative` x the larger magnitude (both may be given)."""

    kind: RuleKind = RuleKind.EXACT
    absolute: float = 0.0
    relative: float = 0.0

    def close(self, baseline: float, candidate: float) -> bool:
        if self.kind is RuleKind.EXACT:
            return baseline == candidate
        return abs(baseline - candidate) <= self.absolute + self.relative * max(abs(baseline), abs(candidate))


@dataclass(frozen=True)
class Difference:
    """Where two answers first differ and by how much: the largest numeric gap, or infinity for a change of shape."""

    where: str
    size: float


def compare(baseline: str, candidate: str, rule: ComparisonRule) -> Difference | None:
    """None when the candidate's answer matches the baseline's under the rule."""
    try:
        left, right = json.loads(baseline), json.loads(candidate)
    except ValueError:
        return None if baseline == candidate else Difference("$", math.inf)
    found: list[Difference] = []
    _walk(left, right, "$", rule, found)
    if not found:
        return None
    return max(found, key=lambda d: d.size)


def _walk(left: Any, right: Any, where: str, rule: ComparisonRule, found: list[Difference]) -> None:
    if _number(left) and _number(right):
        if not rule.close(float(left), float(right)):
            found.append(Difference(where, abs(float(left) - float(right))))
    elif isinstance(left, dict) and isinstance(right, dict):
        if left.keys() != right.keys():
            keys = sorted(left.keys() ^ right.keys())
            found.append(Difference(f"{where}.{keys[0]}", math.inf))
            return
        for key in left:
            _walk(left[key], right[key], f"{where}.{key}", rule, found)
    elif isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            found.append(Difference(f"{where}.length", math.inf))
            return
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            _walk(a, b, f"{where}[{index}]", rule, found)
    elif left != right or type(left) is not type(right):
        found.append(Difference(where, math.inf))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Outcome(enum.StrEnum):
    MATCHED = "matched"
    DIFFERED = "differed"
    ERRORED = "errored"  # the candidate failed (a 5xx, a timeout) where the serving version answered
    SKIPPED = "skipped"  # the captured body was cut at captureBodyBytes: nothing fair to send or compare


@dataclass(frozen=True)
class DiffExample:
    """One differing request with both answers, side by side."""

    request_id: str
    request_body: str
    baseline_status: int
    baseline_body: str
    candidate_status: int
    candidate_body: str
    where: str
    size: float

    @classmethod
    def of(
        cls,
        request_id: str,
        request_body: str,
        baseline: tuple[int, str],
        candidate: tuple[int, str],
        difference: Difference,
    ) -> DiffExample:
        """The example of a difference, each body clipped to EXAMPLE_BODY_CHARS (status, body for each side)."""
        return cls(
            request_id,
            _clip(request_body),
            baseline[0],
            _clip(baseline[1]),
            candidate[0],
            _clip(candidate[1]),
            difference.where,
            difference.size,
        )


def _clip(text: str) -> str:
    return text if len(text) <= EXAMPLE_BODY_CHARS else text[:EXAMPLE_BODY_CHARS] + "…"


def captured_whole(prediction: Prediction) -> bool:
    """Both bodies were kept uncut (captureBodyBytes), so the request can be sent again and its answer compared.

    A cut inside a multi-byte character reads back as a replacement character: the sizes differ too."""
    request, response = prediction.request_body, prediction.response_body
    return (
        request is not None
        and response is not None
        and len(request.encode()) == prediction.request_bytes
        and len(response.encode()) == prediction.response_bytes
    )


def bucket_of(latency_ms: float) -> int:
    if latency_ms <= _BUCKET_BASE:
        return 0
    return 1 + int(math.log(latency_ms / _BUCKET_BASE, _BUCKET_GROWTH))


def bucket_upper_ms(bucket: int) -> float:
    return _BUCKET_BASE * _BUCKET_GROWTH**bucket


def percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """The latency below which `fraction` of the counted requests fall (a bucket's upper edge); None if none."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return round(bucket_upper_ms(bucket), 3)
    raise AssertionError("unreachable: the ranks add up to the total")


@dataclass(frozen=True)
class Tally:
    """Counts per outcome, the largest differences, and both versions' latency for the compared requests."""

    matched: int = 0
    differed: int = 0
    errored: int = 0
    skipped: int = 0
    largest: tuple[DiffExample, ...] = ()
    candidate_latency: dict[int, int] = dataclasses.field(default_factory=dict)
    baseline_latency: dict[int, int] = dataclasses.field(default_factory=dict)

    @property
    def compared(self) -> int:
        return self.matched + self.differed + self.errored

    @property
    def total(self) -> int:
        return self.compared + self.skipped

    @property
    def match_rate(self) -> float | None:
        """Matched among the requests compared (skipped ones are neither), or None before any."""
        return self.matched / self.compared if self.compared else None

    def count(
        self,
        outcome: Outcome,
        example: DiffExample | None = None,
        candidate_ms: float | None = None,
        baseline_ms: float | None = None,
    ) -> Tally:
        counts = {outcome.value: getattr(self, outcome.value) + 1}
        largest = self.largest
        if example is not None:
            largest = _largest((*largest, example))
        return dataclasses.replace(
            self,
            **counts,
            largest=largest,
            candidate_latency=_added(self.candidate_latency, candidate_ms),
            baseline_latency=_added(self.baseline_latency, baseline_ms),
        )

    def merged(self, other: Tally) -> Tally:
        return Tally(
            self.matched + other.matched,
            self.differed + other.differed,
            self.errored + other.errored,
            self.skipped + other.skipped,
            _largest((*self.largest, *other.largest)),
            _sum(self.candidate_latency, other.candidate_latency),
            _sum(self.baseline_latency, other.baseline_latency),
        )


def _largest(examples: tuple[DiffExample, ...]) -> tuple[DiffExample, ...]:
    # An errored request (size inf, no answer to compare) sorts with changes of shape, first.
    return tuple(sorted(examples, key=lambda e: e.size, reverse=True)[:MAX_LARGEST])


def _added(histogram: dict[int, int], latency_ms: float | None) -> dict[int, int]:
    if latency_ms is None:
        return histogram
    bucket = bucket_of(latency_ms)
    return {**histogram, bucket: histogram.get(bucket, 0) + 1}


def _sum(left: dict[int, int], right: dict[int, int]) -> dict[int, int]:
    return {bucket: left.get(bucket, 0) + right.get(bucket, 0) for bucket in left.keys() | right.keys()}


def judge(
    rule: ComparisonRule,
    baseline_status: int,
    baseline_body: str,
    candidate_status: int | None,
    candidate_body: str,
) -> tuple[Outcome, Difference | None]:
    """The outcome of one request: the candidate's failure (status None: no answer) is an error, else the bodies
    (and statuses) are compared."""
    if candidate_status is None or (candidate_status >= 500 and baseline_status < 500):
        return Outcome.ERRORED, Difference("$", math.inf)
    if candidate_status != baseline_status:
        return Outcome.DIFFERED, Difference("status", math.inf)
    difference = compare(baseline_body, candidate_body, rule)
    return (Outcome.MATCHED, None) if difference is None else (Outcome.DIFFERED, difference)
