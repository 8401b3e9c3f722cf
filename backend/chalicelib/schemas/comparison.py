"""Shapes shared by replays and shadow traffic: the comparison rule, the counts, latency and the largest differences."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import Field, model_validator

from chalicelib.domain.comparison import ComparisonRule, DiffExample, RuleKind, Tally, percentile
from chalicelib.schemas.common import ResponseModel
from chalicelib.schemas.models import _Strict

Tolerance = Annotated[float, Field(ge=0, le=1e12, strict=False)]  # 0 and 0.5 alike: JSON has one kind of number


class ComparisonRuleSettings(_Strict):
    """Exact, or numbers equal within `absolute` + `relative` x the larger magnitude."""

    kind: Annotated[RuleKind, Field(strict=False)] = RuleKind.EXACT
    absolute: Tolerance = 0.0
    relative: Tolerance = 0.0

    @model_validator(mode="after")
    def _a_tolerance_tolerates(self) -> ComparisonRuleSettings:
        if self.kind is RuleKind.TOLERANCE and not (self.absolute or self.relative):
            raise ValueError("a tolerance rule needs absolute or relative above 0")
        return self

    def rule(self) -> ComparisonRule:
        return ComparisonRule(self.kind, float(self.absolute), float(self.relative))


class ComparisonRuleResponse(ResponseModel):
    kind: RuleKind
    absolute: float
    relative: float


class CountsResponse(ResponseModel):
    matched: int
    differed: int
    errored: int
    skipped: int = Field(description="the captured request or answer was cut at captureBodyBytes: not compared")


class LatencyResponse(ResponseModel):
    p50: float | None = Field(description="milliseconds; null before any request was measured")
    p99: float | None

    @classmethod
    def of(cls, histogram: dict[int, int]) -> LatencyResponse:
        return cls(p50=percentile(histogram, 0.5), p99=percentile(histogram, 0.99))


class DifferenceResponse(ResponseModel):
    """One differing request with both answers side by side (bodies as captured, cut at 4 KB)."""

    request_id: str
    request_body: str
    baseline_status: int
    baseline_body: str
    candidate_status: int
    candidate_body: str
    where: str = Field(description="where the answers first differ, as a JSON path ($[0].price), or 'status'")
    size: float | None = Field(description="the numeric gap; null for a change of shape or a failed candidate")

    @classmethod
    def of(cls, example: DiffExample) -> DifferenceResponse:
        fields: dict[str, Any] = {name: getattr(example, name) for name in cls.model_fields}
        return cls(**{**fields, "size": None if math.isinf(example.size) else example.size})


def tally_fields(tally: Tally) -> dict[str, Any]:
    """counts, matchRate, largest, candidateLatency and baselineLatency of a response, from a tally."""
    return {
        "counts": CountsResponse.model_validate(tally),
        "match_rate": tally.match_rate,
        "largest": [DifferenceResponse.of(e) for e in tally.largest],
        "candidate_latency": LatencyResponse.of(tally.candidate_latency),
        "baseline_latency": LatencyResponse.of(tally.baseline_latency),
    }
