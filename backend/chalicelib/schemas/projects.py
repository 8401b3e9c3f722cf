"""Shapes of projects and their members."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from chalicelib.domain.projects import PROJECT_NAME
from chalicelib.schemas.common import Instant, ResponseModel

RoleName = Literal["viewer", "editor", "admin"]


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, strict=True, extra="forbid", alias_generator=to_camel)


class CreateProjectRequest(_Strict):
    name: Annotated[str, StringConstraints(pattern=PROJECT_NAME.pattern)]
    description: Annotated[str, StringConstraints(max_length=2048)] = ""


class MemberRequest(_Strict):
    role: RoleName


class ProjectResponse(ResponseModel):
    name: str
    description: str
    created_by: str
    created_at: Instant
    # The caller's role in it: the higher of their stage-wide role and their membership.
    role: RoleName


class ProjectListResponse(ResponseModel):
    items: list[ProjectResponse]


class MemberResponse(ResponseModel):
    username: str
    role: RoleName
    added_by: str
    added_at: Instant


class MemberListResponse(ResponseModel):
    items: list[MemberResponse] = Field(description="by username")
