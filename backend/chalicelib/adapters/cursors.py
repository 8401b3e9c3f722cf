"""Opaque pagination tokens: a JSON payload bound to the query it continues, base64url-encoded."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chalicelib.domain.errors import BadRequest

NOT_OURS = "nextToken is not a token this API issued"


def seal(payload: Any, query: str) -> str:
    raw = json.dumps({"p": payload, "q": query}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unseal(token: str, query: str) -> Any:
    """The payload of a token made by `seal` for the same query; BadRequest otherwise."""
    try:
        envelope = json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()))
    except (ValueError, binascii.Error):
        raise BadRequest(NOT_OURS) from None
    if not isinstance(envelope, dict) or "p" not in envelope:
        raise BadRequest(NOT_OURS)
    if envelope.get("q") != query:
        raise BadRequest("nextToken belongs to a different query; repeat the same filters or start over")
    return envelope["p"]
