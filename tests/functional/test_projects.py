"""Projects on moto: creating them, their members by username or e-mail, and what a member may see and do."""

from __future__ import annotations

import json
from http.server import ThreadingHTTPServer
from typing import Any

import boto3
from chalice.test import Client

from chalicelib import config
from tests.functional.conftest import ADMIN_PASSWORD, access_token
from tests.functional.test_gateway import predict, running_model
from tests.functional.test_lifecycle_ecs import upload
from tests.functional.test_models_api import DIAMONDS, JSON, assert_error, create, listed_ids, post, put


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def member(client: Client, project: str, user: str, role: str) -> Any:
    return put(client, f"/projects/{project}/members/{user}", {"role": role})


def user_with_email(settings: config.Settings, username: str, email: str) -> None:
    cognito = boto3.client("cognito-idp", region_name=settings.region)
    cognito.admin_create_user(
        UserPoolId=settings.user_pool_id,
        Username=username,
        UserAttributes=[{"Name": "email", "Value": email}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=settings.user_pool_id, Username=username, Password=ADMIN_PASSWORD, Permanent=True
    )


def test_admins_make_projects_and_name_their_members(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    created = post(client, "/projects", {"name": "fraud", "description": "Card fraud models"})
    assert created.status_code == 201
    assert created.json_body["name"] == "fraud" and created.json_body["createdBy"] == "admin"
    assert_error(post(client, "/projects", {"name": "fraud"}), 409, "conflict")
    assert_error(post(client, "/projects", {"name": "Has Spaces"}), 422, "validation_error")
    assert_error(post(client, "/projects", {"name": "default"}), 409, "conflict")
    listed = client.http.get("/projects").json_body["items"]
    assert [(p["name"], p["role"]) for p in listed] == [("default", "admin"), ("fraud", "admin")]

    access_token(settings, "fay")
    user_with_email(settings, "gus", "gus@example.com")
    assert member(client, "fraud", "fay", "editor").json_body["role"] == "editor"
    by_email = member(client, "fraud", "gus@example.com", "viewer")
    assert by_email.status_code == 200 and by_email.json_body["username"] == "gus"
    assert_error(member(client, "fraud", "nobody@example.com", "viewer"), 404, "not_found")
    assert_error(member(client, "fraud", "fay", "owner"), 422, "validation_error")
    assert_error(member(client, "no-such-project", "fay", "viewer"), 404, "not_found")
    assert member(client, "fraud", "fay", "admin").json_body["role"] == "admin"  # a role changes in place
    members = client.http.get("/projects/fraud/members").json_body["items"]
    assert [(m["username"], m["role"], m["addedBy"]) for m in members] == [
        ("fay", "admin", "admin"),
        ("gus", "viewer", "admin"),
    ]

    assert client.http.delete("/projects/fraud/members/gus").status_code == 204
    assert_error(client.http.delete("/projects/fraud/members/gus"), 404, "not_found")
    assert [m["username"] for m in client.http.get("/projects/fraud/members").json_body["items"]] == ["fay"]


def test_a_member_sees_and_changes_only_their_projects_models(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    for name in ("fraud", "churn"):
        assert post(client, "/projects", {"name": name}).status_code == 201
    editor, viewer = access_token(settings, "fay"), access_token(settings, "gus")
    member(client, "fraud", "fay", "editor")
    member(client, "fraud", "gus", "viewer")
    member(client, "churn", "gus", "viewer")
    churn = create(client, name="churn-model", project="churn")["id"]
    in_default = create(client, name="default-model")["id"]

    made = post(client, "/models", {**DIAMONDS, "project": "fraud"}, bearer(editor))
    assert made.status_code == 201 and made.json_body["project"] == "fraud"
    fraud = made.json_body["id"]
    # Not a member of churn, so churn's model is as unknown to fay as a model that never existed.
    unknown = client.http.get("/models/m-no-such-model", headers=bearer(editor)).json_body["error"]["message"]
    hidden = assert_error(client.http.get(f"/models/{churn}", headers=bearer(editor)), 404, "not_found")
    assert hidden["message"] == unknown.replace("m-no-such-model", churn)
    assert_error(client.http.post(f"/models/{churn}/start", headers=bearer(editor)), 404, "not_found")
    assert_error(post(client, "/models", {**DIAMONDS, "project": "churn"}, bearer(editor)), 404, "not_found")
    assert_error(post(client, "/models", DIAMONDS, bearer(editor)), 404, "not_found")  # nor the default project

    assert set(listed_ids(client)) == {churn, in_default, fraud}  # a stage admin sees every project's
    assert [m["id"] for m in client.http.get("/models", headers=bearer(editor)).json_body["items"]] == [fraud]
    seen_by_viewer = client.http.get("/models", headers=bearer(viewer)).json_body["items"]
    assert {m["id"] for m in seen_by_viewer} == {fraud, churn}
    only_churn = client.http.get("/models?project=churn", headers=bearer(viewer)).json_body["items"]
    assert [m["id"] for m in only_churn] == [churn]
    assert_error(client.http.get("/models?project=default", headers=bearer(viewer)), 404, "not_found")

    assert client.http.get(f"/models/{churn}", headers=bearer(viewer)).status_code == 200
    assert_error(client.http.post(f"/models/{churn}/start", headers=bearer(viewer)), 403, "forbidden")
    assert_error(put(client, f"/models/{fraud}", {"version": "2"}, bearer(viewer)), 403, "forbidden")
    assert put(client, f"/models/{fraud}", {"version": "2"}, bearer(editor)).status_code == 200
    # Moving a model needs the editor role where it goes, too.
    assert_error(put(client, f"/models/{fraud}", {"project": "churn"}, bearer(editor)), 404, "not_found")
    assert client.http.get(f"/models/{fraud}").json_body["project"] == "fraud"

    me = client.http.get("/me", headers=bearer(viewer)).json_body
    assert me["role"] is None and me["projects"] == [
        {"name": "churn", "role": "viewer"},
        {"name": "fraud", "role": "viewer"},
    ]


def test_a_project_with_models_is_kept_until_they_move(ecs_api: tuple[Client, config.Settings]) -> None:
    client, _ = ecs_api
    assert post(client, "/projects", {"name": "fraud"}).status_code == 201
    model = create(client, project="fraud")["id"]
    assert_error(client.http.delete("/projects/fraud"), 409, "conflict")
    assert_error(client.http.delete("/projects/default"), 409, "conflict")
    assert_error(put(client, f"/models/{model}", {"project": "no-such-project"}), 404, "not_found")
    assert put(client, f"/models/{model}", {"project": "default"}).json_body["project"] == "default"
    assert listed_ids(client, "?project=fraud") == [] and listed_ids(client, "?project=default") == [model]
    assert client.http.delete("/projects/fraud").status_code == 204
    assert_error(client.http.get("/projects/fraud"), 404, "not_found")
    assert [p["name"] for p in client.http.get("/projects").json_body["items"]] == ["default"]


def test_a_members_token_predicts_its_projects_private_model_only(
    ecs_api: tuple[Client, config.Settings], echo: ThreadingHTTPServer
) -> None:
    client, settings = ecs_api
    assert post(client, "/projects", {"name": "fraud"}).status_code == 201
    editor, viewer = access_token(settings, "fay"), access_token(settings, "gus")
    model_id = running_model(ecs_api, echo.server_address[1])
    assert predict(client, model_id, headers=bearer(editor)).status_code == 404  # in default, where fay has no role
    assert put(client, f"/models/{model_id}", {"project": "fraud"}).status_code == 200
    member(client, "fraud", "fay", "editor")
    member(client, "fraud", "gus", "viewer")
    answered = client.http.post(
        "/predict",
        headers={**JSON, **bearer(editor)},
        body=json.dumps({"modelData": [[1, 2]], "metaData": {"modelId": model_id}}),
    )
    assert answered.status_code == 200, answered.json_body
    assert_error(predict(client, model_id, headers=bearer(viewer)), 403, "forbidden")


def deploy(client: Client, model_id: str, replicas: int) -> Any:
    body = {"versions": [{"version": 1, "weight": 100, "replicas": replicas}]}
    return put(client, f"/models/{model_id}/deployment", body)


def stopped_model_with_replicas(client: Client, name: str, project: str, replicas: int) -> str:
    model_id = create(client, name=name, project=project)["id"]
    upload(client, model_id, b"model bytes")
    assert deploy(client, model_id, replicas).status_code in (200, 202)
    return model_id


def test_a_quota_refuses_what_would_pass_it_and_says_how_much_is_left(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    assert post(client, "/projects", {"name": "pricing"}).status_code == 201
    lead = access_token(settings, "lea")
    member(client, "pricing", "lea", "admin")
    quota = {"maxReplicas": 3, "maxModels": 3, "maxVcpu": None}
    # Its own admins may not lift their project's quota: only the stage's.
    assert_error(put(client, "/projects/pricing/quota", quota, bearer(lead)), 403, "forbidden")
    assert_error(put(client, "/projects/pricing/quota", {"maxReplicas": -1}), 422, "validation_error")
    assert_error(put(client, "/projects/no-such-project/quota", quota), 404, "not_found")
    set_to = put(client, "/projects/pricing/quota", quota).json_body
    assert set_to["quota"] == {"maxVcpu": None, "maxMemoryGb": None, "maxReplicas": 3, "maxModels": 3}

    first = stopped_model_with_replicas(client, "first", "pricing", 2)
    second = stopped_model_with_replicas(client, "second", "pricing", 2)
    assert post(client, f"/models/{first}/start", {}).status_code == 202
    refused = assert_error(post(client, f"/models/{second}/start", {}), 409, "quota_exceeded")
    assert refused["message"] == "project pricing has a quota of 3 replicas: 2 in use, 2 more asked, 1 left"
    assert client.http.get(f"/models/{second}").json_body["status"] == "STOPPED"  # and nothing changed
    assert deploy(client, second, 1).status_code in (200, 202)
    # A stopped model's deployment change runs nothing, so it names no deployer yet.
    assert client.http.get(f"/models/{second}").json_body["deployedBy"] is None
    assert post(client, f"/models/{second}/start", {}, bearer(lead)).status_code == 202
    # "Deployed by me": who last started a model or changed its deployment.
    assert listed_ids(client, "?deployedBy=lea") == [second]
    assert client.http.get(f"/models/{first}").json_body["deployedBy"] == "admin"
    assert client.http.get("/projects/pricing").json_body["usage"] == {
        "vcpu": 1.5,
        "memoryGb": 3,
        "replicas": 3,
        "models": 2,
    }
    # A running model grows only within the quota, and may always shrink.
    grown = assert_error(deploy(client, first, 3), 409, "quota_exceeded")
    assert grown["message"] == "project pricing has a quota of 3 replicas: 3 in use, 1 more asked, 0 left"
    assert deploy(client, first, 1).status_code == 202

    assert post(client, "/models", {**DIAMONDS, "name": "third", "project": "pricing"}).status_code == 201
    too_many = assert_error(
        post(client, "/models", {**DIAMONDS, "name": "fourth", "project": "pricing"}), 409, "quota_exceeded"
    )
    assert too_many["message"] == "project pricing has a quota of 3 models: 3 in use, 1 more asked, 0 left"
    elsewhere = create(client, name="elsewhere")["id"]
    assert_error(put(client, f"/models/{elsewhere}", {"project": "pricing"}), 409, "quota_exceeded")
    assert client.http.get(f"/models/{elsewhere}").json_body["project"] == "default"


def test_the_default_project_takes_a_quota_too(ecs_api: tuple[Client, config.Settings]) -> None:
    client, _ = ecs_api
    create(client, name="one")
    assert put(client, "/projects/default/quota", {"maxModels": 1}).status_code == 200
    assert_error(post(client, "/models", {**DIAMONDS, "name": "two"}), 409, "quota_exceeded")
    listed = client.http.get("/projects").json_body["items"]
    assert [(p["name"], p["quota"]["maxModels"]) for p in listed] == [("default", 1)]
    assert put(client, "/projects/default/quota", {}).json_body["quota"]["maxModels"] is None
    assert create(client, name="two")["project"] == "default"
