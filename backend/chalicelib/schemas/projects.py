"""Shapes of projects and their members."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.domain.projects import PROJECT_NAME
from chalicelib.schemas.common import Instant, ResponseModel, api_name

RoleName = Literal["viewer", "editor", "admin"]


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, strict=True, extra="forbid", alias_generator=api_name)


class CreateProjectRequest(_Strict):
    name: Annotated[str, StringConstraints(pattern=PROJECT_NAME.pattern)]
    description: Annotated[str, StringConstraints(max_length=2048)] = ""


class MemberRequest(_Strict):
    role: RoleName


class QuotaBody(_Strict):
    """The most the project's models may hold at once (an autoscaled version counts its maximum); null: no bound."""

    max_vcpu: Annotated[float, Field(gt=0, le=100000, allow_inf_nan=False)] | None = None
    max_memory_gb: Annotated[float, Field(gt=0, le=1000000, allow_inf_nan=False)] | None = None
    max_replicas: Annotated[int, Field(ge=0, le=100000)] | None = None
    max_models: Annotated[int, Field(ge=0, le=100000)] | None = None


class QuotaResponse(ResponseModel):
    max_vcpu: float | None
    max_memory_gb: float | None
    max_replicas: int | None
    max_models: int | None


class UsageResponse(ResponseModel):
    """What the project's models hold now, in the quota's measures."""

    vcpu: float
    memory_gb: float
    replicas: int
    models: int


class ProjectResponse(ResponseModel):
    name: str
    description: str
    created_by: str
    created_at: Instant
    # The caller's role in it: the higher of their stage-wide role and their membership.
    role: RoleName
    quota: QuotaResponse
    # Only on a single project's read: counting it reads every model of the project.
    usage: UsageResponse | None = None


class ProjectListResponse(ResponseModel):
    items: list[ProjectResponse]


class MemberResponse(ResponseModel):
    username: str
    role: RoleName
    added_by: str
    added_at: Instant


class MemberListResponse(ResponseModel):
    items: list[MemberResponse] = Field(description="by username")
