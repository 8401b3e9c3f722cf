"""Replays through the API on moto: a refusal changes nothing; a replay adds its candidate, compares, removes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any

import boto3
import pytest
import requests
from chalice.test import Client

from chalicelib import config, wiring
from chalicelib.adapters.prediction_log import prediction_document
from chalicelib.domain.ports import Prediction
from tests.functional.test_gateway import running_model
from tests.functional.test_lifecycle_ecs import model, send, task_event
from tests.functional.test_models_api import DIAMONDS, assert_error, post


def second_version(client: Client, model_id: str, with_artifact: bool = True) -> int:
    created = post(client, f"/models/{model_id}/versions", {"notes": "candidate"})
    assert created.status_code == 201, created.body
    number = int(created.json_body["number"])
    if with_artifact:
        ticket = post(client, f"/models/{model_id}/versions/{number}/artifact", {}).json_body
        requests.post(ticket["url"], data=ticket["fields"], files={"file": ("m", b"v2 bytes")}, timeout=10)
    return number


def deployed(client: Client, model_id: str) -> dict[int, int]:
    return {d["version"]: d["weight"] for d in model(client, model_id)["deployment"] if not d["leaving"]}


@pytest.fixture
def serving(ecs_api: tuple[Client, config.Settings], echo: ThreadingHTTPServer) -> tuple[Client, config.Settings, str]:
    client, settings = ecs_api
    return client, settings, running_model(ecs_api, echo.server_address[1])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"candidateVersion": 2, "source": {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}}, "source"),
        ({"candidateVersion": 2, "source": {"start": "2026-01-01T00:00:00"}}, "source.start"),
        ({"candidateVersion": 2, "source": {"limit": 0}}, "source.limit"),
        ({"candidateVersion": 2, "source": {"limit": 5001}}, "source.limit"),
        ({"candidateVersion": 2, "source": {"status": "ok"}}, "source.status"),
        ({"candidateVersion": 2, "ratePerSecond": 101}, "ratePerSecond"),
        ({"candidateVersion": 2, "ratePerSecond": 0}, "ratePerSecond"),
        ({"candidateVersion": 2, "rule": {"kind": "tolerance"}}, "rule"),
        ({"candidateVersion": 2, "rule": {"kind": "exact", "absolute": -1}}, "rule.absolute"),
        ({"candidateVersion": 0}, "candidateVersion"),
        ({"candidateVersion": 2, "colour": "blue"}, "colour"),
        ({}, "candidateVersion"),
    ],
)
def test_bad_fields_are_a_422_naming_the_field_and_change_nothing(
    serving: tuple[Client, config.Settings, str], body: dict[str, Any], field: str
) -> None:
    client, _, model_id = serving
    second_version(client, model_id)
    before = model(client, model_id)["revision"]
    error = assert_error(post(client, f"/models/{model_id}/replays", body), 422, "validation_error")
    assert any(d["field"].startswith(field) for d in error["details"]), error
    assert model(client, model_id)["revision"] == before
    assert client.http.get(f"/models/{model_id}/replays").json_body == {"items": [], "nextToken": None}


def test_unknown_models_versions_and_replays_are_404_and_a_model_not_running_is_409(
    serving: tuple[Client, config.Settings, str],
) -> None:
    client, _, model_id = serving
    assert_error(post(client, "/models/nope/replays", {"candidateVersion": 1}), 404, "not_found")
    missing = assert_error(post(client, f"/models/{model_id}/replays", {"candidateVersion": 9}), 404, "not_found")
    assert "no version 9" in missing["message"]
    empty = second_version(client, model_id, with_artifact=False)
    no_file = assert_error(post(client, f"/models/{model_id}/replays", {"candidateVersion": empty}), 409, "conflict")
    assert "no artifact" in no_file["message"]
    assert_error(client.http.get(f"/models/{model_id}/replays/0000000000000-deadbeef"), 404, "not_found")
    assert_error(client.http.get(f"/models/{model_id}/replays/not-a-replay-id"), 404, "not_found")
    assert_error(post(client, f"/models/{model_id}/replays/0000000000000-deadbeef/cancel", {}), 404, "not_found")

    stopped = post(client, "/models", {**DIAMONDS, "name": "resting"}).json_body["id"]
    resting_version = second_version(client, stopped)
    asked = {"candidateVersion": resting_version}
    not_running = assert_error(post(client, f"/models/{stopped}/replays", asked), 409, "conflict")
    assert "not RUNNING" in not_running["message"]
    assert client.http.get(f"/models/{model_id}/replays").json_body["items"] == []
    assert deployed(client, model_id) == {1: 100}


def test_a_cancelled_replay_takes_its_candidate_out_and_cannot_be_cancelled_twice(
    serving: tuple[Client, config.Settings, str],
) -> None:
    client, _, model_id = serving
    candidate = second_version(client, model_id)
    created = post(client, f"/models/{model_id}/replays", {"candidateVersion": candidate})
    assert created.status_code == 201, created.body
    replay = created.json_body
    assert replay["status"] == "RUNNING" and replay["startedCandidate"] is True
    assert replay["source"]["status"] == "2xx" and replay["source"]["limit"] == 500
    assert replay["rule"] == {"kind": "exact", "absolute": 0.0, "relative": 0.0}
    assert deployed(client, model_id) == {1: 100, candidate: 0}
    path = f"/models/{model_id}/replays/{replay['replayId']}"
    cancelled = post(client, f"{path}/cancel", {})
    assert cancelled.status_code == 202, cancelled.body
    assert cancelled.json_body["status"] == "CANCELLED" and "admin" in cancelled.json_body["statusReason"]
    assert deployed(client, model_id) == {1: 100}
    again = assert_error(post(client, f"{path}/cancel", {}), 409, "conflict")
    assert "already ended" in again["message"]
    history = client.http.get(f"/models/{model_id}/history").json_body["items"]
    assert [e["actor"] for e in history[:2]] == ["system:replay", "system:replay"]
    assert replay["replayId"] in history[0]["message"] and "taken out" in history[0]["message"]


def _line(model_id: str, at: datetime, n: int, body: str, response: str, **changes: Any) -> str:
    fields: dict[str, Any] = {
        "request_id": f"req-{n}",
        "at": at,
        "model_id": model_id,
        "model_version": "1",
        "status": 200,
        "latency_ms": 4.0 + n,
        "container_ms": 3.0,
        "request_bytes": len(body.encode()),
        "response_bytes": len(response.encode()),
        "request_body": body,
        "response_body": response,
        "caller": "admin",
        **changes,
    }
    return json.dumps(prediction_document(Prediction(**fields), "Kraken"))


def test_a_replay_compares_the_captured_requests_skips_cut_ones_and_removes_its_candidate(
    serving: tuple[Client, config.Settings, str], echo: ThreadingHTTPServer
) -> None:
    client, settings, model_id = serving
    candidate = second_version(client, model_id)
    logs = boto3.client("logs", region_name=settings.region)
    logs.create_log_stream(logGroupName=settings.request_log_group, logStreamName="api")
    now = datetime.now(UTC) - timedelta(seconds=5)
    lines = []
    for n in range(6):
        body = json.dumps({"modelData": [[n]], "metaData": {"modelId": model_id}})
        # The echo model answers its body's length: lines 0-2 were answered so too, 3-5 otherwise.
        answer = json.dumps({"results": [len(body) if n < 3 else 7]})
        lines.append(_line(model_id, now + timedelta(milliseconds=n), n, body, answer))
    lines.append(_line(model_id, now + timedelta(milliseconds=7), 7, '{"cut', "{}", request_bytes=20000))
    lines.append(_line(model_id, now + timedelta(milliseconds=8), 8, "{}", "{}", status=404))
    events = [{"timestamp": int(now.timestamp() * 1000) + i, "message": m} for i, m in enumerate(lines)]
    logs.put_log_events(logGroupName=settings.request_log_group, logStreamName="api", logEvents=events)

    body = {"candidateVersion": candidate, "rule": {"kind": "tolerance", "absolute": 0.5}, "ratePerSecond": 100}
    created = post(client, f"/models/{model_id}/replays", body)
    assert created.status_code == 201, created.body
    assert deployed(client, model_id) == {1: 100, candidate: 0}
    port = echo.server_address[1]
    bindings = {"networkBindings": [{"bindIP": "127.0.0.1", "hostPort": port, "containerPort": 8080}]}
    healthy = {"lastStatus": "RUNNING", "desiredStatus": "RUNNING", "healthStatus": "HEALTHY"}
    send(client, task_event(settings, model_id, task_id="t2", model_version=candidate, container=bindings, **healthy))
    replay_id = created.json_body["replayId"]
    wiring.current().replays.run_due(budget_seconds=20)
    done = client.http.get(f"/models/{model_id}/replays/{replay_id}").json_body
    assert done["status"] == "SUCCEEDED", done
    assert done["progress"] == {"done": 7, "total": 7}
    assert done["counts"]["skipped"] == 1 and done["counts"]["errored"] == 0
    # The echo model also answers the request id it was sent, which a replay's own: every answer differs there.
    assert done["counts"]["differed"] == 6 and done["matchRate"] == 0.0
    largest = done["largest"][0]
    assert largest["where"] == "$.requestId" and largest["size"] is None
    assert largest["baselineBody"] != largest["candidateBody"] and largest["requestBody"].startswith('{"modelData"')
    assert done["baselineVersions"] == [1]
    assert done["baselineLatency"]["p50"] is not None and done["candidateLatency"]["p99"] is not None
    assert deployed(client, model_id) == {1: 100}
    assert client.http.get(f"/models/{model_id}/replays").json_body["items"][0]["replayId"] == replay_id
