"""Per-stage settings of the kraken stack, read from CDK context and validated in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BACKEND_DIR = REPO_ROOT / "backend"
RUNNER_DIR = BACKEND_DIR / "runner"
CONSOLE_DIST_DIR = REPO_ROOT / "frontend_build" / "dist"

# Lower-case and short, because the stage is part of every resource name and the artifact bucket's
# name (kraken-<stage>-artifacts-<account>-<region>) must stay within S3's 63 characters.
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,11}$")
PRODUCTION_STAGES = frozenset({"prod", "production"})


class Egress(StrEnum):
    """How private subnets reach AWS APIs and the internet."""

    NAT = "nat"  # one NAT gateway: everything reachable, ~$33/month + $0.045/GB
    ENDPOINTS = "endpoints"  # interface endpoints for the AWS APIs only; no internet from the VPC


@dataclass(frozen=True, kw_only=True)
class StageSettings:
    """Everything that differs between stages; the stack reads nothing else from context."""

    stage: str
    egress: Egress = Egress.NAT
    metrics_namespace: str = "Kraken"
    alarm_email: str | None = None
    nat_gateways: int = 1
    log_retention_days: int = 30
    api_throttle_rate: int = 100  # requests per second across the API, before API Gateway answers 429
    api_throttle_burst: int = 200
    # Reserved concurrency: the API function may use at most this many instances, so a flood of requests
    # cannot starve the event handler and the reconciler, which keep `background_concurrency` each.
    # 0 reserves nothing (accounts whose concurrency quota is still 10 cannot reserve any).
    api_concurrency: int = 50
    background_concurrency: int = 2
    # A WAF web ACL on CloudFront with a rate-based rule (requests per 5 minutes per IP); 0: no WAF.
    waf_rate_limit: int = 0
    # Cognito threat protection needs the Plus feature plan (billed per active user, no free tier).
    threat_protection: bool = False
    backend_dir: Path = BACKEND_DIR
    runner_dir: Path = RUNNER_DIR
    console_dist_dir: Path = CONSOLE_DIST_DIR

    def __post_init__(self) -> None:
        if not _STAGE_NAME.match(self.stage):
            raise ValueError(
                f"stage {self.stage!r} must match {_STAGE_NAME.pattern}: it is part of every resource name"
            )
        if self.waf_rate_limit and self.waf_rate_limit < 10:
            raise ValueError("waf_rate_limit is requests per 5 minutes per IP; AWS WAF accepts 10 or more")
        if self.nat_gateways < 1 and self.egress is Egress.NAT:
            raise ValueError("egress=nat needs at least one NAT gateway")

    @property
    def is_production(self) -> bool:
        """Production keeps its data: tables and buckets are retained and protected from deletion."""
        return self.stage in PRODUCTION_STAGES

    @property
    def prefix(self) -> str:
        """The name every resource of this stage starts with, so two stages coexist in one account."""
        return f"kraken-{self.stage}"

    @property
    def model_log_group_prefix(self) -> str:
        """Log groups the API creates for model containers, one per model."""
        return f"/kraken/{self.stage}/models"

    @classmethod
    def from_context(cls, stage: str, context: dict[str, Any]) -> StageSettings:
        """Settings from `cdk -c key=value` context; unknown keys are ignored by design (CDK adds its own)."""
        kwargs: dict[str, Any] = {"stage": stage}
        if "egress" in context:
            kwargs["egress"] = Egress(str(context["egress"]))
        if context.get("metricsNamespace"):
            kwargs["metrics_namespace"] = str(context["metricsNamespace"])
        if context.get("alarmEmail"):
            kwargs["alarm_email"] = str(context["alarmEmail"])
        if "natGateways" in context:
            kwargs["nat_gateways"] = int(context["natGateways"])
        if "logRetentionDays" in context:
            kwargs["log_retention_days"] = int(context["logRetentionDays"])
        for key, field in (
            ("apiConcurrency", "api_concurrency"),
            ("backgroundConcurrency", "background_concurrency"),
            ("wafRateLimit", "waf_rate_limit"),
        ):
            if key in context:
                kwargs[field] = int(context[key])
        if "threatProtection" in context:
            kwargs["threat_protection"] = str(context["threatProtection"]).lower() in ("true", "1", "yes")
        return cls(**kwargs)


def stages_from_context(context: dict[str, Any]) -> list[str]:
    """`-c stages=dev,prod` synthesizes several stages at once (the offline check); `-c stage=x` one."""
    raw = context.get("stages") or context.get("stage") or "dev"
    names = [name.strip() for name in str(raw).split(",") if name.strip()]
    return list(dict.fromkeys(names))
