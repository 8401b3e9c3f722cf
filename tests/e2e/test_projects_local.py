"""Projects in local mode over real HTTP: two teams, three people, a private model each, and a replica quota."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import LocalMode, new_data_dir, session_processes, start_local_mode
from tests.e2e.test_lifecycle_local import create_model, status, trained_pipeline, wait_for

pytestmark = pytest.mark.e2e

PASSWORD = "Team-member-pw-1"
ROWS = [{"carat": 0.5, "cut": "Ideal"}]


@pytest.fixture(scope="module")
def local() -> Iterator[LocalMode]:
    operator = new_data_dir() / "operator.json"
    running = start_local_mode({"KRAKEN_OPERATOR_CREDENTIALS": str(operator)})
    running.operator = operator  # type: ignore[attr-defined]
    try:
        yield running
    finally:
        running.stop()
        for pid in session_processes(running.process.pid):
            os.kill(pid, signal.SIGKILL)
        assert not running.ungranted_calls(), "\n".join(running.ungranted_calls())


def add_person(local: LocalMode, username: str) -> str:
    """A person with no stage-wide group, made with the operator's keys as an administrator would; their token."""
    auth = local.request("GET", "/config.json").body["auth"]
    keys = json.loads(local.operator.read_text())  # type: ignore[attr-defined]
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=auth["cognitoEndpoint"],
        region_name=auth["region"],
        aws_access_key_id=keys["accessKeyId"],
        aws_secret_access_key=keys["secretAccessKey"],
    )
    pool = auth["userPoolId"]
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=username,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=PASSWORD, Permanent=True)
    return local.sign_in(username, PASSWORD)


def as_user(local: LocalMode, token: str, method: str, path: str, body: Any = None) -> Any:
    return local.request(method, path, body, {"Authorization": f"Bearer {token}"})


def predict(local: LocalMode, token: str, model_id: str) -> Any:
    return as_user(local, token, "POST", "/api/predict", {"modelData": ROWS, "metaData": {"modelId": model_id}})


def test_members_of_one_project_cannot_reach_anothers_models_and_a_quota_holds(local: LocalMode) -> None:
    for project in ("fraud", "pricing"):
        assert local.request("POST", "/api/projects", {"name": project}).status == 201
    fraud_editor, fraud_viewer, pricing_editor = (add_person(local, u) for u in ("ana", "ben", "cat"))
    # By username or by e-mail address, as the members page takes them.
    assert local.request("PUT", "/api/projects/fraud/members/ana", {"role": "editor"}).status == 200
    assert local.request("PUT", "/api/projects/fraud/members/ben%40example.com", {"role": "viewer"}).status == 200
    assert local.request("PUT", "/api/projects/pricing/members/cat", {"role": "editor"}).status == 200

    fraud_model = create_model(local, "fraud-scores", trained_pipeline(), project="fraud")
    pricing_model = create_model(local, "price-model", trained_pipeline(), project="pricing")
    assert as_user(local, pricing_editor, "POST", f"/api/models/{pricing_model}/start", {}).status == 202
    wait_for(lambda: status(local, pricing_model)["status"] == "RUNNING", 30, "RUNNING")
    served = predict(local, pricing_editor, pricing_model)
    assert served.status == 200, served.body

    # Ana edits fraud only: pricing's private model is as unknown to her as one that does not exist.
    listed = as_user(local, fraud_editor, "GET", "/api/models").body["items"]
    assert [m["id"] for m in listed] == [fraud_model]
    for answer in (
        as_user(local, fraud_editor, "GET", f"/api/models/{pricing_model}"),
        as_user(local, fraud_editor, "POST", f"/api/models/{pricing_model}/start", {}),
        predict(local, fraud_editor, pricing_model),
    ):
        assert answer.status == 404, answer.body
        assert answer.body["error"]["message"] == f"no model with id {pricing_model}"
    # Ben only views fraud.
    assert as_user(local, fraud_viewer, "GET", f"/api/models/{fraud_model}").status == 200
    assert as_user(local, fraud_viewer, "POST", f"/api/models/{fraud_model}/start", {}).status == 403
    assert status(local, fraud_model)["status"] == "STOPPED"

    assert local.request("PUT", "/api/projects/pricing/quota", {"maxReplicas": 3}).status == 200
    three = {"versions": [{"version": 1, "weight": 100, "replicas": 3}]}
    assert as_user(local, pricing_editor, "PUT", f"/api/models/{pricing_model}/deployment", three).status == 202
    four = {"versions": [{"version": 1, "weight": 100, "replicas": 4}]}
    refused = as_user(local, pricing_editor, "PUT", f"/api/models/{pricing_model}/deployment", four)
    assert (refused.status, refused.body["error"]["code"]) == (409, "quota_exceeded")
    said = refused.body["error"]["message"]
    assert said == "project pricing has a quota of 3 replicas: 3 in use, 1 more asked, 0 left"
    usage = local.request("GET", "/api/projects/pricing").body["usage"]
    assert usage == {"vcpu": 1.5, "memoryGb": 3, "replicas": 3, "models": 1}
    wait_for(lambda: status(local, pricing_model)["status"] == "RUNNING", 60, "three replicas RUNNING")
