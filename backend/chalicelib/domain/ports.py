"""Ports: the interfaces the domain needs from storage and runtimes, implemented by the adapters."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from chalicelib.domain.comparison import Tally
from chalicelib.domain.models import (
    ArtifactInfo,
    Autoscaling,
    DeploymentEntry,
    ModelRecord,
    ModelStatus,
    OperationEntry,
)
from chalicelib.domain.rollout_plans import WindowCounts

T = TypeVar("T")


@dataclass(frozen=True)
class ModelQuery:
    limit: int
    search: str | None = None
    status: ModelStatus | None = None
    cursor: str | None = None  # opaque continuation from a previous Page
    scheduled: bool = False  # only the models with start/stop schedules (the reconciler's query)
    # Only these projects' models; None: every project's (with a status or `scheduled` only).
    projects: tuple[str, ...] | None = None
    created_by: str | None = None
    deployed_by: str | None = None
    # Models whose metadata has this key; with `metadata_value`, that value for it.
    metadata_key: str | None = None
    metadata_value: str | None = None


# The fields of a ModelQuery that filter the models listed (each narrows the list; all must hold).
MODEL_FILTERS = ("search", "status", "created_by", "deployed_by", "metadata_key", "metadata_value")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursor: str | None


class ModelRepository(Protocol):
    """Model records in durable storage; every write is conditional so concurrent writers cannot both win."""

    def add(self, record: ModelRecord) -> None:
        """Store a new record; Conflict if its id exists."""
        ...

    def get(self, model_id: str) -> ModelRecord:
        """The record, or NotFound."""
        ...

    def list(self, query: ModelQuery) -> Page[ModelRecord]:
        """Records newest first, filtered by the query, without reading the whole table."""
        ...

    def replace(self, record: ModelRecord, expected_revision: int) -> None:
        """Overwrite the record if its stored revision is still `expected_revision`; else Conflict."""
        ...

    def remove(self, model_id: str, expected_revision: int, allowed: Collection[ModelStatus]) -> None:
        """Delete the record if it is unchanged and in one of the `allowed` statuses; else Conflict."""
        ...


class ModelNames(Protocol):
    """Which model holds each name: claimed with a conditional write, so two models never share one."""

    def claim(self, name: str, model_id: str) -> None:
        """Hold `name` for the model; Conflict when another model holds it."""
        ...

    def release(self, name: str, model_id: str) -> None:
        """Free the name if this model holds it; nothing otherwise."""
        ...

    def find(self, name: str) -> str | None:
        """The id of the model that holds the name, or None."""
        ...


class OperationsLog(Protocol):
    def record(self, entry: OperationEntry) -> None: ...

    def list(self, model_id: str, limit: int, cursor: str | None) -> Page[OperationEntry]:
        """Entries newest first."""
        ...


@dataclass(frozen=True)
class UploadTicket:
    """A presigned browser/curl upload: POST the fields, then the file, as multipart/form-data to url."""

    url: str
    fields: Mapping[str, str]
    max_bytes: int
    expires_in_seconds: int


class RegistryCredentials(Protocol):
    """Pull credentials of models' private image registries, kept where the container runtime reads them."""

    def store(self, model_id: str, username: str, password: str) -> str:
        """Keep (or replace) the model's credentials; the reference the runtime is given (stable across replaces)."""
        ...

    def forget(self, model_id: str) -> None:
        """Remove them; nothing happens when there are none."""
        ...


class ArtifactStore(Protocol):
    """One object per model version, never overwritten once the version records it."""

    def uri(self, model_id: str, version: int, object_version: str | None = None) -> str:
        """Where a runner reads the artifact; with `object_version`, exactly that upload of it."""
        ...

    def upload_ticket(self, model_id: str, version: int, max_bytes: int) -> UploadTicket: ...

    def describe(self, model_id: str, version: int) -> ArtifactInfo | None:
        """The stored artifact's size, upload time and SHA-256, or None when there is none."""
        ...

    def delete(self, model_id: str, version: int | None = None) -> None:
        """Remove one version's artifact (every S3 version of it), or every artifact of the model."""
        ...


class DeploymentHistory(Protocol):
    """Every deployment change, start, stop and rollback of a model, kept for rollback."""

    def record(self, entry: DeploymentEntry) -> None: ...

    def list(self, model_id: str, limit: int, cursor: str | None) -> Page[DeploymentEntry]:
        """Entries newest first."""
        ...

    def get(self, model_id: str, entry_id: str) -> DeploymentEntry:
        """One entry, or NotFound."""
        ...

    def delete_all(self, model_id: str) -> None: ...


class ReplicaState(StrEnum):
    """Where one replica (an ECS task, a local container or process) of a model is in its life."""

    STARTED = "started"  # launched, not yet answering its health check
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"  # still running, failing its health check
    EXITED = "exited"


class ExitCause(StrEnum):
    """Why a replica ended, as far as the runtime could tell; the domain turns it into advice."""

    IMAGE_UNAVAILABLE = "image-unavailable"  # the image could not be pulled or is not there
    OUT_OF_MEMORY = "out-of-memory"  # the kernel killed it for passing its memory limit
    HEALTH_CHECK = "health-check"  # stopped by the runtime because its health check failed
    EXITED = "exited"  # its process ended (by itself, a signal or a stop); see exit_code


@dataclass(frozen=True)
class ReplicaExit:
    cause: ExitCause
    exit_code: int | None = None  # 128 + N when ended by signal N
    detail: str | None = None  # the runtime's own words, shown when nothing better is known


@dataclass(frozen=True)
class ReplicaReport:
    """A runtime's report on one replica of a model; the domain decides what it means for the record."""

    model_id: str
    replica_id: str  # stable for the replica's life; names its log stream
    state: ReplicaState
    at: datetime
    address: str | None = None  # where the replica can be reached, once it has an address
    # The port bound on `address`; None means the model's containerPort (the replica has its own IP).
    port: int | None = None
    exit: ReplicaExit | None = None  # set when state is EXITED
    version: int = 1  # the model version the replica serves

    def endpoint_for(self, record: ModelRecord) -> str | None:
        return f"{self.address}:{self.port or record.container_port}" if self.address else None


@dataclass(frozen=True)
class RuntimeView:
    """What the container runtime says is there for a model, for the reconciler to compare."""

    desired_running: bool
    healthy_endpoints: tuple[str, ...]
    tasks_alive: int
    desired_count: int = 0  # the replicas the runtime keeps (an ECS service's desiredCount)


class RuntimeRefused(Exception):
    """The runtime cannot run this model at all; the message tells the user why."""


@dataclass(frozen=True)
class RuntimeUnit:
    """One version of a model as the runtime runs it: `record` is the record as that version sees it."""

    record: ModelRecord
    version: int
    replicas: int  # with autoscaling, the count to start at; the runtime's scaler moves it from there
    artifact_uri: str | None
    autoscaling: Autoscaling | None = None
    spot: bool = False  # Fargate Spot on AWS; the local runtime has no such thing and ignores it
    # Who the replicas act as (the model's own role, ModelIdentities.ensure); None: no AWS identity at all.
    identity: str | None = None


class EnvSecrets(Protocol):
    """Where secret env values are kept: the container gets them at start, nobody reads them back."""

    def store(self, model_id: str, name: str, value: str) -> str:
        """Keep a new value; its reference (a new one each time: versions keep theirs)."""
        ...

    def forget(self, ref: str) -> None:
        """Delete a stored value; one already gone is fine."""
        ...


class ModelIdentities(Protocol):
    """Each model's own AWS identity, which may read that model's artifacts and nothing else."""

    def ensure(self, model_id: str) -> str:
        """The model's identity (a role ARN), made as needed; idempotent."""
        ...

    def remove(self, model_id: str) -> None:
        """Forget the model's identity; one that is already gone is fine."""
        ...


class ContainerRuntime(Protocol):
    """Runs each deployed version of a model as a set of replicas and reports their life as ReplicaReports."""

    def start(self, unit: RuntimeUnit) -> None:
        """Have the unit's replicas running at its size and count; idempotent. RuntimeRefused when impossible.

        A changed count or size is applied without a gap: new replicas are healthy before old ones go.
        """
        ...

    def stop(self, model_id: str, version: int) -> bool:
        """Stop the version's replicas; True when one was running or starting."""
        ...

    def remove(self, model_id: str) -> None:
        """Forget everything the runtime keeps for the model, every version (after stop)."""
        ...

    def view(self, model_id: str, version: int) -> RuntimeView: ...


@dataclass(frozen=True)
class LoadReport:
    """What the standard runner said once it loaded a model: its library versions and the warnings raised."""

    libraries: dict[str, str]
    warnings: tuple[str, ...]


class ContainerLogs(Protocol):
    def create_group(self, model_id: str) -> None:
        """Make sure the model's log group exists, with the configured retention."""
        ...

    def failure_line(self, model_id: str, task_id: str) -> str | None:
        """The runner's own one-line explanation of why it could not serve, if it printed one."""
        ...

    def load_report(self, model_id: str, task_id: str) -> LoadReport | None:
        """What the standard runner logged on loading the model; None for an image model or no such line yet."""
        ...

    def delete_group(self, model_id: str) -> None: ...


# Observability: what happened to predictions and containers, as the API reads it back.


@dataclass(frozen=True)
class Prediction:
    """One prediction's outcome, as the request history and the metrics keep it."""

    request_id: str
    at: datetime
    model_id: str
    model_version: str | None
    status: int
    latency_ms: float
    container_ms: float | None
    request_bytes: int
    response_bytes: int
    request_body: str | None
    response_body: str | None
    caller: str | None
    # The shadow versions drawn for this request: the shadow consumer sends them the captured body.
    shadow_versions: tuple[int, ...] = ()


class PredictionLog(Protocol):
    def record(self, prediction: Prediction) -> None: ...


class RequestHistory(Protocol):
    def list(
        self, model_id: str, start: datetime, end: datetime, status: str | None, limit: int, cursor: str | None
    ) -> Page[Prediction]:
        """A model's predictions newest first; `status` is a code (404) or a class (5xx)."""
        ...


@dataclass(frozen=True)
class ShadowTally:
    """What a shadow version's comparisons came to since it became a shadow (`since`)."""

    model_id: str
    version: int
    since: datetime
    tally: Tally


class ShadowTallies(Protocol):
    """Each shadow version's running tally, merged from many consumers' batches."""

    def merge(self, model_id: str, version: int, since: datetime, batch: Tally) -> None:
        """Add a batch to the tally that began at `since` (an older tally is replaced; a newer one drops the batch)."""
        ...

    def get(self, model_id: str, version: int) -> ShadowTally | None:
        """The version's latest shadow tally (a rollout guardrail reads its match rate), or None."""
        ...


@dataclass(frozen=True)
class MetricSeries:
    """Aligned series on one time grid; None where nothing was recorded in a period."""

    timestamps: list[datetime]
    values: dict[str, list[float | None]]


class MetricsReader(Protocol):
    def series(
        self,
        model_id: str,
        start: datetime,
        end: datetime,
        period: int,
        version: int | None = None,
        containers: Sequence[int] = (),
    ) -> MetricSeries:
        """One point per period from start (aligned to the period) to end; one version's, or the whole model's.

        `containers`: the versions whose CPU and memory make the resource series."""
        ...

    def window(self, model_id: str, version: int, start: datetime, end: datetime) -> WindowCounts:
        """One version's requests, 4xx, 5xx and p99 latency over [start, end), as the gateway recorded them."""
        ...


class Notifications(Protocol):
    """Tells the operators' subscribers what the platform decided by itself (a rollout's steps, its rollback)."""

    def publish(self, subject: str, message: str, attributes: dict[str, str]) -> None: ...


@dataclass(frozen=True)
class LogLine:
    time: datetime
    message: str
    stream: str


@dataclass(frozen=True)
class LogDownload:
    text: str
    cut: bool  # True when the range held more than one download may carry


class ContainerLogReader(Protocol):
    def latest(self, model_id: str, start: datetime, end: datetime, limit: int, cursor: str | None) -> Page[LogLine]:
        """The container's output newest first."""
        ...

    def download(self, model_id: str, start: datetime, end: datetime) -> LogDownload:
        """The whole range as text, oldest first, up to the download limit."""
        ...
