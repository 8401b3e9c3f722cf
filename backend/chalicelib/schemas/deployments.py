"""Shapes of versions, deployments and the deployment history, as the API takes and shows them."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, ClassVar

from pydantic import Field, StringConstraints, create_model

from chalicelib.domain.models import (
    CODE_FIELDS,
    MAX_REPLICAS,
    Autoscaling,
    DeployedVersion,
    DeploymentEntry,
    ModelRecord,
    ModelStatus,
    ModelVersion,
    Shadow,
)
from chalicelib.domain.shadow import ShadowReport
from chalicelib.schemas.common import Instant, ResponseModel
from chalicelib.schemas.comparison import (
    ComparisonRuleResponse,
    ComparisonRuleSettings,
    CountsResponse,
    DifferenceResponse,
    LatencyResponse,
    tally_fields,
)
from chalicelib.schemas.models import (
    Cpu,
    Memory,
    Metadata,
    ModelSettings,
    Notes,
    ShownEnv,
    _Strict,
    domain_env,
    shown_env,
)

UpdateMessage = Annotated[str, StringConstraints(max_length=1024)]
VersionNumber = Annotated[int, Field(ge=1, le=999999)]
Weight = Annotated[int, Field(ge=0, le=100)]
Replicas = Annotated[int, Field(ge=1, le=MAX_REPLICAS)]


def _code_settings() -> type[_Strict]:
    """The model's code settings, each optional: a new version takes the model's own for those left out."""
    fields: dict[str, Any] = {}
    for name in CODE_FIELDS:
        if name not in ModelSettings.model_fields:
            continue  # kept by the platform (secret_env comes from env's secret values)
        info = ModelSettings.model_fields[name]
        rules: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        fields[name] = (rules | None, None)
    return create_model("_CodeSettings", __base__=_Strict, **fields)


_CodeSettings: Any = _code_settings()


class CreateVersionRequest(_CodeSettings):
    """A new version: notes, and any code settings that differ from the model's own."""

    notes: Notes = ""
    # The version's own facts (its training run, its data); they stay as given, as the version does.
    metadata: Metadata = Field(default_factory=dict)

    # A null switches between an image and an artifact (or leaves the port to the runner); any other
    # null, like a field left out, takes the model's own.
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"docker_image", "artifact_format", "container_port"})

    def code(self) -> dict[str, Any]:
        dumped = self.model_dump(exclude_unset=True, exclude={"notes", "metadata"})
        code = {name: value for name, value in dumped.items() if value is not None or name in self.NULLABLE}
        if "env" in code:
            code["env"] = domain_env(code["env"])
        return code


class AutoscalingSettings(_Strict):
    """Replicas from min to max following the load: target tracking on CPU and/or requests per replica."""

    min_replicas: Replicas
    max_replicas: Replicas
    target_cpu_percent: Annotated[float, Field(ge=5, le=95)] | None = None
    target_requests_per_replica: Annotated[float, Field(gt=0, le=10000)] | None = None

    def policy(self) -> Autoscaling:
        return Autoscaling(**self.model_dump())


class AutoscalingResponse(ResponseModel):
    min_replicas: int
    max_replicas: int
    target_cpu_percent: float | None
    target_requests_per_replica: float | None


class ShadowSettings(_Strict):
    """Also send `percent` of the live requests to this version (weight 0): its answers reach no caller and are
    compared with the serving version's under `rule`."""

    percent: Annotated[int, Field(ge=1, le=100)]
    rule: ComparisonRuleSettings = Field(default_factory=ComparisonRuleSettings)

    def shadow(self) -> Shadow:
        return Shadow(self.percent, self.rule.rule())


class ShadowResponse(ResponseModel):
    percent: int
    rule: ComparisonRuleResponse
    since: Instant | None = Field(description="when it became a shadow (with this rule): its tally counts from then")


class DeployedVersionRequest(_Strict):
    version: VersionNumber
    weight: Weight
    # With autoscaling, the count it starts at (kept within its bounds).
    replicas: Replicas = 1
    # Left out: the size the version has in the deployment now, else the model's own.
    container_cpu: Cpu | None = None
    container_memory: Memory | None = None
    autoscaling: AutoscalingSettings | None = None
    # Fargate Spot: about 70% cheaper, but AWS may take a task back with two minutes' notice.
    spot: bool = False
    # A shadow has weight 0 and needs the model's captureBodyBytes above 0.
    shadow: ShadowSettings | None = None

    def deployed(self, record: ModelRecord) -> DeployedVersion:
        current = next((d for d in record.wanted() if d.version == self.version), None)
        cpu = self.container_cpu or (current.container_cpu if current else record.container_cpu)
        memory = self.container_memory or (current.container_memory if current else record.container_memory)
        policy = self.autoscaling.policy() if self.autoscaling else None
        replicas = policy.bounded(self.replicas) if policy else self.replicas
        shadow = self.shadow.shadow() if self.shadow else None
        return DeployedVersion(self.version, self.weight, replicas, cpu, memory, policy, self.spot, shadow)


class DeploymentRequest(_Strict):
    """The whole new deployment: its versions with weights summing to 100, and why it changes."""

    versions: Annotated[list[DeployedVersionRequest], Field(min_length=1, max_length=10)]
    message: UpdateMessage = ""
    # May stand in for If-Match.
    revision: Annotated[int, Field(ge=1)] | None = None


class RollbackRequest(_Strict):
    entry_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    message: UpdateMessage = ""
    revision: Annotated[int, Field(ge=1)] | None = None


class VersionArtifactResponse(ResponseModel):
    size: int
    uploaded_at: Instant
    sha256: str | None


class VersionResponse(ResponseModel):
    number: int
    notes: str
    created_by: str
    created_at: Instant
    docker_image: str | None
    artifact_format: str | None
    container_port: int
    env: ShownEnv  # a secret value is never answered
    predict_path: str
    health_path: str
    artifact: VersionArtifactResponse | None
    artifact_pending_since: Instant | None
    artifact_of: int | None
    metadata: dict[str, str]
    # Whether it is in the deployment or still gets traffic: such a version cannot be deleted.
    serving: bool
    status: ModelStatus

    @classmethod
    def of(cls, record: ModelRecord, version: ModelVersion) -> VersionResponse:
        return cls.model_validate(
            {
                **{name: getattr(version, name) for name in cls.model_fields if hasattr(version, name)},
                "env": shown_env(version.env, version.secret_env),
                "serving": version.number in {d.version for d in record.wanted()},
                "status": record.state_of(version.number).status,
            }
        )


class VersionListResponse(ResponseModel):
    items: list[VersionResponse]


class DeployedVersionResponse(ResponseModel):
    version: int
    weight: int
    replicas: int
    container_cpu: float
    container_memory: float
    status: ModelStatus
    status_reason: str | None
    healthy_replicas: int
    # The share of unpinned traffic it gets now (the previous deployment's until a switch completes).
    serving_weight: int
    leaving: bool = Field(
        description="not in the deployment any more: it serves until the switch completes, then finishes "
        "the requests in flight and stops"
    )
    autoscaling: AutoscalingResponse | None
    spot: bool
    libraries: dict[str, str] = Field(
        description="the standard runner's library versions, as its first replica of this run reported them"
    )
    load_warnings: list[str] = Field(description="warnings raised while loading the artifact (empty: none)")
    shadow: ShadowResponse | None

    @classmethod
    def of(cls, record: ModelRecord, deployed: DeployedVersion, leaving: bool = False) -> DeployedVersionResponse:
        state = record.state_of(deployed.version)
        serving = {d.version: d.weight for d in record.serving} if record.status is not ModelStatus.STOPPED else {}
        return cls(
            version=deployed.version,
            weight=deployed.weight,
            replicas=deployed.replicas,
            container_cpu=deployed.container_cpu,
            container_memory=deployed.container_memory,
            status=state.status,
            status_reason=state.status_reason,
            healthy_replicas=len(state.endpoints) if state.status is ModelStatus.RUNNING else 0,
            serving_weight=serving.get(deployed.version, 0),
            leaving=leaving,
            autoscaling=AutoscalingResponse.model_validate(deployed.autoscaling) if deployed.autoscaling else None,
            spot=deployed.spot,
            libraries=state.libraries,
            load_warnings=list(state.load_warnings),
            shadow=ShadowResponse.model_validate(deployed.shadow) if deployed.shadow else None,
        )


def deployment_of(record: ModelRecord) -> list[DeployedVersionResponse]:
    """The deployment, then any version still serving from the previous one (weight 0 in the new)."""
    shown = [DeployedVersionResponse.of(record, d) for d in record.deployment]
    deployed = {d.version for d in record.deployment}
    leaving = [d for d in record.serving if d.version not in deployed]
    leaving += [
        DeployedVersion(s.version, 0, 0, record.container_cpu, record.container_memory)
        for s in record.version_states
        if s.version not in deployed and s.version not in {d.version for d in record.serving}
    ]
    shown += [DeployedVersionResponse.of(record, dataclasses.replace(item, weight=0), True) for item in leaving]
    return shown


class SpecLineResponse(ResponseModel):
    version: int
    weight: int
    replicas: int
    container_cpu: float
    container_memory: float
    artifact_sha256: str | None
    docker_image: str | None
    autoscaling: AutoscalingResponse | None
    spot: bool
    shadow: ShadowResponse | None


class HistoryEntryResponse(ResponseModel):
    entry_id: str
    at: Instant
    actor: str
    action: str
    message: str
    spec: list[SpecLineResponse]

    @classmethod
    def of(cls, entry: DeploymentEntry) -> HistoryEntryResponse:
        return cls.model_validate(entry)


class HistoryListResponse(ResponseModel):
    items: list[HistoryEntryResponse]
    next_token: str | None


class ShadowTallyResponse(ResponseModel):
    """One shadow version: its share and what its comparisons came to since it became a shadow."""

    version: int
    percent: int
    since: Instant | None
    counts: CountsResponse
    match_rate: float | None = Field(description="matched among the compared requests; null before any")
    largest: list[DifferenceResponse]
    candidate_latency: LatencyResponse = Field(description="the shadow's container time for the compared requests")
    baseline_latency: LatencyResponse = Field(description="the serving version's, for the same requests")

    @classmethod
    def of(cls, report: ShadowReport) -> ShadowTallyResponse:
        return cls(version=report.version, percent=report.percent, since=report.since, **tally_fields(report.tally))


class ShadowListResponse(ResponseModel):
    items: list[ShadowTallyResponse]
