"""Sign-in and access control: every route's role, client tokens, private and public endpoints."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import config
from chalicelib.domain.access import Role
from tests.functional.conftest import access_token
from tests.functional.test_gateway import running_model
from tests.functional.test_models_api import DIAMONDS, assert_error, post

DELETED = ("DELETE", "/models/{model_id}", 204)
JSON = {"Content-Type": "application/json"}
ROLE_USERS = {Role.VIEWER: "vera-viewer", Role.EDITOR: "eddie-editor", Role.ADMIN: "admin"}


def every_route() -> list[tuple[str, str, Any]]:
    from app import app

    return [
        (path, method, entry.view_function.access)
        for path, methods in app.routes.items()
        for method, entry in methods.items()
    ]


def test_every_route_declares_who_may_call_it() -> None:
    routes = every_route()
    assert len(routes) >= 15
    public = {(path, method) for path, method, access in routes if access == "public"}
    assert public == {
        ("/health", "GET"),
        ("/openapi.json", "GET"),  # the API's own description, as issue 14 asks
        ("/predict", "POST"),
        ("/models/{model_id}/predict", "POST"),
        # The standard inference protocols: the server's liveness, and each model as its own access says.
        ("/v2", "GET"),
        ("/v2/health/live", "GET"),
        ("/v2/health/ready", "GET"),
        ("/v2/models/{name}", "GET"),
        ("/v2/models/{name}/ready", "GET"),
        ("/v2/models/{name}/infer", "POST"),
        ("/v2/models/{name}/versions/{version}", "GET"),
        ("/v2/models/{name}/versions/{version}/ready", "GET"),
        ("/v2/models/{name}/versions/{version}/infer", "POST"),
        ("/models/{model_id}/invocations", "POST"),
        ("/models/{model_id}/api/v1.0/predictions", "POST"),
    }


def _call(client: Client, method: str, path: str, token: str | None) -> Any:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}" if token else ""}
    body = b"{}" if method in ("POST", "PUT") else b""
    return client.http.request(method, path, headers=headers, body=body)


def _walk_order(route: tuple[str, str, Any]) -> tuple[bool, bool]:
    # Deleting the model goes last (other routes need it), and every other deletion after the reads and writes.
    path, method, _ = route
    return (method == "DELETE", (path, method) == ("/models/{model_id}", "DELETE"))


def test_each_route_answers_401_403_or_serves_by_role(ecs_api: tuple[Client, config.Settings]) -> None:
    """Every route, called by each stage-wide role, each role a project member can hold, and an outsider."""
    client, settings = ecs_api
    assert post(client, "/projects", {"name": "walk"}).status_code == 201
    callers: list[tuple[str, Role | None, str | None]] = [("otto-outsider", None, None)]
    callers += [(user, role, "stage") for role, user in ROLE_USERS.items()]
    callers += [(f"project-{role.name.lower()}", role, "walk") for role in Role]
    tokens = {}
    for user, role, where in callers:
        group = role.name.lower() if where == "stage" and user != "admin" else None
        tokens[user] = access_token(settings, user, group)
        if where == "walk":
            assert role is not None
            member = {"role": role.name.lower()}
            assert (
                client.http.put(f"/projects/walk/members/{user}", headers=JSON, body=json.dumps(member)).status_code
                == 200
            )
    model_id = post(client, "/models", {**DIAMONDS, "project": "walk"}).json_body["id"]
    # The lowest role first, so the callers refused see the model before an allowed one deletes it.
    callers.sort(key=lambda caller: caller[1] or 0)
    model_deleted = False
    for path, method, access in sorted(every_route(), key=_walk_order):
        if access == "public":
            continue
        url = path.replace("{model_id}", model_id).replace("{name}", "no-such-client")
        url = url.replace("{project}", "walk").replace("{username}", "nobody-here")
        refused = _call(client, method, url, None)
        assert refused.status_code == 401, (method, path)
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert _call(client, method, url, "not-a-jwt").status_code == 401, (method, path)
        in_project = "{model_id}" in path or "{project}" in path
        for user, role, where in callers:
            answer = _call(client, method, url, tokens[user])
            if access == "signed-in" or (access == "stage-admin" and where == "stage" and role is Role.ADMIN):
                assert answer.status_code not in (401, 403), (method, path, user, answer.json_body)
            elif access == "stage-admin":  # refused without a read, so an outsider learns nothing either
                assert answer.status_code == 403, (method, path, user, answer.json_body)
            elif role is None and in_project:
                # An outsider learns nothing, not even that the model or the project exists.
                assert answer.status_code == 404, (method, path, user, answer.json_body)
            elif role is None or role < access or (where == "walk" and not in_project):
                assert answer.status_code == 403, (method, path, user, answer.json_body)
            else:
                assert answer.status_code not in (401, 403), (method, path, user, answer.json_body)
                if answer.status_code == 404:
                    # Only the route's own item may be missing, or the model once an allowed caller deleted it.
                    message = answer.json_body["error"]["message"]
                    assert not message.startswith(("no project", "no model")) or model_deleted, (method, path, user)
                model_deleted = model_deleted or (method, path, answer.status_code) == DELETED


def test_who_did_it_is_the_signed_in_user(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    editor = access_token(settings, "eddie-editor", "editor")
    created = post(client, "/models", DIAMONDS, {"Authorization": f"Bearer {editor}"}).json_body
    assert created["createdBy"] == "eddie-editor"
    updated = client.http.put(
        f"/models/{created['id']}", headers={"Content-Type": "application/json"}, body=json.dumps({"version": "2"})
    ).json_body
    assert updated["createdBy"] == "eddie-editor" and updated["updatedBy"] == "admin"
    actors = [e["actor"] for e in client.http.get(f"/models/{created['id']}/logs").json_body["items"]]
    assert actors == ["admin", "eddie-editor"]
    me = {"username": "admin", "groups": ["admin"], "role": "admin", "projects": [{"name": "default", "role": "admin"}]}
    assert client.http.get("/me").json_body == me


def basic(name: str, token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()}


def predict(client: Client, model_id: str, headers: dict[str, str]) -> Any:
    body = json.dumps({"modelData": [[1]], "metaData": {"modelId": model_id}})
    return client.http.post("/predict", headers={"Content-Type": "application/json", **headers}, body=body)


def test_client_tokens_open_a_private_endpoint_until_revoked(
    ecs_api: tuple[Client, config.Settings], echo: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    client, _ = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1])
    created = post(client, f"/models/{model_id}/clients", {"name": "billing-service"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    token = created.json_body["token"]
    listed = client.http.get(f"/models/{model_id}/clients").json_body["items"]
    assert [c["name"] for c in listed] == ["billing-service"] and token not in json.dumps(listed)
    assert_error(post(client, f"/models/{model_id}/clients", {"name": "billing-service"}), 409, "conflict")
    assert_error(post(client, f"/models/{model_id}/clients", {"name": "Has.Dots"}), 422, "validation_error")

    no_user = {"Authorization": ""}
    assert predict(client, model_id, basic("billing-service", token)).status_code == 200
    assert echo.seen[-1]["headers"]["X-Forwarded-User"] == "client:billing-service"
    assert predict(client, model_id, {"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.http.get(f"/models/{model_id}/clients").json_body["items"][0]["lastUsedAt"]

    refused = predict(client, model_id, no_user)
    assert_error(refused, 401, "unauthorized")
    assert "Basic" in refused.headers["WWW-Authenticate"]
    assert_error(predict(client, model_id, basic("billing-service", token + "x")), 401, "unauthorized")
    assert_error(predict(client, model_id, basic("someone-else", token)), 401, "unauthorized")

    assert client.http.delete(f"/models/{model_id}/clients/billing-service").status_code == 204
    assert_error(predict(client, model_id, basic("billing-service", token)), 401, "unauthorized")
    assert_error(client.http.delete(f"/models/{model_id}/clients/billing-service"), 404, "not_found")

    lines = [json.loads(o) for o in capsys.readouterr().out.splitlines() if '"prediction"' in o]
    assert [line["status"] for line in lines][-3:] == [401, 401, 401]  # refused attempts are in the history
    assert token not in json.dumps(lines)


def test_signed_in_editors_may_predict_and_viewers_may_not(ecs_api: tuple[Client, config.Settings], echo: Any) -> None:
    client, settings = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1])
    editor = access_token(settings, "eddie-editor", "editor")
    viewer = access_token(settings, "vera-viewer", "viewer")
    assert predict(client, model_id, {"Authorization": f"Bearer {editor}"}).status_code == 200
    assert echo.seen[-1]["headers"]["X-Forwarded-User"] == "eddie-editor"
    assert_error(predict(client, model_id, {"Authorization": f"Bearer {viewer}"}), 403, "forbidden")


def test_public_endpoints_need_no_credentials(ecs_api: tuple[Client, config.Settings], echo: Any) -> None:
    client, _ = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1], endpointVisibility="public")
    assert client.http.get(f"/models/{model_id}").json_body["endpointVisibility"] == "public"
    assert predict(client, model_id, {"Authorization": ""}).status_code == 200
    assert echo.seen[-1]["headers"]["X-Forwarded-User"] == "anonymous"


def test_the_protocol_routes_guard_a_private_model_as_predict_does(
    ecs_api: tuple[Client, config.Settings], echo: Any
) -> None:
    client, _ = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1])
    name = client.http.get(f"/models/{model_id}").json_body["name"]
    token = post(client, f"/models/{model_id}/clients", {"name": "triton-client"}).json_body["token"]
    routes = {  # where each protocol's request lands on the container, and its error shape's key
        f"/v2/models/{name}/infer": (f"/v2/models/{name}/versions/1/infer", "error"),
        f"/v2/models/{model_id}/versions/1/infer": (f"/v2/models/{name}/versions/1/infer", "error"),
        f"/models/{name}/invocations": ("/invocations", "error_code"),
        f"/models/{model_id}/api/v1.0/predictions": ("/api/v1.0/predictions", "status"),
    }
    body = json.dumps({"inputs": []})
    for path, (forwarded, error_key) in routes.items():
        refused = client.http.post(path, headers={"Content-Type": "application/json", "Authorization": ""}, body=body)
        assert refused.status_code == 401 and error_key in refused.json_body, path
        answered = client.http.post(
            path, headers={"Content-Type": "application/json", **basic("triton-client", token)}, body=body
        )
        assert answered.status_code == 200 and answered.headers["X-Model-Version"] == "1", path
        assert echo.seen[-1]["path"] == forwarded and echo.seen[-1]["body"] == body.encode()
        assert echo.seen[-1]["headers"]["X-Forwarded-User"] == "client:triton-client"
    unknown = client.http.get("/v2/models/no-such-model", headers={"Authorization": ""})
    assert unknown.status_code == 401 and set(unknown.json_body) == {"error"}  # no oracle of which models exist
    pinned_elsewhere = client.http.post(
        f"/v2/models/{name}/versions/7/infer", headers={"Content-Type": "application/json"}, body=body
    )
    assert pinned_elsewhere.status_code == 409 and "version 7" in pinned_elsewhere.json_body["error"]
    csv = client.http.post(f"/models/{name}/invocations", headers={"Content-Type": "text/csv"}, body="a\n1\n")
    assert csv.status_code == 200 and echo.seen[-1]["headers"]["Content-Type"] == "text/csv"
    other = client.http.post(f"/models/{name}/invocations", headers={"Content-Type": "text/plain"}, body="x")
    assert other.status_code == 415 and other.json_body["error_code"] == "BAD_REQUEST"
    assert client.http.get(f"/v2/models/{name}/ready").json_body == {"name": name, "ready": True}
    assert client.http.get("/v2/health/live").json_body == {"live": True}
