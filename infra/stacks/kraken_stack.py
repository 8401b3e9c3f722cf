"""One stage of kraken: data, network, compute, API, console and observability, wired in one place."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.backend_contract import config_module, permissions_module, security_headers_module
from infra.constructs.api import API_GATEWAY_STAGE, KrakenApi, request_log_group_name
from infra.constructs.auth import SignIn
from infra.constructs.compute import ModelCompute
from infra.constructs.console import RATE_LIMIT_RULES, Console
from infra.constructs.network import Network
from infra.constructs.observability import Observability
from infra.constructs.storage import ArtifactBucket, LogBucket, Tables, table_env_var
from infra.stage import StageSettings

# Constants in chalicelib/config.py the stack leaves alone on purpose. tests/infra fails when the
# backend declares a name that is neither set by _environment nor listed here.
NOT_SET_BY_STACK = frozenset(
    {
        "AWS_ENDPOINT_URL",  # local mode and tests only
        "REGION",  # Lambda sets AWS_REGION and AWS_DEFAULT_REGION itself
        "DEFAULT_REGION",
        "OPERATIONS_TTL_DAYS",  # tunables whose backend defaults are the intended production values
        "ARTIFACT_MAX_BYTES",
        "START_TIMEOUT_SECONDS",
        "IDLE_MINUTE_SECONDS",  # compressed by the tests of the idle stop only
        # The console and the API share the CloudFront domain, so the console's requests are same-origin
        # and need no CORS. Setting the distribution's domain here would make the functions depend on
        # the distribution, whose /api/* origin depends on the API: a dependency cycle.
        "CORS_ORIGIN",
        "SHADOW_FILTER_PATTERN",  # not a variable: the subscription filter's pattern (KrakenApi uses it)
    }
)


class KrakenStack(cdk.Stack):
    """Attributes: every construct (`tables`, `sign_in`, `artifacts`, `network`, `compute`, `rollout_topic`, `api`,
    `console`, `observability`) and `function_environment` (the functions' environment variables)."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: StageSettings, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"kraken model manager, stage {settings.stage}",
            termination_protection=settings.is_production,
            **kwargs,
        )
        self.settings = settings
        prefix = settings.prefix
        retain = settings.is_production
        cdk.Tags.of(self).add("kraken:stage", settings.stage)

        logs = LogBucket(self, "AccessLogs", retain=retain)
        self.tables = Tables(self, "Tables", prefix=prefix, retain=retain)
        self.sign_in = SignIn(
            self, "SignIn", prefix=prefix, retain=retain, threat_protection=settings.threat_protection
        )
        self.network = Network(
            self,
            "Network",
            egress=settings.egress,
            nat_gateways=settings.nat_gateways,
            flow_log_bucket=logs.bucket,
        )
        # Everything but the bucket itself uses the artifact bucket's fixed name (see ArtifactBucket).
        artifact_bucket_name = ArtifactBucket.name_for(prefix)
        self.compute = self._compute(artifact_bucket_name)
        subnet_ids = self.network.vpc.select_subnets(subnet_type=self.network.private_subnets.subnet_type).subnet_ids

        self.rollout_topic = self._rollout_topic()
        self.function_environment = self._environment(subnet_ids, artifact_bucket_name)
        self.api = self._api(subnet_ids, artifact_bucket_name)
        self.console = self._console(artifact_bucket_name, logs.bucket)
        # Browsers may upload artifacts from the console's origin only.
        self.artifacts = ArtifactBucket(
            self,
            "Artifacts",
            prefix=prefix,
            retain=retain,
            log_bucket=logs.bucket,
            allowed_origins=[self.console.url],
        )
        self.observability = self._observability()
        self._outputs()

    def _rollout_topic(self) -> sns.Topic:
        """Where a rollout's steps and rollback are published (subscribe an email or a chat hook to it)."""
        name = permissions_module().ROLLOUT_TOPIC_NAME.format(prefix=self.settings.prefix)
        return sns.Topic(
            self,
            "RolloutTopic",
            topic_name=name,
            display_name=f"{self.settings.prefix} rollouts",
            enforce_ssl=True,
            master_key=kms.Alias.from_alias_name(self, "SnsManagedKey", "alias/aws/sns"),
        )

    def _compute(self, artifact_bucket_name: str) -> ModelCompute:
        """Where models run, with the network's endpoints open to the function's and the models' security groups."""
        settings = self.settings
        compute = ModelCompute(
            self,
            "Models",
            prefix=settings.prefix,
            vpc=self.network.vpc,
            artifact_bucket_name=artifact_bucket_name,
            model_log_group_prefix=settings.model_log_group_prefix,
            runner_dir=settings.runner_dir,
        )
        self.network.allow_endpoint_access(compute.function_security_group, compute.model_security_group)
        return compute

    def _api(self, subnet_ids: list[str], artifact_bucket_name: str) -> KrakenApi:
        """The Chalice API and background functions, with the permissions on what they manage."""
        settings = self.settings
        prefix = settings.prefix
        return KrakenApi(
            self,
            "Api",
            prefix=prefix,
            source_dir=settings.backend_dir,
            stage=settings.stage,
            environment=self.function_environment,
            subnet_ids=subnet_ids,
            security_group=self.compute.function_security_group,
            tables=self.tables.tables,
            artifact_bucket_name=artifact_bucket_name,
            cluster_name=prefix,
            cluster_arn=self.compute.cluster.cluster_arn,
            passable_roles=self.compute.task_roles,
            model_log_group_prefix=settings.model_log_group_prefix,
            log_retention_days=settings.log_retention_days,
            throttle_rate=settings.api_throttle_rate,
            throttle_burst=settings.api_throttle_burst,
            api_concurrency=settings.api_concurrency,
            background_concurrency=settings.background_concurrency,
            user_pool_id=self.sign_in.user_pool_id,
        )

    def _console(self, artifact_bucket_name: str, log_bucket: s3.IBucket) -> Console:
        """The console and the CloudFront distribution that also serves the API under /api."""
        settings = self.settings
        bucket_hosts = [
            f"https://{artifact_bucket_name}.s3.{self.region}.{self.url_suffix}",
            f"https://{artifact_bucket_name}.s3.{self.url_suffix}",
        ]
        return Console(
            self,
            "Console",
            prefix=settings.prefix,
            api_domain=self.api.api_domain,
            api_stage_path=API_GATEWAY_STAGE,
            dist_dir=settings.console_dist_dir,
            runtime_config=self._console_config(),
            # The console calls its own origin, Cognito in the stage's region, and the bucket it uploads to.
            connect_sources=[security_headers_module().cognito_endpoint(self.region), *bucket_hosts],
            log_bucket=log_bucket,
            waf_rate_limit=settings.waf_rate_limit,
        )

    def _console_config(self) -> dict[str, Any]:
        """The console's config.json: where the API is and how to sign in."""
        return {
            "apiBase": "/api",
            "stage": self.settings.stage,
            "region": self.region,
            "auth": {
                "userPoolId": self.sign_in.user_pool_id,
                "clientId": self.sign_in.client_id,
                "region": self.region,
                "cognitoEndpoint": None,  # the console then uses https://cognito-idp.<region>.amazonaws.com/
            },
        }

    def _observability(self) -> Observability:
        """The dashboard and the alarms over the API and the functions."""
        settings = self.settings
        return Observability(
            self,
            "Observability",
            prefix=settings.prefix,
            metrics_namespace=settings.metrics_namespace,
            api_name=self.api.api_name,
            api_stage=API_GATEWAY_STAGE,
            function_names=list(self.api.function_names.values()),
            api_function_name=self.api.api_function_name,
            alarm_email=settings.alarm_email,
        )

    def _outputs(self) -> None:
        """The stack outputs build-deploy.sh and operators read after a deployment."""
        outputs = {
            "Stage": (self.settings.stage, "the stage this stack deploys"),
            "ConsoleUrl": (self.console.url, "open this in a browser"),
            "ApiUrl": (f"{self.console.url}/api", "the API, on the console's domain"),
            "ApiGatewayUrl": (self.api.api_url, "the API Gateway stage itself (prefer ApiUrl)"),
            "ArtifactBucketName": (self.artifacts.bucket_name, "model artifacts"),
            "ClusterName": (self.compute.cluster.cluster_name, "ECS cluster running the models"),
            "ApiFunctionName": (self.api.api_function_name, "the Chalice API function"),
            "DashboardName": (self.observability.dashboard.dashboard_name, "CloudWatch dashboard"),
            "AlarmTopicArn": (self.observability.alarm_topic.topic_arn, "subscribe here for alarm mail"),
            "UserPoolId": (self.sign_in.user_pool_id, "Cognito user pool: create users here"),
            "UserPoolClientId": (self.sign_in.client_id, "the console's app client"),
            "Region": (self.region, "the stage's region"),
        }
        for layout_name, table in self.tables.by_layout.items():
            outputs[f"{layout_name}TableName"] = (table.table_name, f"DynamoDB table {layout_name}")
        for output_id, (value, description) in outputs.items():
            cdk.CfnOutput(self, output_id, value=value, description=description)

    def _environment(self, subnet_ids: list[str], artifact_bucket_name: str) -> dict[str, str]:
        """The functions' environment, named by chalicelib/config.py; set here and nowhere else."""
        config = config_module()
        settings = self.settings
        environment = {
            config.STAGE: settings.stage,
            config.ARTIFACT_BUCKET: artifact_bucket_name,
            config.CLUSTER: settings.prefix,
        }
        for layout in self.tables.layouts:
            environment[table_env_var(layout)] = self.tables.by_layout[layout.logical_name].table_name
        compute = self.compute
        network = self.network
        nat_gateways = [c for c in network.vpc.node.find_all() if isinstance(c, ec2.CfnNatGateway)]
        endpoint_interfaces = len(network.interface_endpoints) * len(network.vpc.availability_zones)
        # chalicelib/config.py names each variable (constant -> value): the backend owns the names.
        by_constant = {
            # What the stage costs with no model running: counted from the constructs themselves.
            "NAT_GATEWAYS": str(len(nat_gateways)),
            "INTERFACE_ENDPOINTS": str(endpoint_interfaces),
            "WAF_RULES": str(RATE_LIMIT_RULES if settings.waf_rate_limit else 0),
            "TASK_EXECUTION_ROLE_ARN": compute.execution_role.role_arn,
            "MODEL_TASK_BOUNDARY_ARN": compute.model_task_boundary.managed_policy_arn,
            "SUBNETS": ",".join(subnet_ids),
            "TASK_SECURITY_GROUP": compute.model_security_group.security_group_id,
            "RUNNER_IMAGE": compute.runner_image.image_uri,
            "MODEL_LOG_RETENTION_DAYS": str(settings.log_retention_days),
            "METRICS_NAMESPACE": settings.metrics_namespace,
            "REQUEST_LOG_GROUP": request_log_group_name(settings.prefix),
            "USER_POOL_ID": self.sign_in.user_pool_id,
            "USER_POOL_CLIENT_ID": self.sign_in.client_id,
            "TOKEN_ISSUER": self.sign_in.issuer,
            "JWKS_URL": self.sign_in.jwks_url,
            "ROLLOUT_TOPIC_ARN": self.rollout_topic.topic_arn,
        }
        for constant, value in by_constant.items():
            environment[getattr(config, constant)] = value
        return environment
