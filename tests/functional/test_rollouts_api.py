"""Rollouts through the API on moto: bad plans and wrong states are refused and change nothing; pause, resume,
promote and abort move the weights as they say, each in the history, the operations log and the SNS topic."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib import config, wiring
from tests.functional.test_gateway import running_model
from tests.functional.test_lifecycle_ecs import model
from tests.functional.test_models_api import DIAMONDS, assert_error, post
from tests.functional.test_replays_api import deployed, second_version


@pytest.fixture
def serving(ecs_api: tuple[Client, config.Settings], echo: ThreadingHTTPServer) -> tuple[Client, config.Settings, str]:
    client, settings = ecs_api
    return client, settings, running_model(ecs_api, echo.server_address[1])


@pytest.fixture
def published(serving: tuple[Client, config.Settings, str]) -> Callable[[], list[dict[str, Any]]]:
    """What reaches the rollout topic: an SQS queue subscribed to it; the API wired to that topic."""
    _, settings, _ = serving
    sns = boto3.client("sns", region_name=settings.region)
    topic = sns.create_topic(Name=f"kraken-{settings.stage}-rollouts")["TopicArn"]
    sqs = boto3.client("sqs", region_name=settings.region)
    queue = sqs.create_queue(QueueName="rollout-notices")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    wiring.install(wiring.Wiring(dataclasses.replace(wiring.current().settings, rollout_topic_arn=topic)))
    notices: list[dict[str, Any]] = []

    def read() -> list[dict[str, Any]]:
        while got := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            notices.extend(json.loads(m["Body"]) for m in got)
            sqs.delete_message_batch(
                QueueUrl=queue, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)]
            )
        return notices

    return read


def plan(candidate: int, **changes: Any) -> dict[str, Any]:
    return {"candidateVersion": candidate, "steps": [10, 50, 100], "bakeSeconds": 60, **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"steps": [50, 10, 100]}, "steps"),
        ({"steps": [10, 50]}, "steps"),
        ({"steps": []}, "steps"),
        ({"steps": [0, 100]}, "steps"),
        ({"steps": [*range(1, 12), 100]}, "steps"),
        ({"bakeSeconds": 4}, "bakeSeconds"),
        ({"guardrails": {"max5xxRate": 1.5}}, "guardrails.max5xxRate"),
        ({"guardrails": {"maxP99Ratio": 0.5}}, "guardrails.maxP99Ratio"),
        ({"guardrails": {"minRequests": 0}}, "guardrails.minRequests"),
        ({"guardrails": {"max5XxRate": 0.1}}, "guardrails.max5XxRate"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_plan_is_a_422_naming_the_field_and_changes_nothing(
    serving: tuple[Client, config.Settings, str], changes: dict[str, Any], field: str
) -> None:
    client, _, model_id = serving
    candidate = second_version(client, model_id)
    before = model(client, model_id)["revision"]
    error = assert_error(
        post(client, f"/models/{model_id}/rollout", plan(candidate, **changes)), 422, "validation_error"
    )
    assert any(d["field"].startswith(field) for d in error["details"]), error
    assert model(client, model_id)["revision"] == before and model(client, model_id)["rollout"] is None
    assert_error(client.http.get(f"/models/{model_id}/rollout"), 404, "not_found")


def test_a_rollout_needs_a_known_version_a_running_model_and_one_version_with_all_the_traffic(
    serving: tuple[Client, config.Settings, str],
) -> None:
    client, _, model_id = serving
    assert_error(post(client, "/models/nope/rollout", plan(2)), 404, "not_found")
    assert (
        "no version 9"
        in assert_error(post(client, f"/models/{model_id}/rollout", plan(9)), 404, "not_found")["message"]
    )
    same = assert_error(post(client, f"/models/{model_id}/rollout", plan(1)), 409, "conflict")
    assert "already has all the traffic" in same["message"]
    empty = second_version(client, model_id, with_artifact=False)
    assert (
        "no artifact"
        in assert_error(post(client, f"/models/{model_id}/rollout", plan(empty)), 409, "conflict")["message"]
    )

    stopped = post(client, "/models", {**DIAMONDS, "name": "resting"}).json_body["id"]
    resting = second_version(client, stopped)
    assert (
        "STOPPED" in assert_error(post(client, f"/models/{stopped}/rollout", plan(resting)), 409, "conflict")["message"]
    )
    for verb in ("pause", "resume", "promote", "abort"):
        assert_error(post(client, f"/models/{model_id}/rollout/{verb}", {}), 404, "not_found")
    assert deployed(client, model_id) == {1: 100} and model(client, model_id)["rollout"] is None


def test_people_pause_resume_and_abort_a_rollout_and_each_decision_is_told(
    serving: tuple[Client, config.Settings, str], published: Callable[[], list[dict[str, Any]]]
) -> None:
    client, _, model_id = serving
    candidate = second_version(client, model_id)
    started = post(client, f"/models/{model_id}/rollout", plan(candidate, message="canary of the retrain"))
    assert started.status_code == 201, started.body
    rollout = started.json_body
    assert rollout["status"] == "RUNNING" and rollout["step"] == 0 and rollout["baselineVersion"] == 1
    assert rollout["guardrails"] == {
        "max5xxRate": 0.01,
        "max4xxIncrease": 0.05,
        "maxP99Ratio": 1.5,
        "minMatchRate": None,
        "minRequests": 20,
    }
    assert deployed(client, model_id) == {1: 90, candidate: 10}
    again = assert_error(post(client, f"/models/{model_id}/rollout", plan(candidate)), 409, "conflict")
    assert "promote or abort it first" in again["message"]
    assert_error(post(client, f"/models/{model_id}/rollout/resume", {}), 409, "conflict")

    paused = post(client, f"/models/{model_id}/rollout/pause", {})
    assert paused.status_code == 200 and paused.json_body["status"] == "PAUSED"
    assert_error(post(client, f"/models/{model_id}/rollout/pause", {}), 409, "conflict")
    resumed = post(client, f"/models/{model_id}/rollout/resume", {})
    assert resumed.json_body["status"] == "RUNNING" and resumed.json_body["stepStartedAt"] is None
    aborted = post(client, f"/models/{model_id}/rollout/abort", {})
    assert aborted.status_code == 200, aborted.body
    assert aborted.json_body["status"] == "ABORTED" and "aborted by hand" in aborted.json_body["reason"]
    assert [d["verdict"] for d in aborted.json_body["decisions"]] == ["advance", "pause", "resume", "abort"]
    assert deployed(client, model_id) == {1: 100}
    assert_error(post(client, f"/models/{model_id}/rollout/promote", {}), 409, "conflict")

    history = client.http.get(f"/models/{model_id}/history").json_body["items"]
    assert [e["action"] for e in history[:2]] == ["rollout-rollback", "rollout"]
    assert "canary of the retrain" in history[1]["message"]
    notices = published()
    verdicts = [n["MessageAttributes"]["verdict"]["Value"] for n in notices]
    assert verdicts == ["advance", "pause", "resume", "abort"], verdicts
    assert all(n["MessageAttributes"]["modelId"]["Value"] == model_id for n in notices)
    assert "aborted by hand" in notices[-1]["Message"]


def test_promote_gives_the_candidate_all_the_traffic_at_once(serving: tuple[Client, config.Settings, str]) -> None:
    client, _, model_id = serving
    candidate = second_version(client, model_id)
    assert post(client, f"/models/{model_id}/rollout", plan(candidate)).status_code == 201
    promoted = post(client, f"/models/{model_id}/rollout/promote", {})
    assert promoted.json_body["status"] == "SUCCEEDED" and promoted.json_body["endedAt"] is not None
    assert deployed(client, model_id) == {candidate: 100}
    assert model(client, model_id)["rollout"]["status"] == "SUCCEEDED"
