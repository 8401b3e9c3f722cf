"""Shapes of a progressive rollout: the plan a person starts, and its state with every decision and its numbers."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from pydantic import Field, field_validator

from chalicelib.domain.rollout_plans import MAX_STEPS, Guardrails, Rollout, RolloutStatus, Verdict, steps_problem
from chalicelib.schemas.common import Instant, ResponseModel
from chalicelib.schemas.deployments import UpdateMessage, VersionNumber
from chalicelib.schemas.models import _Strict

Rate = Annotated[float, Field(ge=0, le=1)]
_DEFAULTS = Guardrails()


class GuardrailsSettings(_Strict):
    """Left out, each takes the default shown."""

    max_5xx_rate: Rate = _DEFAULTS.max_5xx_rate
    max_4xx_increase: Rate = _DEFAULTS.max_4xx_increase
    max_p99_ratio: Annotated[float, Field(ge=1, le=100)] = _DEFAULTS.max_p99_ratio
    min_match_rate: Rate | None = _DEFAULTS.min_match_rate
    min_requests: Annotated[int, Field(ge=1, le=100000)] = _DEFAULTS.min_requests

    def guardrails(self) -> Guardrails:
        return Guardrails(**self.model_dump())


class RolloutRequest(_Strict):
    """A canary plan: the candidate's weight at each step, each held for the bake time under the guardrails."""

    candidate_version: VersionNumber
    steps: Annotated[list[Annotated[int, Field(ge=1, le=100)]], Field(min_length=1, max_length=MAX_STEPS)] = [
        5,
        25,
        50,
        100,
    ]
    bake_seconds: Annotated[int, Field(ge=5, le=86400)] = 300
    guardrails: GuardrailsSettings = Field(default_factory=GuardrailsSettings)
    message: UpdateMessage = ""

    @field_validator("steps")
    @classmethod
    def _a_plan(cls, steps: list[int]) -> list[int]:
        problem = steps_problem(tuple(steps))
        if problem:
            raise ValueError(problem)
        return steps


class GuardrailsResponse(ResponseModel):
    max_5xx_rate: float
    max_4xx_increase: float
    max_p99_ratio: float
    min_match_rate: float | None
    min_requests: int


class StepNumbersResponse(ResponseModel):
    candidate_requests: int | None
    baseline_requests: int | None
    candidate_5xx_rate: float | None
    baseline_5xx_rate: float | None
    candidate_4xx_rate: float | None
    baseline_4xx_rate: float | None
    candidate_p99: float | None
    baseline_p99: float | None
    p99_ratio: float | None
    match_rate: float | None


class DecisionResponse(ResponseModel):
    at: Instant
    step: int
    weight: int
    verdict: Verdict
    actor: str
    reason: str
    numbers: StepNumbersResponse | None


class RolloutResponse(ResponseModel):
    candidate_version: int
    baseline_version: int
    steps: list[int]
    bake_seconds: int
    guardrails: GuardrailsResponse
    status: RolloutStatus
    step: int = Field(description="the current step, an index into steps")
    step_started_at: Instant | None = Field(description="when the step's weights began to serve; null while switching")
    started_by: str
    started_at: Instant
    ended_at: Instant | None
    reason: str | None
    decisions: list[DecisionResponse]

    @classmethod
    def of(cls, rollout: Rollout) -> RolloutResponse:
        shown = {f.name: getattr(rollout, f.name) for f in dataclasses.fields(rollout) if f.name in cls.model_fields}
        return cls.model_validate(shown)
