"""Query and response shapes of predictions' history, containers' logs and metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chalicelib.schemas.common import Instant, ResponseModel, api_name

MAX_RANGE = timedelta(days=15)  # CloudWatch keeps one-minute metrics for 15 days
MAX_POINTS = 1440


class _Query(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", alias_generator=api_name, populate_by_name=False)

    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None

    def window(self, default: timedelta) -> tuple[datetime, datetime]:
        end = (self.to or datetime.now(UTC)).astimezone(UTC)
        start = (self.from_ or end - default).astimezone(UTC)
        return start, end

    @model_validator(mode="after")
    def _ordered(self) -> _Query:
        for moment in (self.from_, self.to):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("times need a time zone, such as 2026-11-21T05:00:00Z")
        if self.from_ and self.to and self.from_ >= self.to:
            raise ValueError("from must be before to")
        if self.from_ and self.to and self.to - self.from_ > MAX_RANGE:
            raise ValueError("the range may span at most 15 days")
        return self


class RequestsQuery(_Query):
    status: Annotated[str, StringConstraints(pattern=r"^([1-5]xx|[1-5][0-9]{2})$")] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    next_token: Annotated[str, StringConstraints(max_length=4096)] | None = None


class ContainerLogsQuery(_Query):
    limit: Annotated[int, Field(ge=1, le=1000)] = 200
    next_token: Annotated[str, StringConstraints(max_length=4096)] | None = None
    format: Literal["json", "text"] = "json"


class MetricsQuery(_Query):
    period: Annotated[int, Field(ge=60, le=86400, multiple_of=60)] = 60
    # One version's series; without it, the whole model's.
    version: Annotated[int, Field(ge=1, le=999999)] | None = None

    def aligned_window(self) -> tuple[datetime, datetime]:
        """The range with its start on a period boundary, so every series shares one time grid."""
        start, end = self.window(timedelta(hours=1))
        epoch = int(start.timestamp()) // self.period * self.period
        return datetime.fromtimestamp(epoch, UTC), end

    @model_validator(mode="after")
    def _few_enough_points(self) -> MetricsQuery:
        start, end = self.aligned_window()
        if (end - start).total_seconds() / self.period > MAX_POINTS:
            raise ValueError(f"at most {MAX_POINTS} points: choose a longer period or a shorter range")
        return self


class PredictMetaData(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")

    model_id: str | None = Field(default=None, alias="modelId", description="the model to ask; the path may name it")


class PredictRequest(BaseModel):
    """The ML-Kraken prediction body; it reaches the model's container unchanged."""

    model_config = ConfigDict(defer_build=True, extra="allow")

    model_data: object = Field(alias="modelData", description="the model's input, such as a list of rows")
    meta_data: PredictMetaData | None = Field(default=None, alias="metaData")


class PredictionResponse(ResponseModel):
    request_id: str
    time: Instant = Field(validation_alias="at")
    model_id: str
    model_version: str | None
    status: int
    latency_ms: float
    container_ms: float | None
    request_bytes: int
    response_bytes: int
    request_body: str | None
    response_body: str | None
    caller: str | None = None


class PredictionListResponse(ResponseModel):
    items: list[PredictionResponse]
    next_token: str | None


class LogLineResponse(ResponseModel):
    time: Instant
    message: str
    stream: str


class LogLineListResponse(ResponseModel):
    items: list[LogLineResponse]
    next_token: str | None


class MetricsResponse(ResponseModel):
    period: int
    timestamps: list[Instant]
    series: dict[str, list[float | None]]
