"""Model lifecycle: start, stop, delete and artifact uploads, and status transitions from replica reports."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.clock import utc_now
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.models import ModelRecord, ModelStatus, OperationEntry
from chalicelib.domain.ports import (
    ArtifactStore,
    ContainerLogs,
    ContainerRuntime,
    ExitCause,
    ModelQuery,
    ModelRepository,
    OperationsLog,
    ReplicaReport,
    ReplicaState,
    RuntimeRefused,
    UploadTicket,
)
from chalicelib.domain.runner_contract import RUNNER_CANNOT_LOAD_EXIT_CODE

logger = logging.getLogger("kraken.lifecycle")

RUNTIME_ACTOR = "system:container-runtime"
RECONCILER_ACTOR = "system:reconciler"


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


class Lifecycle:
    def __init__(
        self,
        models: ModelRepository,
        runtime: ContainerRuntime,
        operations: OperationsLog,
        artifacts: ArtifactStore,
        container_logs: ContainerLogs,
        artifact_max_bytes: int,
        start_timeout: timedelta,
        clock: Callable[[], datetime] = utc_now,
        on_change: Callable[[str], None] = lambda _model_id: None,
    ) -> None:
        self._models = models
        self._runtime = runtime
        self._operations = operations
        self._artifacts = artifacts
        self._logs = container_logs
        self._artifact_max_bytes = artifact_max_bytes
        self._start_timeout = start_timeout
        self._clock = clock
        self._on_change = on_change

    # --- user actions -------------------------------------------------------------------------

    def start(self, model_id: str, actor: str) -> ModelRecord:
        record = self.refresh_artifact(self._models.get(model_id))
        if record.status in (ModelStatus.PENDING, ModelStatus.RUNNING):
            self._log(record, actor, "start", record.status, f"already {record.status}; nothing to do")
            return record
        if record.status is ModelStatus.STOPPING:
            raise Conflict("the model is stopping; start it again once it is STOPPED")
        if record.docker_image is None:
            if record.artifact is None:
                raise Conflict(f"upload the model's artifact first: POST /api/models/{model_id}/artifact")
            if record.artifact.size > self._artifact_max_bytes:
                raise Conflict(
                    f"the artifact is {record.artifact.size} bytes, over the limit of {self._artifact_max_bytes}"
                )
        pending = self._transition(record, ModelStatus.PENDING, None, record.endpoints, actor, "start", "accepted")
        if pending is None:  # a concurrent start won the conditional write; it starts the container
            current = self._models.get(model_id)
            self._log(current, actor, "start", current.status, f"already {current.status}; nothing to do")
            return current
        try:
            self._logs.create_group(model_id)
            artifact_uri = None if record.docker_image else self._artifacts.uri(model_id)
            self._runtime.start(pending, artifact_uri)
        except RuntimeRefused as refused:
            failed = self._transition(pending, ModelStatus.FAILED, str(refused), (), actor, "transition", "refused")
            return failed or self._models.get(model_id)
        return pending

    def stop(self, model_id: str, actor: str) -> ModelRecord:
        record = self._models.get(model_id)
        if record.status in (ModelStatus.STOPPED, ModelStatus.STOPPING):
            self._log(record, actor, "stop", record.status, f"already {record.status}; nothing to do")
            return record
        stopping = self._transition(record, ModelStatus.STOPPING, None, record.endpoints, actor, "stop", "accepted")
        if stopping is None:
            current = self._models.get(model_id)
            self._log(current, actor, "stop", current.status, f"{current.status} meanwhile; nothing to do")
            return current
        if not self._runtime.stop(model_id):
            # Nothing was running, so no event will come to finish the stop.
            stopped = self._transition(
                stopping, ModelStatus.STOPPED, None, (), actor, "transition", "nothing was running"
            )
            return stopped or self._models.get(model_id)
        return stopping

    def delete(self, model_id: str, actor: str, force: bool, expected_revision: int | None = None) -> None:
        record = self._models.get(model_id)
        if expected_revision is not None and expected_revision != record.revision:
            raise Conflict(
                f"the model has changed: revision {record.revision} is current, "
                f"the request is based on revision {expected_revision}"
            )
        if record.status is not ModelStatus.STOPPED:
            if not force:
                raise Conflict(
                    f"only a STOPPED model can be deleted; this one is {record.status}. "
                    "Stop it first, or delete with ?force=true to stop its container and delete it"
                )
            self._runtime.stop(model_id)
        # The record goes last: each clean-up step is idempotent, so a delete that fails midway
        # (S3 or Logs unavailable) can simply be repeated instead of leaving orphans behind.
        self._runtime.remove(model_id)
        self._artifacts.delete(model_id)
        self._logs.delete_group(model_id)
        self._on_change(model_id)
        current = record
        for attempt in range(3):  # the stopping container's events may bump the revision meanwhile
            try:
                self._models.remove(model_id, current.revision, allowed=list(ModelStatus))
                break
            except Conflict:
                if attempt == 2:
                    raise
                current = self._models.get(model_id)
        self._log(record, actor, "delete", None, "deleted" + (" (forced)" if force and not record.is_idle else ""))

    def request_upload(self, model_id: str, actor: str) -> UploadTicket:
        record = self._models.get(model_id)
        if record.docker_image:
            raise Conflict("this model runs its own image; artifacts are for models without dockerImage")
        ticket = self._artifacts.upload_ticket(model_id, self._artifact_max_bytes)
        if record.artifact_pending_since is None:
            self._save(dataclasses.replace(record, artifact_pending_since=self._clock()), record)
        self._log(record, actor, "upload", record.status, "upload offered")
        return ticket

    def refresh_artifact(self, record: ModelRecord) -> ModelRecord:
        """Record an upload that has landed in the bucket since it was offered; one HEAD, only while pending."""
        if record.artifact_pending_since is None:
            return record
        found = self._artifacts.describe(record.id)
        if found is None or (record.artifact is not None and found == record.artifact):
            return record
        updated = dataclasses.replace(record, artifact=found, artifact_pending_since=None)
        saved = self._save(updated, record)
        if saved is None:
            return self._models.get(record.id)
        self._log(saved, "system:artifact-store", "upload", record.status, f"artifact stored ({found.size} bytes)")
        return saved

    # --- reports from the container runtime ---------------------------------------------------

    def on_replica_report(self, report: ReplicaReport) -> None:
        for _ in range(3):  # the record may change under us; re-read and re-decide
            try:
                record = self._models.get(report.model_id)
            except NotFound:
                return  # a deleted model's last container stopping
            decided = next_state(record, report, functools.partial(self._failure_reason, record, report))
            if decided is None:
                return
            result = f"replica {report.replica_id[:12]} {report.state}"
            if decided.for_good:
                result += "; not restarted: start the model again once it is fixed"
            saved = self._transition(
                record,
                decided.status,
                decided.reason,
                decided.endpoints,
                RUNTIME_ACTOR,
                "transition",
                result,
                for_good=decided.for_good,
            )
            if saved is not None:
                if decided.for_good:
                    self._runtime.stop(record.id)
                return
        logger.warning("gave up applying a replica report after conflicts", extra={"model_id": report.model_id})

    def reconcile(self) -> None:
        """Repair drift between records and the runtime: missed events, dead containers, stuck starts."""
        for status in (ModelStatus.PENDING, ModelStatus.RUNNING, ModelStatus.STOPPING, ModelStatus.FAILED):
            cursor = None
            while True:
                page = self._models.list(ModelQuery(limit=100, status=status, cursor=cursor))
                for record in page.items:
                    self._reconcile_one(record)
                cursor = page.cursor
                if not cursor:
                    break

    def _reconcile_one(self, record: ModelRecord) -> None:
        if record.failed_for_good:
            return  # it waits for a person, not for a repair
        view = self._runtime.view(record.id)
        changed_at = record.status_changed_at or record.updated_at
        if record.status is ModelStatus.STOPPING and view.tasks_alive == 0:
            self._transition(record, ModelStatus.STOPPED, None, (), RECONCILER_ACTOR, "transition", "no container left")
        elif record.status in (ModelStatus.PENDING, ModelStatus.FAILED) and view.healthy_endpoints:
            self._transition(
                record, ModelStatus.RUNNING, None, view.healthy_endpoints, RECONCILER_ACTOR, "transition", "healthy"
            )
        elif record.status is ModelStatus.RUNNING and not view.healthy_endpoints:
            reason = "the container is gone or unhealthy; the runtime is replacing it"
            self._transition(record, ModelStatus.FAILED, reason, (), RECONCILER_ACTOR, "transition", "drift repaired")
        elif record.status is ModelStatus.RUNNING and set(view.healthy_endpoints) != set(record.endpoints):
            self._transition(
                record, ModelStatus.RUNNING, None, view.healthy_endpoints, RECONCILER_ACTOR, "transition", "endpoints"
            )
        elif record.status is ModelStatus.PENDING and self._clock() - changed_at > self._start_timeout:
            minutes = self._start_timeout.total_seconds() / 60
            reason = f"did not become healthy within {minutes:g} minutes; see the container logs"
            self._transition(record, ModelStatus.FAILED, reason, (), RECONCILER_ACTOR, "transition", "start timed out")
        elif (
            record.status in (ModelStatus.PENDING, ModelStatus.RUNNING, ModelStatus.FAILED) and not view.desired_running
        ):
            # The record wants a container but the runtime was never told (a lost start): tell it again.
            artifact_uri = None if record.docker_image else self._artifacts.uri(record.id)
            try:
                self._runtime.start(record, artifact_uri)
            except RuntimeRefused as refused:
                self._transition(
                    record, ModelStatus.FAILED, str(refused), (), RECONCILER_ACTOR, "transition", "refused"
                )

    # --- helpers ------------------------------------------------------------------------------

    def _failure_reason(self, record: ModelRecord, report: ReplicaReport) -> str:
        return failure_reason(record, report, self._logs.failure_line(record.id, report.replica_id))

    def _save(self, updated: ModelRecord, current: ModelRecord) -> ModelRecord | None:
        """Conditional write on the revision read; None when someone else wrote first."""
        updated = dataclasses.replace(updated, revision=current.revision + 1, updated_at=self._clock())
        try:
            self._models.replace(updated, expected_revision=current.revision)
        except Conflict:
            return None
        self._on_change(updated.id)
        return updated

    def _transition(
        self,
        record: ModelRecord,
        status: ModelStatus,
        reason: str | None,
        endpoints: tuple[str, ...],
        actor: str,
        action: str,
        result: str,
        for_good: bool = False,
    ) -> ModelRecord | None:
        now = self._clock()
        changed = dataclasses.replace(
            record,
            status=status,
            status_reason=reason,
            endpoints=endpoints,
            failed_for_good=for_good,
            status_changed_at=now if status is not record.status else record.status_changed_at,
        )
        saved = self._save(changed, record)
        if saved is not None:
            self._log(record, actor, action, status, result, reason)
        return saved

    def _log(
        self,
        record: ModelRecord,
        actor: str,
        action: str,
        to_status: ModelStatus | None,
        result: str,
        reason: str | None = None,
    ) -> None:
        self._operations.record(
            OperationEntry(
                model_id=record.id,
                at=self._clock(),
                actor=actor,
                action=action,
                from_status=record.status,
                to_status=to_status,
                result=result,
                reason=reason,
            )
        )
