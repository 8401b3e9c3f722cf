"""Domain errors: what went wrong in the project's terms; the HTTP layer maps each to a status."""

from __future__ import annotations

from dataclasses import dataclass

ECHO_LIMIT = 80


def echoed(value: str) -> str:
    """A caller's value as an error message may repeat it: short, so a huge id is not sent back whole."""
    return value if len(value) <= ECHO_LIMIT else f"{value[:ECHO_LIMIT]}... ({len(value)} characters)"


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class DomainError(Exception):
    """Base of every error the domain raises on purpose; `code` is stable and machine-readable."""

    code = "error"

    def __init__(
        self, message: str, details: tuple[FieldProblem, ...] = (), retry_after_seconds: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        # When retrying may work, and after how long (the answer's Retry-After).
        self.retry_after_seconds = retry_after_seconds


class NotFound(DomainError):
    code = "not_found"


def no_model(model_id: str) -> NotFound:
    """The one answer for a model that does not exist and for one the caller may not know of: no oracle."""
    return NotFound(f"no model with id {echoed(model_id)}")


class Conflict(DomainError):
    code = "conflict"


class QuotaExceeded(Conflict):
    """A project's quota refuses what was asked; its own code, so a client tells it from a stale revision."""

    code = "quota_exceeded"


class InvalidRequest(DomainError):
    """The request is well-formed but breaks a rule (a bad Fargate size, a field out of range)."""

    code = "validation_error"


class BadRequest(DomainError):
    """The request cannot be understood: malformed JSON, a bad pagination token."""

    code = "bad_request"


class Throttled(DomainError):
    """The model takes no more requests per second than its owner allowed."""

    code = "throttled"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"


class DependencyUnavailable(DomainError):
    """An AWS service or a container did not answer in time; retrying later may work."""

    code = "service_unavailable"


class Waking(DependencyUnavailable):
    """The model was IDLE and is starting for this request; it did not serve within the hold time."""

    code = "model_waking"


class Misconfigured(DomainError):
    """The deployment itself is wrong (a missing IAM grant): retrying will not help, an operator must act."""

    code = "internal"


class BadGateway(DomainError):
    """The model's container refused the connection, reset it, or answered something that is not JSON."""

    code = "bad_gateway"


class GatewayTimeout(DomainError):
    code = "gateway_timeout"


class Unauthenticated(DomainError):
    """No credentials, or credentials that are wrong, expired or revoked."""

    code = "unauthorized"


class Forbidden(DomainError):
    """Signed in, but the user's role does not allow this."""

    code = "forbidden"
