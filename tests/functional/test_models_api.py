"""The model registry API end to end through Chalice's test client, on moto's DynamoDB."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

JSON = {"Content-Type": "application/json"}
DIAMONDS = {
    "name": "diamonds",
    "version": "1.0",
    "artifactFormat": "joblib",
    "containerPort": 8080,
    "containerCpu": 0.5,
    "containerMemory": 1,
}


def post(api: Client, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    payload = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return api.http.post(path, headers={**JSON, **(headers or {})}, body=payload)


def put(api: Client, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return api.http.put(path, headers={**JSON, **(headers or {})}, body=json.dumps(body))


def create(api: Client, **overrides: Any) -> dict[str, Any]:
    response = post(api, "/models", {**DIAMONDS, **overrides})
    assert response.status_code == 201, response.json_body
    return response.json_body


def listed_ids(api: Client, query: str = "") -> list[str]:
    return [m["id"] for m in api.http.get(f"/models{query}").json_body["items"]]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.body
    error = response.json_body["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def test_health_reports_version(api: Client) -> None:
    response = api.http.get("/health")
    assert response.status_code == 200
    assert response.json_body["status"] == "ok"
    assert response.json_body["version"]


def test_create_returns_the_full_record(api: Client) -> None:
    response = post(api, "/models", {**DIAMONDS, "env": {"THRESHOLD": "0.7"}, "description": "price"})
    assert response.status_code == 201
    record = response.json_body
    assert response.headers["ETag"] == '"1"'
    assert len(record["id"]) == 36
    assert record["status"] == "STOPPED"
    assert record["statusReason"] is None
    assert record["predictPath"] == "/predict" and record["healthPath"] == "/health"
    assert record["containerCpu"] == 0.5 and record["containerMemory"] == 1.0
    assert record["env"] == {"THRESHOLD": "0.7"}
    assert record["dockerImage"] is None and record["artifactFormat"] == "joblib"
    assert record["createdBy"] == "admin" and record["updatedBy"] == "admin"
    assert record["createdAt"].endswith("Z") and record["createdAt"] == record["updatedAt"]
    assert record["revision"] == 1
    assert api.http.get(f"/models/{record['id']}").json_body == record


def test_an_image_model_needs_no_artifact_format(api: Client) -> None:
    record = create(api, artifactFormat=None, dockerImage="123.dkr.ecr.eu-west-1.amazonaws.com/ml/kraken:1.2")
    assert record["dockerImage"].endswith("kraken:1.2") and record["artifactFormat"] is None


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b'{"name": "diamonds",', JSON, 400, "bad_request"),
        (b"", JSON, 400, "bad_request"),
        (b"[1, 2]", JSON, 400, "bad_request"),
        (b"name=diamonds", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
        (json.dumps({**DIAMONDS, "name": "x" * 2_000_000}).encode(), JSON, 413, "payload_too_large"),
    ],
    ids=["malformed-json", "empty", "not-an-object", "form-encoded", "two-megabyte-name"],
)
def test_unreadable_requests_are_refused_and_write_nothing(
    api: Client, body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    response = api.http.post("/models", headers=headers, body=body)
    assert_error(response, status, code)
    assert "Traceback" not in response.body.decode()
    assert listed_ids(api) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"containerCpu": "0.5"}, "containerCpu"),
        ({"containerPort": 70000}, "containerPort"),
        ({"containerPort": True}, "containerPort"),
        ({"name": "Diamonds!"}, "name"),
        ({"name": ""}, "name"),
        ({"colour": "blue"}, "colour"),
        ({"containerCpu": 0.25, "containerMemory": 4}, "containerMemory"),
        ({"containerCpu": 3, "containerMemory": 8}, "containerCpu"),
        ({"containerCpu": 0.5, "containerMemory": 1.5}, "containerMemory"),
        ({"artifactFormat": None}, "artifactFormat"),
        ({"artifactFormat": "h5"}, "artifactFormat"),
        ({"dockerImage": "repo/img:1"}, "artifactFormat"),
        ({"env": {f"K{i}": "v" for i in range(51)}}, "env"),
        ({"env": {"BIG": "x" * 4097}}, "env"),
        ({"env": {"KRAKEN_PORT": "1"}}, "env"),
        ({"env": {"1BAD": "v"}}, "env.1BAD"),
        ({"predictPath": "predict"}, "predictPath"),
    ],
)
def test_invalid_fields_get_422_naming_the_field_and_write_nothing(
    api: Client, overrides: dict[str, Any], field: str
) -> None:
    response = post(api, "/models", {**DIAMONDS, **overrides})
    error = assert_error(response, 422, "validation_error")
    assert any(d["field"].startswith(field) for d in error["details"]), error
    assert listed_ids(api) == []


def test_validation_errors_do_not_echo_the_input(api: Client) -> None:
    secret = "s3cr3t-value-that-must-not-come-back"
    response = post(api, "/models", {**DIAMONDS, "containerPort": secret, "env": {"TOKEN": secret * 200}})
    assert response.status_code == 422
    assert secret not in response.body.decode()


def test_every_fargate_size_is_accepted(api: Client) -> None:
    for cpu, memory in [(0.25, 0.5), (0.25, 2), (0.5, 4), (1, 8), (2, 16), (4, 30)]:
        create(api, name=f"size-{cpu:g}-{memory:g}".replace(".", "-"), containerCpu=cpu, containerMemory=memory)


def test_unknown_model_is_404(api: Client) -> None:
    assert_error(api.http.get("/models/does-not-exist"), 404, "not_found")
    assert_error(put(api, "/models/does-not-exist", {"version": "2"}), 404, "not_found")
    assert_error(api.http.delete("/models/does-not-exist"), 404, "not_found")


def test_list_is_newest_first_and_paginates(api: Client) -> None:
    created = [create(api, name=f"model-{i}")["id"] for i in range(7)]
    seen: list[str] = []
    token = None
    while True:
        query = "?limit=3" + (f"&nextToken={token}" if token else "")
        body = api.http.get(f"/models{query}").json_body
        assert len(body["items"]) <= 3
        seen += [m["id"] for m in body["items"]]
        token = body["nextToken"]
        if not token:
            break
    assert seen == list(reversed(created))


def test_list_searches_names_and_filters_status(api: Client) -> None:
    wanted = create(api, name="churn-model")["id"]
    create(api, name="diamonds")
    assert listed_ids(api, "?search=churn") == [wanted]
    assert listed_ids(api, "?search=nothing-like-it") == []
    assert len(listed_ids(api, "?status=STOPPED")) == 2
    assert listed_ids(api, "?status=RUNNING") == []
    assert listed_ids(api, "?status=STOPPED&search=urn") == [wanted]


@pytest.mark.parametrize(
    "query",
    ["?limit=0", "?limit=101", "?limit=ten", "?status=SLEEPING", "?staus=RUNNING"],
)
def test_bad_list_parameters_get_422(api: Client, query: str) -> None:
    assert_error(api.http.get(f"/models{query}"), 422, "validation_error")


def test_bad_or_foreign_next_tokens_get_400(api: Client) -> None:
    for i in range(3):
        create(api, name=f"m-{i}")
    token = api.http.get("/models?limit=1").json_body["nextToken"]
    assert token
    assert_error(api.http.get("/models?nextToken=garbage!!"), 400, "bad_request")
    assert_error(api.http.get(f"/models?limit=1&status=STOPPED&nextToken={token}"), 400, "bad_request")


def test_partial_update_bumps_revision_and_keeps_other_fields(api: Client) -> None:
    record = create(api)
    response = put(api, f"/models/{record['id']}", {"version": "1.1", "containerMemory": 2}, {"If-Match": '"1"'})
    assert response.status_code == 200, response.json_body
    updated = response.json_body
    assert updated["version"] == "1.1" and updated["containerMemory"] == 2.0
    assert updated["name"] == record["name"] and updated["containerCpu"] == 0.5
    assert updated["revision"] == 2 and response.headers["ETag"] == '"2"'
    assert updated["updatedAt"] >= record["updatedAt"] and updated["createdAt"] == record["createdAt"]


def test_stale_revision_gets_409_and_changes_nothing(api: Client) -> None:
    record = create(api)
    put(api, f"/models/{record['id']}", {"version": "2"}, {"If-Match": '"1"'})
    assert_error(put(api, f"/models/{record['id']}", {"version": "3"}, {"If-Match": '"1"'}), 409, "conflict")
    assert_error(put(api, f"/models/{record['id']}", {"version": "3", "revision": 1}), 409, "conflict")
    assert api.http.get(f"/models/{record['id']}").json_body["version"] == "2"


def test_update_rechecks_the_merged_record(api: Client) -> None:
    record = create(api)
    error = assert_error(put(api, f"/models/{record['id']}", {"containerCpu": 2}), 422, "validation_error")
    assert error["details"][0]["field"] == "containerMemory"
    assert_error(put(api, f"/models/{record['id']}", {"name": None}), 422, "validation_error")
    assert_error(put(api, f"/models/{record['id']}", {"id": "other"}), 422, "validation_error")
    assert_error(put(api, f"/models/{record['id']}", {"version": "2"}, {"If-Match": "yesterday"}), 400, "bad_request")
    assert api.http.get(f"/models/{record['id']}").json_body == record


def test_switching_from_artifact_to_image(api: Client) -> None:
    record = create(api)
    change = {"artifactFormat": None, "dockerImage": "repo/model:2"}
    updated = put(api, f"/models/{record['id']}", change).json_body
    assert updated["dockerImage"] == "repo/model:2" and updated["artifactFormat"] is None


def test_delete_removes_the_model(api: Client) -> None:
    record = create(api)
    response = api.http.delete(f"/models/{record['id']}")
    assert response.status_code == 204
    assert_error(api.http.get(f"/models/{record['id']}"), 404, "not_found")
    assert listed_ids(api) == []


def test_delete_with_stale_revision_gets_409(api: Client) -> None:
    record = create(api)
    put(api, f"/models/{record['id']}", {"version": "2"})
    assert_error(api.http.delete(f"/models/{record['id']}", headers={"If-Match": '"1"'}), 409, "conflict")
    assert listed_ids(api) == [record["id"]]


def test_request_ids_are_echoed_or_generated(api: Client) -> None:
    assert api.http.get("/health", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"] == "abc-123"
    generated = api.http.get("/models/nope").headers["X-Request-Id"]
    assert len(generated) >= 16
    assert api.http.get("/health", headers={"X-Request-Id": "bad id\u2028"}).headers["X-Request-Id"] != "bad id"


def test_wrong_method_answers_in_the_error_shape(api: Client) -> None:
    response = api.http.patch("/models", headers=JSON, body="{}")
    assert_error(response, 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("search", "needle"),
    [
        ("search=needle", {"name": "needle-model"}),
        ("metadataKey=team&metadataValue=risk", {"name": "needle-model", "metadata": {"team": "risk"}}),
        ("metadataKey=owner", {"name": "needle-model", "metadata": {"owner": ""}}),
        ("createdBy=nia", {"name": "needle-model", "created_by": "nia"}),
        ("deployedBy=nia", {"name": "needle-model", "deployed_by": "nia"}),
    ],
)
def test_a_rare_search_reads_a_bounded_number_of_models(api: Client, search: str, needle: dict[str, Any]) -> None:
    """A search filters index pages but stops after a budget, answering with a token rather than reading all:
    by name, by a metadata key and value, by creator and by deployer alike, over 1,100 models."""
    import dataclasses
    from datetime import timedelta

    from chalicelib.adapters.dynamodb import SEARCH_PAGE_BUDGET, SEARCH_PAGE_SIZE, ModelItem, _to_item
    from chalicelib.domain.clock import utc_now
    from chalicelib.domain.models import ArtifactFormat, ModelRecord, ModelStatus

    budget = SEARCH_PAGE_BUDGET * SEARCH_PAGE_SIZE
    now = utc_now()
    template = ModelRecord(
        "x", "hay", "1", "", None, ArtifactFormat.JOBLIB, 8080, 0.5, 1, {}, "/predict", "/health",
        ModelStatus.STOPPED, None, "admin", "admin", now, now, 1,
    )  # fmt: skip
    with ModelItem.batch_write() as batch:
        for i in range(budget + 100):  # the oldest model is the only match, past the budget
            hay = {"name": f"hay-{i}", "metadata": {"team": "ops", "hay": "risk"}}
            created = now - timedelta(seconds=budget + 100 - i)
            record = dataclasses.replace(template, id=f"m{i:05d}", created_at=created, **(needle if i == 0 else hay))
            batch.save(_to_item(record))

    first = api.http.get(f"/models?{search}&limit=10").json_body
    assert first["items"] == [] and first["nextToken"]  # budget spent, more to read
    second = api.http.get(f"/models?{search}&limit=10&nextToken={first['nextToken']}").json_body
    assert [m["name"] for m in second["items"]] == ["needle-model"]
    everything = api.http.get("/models?limit=100").json_body
    assert len(everything["items"]) == 100 and everything["nextToken"]


def test_names_are_unique_and_freed_by_a_rename_or_a_delete(api: Client) -> None:
    first = create(api, name="unique-name")
    taken = assert_error(post(api, "/models", {**DIAMONDS, "name": "unique-name"}), 409, "conflict")
    assert "a model named unique-name exists" in taken["message"]
    assert put(api, f"/models/{first['id']}", {"name": "renamed"}).status_code == 200
    second = create(api, name="unique-name")  # the old name is free again
    assert_error(put(api, f"/models/{second['id']}", {"name": "renamed"}), 409, "conflict")
    assert api.http.get(f"/models/{second['id']}").json_body["name"] == "unique-name"
    assert api.http.delete(f"/models/{first['id']}").status_code == 204
    assert put(api, f"/models/{second['id']}", {"name": "renamed"}).status_code == 200


def test_metadata_is_kept_bounded_and_searched(api: Client) -> None:
    tagged = create(api, name="tagged", metadata={"team": "risk", "data/source": "s3://bucket/2026-11"})
    assert tagged["metadata"] == {"team": "risk", "data/source": "s3://bucket/2026-11"}
    other = create(api, name="other", metadata={"team": "ops"})
    create(api, name="untagged")
    assert listed_ids(api, "?metadataKey=team&metadataValue=risk") == [tagged["id"]]
    assert set(listed_ids(api, "?metadataKey=team")) == {tagged["id"], other["id"]}
    assert listed_ids(api, "?metadataKey=team&metadataValue=risk&search=oth") == []
    assert_error(api.http.get("/models?metadataValue=risk"), 422, "validation_error")
    assert set(listed_ids(api, "?createdBy=admin")) == {tagged["id"], other["id"], listed_ids(api, "?search=untag")[0]}

    too_many = {f"k{i}": "v" for i in range(21)}
    for bad in (too_many, {"has space": "v"}, {"k": "v" * 257}, {"": "v"}, {"k": 1}):
        assert_error(
            post(api, "/models", {**DIAMONDS, "name": "bad-metadata", "metadata": bad}), 422, "validation_error"
        )
    # A change replaces the whole map; the other settings stay.
    changed = put(api, f"/models/{tagged['id']}", {"metadata": {"team": "fraud"}}).json_body
    assert changed["metadata"] == {"team": "fraud"} and changed["name"] == "tagged"
    assert listed_ids(api, "?metadataKey=team&metadataValue=risk") == []

    version = post(api, f"/models/{other['id']}/versions", {"notes": "retrained", "metadata": {"run": "mlflow:42"}})
    assert version.status_code == 201 and version.json_body["metadata"] == {"run": "mlflow:42"}
    assert api.http.get(f"/models/{other['id']}").json_body["versions"][-1]["metadata"] == {"run": "mlflow:42"}
