"""Every environment variable the API reads, named once and read once into a frozen Settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

# Names of the environment variables; the CDK stack and local mode set them from these constants.
STAGE = "KRAKEN_STAGE"
MODELS_TABLE = "KRAKEN_MODELS_TABLE"
ARTIFACT_BUCKET = "KRAKEN_ARTIFACT_BUCKET"
CLUSTER = "KRAKEN_CLUSTER"
AWS_ENDPOINT_URL = "KRAKEN_AWS_ENDPOINT_URL"
OPERATIONS_TABLE = "KRAKEN_OPERATIONS_TABLE"
OPERATIONS_TTL_DAYS = "KRAKEN_OPERATIONS_TTL_DAYS"
ARTIFACT_MAX_BYTES = "KRAKEN_ARTIFACT_MAX_BYTES"
RUNNER_IMAGE = "KRAKEN_RUNNER_IMAGE"
TASK_EXECUTION_ROLE_ARN = "KRAKEN_TASK_EXECUTION_ROLE_ARN"
# The permissions boundary every model's own role is made under (permissions.MODEL_TASK_BOUNDARY).
MODEL_TASK_BOUNDARY_ARN = "KRAKEN_MODEL_TASK_BOUNDARY_ARN"
SUBNETS = "KRAKEN_SUBNETS"
TASK_SECURITY_GROUP = "KRAKEN_TASK_SECURITY_GROUP"
MODEL_LOG_RETENTION_DAYS = "KRAKEN_MODEL_LOG_RETENTION_DAYS"
START_TIMEOUT_SECONDS = "KRAKEN_START_TIMEOUT_SECONDS"
# The API function's memory, set by the CDK app; the cost of a prediction is computed with it.
API_MEMORY_MB = 512
IDLE_MINUTE_SECONDS = "KRAKEN_IDLE_MINUTE_SECONDS"  # 60 everywhere but the tests of the idle stop
METRICS_NAMESPACE = "KRAKEN_METRICS_NAMESPACE"
REQUEST_LOG_GROUP = "KRAKEN_REQUEST_LOG_GROUP"
CLIENTS_TABLE = "KRAKEN_CLIENTS_TABLE"
DEPLOYMENTS_TABLE = "KRAKEN_DEPLOYMENTS_TABLE"
NAMES_TABLE = "KRAKEN_NAMES_TABLE"
PROJECTS_TABLE = "KRAKEN_PROJECTS_TABLE"
REPLAYS_TABLE = "KRAKEN_REPLAYS_TABLE"
SHADOWS_TABLE = "KRAKEN_SHADOWS_TABLE"
# Where a rollout's steps and rollback are published (the stack's topic; local mode's is in the emulator).
ROLLOUT_TOPIC_ARN = "KRAKEN_ROLLOUT_TOPIC_ARN"
USER_POOL_ID = "KRAKEN_USER_POOL_ID"
USER_POOL_CLIENT_ID = "KRAKEN_USER_POOL_CLIENT_ID"
TOKEN_ISSUER = "KRAKEN_TOKEN_ISSUER"  # noqa: S105 - a variable name, not a secret
JWKS_URL = "KRAKEN_JWKS_URL"
CORS_ORIGIN = "KRAKEN_CORS_ORIGIN"
# What the stage runs whether or not any model does (the stack sets them; local mode has the defaults'):
NAT_GATEWAYS = "KRAKEN_NAT_GATEWAYS"
INTERFACE_ENDPOINTS = "KRAKEN_INTERFACE_ENDPOINTS"  # endpoint network interfaces: endpoints x AZs
WAF_RULES = "KRAKEN_WAF_RULES"  # 0: no web ACL
# The request log group's subscription filter (CDK) passes the shadow consumer only the lines of shadowed requests:
# a prediction line with a `shadow` list of version numbers (adapters/prediction_log.py writes it).
SHADOW_FILTER_PATTERN = '{ $.type = "prediction" && $.shadow[0] >= 1 }'
REGION = "AWS_REGION"
DEFAULT_REGION = "AWS_DEFAULT_REGION"


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    models_table: str
    artifact_bucket: str
    cluster: str
    # Set only in local mode and tests: the emulator's endpoint. On AWS every client uses its default.
    aws_endpoint_url: str | None
    operations_table: str
    operations_ttl_days: int
    artifact_max_bytes: int
    runner_image: str
    task_execution_role_arn: str
    model_task_boundary_arn: str
    subnets: tuple[str, ...]
    task_security_group: str
    model_log_retention_days: int
    # A model still PENDING after this long is marked FAILED by the reconciler.
    start_timeout_seconds: int
    # How long one of a model's idleStopMinutes lasts: 60 s, compressed only by tests.
    idle_minute_seconds: float
    metrics_namespace: str
    # Where prediction lines land: the API function's own log group on AWS.
    request_log_group: str
    clients_table: str
    deployments_table: str
    names_table: str
    projects_table: str
    replays_table: str
    shadows_table: str
    rollout_topic_arn: str
    user_pool_id: str
    user_pool_client_id: str
    # Kept apart from the pool id: the emulator serves keys at its own address but signs as AWS.
    token_issuer: str
    jwks_url: str
    # The console's origin when it is not the API's own (same-origin needs no CORS).
    cors_origin: str | None
    nat_gateways: int = 1
    interface_endpoints: int = 0
    waf_rules: int = 0

    @property
    def table_names(self) -> tuple[str, ...]:
        """Every table of the stage, one per layout in chalicelib.tables."""
        return (
            self.models_table,
            self.operations_table,
            self.clients_table,
            self.deployments_table,
            self.names_table,
            self.projects_table,
            self.replays_table,
            self.shadows_table,
        )

    @property
    def model_log_group_prefix(self) -> str:
        return f"/kraken/{self.stage}/models"

    def model_log_group(self, model_id: str) -> str:
        return f"{self.model_log_group_prefix}/{model_id}"

    @property
    def registry_secret_prefix(self) -> str:
        """Name prefix of the models' registry credentials in Secrets Manager: the execution role reads only these."""
        return f"kraken-{self.stage}/registry/"

    @property
    def env_secret_prefix(self) -> str:
        """Name prefix of the models' secret env values in Secrets Manager: the execution role reads only these."""
        return f"kraken-{self.stage}/env/"

    @property
    def resource_prefix(self) -> str:
        """Prefix of the per-model ECS names (task family, service), so events map back to models."""
        return f"kraken-{self.stage}-"


def from_environment(environ: os._Environ[str] | dict[str, str] = os.environ) -> Settings:
    stage = environ.get(STAGE, "local")
    return Settings(
        stage=stage,
        region=environ.get(REGION) or environ.get(DEFAULT_REGION) or "us-east-1",
        models_table=environ.get(MODELS_TABLE, f"kraken-{stage}-models"),
        artifact_bucket=environ.get(ARTIFACT_BUCKET, f"kraken-{stage}-artifacts"),
        cluster=environ.get(CLUSTER, f"kraken-{stage}"),
        aws_endpoint_url=environ.get(AWS_ENDPOINT_URL) or None,
        operations_table=environ.get(OPERATIONS_TABLE, f"kraken-{stage}-operations"),
        operations_ttl_days=int(environ.get(OPERATIONS_TTL_DAYS, "90")),
        artifact_max_bytes=int(environ.get(ARTIFACT_MAX_BYTES, str(500 * 1024 * 1024))),
        runner_image=environ.get(RUNNER_IMAGE, "kraken-runner:local"),
        task_execution_role_arn=environ.get(TASK_EXECUTION_ROLE_ARN, ""),
        model_task_boundary_arn=environ.get(MODEL_TASK_BOUNDARY_ARN, ""),
        subnets=tuple(s for s in environ.get(SUBNETS, "").split(",") if s),
        task_security_group=environ.get(TASK_SECURITY_GROUP, ""),
        model_log_retention_days=int(environ.get(MODEL_LOG_RETENTION_DAYS, "30")),
        start_timeout_seconds=int(environ.get(START_TIMEOUT_SECONDS, "600")),
        idle_minute_seconds=float(environ.get(IDLE_MINUTE_SECONDS, "60")),
        metrics_namespace=environ.get(METRICS_NAMESPACE, "Kraken"),
        request_log_group=environ.get(REQUEST_LOG_GROUP, f"/kraken/{stage}/requests"),
        clients_table=environ.get(CLIENTS_TABLE, f"kraken-{stage}-clients"),
        deployments_table=environ.get(DEPLOYMENTS_TABLE, f"kraken-{stage}-deployments"),
        names_table=environ.get(NAMES_TABLE, f"kraken-{stage}-names"),
        projects_table=environ.get(PROJECTS_TABLE, f"kraken-{stage}-projects"),
        replays_table=environ.get(REPLAYS_TABLE, f"kraken-{stage}-replays"),
        shadows_table=environ.get(SHADOWS_TABLE, f"kraken-{stage}-shadows"),
        rollout_topic_arn=environ.get(ROLLOUT_TOPIC_ARN, ""),
        user_pool_id=environ.get(USER_POOL_ID, ""),
        user_pool_client_id=environ.get(USER_POOL_CLIENT_ID, ""),
        token_issuer=environ.get(TOKEN_ISSUER, ""),
        jwks_url=environ.get(JWKS_URL, ""),
        cors_origin=environ.get(CORS_ORIGIN) or None,
        nat_gateways=int(environ.get(NAT_GATEWAYS, "1")),
        interface_endpoints=int(environ.get(INTERFACE_ENDPOINTS, "0")),
        waf_rules=int(environ.get(WAF_RULES, "0")),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return from_environment()
