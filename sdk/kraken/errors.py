"""Typed exceptions built from the API's one error shape, `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class KrakenError(Exception):
    """Any failure the SDK reports: the HTTP status, the API's code, message, details and request id."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        details: list[dict[str, str]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.details = details or []
        self.retry_after = retry_after

    def __str__(self) -> str:
        text = self.message
        if self.details:
            text += " (" + "; ".join(f"{d.get('field', '?')}: {d.get('message', '')}" for d in self.details) + ")"
        if self.status is not None:
            text = f"{self.status} {self.code or 'error'}: {text}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text


class BadRequest(KrakenError):
    """400, 413 or 415: the request itself is malformed."""


class ValidationError(KrakenError):
    """422: a field is of the wrong type or out of range; `details` names each field."""


class Unauthorized(KrakenError):
    """401, or Cognito refused the credentials: sign in (again)."""


class NotSignedIn(Unauthorized):
    """No password was given and no stored session was found."""


class Forbidden(KrakenError):
    """403: signed in, but the role is too low."""


class NotFound(KrakenError):
    """404: no such model, version, entry or client."""


class Conflict(KrakenError):
    """409: a stale revision, or a change the model's state does not allow."""


class Throttled(KrakenError):
    """429: over the model's rate limit (or Cognito's); `retry_after` says when to try again, when known."""


class ServerError(KrakenError):
    """500 and other 5xx answers: a fault on the server's side; the request id finds the log line."""


class Unavailable(ServerError):
    """502, 503, 504, or the server could not be reached: usually passing, retry later."""


class Timeout(KrakenError):
    """A wait (for a status, a deployment or an upload) did not finish in time."""


class ModelFailed(KrakenError):
    """The model or a version of it went to FAILED; the message is its statusReason."""


class ReplayFailed(KrakenError):
    """A replay waited for ended FAILED; the message is its statusReason (`.replay` is the replay as it ended)."""

    replay: Any = None


_BY_STATUS: dict[int, type[KrakenError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: BadRequest,
    415: BadRequest,
    422: ValidationError,
    429: Throttled,
    502: Unavailable,
    503: Unavailable,
    504: Unavailable,
}


def error_class(status: int) -> type[KrakenError]:
    """The exception type for an HTTP status that is an error."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else KrakenError


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date: too rare here to be worth parsing
        return None


def error_from_response(status: int, body: bytes | str, headers: Mapping[str, str]) -> KrakenError:
    """The typed exception for an error answer; a body that is not the API's shape still gives a useful message."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    error: Any = None
    try:
        parsed = json.loads(text) if text else None
        error = parsed.get("error") if isinstance(parsed, dict) else None
    except ValueError:
        pass
    request_id = headers.get("X-Request-Id")
    if isinstance(error, dict):
        details = [d for d in error.get("details") or [] if isinstance(d, dict)]
        return error_class(status)(
            str(error.get("message") or f"HTTP {status}"),
            status=status,
            code=str(error["code"]) if error.get("code") else None,
            request_id=str(error.get("requestId") or request_id or "") or None,
            details=details,
            retry_after=_retry_after(headers),
        )
    # Not our shape (a proxy's page, a model container's own answer): say so, briefly, without the whole page.
    snippet = " ".join(text.split())[:200]
    return error_class(status)(
        f"HTTP {status}" + (f": {snippet}" if snippet else ""),
        status=status,
        request_id=request_id,
        retry_after=_retry_after(headers),
    )
