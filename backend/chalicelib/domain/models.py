"""The model record, its statuses and the rules every record obeys, such as valid Fargate sizes."""

from __future__ import annotations

import copy
import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from chalicelib.domain.comparison import ComparisonRule
from chalicelib.domain.errors import FieldProblem
from chalicelib.domain.rollout_plans import Rollout
from chalicelib.tables import DEFAULT_PROJECT


class ModelStatus(enum.StrEnum):
    STOPPED = "STOPPED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    FAILED = "FAILED"
    # Stopped for want of requests (idleStopMinutes): no container runs, and the next request starts it.
    IDLE = "IDLE"


class ArtifactFormat(enum.StrEnum):
    JOBLIB = "joblib"
    PICKLE = "pickle"
    ONNX = "onnx"
    PYTHON = "python"
    XGBOOST = "xgboost"  # a native .json/.ubj Booster file
    LIGHTGBM = "lightgbm"  # a native .txt Booster file
    BUNDLE = "bundle"  # a .zip/.tar.gz with model.py, its files and an optional requirements.txt
    MLFLOW = "mlflow"  # a zipped MLflow model directory, served through its pyfunc flavor


class Visibility(enum.StrEnum):
    """Who may call a model's prediction endpoint: signed-in users and client tokens, or anyone."""

    PRIVATE = "private"
    PUBLIC = "public"


def _gigabytes(low: float, high: float) -> tuple[float, ...]:
    return tuple(float(gb) for gb in range(int(low), int(high) + 1))


# Fargate's supported task sizes: vCPU -> memory choices in GB.
FARGATE_SIZES: MappingProxyType[float, tuple[float, ...]] = MappingProxyType(
    {
        0.25: (0.5, 1.0, 2.0),
        0.5: _gigabytes(1, 4),
        1.0: _gigabytes(2, 8),
        2.0: _gigabytes(4, 16),
        4.0: _gigabytes(8, 30),
    }
)


def fargate_size_problem(cpu: float, memory: float) -> FieldProblem | None:
    """Why (cpu, memory) is not a Fargate task size, or None when it is one."""
    choices = FARGATE_SIZES.get(cpu)
    if choices is None:
        return FieldProblem("container_cpu", f"must be one of {', '.join(f'{c:g}' for c in FARGATE_SIZES)} vCPU")
    if memory not in choices:
        return FieldProblem(
            "container_memory",
            f"{memory:g} GB does not fit {cpu:g} vCPU; choose one of {', '.join(f'{m:g}' for m in choices)} GB",
        )
    return None


# Fields whose change alters the running container; they may change only while nothing runs.
RUNTIME_FIELDS = frozenset(
    {
        "docker_image",
        "artifact_format",
        "container_port",
        "container_cpu",
        "container_memory",
        "env",
        "secret_env",
        "predict_path",
        "health_path",
    }
)


# The settings that belong to a version's code: fixed once the version exists.
CODE_FIELDS = ("docker_image", "artifact_format", "container_port", "env", "secret_env", "predict_path", "health_path")
# The settings that belong to how a version is deployed: they may change with each deployment.
SIZE_FIELDS = ("container_cpu", "container_memory")
MAX_REPLICAS = 10
MAX_VERSIONS = 50  # versions live in the model's item (400 KB); delete old ones to make room


class ScheduleAction(enum.StrEnum):
    START = "start"
    STOP = "stop"


@dataclass(frozen=True)
class Schedule:
    """Start or stop the model whenever a 5-field cron expression matches the wall clock of a time zone."""

    action: ScheduleAction
    cron: str
    timezone: str = "UTC"  # an IANA name


@dataclass(frozen=True)
class ArtifactInfo:
    size: int
    uploaded_at: datetime
    sha256: str | None = None
    # The object store's version of the upload recorded: what runs is that, whatever lands on the key later.
    object_version: str | None = None


@dataclass(frozen=True)
class ModelVersion:
    """One immutable version of a model: its code settings and, for the runner, its uploaded artifact."""

    number: int
    notes: str
    created_by: str
    created_at: datetime
    docker_image: str | None
    artifact_format: ArtifactFormat | None
    container_port: int
    env: dict[str, str]
    predict_path: str
    health_path: str
    artifact: ArtifactInfo | None = None
    artifact_pending_since: datetime | None = None
    # A version made from another's settings may reuse that version's file (same bytes, same key).
    artifact_of: int | None = None
    # Key/value facts about this version (its training run, its data), given when it is made.
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    # Secret env values: name -> the stored secret (domain.env_secrets); the value is never in the record.
    secret_env: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def artifact_number(self) -> int:
        """The version whose artifact object this version serves."""
        return self.artifact_of or self.number

    def code(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CODE_FIELDS}


@dataclass(frozen=True)
class Autoscaling:
    """Replicas between bounds that follow the load, each target tracked (CPU, and/or requests per replica)."""

    min_replicas: int
    max_replicas: int
    target_cpu_percent: float | None = None  # of the vCPU each replica reserved
    target_requests_per_replica: float | None = None  # per second, from the gateway's own request metric

    def bounded(self, replicas: int) -> int:
        return min(max(replicas, self.min_replicas), self.max_replicas)


@dataclass(frozen=True)
class Shadow:
    """A version that also gets `percent` of the live requests, whose answers reach no caller: each is compared
    with the serving version's answer under `rule`, and the tally counts from `since` (when it became a shadow)."""

    percent: int
    rule: ComparisonRule = dataclasses.field(default_factory=ComparisonRule)
    since: datetime | None = None  # set by the deployment that made it a shadow (domain.deployments)


@dataclass(frozen=True)
class DeployedVersion:
    """One version in a deployment as a person chose it: its share of traffic and its size."""

    version: int
    weight: int
    replicas: int  # the count, or with autoscaling the count it starts at
    container_cpu: float
    container_memory: float
    autoscaling: Autoscaling | None = None
    spot: bool = False  # on Fargate Spot: cheaper, and its tasks may be taken back with two minutes' notice
    # A shadow (weight 0) also gets a share of live requests, for comparison only.
    shadow: Shadow | None = None


@dataclass(frozen=True)
class VersionState:
    """How one version's replicas fare, as the container runtime reports them."""

    version: int
    status: ModelStatus
    status_reason: str | None = None
    endpoints: tuple[str, ...] = ()
    failed_for_good: bool = False
    status_changed_at: datetime | None = None
    # The runtime's replica count last written to the operations log: an autoscaled version's count
    # is moved by the runtime's own scaler (Application Auto Scaling on AWS), and a change is logged once.
    replicas_seen: int | None = None
    # What the standard runner reported when its first replica loaded the artifact: its libraries' versions,
    # and every warning raised while loading (a model pickled by another scikit-learn), for the model's page.
    libraries: dict[str, str] = dataclasses.field(default_factory=dict)
    load_warnings: tuple[str, ...] = ()


# Defaults of the settings that come before the record's first defaulted field; the later ones carry
# their default in the record itself. The schema and the storage read every default through
# setting_default, so each is written here once.
_LEADING_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "description": "",
        "docker_image": None,
        "artifact_format": None,
        "env": {},
        "predict_path": "/predict",
        "health_path": "/health",
    }
)

# What the platform keeps about a model, as opposed to the settings its owner chooses.
BOOKKEEPING_FIELDS = frozenset(
    {
        "id",
        "status",
        "status_reason",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
        "revision",
        "endpoints",
        "status_changed_at",
        "failed_for_good",
        "versions",
        "deployment",
        "serving",
        "version_states",
        "retire_after",
        "idle_since",
        "schedule_checked_at",
        "deployed_by",
        "registry_secret",
        "secret_env",
        "rollout",
    }
)


@dataclass(frozen=True)
class ModelRecord:
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
    status: ModelStatus
    status_reason: str | None
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    revision: int
    # How long the gateway waits for the container; API Gateway gives up at 29 s.
    predict_timeout_seconds: float = 25.0
    # How much of each request and response body the request history keeps; 0 keeps none.
    capture_body_bytes: int = 16384
    endpoint_visibility: Visibility = Visibility.PRIVATE
    # The project whose members may see and change the model (chalicelib.domain.projects).
    project: str = DEFAULT_PROJECT
    # host:port of each healthy container, recorded only from the container runtime's own reports.
    endpoints: tuple[str, ...] = ()
    status_changed_at: datetime | None = None
    # The last failure needs a person (an artifact that cannot load, an image that cannot be pulled):
    # nothing restarts the model until someone starts it again.
    failed_for_good: bool = False
    # Requests per second the gateway passes to this model (429 beyond); None leaves only the stage's limits.
    rate_limit_per_second: float | None = None
    # Minutes without a request after which the model's containers stop (IDLE) until the next request; None: never.
    idle_stop_minutes: int | None = None
    # When to start and stop the model by the clock (office hours, nights off); the reconciler fires them.
    schedules: tuple[Schedule, ...] = ()
    # Key/value facts a team keeps about the model (owner, use case, data); searchable.
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    # Who last started the model or changed its deployment: a person, never the platform's own actions.
    deployed_by: str | None = None
    # Where the pull credentials of its image's private registry are kept (a secret's reference, not them).
    registry_secret: str | None = None
    # Secret env values: name -> the stored secret (domain.env_secrets), set from the env a caller gives.
    secret_env: dict[str, str] = dataclasses.field(default_factory=dict)
    # Every version, oldest first; numbers are never reused.
    versions: tuple[ModelVersion, ...] = ()
    # What should serve: the versions with their weights (summing to 100) and sizes.
    deployment: tuple[DeployedVersion, ...] = ()
    # What the gateway sends traffic to: the deployment once all its versions are healthy, until
    # then the previous one (a switch never sends a request to a version that is not ready).
    serving: tuple[DeployedVersion, ...] = ()
    # One entry per version that has replicas or is meant to; the model's status summarises them.
    version_states: tuple[VersionState, ...] = ()
    # When versions that left the serving set may be stopped: once no cached route can send them a request.
    retire_after: datetime | None = None
    # When the containers were stopped for want of requests; the model is IDLE, not STOPPED, once they are gone.
    idle_since: datetime | None = None
    # The schedules' fire times up to this instant are dealt with: the reconciler fires only those after it.
    schedule_checked_at: datetime | None = None
    # The current or last progressive rollout of a candidate version (domain.rollouts runs it).
    rollout: Rollout | None = None

    @property
    def runs_nothing(self) -> bool:
        """True when no container runs or is on its way, so runtime settings may change."""
        return self.status in (ModelStatus.STOPPED, ModelStatus.FAILED, ModelStatus.IDLE)

    def find_version(self, number: int) -> ModelVersion | None:
        return next((v for v in self.versions if v.number == number), None)

    @property
    def versions_with_containers(self) -> tuple[int, ...]:
        """The versions that run or are meant to: deployed, serving, or still reported by the runtime."""
        numbers = {d.version for d in (*self.deployment, *self.serving)} | {s.version for s in self.version_states}
        return tuple(sorted(numbers))

    @property
    def latest_version(self) -> ModelVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def primary_version(self) -> ModelVersion | None:
        """The version with the most traffic, else the newest: the one the model's own settings describe."""
        if self.deployment:
            return self.find_version(max(self.deployment, key=lambda d: d.weight).version)
        return self.latest_version

    @property
    def artifact(self) -> ArtifactInfo | None:
        primary = self.primary_version
        return primary.artifact if primary else None

    @property
    def artifact_pending_since(self) -> datetime | None:
        """Set when an upload was offered for the primary version and not yet seen in the bucket."""
        primary = self.primary_version
        return primary.artifact_pending_since if primary else None

    def unit_settings(self) -> tuple[Any, ...]:
        """What a replica is made from: a change to any of these replaces the replicas."""
        return tuple(repr(getattr(self, name)) for name in (*CODE_FIELDS, *SIZE_FIELDS))

    def state_of(self, number: int) -> VersionState:
        found = next((state for state in self.version_states if state.version == number), None)
        return found or VersionState(number, ModelStatus.STOPPED)

    def wanted(self) -> tuple[DeployedVersion, ...]:
        """Every version the runtime should keep running (deployed or still serving), each once, sized as deployed."""
        seen = {d.version: d for d in self.serving}
        seen.update({d.version: d for d in self.deployment})
        return tuple(seen.values())

    def unit(self, deployed: DeployedVersion) -> ModelRecord:
        """The record as one deployed version sees it: its code, its size and its own status."""
        version = self.find_version(deployed.version)
        state = self.state_of(deployed.version)
        return dataclasses.replace(
            self,
            **(version.code() if version else {}),
            container_cpu=deployed.container_cpu,
            container_memory=deployed.container_memory,
            status=state.status,
            status_reason=state.status_reason,
            endpoints=state.endpoints,
            failed_for_good=state.failed_for_good,
            status_changed_at=state.status_changed_at,
        )

    @classmethod
    def new(cls, model_id: str, actor: str, at: datetime, settings: Mapping[str, Any]) -> ModelRecord:
        """The one way a record comes to be: the caller's settings, defaults for the rest, fresh bookkeeping."""
        unknown = sorted(settings.keys() - set(SETTING_FIELDS))
        if unknown:
            raise TypeError(f"not settings of a model: {', '.join(unknown)}")
        chosen = {name: settings[name] if name in settings else setting_default(name) for name in SETTING_FIELDS}
        return cls(
            id=model_id,
            status=ModelStatus.STOPPED,
            status_reason=None,
            created_by=actor,
            updated_by=actor,
            created_at=at,
            updated_at=at,
            revision=1,
            schedule_checked_at=at,  # a new model's schedules start from now, not from past times
            **chosen,
        )


SETTING_FIELDS = tuple(f.name for f in dataclasses.fields(ModelRecord) if f.name not in BOOKKEEPING_FIELDS)
_FIELDS = {f.name: f for f in dataclasses.fields(ModelRecord)}


def setting_default(name: str) -> Any:
    """A field's value when its creator did not choose one; KeyError when the field has no default."""
    if name in _LEADING_DEFAULTS:
        return copy.copy(_LEADING_DEFAULTS[name])
    field = _FIELDS[name]
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise KeyError(f"{name} has no default: a model must be given one")


SYSTEM_ACTOR_PREFIX = "system:"  # what the platform does by itself (restarts, reconciling, idle stops)


@dataclass(frozen=True)
class OperationEntry:
    """One line of a model's operations log: a user's action or a status transition."""

    model_id: str
    at: datetime
    actor: str
    action: str  # create, update, upload, start, stop, delete, transition
    from_status: ModelStatus | None
    to_status: ModelStatus | None
    result: str
    reason: str | None = None
    # A run of identical entries is kept as one: how many, and when the latest of them happened.
    count: int = 1
    last_at: datetime | None = None

    def repeats(self, earlier: OperationEntry) -> bool:
        """The system doing the same thing again (a restart failing the same way): only the time differs.

        A person's actions each keep their line, however alike they read."""
        fields = ("model_id", "actor", "action", "from_status", "to_status", "result", "reason")
        same = all(getattr(self, name) == getattr(earlier, name) for name in fields)
        return same and self.actor.startswith(SYSTEM_ACTOR_PREFIX)


@dataclass(frozen=True)
class SpecLine:
    """One version of a deployment as the history keeps it: enough to restore it and to show what changed."""

    version: int
    weight: int
    replicas: int
    container_cpu: float
    container_memory: float
    artifact_sha256: str | None
    docker_image: str | None
    autoscaling: Autoscaling | None = None
    spot: bool = False
    shadow: Shadow | None = None  # a rollback restores it (its tally starts anew unless it is a shadow now)

    def deployed(self) -> DeployedVersion:
        return DeployedVersion(
            self.version,
            self.weight,
            self.replicas,
            self.container_cpu,
            self.container_memory,
            self.autoscaling,
            self.spot,
            self.shadow,
        )


@dataclass(frozen=True)
class DeploymentEntry:
    """One line of a model's deployment history: a deployment change, a start, a stop or a rollback."""

    model_id: str
    entry_id: str
    at: datetime
    actor: str
    action: str  # deploy, start, stop, rollback
    message: str
    spec: tuple[SpecLine, ...]
