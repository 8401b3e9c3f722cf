"""Shapes of the model registry's requests and responses, with per-field validation."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from chalicelib.domain.models import ArtifactFormat, ModelRecord, ModelStatus, Visibility
from chalicelib.schemas.common import Instant, ResponseModel

MAX_ENV_KEYS = 50
MAX_ENV_VALUE_BYTES = 4096
RESERVED_ENV_PREFIX = "KRAKEN_"

ModelName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
Version = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._+-]+$")]
Description = Annotated[str, StringConstraints(max_length=2048)]
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
EnvName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


def _check_env(env: dict[str, str]) -> dict[str, str]:
    if len(env) > MAX_ENV_KEYS:
        raise ValueError(f"at most {MAX_ENV_KEYS} variables")
    for name, value in env.items():
        if name.upper().startswith(RESERVED_ENV_PREFIX):
            raise ValueError(f"{name}: names starting with {RESERVED_ENV_PREFIX} are reserved for the platform")
        if len(value.encode()) > MAX_ENV_VALUE_BYTES:
            raise ValueError(f"{name}: values are limited to {MAX_ENV_VALUE_BYTES} bytes")
    return env


Env = Annotated[dict[EnvName, str], AfterValidator(_check_env)]
# Enums arrive as JSON strings, which strict mode would refuse; their values are still checked exactly.
Format = Annotated[ArtifactFormat, Field(strict=False)]
EndpointVisibility = Annotated[Visibility, Field(strict=False)]


class _Strict(BaseModel):
    # Strict: "0.5" is not a number and unknown fields are mistakes worth reporting.
    model_config = ConfigDict(
        defer_build=True, strict=True, extra="forbid", alias_generator=to_camel, populate_by_name=False
    )


class CreateModelRequest(_Strict):
    name: ModelName
    version: Version
    description: Description = ""
    docker_image: DockerImage | None = None
    artifact_format: Format | None = None
    container_port: Port
    container_cpu: Cpu
    container_memory: Memory
    env: Env = Field(default_factory=dict)
    predict_path: UrlPath = "/predict"
    health_path: UrlPath = "/health"
    predict_timeout_seconds: PredictTimeout = 25.0
    capture_body_bytes: CaptureBytes = 16384
    endpoint_visibility: EndpointVisibility = Visibility.PRIVATE


class UpdateModelRequest(_Strict):
    """A partial update: only the fields present change. `revision` may stand in for If-Match."""

    name: ModelName | None = None
    version: Version | None = None
    description: Description | None = None
    docker_image: DockerImage | None = None
    artifact_format: Format | None = None
    container_port: Port | None = None
    container_cpu: Cpu | None = None
    container_memory: Memory | None = None
    env: Env | None = None
    predict_path: UrlPath | None = None
    health_path: UrlPath | None = None
    predict_timeout_seconds: PredictTimeout | None = None
    capture_body_bytes: CaptureBytes | None = None
    endpoint_visibility: EndpointVisibility | None = None
    revision: Annotated[int, Field(ge=1)] | None = None

    # Switching between an image and an artifact clears the other with an explicit null.
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"docker_image", "artifact_format"})

    @model_validator(mode="after")
    def _required_fields_not_null(self) -> UpdateModelRequest:
        nulled = sorted(to_camel(name) for name in self.model_fields_set - self.NULLABLE if getattr(self, name) is None)
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null")
        return self

    def changes(self) -> dict[str, object]:
        """The fields the caller sent, by record field name, excluding the revision."""
        return self.model_dump(exclude_unset=True, exclude={"revision"})


class PageQuery(BaseModel):
    # Query strings arrive as text, so numbers are parsed (lax); unknown parameters are still mistakes.
    model_config = ConfigDict(defer_build=True, extra="forbid", alias_generator=to_camel, populate_by_name=False)

    limit: Annotated[int, Field(ge=1, le=100)] = 50
    next_token: Annotated[str, StringConstraints(max_length=4096)] | None = None


class ListModelsQuery(PageQuery):
    search: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    status: ModelStatus | None = None


class DeleteModelQuery(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    force: bool = False


class ArtifactResponse(ResponseModel):
    size: int
    uploaded_at: Instant


class ModelResponse(ResponseModel):
    id: str
    name: str
    version: str
    description: str
    docker_image: str | None
    artifact_format: ArtifactFormat | None
    container_port: int
    container_cpu: float
    container_memory: float
    env: dict[str, str]
    predict_path: str
    health_path: str
    predict_timeout_seconds: float
    capture_body_bytes: int
    endpoint_visibility: Visibility
    status: ModelStatus
    status_reason: str | None
    created_by: str
    updated_by: str
    created_at: Instant
    updated_at: Instant
    revision: int
    artifact: ArtifactResponse | None
    artifact_pending_since: Instant | None

    @classmethod
    def of(cls, record: ModelRecord) -> ModelResponse:
        return cls.model_validate(record)


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


class OperationListResponse(ResponseModel):
    items: list[OperationResponse]
    next_token: str | None


class UploadTicketResponse(ResponseModel):
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_in_seconds: int
