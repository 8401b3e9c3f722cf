"""The lifecycle on the AWS path: ECS services on moto, task events through the real EventBridge handler."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import boto3
import pytest
import requests
from chalice.test import Client

from chalicelib import config, wiring
from chalicelib.adapters.cloudwatch_logs import stream_name
from chalicelib.adapters.ecs import family as ecs_family
from tests.functional.conftest import ACCOUNT
from tests.functional.test_models_api import DIAMONDS, assert_error, post, put


def upload(client: Client, model_id: str, content: bytes) -> None:
    ticket = post(client, f"/models/{model_id}/artifact", {}).json_body
    response = requests.post(
        ticket["url"], data=ticket["fields"], files={"file": ("model.joblib", content)}, timeout=10
    )
    assert response.status_code in (200, 204), response.text
    assert ticket["maxBytes"] == 500 * 1024 * 1024


def task_event(settings: config.Settings, model_id: str, **detail: Any) -> dict[str, Any]:
    task_id = detail.pop("task_id", "0123456789abcdef")
    family = ecs_family(settings, model_id, detail.pop("model_version", 1))
    container = {"name": "model", **detail.pop("container", {})}
    return {
        "version": "0",
        "id": "e1",
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": ACCOUNT,
        "time": "2026-11-21T05:00:00Z",
        "region": settings.region,
        "resources": [],
        "detail": {
            "clusterArn": f"arn:aws:ecs:{settings.region}:{ACCOUNT}:cluster/{settings.cluster}",
            "taskArn": f"arn:aws:ecs:{settings.region}:{ACCOUNT}:task/{settings.cluster}/{task_id}",
            "group": f"service:{family}",
            "taskDefinitionArn": f"arn:aws:ecs:{settings.region}:{ACCOUNT}:task-definition/{family}:1",
            "containers": [container],
            **detail,
        },
    }


def running(settings: config.Settings, model_id: str, ip: str = "10.20.1.7", **detail: Any) -> dict[str, Any]:
    return task_event(
        settings,
        model_id,
        **detail,
        lastStatus="RUNNING",
        desiredStatus="RUNNING",
        healthStatus="HEALTHY",
        container={"networkInterfaces": [{"privateIpv4Address": ip}]},
    )


def send(client: Client, event: dict[str, Any]) -> None:
    client.lambda_.invoke("task_state_change", event)


def model(client: Client, model_id: str) -> dict[str, Any]:
    return client.http.get(f"/models/{model_id}").json_body


def started_model(client: Client) -> str:
    model_id = post(client, "/models", DIAMONDS).json_body["id"]
    upload(client, model_id, b"fake model bytes")
    assert post(client, f"/models/{model_id}/start", {}).status_code == 202
    return model_id


def test_start_needs_an_uploaded_artifact(ecs_api: tuple[Client, config.Settings]) -> None:
    client, _ = ecs_api
    model_id = post(client, "/models", DIAMONDS).json_body["id"]
    error = assert_error(post(client, f"/models/{model_id}/start", {}), 409, "conflict")
    assert "artifact" in error["message"]
    assert model(client, model_id)["status"] == "STOPPED"


def test_upload_is_recorded_with_size_and_time(ecs_api: tuple[Client, config.Settings]) -> None:
    client, _ = ecs_api
    model_id = post(client, "/models", DIAMONDS).json_body["id"]
    assert model(client, model_id)["artifact"] is None
    upload(client, model_id, b"x" * 1234)
    artifact = model(client, model_id)["artifact"]
    assert artifact["size"] == 1234 and artifact["uploadedAt"].endswith("Z")


def test_image_models_take_no_artifact(ecs_api: tuple[Client, config.Settings]) -> None:
    client, _ = ecs_api
    body = {**DIAMONDS, "artifactFormat": None, "dockerImage": "repo/model:1"}
    model_id = post(client, "/models", body).json_body["id"]
    assert_error(post(client, f"/models/{model_id}/artifact", {}), 409, "conflict")


def test_start_creates_one_service_from_the_record(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    # moto does not echo every CreateService setting back, so the request itself is observed.
    sent: list[dict[str, Any]] = []
    wiring.current().client("ecs").meta.events.register(
        "provide-client-params.ecs.CreateService", lambda params, **_: sent.append(dict(params))
    )
    model_id = started_model(client)
    assert model(client, model_id)["status"] == "PENDING"
    # A change never leaves the version without a healthy task: new tasks start beside the old ones.
    assert sent[0]["deploymentConfiguration"]["maximumPercent"] == 200
    assert sent[0]["deploymentConfiguration"]["minimumHealthyPercent"] == 100
    assert sent[0]["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    ecs = boto3.client("ecs", region_name=settings.region)
    family = ecs_family(settings, model_id, 1)
    service = ecs.describe_services(cluster=settings.cluster, services=[family])["services"][0]
    assert service["desiredCount"] == 1
    # On Fargate through the cluster's capacity providers (moto does not keep the strategy: the call says it).
    assert sent[0]["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE", "weight": 1}]
    assert "launchType" not in sent[0]
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    assert network["assignPublicIp"] == "DISABLED"
    assert network["subnets"] == list(settings.subnets) and network["securityGroups"] == [settings.task_security_group]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert (definition["cpu"], definition["memory"]) == ("512", "1024")
    assert definition["networkMode"] == "awsvpc" and definition["requiresCompatibilities"] == ["FARGATE"]
    # The task acts as the model's own role, made by the start under the stage's boundary: it reads only
    # this model's artifacts.
    role_name = f"kraken-{settings.stage}-model-{model_id}"
    assert definition["taskRoleArn"] == f"arn:aws:iam::123456789012:role/{role_name}"
    iam = boto3.client("iam", region_name=settings.region)
    role = iam.get_role(RoleName=role_name)["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == settings.model_task_boundary_arn
    own = iam.get_role_policy(RoleName=role_name, PolicyName="own-artifacts")["PolicyDocument"]
    assert [s["Resource"] for s in own["Statement"]] == [
        [f"arn:aws:s3:::{settings.artifact_bucket}/models/{model_id}/*"]
    ]
    container = definition["containerDefinitions"][0]
    assert container["image"] == settings.runner_image
    assert container["portMappings"][0]["containerPort"] == 8080
    env = {e["name"]: e["value"] for e in container["environment"]}
    # The exact upload that was recorded (the bucket is versioned), whatever lands on the key later.
    key = f"models/{model_id}/versions/1/artifact"
    recorded = boto3.client("s3", region_name=settings.region).head_object(Bucket=settings.artifact_bucket, Key=key)
    assert env["KRAKEN_ARTIFACT_URI"] == f"s3://{settings.artifact_bucket}/{key}?versionId={recorded['VersionId']}"
    assert env["KRAKEN_ARTIFACT_FORMAT"] == "joblib" and env["KRAKEN_MODEL_PORT"] == "8080"
    assert "/health" in " ".join(container["healthCheck"]["command"])
    assert container["logConfiguration"]["options"]["awslogs-group"] == settings.model_log_group(model_id)
    groups = boto3.client("logs", region_name=settings.region).describe_log_groups(
        logGroupNamePrefix=settings.model_log_group(model_id)
    )["logGroups"]
    assert groups[0]["retentionInDays"] == settings.model_log_retention_days

    # Starting again is a no-op: still one service, still PENDING.
    assert post(client, f"/models/{model_id}/start", {}).json_body["status"] == "PENDING"
    assert len(ecs.list_services(cluster=settings.cluster)["serviceArns"]) == 1


def test_task_events_drive_the_status(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    model_id = started_model(client)
    send(client, running(settings, model_id))
    record = model(client, model_id)
    assert record["status"] == "RUNNING" and record["statusReason"] is None

    assert post(client, f"/models/{model_id}/stop", {}).json_body["status"] == "STOPPING"
    ecs = boto3.client("ecs", region_name=settings.region)
    family = ecs_family(settings, model_id, 1)
    assert ecs.describe_services(cluster=settings.cluster, services=[family])["services"][0]["desiredCount"] == 0
    send(
        client, task_event(settings, model_id, lastStatus="STOPPED", desiredStatus="STOPPED", stopCode="UserInitiated")
    )
    assert model(client, model_id)["status"] == "STOPPED"
    actions = [(e["action"], e["toStatus"]) for e in client.http.get(f"/models/{model_id}/logs").json_body["items"]]
    assert actions[:4] == [
        ("transition", "STOPPED"),
        ("stop", "STOPPING"),
        ("transition", "RUNNING"),
        ("start", "PENDING"),
    ]


def test_a_crash_is_failed_with_the_runners_reason_then_recovers(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    model_id = started_model(client)
    send(client, running(settings, model_id))
    logs = boto3.client("logs", region_name=settings.region)
    group, stream = settings.model_log_group(model_id), stream_name("deadbeef")
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    message = "KRAKEN_FAILURE: artifact could not be loaded as joblib: UnpicklingError: invalid load key"
    logs.put_log_events(
        logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": int(time.time() * 1000), "message": message}]
    )
    send(
        client,
        task_event(
            settings,
            model_id,
            task_id="deadbeef",
            lastStatus="STOPPED",
            desiredStatus="RUNNING",
            stopCode="EssentialContainerExited",
            stoppedReason="Essential container in task exited",
            # Any crash but the runner's "cannot load" (exit 3), which is final: see the next test.
            container={"exitCode": 1},
        ),
    )
    record = model(client, model_id)
    assert record["status"] == "FAILED" and record["failedForGood"] is False
    assert record["statusReason"] == "artifact could not be loaded as joblib: UnpicklingError: invalid load key"
    send(client, running(settings, model_id, ip="10.20.1.9"))
    assert model(client, model_id)["status"] == "RUNNING"


def test_an_artifact_that_cannot_load_stops_the_service_until_started_again(
    ecs_api: tuple[Client, config.Settings],
) -> None:
    client, settings = ecs_api
    model_id = started_model(client)
    cannot_load = task_event(
        settings,
        model_id,
        lastStatus="STOPPED",
        desiredStatus="RUNNING",
        stopCode="EssentialContainerExited",
        container={"exitCode": 3},
    )
    send(client, cannot_load)
    record = model(client, model_id)
    assert record["status"] == "FAILED" and record["failedForGood"] is True
    ecs = boto3.client("ecs", region_name=settings.region)
    family = ecs_family(settings, model_id, 1)
    assert ecs.describe_services(cluster=settings.cluster, services=[family])["services"][0]["desiredCount"] == 0
    send(client, cannot_load)  # ECS's own retries end in the same way: no second row, no restart
    log = client.http.get(f"/models/{model_id}/logs?limit=100").json_body["items"]
    assert [e["toStatus"] for e in log if e["action"] == "transition"] == ["FAILED"]
    assert post(client, f"/models/{model_id}/start", {}).json_body["status"] == "PENDING"
    assert ecs.describe_services(cluster=settings.cluster, services=[family])["services"][0]["desiredCount"] == 1


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        (
            {
                "stoppedReason": "OutOfMemoryError: Container killed",
                "container": {"exitCode": 137, "reason": "OutOfMemoryError: Container killed due to memory usage"},
            },
            "out of memory",
        ),
        (
            {"stopCode": "TaskFailedToStart", "stoppedReason": "CannotPullContainerError: pull access denied"},
            "cannot be pulled",
        ),
        ({"stoppedReason": "Task failed container health checks"}, "health check failing"),
        ({"container": {"exitCode": 2}}, "exited with code 2"),
    ],
)
def test_failure_reasons_say_what_to_fix(
    ecs_api: tuple[Client, config.Settings], detail: dict[str, Any], expected: str
) -> None:
    client, settings = ecs_api
    model_id = started_model(client)
    send(client, task_event(settings, model_id, lastStatus="STOPPED", desiredStatus="RUNNING", **detail))
    record = model(client, model_id)
    assert record["status"] == "FAILED" and expected in record["statusReason"]


def test_events_of_other_clusters_are_ignored(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    model_id = started_model(client)
    event = running(settings, model_id)
    event["detail"]["clusterArn"] = f"arn:aws:ecs:{settings.region}:{ACCOUNT}:cluster/someone-else"
    send(client, event)
    assert model(client, model_id)["status"] == "PENDING"


def test_reconciler_repairs_drift(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    model_id = started_model(client)
    send(client, running(settings, model_id))
    # moto never launches a service's tasks, so the runtime reports none: the RUNNING record has drifted.
    client.lambda_.invoke("reconcile", client.events.generate_cw_event("aws.events", "Scheduled Event", {}, []))
    record = model(client, model_id)
    assert record["status"] == "FAILED" and "gone" in record["statusReason"]
    entries = client.http.get(f"/models/{model_id}/logs?limit=1").json_body
    assert entries["items"][0]["actor"] == "system:reconciler" and entries["nextToken"]


def test_a_stuck_start_fails_after_the_timeout(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    model_id = started_model(client)
    wiring.install(wiring.Wiring(dataclasses.replace(settings, start_timeout_seconds=0)))
    client.lambda_.invoke("reconcile", client.events.generate_cw_event("aws.events", "Scheduled Event", {}, []))
    record = model(client, model_id)
    assert record["status"] == "FAILED" and "did not become healthy" in record["statusReason"]


def test_force_delete_stops_and_cleans_up(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    model_id = started_model(client)
    send(client, running(settings, model_id))
    iam = boto3.client("iam", region_name=settings.region)
    role_name = f"kraken-{settings.stage}-model-{model_id}"
    assert role_name in {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert_error(client.http.delete(f"/models/{model_id}"), 409, "conflict")
    assert client.http.delete(f"/models/{model_id}?force=true").status_code == 204
    assert_error(client.http.get(f"/models/{model_id}"), 404, "not_found")
    ecs = boto3.client("ecs", region_name=settings.region)
    family = ecs_family(settings, model_id, 1)
    services = ecs.describe_services(cluster=settings.cluster, services=[family])["services"]
    assert all(s["status"] != "ACTIVE" for s in services)
    s3 = boto3.client("s3", region_name=settings.region)
    assert (
        s3.list_object_versions(Bucket=settings.artifact_bucket, Prefix=f"models/{model_id}/").get("Versions") is None
    )
    assert role_name not in {r["RoleName"] for r in iam.list_roles()["Roles"]}  # the model's role goes with it
    # The last container's events arrive after the record is gone and change nothing.
    send(client, task_event(settings, model_id, lastStatus="STOPPED", desiredStatus="STOPPED"))


def test_operations_log_pages_newest_first(ecs_api: tuple[Client, config.Settings]) -> None:
    client, _ = ecs_api
    model_id = post(client, "/models", DIAMONDS).json_body["id"]
    for version in ("2", "3", "4"):
        client.http.put(
            f"/models/{model_id}", headers={"Content-Type": "application/json"}, body=json.dumps({"version": version})
        )
    first = client.http.get(f"/models/{model_id}/logs?limit=2").json_body
    second = client.http.get(f"/models/{model_id}/logs?limit=2&nextToken={first['nextToken']}").json_body
    entries = first["items"] + second["items"]
    assert [e["action"] for e in entries] == ["update", "update", "update", "create"]
    assert entries[0]["at"] >= entries[-1]["at"]
    assert_error(client.http.get("/models/nope/logs"), 404, "not_found")


def test_a_two_version_deployment_runs_a_rolling_service_per_version(ecs_api: tuple[Client, config.Settings]) -> None:
    """What Fargate needs for weighted versions: one service per version, sized and rolling without a gap."""
    client, settings = ecs_api
    sent: list[tuple[str, dict[str, Any]]] = []
    events = wiring.current().client("ecs").meta.events
    for operation in ("CreateService", "UpdateService"):
        events.register(
            f"provide-client-params.ecs.{operation}", lambda params, op=operation, **_: sent.append((op, dict(params)))
        )
    model_id = started_model(client)
    send(client, running(settings, model_id))
    version = post(client, f"/models/{model_id}/versions", {"notes": "retrained"})
    assert version.status_code == 201 and version.json_body["number"] == 2
    ticket = post(client, f"/models/{model_id}/versions/2/artifact", {}).json_body
    requests.post(ticket["url"], data=ticket["fields"], files={"file": ("m", b"v2 bytes")}, timeout=10)
    revision = model(client, model_id)["revision"]
    body = {
        "versions": [
            {"version": 1, "weight": 60, "replicas": 3},
            {"version": 2, "weight": 40, "replicas": 3, "containerCpu": 1, "containerMemory": 2},
        ],
        "message": "A/B",
    }
    changed = client.http.put(
        f"/models/{model_id}/deployment",
        headers={"Content-Type": "application/json", "If-Match": f'"{revision}"'},
        body=json.dumps(body),
    )
    assert changed.status_code == 202, changed.body
    ecs = boto3.client("ecs", region_name=settings.region)
    names = [ecs_family(settings, model_id, v) for v in (1, 2)]
    services = {
        s["serviceName"]: s for s in ecs.describe_services(cluster=settings.cluster, services=names)["services"]
    }
    assert [services[n]["desiredCount"] for n in names] == [3, 3]
    for _, params in sent:
        assert params["deploymentConfiguration"] == {
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        }
    assert [op for op, _ in sent] == ["CreateService", "UpdateService", "CreateService"]
    definition = ecs.describe_task_definition(taskDefinition=services[names[1]]["taskDefinition"])["taskDefinition"]
    assert (definition["cpu"], definition["memory"]) == ("1024", "2048")
    env = {e["name"]: e["value"] for e in definition["containerDefinitions"][0]["environment"]}
    assert f"/models/{model_id}/versions/2/artifact?versionId=" in env["KRAKEN_ARTIFACT_URI"]

    # Version 2 gets traffic only once a task of it is healthy; version 1 serves everything meanwhile.
    shown = {d["version"]: d for d in model(client, model_id)["deployment"]}
    assert (shown[1]["servingWeight"], shown[2]["servingWeight"], shown[2]["status"]) == (100, 0, "PENDING")
    send(client, running(settings, model_id, ip="10.20.1.9", model_version=2, task_id="fedcba9876543210"))
    shown = {d["version"]: d for d in model(client, model_id)["deployment"]}
    assert (shown[1]["servingWeight"], shown[2]["servingWeight"]) == (60, 40)
    assert not shown[1]["leaving"] and not shown[2]["leaving"]
    history = client.http.get(f"/models/{model_id}/history").json_body["items"]
    assert [e["action"] for e in history] == ["deploy", "start"] and history[0]["message"] == "A/B"

    # Promoting version 2 alone: version 1 is shown leaving (no traffic) until its service is retired.
    revision = model(client, model_id)["revision"]
    body = {"versions": [{"version": 2, "weight": 100, "replicas": 3, "containerCpu": 1, "containerMemory": 2}]}
    promoted = client.http.put(
        f"/models/{model_id}/deployment",
        headers={"Content-Type": "application/json", "If-Match": f'"{revision}"'},
        body=json.dumps({**body, "message": "promote"}),
    )
    assert promoted.status_code == 202, promoted.body
    shown = {d["version"]: d for d in model(client, model_id)["deployment"]}
    assert (shown[1]["leaving"], shown[1]["weight"], shown[1]["servingWeight"]) == (True, 0, 0)
    assert (shown[2]["leaving"], shown[2]["servingWeight"]) == (False, 100)


def test_a_model_s_cost_follows_its_deployment_and_running_time(ecs_api: tuple[Client, config.Settings]) -> None:
    client, _ = ecs_api
    model_id = post(client, "/models", {**DIAMONDS, "name": "priced"}).json_body["id"]
    idle = client.http.get(f"/models/{model_id}/cost").json_body
    assert idle["running"] is False and idle["monthToDate"] == 0 and idle["hourly"] == 0
    assert idle["currency"] == "USD" and idle["pricedAs"] == "us-east-1" and idle["pricesAsOf"]
    assert idle["perThousandPredictions"]["containers"] is None
    assert idle["perThousandPredictions"]["apiGateway"] == pytest.approx(0.0035)

    upload(client, model_id, b"fake model bytes")
    assert post(client, f"/models/{model_id}/start", {}).status_code == 202
    time.sleep(0.05)
    running = client.http.get(f"/models/{model_id}/cost").json_body
    # One replica of 0.5 vCPU and 1 GB: 0.5 x 0.04048 + 1 x 0.004445 per hour, accruing since the start.
    assert running["running"] is True and running["hourly"] == pytest.approx(0.024685)
    assert running["spotHourly"] == pytest.approx(0.024685 * 0.3)
    assert 0 < running["monthToDate"] < 0.024685 / 3600 * 60
    assert client.http.get("/models/nope/cost").status_code == 404


def _deploy(client: Client, model_id: str, versions: list[dict[str, Any]]) -> Any:
    revision = model(client, model_id)["revision"]
    return client.http.put(
        f"/models/{model_id}/deployment",
        headers={"Content-Type": "application/json", "If-Match": f'"{revision}"'},
        body=json.dumps({"versions": versions, "message": "autoscale"}),
    )


def test_an_autoscaled_version_gets_bounds_and_target_tracking_until_it_stops(
    ecs_api: tuple[Client, config.Settings],
) -> None:
    client, settings = ecs_api
    model_id = started_model(client)
    send(client, running(settings, model_id))
    autoscaling = {"minReplicas": 1, "maxReplicas": 3, "targetCpuPercent": 60, "targetRequestsPerReplica": 20}
    changed = _deploy(client, model_id, [{"version": 1, "weight": 100, "replicas": 5, "autoscaling": autoscaling}])
    assert changed.status_code == 202, changed.body
    shown = model(client, model_id)["deployment"][0]
    assert shown["autoscaling"] == {**autoscaling, "targetCpuPercent": 60.0, "targetRequestsPerReplica": 20.0}
    assert shown["replicas"] == 3  # the count it starts at, within its bounds

    service = ecs_family(settings, model_id, 1)
    scaling = boto3.client("application-autoscaling", region_name=settings.region)
    resource = f"service/{settings.cluster}/{service}"
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"], target["ScalableDimension"]) == (
        1,
        3,
        "ecs:service:DesiredCount",
    )
    policies = {
        p["PolicyName"]: p["TargetTrackingScalingPolicyConfiguration"]
        for p in scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"]
    }
    cpu, requests_policy = policies[f"{service}-cpu"], policies[f"{service}-requests-per-replica"]
    assert cpu["TargetValue"] == 60 and cpu["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "ECSServiceAverageCPUUtilization"
    )
    assert requests_policy["TargetValue"] == 20 and (cpu["ScaleInCooldown"], cpu["ScaleOutCooldown"]) == (300, 60)
    history = client.http.get(f"/models/{model_id}/history").json_body["items"]
    assert history[0]["spec"][0]["autoscaling"]["maxReplicas"] == 3  # a rollback restores it too

    # Without a CPU target that policy goes; stopping removes the scalable target before the count drops to 0.
    only_requests = {**autoscaling, "targetCpuPercent": None}
    assert _deploy(client, model_id, [{"version": 1, "weight": 100, "autoscaling": only_requests}]).status_code == 202
    names = [p["PolicyName"] for p in scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]]
    assert names == [f"{service}-requests-per-replica"]
    post(client, f"/models/{model_id}/stop", {})
    assert scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"] == []


def test_a_count_application_auto_scaling_set_is_in_the_operations_log_once(
    ecs_api: tuple[Client, config.Settings],
) -> None:
    client, settings = ecs_api
    model_id = started_model(client)
    autoscaling = {"minReplicas": 1, "maxReplicas": 4, "targetCpuPercent": 60}
    assert _deploy(client, model_id, [{"version": 1, "weight": 100, "autoscaling": autoscaling}]).status_code == 202

    def reconcile() -> list[dict[str, Any]]:
        client.lambda_.invoke("reconcile", client.events.generate_cw_event("aws.events", "Scheduled Event", {}, []))
        entries = client.http.get(f"/models/{model_id}/logs?limit=50").json_body["items"]
        return [e for e in entries if e["action"] == "scale"]

    assert reconcile() == []  # the deployment's own count is a person's change, not a scaling action
    # Target tracking acts on the service itself (moto cannot run the policy, so its write is made here).
    ecs = boto3.client("ecs", region_name=settings.region)
    ecs.update_service(cluster=settings.cluster, service=ecs_family(settings, model_id, 1), desiredCount=3)
    (scaled,) = reconcile()
    assert scaled["actor"] == "system:autoscaler" and scaled["result"] == "version 1: 1 -> 3 replicas"
    assert "target tracking (CPU 60%) within 1..4 replicas" in scaled["reason"]
    assert len(reconcile()) == 1  # seen once, logged once


@pytest.mark.parametrize(
    ("autoscaling", "field"),
    [
        ({"minReplicas": 3, "maxReplicas": 2, "targetCpuPercent": 50}, "versions[0].autoscaling.minReplicas"),
        ({"minReplicas": 1, "maxReplicas": 2}, "versions[0].autoscaling.targetCpuPercent"),
        ({"minReplicas": 1, "maxReplicas": 11, "targetCpuPercent": 50}, "versions.0.autoscaling.maxReplicas"),
        ({"minReplicas": 1, "maxReplicas": 2, "targetCpuPercent": 100}, "versions.0.autoscaling.targetCpuPercent"),
    ],
)
def test_bad_autoscaling_is_a_422_naming_the_field_and_changes_nothing(
    ecs_api: tuple[Client, config.Settings], autoscaling: dict[str, Any], field: str
) -> None:
    client, _ = ecs_api
    model_id = started_model(client)
    before = model(client, model_id)
    answer = _deploy(client, model_id, [{"version": 1, "weight": 100, "autoscaling": autoscaling}])
    assert_error(answer, 422, "validation_error")
    assert field in [d["field"] for d in answer.json_body["error"]["details"]], answer.json_body
    assert model(client, model_id)["revision"] == before["revision"]


def test_a_version_on_spot_runs_on_fargate_spot_and_costs_spot_prices(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    sent: list[tuple[str, dict[str, Any]]] = []
    events = wiring.current().client("ecs").meta.events
    for operation in ("CreateService", "UpdateService"):
        events.register(
            f"provide-client-params.ecs.{operation}", lambda params, op=operation, **_: sent.append((op, dict(params)))
        )
    model_id = started_model(client)
    send(client, running(settings, model_id))
    on_demand = client.http.get(f"/models/{model_id}/cost").json_body["hourly"]
    assert _deploy(client, model_id, [{"version": 1, "weight": 100, "spot": True}]).status_code == 202
    operation, params = sent[-1]
    assert operation == "UpdateService" and params["forceNewDeployment"] is True
    assert params["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    shown = model(client, model_id)["deployment"][0]
    assert shown["spot"] is True
    cost = client.http.get(f"/models/{model_id}/cost").json_body
    assert cost["hourly"] == pytest.approx(on_demand * 0.3) and cost["spotHourly"] == pytest.approx(on_demand * 0.3)
    history = client.http.get(f"/models/{model_id}/history").json_body["items"]
    assert history[0]["spec"][0]["spot"] is True  # a rollback restores where it ran too


def test_a_private_registrys_credentials_go_to_ecs_and_never_come_back(ecs_api: tuple[Client, config.Settings]) -> None:
    client, settings = ecs_api
    body = {**DIAMONDS, "artifactFormat": None, "dockerImage": "registry.example.com/team/model:1"}
    model_id = post(client, "/models", body).json_body["id"]
    password = "pull-secret-value-91"
    credentials = {"username": "robot$team", "password": password}
    assert_error(put(client, "/models/no-such-model/registry-credentials", credentials), 404, "not_found")
    assert_error(put(client, f"/models/{model_id}/registry-credentials", {"username": "u"}), 422, "validation_error")
    stored = put(client, f"/models/{model_id}/registry-credentials", credentials)
    assert stored.status_code == 200 and stored.json_body["privateRegistry"] is True
    secrets = boto3.client("secretsmanager", region_name=settings.region)
    name = f"{settings.registry_secret_prefix}{model_id}"
    assert json.loads(secrets.get_secret_value(SecretId=name)["SecretString"]) == credentials
    arn = secrets.describe_secret(SecretId=name)["ARN"]
    # Replaced in place: the secret (and so every task definition naming it) stays the same.
    credentials["password"] = password = "rotated-pull-secret-92"
    assert put(client, f"/models/{model_id}/registry-credentials", credentials).status_code == 200
    assert secrets.describe_secret(SecretId=name)["ARN"] == arn
    for path in (f"/models/{model_id}", f"/models/{model_id}/logs", "/models", f"/models/{model_id}/history"):
        assert password not in client.http.get(path).body.decode(), path

    assert post(client, f"/models/{model_id}/start", {}).status_code == 202
    ecs = boto3.client("ecs", region_name=settings.region)
    service = ecs.describe_services(cluster=settings.cluster, services=[ecs_family(settings, model_id, 1)])["services"][
        0
    ]
    container = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert container["containerDefinitions"][0]["repositoryCredentials"] == {"credentialsParameter": arn}

    assert client.http.delete(f"/models/{model_id}?force=true").status_code == 204
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        secrets.describe_secret(SecretId=name)


def test_an_image_without_credentials_is_pulled_with_the_execution_role(
    ecs_api: tuple[Client, config.Settings],
) -> None:
    client, settings = ecs_api
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/model:1"
    model_id = post(client, "/models", {**DIAMONDS, "artifactFormat": None, "dockerImage": image}).json_body["id"]
    stored = put(client, f"/models/{model_id}/registry-credentials", {"username": "u", "password": "p"})
    assert stored.json_body["privateRegistry"] is True
    cleared = client.http.delete(f"/models/{model_id}/registry-credentials")
    assert cleared.status_code == 200 and cleared.json_body["privateRegistry"] is False
    assert post(client, f"/models/{model_id}/start", {}).status_code == 202
    ecs = boto3.client("ecs", region_name=settings.region)
    service = ecs.describe_services(cluster=settings.cluster, services=[ecs_family(settings, model_id, 1)])["services"][
        0
    ]
    container = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert "repositoryCredentials" not in container["containerDefinitions"][0]
    assert container["containerDefinitions"][0]["image"] == image
    assert "taskRoleArn" not in container  # an image model's containers get no AWS identity at all


def test_a_secret_env_value_goes_to_ecs_as_a_secret_and_never_comes_back(
    ecs_api: tuple[Client, config.Settings],
) -> None:
    client, settings = ecs_api
    value = "sk-live-0123456789abcdef"
    env = {"LOG_LEVEL": "info", "API_KEY": {"secret": True, "value": value}}
    created = post(client, "/models", {**DIAMONDS, "env": env})
    assert created.status_code == 201
    model_id = created.json_body["id"]
    shown = {"LOG_LEVEL": "info", "API_KEY": {"secret": True}}
    assert created.json_body["env"] == shown
    assert value not in json.dumps(created.json_body)
    secrets = boto3.client("secretsmanager", region_name=settings.region)
    listed = secrets.list_secrets()["SecretList"]
    mine = [s for s in listed if s["Name"].startswith(f"{settings.env_secret_prefix}{model_id}/API_KEY-")]
    assert len(mine) == 1 and secrets.get_secret_value(SecretId=mine[0]["ARN"])["SecretString"] == value

    # Sending back what was answered keeps the stored value; a secret to keep that does not exist is a 422.
    kept = put(client, f"/models/{model_id}", {"env": shown})
    assert kept.status_code == 200 and kept.json_body["env"] == shown
    missing = assert_error(
        put(client, f"/models/{model_id}", {"env": {"OTHER": {"secret": True}}}), 422, "validation_error"
    )
    assert missing["details"] == [
        {"field": "env.OTHER", "message": "no secret is stored under this name to keep: give its value"}
    ]
    assert model(client, model_id)["env"] == shown  # and nothing changed
    assert len(secrets.list_secrets()["SecretList"]) == len(listed)  # nothing was stored for it

    upload(client, model_id, b"model bytes")  # makes version 1, which keeps the secret by reference
    assert model(client, model_id)["versions"][0]["env"] == shown
    assert post(client, f"/models/{model_id}/start", {}).status_code == 202
    ecs = boto3.client("ecs", region_name=settings.region)
    service = ecs.describe_services(cluster=settings.cluster, services=[ecs_family(settings, model_id, 1)])["services"][
        0
    ]
    container = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"][
        "containerDefinitions"
    ][0]
    assert container["secrets"] == [{"name": "API_KEY", "valueFrom": mine[0]["ARN"]}]
    assert {e["name"]: e["value"] for e in container["environment"]}.get("API_KEY") is None
    assert value not in json.dumps(container)
    # A new version may bring its own value: a new secret; version 1 keeps its own.
    second = post(client, f"/models/{model_id}/versions", {"env": {"API_KEY": {"secret": True, "value": "v2-key"}}})
    assert second.status_code == 201 and second.json_body["env"] == {"API_KEY": {"secret": True}}
    assert len([s for s in secrets.list_secrets()["SecretList"] if model_id in s["Name"]]) == 2

    post(client, f"/models/{model_id}/stop", {})
    assert client.http.delete(f"/models/{model_id}?force=true").status_code == 204
    remaining = [s["Name"] for s in secrets.list_secrets()["SecretList"]]
    assert not [name for name in remaining if name.startswith(f"{settings.env_secret_prefix}{model_id}/")]
