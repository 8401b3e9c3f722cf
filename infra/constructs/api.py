"""The Chalice app on Lambda behind API Gateway, with its least-privilege role, in the private subnets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs.chalice_app import (
    API_HANDLER_LOGICAL_ID,
    REST_API_LOGICAL_ID,
    KrakenChalice,
    SamTemplate,
    configure_rest_api,
    filter_ecs_events_to_cluster,
    function_name,
    name_functions,
)
from infra.constructs.nag import acknowledge, acknowledge_wildcard_resource


def request_log_group_name(prefix: str) -> str:
    """Where the API function's stdout, and so its prediction lines, lands: its Lambda log group."""
    return f"/aws/lambda/{function_name(prefix, API_HANDLER_LOGICAL_ID)}"


API_GATEWAY_STAGE = "api"  # backend/.chalice/config.json's api_gateway_stage; CloudFront's /api/* maps onto it
LAMBDA_TIMEOUT_SECONDS = 30  # API Gateway gives up after 29 s anyway
LAMBDA_MEMORY_MB = 512  # more memory is more CPU: pydantic and the proxy hop are CPU-bound


def chalice_stage_config(
    *,
    stage: str,
    environment: Mapping[str, str],
    role_arn: str,
    subnet_ids: Sequence[str],
    security_group_id: str,
    log_retention_days: int,
) -> dict[str, Any]:
    """The Chalice stage settings. Stage-level, so every function Chalice generates gets them: the API
    handler, event and schedule handlers, and built-in authorizers (`@app.authorizer()`) alike."""
    return {
        "environment_variables": dict(environment),
        # The role is ours (KrakenApi.role), not one Chalice derives from the code it reads.
        "manage_iam_role": False,
        "iam_role_arn": role_arn,
        "autogen_policy": False,
        "subnet_ids": list(subnet_ids),
        "security_group_ids": [security_group_id],
        "xray": True,
        "log_retention_in_days": log_retention_days,
        # Behind CloudFront an edge-optimized API would add a second CloudFront hop.
        "api_gateway_endpoint_type": "REGIONAL",
        "lambda_timeout": LAMBDA_TIMEOUT_SECONDS,
        "lambda_memory_size": LAMBDA_MEMORY_MB,
        "tags": {"kraken:stage": stage},
    }


class KrakenApi(Construct):
    """Packages backend/ with Chalice and wires it to the rest of the stage.

    Attributes: `chalice`, `role` (shared by every Chalice function), `function_names` (logical id ->
    name), `api_function_name`, `rest_api_id`, `api_domain` (execute-api host), `api_url`, `api_name`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        source_dir: Path,
        stage: str,
        environment: Mapping[str, str],
        subnet_ids: Sequence[str],
        security_group: ec2.ISecurityGroup,
        tables: Sequence[dynamodb.ITable],
        artifact_bucket_arn: str,
        cluster_name: str,
        cluster_arn: str,
        passable_roles: Sequence[iam.IRole],
        model_log_group_arn: str,
        log_retention_days: int,
        throttle_rate: int,
        throttle_burst: int,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.api_name = prefix
        self.role = iam.Role(
            self,
            "FunctionRole",
            role_name=f"{prefix}-api-function",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{prefix}: the Chalice functions (API, ECS events, reconciler)",
        )
        self._grant(
            stack=stack,
            prefix=prefix,
            tables=tables,
            artifact_bucket_arn=artifact_bucket_arn,
            cluster_name=cluster_name,
            cluster_arn=cluster_arn,
            passable_roles=passable_roles,
            model_log_group_arn=model_log_group_arn,
        )

        def adjust_template(template: SamTemplate) -> None:
            self.function_names = name_functions(template, prefix)
            self.filtered_events = filter_ecs_events_to_cluster(template, cluster_arn)
            configure_rest_api(template, name=prefix, throttle_rate=throttle_rate, throttle_burst=throttle_burst)

        self.chalice = KrakenChalice(
            self,
            "Chalice",
            source_dir=source_dir,
            stage=stage,
            stage_config=chalice_stage_config(
                stage=stage,
                environment=environment,
                role_arn=self.role.role_arn,
                subnet_ids=subnet_ids,
                security_group_id=security_group.security_group_id,
                log_retention_days=log_retention_days,
            ),
            template_hook=adjust_template,
        )
        # Lambda refuses to create a function in a VPC whose role cannot manage network interfaces yet,
        # and a function must not start without its permissions: wait for the role's policy.
        policy = self.role.node.find_child("DefaultPolicy")
        for logical_id in self.function_names:
            self.chalice.get_resource(logical_id).node.add_dependency(policy)
        self.api_function_name = self.function_names[API_HANDLER_LOGICAL_ID]
        self.rest_api_id = self.chalice.get_resource(REST_API_LOGICAL_ID).ref
        self.api_domain = f"{self.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        self.api_url = f"https://{self.api_domain}/{API_GATEWAY_STAGE}/"

    def _grant(
        self,
        *,
        stack: cdk.Stack,
        prefix: str,
        tables: Sequence[dynamodb.ITable],
        artifact_bucket_arn: str,
        cluster_name: str,
        cluster_arn: str,
        passable_roles: Sequence[iam.IRole],
        model_log_group_arn: str,
    ) -> None:
        """Every permission the functions have, each scoped to the resources this stage owns."""
        role = self.role

        def arn(service: str, resource: str, name: str, sep: cdk.ArnFormat = cdk.ArnFormat.SLASH_RESOURCE_NAME) -> str:
            return stack.format_arn(service=service, resource=resource, resource_name=name, arn_format=sep)

        function_logs = arn("logs", "log-group", f"/aws/lambda/{prefix}-*", cdk.ArnFormat.COLON_RESOURCE_NAME)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="OwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[function_logs],
            )
        )
        acknowledge_wildcard_resource(
            role,
            function_logs,
            "The functions write their own log groups, all named /aws/lambda/<stage prefix>-<function>.",
        )

        # A function in a VPC manages its network interfaces through its role. These EC2 actions have
        # no resource-level permissions (Describe*) or are called by Lambda on ENIs it names itself.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="VpcNetworkInterfaces",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=["*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="Tracing",
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                resources=["*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ModelMetrics",
                # The API reads per-model latency and error metrics for the console.
                actions=["cloudwatch:GetMetricData"],
                resources=["*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="TaskDefinitions",
                # Registering, deregistering and listing task definitions cannot be scoped to a resource.
                actions=["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:ListTaskDefinitions"],
                resources=["*"],
            )
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "AWS requires Resource '*' for ecs:RegisterTaskDefinition/DeregisterTaskDefinition/ListTaskDefinitions, "
            "cloudwatch:GetMetricData, xray:PutTraceSegments/PutTelemetryRecords and the EC2 "
            "network-interface actions Lambda needs in a VPC; none has resource-level permissions.",
        )

        cluster_condition = {"ArnEquals": {"ecs:cluster": cluster_arn}}
        services = arn("ecs", "service", f"{cluster_name}/*")
        tasks = arn("ecs", "task", f"{cluster_name}/*")
        container_instances = arn("ecs", "container-instance", f"{cluster_name}/*")
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ModelServices",
                actions=["ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", "ecs:DescribeServices"],
                resources=[services],
                conditions=cluster_condition,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ModelTasks",
                actions=["ecs:DescribeTasks", "ecs:StopTask"],
                resources=[tasks],
                conditions=cluster_condition,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListModelTasks",
                # ListTasks is authorized on the container instance; the cluster condition scopes it.
                actions=["ecs:ListTasks"],
                resources=[container_instances],
                conditions=cluster_condition,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="TagOnCreate",
                # Tags passed to CreateService/RegisterTaskDefinition need ecs:TagResource at creation only.
                actions=["ecs:TagResource"],
                resources=[services, arn("ecs", "task-definition", f"{prefix}-*:*")],
                conditions={"StringEquals": {"ecs:CreateAction": ["CreateService", "RegisterTaskDefinition"]}},
            )
        )
        task_definitions = arn("ecs", "task-definition", f"{prefix}-*:*")
        for pattern in (services, tasks, container_instances, task_definitions):
            acknowledge_wildcard_resource(
                role,
                pattern,
                "Services, tasks and task definitions are created per model at runtime; the ARN pattern and the "
                "ecs:cluster condition keep them to this stage's cluster.",
            )

        role.add_to_policy(
            iam.PolicyStatement(
                sid="PassTaskRoles",
                actions=["iam:PassRole"],
                resources=[r.role_arn for r in passable_roles],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            )
        )

        role.add_to_policy(
            iam.PolicyStatement(
                sid="ModelLogs",
                actions=["logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:GetLogEvents", "logs:FilterLogEvents"],
                resources=[model_log_group_arn],
            )
        )
        acknowledge_wildcard_resource(
            role, model_log_group_arn, "One log group per model, created at runtime under /kraken/<stage>/models/."
        )

        # Prediction lines (request history and EMF metrics) are the API function's stdout, so the
        # history is read back from the function's own log group.
        own_group = arn("logs", "log-group", request_log_group_name(prefix), cdk.ArnFormat.COLON_RESOURCE_NAME)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="RequestHistory",
                actions=["logs:FilterLogEvents", "logs:GetLogEvents"],
                resources=[own_group, f"{own_group}:*"],
            )
        )
        acknowledge_wildcard_resource(
            role, f"{own_group}:*", "The API reads its own log group's streams, named by Lambda, for request history."
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="Artifacts",
                actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"],
                resources=[f"{artifact_bucket_arn}/*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(sid="ListArtifacts", actions=["s3:ListBucket"], resources=[artifact_bucket_arn])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="Tables",
                actions=[
                    "dynamodb:GetItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:DescribeTable",
                ],
                resources=[t.table_arn for t in tables] + [f"{t.table_arn}/index/*" for t in tables],
            )
        )
        acknowledge_wildcard_resource(
            role,
            f"{artifact_bucket_arn}/*",
            "Artifact keys are chosen per model at upload time; access stays within this stage's bucket.",
        )
        for table in tables:
            acknowledge_wildcard_resource(
                role, f"{table.table_arn}/index/*", "Queries read every index of the stage's own tables."
            )
