"""Start/stop schedules on the AWS path: the reconcile function fires a due schedule once, through the lifecycle."""

from __future__ import annotations

import concurrent.futures
from datetime import timedelta
from typing import Any

import boto3
from chalice.test import Client

from chalicelib import config, tables, wiring
from chalicelib.domain.clock import to_iso, utc_now
from chalicelib.domain.lifecycle import IDLE_ACTOR
from tests.functional.test_lifecycle_ecs import model, running, send, task_event, upload
from tests.functional.test_models_api import DIAMONDS, assert_error, post, put


def reconcile(client: Client) -> None:
    client.lambda_.invoke("reconcile", client.events.generate_cw_event("aws.events", "Scheduled Event", {}, []))


def half_an_hour_away() -> str:
    """An hourly cron whose runs are 30 minutes from now, so none falls due while a test runs."""
    return f"{(utc_now().minute + 30) % 60} * * * *"


def as_if_checked_long_ago(settings: config.Settings, model_id: str) -> None:
    """Move the last check back past the schedule's last run, as if the reconciler had not run since."""
    boto3.client("dynamodb", region_name=settings.region).update_item(
        TableName=settings.models_table,
        Key={"id": {"S": model_id}},
        UpdateExpression="SET scheduleCheckedAt = :at",
        ExpressionAttributeValues={":at": {"S": to_iso(utc_now() - timedelta(minutes=61))}},
    )


def schedule_rows(client: Client, model_id: str) -> list[dict[str, Any]]:
    rows = client.http.get(f"/models/{model_id}/logs?limit=100").json_body["items"]
    return [row for row in rows if row["action"] == "schedule"]


def test_a_due_start_fires_on_a_round_and_only_once(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    cron = half_an_hour_away()
    created = post(client, "/models", {**DIAMONDS, "schedules": [{"action": "start", "cron": cron}]}).json_body
    model_id = created["id"]
    [shown] = created["schedules"]
    assert shown["action"] == "start" and shown["timezone"] == "UTC" and shown["nextRun"] > to_iso(utc_now())
    upload(client, model_id, b"fake model bytes")

    reconcile(client)  # a model created now does not fire for times before it
    assert model(client, model_id)["status"] == "STOPPED" and schedule_rows(client, model_id) == []

    as_if_checked_long_ago(settings, model_id)
    reconcile(client)
    assert model(client, model_id)["status"] == "PENDING"
    [fired] = schedule_rows(client, model_id)
    assert fired["actor"] == "system:schedule" and fired["toStatus"] == "PENDING"
    assert fired["result"].startswith(f"schedule 1 (start at '{cron}' UTC) due ") and fired["result"].endswith("fired")
    rows = client.http.get(f"/models/{model_id}/logs?limit=100").json_body["items"]
    assert any(row["action"] == "start" and row["actor"] == "system:schedule" for row in rows)

    reconcile(client)
    assert len(schedule_rows(client, model_id)) == 1, "a second round must not fire it again"


def test_a_start_without_an_artifact_is_logged_and_other_models_still_fire(
    ecs_api: tuple[Client, config.Settings],
) -> None:
    client, settings = ecs_api
    cron = half_an_hour_away()
    schedules = [{"action": "start", "cron": cron}]
    ready = post(client, "/models", {**DIAMONDS, "schedules": schedules}).json_body["id"]
    upload(client, ready, b"fake model bytes")
    # Newer, so the reconciler's newest-first query reaches it first.
    empty = post(client, "/models", {**DIAMONDS, "name": "no-file", "schedules": schedules}).json_body["id"]
    for model_id in (ready, empty):
        as_if_checked_long_ago(settings, model_id)
    reconcile(client)

    [refused] = schedule_rows(client, empty)
    assert refused["result"].endswith("not done") and "upload the model's artifact first" in refused["reason"]
    assert model(client, empty)["status"] == "STOPPED"
    assert model(client, ready)["status"] == "PENDING"


def test_a_stop_schedule_stops_a_started_model(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    model_id = post(client, "/models", DIAMONDS).json_body["id"]
    upload(client, model_id, b"fake model bytes")
    assert post(client, f"/models/{model_id}/start", {}).status_code == 202
    changed = put(client, f"/models/{model_id}", {"schedules": [{"action": "stop", "cron": half_an_hour_away()}]})
    assert changed.status_code == 200, changed.json_body
    as_if_checked_long_ago(settings, model_id)
    reconcile(client)
    assert model(client, model_id)["status"] in ("STOPPING", "STOPPED")
    assert schedule_rows(client, model_id)[0]["result"].endswith("fired")


def test_a_bad_schedule_is_refused_naming_the_field_and_changes_nothing(
    ecs_api: tuple[Client, config.Settings],
) -> None:
    client, _ = ecs_api
    good = [{"action": "stop", "cron": "0 18 * * 1-5", "timezone": "Europe/Berlin"}]
    created = post(client, "/models", {**DIAMONDS, "schedules": good}).json_body
    bad = [*good, {"action": "start", "cron": "0 8 * * 1-5", "timezone": "Europe/Atlantis"}]
    error = assert_error(put(client, f"/models/{created['id']}", {"schedules": bad}), 422, "validation_error")
    assert [d["field"] for d in error["details"]] == ["schedules.1.timezone"]
    assert "IANA name" in error["details"][0]["message"]
    error = assert_error(put(client, f"/models/{created['id']}", {"schedules": [{"action": "start", "cron": "8am"}]}),
                         422, "validation_error")  # fmt: skip
    assert [d["field"] for d in error["details"]] == ["schedules.0.cron"]
    after = model(client, created["id"])
    assert after["revision"] == created["revision"]
    assert [(s["action"], s["cron"], s["timezone"]) for s in after["schedules"]] == [
        ("stop", "0 18 * * 1-5", "Europe/Berlin")
    ]


def test_only_scheduled_models_are_in_the_schedule_index(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    plain = post(client, "/models", DIAMONDS).json_body["id"]
    schedules = [{"action": "start", "cron": "0 8 * * *"}]
    scheduled = post(client, "/models", {**DIAMONDS, "name": "timed", "schedules": schedules}).json_body["id"]
    found = boto3.client("dynamodb", region_name=settings.region).query(
        TableName=settings.models_table,
        IndexName=tables.MODELS_BY_SCHEDULE.name,
        KeyConditionExpression="scheduleKey = :key",
        ExpressionAttributeValues={":key": {"S": tables.MODEL_SCHEDULE_KEY_VALUE}},
    )["Items"]
    assert [item["id"]["S"] for item in found] == [scheduled]
    # Clearing the schedules takes the model out of the index again.
    assert put(client, f"/models/{scheduled}", {"schedules": []}).status_code == 200
    assert model(client, scheduled)["schedules"] == [] and model(client, plain)["schedules"] == []
    found = boto3.client("dynamodb", region_name=settings.region).query(
        TableName=settings.models_table,
        IndexName=tables.MODELS_BY_SCHEDULE.name,
        KeyConditionExpression="scheduleKey = :key",
        ExpressionAttributeValues={":key": {"S": tables.MODEL_SCHEDULE_KEY_VALUE}},
    )["Items"]
    assert found == []


def test_a_models_table_from_before_schedules_gets_the_index(aws: config.Settings) -> None:
    """Local mode restores its saved tables; one made before the index existed gets it at the next start."""
    from chalicelib.adapters import dynamodb

    client = boto3.client("dynamodb", region_name=aws.region)
    client.update_table(
        TableName=aws.models_table,
        GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": tables.MODELS_BY_SCHEDULE.name}}],
    )

    def indexes() -> set[str]:
        described = client.describe_table(TableName=aws.models_table)["Table"]
        return {index["IndexName"] for index in described["GlobalSecondaryIndexes"]}

    assert tables.MODELS_BY_SCHEDULE.name not in indexes()
    dynamodb.configure(aws)
    dynamodb.create_tables()
    assert indexes() == {index.name for index in tables.MODELS.indexes}


def test_an_idle_model_is_started_by_a_start_schedule_and_stopped_for_good_by_a_stop(
    ecs_api: tuple[Client, config.Settings],
) -> None:
    client, settings = ecs_api
    model_id = post(client, "/models", DIAMONDS).json_body["id"]
    upload(client, model_id, b"fake model bytes")

    def rest_idle() -> None:
        """Run the model, then let the idle stop rest it (the reconciler's own call) until its task has ended."""
        if model(client, model_id)["status"] != "PENDING":
            assert post(client, f"/models/{model_id}/start", {}).status_code == 202
        send(client, running(settings, model_id))
        wiring.current().lifecycle.stop(model_id, IDLE_ACTOR, idle_minutes=5)
        send(client, task_event(settings, model_id, lastStatus="STOPPED", desiredStatus="STOPPED"))
        assert model(client, model_id)["status"] == "IDLE"

    def fire(action: str) -> None:
        changed = put(client, f"/models/{model_id}", {"schedules": [{"action": action, "cron": half_an_hour_away()}]})
        assert changed.status_code == 200, changed.json_body
        as_if_checked_long_ago(settings, model_id)
        reconcile(client)

    rest_idle()
    fire("start")
    assert model(client, model_id)["status"] == "PENDING"
    rest_idle()
    fire("stop")
    record = model(client, model_id)
    assert record["status"] == "STOPPED" and record["idleSince"] is None
    assert [row["toStatus"] for row in schedule_rows(client, model_id)] == ["STOPPED", "PENDING"]


def test_reconcilers_racing_fire_a_due_schedule_once(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    schedules = [{"action": "start", "cron": half_an_hour_away()}]
    model_id = post(client, "/models", {**DIAMONDS, "schedules": schedules}).json_body["id"]
    upload(client, model_id, b"fake model bytes")
    as_if_checked_long_ago(settings, model_id)
    services = wiring.current()
    # The upload is recorded before the race, so the race is only over the schedule.
    services.lifecycle.refresh_artifact(services.registry.get(model_id))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for done in [pool.submit(services.schedules.run_due) for _ in range(4)]:
            done.result()
    assert len(schedule_rows(client, model_id)) == 1
    rows = client.http.get(f"/models/{model_id}/logs?limit=100").json_body["items"]
    assert [row["result"] for row in rows if row["action"] == "start"] == ["accepted"]
