"""Inputs that once got the wrong answer (issue 14): each now gets a clear error with the right status."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import config
from tests.functional.test_access import running_model
from tests.functional.test_gateway import predict
from tests.functional.test_models_api import DIAMONDS, assert_error, post

NO_USER = {"Authorization": ""}


def test_a_deeply_nested_body_is_a_400_not_a_500(api: Client) -> None:
    body = b"[" * 200_000 + b"]" * 200_000
    answer = api.http.post("/predict", headers={"Content-Type": "application/json"}, body=body)
    assert_error(answer, 400, "bad_request")


def test_basic_credentials_with_an_empty_name_are_a_401(ecs_api: tuple[Client, config.Settings], echo: Any) -> None:
    client, _ = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1])
    for credentials in (":token", "name:", ":"):
        header = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
        assert_error(predict(client, model_id, headers=header), 401, "unauthorized")


def test_a_huge_id_is_not_echoed_back_whole(api: Client) -> None:
    answer = api.http.get("/models/" + "x" * 5000)
    error = assert_error(answer, 404, "not_found")
    assert len(error["message"]) < 200 and "5000 characters" in error["message"]


def test_without_credentials_an_unknown_model_looks_like_a_private_one(
    ecs_api: tuple[Client, config.Settings], echo: Any
) -> None:
    client, _ = ecs_api
    private = predict(client, running_model(ecs_api, echo.server_address[1]), headers=NO_USER)
    unknown = predict(client, "00000000-0000-4000-8000-000000000000", headers=NO_USER)
    assert_error(private, 401, "unauthorized")
    assert_error(unknown, 401, "unauthorized")
    assert private.json_body == unknown.json_body
    assert_error(predict(client, "00000000-0000-4000-8000-000000000000"), 404, "not_found")  # signed in: honest


def test_a_conflict_names_fields_as_the_api_does(ecs_api: tuple[Client, config.Settings], echo: Any) -> None:
    client, _ = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1])
    answer = client.http.put(
        f"/models/{model_id}",
        headers={"Content-Type": "application/json"},
        body=b'{"containerMemory": 2, "containerCpu": 1}',
    )
    error = assert_error(answer, 409, "conflict")
    assert "container_" not in str(error)
    assert {d["field"] for d in error["details"]} == {"containerMemory", "containerCpu"}


def test_over_its_rate_a_model_answers_429_with_retry_after(
    ecs_api: tuple[Client, config.Settings], echo: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    client, _ = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1])
    changed = client.http.put(
        f"/models/{model_id}", headers={"Content-Type": "application/json"}, body=b'{"ratePerSecondTypo": 1}'
    )
    assert_error(changed, 422, "validation_error")
    assert (
        client.http.put(
            f"/models/{model_id}", headers={"Content-Type": "application/json"}, body=b'{"rateLimitPerSecond": 2}'
        ).json_body["rateLimitPerSecond"]
        == 2
    )
    statuses = [predict(client, model_id).status_code for _ in range(6)]
    assert statuses[:2] == [200, 200] and 429 in statuses[2:]
    refused = next(r for r in (predict(client, model_id) for _ in range(3)) if r.status_code == 429)
    assert_error(refused, 429, "throttled")
    assert int(refused.headers["Retry-After"]) >= 1
    lines = [json.loads(out) for out in capsys.readouterr().out.splitlines() if '"prediction"' in out]
    assert 429 in {line["status"] for line in lines}  # refusals are in the history too


def test_container_port_is_optional_for_artifact_models_only(api: Client) -> None:
    size = {"containerCpu": 0.5, "containerMemory": 1}
    created = post(api, "/models", {"name": "no-port", "version": "1", "artifactFormat": "joblib", **size})
    assert created.status_code == 201 and created.json_body["containerPort"] == 8080
    image = {"name": "image", "version": "1", "dockerImage": "repo/model:1", **size}
    error = assert_error(post(api, "/models", image), 422, "validation_error")
    assert [d["field"] for d in error["details"]] == ["containerPort"]


def test_a_new_version_with_null_code_settings_takes_the_models_own(api: Client) -> None:
    """Schemathesis sent every code setting as null: a 500 on an unknown model, a broken version on a real one."""
    nulls = {"env": None, "predictPath": None, "healthPath": None, "dockerImage": None, "notes": ""}
    assert_error(post(api, "/models/00/versions", nulls), 404, "not_found")
    model = post(api, "/models", {**DIAMONDS, "env": {"LOG_LEVEL": "info"}}).json_body
    made = post(api, f"/models/{model['id']}/versions", nulls)
    assert made.status_code == 201, made.json_body
    assert (made.json_body["env"], made.json_body["predictPath"], made.json_body["healthPath"]) == (
        {"LOG_LEVEL": "info"},
        model["predictPath"],
        model["healthPath"],
    )
