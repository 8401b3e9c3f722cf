"""Local mode is no open door: the Host check, the shared security headers, and an emulator closed to strangers."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from chalicelib import security_headers
from tests.e2e.conftest import LocalMode

pytestmark = pytest.mark.e2e


def _raw(url: str, method: str, headers: dict[str, str], body: bytes | None = None) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request(method, parts.path or "/", body=body, headers=headers)
    return connection.getresponse()


def test_a_rebound_host_name_gets_nothing(local_mode: LocalMode) -> None:
    for path in ("/", "/api/health", "/config.json"):
        answer = _raw(local_mode.base_url + path, "GET", {"Host": "attacker.example:80"})
        assert answer.status == 421, path
    port = urlsplit(local_mode.base_url).port
    assert _raw(local_mode.base_url + "/api/health", "GET", {"Host": f"localhost:{port}"}).status == 200


def test_every_answer_carries_the_shared_security_headers(local_mode: LocalMode) -> None:
    emulator = local_mode.request("GET", "/config.json").body["auth"]["cognitoEndpoint"]
    expected = security_headers.response_headers([emulator])
    for path in ("/", "/config.json", "/api/health", "/api/models"):
        headers = local_mode.request("GET", path).headers
        assert {name: headers.get(name) for name in expected} == expected, path


def test_the_emulator_refuses_unsigned_admin_calls_and_foreign_origins(local_mode: LocalMode) -> None:
    auth = local_mode.request("GET", "/config.json").body["auth"]
    emulator = auth["cognitoEndpoint"]
    create_user = urllib.request.Request(
        emulator + "/",
        data=json.dumps({"UserPoolId": auth["userPoolId"], "Username": "intruder"}).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.AdminCreateUser",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(create_user, timeout=10)
    assert refused.value.code == 403
    preflight = {"Origin": "http://attacker.example", "Access-Control-Request-Method": "POST"}
    answer = _raw(emulator + "/", "OPTIONS", preflight)
    assert answer.status == 403 and answer.getheader("Access-Control-Allow-Origin") is None
    console = _raw(emulator + "/", "OPTIONS", {**preflight, "Origin": local_mode.base_url})
    assert console.status == 204 and console.getheader("Access-Control-Allow-Origin") == local_mode.base_url
    # Sign-in stays unsigned, as on AWS: the console's own path in still works.
    assert local_mode.sign_in()


def test_registry_credentials_are_written_under_enforced_iam_and_never_answered(local_mode: LocalMode) -> None:
    """The API role writes and deletes a model's pull secret with exactly its granted calls (the fixture checks
    the call log), and the password is in no answer."""
    image_model = {
        "name": "private-image",
        "version": "1",
        "dockerImage": "registry.example.com/team/model:1",
        "containerPort": 8080,
        "containerCpu": 0.25,
        "containerMemory": 0.5,
    }
    created = local_mode.request("POST", "/api/models", image_model)
    assert created.status == 201, created.body
    model_id = created.body["id"]
    credentials = {"username": "robot", "password": "local-pull-secret-77"}
    for _ in range(2):  # created, then replaced in place
        stored = local_mode.request("PUT", f"/api/models/{model_id}/registry-credentials", credentials)
        assert stored.status == 200 and stored.body["privateRegistry"] is True, stored.body
        assert "local-pull-secret-77" not in json.dumps(stored.body)
    logs = local_mode.request("GET", f"/api/models/{model_id}/logs").body
    assert "local-pull-secret-77" not in json.dumps(logs) and "robot" in json.dumps(logs)
    assert local_mode.request("DELETE", f"/api/models/{model_id}").status == 204
