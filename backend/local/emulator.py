"""The embedded AWS emulator: a moto server on loopback holding the project's tables, buckets, logs and cluster."""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError
from werkzeug.serving import BaseWSGIServer, make_server

from chalicelib import config, permissions
from chalicelib.adapters import dynamodb
from chalicelib.adapters.aws_errors import error_code
from chalicelib.adapters.clients import client
from chalicelib.config import Settings
from local.containers import PODMAN_HOST_LOOPBACK
from local.gate import PUBLIC_COGNITO_OPERATIONS, Gate, admitted_by_gate
from local.identities import ACCOUNT, Identities
from local.state import Pausable


def add_percentiles_to_cloudwatch() -> None:
    """Teach moto's CloudWatch the pNN statistics it lacks, so local charts show p50/p90/p99 too.

    moto computes Sum, Average, Minimum, Maximum and SampleCount only; a percentile query makes its
    GetMetricData fail. This fills the gap in the emulator, leaving the adapter's queries as on AWS.
    """
    from moto.cloudwatch import models

    original = models.Statistics.get_statistics_for_type
    if getattr(original, "with_percentiles", False):
        return

    def get_statistics_for_type(self: Any, stat: str) -> Any:
        if not (stat.startswith("p") and stat[1:].replace(".", "", 1).isdigit()):
            return original(self, stat)
        values = sorted(self.metric_single_values_list)
        if not values:
            return 0.0
        rank = max(0, min(len(values) - 1, math.ceil(float(stat[1:]) / 100 * len(values)) - 1))
        return values[rank]

    get_statistics_for_type.with_percentiles = True  # type: ignore[attr-defined]
    models.Statistics.get_statistics_for_type = get_statistics_for_type  # type: ignore[method-assign]  # the point


def add_revoke_token_to_cognito() -> None:
    """Teach moto's Cognito RevokeToken (moto 5.2.5 answers 500), so the console's sign-out revokes locally too.

    As on AWS, the refresh token stops minting access tokens; the access tokens already out stay
    valid until they expire.
    """
    from moto.cognitoidp import responses

    if hasattr(responses.CognitoIdpResponse, "revoke_token"):
        return

    def revoke_token(self: Any) -> str:
        token, client_id = self._get_param("Token"), self._get_param("ClientId")
        for pool in self.backend.user_pools.values():
            issued = pool.refresh_tokens.get(token)
            if issued is not None and issued[0] == client_id:
                pool.refresh_tokens[token] = None
        return "{}"

    responses.CognitoIdpResponse.revoke_token = revoke_token  # type: ignore[attr-defined]  # the point


UNBOUND_KEY = "no-role-bound"


def use_emulator(endpoint_url: str) -> None:
    """Point this process's AWS clients at the emulator, with credentials that can reach nothing else."""
    # Local mode must never touch a real AWS account, whatever credentials the shell holds.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            config.STAGE: os.environ.get(config.STAGE, "local"),
            config.AWS_ENDPOINT_URL: endpoint_url,
        }
    )
    os.environ[config.MODEL_TASK_BOUNDARY_ARN] = model_task_boundary_arn(os.environ[config.STAGE])
    os.environ.setdefault(config.REGION, "us-east-1")
    os.environ[config.ROLLOUT_TOPIC_ARN] = permissions.ROLLOUT_TOPIC.format(
        partition="aws", region=os.environ[config.REGION], account=ACCOUNT, prefix=f"kraken-{os.environ[config.STAGE]}"
    )


class Emulator:
    """A moto server in a background thread of this process, on a free 127.0.0.1 port, behind the gate.

    Set-up (tables, buckets, the user pool, the IAM identities) runs unauthenticated; `enforce` then
    turns on moto's IAM enforcement, after which every call must be signed by a known identity and
    allowed by its policy, and the gate refuses unsigned ones.
    """

    def __init__(self, console_origins: Sequence[str] = ()) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.gate = Gate(DomainDispatcherApplication(create_backend_app), console_origins)
        self.app = Pausable(self.gate)  # local.state saves the state between requests
        self._server: BaseWSGIServer | None = None
        self.endpoint_url = ""

    def start(self) -> str:
        from moto.moto_server.werkzeug_app import MotoRequestHandler

        add_percentiles_to_cloudwatch()
        add_revoke_token_to_cognito()
        admit_verified_presigned_requests()
        # werkzeug would log every emulated AWS call; only its problems are worth seeing.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=MotoRequestHandler)
        threading.Thread(target=self._server.serve_forever, name="emulator", daemon=True).start()
        host, port = str(self._server.server_address[0]), self._server.server_address[1]
        self.endpoint_url = f"http://{host}:{port}"
        # Containers on slirp4netns reach the host's loopback as 10.0.2.2; no browser sends that Host.
        self.gate.hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"{PODMAN_HOST_LOOPBACK}:{port}"})
        return self.endpoint_url

    def enforce(self, identities: Identities) -> None:
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin

        self.gate.identities = identities.secrets()
        self.gate.enforcing = True
        public = ActionAuthenticatorMixin.PUBLIC_OPERATIONS
        public += [name for name in PUBLIC_COGNITO_OPERATIONS if name not in public]
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()


def admit_verified_presigned_requests() -> None:
    """Let moto serve a presigned upload the gate has verified: unsigned, it would fail with a 500."""
    from moto.core.authorization import ActionAuthenticatorMixin

    original = ActionAuthenticatorMixin._authenticate_and_authorize_action
    if getattr(original, "kraken_gate", False):
        return

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if not admitted_by_gate():
            original(self, iam_request_cls, resource)

    authorize.kraken_gate = True  # type: ignore[attr-defined]
    ActionAuthenticatorMixin._authenticate_and_authorize_action = authorize  # type: ignore[method-assign]


def create_resources(settings: Settings, console_origins: list[str]) -> None:
    """Create what the CDK stack creates on AWS, from the same definitions, in the emulator; what a
    restored state already holds is kept (the CORS origins follow this start's port)."""
    dynamodb.configure(settings)
    dynamodb.create_tables()
    s3 = client("s3", settings)
    try:
        s3.create_bucket(Bucket=settings.artifact_bucket)
    except ClientError as error:
        if error_code(error) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    # Versioned, as the stack makes it: a runner reads the upload that was recorded, by its version.
    s3.put_bucket_versioning(Bucket=settings.artifact_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_cors(
        Bucket=settings.artifact_bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": console_origins,
                    "AllowedMethods": ["POST", "PUT", "GET", "HEAD"],
                    "AllowedHeaders": ["*"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )
    ecs = client("ecs", settings)
    if not ecs.describe_clusters(clusters=[settings.cluster])["clusters"]:
        ecs.create_cluster(clusterName=settings.cluster)
    logs = client("logs", settings)
    try:
        logs.create_log_group(logGroupName=settings.request_log_group)
    except ClientError as error:
        if error_code(error) != "ResourceAlreadyExistsException":
            raise
    logs.put_retention_policy(logGroupName=settings.request_log_group, retentionInDays=30)
    _create_model_task_boundary(settings)
    # The rollout topic, as the stack makes it (CreateTopic returns the existing one's ARN).
    client("sns", settings).create_topic(Name=permissions.ROLLOUT_TOPIC_NAME.format(prefix=f"kraken-{settings.stage}"))


def model_task_boundary_arn(stage: str) -> str:
    """The boundary policy's ARN in the emulator's account (CDK passes the stack's own)."""
    return permissions.MODEL_TASK_BOUNDARY.format(partition="aws", account=ACCOUNT, prefix=f"kraken-{stage}")


def _create_model_task_boundary(settings: Settings) -> None:
    """The managed policy every model role is made under, from the statements CDK makes it of."""
    prefix = f"kraken-{settings.stage}"
    values = {"partition": "aws", "bucket": settings.artifact_bucket}
    iam = client("iam", settings)
    try:
        iam.create_policy(
            PolicyName=permissions.MODEL_TASK_BOUNDARY_NAME.format(prefix=prefix),
            PolicyDocument=json.dumps(permissions.policy_document("model_task_boundary", values)),
        )
    except ClientError as error:
        if error_code(error) != "EntityAlreadyExists":
            raise


ADMIN_USER = "admin"
ROLE_GROUPS = ("admin", "editor", "viewer")
CONSOLE_CLIENT = "console"


def ensure_user_pool(settings: Settings, admin_password: str, keep_admin_password: bool = False) -> dict[str, str]:
    """The user pool with the role groups and an admin user (created, or found in a restored state);
    returns the settings that point the API at it.

    The admin's password is set to `admin_password` unless `keep_admin_password` and the admin
    already exists (a restored pool keeps the password the admin has, changed in the console or not).
    The emulator signs tokens with the real AWS issuer but serves the keys itself, so the issuer and
    the key set's URL are configured separately.
    """
    cognito = client("cognito-idp", settings)
    pool_name = f"kraken-{settings.stage}"
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((pool["Id"] for pool in pools if pool["Name"] == pool_name), None)
    if pool_id is None:
        pool_id = cognito.create_user_pool(
            PoolName=pool_name,
            Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": False, "RequireSymbols": False}},
        )["UserPool"]["Id"]
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == CONSOLE_CLIENT), None)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=CONSOLE_CLIENT,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            PreventUserExistenceErrors="ENABLED",
        )["UserPoolClient"]["ClientId"]
    groups = {group["GroupName"] for group in cognito.list_groups(UserPoolId=pool_id)["Groups"]}
    for group in ROLE_GROUPS:
        if group not in groups:
            cognito.create_group(UserPoolId=pool_id, GroupName=group)
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=ADMIN_USER)
    except cognito.exceptions.UserNotFoundException:
        cognito.admin_create_user(UserPoolId=pool_id, Username=ADMIN_USER, MessageAction="SUPPRESS")
        keep_admin_password = False
    if not keep_admin_password:
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=ADMIN_USER, Password=admin_password, Permanent=True
        )
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=ADMIN_USER, GroupName="admin")
    return {
        config.USER_POOL_ID: pool_id,
        config.USER_POOL_CLIENT_ID: client_id,
        config.TOKEN_ISSUER: f"https://cognito-idp.{settings.region}.amazonaws.com/{pool_id}",
        config.JWKS_URL: f"{settings.aws_endpoint_url}/{pool_id}/.well-known/jwks.json",
    }


def start_local_aws(
    console_origins: list[str], admin_password: str, keep_admin_password: bool = False
) -> tuple[Emulator, Settings, Identities]:
    """Local mode's AWS: the emulator with the stage's resources and user pool (any state restored
    into moto before this call is kept), this process pointed at it, one IAM identity per role, and
    IAM enforcement on from here on."""
    emulator = Emulator(console_origins)
    use_emulator(emulator.start())
    os.environ.update(ensure_user_pool(config.from_environment(), admin_password, keep_admin_password))
    settings = config.from_environment()
    create_resources(settings, console_origins)
    identities = Identities(client("iam", settings), settings)
    emulator.enforce(identities)  # every later call is signed by a role and judged by its policy
    # A call signed from the environment from here on is a bug: with the runner's keys it would act
    # as the model task. Keys the emulator knows nobody by make it fail loudly instead.
    os.environ.update({"AWS_ACCESS_KEY_ID": UNBOUND_KEY, "AWS_SECRET_ACCESS_KEY": UNBOUND_KEY})
    return emulator, settings, identities
