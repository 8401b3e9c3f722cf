"""Runner error types and the one-line message helper shared by loading and serving."""

from __future__ import annotations

import re

_WHITESPACE = re.compile(r"\s+")


def one_line(text: str, limit: int = 240) -> str:
    """Collapse whitespace and cut to `limit` chars: reasons end up in statusReason and log lines."""
    flat = _WHITESPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def describe(exc: BaseException, limit: int = 200) -> str:
    """`TypeName: message` on one line, the form people can search for."""
    message = one_line(str(exc), limit)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class LoadFailure(Exception):
    """The artifact cannot be served; the message is the reason shown to the model's owner."""


class InvalidInput(Exception):
    """The request cannot be scored; the message goes back to the caller in a 400."""


class UnsupportedContent(Exception):
    """The body is of a media type the protocol does not take (a 415)."""
