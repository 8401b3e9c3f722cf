"""Model lifecycle: start, stop, deploy, roll back and delete, and each version's transitions from replica reports."""

from __future__ import annotations

import dataclasses
import functools
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.autoscaling import describe_targets
from chalicelib.domain.clock import utc_now
from chalicelib.domain.deployments import (
    check_deployment,
    leaving_versions,
    settle,
    sole_deployment,
    spec_lines,
    version_from_settings,
    with_shadow_since,
    with_state,
)
from chalicelib.domain.env_secrets import EnvSecretKeeper
from chalicelib.domain.env_secrets import references as env_secret_references
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.models import (
    SYSTEM_ACTOR_PREFIX,
    Autoscaling,
    DeployedVersion,
    DeploymentEntry,
    ModelRecord,
    ModelStatus,
    VersionState,
)
from chalicelib.domain.ports import (
    ArtifactStore,
    ContainerLogs,
    ContainerRuntime,
    DeploymentHistory,
    ExitCause,
    LoadReport,
    ModelIdentities,
    ModelNames,
    ModelQuery,
    ModelRepository,
    OperationsLog,
    ReplicaReport,
    ReplicaState,
    RequestHistory,
    RuntimeRefused,
    RuntimeUnit,
)
from chalicelib.domain.records import RecordKeeper, revision_conflict
from chalicelib.domain.runner_contract import RUNNER_CANNOT_LOAD_EXIT_CODE

logger = logging.getLogger("kraken.lifecycle")

RUNTIME_ACTOR = f"{SYSTEM_ACTOR_PREFIX}container-runtime"
RECONCILER_ACTOR = f"{SYSTEM_ACTOR_PREFIX}reconciler"
IDLE_ACTOR = f"{SYSTEM_ACTOR_PREFIX}idle-stop"
WAKE_ACTOR = f"{SYSTEM_ACTOR_PREFIX}wake-on-request"
AUTOSCALER_ACTOR = f"{SYSTEM_ACTOR_PREFIX}autoscaler"


@dataclass(frozen=True)
class Transition:
    status: ModelStatus
    reason: str | None
    endpoints: tuple[str, ...]
    for_good: bool = False  # a failure no restart can cure: the runtime is told to stop


def is_final(record: ModelRecord, report: ReplicaReport) -> bool:
    """True when the replica ended in a way that a restart would only repeat."""
    ended = report.exit
    if ended is None:
        return False
    if ended.cause is ExitCause.IMAGE_UNAVAILABLE:
        return True
    return record.docker_image is None and ended.exit_code == RUNNER_CANNOT_LOAD_EXIT_CODE


def failure_reason(record: ModelRecord, report: ReplicaReport, runner_says: str | None) -> str:
    """A reason a person can act on, from what the runtime and the runner reported."""
    if report.state is ReplicaState.UNHEALTHY:
        return _health_check_failing(record)
    ended = report.exit
    cause = ended.cause if ended else ExitCause.EXITED
    detail = ended.detail if ended else None
    exit_code = ended.exit_code if ended else None
    if cause is ExitCause.IMAGE_UNAVAILABLE:
        return f"the image {record.docker_image or 'of the runner'} cannot be pulled: {detail}"
    if cause is ExitCause.OUT_OF_MEMORY:
        return (
            f"out of memory: the container needed more than {record.container_memory:g} GB; "
            "choose a larger containerMemory"
        )
    if cause is ExitCause.HEALTH_CHECK:
        return _health_check_failing(record)
    if runner_says:
        return runner_says
    if exit_code is not None and exit_code > 128:
        return f"the container was killed by signal {exit_code - 128} (exit code {exit_code})"
    if exit_code is not None:
        return f"the container exited with code {exit_code}"
    return detail or "the container stopped unexpectedly"


def _health_check_failing(record: ModelRecord) -> str:
    return f"health check failing: GET {record.health_path} did not answer 200"


def next_state(record: ModelRecord, report: ReplicaReport, reason_for_failure: Callable[[], str]) -> Transition | None:
    """Where a replica report moves the record, or None when it changes nothing (late or irrelevant reports)."""
    if record.failed_for_good:
        return None  # the last replicas winding down after a final failure; only a start moves it on
    endpoint = report.endpoint_for(record)
    # A report without an address cannot be told apart from the others; it ends them all.
    others = tuple(e for e in record.endpoints if e != endpoint) if endpoint else ()
    wants_running = record.status in (ModelStatus.PENDING, ModelStatus.RUNNING, ModelStatus.FAILED)
    if report.state is ReplicaState.HEALTHY and endpoint:
        if not wants_running:
            return None
        endpoints = record.endpoints if endpoint in record.endpoints else (*record.endpoints, endpoint)
        if record.status is ModelStatus.RUNNING and endpoints == record.endpoints:
            return None
        return Transition(ModelStatus.RUNNING, None, endpoints)
    if report.state is ReplicaState.UNHEALTHY:
        if record.status not in (ModelStatus.PENDING, ModelStatus.RUNNING):
            return None
        return Transition(ModelStatus.FAILED, reason_for_failure(), others)
    if report.state is ReplicaState.EXITED:
        if record.status is ModelStatus.STOPPING:
            return Transition(ModelStatus.STOPPED, None, ()) if not others else Transition(record.status, None, others)
        if wants_running:
            if others:  # another healthy replica still serves; the runtime replaces this one
                return Transition(record.status, record.status_reason, others)
            return Transition(ModelStatus.FAILED, reason_for_failure(), (), for_good=is_final(record, report))
    return None


class Lifecycle(RecordKeeper):
    """Runs a model's deployment: each deployed version's replicas, switches between deployments, rollbacks."""

    def __init__(
        self,
        models: ModelRepository,
        runtime: ContainerRuntime,
        operations: OperationsLog,
        artifacts: ArtifactStore,
        container_logs: ContainerLogs,
        history: DeploymentHistory,
        names: ModelNames,
        artifact_max_bytes: int,
        start_timeout: timedelta,
        requests: RequestHistory,
        identities: ModelIdentities,
        env_secrets: EnvSecretKeeper,
        clock: Callable[[], datetime] = utc_now,
        on_change: Callable[[str], None] = lambda _model_id: None,
        later: Callable[[float, Callable[[], None]], None] | None = None,
        idle_minute: timedelta = timedelta(minutes=1),
        admit: Callable[[ModelRecord, Sequence[DeployedVersion]], None] = lambda _record, _spec: None,
        forget_credentials: Callable[[str], None] = lambda _model_id: None,
    ) -> None:
        super().__init__(models, operations, clock, on_change)
        self._runtime = runtime
        self._artifacts = artifacts
        self._logs = container_logs
        self._history = history
        self._names = names
        self._artifact_max_bytes = artifact_max_bytes
        self._start_timeout = start_timeout
        self._requests = requests
        # How long one of idleStopMinutes lasts: a minute, compressed only by tests.
        self._idle_minute = idle_minute
        # Runs a function after a delay (local mode); without it the reconciler retires drained versions.
        self._later = later
        # Refuses (Conflict) a deployment the model's project has no room for: its quota.
        self._admit = admit
        # Removes a deleted model's registry credentials.
        self._forget_credentials = forget_credentials
        # Each model's own AWS identity, which its runner reads the artifact as.
        self._identities = identities
        self._env_secrets = env_secrets

    # --- user actions -------------------------------------------------------------------------

    def start(self, model_id: str, actor: str) -> ModelRecord:
        record = self.refresh_artifact(self._models.get(model_id))
        if record.status in (ModelStatus.PENDING, ModelStatus.RUNNING):
            self._log(record, actor, "start", record.status, f"already {record.status}; nothing to do")
            return record
        if record.status is ModelStatus.STOPPING:
            raise Conflict("the model is stopping; start it again once it is STOPPED")
        record = self._with_a_deployment(record, actor)
        for deployed in record.deployment:
            self.check_artifact(record, deployed.version)
        self._admit(record, record.deployment)
        now = self._clock()
        states = [
            VersionState(d.version, ModelStatus.PENDING, status_changed_at=now, replicas_seen=d.replicas)
            for d in record.deployment
        ]
        planned = dataclasses.replace(
            record, serving=record.deployment, retire_after=None, idle_since=None, deployed_by=_deployer(record, actor)
        )
        for state in states:
            planned = with_state(planned, state)
        pending = self._save(settle(planned, now), record)
        if pending is None:  # a concurrent start won the conditional write; it starts the containers
            current = self._models.get(model_id)
            self._log(current, actor, "start", current.status, f"already {current.status}; nothing to do")
            return current
        self._log(record, actor, "start", pending.status, "accepted")
        self._remember(pending, actor, "start", "started")
        self._logs.create_group(model_id)
        started = self._run_units(pending, actor)
        self.retire(model_id)  # versions a failed run left behind that the new deployment does not use
        return self._models.get(model_id) if leaving_versions(started) else started

    def stop(self, model_id: str, actor: str, idle_minutes: int | None = None) -> ModelRecord:
        """Stop every version; with `idle_minutes` (the idle stop) the model rests IDLE and wakes on a request."""
        record = self._models.get(model_id)
        if record.status is ModelStatus.IDLE and idle_minutes is None:
            stopped = self._save(settle(dataclasses.replace(record, idle_since=None), self._clock()), record)
            if stopped is None:
                raise Conflict("the model changed while it was being stopped; try again")
            self._log(record, actor, "stop", ModelStatus.STOPPED, "was idle; it no longer wakes on a request")
            return stopped
        if record.status in (ModelStatus.STOPPED, ModelStatus.STOPPING, ModelStatus.IDLE):
            self._log(record, actor, "stop", record.status, f"already {record.status}; nothing to do")
            return record
        now = self._clock()
        planned = dataclasses.replace(record, idle_since=now if idle_minutes is not None else None)
        for state in record.version_states:
            if state.status is not ModelStatus.STOPPED:
                planned = with_state(planned, VersionState(state.version, ModelStatus.STOPPING, status_changed_at=now))
        stopping = self._save(settle(planned, now), record)
        if stopping is None:
            current = self._models.get(model_id)
            self._log(current, actor, "stop", current.status, f"{current.status} meanwhile; nothing to do")
            return current
        if idle_minutes is None:
            self._log(record, actor, "stop", stopping.status, "accepted")
            self._remember(stopping, actor, "stop", "stopped")
        else:
            said = f"no request for {idle_minutes} min: stopped until the next request wakes it"
            self._log(record, actor, "idle-stop", stopping.status, said)
            self._remember(stopping, actor, "stop", said)
        for state in stopping.version_states:
            if state.status is ModelStatus.STOPPING and not self._runtime.stop(model_id, state.version):
                # Nothing was running, so no event will come to finish the stop.
                stopping = self._unit_transition(
                    stopping, state.version, ModelStatus.STOPPED, None, (), actor, "nothing was running"
                ) or self._models.get(model_id)
        return stopping

    def deploy(
        self,
        model_id: str,
        spec: Sequence[DeployedVersion],
        message: str,
        actor: str,
        expected_revision: int | None,
        action: str = "deploy",
        also: Callable[[ModelRecord], ModelRecord] = lambda record: record,
    ) -> ModelRecord:
        """Make `spec` the model's deployment in one conditional write; a started model switches to it.

        `also` changes the record in the same write (a rollout's state moves with the weights it sets)."""
        record = self._models.get(model_id)
        revision_conflict(record, expected_revision)
        check_deployment(record, spec)
        for deployed in spec:
            self.check_artifact(record, deployed.version)
        now = self._clock()
        spec = with_shadow_since(record, spec, now)
        started = record.status in (ModelStatus.PENDING, ModelStatus.RUNNING, ModelStatus.FAILED)
        # An idle model wakes into its deployment by itself; a stopped one deploys nothing until started.
        deploys = started or record.status is ModelStatus.IDLE
        deployer = _deployer(record, actor) if deploys else record.deployed_by
        planned = also(dataclasses.replace(record, deployment=tuple(spec), deployed_by=deployer))
        if deploys:
            self._admit(record, spec)
        if started:
            for deployed in spec:
                state = record.state_of(deployed.version)
                if state.status in (ModelStatus.STOPPED, ModelStatus.STOPPING) or state.failed_for_good:
                    state = VersionState(deployed.version, ModelStatus.PENDING, status_changed_at=now)
                # The count this change sets is a person's, not the autoscaler's: it is not logged as scaling.
                planned = with_state(planned, dataclasses.replace(state, replicas_seen=deployed.replicas))
        saved = self._save(settle(planned, now), record)
        if saved is None:
            current = self._models.get(model_id)
            raise Conflict(
                f"the model changed while the deployment was being changed (revision {current.revision} is current); "
                "reload and try again"
            )
        self._log(record, actor, action, saved.status, f"deployment: {_describe(spec)}", message or None)
        self._remember(saved, actor, action, message)
        if not started:
            return saved
        saved = self._run_units(saved, actor)
        self._retire_later(saved)
        return saved

    def rollback(
        self, model_id: str, entry_id: str, message: str, actor: str, expected_revision: int | None
    ) -> ModelRecord:
        """Restore the deployment an earlier history entry recorded, through the same switch."""
        entry = self._history.get(model_id, entry_id)
        spec = [line.deployed() for line in entry.spec]
        said = message or f"roll back to the deployment of {entry.at.isoformat(timespec='seconds')}"
        return self.deploy(model_id, spec, said, actor, expected_revision, action="rollback")

    def delete(self, model_id: str, actor: str, force: bool, expected_revision: int | None = None) -> None:
        record = self._models.get(model_id)
        revision_conflict(record, expected_revision)
        if record.status not in (ModelStatus.STOPPED, ModelStatus.IDLE):
            if not force:
                raise Conflict(
                    f"only a STOPPED or IDLE model can be deleted; this one is {record.status}. "
                    "Stop it first, or delete with ?force=true to stop its container and delete it"
                )
            for state in record.version_states:
                self._runtime.stop(model_id, state.version)
        # The record goes last: each clean-up step is idempotent, so a delete that fails midway
        # (S3 or Logs unavailable) can simply be repeated instead of leaving orphans behind.
        self._runtime.remove(model_id)
        self._artifacts.delete(model_id)
        self._logs.delete_group(model_id)
        self._history.delete_all(model_id)
        if record.registry_secret:
            self._forget_credentials(model_id)
        self._identities.remove(model_id)
        self._env_secrets.forget(sorted(env_secret_references(record)))
        self._on_change(model_id)
        self._names.release(record.name, model_id)
        current = record
        for attempt in range(3):  # the stopping containers' events may bump the revision meanwhile
            try:
                self._models.remove(model_id, current.revision, allowed=list(ModelStatus))
                break
            except Conflict:
                if attempt == 2:
                    raise
                current = self._models.get(model_id)
        self._log(record, actor, "delete", None, "deleted" + (" (forced)" if force and not record.runs_nothing else ""))

    def refresh_artifact(self, record: ModelRecord) -> ModelRecord:
        """Record uploads that have landed in the bucket since they were offered; one HEAD per pending version."""
        pending = [v for v in record.versions if v.artifact_pending_since is not None]
        if not pending:
            return record
        landed = {}
        for version in pending:
            found = self._artifacts.describe(record.id, version.artifact_number)
            if found is not None:
                landed[version.number] = found
        if not landed:
            return record
        versions = tuple(
            dataclasses.replace(v, artifact=landed[v.number], artifact_pending_since=None) if v.number in landed else v
            for v in record.versions
        )
        saved = self._save(dataclasses.replace(record, versions=versions), record)
        if saved is None:
            return self._models.get(record.id)
        for number, found in sorted(landed.items()):
            self._log(
                saved,
                f"{SYSTEM_ACTOR_PREFIX}artifact-store",
                "upload",
                record.status,
                f"artifact of version {number} stored ({found.size} bytes, sha256 {found.sha256 or 'unknown'})",
            )
        return saved

    # --- reports from the container runtime ---------------------------------------------------

    def on_replica_report(self, report: ReplicaReport) -> None:
        for _ in range(3):  # the record may change under us; re-read and re-decide
            try:
                record = self._models.get(report.model_id)
            except NotFound:
                return  # a deleted model's last container stopping
            deployed = self._deployed(record, report.version)
            if deployed is None:
                return  # a version this record no longer runs
            unit = record.unit(deployed)
            decided = next_state(unit, report, functools.partial(self._failure_reason, unit, report))
            if decided is None:
                return
            result = f"replica {report.replica_id[:12]} {report.state}"
            if len(record.wanted()) > 1:
                result = f"version {report.version}: {result}"
            if decided.for_good:
                result += "; not restarted: start the model again once it is fixed"
            loaded = self._first_load(record, report, decided.status)
            if loaded is not None and loaded.warnings:
                count = len(loaded.warnings)
                result += f"; loaded with {count} warning{'s' if count > 1 else ''}: {loaded.warnings[0]}"
            saved = self._unit_transition(
                record,
                report.version,
                decided.status,
                decided.reason,
                decided.endpoints,
                RUNTIME_ACTOR,
                result,
                for_good=decided.for_good,
                loaded=loaded,
            )
            if saved is not None:
                if decided.for_good:
                    self._runtime.stop(record.id, report.version)
                self._retire_later(saved)
                return
        logger.warning("gave up applying a replica report after conflicts", extra={"model_id": report.model_id})

    def retire(self, model_id: str) -> None:
        """Stop the versions a completed switch left behind, once requests routed to them have finished."""
        record = self._models.get(model_id)
        if record.retire_after is not None and self._clock() < record.retire_after:
            return
        for version in leaving_versions(record):
            stopping = self._unit_transition(
                record, version, ModelStatus.STOPPING, None, (), RECONCILER_ACTOR, f"version {version}: retired"
            )
            if stopping is None:
                return  # changed meanwhile; the next report or reconcile retires it
            record = stopping
            if not self._runtime.stop(model_id, version):
                record = self._unit_transition(
                    record, version, ModelStatus.STOPPED, None, (), RECONCILER_ACTOR, "nothing was running"
                ) or self._models.get(model_id)

    def record_scaling(self, model_id: str, version: int, before: int, after: int, reason: str) -> None:
        """A scaling action of the runtime's autoscaler, in the operations log with its reason, logged once."""
        for _ in range(3):  # the record may change under us; the count seen must be saved with the row
            record = self._models.get(model_id)
            state = record.state_of(version)
            if state.replicas_seen == after:
                return  # already logged (the reconciler saw it first)
            if self._save(with_state(record, dataclasses.replace(state, replicas_seen=after)), record) is not None:
                replicas = "replica" if after == 1 else "replicas"
                result = f"version {version}: {before} -> {after} {replicas}"
                self._log(record, AUTOSCALER_ACTOR, "scale", None, result, reason)
                return

    def reconcile(self) -> None:
        """Repair drift between records and the runtime: missed events, dead containers, stuck starts."""
        for status in (ModelStatus.PENDING, ModelStatus.RUNNING, ModelStatus.STOPPING, ModelStatus.FAILED):
            cursor = None
            while True:
                page = self._models.list(ModelQuery(limit=100, status=status, cursor=cursor))
                for record in page.items:
                    for state in record.version_states:
                        self._reconcile_unit(self._models.get(record.id), state.version)
                    self.retire(record.id)
                    if status is ModelStatus.RUNNING:
                        self._stop_if_unused(self._models.get(record.id))
                cursor = page.cursor
                if not cursor:
                    break

    def _reconcile_unit(self, record: ModelRecord, version: int) -> None:
        deployed = self._deployed(record, version)
        if deployed is None:
            return
        unit = record.unit(deployed)
        if unit.failed_for_good:
            return  # it waits for a person, not for a repair
        view = self._runtime.view(record.id, version)
        changed_at = unit.status_changed_at or record.updated_at
        status = unit.status
        repair = functools.partial(self._unit_transition, record, version, actor=RECONCILER_ACTOR)
        if status is ModelStatus.STOPPING and view.tasks_alive == 0:
            repair(status=ModelStatus.STOPPED, reason=None, endpoints=(), result="no container left")
        elif status in (ModelStatus.PENDING, ModelStatus.FAILED) and view.healthy_endpoints:
            repair(status=ModelStatus.RUNNING, reason=None, endpoints=view.healthy_endpoints, result="healthy")
        elif status is ModelStatus.RUNNING and not view.healthy_endpoints:
            reason = "the container is gone or unhealthy; the runtime is replacing it"
            repair(status=ModelStatus.FAILED, reason=reason, endpoints=(), result="drift repaired")
        elif status is ModelStatus.RUNNING and set(view.healthy_endpoints) != set(unit.endpoints):
            repair(status=ModelStatus.RUNNING, reason=None, endpoints=view.healthy_endpoints, result="endpoints")
        elif status is ModelStatus.PENDING and self._clock() - changed_at > self._start_timeout:
            minutes = self._start_timeout.total_seconds() / 60
            reason = f"did not become healthy within {minutes:g} minutes; see the container logs"
            repair(status=ModelStatus.FAILED, reason=reason, endpoints=(), result="start timed out")
        elif status in (ModelStatus.PENDING, ModelStatus.RUNNING, ModelStatus.FAILED) and not view.desired_running:
            # The record wants replicas but the runtime was never told (a lost start): tell it again.
            self._run_unit(record, deployed, RECONCILER_ACTOR)
        if deployed.autoscaling is not None and view.desired_running:
            self._note_scaling(self._models.get(record.id), version, deployed.autoscaling, view.desired_count)

    def _note_scaling(self, record: ModelRecord, version: int, policy: Autoscaling, desired: int) -> None:
        """The runtime's scaler moved a version's count (on AWS, Application Auto Scaling did): log it once."""
        state = record.state_of(version)
        if desired < 1 or desired == state.replicas_seen or state.status is ModelStatus.STOPPING:
            return
        if state.replicas_seen is None:  # written before counts were kept: this count is where logging starts
            self._save(with_state(record, dataclasses.replace(state, replicas_seen=desired)), record)
            return
        reason = (
            f"target tracking ({describe_targets(policy)}) within {policy.min_replicas}..{policy.max_replicas} "
            "replicas, as the runtime's scaler applied it"
        )
        self.record_scaling(record.id, version, state.replicas_seen, desired, reason)

    def _stop_if_unused(self, record: ModelRecord) -> None:
        """The idle stop: a model RUNNING for its idle time with no request in it rests until the next one."""
        minutes = record.idle_stop_minutes
        if minutes is None or record.status is not ModelStatus.RUNNING:
            return
        now = self._clock()
        window = self._idle_minute * minutes
        running_since = record.status_changed_at or record.updated_at
        if now - running_since < window:
            return
        if self._requests.list(record.id, now - window, now, None, 1, None).items:
            return
        self.stop(record.id, IDLE_ACTOR, idle_minutes=minutes)

    def wake(self, model_id: str) -> None:
        """Start an IDLE model for the request that found it resting (the gateway holds that request)."""
        record = self._models.get(model_id)
        if record.status is ModelStatus.IDLE:
            self.start(model_id, WAKE_ACTOR)

    # --- helpers ------------------------------------------------------------------------------

    def _with_a_deployment(self, record: ModelRecord, actor: str) -> ModelRecord:
        """The simple path: a model started before any deployment serves a version of its own settings."""
        if record.deployment:
            return record
        if record.docker_image is None:
            raise Conflict(f"upload the model's artifact first: POST /api/models/{record.id}/artifact")
        version = version_from_settings(record, actor, self._clock(), "from the model's settings at its first start")
        planned = dataclasses.replace(
            record, versions=(*record.versions, version), deployment=sole_deployment(record, version)
        )
        saved = self._save(planned, record)
        if saved is None:
            raise Conflict("the model changed while it was being started; try again")
        self._log(record, actor, "version", record.status, f"version {version.number} created")
        return saved

    def check_artifact(self, record: ModelRecord, number: int) -> None:
        """Conflict unless the version can serve: an image, or an uploaded artifact within the size limit."""
        version = record.find_version(number)
        if version is None or version.docker_image is not None:
            return
        if version.artifact is None:
            if len(record.versions) == 1:  # the simple path: the model's own upload
                raise Conflict(f"upload the model's artifact first: POST /api/models/{record.id}/artifact")
            raise Conflict(
                f"version {number} has no artifact yet: POST /api/models/{record.id}/versions/{number}/artifact"
            )
        if version.artifact.size > self._artifact_max_bytes:
            raise Conflict(
                f"the artifact is {version.artifact.size} bytes, over the limit of {self._artifact_max_bytes}"
            )

    def _run_units(self, record: ModelRecord, actor: str) -> ModelRecord:
        """Tell the runtime about every version that should run; a refusal fails that version."""
        for deployed in record.deployment:
            record = self._run_unit(record, deployed, actor)
        return record

    def _run_unit(self, record: ModelRecord, deployed: DeployedVersion, actor: str) -> ModelRecord:
        version = record.find_version(deployed.version)
        artifact_uri = None
        if version is not None and version.docker_image is None:
            recorded = version.artifact.object_version if version.artifact else None
            artifact_uri = self._artifacts.uri(record.id, version.artifact_number, recorded)
        # Only the standard runner reads from AWS (its artifact); an image model's containers get no identity.
        # Made at every start, not at creation: older models get theirs, and IAM has propagated a new role
        # long before Fargate has placed the task and the runner asks for credentials.
        identity = self._identities.ensure(record.id) if artifact_uri else None
        try:
            unit = RuntimeUnit(
                record.unit(deployed),
                deployed.version,
                deployed.replicas,
                artifact_uri,
                deployed.autoscaling,
                deployed.spot,
                identity,
            )
            self._runtime.start(unit)
        except RuntimeRefused as refused:
            failed = self._unit_transition(
                record, deployed.version, ModelStatus.FAILED, str(refused), (), actor, "refused"
            )
            return failed or self._models.get(record.id)
        return record

    def _deployed(self, record: ModelRecord, version: int) -> DeployedVersion | None:
        """The version as the runtime runs it; a leaving version keeps its last size until it stops."""
        found = next((d for d in record.wanted() if d.version == version), None)
        if found is not None:
            return found
        if record.state_of(version).status is ModelStatus.STOPPED:
            return None
        return DeployedVersion(version, 0, 1, record.container_cpu, record.container_memory)

    def _retire_later(self, record: ModelRecord) -> None:
        if self._later is None or not leaving_versions(record) or record.retire_after is None:
            return
        delay = max(0.0, (record.retire_after - self._clock()).total_seconds())
        self._later(delay, functools.partial(self.retire, record.id))

    def _remember(self, record: ModelRecord, actor: str, action: str, message: str) -> None:
        at = self._clock()
        self._history.record(
            DeploymentEntry(
                model_id=record.id,
                # Time first, so the history's sort key orders entries and the id finds one directly.
                entry_id=f"{int(at.timestamp() * 1000):013d}-{uuid.uuid4().hex[:8]}",
                at=at,
                actor=actor,
                action=action,
                message=message,
                spec=spec_lines(record, record.deployment),
            )
        )

    def _failure_reason(self, record: ModelRecord, report: ReplicaReport) -> str:
        return failure_reason(record, report, self._logs.failure_line(record.id, report.replica_id))

    def _first_load(self, record: ModelRecord, report: ReplicaReport, status: ModelStatus) -> LoadReport | None:
        """The runner's load report, read once per run of a version: when its first replica turns RUNNING."""
        if status is not ModelStatus.RUNNING or record.state_of(report.version).libraries:
            return None
        version = record.find_version(report.version)
        if version is None or version.docker_image:  # an image model's server reports nothing of the kind
            return None
        return self._logs.load_report(record.id, report.replica_id)

    def _unit_transition(
        self,
        record: ModelRecord,
        version: int,
        status: ModelStatus,
        reason: str | None,
        endpoints: tuple[str, ...],
        actor: str,
        result: str,
        for_good: bool = False,
        loaded: LoadReport | None = None,
    ) -> ModelRecord | None:
        """One version's new state, the model's summary with it, in one conditional write."""
        now = self._clock()
        before = record.state_of(version)
        state = dataclasses.replace(
            before,
            status=status,
            status_reason=reason,
            endpoints=endpoints,
            failed_for_good=for_good,
            status_changed_at=now if status is not before.status else before.status_changed_at,
        )
        if loaded is not None:
            state = dataclasses.replace(state, libraries=loaded.libraries, load_warnings=loaded.warnings)
        saved = self._save(settle(with_state(record, state), now), record)
        if saved is not None:
            self._log(record, actor, "transition", saved.status, result, reason)
        return saved


def _deployer(record: ModelRecord, actor: str) -> str | None:
    """Who deployed: the person now, and the one before when the platform acts (a schedule's start)."""
    return record.deployed_by if actor.startswith(SYSTEM_ACTOR_PREFIX) else actor


def _describe(spec: Sequence[DeployedVersion]) -> str:
    return ", ".join(
        f"version {d.version} at {d.weight}% x{d.replicas}" + (f" (shadow of {d.shadow.percent}%)" if d.shadow else "")
        for d in spec
    )
