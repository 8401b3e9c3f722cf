"""Every IAM permission of the project, per role: the one source CDK grants and local mode's emulator enforces.

Standard library only: the CDK app imports it without the Lambda's dependencies. Resources are
templates over a few named values (`{partition}`, `{region}`, `{account}`, `{prefix}`, `{bucket}`,
`{cluster}`, `{model_log_groups}`, `{request_log_group}`, `{user_pool}`, `{model_id}` in a model's own role);
`{table}` stands for each of the stage's tables (CDK grants those through `Table.grant`, which adds the
indexes). `{task_roles}` stands for the stage's roles the API may pass to ECS (the task execution role).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TABLE = "{table}"
TASK_ROLES = "{task_roles}"


@dataclass(frozen=True)
class Grant:
    """One policy statement (its conditions' values may use the same templates as resources)."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


_ARN = "arn:{partition}:{service}:{region}:{account}:"
FUNCTION_LOGS = _ARN.replace("{service}", "logs") + "log-group:/aws/lambda/{prefix}-*"
MODEL_LOG_GROUPS = _ARN.replace("{service}", "logs") + "log-group:{model_log_groups}/*"
REQUEST_LOG_GROUP = _ARN.replace("{service}", "logs") + "log-group:{request_log_group}"
ECS = _ARN.replace("{service}", "ecs")
SERVICES = ECS + "service/{cluster}/*"
TASKS = ECS + "task/{cluster}/*"
CONTAINER_INSTANCES = ECS + "container-instance/{cluster}/*"
TASK_DEFINITIONS = ECS + "task-definition/{prefix}-*:*"
CLUSTER = ECS + "cluster/{cluster}"
USER_POOL = _ARN.replace("{service}", "cognito-idp") + "userpool/{user_pool}"
# config.Settings.registry_secret_prefix: one secret per model (Secrets Manager adds a random suffix).
REGISTRY_SECRETS = _ARN.replace("{service}", "secretsmanager") + "secret:{prefix}/registry/*"
# config.Settings.env_secret_prefix: the models' secret env values, one secret each.
ENV_SECRETS = _ARN.replace("{service}", "secretsmanager") + "secret:{prefix}/env/*"
IMAGE_REPOSITORIES = _ARN.replace("{service}", "ecr") + "repository/*"
ARTIFACT_BUCKET = "arn:{partition}:s3:::{bucket}"
ARTIFACT_OBJECTS = ARTIFACT_BUCKET + "/*"
# adapters/s3.model_prefix: every object of one model lies under models/<id>/.
OWN_ARTIFACTS = ARTIFACT_BUCKET + "/models/{model_id}/*"
# One role per model (adapters/iam.py makes it when the model first starts), each under the boundary.
ROLLOUT_TOPIC_NAME = "{prefix}-rollouts"
ROLLOUT_TOPIC = _ARN.replace("{service}", "sns") + ROLLOUT_TOPIC_NAME
MODEL_ROLE_NAME = "{prefix}-model-{model_id}"
MODEL_ROLES = "arn:{partition}:iam::{account}:role/{prefix}-model-*"
MODEL_TASK_BOUNDARY_NAME = "{prefix}-model-task-boundary"
MODEL_TASK_BOUNDARY = "arn:{partition}:iam::{account}:policy/" + MODEL_TASK_BOUNDARY_NAME
IN_CLUSTER = {"ArnEquals": {"ecs:cluster": CLUSTER}}
ECS_TASKS = "ecs-tasks.amazonaws.com"

# What every Chalice function needs from the platform: its own logs, network interfaces in the VPC, traces.
# AWS makes these calls for the function, so no SDK call of ours (and no call log) shows them.
_FUNCTION_BASE = (
    Grant("OwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"), (FUNCTION_LOGS,)),
    Grant(
        "VpcNetworkInterfaces",
        (
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
        ),
        ("*",),
    ),
    Grant("Tracing", ("xray:PutTraceSegments", "xray:PutTelemetryRecords"), ("*",)),
)
_READ_WRITE_RECORDS = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem")
_WATCH_TASKS = (
    Grant("ListModelTasks", ("ecs:ListTasks",), (CONTAINER_INSTANCES,), IN_CLUSTER),
    Grant("ModelTasks", ("ecs:DescribeTasks",), (TASKS,), IN_CLUSTER),
)

# Starting a model (the API, and the reconciler after a lost start) tags what it creates and passes the task
# roles. AWS checks both inside CreateService/RegisterTaskDefinition; no SDK call has these names.
_TAG_ON_CREATE = Grant(
    "TagOnCreate",
    ("ecs:TagResource",),
    (SERVICES, TASK_DEFINITIONS),
    {"StringEquals": {"ecs:CreateAction": ["CreateService", "RegisterTaskDefinition"]}},
)
_PASS_TASK_ROLES = Grant(
    "PassTaskRoles",
    ("iam:PassRole",),
    (TASK_ROLES, MODEL_ROLES),
    {"StringEquals": {"iam:PassedToService": ECS_TASKS}},
)
# A start makes sure its model's own role exists with its one statement. IAM refuses a role created or
# changed without the boundary, so even this role cannot make a model role that reads more than artifacts.
_ENSURE_MODEL_ROLES = Grant(
    "ModelRoles",
    ("iam:CreateRole", "iam:PutRolePolicy"),
    (MODEL_ROLES,),
    {"StringEquals": {"iam:PermissionsBoundary": MODEL_TASK_BOUNDARY}},
)

_READ_REQUEST_HISTORY = Grant(
    "RequestHistory",
    ("logs:FilterLogEvents",),
    (REQUEST_LOG_GROUP, REQUEST_LOG_GROUP + ":*"),
)

# An autoscaled version's service gets its bounds and target-tracking policies; they go before it stops.
# The first registration makes the service-linked role Application Auto Scaling acts through.
_SCALE_SERVICES = (
    Grant(
        "ScaleModelServices",
        (
            "application-autoscaling:RegisterScalableTarget",
            "application-autoscaling:DeregisterScalableTarget",
            "application-autoscaling:PutScalingPolicy",
            "application-autoscaling:DeleteScalingPolicy",
            "application-autoscaling:DescribeScalableTargets",
            "application-autoscaling:DescribeScalingPolicies",
        ),
        ("*",),
    ),
    Grant(
        "AutoScalingRole",
        ("iam:CreateServiceLinkedRole",),
        (
            "arn:{partition}:iam::{account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_ECSService",
        ),
        {"StringLike": {"iam:AWSServiceName": "ecs.application-autoscaling.amazonaws.com"}},
    ),
)

# A rollout's decisions (a person's start, pause, promote or abort; the reconciler's steps and rollback).
_TELL_ROLLOUTS = Grant("RolloutTopic", ("sns:Publish",), (ROLLOUT_TOPIC,))
API_FUNCTION = (
    *_FUNCTION_BASE,
    Grant("ModelMetrics", ("cloudwatch:GetMetricData",), ("*",)),
    Grant(
        "TaskDefinitions",
        (
            "ecs:RegisterTaskDefinition",
            "ecs:DeregisterTaskDefinition",
            "ecs:ListTaskDefinitions",
            "ecs:ListTaskDefinitionFamilies",
        ),
        ("*",),
    ),
    Grant(
        "ModelServices",
        ("ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", "ecs:DescribeServices"),
        (SERVICES,),
        IN_CLUSTER,
    ),
    *_WATCH_TASKS,
    _TAG_ON_CREATE,
    _PASS_TASK_ROLES,
    _ENSURE_MODEL_ROLES,
    # Deleting a model removes its role (its inline statement first, as IAM requires).
    Grant("RemoveModelRoles", ("iam:DeleteRolePolicy", "iam:DeleteRole"), (MODEL_ROLES,)),
    *_SCALE_SERVICES,
    Grant(
        "ModelLogs",
        (
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:FilterLogEvents",
            "logs:DeleteLogGroup",
        ),
        (MODEL_LOG_GROUPS,),
    ),
    _READ_REQUEST_HISTORY,
    # Uploads are presigned POSTs signed by this role (so PutObject is its permission); a model's
    # deletion removes every version of its artifact (ListObjectVersions, DeleteObjects with versions).
    Grant(
        "Artifacts", ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"), (ARTIFACT_OBJECTS,)
    ),
    Grant("ListArtifacts", ("s3:ListBucket", "s3:ListBucketVersions"), (ARTIFACT_BUCKET,)),
    Grant("Tables", (*_READ_WRITE_RECORDS, "dynamodb:DeleteItem"), (TABLE,)),
    # A project's admin adds members by username or e-mail address: the pool says who that is.
    Grant("FindUsers", ("cognito-idp:ListUsers",), (USER_POOL,)),
    # A model's private-registry credentials are written, replaced and removed, never read back.
    Grant(
        "RegistryCredentials",
        ("secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret"),
        (REGISTRY_SECRETS,),
    ),
    # Secret env values are written once each and removed with their model, never read back.
    Grant("EnvSecrets", ("secretsmanager:CreateSecret", "secretsmanager:DeleteSecret"), (ENV_SECRETS,)),
    _TELL_ROLLOUTS,
)
# EventBridge's task state changes: the record's status and endpoint, and the operations log.
# A stopped container's last log lines become the record's statusReason.
EVENT_HANDLER = (
    *_FUNCTION_BASE,
    Grant("ModelLogs", ("logs:FilterLogEvents",), (MODEL_LOG_GROUPS,)),
    Grant("Tables", _READ_WRITE_RECORDS, (TABLE,)),
)
# The schedule: compares records with what ECS runs and repairs the difference, restarting a lost start;
# stops models left without requests for their idle time (the request history says which); fires the
# models' start/stop schedules, and a start makes the model's log group and reads a newly landed artifact
# (its size and digest) as a person's start does.
RECONCILER = (
    *_FUNCTION_BASE,
    _READ_REQUEST_HISTORY,
    Grant("ModelLogGroups", ("logs:CreateLogGroup", "logs:PutRetentionPolicy"), (MODEL_LOG_GROUPS,)),
    Grant("ReadArtifacts", ("s3:GetObject",), (ARTIFACT_OBJECTS,)),
    Grant("TaskDefinitions", ("ecs:RegisterTaskDefinition",), ("*",)),
    Grant(
        "ModelServices",
        ("ecs:CreateService", "ecs:UpdateService", "ecs:DescribeServices"),
        (SERVICES,),
        IN_CLUSTER,
    ),
    *_WATCH_TASKS,
    _TAG_ON_CREATE,
    _PASS_TASK_ROLES,
    _ENSURE_MODEL_ROLES,
    *_SCALE_SERVICES,
    Grant("Tables", _READ_WRITE_RECORDS, (TABLE,)),
    # Rollouts: each step is judged on the gateway's per-version metrics, and its decision is published.
    Grant("ModelMetrics", ("cloudwatch:GetMetricData",), ("*",)),
    _TELL_ROLLOUTS,
)
# The request log's subscription filter hands it the lines of shadowed requests: it reads the model's record (its
# route, by id or name) and merges each shadow's tally into the shadows table, a read and a conditional put. The
# shadow's containers are reached in the VPC, like the API's proxy hop, with no AWS call.
SHADOW_CONSUMER = (
    *_FUNCTION_BASE,
    Grant("Tables", ("dynamodb:GetItem", "dynamodb:PutItem"), (TABLE,)),
)
# A model's own role, assumed by its containers: it reads that model's artifacts and nothing else, so one
# model's container (an editor's custom image included) cannot read another's. It reads the exact upload
# the platform recorded (by its S3 version), which is GetObjectVersion.
_READ_ARTIFACT = ("s3:GetObject", "s3:GetObjectVersion")
MODEL_TASK = (Grant("ReadOwnArtifacts", _READ_ARTIFACT, (OWN_ARTIFACTS,)),)
# The permissions boundary of every model role: whatever a model role's own statement says, it can do no
# more than read artifacts of this stage's bucket.
MODEL_TASK_BOUNDARY_GRANTS = (Grant("AtMostReadArtifacts", _READ_ARTIFACT, (ARTIFACT_OBJECTS,)),)


def model_role_trust(account: str) -> dict[str, Any]:
    """Who may assume a model role: ECS tasks of this account only (the confused-deputy guard AWS advises)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ECS_TASKS},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


# Assumed by the ECS agent to start a model's task: it pulls the image (the runner's, or any of the account's
# ECR repositories a model names), for a private registry reads the model's pull credentials, and reads the
# model's secret env values to put them in the container's environment.
TASK_EXECUTION = (
    Grant("WriteModelLogs", ("logs:CreateLogStream", "logs:PutLogEvents"), (MODEL_LOG_GROUPS,)),
    Grant("EcrLogin", ("ecr:GetAuthorizationToken",), ("*",)),  # no resource-level permission exists for it
    Grant(
        "AccountImages",
        ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"),
        (IMAGE_REPOSITORIES,),
    ),
    Grant("RegistryCredentials", ("secretsmanager:GetSecretValue",), (REGISTRY_SECRETS,)),
    Grant("EnvSecrets", ("secretsmanager:GetSecretValue",), (ENV_SECRETS,)),  # ECS injects them at start
)

# Chalice's function name (its `lambda_functions` key) -> that function's role.
FUNCTION_ROLES: Mapping[str, tuple[Grant, ...]] = {
    "api_handler": API_FUNCTION,
    "task_state_change": EVENT_HANDLER,
    "reconcile": RECONCILER,
    "shadow_consumer": SHADOW_CONSUMER,
}
ROLES: Mapping[str, tuple[Grant, ...]] = {**FUNCTION_ROLES, "task_execution": TASK_EXECUTION}
# Templates of the policies that are not a fixed role's: each model role's, and the boundary over them all.
POLICIES: Mapping[str, tuple[Grant, ...]] = {
    **ROLES,
    "model_task": MODEL_TASK,
    "model_task_boundary": MODEL_TASK_BOUNDARY_GRANTS,
}


def _fill(template: str, values: Mapping[str, str]) -> str:
    return template.format_map(values)


def resources(grant: Grant, values: Mapping[str, str], tables: Sequence[str], task_roles: Sequence[str]) -> list[str]:
    """The grant's resource ARNs; each table template becomes the table's ARN and its indexes'."""
    out: list[str] = []
    for template in grant.resources:
        if template == TABLE:
            out += [arn for table in tables for arn in (table, f"{table}/index/*")]
        elif template == TASK_ROLES:
            out += list(task_roles)
        else:
            out.append(_fill(template, values))
    return out


def conditions(grant: Grant, values: Mapping[str, str]) -> dict[str, Any]:
    return {
        operator: {
            key: [_fill(v, values) for v in value] if isinstance(value, list) else _fill(value, values)
            for key, value in entries.items()
        }
        for operator, entries in grant.conditions.items()
    }


def policy_document(
    role: str, values: Mapping[str, str], *, tables: Sequence[str] = (), task_roles: Sequence[str] = ()
) -> dict[str, Any]:
    """The policy as IAM JSON, with concrete values (local mode's emulator identities use this)."""
    statements = []
    for grant in POLICIES[role]:
        statement: dict[str, Any] = {
            "Sid": grant.sid,
            "Effect": "Allow",
            "Action": list(grant.actions),
            "Resource": resources(grant, values, tables, task_roles),
        }
        if grant.conditions:
            statement["Condition"] = conditions(grant, values)
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def granted_actions(role: str) -> frozenset[str]:
    return frozenset(action for grant in POLICIES[role] for action in grant.actions)
