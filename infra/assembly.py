"""Builds the CDK app: one KrakenStack per stage, with cdk-nag's AwsSolutions checks on everything."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.stacks.kraken_stack import KrakenStack
from infra.stage import StageSettings

# CDK feature flags this app is written for, applied by build_app so the CLI and the tests agree.
FEATURE_FLAGS: dict[str, Any] = {
    # Access logs delivered under a bucket policy instead of the deprecated LogDeliveryWrite ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    # CDK's built-in CloudFormation schema validation fails synthesis instead of printing warnings.
    "@aws-cdk/core:validateAgainstDefaultRules": True,
}


def build_app(
    stages: Sequence[str | StageSettings],
    *,
    app: cdk.App | None = None,
    context: dict[str, Any] | None = None,
    outdir: str | None = None,
    nag: bool = True,
) -> tuple[cdk.App, dict[str, KrakenStack]]:
    """An app with a stack named kraken-<stage> per stage; nag errors make `app.synth()` fail.

    Pass `app` to use one the CDK CLI configured (context, outdir); otherwise one is created.
    """
    if app is None:
        app = cdk.App(context={**FEATURE_FLAGS, **(context or {})}, outdir=outdir)
    else:
        for flag, value in FEATURE_FLAGS.items():
            if app.node.try_get_context(flag) is None:
                app.node.set_context(flag, value)
    context = dict(app.node.get_all_context() or {})
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stacks: dict[str, KrakenStack] = {}
    for stage in stages:
        settings = stage if isinstance(stage, StageSettings) else StageSettings.from_context(stage, context)
        stacks[settings.stage] = KrakenStack(app, settings.prefix, settings=settings)
    return app, stacks
