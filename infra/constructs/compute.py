"""Where models run: the Fargate cluster, the roles tasks run with, the security groups, the runner image."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.backend_contract import permissions_module
from infra.constructs.nag import acknowledge, acknowledge_wildcard_resource

# Model containers listen on the containerPort their record names (1..65535, the standard runner on
# 8080; images built for ML-Kraken often use 80); only the API function's security group reaches them.
MODEL_PORTS = ec2.Port.tcp_range(1, 65535)


class ModelCompute(Construct):
    """The ECS cluster and everything a model task needs; the API registers task definitions at runtime.

    Attributes: `cluster`, `execution_role`, `model_task_boundary` (the permissions boundary of every model's
    own role, which the API makes per model at runtime), `function_security_group` (the API function's),
    `model_security_group` (the containers'), `runner_image` (the standard runner, an image asset),
    `model_log_group_arn` (pattern for the per-model log groups).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        vpc: ec2.IVpc,
        artifact_bucket_name: str,
        model_log_group_prefix: str,
        runner_dir: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=prefix,
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
            enable_fargate_capacity_providers=True,
        )
        self.function_security_group, self.model_security_group = self._security_groups(prefix, vpc)
        self.model_log_group_arn = cdk.Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{model_log_group_prefix}/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.execution_role = self._execution_role(prefix, model_log_group_prefix)
        self.model_task_boundary = self._model_task_boundary(prefix, artifact_bucket_name)
        self.runner_image = self._runner_image(runner_dir)
        self.task_roles = (self.execution_role,)

    def _security_groups(self, prefix: str, vpc: ec2.IVpc) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup]:
        """The API function's security group and the model containers', which admits only the former."""
        function_security_group = ec2.SecurityGroup(
            self,
            "FunctionSecurityGroup",
            vpc=vpc,
            security_group_name=f"{prefix}-api-function",
            description=f"{prefix} API function: calls AWS APIs and the model containers",
            allow_all_outbound=True,
        )
        model_security_group = ec2.SecurityGroup(
            self,
            "ModelSecurityGroup",
            vpc=vpc,
            security_group_name=f"{prefix}-models",
            description=f"{prefix} model containers: reachable only from the API function",
            # Containers pull their image and artifact and write logs; nothing else is restricted outbound
            # because custom images may fetch what they need at start.
            allow_all_outbound=True,
        )
        model_security_group.add_ingress_rule(
            peer=function_security_group,
            connection=MODEL_PORTS,
            description="prediction requests proxied by the API function",
        )
        return function_security_group, model_security_group

    def _execution_role(self, prefix: str, model_log_group_prefix: str) -> iam.Role:
        """The role the ECS agent starts a task with: pull the image, write the container's logs."""
        role = iam.Role(
            self,
            "TaskExecutionRole",
            role_name=f"{prefix}-task-execution",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"{prefix}: lets ECS pull model images and write model logs",
        )
        stack = cdk.Stack.of(self)
        permissions = permissions_module()
        values = {
            "partition": stack.partition,
            "region": stack.region,
            "account": stack.account,
            "prefix": prefix,
            "model_log_groups": model_log_group_prefix,
        }
        why = {
            "WriteModelLogs": "One log group per model, created at runtime under this stage's prefix.",
            "AccountImages": "A model may name any image of the account's own ECR repositories (no pull secret).",
            "RegistryCredentials": "One pull secret per model, written by the API under this stage's prefix.",
            "EnvSecrets": "Secret env values, one secret each, written by the API under this stage's prefix.",
        }
        for grant in permissions.TASK_EXECUTION:
            resources = permissions.resources(grant, values, (), ())
            role.add_to_policy(iam.PolicyStatement(sid=grant.sid, actions=list(grant.actions), resources=resources))
            for resource in resources:
                if resource == "*":
                    acknowledge(
                        role,
                        "AwsSolutions-IAM5[Resource::*]",
                        "ecr:GetAuthorizationToken has no resource-level permissions; AWS requires '*'.",
                    )
                else:
                    acknowledge_wildcard_resource(role, resource, why[grant.sid])
        return role

    def _model_task_boundary(self, prefix: str, artifact_bucket_name: str) -> iam.ManagedPolicy:
        """The most any model's own role may do (read artifacts of this stage's bucket): the API may make a
        model role only under it, so no model role can ever be granted more."""
        stack = cdk.Stack.of(self)
        permissions = permissions_module()
        values = {"partition": stack.partition, "bucket": artifact_bucket_name}
        boundary = iam.ManagedPolicy(
            self,
            "ModelTaskBoundary",
            managed_policy_name=permissions.MODEL_TASK_BOUNDARY_NAME.format(prefix=prefix),
            description=f"{prefix}: the permissions boundary of every model's own role",
        )
        for grant in permissions.MODEL_TASK_BOUNDARY_GRANTS:
            resources = permissions.resources(grant, values, (), ())
            boundary.add_statements(
                iam.PolicyStatement(sid=grant.sid, actions=list(grant.actions), resources=resources)
            )
            for resource in resources:
                acknowledge_wildcard_resource(
                    boundary,
                    resource,
                    "A bound, not a grant: each model's own role reads only models/<its id>/* within it.",
                )
        return boundary

    def _runner_image(self, runner_dir: Path) -> ecr_assets.DockerImageAsset:
        """The standard runner as an image asset, which the execution role may pull."""
        # Synthesis only hashes and copies the directory; the image is built by `cdk deploy`.
        image = ecr_assets.DockerImageAsset(
            self,
            "RunnerImage",
            directory=str(runner_dir),
            platform=ecr_assets.Platform.LINUX_AMD64,  # Fargate tasks default to X86_64
            exclude=["**/__pycache__", "**/*.pyc", "tests", ".pytest_cache"],
        )
        image.repository.grant_pull(self.execution_role)
        return image
