"""The one place where failures become HTTP responses in the project's error shape."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from chalice import Response
from chalice.app import Request
from pydantic import ValidationError

from chalicelib.api.correlation import request_id
from chalicelib.domain import errors as domain
from chalicelib.schemas.common import api_name

logger = logging.getLogger("kraken.api")

STATUS_BY_ERROR: dict[type[domain.DomainError], int] = {
    domain.BadRequest: 400,
    domain.Unauthenticated: 401,
    domain.Forbidden: 403,
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.PayloadTooLarge: 413,
    domain.UnsupportedMediaType: 415,
    domain.InvalidRequest: 422,
    domain.Throttled: 429,
    domain.Misconfigured: 500,
    domain.BadGateway: 502,
    domain.DependencyUnavailable: 503,
    domain.GatewayTimeout: 504,
}

# Chalice answers some requests itself (wrong method, bad Accept); their codes, in our vocabulary.
_CHALICE_CODES = {
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "BadRequest": "bad_request",
    "BadRequestError": "bad_request",
    "NotFoundError": "not_found",
    "InternalServerError": "internal",
}


UNEXPECTED = "an unexpected error occurred; quote the request id if you report it"
# The error shape a route answers in: the project's own, or a standard protocol's.
ErrorShape = Literal["kraken", "oip", "mlflow", "seldon"]


def protocol_error_body(shape: ErrorShape, status: int, message: str) -> dict[str, Any]:
    """An error as the protocol writes it: OIP `{"error"}`, MLflow `{"error_code", "message"}`, Seldon `{"status"}`."""
    if shape == "oip":
        return {"error": message}
    if shape == "mlflow":
        return {"error_code": "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR", "message": message}
    reason = "MICROSERVICE_BAD_DATA" if status < 500 else "MICROSERVICE_INTERNAL_ERROR"
    return {"status": {"code": status, "info": message, "reason": reason, "status": "FAILURE"}}


def error_body(
    code: str, message: str, details: list[dict[str, str]] | None = None, request_id: str | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    if request_id:
        error["requestId"] = request_id
    return {"error": error}


def _field_path(location: tuple[int | str, ...]) -> str:
    # pydantic reports locations by alias already; "[key]" marks a bad dict key, named by the part before it.
    return ".".join(str(part) for part in location if part != "[key]")


def _api_name(field: str) -> str:
    """A domain field name (container_memory, metaData.modelId) as the API spells it."""
    return ".".join(api_name(part) if "_" in part else part for part in field.split("."))


def _validation_details(error: ValidationError) -> list[dict[str, str]]:
    # Never include the input: it may be huge or hold a secret the caller mistyped.
    return [
        {"field": _field_path(problem["loc"]) or "body", "message": problem["msg"]}
        for problem in error.errors(include_input=False, include_url=False, include_context=False)
    ]


def _body(
    shape: ErrorShape, status: int, code: str, message: str, details: list[dict[str, str]], rid: str | None
) -> dict[str, Any]:
    if shape == "kraken":
        return error_body(code, message, details, request_id=rid)
    # The protocols' shapes have one message: the details and request id go into it.
    told = "; ".join([message, *(f"{d['field']}: {d['message']}" for d in details)])
    return protocol_error_body(shape, status, f"{told} (request id {rid})" if rid else told)


def response_for(error: Exception, rid: str, shape: ErrorShape = "kraken") -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json", "X-Request-Id": rid}
    if isinstance(error, ValidationError):
        return Response(
            body=_body(shape, 422, "validation_error", "the request is not valid", _validation_details(error), None),
            status_code=422,
            headers=headers,
        )
    if isinstance(error, domain.DomainError):
        details = [{"field": _api_name(p.field), "message": p.message} for p in error.details]
        status = next((STATUS_BY_ERROR[c] for c in type(error).__mro__ if c in STATUS_BY_ERROR), 400)
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer, Basic realm="kraken", charset="UTF-8"'
        if error.retry_after_seconds is not None:
            headers["Retry-After"] = str(error.retry_after_seconds)
        shown_id = rid if status == 500 else None  # an operator needs it to find the log line
        body = _body(shape, status, error.code, error.message, details, shown_id)
        return Response(body=body, status_code=status, headers=headers)
    logger.exception("unexpected error", extra={"request_id": rid})
    return Response(
        body=_body(
            shape, 500, "internal", "an unexpected error occurred; quote the request id if you report it", [], rid
        ),
        status_code=500,
        headers=headers,
    )


def normalize_gateway_errors(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: Chalice's own error responses in our shape; a request id and content type on every response."""
    rid = request_id(request)
    response = get_response(request)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = _CHALICE_CODES.get(str(body["Code"]), "error")
        message = str(body["Message"]) if code != "internal" else "an unexpected error occurred"
        response.body = error_body(code, message, request_id=rid if code == "internal" else None)
    if isinstance(response.body, dict):
        response.headers.setdefault("Content-Type", "application/json")
    response.headers.setdefault("X-Request-Id", rid)
    return response
