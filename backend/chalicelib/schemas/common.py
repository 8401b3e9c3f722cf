"""Pieces every schema module shares: how instants are written and the base of every response."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

from chalicelib.domain.clock import to_iso

Instant = Annotated[datetime, PlainSerializer(to_iso, return_type=str)]
_STATUS_CLASS = re.compile(r"(\d)Xx")


def api_name(field: str) -> str:
    """A field's name in the API's JSON: camelCase, with HTTP status classes as they are written (max5xxRate)."""
    return _STATUS_CLASS.sub(r"\1xx", to_camel(field))


class ResponseModel(BaseModel):
    """camelCase JSON out; built from domain objects' attributes; schemas build on first use (cold start)."""

    model_config = ConfigDict(
        defer_build=True,
        alias_generator=api_name,
        populate_by_name=True,
        from_attributes=True,
        # A response always carries every field, defaulted or not: the document says so.
        json_schema_serialization_defaults_required=True,
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class HealthResponse(ResponseModel):
    status: str
    version: str


class ErrorDetail(ResponseModel):
    field: str
    message: str


class ErrorBody(ResponseModel):
    # details and requestId are left out of the JSON when there are none, not sent as null.
    model_config = ConfigDict(json_schema_serialization_defaults_required=False)

    code: str
    message: str
    details: list[ErrorDetail] | None = None
    request_id: str | None = None


class ErrorResponse(ResponseModel):
    """The one shape of every failure."""

    error: ErrorBody
