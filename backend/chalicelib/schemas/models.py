"""Shapes of the model registry's requests and responses, with per-field validation."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)

from chalicelib.domain.clock import utc_now
from chalicelib.domain.env_secrets import SecretEnv
from chalicelib.domain.models import (
    ArtifactFormat,
    ModelRecord,
    ModelStatus,
    Schedule,
    ScheduleAction,
    Visibility,
    setting_default,
)
from chalicelib.domain.projects import PROJECT_NAME
from chalicelib.domain.schedules import MAX_SCHEDULES, cron_problem, next_run, timezone_problem
from chalicelib.schemas.common import Instant, ResponseModel, api_name

MAX_ENV_KEYS = 50
MAX_ENV_VALUE_BYTES = 4096
RESERVED_ENV_PREFIX = "KRAKEN_"
# Metadata is for facts a person scans in a list, not for data: a few short entries.
MAX_METADATA_ENTRIES = 20
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
MetadataValue = Annotated[str, StringConstraints(max_length=256)]
Metadata = Annotated[dict[MetadataKey, MetadataValue], Field(max_length=MAX_METADATA_ENTRIES)]
Username = Annotated[str, StringConstraints(min_length=1, max_length=128)]

ModelName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
ProjectName = Annotated[str, StringConstraints(pattern=PROJECT_NAME.pattern)]
Version = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._+-]+$")]
Description = Annotated[str, StringConstraints(max_length=2048)]
Notes = Annotated[str, StringConstraints(max_length=2048)]
# A registry reference such as 123.dkr.ecr.eu-west-1.amazonaws.com/team/model:1.2 or name@sha256:...
DockerImage = Annotated[
    str, StringConstraints(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$")
]
UrlPath = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^/[A-Za-z0-9._~/%-]*$")]
Port = Annotated[int, Field(ge=1, le=65535)]
Cpu = Annotated[float, Field(gt=0, le=16)]
Memory = Annotated[float, Field(gt=0, le=120)]
PredictTimeout = Annotated[float, Field(ge=1, le=28)]  # API Gateway ends every request at 29 s
CaptureBytes = Annotated[int, Field(ge=0, le=262144)]
RateLimit = Annotated[float, Field(gt=0, le=10000)]
IdleStopMinutes = Annotated[int, Field(ge=1, le=10080)]  # up to a week
EnvName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class SecretEnvValue(BaseModel):
    """An env value kept in Secrets Manager and injected at start: never answered, logged or on a command line.

    Without `value` it keeps the value stored under that name (what a response shows can be sent back)."""

    model_config = ConfigDict(defer_build=True, strict=True, extra="forbid")

    secret: Literal[True]
    value: str | None = None


class SecretEnvShown(ResponseModel):
    """A secret env value as answered: that there is one, never what it is."""

    secret: Literal[True] = True


def _check_env(env: dict[str, str | SecretEnvValue]) -> dict[str, str | SecretEnvValue]:
    if len(env) > MAX_ENV_KEYS:
        raise ValueError(f"at most {MAX_ENV_KEYS} variables")
    for name, value in env.items():
        if name.upper().startswith(RESERVED_ENV_PREFIX):
            raise ValueError(f"{name}: names starting with {RESERVED_ENV_PREFIX} are reserved for the platform")
        text = (value.value or "") if isinstance(value, SecretEnvValue) else value
        if len(text.encode()) > MAX_ENV_VALUE_BYTES:
            raise ValueError(f"{name}: values are limited to {MAX_ENV_VALUE_BYTES} bytes")
    return env


Env = Annotated[dict[EnvName, str | SecretEnvValue], AfterValidator(_check_env)]
# A record's env as answered: plain values as they are, secret ones as {"secret": true}.
ShownEnv = dict[str, str | SecretEnvShown]


def shown_env(env: dict[str, str], secret_env: dict[str, str]) -> ShownEnv:
    return {**env, **{name: SecretEnvShown() for name in secret_env}}


def domain_env(env: dict[str, Any]) -> dict[str, str | SecretEnv]:
    """A dumped env as the domain takes it: secret values become SecretEnv."""
    return {name: SecretEnv(value.get("value")) if isinstance(value, dict) else value for name, value in env.items()}


# Enums arrive as JSON strings, which strict mode would refuse; their values are still checked exactly.
Format = Annotated[ArtifactFormat, Field(strict=False)]
EndpointVisibility = Annotated[Visibility, Field(strict=False)]


class _Strict(BaseModel):
    # Strict: "0.5" is not a number and unknown fields are mistakes worth reporting.
    model_config = ConfigDict(
        defer_build=True, strict=True, extra="forbid", alias_generator=api_name, populate_by_name=False
    )


class ScheduleSpec(_Strict):
    """Start or stop the model whenever the cron expression matches the time zone's wall clock."""

    action: Annotated[ScheduleAction, Field(strict=False)]
    cron: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Schedule.timezone

    @field_validator("cron")
    @classmethod
    def _a_cron_expression(cls, cron: str) -> str:
        problem = cron_problem(cron)
        if problem:
            raise ValueError(problem)
        return " ".join(cron.split())

    @field_validator("timezone")
    @classmethod
    def _a_time_zone(cls, name: str) -> str:
        problem = timezone_problem(name)
        if problem:
            raise ValueError(problem)
        return name


# A JSON array held as a tuple, as the record holds it (lax only here: strict mode wants a Python tuple).
Schedules = Annotated[tuple[ScheduleSpec, ...], Field(max_length=MAX_SCHEDULES, strict=False)]


def _record_values(values: dict[str, Any]) -> dict[str, Any]:
    """Dumped settings as the record holds them: schedules and secret env values become the domain's own."""
    if "env" in values:
        values["env"] = domain_env(values["env"])
    if "schedules" in values:
        # A partial update's dump leaves out the zone a schedule did not name: the default's.
        values["schedules"] = tuple(
            Schedule(ScheduleAction(s["action"]), s["cron"], s.get("timezone", Schedule.timezone))
            for s in values["schedules"]
        )
    return values


class ModelSettings(_Strict):
    """The settings a model's owner chooses, with their rules; defaults come from the domain record."""

    name: ModelName
    version: Version
    description: Description = setting_default("description")
    docker_image: DockerImage | None = setting_default("docker_image")
    artifact_format: Format | None = setting_default("artifact_format")
    container_port: Port | None = None  # optional for artifact models: the runner's port
    container_cpu: Cpu
    container_memory: Memory
    env: Env = Field(default_factory=lambda: setting_default("env"))
    predict_path: UrlPath = setting_default("predict_path")
    health_path: UrlPath = setting_default("health_path")
    predict_timeout_seconds: PredictTimeout = setting_default("predict_timeout_seconds")
    capture_body_bytes: CaptureBytes = setting_default("capture_body_bytes")
    endpoint_visibility: EndpointVisibility = setting_default("endpoint_visibility")
    # Moving a model to another project takes the editor role in both.
    project: ProjectName = setting_default("project")
    rate_limit_per_second: RateLimit | None = setting_default("rate_limit_per_second")
    idle_stop_minutes: IdleStopMinutes | None = setting_default("idle_stop_minutes")
    # Up to 10 starts and stops by the clock; the per-minute reconciler fires them (within about a minute).
    schedules: Schedules = setting_default("schedules")
    # Up to 20 entries; a change replaces the whole map. The list searches by one key (and value).
    metadata: Metadata = Field(default_factory=lambda: setting_default("metadata"))


class CreateModelRequest(ModelSettings):
    def settings(self) -> dict[str, Any]:
        """The settings by record field name, as the record holds them."""
        return _record_values(self.model_dump())


def _every_setting_optional() -> type[_Strict]:
    """ModelSettings with each field optional and unset by default, keeping each field's rules."""
    fields: dict[str, Any] = {}
    for name, info in ModelSettings.model_fields.items():
        # pydantic keeps a plain field's rules in metadata; an optional field has them inside its union.
        rules: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        fields[name] = (rules | None, None)
    return create_model("_PartialModelSettings", __base__=_Strict, **fields)


if TYPE_CHECKING:
    _PartialModelSettings = _Strict
else:
    _PartialModelSettings = _every_setting_optional()


class UpdateModelRequest(_PartialModelSettings):
    """A partial update: only the fields present change. `revision` may stand in for If-Match."""

    revision: Annotated[int, Field(ge=1)] | None = None

    # Switching between an image and an artifact clears the other with an explicit null; null also
    # turns the rate limit and the idle stop off.
    NULLABLE: ClassVar[frozenset[str]] = frozenset(
        {"docker_image", "artifact_format", "rate_limit_per_second", "idle_stop_minutes"}
    )

    @model_validator(mode="after")
    def _required_fields_not_null(self) -> UpdateModelRequest:
        nulled = sorted(api_name(name) for name in self.model_fields_set - self.NULLABLE if getattr(self, name) is None)
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null")
        return self

    def changes(self) -> dict[str, object]:
        """The fields the caller sent, by record field name, excluding the revision."""
        return _record_values(self.model_dump(exclude_unset=True, exclude={"revision"}))


class PageQuery(BaseModel):
    # Query strings arrive as text, so numbers are parsed (lax); unknown parameters are still mistakes.
    model_config = ConfigDict(defer_build=True, extra="forbid", alias_generator=api_name, populate_by_name=False)

    limit: Annotated[int, Field(ge=1, le=100)] = 50
    next_token: Annotated[str, StringConstraints(max_length=4096)] | None = None


class ListModelsQuery(PageQuery):
    search: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    status: ModelStatus | None = None
    # One project's models; without it, those of every project the caller has a role in.
    project: ProjectName | None = None
    created_by: Username | None = None
    # "Deployed by me": who last started the model or changed its deployment.
    deployed_by: Username | None = None
    # The models whose metadata has this key, with this value when one is given.
    metadata_key: MetadataKey | None = None
    metadata_value: MetadataValue | None = None

    @model_validator(mode="after")
    def _a_value_has_a_key(self) -> ListModelsQuery:
        if self.metadata_value is not None and self.metadata_key is None:
            raise ValueError("metadataValue needs the metadataKey it is the value of")
        return self


class DeleteModelQuery(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    force: bool = False


class ArtifactResponse(ResponseModel):
    size: int
    uploaded_at: Instant
    sha256: str | None


class ScheduleResponse(ResponseModel):
    action: ScheduleAction
    cron: str
    timezone: str
    # When it fires next, computed from the time of the response.
    next_run: Instant

    @classmethod
    def of(cls, schedule: Schedule, now: datetime) -> ScheduleResponse:
        shown = dataclasses.asdict(schedule)
        return cls(**shown, next_run=next_run(schedule, now))


class ModelResponse(ResponseModel, ModelSettings):
    """The record as the API shows it: the owner's settings and what the platform keeps."""

    # The settings were checked on the way in; on the way out they are read from the record as they are.
    model_config = ConfigDict(
        defer_build=True,
        strict=False,
        extra="ignore",
        alias_generator=api_name,
        populate_by_name=True,
        from_attributes=True,
    )

    id: str
    container_port: int  # always set on a record
    status: ModelStatus
    failed_for_good: bool
    status_reason: str | None
    created_by: str
    updated_by: str
    deployed_by: str | None
    # Whether the model's image is pulled with credentials of a private registry (which are never shown).
    private_registry: bool
    created_at: Instant
    updated_at: Instant
    revision: int
    artifact: ArtifactResponse | None
    artifact_pending_since: Instant | None
    # Set while the model is IDLE: when its containers were stopped for want of requests.
    idle_since: Instant | None
    # What serves the model: each deployed version with its weight, size and how it fares.
    deployment: list[DeployedVersionResponse]
    versions: list[VersionResponse]
    # The schedules as they were set, each with its next run: a response shape of its own.
    schedules: list[ScheduleResponse]  # type: ignore[assignment]
    env: ShownEnv  # type: ignore[assignment]  # a secret value is never answered
    # The current or last progressive rollout (GET .../rollout answers the same).
    rollout: RolloutResponse | None

    @classmethod
    def of(cls, record: ModelRecord) -> ModelResponse:
        built = ("deployment", "versions", "schedules", "private_registry", "env", "rollout")
        shown = {name: getattr(record, name) for name in cls.model_fields if name not in built}
        shown["env"] = shown_env(record.env, record.secret_env)
        shown["private_registry"] = record.registry_secret is not None
        shown["deployment"] = deployment_of(record)
        shown["rollout"] = RolloutResponse.of(record.rollout) if record.rollout else None
        shown["versions"] = [VersionResponse.of(record, v) for v in record.versions]
        now = utc_now()
        shown["schedules"] = [ScheduleResponse.of(s, now) for s in record.schedules]
        return cls.model_validate(shown)


class RegistryCredentialsRequest(_Strict):
    """A private registry's pull credentials; kept in Secrets Manager for ECS, never returned."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class ModelListResponse(ResponseModel):
    items: list[ModelResponse]
    next_token: str | None


class OperationResponse(ResponseModel):
    at: Instant
    actor: str
    action: str
    from_status: ModelStatus | None
    to_status: ModelStatus | None
    result: str
    reason: str | None
    count: int = Field(description="how many times in a row this happened (a restart failing the same way)")
    last_at: Instant | None = Field(description="when the latest of them happened; null when count is 1")


class OperationListResponse(ResponseModel):
    items: list[OperationResponse]
    next_token: str | None


class UploadTicketResponse(ResponseModel):
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_in_seconds: int


# At the end: the deployment shapes build on the settings above, and the model's response shows them.
from chalicelib.schemas.deployments import DeployedVersionResponse, VersionResponse, deployment_of  # noqa: E402
from chalicelib.schemas.rollouts import RolloutResponse  # noqa: E402
