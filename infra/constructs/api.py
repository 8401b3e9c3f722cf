"""The Chalice app on Lambda behind API Gateway, with its least-privilege role, in the private subnets."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.backend_contract import config_module, permissions_module
from infra.constructs.chalice_app import (
    API_HANDLER_LOGICAL_ID,
    REST_API_LOGICAL_ID,
    SERVERLESS_FUNCTION,
    KrakenChalice,
    SamTemplate,
    configure_rest_api,
    filter_ecs_events_to_cluster,
    function_name,
    kebab,
    name_functions,
    reserve_concurrency,
    resources_of_type,
)
from infra.constructs.nag import acknowledge, acknowledge_wildcard_resource


def request_log_group_name(prefix: str) -> str:
    """Where the API function's stdout, and so its prediction lines, lands: its Lambda log group."""
    return f"/aws/lambda/{function_name(prefix, API_HANDLER_LOGICAL_ID)}"


API_GATEWAY_STAGE = "api"  # backend/.chalice/config.json's api_gateway_stage; CloudFront's /api/* maps onto it
# Logical id of each Chalice function in its SAM template -> its name in Chalice (and permissions.py).
CHALICE_NAMES = {
    API_HANDLER_LOGICAL_ID: "api_handler",
    "TaskStateChange": "task_state_change",
    "Reconcile": "reconcile",
    "ShadowConsumer": "shadow_consumer",
}
SHADOW_CONSUMER_LOGICAL_ID = "ShadowConsumer"
LAMBDA_TIMEOUT_SECONDS = 30  # API Gateway gives up after 29 s anyway
# More memory is more CPU: pydantic and the proxy hop are CPU-bound. The backend prices predictions with it.
LAMBDA_MEMORY_MB = config_module().API_MEMORY_MB


def subscribe_shadow_consumer(template: SamTemplate) -> None:
    """Hand the shadow consumer the request log's lines of shadowed requests (config.SHADOW_FILTER_PATTERN).

    The API function is frozen once it answers, so the shadows' calls and comparisons run in this other
    function, fed by the log group's subscription filter: the caller's latency does not include them."""
    resources = template["Resources"]
    wanted = f"{API_HANDLER_LOGICAL_ID}LogGroup".lower()  # Chalice's own capitalization of it
    log_group = next(lid for lid in resources_of_type(template, "AWS::Logs::LogGroup") if lid.lower() == wanted)
    resources["ShadowConsumerInvokePermission"] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": SHADOW_CONSUMER_LOGICAL_ID},
            "Principal": "logs.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": [log_group, "Arn"]},
            "SourceAccount": {"Ref": "AWS::AccountId"},
        },
    }
    resources["ShadowedRequests"] = {
        "Type": "AWS::Logs::SubscriptionFilter",
        "DependsOn": ["ShadowConsumerInvokePermission"],
        "Properties": {
            "LogGroupName": {"Ref": log_group},
            "FilterPattern": config_module().SHADOW_FILTER_PATTERN,
            "DestinationArn": {"Fn::GetAtt": [SHADOW_CONSUMER_LOGICAL_ID, "Arn"]},
        },
    }


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
        artifact_bucket_name: str,
        cluster_name: str,
        cluster_arn: str,
        passable_roles: Sequence[iam.IRole],
        model_log_group_prefix: str,
        log_retention_days: int,
        throttle_rate: int,
        throttle_burst: int,
        api_concurrency: int,
        background_concurrency: int,
        user_pool_id: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.api_name = prefix
        self.roles = self._function_roles(
            prefix=prefix,
            values={
                "partition": stack.partition,
                "region": stack.region,
                "account": stack.account,
                "prefix": prefix,
                "bucket": artifact_bucket_name,
                "cluster": cluster_name,
                "model_log_groups": model_log_group_prefix,
                "request_log_group": request_log_group_name(prefix),
                "user_pool": user_pool_id,
            },
            tables=tables,
            passable_roles=passable_roles,
        )
        self.role = self.roles["api_handler"]

        self.access_logs = self._access_logs(prefix, log_retention_days)

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
            template_hook=functools.partial(
                self._adjust_template,
                prefix=prefix,
                cluster_arn=cluster_arn,
                throttle=(throttle_rate, throttle_burst),
                concurrency=(api_concurrency, background_concurrency),
            ),
        )
        # Lambda refuses to create a function in a VPC whose role cannot manage network interfaces yet,
        # and a function must not start without its permissions: wait for the role's policy.
        for logical_id in self.function_names:
            policy = self.roles[CHALICE_NAMES[logical_id]].node.find_child("DefaultPolicy")
            self.chalice.get_resource(logical_id).node.add_dependency(policy)
        self.api_function_name = self.function_names[API_HANDLER_LOGICAL_ID]
        self.rest_api_id = self.chalice.get_resource(REST_API_LOGICAL_ID).ref
        self.api_domain = f"{self.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        self.api_url = f"https://{self.api_domain}/{API_GATEWAY_STAGE}/"

    def _adjust_template(
        self,
        template: SamTemplate,
        *,
        prefix: str,
        cluster_arn: str,
        throttle: tuple[int, int],
        concurrency: tuple[int, int],
    ) -> None:
        """What the SAM template needs before CDK includes it (KrakenChalice calls this)."""
        self.function_names = name_functions(template, prefix)
        # Chalice gives every function the stage's role; each gets its own (its top-level
        # iam_role_arn would override per-function settings).
        for logical_id, function in resources_of_type(template, SERVERLESS_FUNCTION).items():
            function["Properties"]["Role"] = self.roles[CHALICE_NAMES[logical_id]].role_arn
        self.filtered_events = filter_ecs_events_to_cluster(template, cluster_arn)
        subscribe_shadow_consumer(template)
        configure_rest_api(
            template,
            name=prefix,
            throttle_rate=throttle[0],
            throttle_burst=throttle[1],
            access_log_arn=self.access_logs.attr_arn,
        )
        limits = {lid: concurrency[1] for lid in CHALICE_NAMES}
        reserve_concurrency(template, {**limits, API_HANDLER_LOGICAL_ID: concurrency[0]})

    def _function_roles(
        self,
        *,
        prefix: str,
        values: Mapping[str, str],
        tables: Sequence[dynamodb.ITable],
        passable_roles: Sequence[iam.IRole],
    ) -> dict[str, iam.Role]:
        """One role per Chalice function, each with exactly its statements from chalicelib/permissions.py."""
        roles: dict[str, iam.Role] = {}
        for function, grants in permissions_module().FUNCTION_ROLES.items():
            role = iam.Role(
                self,
                "FunctionRole" if function == "api_handler" else f"{kebab(function).title().replace('-', '')}Role",
                role_name=f"{prefix}-{kebab(function)}",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"{prefix}: the Chalice function {function}",
            )
            self._grant(role, grants, values=values, tables=tables, passable_roles=passable_roles)
            roles[function] = role
        return roles

    def _access_logs(self, prefix: str, retention_days: int) -> logs.CfnLogGroup:
        """The API's access log group, and the account setting that lets API Gateway write to it.

        API Gateway writes access logs through one role per account and region (a singleton setting:
        every stage in the account sets the same managed policy, so the last deployed one's role is used).
        """
        # A Cfn resource takes the retention as a number of days, as the stage settings give it.
        group = logs.CfnLogGroup(
            self, "AccessLogs", log_group_name=f"/aws/apigateway/{prefix}/access", retention_in_days=retention_days
        )
        role = iam.Role(
            self,
            "ApiGatewayLogsRole",
            role_name=f"{prefix}-apigateway-logs",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonAPIGatewayPushToCloudWatchLogs")
            ],
        )
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "AWS's own policy for API Gateway's logging role; it covers exactly log group creation and writes.",
        )
        self.logging_account = apigateway.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        return group

    def _grant(
        self,
        role: iam.Role,
        grants: Sequence[Any],
        *,
        values: Mapping[str, str],
        tables: Sequence[dynamodb.ITable],
        passable_roles: Sequence[iam.IRole],
    ) -> None:
        """The role's statements, from chalicelib/permissions.py (which local mode's emulator enforces too)."""
        permissions = permissions_module()
        table_arns = [t.table_arn for t in tables]
        for grant in grants:
            resources = permissions.resources(grant, values, table_arns, [r.role_arn for r in passable_roles])
            role.add_to_policy(
                iam.PolicyStatement(
                    sid=grant.sid,
                    actions=list(grant.actions),
                    resources=resources,
                    conditions=permissions.conditions(grant, values) or None,
                )
            )
            for resource in resources:
                if resource != "*" and "*" in resource and "/index/" not in resource:
                    acknowledge_wildcard_resource(
                        role,
                        resource,
                        "Log groups, services, tasks, task definitions, roles and artifacts are created per model at "
                        "runtime; the pattern names this stage's prefix, cluster or bucket.",
                    )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "AWS requires Resource '*' for ecs:RegisterTaskDefinition/DeregisterTaskDefinition/ListTaskDefinitions/"
            "ListTaskDefinitionFamilies, application-autoscaling:RegisterScalableTarget/DeregisterScalableTarget/"
            "PutScalingPolicy/DeleteScalingPolicy/Describe* (scalable targets have generated ids), "
            "cloudwatch:GetMetricData, xray:PutTraceSegments/PutTelemetryRecords and the EC2 "
            "network-interface actions Lambda needs in a VPC; none has resource-level permissions.",
        )
        for table in tables:
            acknowledge_wildcard_resource(
                role, f"{table.table_arn}/index/*", "Queries read every index of the stage's own tables."
            )
