"""One source for a model's fields: the record defines them, and the schema, storage and defaults follow."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chalicelib.adapters.dynamodb import _to_item, _to_record
from chalicelib.domain.models import (
    SETTING_FIELDS,
    ArtifactFormat,
    ArtifactInfo,
    DeployedVersion,
    ModelRecord,
    ModelStatus,
    ModelVersion,
    Schedule,
    ScheduleAction,
    VersionState,
    Visibility,
    setting_default,
)
from chalicelib.schemas.models import CreateModelRequest, ModelResponse, UpdateModelRequest

AT = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def a_record_unlike_the_defaults() -> ModelRecord:
    return ModelRecord(
        id="m-1",
        name="diamonds",
        version="2.1",
        description="prices",
        docker_image=None,
        artifact_format=ArtifactFormat.ONNX,
        container_port=9000,
        container_cpu=1.0,
        container_memory=2.0,
        env={"MODE": "fast"},
        predict_path="/v1/predict",
        health_path="/v1/health",
        status=ModelStatus.RUNNING,
        status_reason="because",
        created_by="ann",
        updated_by="bob",
        created_at=AT,
        updated_at=AT,
        revision=7,
        predict_timeout_seconds=10.5,
        capture_body_bytes=0,
        endpoint_visibility=Visibility.PUBLIC,
        endpoints=("10.0.0.1:9000", "10.0.0.2:9000"),
        status_changed_at=AT,
        versions=(
            ModelVersion(1, "first", "ann", AT, None, ArtifactFormat.ONNX, 9000, {"MODE": "fast"}, "/p", "/h",
                         ArtifactInfo(123, AT, "ab" * 32)),
            ModelVersion(2, "", "bob", AT, "repo/image:2", None, 8000, {}, "/predict", "/health",
                         artifact_pending_since=AT, artifact_of=1),
        ),
        deployment=(DeployedVersion(1, 90, 3, 1.0, 2.0), DeployedVersion(2, 10, 1, 0.5, 1.0)),
        serving=(DeployedVersion(1, 100, 2, 1.0, 2.0),),
        version_states=(
            VersionState(1, ModelStatus.RUNNING, None, ("10.0.0.1:9000", "10.0.0.2:9000"), False, AT),
            VersionState(2, ModelStatus.FAILED, "out of memory", (), True, AT),
        ),
        retire_after=AT,
        schedules=(Schedule(ScheduleAction.START, "0 8 * * 1-5", "Europe/Berlin"),
                   Schedule(ScheduleAction.STOP, "0 18 * * *")),
        schedule_checked_at=AT,
    )  # fmt: skip


def test_every_field_survives_storage() -> None:
    record = a_record_unlike_the_defaults()
    assert _to_record(_to_item(record)) == record


def test_an_item_written_before_a_field_existed_reads_back_with_its_default() -> None:
    item = _to_item(a_record_unlike_the_defaults())
    item.capture_body_bytes = None  # as DynamoDB returns an attribute the item lacks
    item.endpoints = None
    restored = _to_record(item)
    assert restored.capture_body_bytes == setting_default("capture_body_bytes")
    assert restored.endpoints == ()


def test_the_schema_offers_every_setting_and_shows_every_field() -> None:
    assert set(CreateModelRequest.model_fields) == set(SETTING_FIELDS)
    assert set(UpdateModelRequest.model_fields) == set(SETTING_FIELDS) | {"revision"}
    shown = set(ModelResponse.model_fields)
    # Per-version states are shown inside `deployment`; what serves during a switch too.
    # Up to when schedules have been fired is the reconciler's business.
    # Where the registry credentials are is shown only as `privateRegistry`: never a secret's reference.
    hidden = {"endpoints", "status_changed_at", "serving", "version_states", "retire_after", "schedule_checked_at"}
    hidden.add("registry_secret")
    # Secret env values are shown inside `env` as {"secret": true}: never their references.
    hidden.add("secret_env")
    assert "private_registry" in shown
    assert {f.name for f in dataclasses.fields(ModelRecord)} - shown == hidden


def test_defaults_are_the_records_own() -> None:
    request = CreateModelRequest.model_validate(
        {"name": "m", "version": "1", "artifactFormat": "joblib", "containerPort": 8080, "containerCpu": 0.5,
         "containerMemory": 1}
    )  # fmt: skip
    record = ModelRecord.new("id", "ann", AT, request.model_dump())
    for name in SETTING_FIELDS:
        if name not in request.model_fields_set:
            assert getattr(record, name) == setting_default(name), name


def test_a_partial_update_keeps_each_fields_rules() -> None:
    with pytest.raises(ValidationError):
        UpdateModelRequest.model_validate({"containerPort": 70000})
    with pytest.raises(ValidationError):
        UpdateModelRequest.model_validate({"env": {"KRAKEN_X": "1"}})
    assert UpdateModelRequest.model_validate({"description": "x"}).changes() == {"description": "x"}
