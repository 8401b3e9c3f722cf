"""Stateful resources: DynamoDB tables built from backend/chalicelib/tables.py, the artifact and log buckets."""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.backend_contract import TableLayout, config_module, tables_module

_ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def snake(logical_name: str) -> str:
    """OperationsLog -> operations_log: the table's part of its resource name and environment variable."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", logical_name).lower()


def table_env_var(layout: TableLayout) -> str:
    """The environment variable that carries a table's name to the Lambda.

    chalicelib/config.py owns the names: `<SNAKE_LOGICAL_NAME>_TABLE` (Models -> MODELS_TABLE). A table
    whose constant is not there yet gets the same spelling the existing ones use, KRAKEN_<NAME>_TABLE.
    """
    constant = f"{snake(layout.logical_name).upper()}_TABLE"
    return str(getattr(config_module(), constant, f"KRAKEN_{constant}"))


def _attribute(key: object) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])  # type: ignore[attr-defined]


class Tables(Construct):
    """One on-demand table per layout in `chalicelib.tables.ALL_TABLES`, so a new layout is a new table.

    Attributes: `by_layout` (logical name -> Table), `layouts`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, prefix: str, retain: bool) -> None:
        super().__init__(scope, construct_id)
        self.layouts: Sequence[TableLayout] = tables_module().ALL_TABLES
        self.by_layout: dict[str, dynamodb.Table] = {}
        for layout in self.layouts:
            table = dynamodb.Table(
                self,
                layout.logical_name,
                table_name=f"{prefix}-{snake(layout.logical_name).replace('_', '-')}",
                partition_key=_attribute(layout.partition_key),
                sort_key=_attribute(layout.sort_key) if layout.sort_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,  # nothing to pay at idle
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                time_to_live_attribute=layout.ttl_attribute,
                deletion_protection=retain,
                removal_policy=cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY,
            )
            for index in layout.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_attribute(index.partition_key),
                    sort_key=_attribute(index.sort_key) if index.sort_key else None,
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            self.by_layout[layout.logical_name] = table

    @property
    def tables(self) -> list[dynamodb.Table]:
        return list(self.by_layout.values())


def removal_settings(retain: bool) -> dict[str, object]:
    """Production keeps its buckets; elsewhere a stack deletion empties and removes them."""
    if retain:
        return {"removal_policy": cdk.RemovalPolicy.RETAIN}
    return {"removal_policy": cdk.RemovalPolicy.DESTROY, "auto_delete_objects": True}


class LogBucket(Construct):
    """Receives S3 server access logs, CloudFront logs and VPC flow logs; expires them after 90 days."""

    def __init__(self, scope: Construct, construct_id: str, *, retain: bool) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # CloudFront standard logging writes with ACLs, which BUCKET_OWNER_ENFORCED would refuse.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=cdk.Duration.days(90))],
            **removal_settings(retain),  # type: ignore[arg-type]
        )


class ArtifactBucket(Construct):
    """Model artifacts: private, encrypted, TLS only, versioned, with CORS for presigned browser uploads.

    The name is fixed (kraken-<stage>-artifacts-<account>-<region>, see `name_for`) rather than generated:
    the functions' environment and IAM policies, and the console's CSP, use the name and an ARN built from
    it, so none of them depends on the bucket resource, whose CORS names the console's CloudFront domain
    (console -> API -> functions -> bucket -> console would be a cycle).
    """

    @staticmethod
    def name_for(prefix: str) -> str:
        return f"{prefix}-artifacts-{cdk.Aws.ACCOUNT_ID}-{cdk.Aws.REGION}"

    @staticmethod
    def arn_for(scope: Construct, bucket_name: str) -> str:
        return cdk.Arn.format(
            cdk.ArnComponents(service="s3", resource=bucket_name, region="", account=""), cdk.Stack.of(scope)
        )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        retain: bool,
        log_bucket: s3.IBucket,
        allowed_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket_name = self.name_for(prefix)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=self.bucket_name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,  # an overwritten or deleted artifact can be recovered for 30 days
            server_access_logs_bucket=log_bucket,
            server_access_logs_prefix="s3/artifacts/",
            cors=[
                s3.CorsRule(
                    # Presigned POST from the console; PUT for presigned PUT URLs; GET for downloads.
                    allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.PUT, s3.HttpMethods.GET],
                    allowed_origins=list(allowed_origins),
                    allowed_headers=["*"],
                    exposed_headers=["ETag"],
                    max_age=3000,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-old-versions",
                    noncurrent_version_expiration=cdk.Duration.days(30),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                    expired_object_delete_marker=True,
                )
            ],
            **removal_settings(retain),  # type: ignore[arg-type]
        )

        self.bucket_arn = self.arn_for(self, self.bucket_name)
