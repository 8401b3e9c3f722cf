"""Property-based fuzzing of the whole API over real HTTP: no 5xx, and every answer as the document says.

Schemathesis generates requests for every operation of the OpenAPI document the app serves, valid
and invalid, and sends them to local mode with a signed-in admin's token. The examples are derived
from a fixed seed so a run can be repeated; the inputs it once broke on are kept in
test_hostile_inputs.py as plain regression tests.
"""

from __future__ import annotations

import itertools
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import ignored_auth, positive_data_acceptance

from tests.e2e.conftest import LocalMode

# Schemathesis gives every operation's case the same node id; xdist schedules by node id and would run one of them.
pytestmark = [pytest.mark.e2e, pytest.mark.one_process]


def _document() -> dict[str, object]:
    from app import app
    from chalicelib.api.openapi import document

    return document(app)


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_match_the_document(case: schemathesis.Case, local_mode: LocalMode) -> None:
    case.call_and_validate(
        base_url=f"{local_mode.base_url}/api",
        headers=local_mode.auth,
        timeout=30,
        # Random ids name no model, so valid-looking requests rightly get 404s; the token is always sent.
        excluded_checks=[positive_data_acceptance, ignored_auth],
    )


def test_stateful_sequences_follow_the_documents_links(local_mode: LocalMode) -> None:
    """create → get → update → upload ticket → start → stop → clients → delete, as the links allow."""

    made = itertools.count()
    valid_names = {
        "/models": (re.compile(r"^[a-z0-9-]{1,64}$"), 64),
        "/projects": (re.compile(r"^[a-z][a-z0-9-]{0,39}$"), 40),
    }

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            # Local mode outlives each sequence: a name taken by an earlier one would turn the same generated
            # create into a 409, and Hypothesis refuses sequences whose steps depend on what came before them.
            # A valid name is made unique (and stays valid); an invalid one is sent as generated.
            rule = valid_names.get(case.path) if case.method == "POST" and isinstance(case.body, dict) else None
            name = case.body.get("name") if rule else None
            if rule and isinstance(name, str) and rule[0].match(name):
                suffix = f"-{next(made)}"
                case.body["name"] = name[: rule[1] - len(suffix)] + suffix

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"base_url": f"{local_mode.base_url}/api", "headers": local_mode.auth, "timeout": 30}

        def validate_response(self, response: object, case: schemathesis.Case, **kwargs: object) -> None:
            case.validate_response(response, excluded_checks=[positive_data_acceptance, ignored_auth])

    bounded = settings(
        max_examples=40,
        stateful_step_count=8,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    Sequences.run(settings=bounded)


def test_local_modes_server_refuses_bad_framing_in_the_apis_shape(local_mode: LocalMode) -> None:
    """Content-Length: -1 is a 400 (it once read to the end of the stream); an unknown method a 405."""
    import json
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(local_mode.base_url)

    def exchange(request: bytes) -> tuple[int, dict[str, object]]:
        with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
            connection.sendall(request)
            connection.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        return int(head.split()[1]), json.loads(body)

    host = f"Host: {address.netloc}\r\n".encode()
    status, body = exchange(b"POST /api/predict HTTP/1.1\r\n" + host + b"Content-Length: -1\r\n\r\n{}")
    assert status == 400 and body["error"]["code"] == "bad_request"
    status, body = exchange(b"TRACE /api/health HTTP/1.1\r\n" + host + b"\r\n")
    assert status == 405 and body["error"]["code"] == "method_not_allowed"
    # Refused from its declared length, before a byte of it is read.
    status, body = exchange(b"POST /api/predict HTTP/1.1\r\n" + host + b"Content-Length: 6291457\r\n\r\n")
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    assert "the limit is 6291456 bytes" in body["error"]["message"]
