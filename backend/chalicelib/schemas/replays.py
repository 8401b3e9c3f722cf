"""Shapes of replays: the request that starts one and the replay with its progress and results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator, model_validator

from chalicelib.domain.replays import (
    DEFAULT_WINDOW,
    MAX_LIMIT,
    MAX_RATE,
    MAX_WINDOW,
    Replay,
    ReplaySource,
    ReplayStatus,
)
from chalicelib.schemas.common import Instant, ResponseModel
from chalicelib.schemas.comparison import (
    ComparisonRuleResponse,
    ComparisonRuleSettings,
    CountsResponse,
    DifferenceResponse,
    LatencyResponse,
    tally_fields,
)
from chalicelib.schemas.models import PageQuery, _Strict

StatusFilter = Annotated[str, StringConstraints(pattern=r"^([1-5]xx|[1-5][0-9]{2})$")]


class ReplaySourceSettings(_Strict):
    """Which captured requests to replay: newest first within [start, end), of a status, at most `limit`."""

    start: Annotated[datetime, Field(strict=False)] | None = Field(
        default=None, description="default: a day before the end"
    )
    end: Annotated[datetime, Field(strict=False)] | None = Field(default=None, description="default: now")
    status: StatusFilter | None = Field(default="2xx", description="a code (200), a class (4xx), or null for all")
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 500

    @field_validator("start", "end")
    @classmethod
    def _zoned(cls, moment: datetime | None) -> datetime | None:
        if moment is not None and moment.tzinfo is None:
            raise ValueError("times need a time zone, such as 2026-11-21T05:00:00Z")
        return moment

    @model_validator(mode="after")
    def _ordered(self) -> ReplaySourceSettings:
        if self.start and self.end and self.end <= self.start:
            raise ValueError("the end must be after the start")
        if self.start and self.end and self.end - self.start > MAX_WINDOW:
            raise ValueError("a replay reads at most 15 days of history")
        return self

    def source(self, now: datetime) -> ReplaySource:
        end = (self.end or now).astimezone(UTC)
        start = (self.start or end - DEFAULT_WINDOW).astimezone(UTC)
        return ReplaySource(start, end, self.status, self.limit)


class ReplayRequest(_Strict):
    """Send captured requests to a candidate version (started at weight 0 if it is not deployed) and compare."""

    candidate_version: Annotated[int, Field(ge=1, le=999999)]
    source: ReplaySourceSettings = Field(default_factory=ReplaySourceSettings)
    rule: ComparisonRuleSettings = Field(default_factory=ComparisonRuleSettings)
    rate_per_second: Annotated[int, Field(ge=1, le=MAX_RATE)] = Field(
        default=20, description="requests sent to the candidate per second at most, one at a time"
    )


class ReplaySourceResponse(ResponseModel):
    start: Instant
    end: Instant
    status: str | None
    limit: int


class ReplayProgressResponse(ResponseModel):
    done: int = Field(description="captured requests dealt with (compared or skipped)")
    total: int = Field(description="the limit until the history is read to its end, then the requests it held")


class ReplayResponse(ResponseModel):
    replay_id: str
    model_id: str
    candidate_version: int
    baseline_versions: list[int] = Field(description="the versions that answered the replayed requests")
    created_by: str
    created_at: Instant
    finished_at: Instant | None
    status: ReplayStatus
    status_reason: str | None
    source: ReplaySourceResponse
    rule: ComparisonRuleResponse
    rate_per_second: int
    progress: ReplayProgressResponse
    counts: CountsResponse
    match_rate: float | None = Field(description="matched among the compared requests; null before any")
    largest: list[DifferenceResponse]
    candidate_latency: LatencyResponse = Field(description="measured by the replay for each request sent")
    baseline_latency: LatencyResponse = Field(description="the gateway's own, as the history recorded it")
    started_candidate: bool = Field(description="the replay added the candidate (weight 0) and takes it out after")

    @classmethod
    def of(cls, replay: Replay) -> ReplayResponse:
        fields: dict[str, Any] = {
            "replay_id": replay.replay_id,
            "model_id": replay.model_id,
            "candidate_version": replay.candidate_version,
            "baseline_versions": list(replay.baseline_versions),
            "created_by": replay.created_by,
            "created_at": replay.created_at,
            "finished_at": replay.finished_at,
            "status": replay.status,
            "status_reason": replay.status_reason,
            "source": ReplaySourceResponse.model_validate(replay.source),
            "rule": ComparisonRuleResponse.model_validate(replay.rule),
            "rate_per_second": replay.rate_per_second,
            "progress": ReplayProgressResponse(done=replay.done, total=max(replay.total, replay.done)),
            "started_candidate": replay.started_candidate,
        }
        return cls(**fields, **tally_fields(replay.tally))


class ReplayListResponse(ResponseModel):
    items: list[ReplayResponse]
    next_token: str | None


class ReplayPageQuery(PageQuery):
    limit: Annotated[int, Field(ge=1, le=100)] = 20
