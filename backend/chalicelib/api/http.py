"""Request plumbing shared by every blueprint: error-translating routes, JSON bodies, request ids."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import BaseModel

from chalicelib.api import errors
from chalicelib.api.correlation import request_id
from chalicelib.domain.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_MANAGEMENT_BODY_BYTES = 1024 * 1024
_JSON_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
Schema = TypeVar("Schema", bound=BaseModel)


class ApiBlueprint(Blueprint):
    """A Blueprint whose views hand every exception to errors.response_for, the one translation point."""

    def route(self, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        # Content types are checked by json_body so that a 415 has the project's error shape.
        kwargs.setdefault("content_types", ["*/*"])
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def translated(*args: Any, **view_kwargs: Any) -> Any:
                try:
                    return view(*args, **view_kwargs)
                except Exception as error:
                    return errors.response_for(error, request_id(self.current_request))

            register(translated)
            return view

        return decorator


def json_body(request: Request, max_bytes: int = MAX_MANAGEMENT_BODY_BYTES) -> Any:
    """The request's JSON body, after the checks in the order a client can act on: size, type, syntax."""
    raw = request.raw_body or b""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"the request body is {len(raw)} bytes; the limit is {max_bytes}")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not _JSON_TYPE.match(content_type):
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    if not raw.strip():
        raise BadRequest("the request body is empty; send a JSON object")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the request body is not valid JSON") from None


def parse_body(request: Request, schema: type[Schema]) -> Schema:
    body = json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return schema.model_validate(body)


def parse_query(request: Request, schema: type[Schema]) -> Schema:
    return schema.model_validate(dict(request.query_params or {}))


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=body,
        status_code=status_code,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def actor(request: Request) -> str:  # noqa: ARG001 - the signed-in user comes with the sign-in issue
    """Who is making the request, for createdBy/updatedBy and the operations log."""
    return "anonymous"
