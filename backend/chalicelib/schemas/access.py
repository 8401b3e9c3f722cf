"""Shapes of the caller's identity and of client tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, StringConstraints
from pydantic.alias_generators import to_camel

from chalicelib.domain.clock import to_iso

Instant = Annotated[datetime, PlainSerializer(to_iso, return_type=str)]


class _Out(BaseModel):
    model_config = ConfigDict(defer_build=True, alias_generator=to_camel, populate_by_name=True, from_attributes=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class CreateClientRequest(BaseModel):
    model_config = ConfigDict(defer_build=True, strict=True, extra="forbid")

    # No dots: a Bearer client token carries its name between dots.
    name: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")]


class ClientResponse(_Out):
    name: str
    created_at: Instant
    last_used_at: Instant | None


class ClientListResponse(_Out):
    items: list[ClientResponse]


class ClientCreatedResponse(_Out):
    name: str
    token: str
    created_at: Instant


class MeResponse(_Out):
    username: str
    groups: list[str]
    role: str | None
