"""The request id that ties a response, its log lines and a user's bug report together."""

from __future__ import annotations

import re
import uuid

from chalice.app import Request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_CACHE_KEY = "krakenRequestId"


def request_id(request: Request | None) -> str:
    """The caller's X-Request-Id when it is sane, else API Gateway's id, else a new one; stable per request."""
    if request is None:
        return str(uuid.uuid4())
    cached = request.context.get(_CACHE_KEY)
    if cached:
        return str(cached)
    offered = request.headers.get("x-request-id", "")
    chosen = offered if _REQUEST_ID.match(offered) else request.context.get("requestId") or str(uuid.uuid4())
    request.context[_CACHE_KEY] = chosen
    return chosen
