"""The embedded AWS emulator: a moto server on loopback holding the project's tables, buckets, logs and cluster."""

from __future__ import annotations

import logging
import math
import os
from typing import Any

from moto.server import ThreadedMotoServer

from chalicelib import config
from chalicelib.adapters import dynamodb
from chalicelib.adapters.clients import client
from chalicelib.config import Settings


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
    os.environ.setdefault(config.REGION, "us-east-1")


class Emulator:
    """A moto server in a background thread of this process, on a free 127.0.0.1 port."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint_url = ""

    def start(self) -> str:
        add_percentiles_to_cloudwatch()
        # werkzeug would log every emulated AWS call; only its problems are worth seeing.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        return self.endpoint_url

    def stop(self) -> None:
        self._server.stop()


def create_resources(settings: Settings, console_origins: list[str]) -> None:
    """Create what the CDK stack creates on AWS, from the same definitions, in the emulator."""
    dynamodb.configure(settings)
    dynamodb.create_tables()
    s3 = client("s3", settings)
    s3.create_bucket(Bucket=settings.artifact_bucket)
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
    client("ecs", settings).create_cluster(clusterName=settings.cluster)
    logs = client("logs", settings)
    logs.create_log_group(logGroupName=settings.request_log_group)
    logs.put_retention_policy(logGroupName=settings.request_log_group, retentionInDays=30)


ADMIN_USER = "admin"
ROLE_GROUPS = ("admin", "editor", "viewer")


def create_user_pool(settings: Settings, admin_password: str) -> dict[str, str]:
    """A user pool with the role groups and an admin user; returns the settings that point the API at it.

    The emulator signs tokens with the real AWS issuer but serves the keys itself, so the issuer and
    the key set's URL are configured separately.
    """
    cognito = client("cognito-idp", settings)
    pool_id = cognito.create_user_pool(
        PoolName=f"kraken-{settings.stage}",
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": False, "RequireSymbols": False}},
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="console",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]["ClientId"]
    for group in ROLE_GROUPS:
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    cognito.admin_create_user(UserPoolId=pool_id, Username=ADMIN_USER, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=ADMIN_USER, Password=admin_password, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=ADMIN_USER, GroupName="admin")
    return {
        config.USER_POOL_ID: pool_id,
        config.USER_POOL_CLIENT_ID: client_id,
        config.TOKEN_ISSUER: f"https://cognito-idp.{settings.region}.amazonaws.com/{pool_id}",
        config.JWKS_URL: f"{settings.aws_endpoint_url}/{pool_id}/.well-known/jwks.json",
    }
