"""Shapes of the caller's identity and of client tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from chalicelib.schemas.common import Instant, ResponseModel


class CreateClientRequest(BaseModel):
    model_config = ConfigDict(defer_build=True, strict=True, extra="forbid")

    # No dots: a Bearer client token carries its name between dots.
    name: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")]


class ClientResponse(ResponseModel):
    name: str
    created_at: Instant
    last_used_at: Instant | None


class ClientListResponse(ResponseModel):
    items: list[ClientResponse]


class ClientCreatedResponse(ResponseModel):
    name: str
    token: str
    created_at: Instant


class ProjectRole(ResponseModel):
    name: str
    role: Literal["admin", "editor", "viewer"]


class MeResponse(ResponseModel):
    username: str
    groups: list[str]
    # The stage-wide role (a Cognito group), which holds in every project.
    role: Literal["admin", "editor", "viewer"] | None
    # Each project the user has a role in, with that role.
    projects: list[ProjectRole]
