"""The emulator with IAM enforcement on: roles judged by chalicelib.permissions, the gate closed to strangers."""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib import config
from chalicelib.adapters.clients import client
from local.emulator import Emulator, create_resources, use_emulator
from local.identities import Identities
from tests.conftest import kept_environment

ORIGIN = "http://127.0.0.1:9"
FARGATE_SMALLEST = {"container_cpu": 0.25, "container_memory": 0.5}


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[Emulator, Identities]]:
    # use_emulator points this process at the emulator through its environment: none of it outlives the module.
    with kept_environment(), pytest.MonkeyPatch.context() as monkeypatch:
        yield from _enforcing_emulator(monkeypatch)


def _enforcing_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, Identities]]:
    from moto import settings as moto_settings

    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", float("inf"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", config.STAGE, config.AWS_ENDPOINT_URL):
        monkeypatch.setenv(name, "x")  # use_emulator overwrites them; monkeypatch restores them
    emulator = Emulator([ORIGIN])
    use_emulator(emulator.start())
    settings = config.from_environment()
    create_resources(settings, [ORIGIN])
    identities = Identities(client("iam", settings), settings)
    emulator.enforce(identities)
    try:
        yield emulator, identities
    finally:
        emulator.stop()


def _s3(emulator: Emulator, identities: Identities, role: str):  # type: ignore[no-untyped-def]
    identity = identities.by_role[role]
    return _s3_signed_with(emulator, identity.access_key, identity.secret_key)


def _s3_signed_with(emulator: Emulator, key: str, secret: str, token: str | None = None):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(signature_version="s3v4"),
    )


def _model_roles(settings: config.Settings, identities: Identities):  # type: ignore[no-untyped-def]
    from chalicelib.adapters.iam import IamModelRoles

    iam = client("iam", settings, identities.fixed("api_handler"))  # the API's keys, judged by its policy
    return IamModelRoles(iam, settings.stage, settings.artifact_bucket, settings.model_task_boundary_arn)


def _model_s3(emulator: Emulator, identities: Identities, model_id: str):  # type: ignore[no-untyped-def]
    """S3 as a model's containers see it: a session of the model's own role, made as a start makes it."""
    from local.identities import model_session

    settings = config.from_environment()
    role = _model_roles(settings, identities).ensure(model_id)
    keys = model_session(role, f"replica-of-{model_id}", settings.region)
    return _s3_signed_with(emulator, keys.access_key, keys.secret_key, keys.token)


def test_a_role_may_do_what_its_policy_grants_and_nothing_more(emulator) -> None:  # type: ignore[no-untyped-def]
    server, identities = emulator
    bucket = config.from_environment().artifact_bucket
    api = _s3(server, identities, "api_handler")
    api.put_object(Bucket=bucket, Key="models/m1/artifact", Body=b"x")
    api.list_object_versions(Bucket=bucket, Prefix="models/m1/")  # s3:ListBucketVersions, granted
    api.put_object(Bucket=bucket, Key="models/m2/artifact", Body=b"another model's")
    runner = _model_s3(server, identities, "m1")
    assert runner.get_object(Bucket=bucket, Key="models/m1/artifact")["Body"].read() == b"x"
    for refused_call in (
        lambda: runner.put_object(Bucket=bucket, Key="models/m1/artifact", Body=b"overwritten"),
        lambda: runner.get_object(Bucket=bucket, Key="models/m2/artifact"),  # each model reads only its own
    ):
        with pytest.raises(ClientError) as refused:
            refused_call()
        assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_a_model_role_is_made_under_the_boundary_and_removed_with_its_model(emulator) -> None:  # type: ignore[no-untyped-def]
    from moto.iam.models import iam_backends

    from local.identities import ACCOUNT

    _, identities = emulator
    settings = config.from_environment()
    emulated_iam = iam_backends[ACCOUNT]["aws"]
    roles = _model_roles(settings, identities)
    arn = roles.ensure("m3")
    assert roles.ensure("m3") == arn  # idempotent: every start repeats it
    name = arn.rsplit("/", 1)[1]
    assert name == f"kraken-{settings.stage}-model-m3"
    made = emulated_iam.get_role(name)
    assert made.permissions_boundary["PermissionsBoundaryArn"] == settings.model_task_boundary_arn
    assert json.loads(made.assume_role_policy_document)["Statement"][0]["Principal"] == {
        "Service": "ecs-tasks.amazonaws.com"
    }
    roles.remove("m3")
    roles.remove("m3")  # a repeated delete finds nothing and is fine
    assert name not in {role.name for role in emulated_iam.roles.values()}


def test_a_presigned_upload_is_held_to_its_policy_as_s3_does(emulator) -> None:  # type: ignore[no-untyped-def]
    """Empty or oversized files get S3's 400 and its error code (readable by the console); a forged
    signature gets nothing; a good upload lands."""
    import requests

    from chalicelib.adapters.s3 import S3ArtifactStore

    server, identities = emulator
    store = S3ArtifactStore(_s3(server, identities, "api_handler"), config.from_environment().artifact_bucket)
    ticket = store.upload_ticket("m-upload", 1, max_bytes=10)

    def post(content: bytes, **changed: str) -> requests.Response:
        fields = {**ticket.fields, **changed}
        return requests.post(
            ticket.url, data=fields, files={"file": ("model", content)}, headers={"Origin": ORIGIN}, timeout=10
        )

    for content, code in ((b"", "EntityTooSmall"), (b"x" * 11, "EntityTooLarge")):
        refused = post(content)
        assert refused.status_code == 400 and f"<Code>{code}</Code>" in refused.text
        assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert store.describe("m-upload", 1) is None
    assert post(b"x", **{"x-amz-signature": "0" * 64}).status_code == 403
    assert post(b"0123456789").status_code in (200, 204)
    assert store.describe("m-upload", 1).size == 10


def test_unsigned_admin_calls_and_foreign_origins_are_refused(emulator) -> None:  # type: ignore[no-untyped-def]
    server, _ = emulator
    request = urllib.request.Request(
        server.endpoint_url + "/",
        data=json.dumps({"UserPoolId": "x", "Username": "intruder"}).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.AdminCreateUser",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(request, timeout=5)
    assert unsigned.value.code == 403
    for origin, expected in ((ORIGIN, 204), ("http://evil.example", 403)):
        preflight = urllib.request.Request(
            server.endpoint_url + "/",
            method="OPTIONS",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        try:
            with urllib.request.urlopen(preflight, timeout=5) as response:
                status, allowed = response.status, response.headers.get("Access-Control-Allow-Origin")
        except urllib.error.HTTPError as error:
            status, allowed = error.code, error.headers.get("Access-Control-Allow-Origin")
        assert status == expected
        assert allowed == (origin if expected == 204 else None)
    closed = urllib.request.Request(server.endpoint_url + "/moto-api/reset", method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError) as control:
        urllib.request.urlopen(closed, timeout=5)
    assert control.value.code == 403


def test_the_local_reconciler_repairs_drift_within_its_interval(emulator, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A record RUNNING whose container is gone: the schedule's handler, as local mode runs it, notices."""
    from chalicelib import wiring
    from chalicelib.domain.deployments import settle, sole_deployment, version_from_settings, with_state
    from chalicelib.domain.lifecycle import RECONCILER_ACTOR
    from chalicelib.domain.models import ArtifactFormat, ModelStatus, VersionState
    from local.identities import acting_as
    from local.wiring import RECONCILE_SECONDS, LocalWiring

    _, identities = emulator
    services = LocalWiring(config.from_environment(), identities)
    wiring.install(services)
    try:
        with acting_as("api_handler"):
            spec = {
                "name": "drift",
                "version": "1",
                "container_port": 8080,
                "container_cpu": 0.25,
                "container_memory": 0.5,
                "artifact_format": ArtifactFormat.JOBLIB,
            }
            record = services.registry.create(spec, actor="test")
            # What a lost task event leaves behind: a RUNNING version, with an endpoint no container serves.
            version = version_from_settings(record, "test", record.created_at, "")
            deployment = sole_deployment(record, version)
            served = dataclasses.replace(record, versions=(version,), deployment=deployment, serving=deployment)
            state = VersionState(version.number, ModelStatus.RUNNING, endpoints=("127.0.0.1:9",))
            drifted = settle(with_state(served, state), record.created_at)
            assert drifted.status is ModelStatus.RUNNING
            services._tables.DynamoModelRepository().replace(drifted, record.revision)
        monkeypatch.setenv(RECONCILE_SECONDS, "0.2")
        services.start_reconciler()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with acting_as("api_handler"):
                current = services.registry.get(record.id)
            if current.status is not ModelStatus.RUNNING:
                break
            time.sleep(0.1)
        assert current.status in (ModelStatus.FAILED, ModelStatus.PENDING), current.status
        with acting_as("api_handler"):
            history = services.operations.list(record.id, 20, None).items
        assert any(entry.actor == RECONCILER_ACTOR for entry in history), history
    finally:
        services.shutdown()
        wiring.install(None)


def test_a_grant_removed_from_the_api_role_fails_naming_the_action(emulator, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from botocore.credentials import Credentials
    from moto import settings as moto_settings

    from chalicelib import permissions
    from chalicelib.adapters.s3 import S3ArtifactStore
    from chalicelib.domain.errors import Misconfigured
    from local.calls import CallLog, ungranted
    from local.identities import acting_as, emulator_policy, policy_values

    settings = config.from_environment()
    values = policy_values(settings, "123456789012")
    tables = [f"arn:aws:dynamodb:{settings.region}:123456789012:table/{settings.models_table}"]
    document = permissions.policy_document("api_handler", values, tables=tables, task_roles=["*"])
    for statement in document["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != "s3:ListBucketVersions"]
    with monkeypatch.context() as setup:  # creating an IAM user is set-up, as in local mode's start
        setup.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", float("inf"))
        iam = boto3.client("iam", endpoint_url=settings.aws_endpoint_url, region_name=settings.region)
        iam.create_user(UserName="api-without-list-versions")
        policy = json.dumps(emulator_policy(document))
        iam.put_user_policy(UserName="api-without-list-versions", PolicyName="api", PolicyDocument=policy)
        key = iam.create_access_key(UserName="api-without-list-versions")["AccessKey"]
    s3 = client("s3", settings, Credentials(key["AccessKeyId"], key["SecretAccessKey"]))
    calls = CallLog(tmp_path / "calls.txt")
    calls.watch(s3)
    # A missing grant is a misconfiguration (a 500 whose log names the action), not "try again".
    with acting_as("api_handler"), pytest.raises(Misconfigured) as failed:
        S3ArtifactStore(s3, settings.artifact_bucket).delete("m1")
    calls.close()
    assert isinstance(failed.value.__cause__, ClientError)
    assert failed.value.__cause__.response["Error"]["Code"] == "AccessDenied"
    granted = {"api_handler": frozenset(a for s in document["Statement"] for a in s["Action"])}
    assert ungranted((tmp_path / "calls.txt").read_text().splitlines(), granted) == [
        "api_handler calls s3:ListBucketVersions, which its role does not grant"
    ]


def test_a_rebuilt_table_connection_still_signs_as_the_functions_role(emulator, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """PynamoDB rebuilds a table's connection from the default chain; in local mode that chain held the
    runner's keys, so every DynamoDB call became the model task's and was refused. It must not matter."""
    from chalicelib import wiring
    from chalicelib.adapters import dynamodb
    from local.identities import acting_as
    from local.wiring import LocalWiring

    _, identities = emulator
    other = identities.by_role["task_execution"]  # another role's keys, as the environment once held
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", other.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", other.secret_key)
    services = LocalWiring(config.from_environment(), identities)
    wiring.install(services)
    try:
        with acting_as("api_handler"):
            spec = {"name": "rebuilt", "version": "1", "docker_image": "i:1", "container_port": 80, **FARGATE_SMALLEST}
            created = services.registry.create(spec, "t")
            for item_class in dynamodb.ALL_ITEM_CLASSES:
                item_class._connection = None  # what PynamoDB does when it decides to reconnect
            assert services.registry.get(created.id).name == "rebuilt"
            assert services.operations.list(created.id, 5, None).items
    finally:
        services.shutdown()
        wiring.install(None)
