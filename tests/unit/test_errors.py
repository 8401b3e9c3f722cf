"""Error translation: the status and shape of every failure, and no leak of internals."""

from __future__ import annotations

import json
import logging

import pytest

from chalicelib.api.errors import response_for
from chalicelib.domain import errors


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.BadRequest("x"), 400),
        (errors.NotFound("x"), 404),
        (errors.Conflict("x"), 409),
        (errors.PayloadTooLarge("x"), 413),
        (errors.UnsupportedMediaType("x"), 415),
        (errors.InvalidRequest("x", (errors.FieldProblem("container_memory", "too big"),)), 422),
        (errors.BadGateway("x"), 502),
        (errors.DependencyUnavailable("x"), 503),
        (errors.GatewayTimeout("x"), 504),
    ],
)
def test_domain_errors_map_to_statuses(error: errors.DomainError, status: int) -> None:
    response = response_for(error, "req-1")
    assert response.status_code == status
    assert response.body["error"]["code"] == error.code
    assert response.headers["X-Request-Id"] == "req-1"
    if error.details:
        assert response.body["error"]["details"] == [{"field": "containerMemory", "message": "too big"}]


def test_unexpected_errors_are_a_generic_500_logged_with_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="kraken.api"):
        response = response_for(RuntimeError("password=hunter2 in a stack frame"), "req-42")
    assert response.status_code == 500
    body = json.dumps(response.body)
    assert "hunter2" not in body and "Traceback" not in body
    assert response.body["error"] == {
        "code": "internal",
        "message": response.body["error"]["message"],
        "requestId": "req-42",
    }
    assert any(getattr(record, "request_id", None) == "req-42" for record in caplog.records)
