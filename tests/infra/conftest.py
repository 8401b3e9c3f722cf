"""Synthesizes the CDK app once per test session (it is slow) and hands the templates to the infra tests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import kept_environment

# Before aws_cdk starts its Node process: no end-of-life banner, and Chalice packaging needs a region.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# The third stage covers the other branches: interface endpoints instead of NAT, a runner image built
# from a stand-in Dockerfile (proving synthesis never calls Docker), a console placeholder, and
# Cognito threat protection (Plus feature plan).
RUNNER_STAND_IN = 'FROM public.ecr.aws/docker/library/python:3.11-slim\nCMD ["python", "-V"]\n'


@dataclass
class Synthesized:
    outdir: Path
    stacks: dict[str, Any]  # stage -> KrakenStack
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage -> CloudFormation template
    nag_report: dict[str, Any] | None = None  # the validation report when synthesis failed validation
    error: str | None = None

    def template(self, stage: str) -> dict[str, Any]:
        if stage not in self.templates:
            pytest.fail(f"no template for {stage}: synthesis failed: {self.error}")
        return self.templates[stage]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    from infra.assembly import build_app
    from infra.stage import Egress, StageSettings

    work = tmp_path_factory.mktemp("infra")
    runner = work / "runner"
    runner.mkdir()
    (runner / "Dockerfile").write_text(RUNNER_STAND_IN)
    settings = [
        StageSettings(stage="dev"),
        StageSettings(stage="prod"),
        StageSettings(
            stage="iso",
            egress=Egress.ENDPOINTS,
            runner_dir=runner,
            console_dist_dir=work / "no-console-build",
            threat_protection=True,
        ),
    ]
    saved = {k: os.environ.get(k) for k in ("AWS_DEFAULT_REGION", "CDK_DOCKER")}
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # Any Docker call during synthesis would fail loudly: there must be none.
    os.environ["CDK_DOCKER"] = str(work / "no-docker-here")
    try:
        outdir = work / "cdk.out"
        # Packaging the Chalice app sets its stage's environment in this process; the synthesis's own two stay.
        with kept_environment(keep=tuple(saved)):
            app, stacks = build_app(settings, outdir=str(outdir))
            result = Synthesized(outdir=outdir, stacks=stacks)
            try:
                app.synth()
            except RuntimeError as error:  # cdk-nag findings make synth raise after writing the templates
                result.error = str(error)
                report = outdir / "validation-report.json"
                if report.is_file():
                    result.nag_report = json.loads(report.read_text())
        for stage, stack in stacks.items():
            template_file = outdir / f"{stack.stack_name}.template.json"
            if template_file.is_file():
                result.templates[stage] = json.loads(template_file.read_text())
        yield result
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
