"""Replays: captured requests of the history sent again to a candidate version and compared, in bounded batches.

A replay is created by a person and then advanced by whoever runs `ReplayRunner.run_due` (the scheduled
reconciler on AWS, a background thread too in local mode). Each advance holds a lease on the record, so two
workers never send the same requests twice, and saves its progress (the history cursor and the tally) after
every batch, so a replay that outlives one round resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from chalicelib.domain.clock import utc_now
from chalicelib.domain.comparison import ComparisonRule, DiffExample, Outcome, Tally, captured_whole, judge
from chalicelib.domain.errors import Conflict, DomainError, FieldProblem, InvalidRequest, NotFound
from chalicelib.domain.models import SYSTEM_ACTOR_PREFIX, DeployedVersion, ModelRecord, ModelStatus
from chalicelib.domain.ports import ModelRepository, Page, Prediction, RequestHistory

if TYPE_CHECKING:  # the storage adapter imports the record without the services that advance it
    from chalicelib.domain.gateway import PredictionGateway, Route
    from chalicelib.domain.lifecycle import Lifecycle

logger = logging.getLogger("kraken.replays")

REPLAY_ACTOR = f"{SYSTEM_ACTOR_PREFIX}replay"
DEFAULT_WINDOW = timedelta(days=1)  # the history a replay reads when no start is given
MAX_WINDOW = timedelta(days=15)
MAX_LIMIT = 5000
MAX_RATE = 100
PAGE_SIZE = 100  # history lines read per batch at most
LEASE_MARGIN = timedelta(seconds=60)  # a worker's lease outlasts its budget by this much
START_POLL_SECONDS = 1.0
CLEANUP_ATTEMPTS = 3


class ReplayStatus(enum.StrEnum):
    PENDING = "PENDING"  # created; the candidate is being added or started
    RUNNING = "RUNNING"  # requests are being sent
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self in (ReplayStatus.SUCCEEDED, ReplayStatus.FAILED, ReplayStatus.CANCELLED)


@dataclass(frozen=True)
class ReplaySource:
    """Which captured requests are replayed: a time range, a status (a code, a class such as 2xx, or None), a count."""

    start: datetime
    end: datetime
    status: str | None
    limit: int


@dataclass(frozen=True)
class Replay:
    replay_id: str
    model_id: str
    candidate_version: int
    created_by: str
    created_at: datetime
    source: ReplaySource
    rule: ComparisonRule
    rate_per_second: int
    status: ReplayStatus = ReplayStatus.PENDING
    status_reason: str | None = None
    finished_at: datetime | None = None
    # The versions that answered the replayed requests when they were captured.
    baseline_versions: tuple[int, ...] = ()
    done: int = 0  # history lines dealt with (compared or skipped)
    total: int = 0  # the limit until the history is read to its end, then what it held
    tally: Tally = dataclasses.field(default_factory=Tally)
    # The replay added the candidate to the deployment (at weight 0) and takes it out when it ends.
    started_candidate: bool = False
    # The candidate is out again, or never needed to go: nothing is left to undo.
    cleaned: bool = False
    cursor: str | None = None  # where the history continues
    exhausted: bool = False  # the source has no more lines
    lease_until: datetime | None = None  # a worker advances it until then
    revision: int = 1

    @property
    def active(self) -> bool:
        """Something is still to do: requests to send, or the candidate to take out."""
        return not self.status.finished or not self.cleaned


class ReplayStore(Protocol):
    def add(self, replay: Replay) -> None: ...

    def get(self, model_id: str, replay_id: str) -> Replay:
        """The replay, or NotFound."""
        ...

    def replace(self, replay: Replay, expected_revision: int) -> None:
        """Overwrite it if its stored revision is still `expected_revision`; else Conflict."""
        ...

    def page(self, model_id: str, limit: int, cursor: str | None) -> Page[Replay]:
        """A model's replays, newest first."""
        ...

    def active(self) -> list[Replay]:
        """Every replay with something left to do (an index of them only, never a scan)."""
        ...

    def latest_finished(self, model_id: str, version: int) -> Replay | None:
        """The newest SUCCEEDED replay of that candidate version (a rollout guardrail reads its match rate)."""
        ...


def new_replay_id(at: datetime) -> str:
    """Sorts by creation time: milliseconds, then a random part."""
    return f"{int(at.timestamp() * 1000):013d}-{secrets.token_hex(4)}"


def check_source(source: ReplaySource) -> None:
    problems = []
    if source.end <= source.start:
        problems.append(FieldProblem("source.end", "the end must be after the start"))
    elif source.end - source.start > MAX_WINDOW:
        problems.append(FieldProblem("source.start", "a replay reads at most 15 days of history"))
    if not 1 <= source.limit <= MAX_LIMIT:
        problems.append(FieldProblem("source.limit", f"from 1 to {MAX_LIMIT} requests"))
    if problems:
        raise InvalidRequest("the replay is not valid", tuple(problems))


class ReplayRunner:
    """Creates, advances, cancels and finishes replays."""

    def __init__(
        self,
        store: ReplayStore,
        models: ModelRepository,
        lifecycle: Lifecycle,
        gateway: PredictionGateway,
        history: RequestHistory,
        clock: Callable[[], datetime] = utc_now,
        later: Callable[[float, Callable[[], None]], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._models = models
        self._lifecycle = lifecycle
        self._gateway = gateway
        self._history = history
        self._clock = clock
        # Local mode runs a new replay at once on a thread; on AWS the reconciler's next round does.
        self._later = later
        self._sleep = sleep
        self._monotonic = monotonic

    # --- user actions -------------------------------------------------------------------------

    def create(
        self,
        model_id: str,
        candidate: int,
        source: ReplaySource,
        rule: ComparisonRule,
        rate_per_second: int,
        actor: str,
    ) -> Replay:
        # An upload that landed since it was offered counts, as it does for a deployment change.
        record = self._lifecycle.refresh_artifact(self._models.get(model_id))
        version = record.find_version(candidate)
        if version is None:
            raise NotFound(f"the model has no version {candidate}")
        self._lifecycle.check_artifact(record, candidate)
        if record.status is not ModelStatus.RUNNING:
            raise Conflict(
                f"the model is {record.status}, not RUNNING: nothing serves requests to compare with; start it first"
            )
        check_source(source)
        now = self._clock()
        replay = Replay(
            replay_id=new_replay_id(now),
            model_id=model_id,
            candidate_version=candidate,
            created_by=actor,
            created_at=now,
            source=source,
            rule=rule,
            rate_per_second=rate_per_second,
            total=source.limit,
            lease_until=now + LEASE_MARGIN,  # the creator's, while it adds the candidate
        )
        self._store.add(replay)
        replay = self._begin(replay, record)
        self._release(replay)
        replay = self._store.get(model_id, replay.replay_id)
        if self._later is not None and replay.active:
            self._later(0.0, lambda: self.run_one(model_id, replay.replay_id, budget_seconds=600.0))
        return replay

    def cancel(self, model_id: str, replay_id: str, actor: str) -> Replay:
        for _ in range(5):
            replay = self._store.get(model_id, replay_id)
            if replay.status.finished:
                raise Conflict(f"the replay has already ended ({replay.status}); nothing to cancel")
            cancelled = dataclasses.replace(
                replay,
                status=ReplayStatus.CANCELLED,
                status_reason=f"cancelled by {actor}",
                finished_at=self._clock(),
            )
            saved = self._save(cancelled, replay)
            if saved is None:
                continue
            if saved.lease_until is None or saved.lease_until <= self._clock():
                return self._clean_up(saved)  # no worker holds it: undo the candidate now
            return saved  # the worker sees the cancel at its next save and takes the candidate out
        raise Conflict("the replay kept changing while it was being cancelled; try again")

    # --- advancing ----------------------------------------------------------------------------

    def run_due(self, budget_seconds: float = 40.0) -> None:
        """Advance every active replay within the budget (the reconciler's round)."""
        deadline = self._monotonic() + budget_seconds
        for replay in self._store.active():
            left = deadline - self._monotonic()
            if left <= 0:
                return
            try:
                self._advance(replay, left)
            except Exception:  # one replay's trouble must not stop the others or the reconciler
                logger.exception("replay %s of model %s could not advance", replay.replay_id, replay.model_id)

    def run_one(self, model_id: str, replay_id: str, budget_seconds: float) -> None:
        self._advance(self._store.get(model_id, replay_id), budget_seconds)

    def _advance(self, replay: Replay, budget_seconds: float) -> None:
        deadline = self._monotonic() + budget_seconds
        claimed = self._claim(replay, budget_seconds)
        if claimed is None:
            return  # another worker holds it
        replay = claimed
        try:
            if replay.status.finished:
                replay = self._clean_up(replay)
                return
            if replay.status is ReplayStatus.PENDING:
                replay = self._begin(replay, self._models.get(replay.model_id))
                if replay.status.finished:
                    return
            replay = self._send(replay, deadline)
        except NotFound:
            # The model went away under the replay.
            self._fail(replay, "the model was deleted")
        finally:
            self._release(replay)

    def _begin(self, replay: Replay, record: ModelRecord) -> Replay:
        """Make sure the candidate is in the deployment (at weight 0 when the replay adds it); then RUNNING."""
        if any(d.version == replay.candidate_version for d in record.wanted()):
            return self._save_or_current(dataclasses.replace(replay, status=ReplayStatus.RUNNING), replay)
        size = (record.container_cpu, record.container_memory)
        added = DeployedVersion(replay.candidate_version, 0, 1, *size)
        message = f"replay {replay.replay_id}: version {replay.candidate_version} at weight 0 to replay requests"
        try:
            self._lifecycle.deploy(replay.model_id, (*record.deployment, added), message, REPLAY_ACTOR, None)
        except DomainError as error:
            return self._fail(replay, f"version {replay.candidate_version} could not be deployed: {error.message}")
        started = dataclasses.replace(replay, status=ReplayStatus.RUNNING, started_candidate=True)
        return self._save_or_current(started, replay)

    def _candidate_ready(self, replay: Replay, deadline: float) -> Replay | None:
        """The replay once its candidate runs; None when the budget ran out first (a later round goes on)."""
        while True:
            record = self._models.get(replay.model_id)
            if not any(d.version == replay.candidate_version for d in record.wanted()):
                self._fail(replay, f"version {replay.candidate_version} was taken out of the deployment")
                return None
            state = record.state_of(replay.candidate_version)
            if state.status is ModelStatus.RUNNING and state.endpoints:
                return replay
            if state.status is ModelStatus.FAILED:
                self._fail(replay, f"version {replay.candidate_version} failed to start: {state.status_reason}")
                return None
            if state.status in (ModelStatus.STOPPED, ModelStatus.STOPPING, ModelStatus.IDLE):
                self._fail(replay, f"version {replay.candidate_version} is {state.status}: the model was stopped")
                return None
            if self._monotonic() + START_POLL_SECONDS >= deadline:
                return None
            self._sleep(START_POLL_SECONDS)

    def _send(self, replay: Replay, deadline: float) -> Replay:
        ready = self._candidate_ready(replay, deadline)
        if ready is None:
            return self._store.get(replay.model_id, replay.replay_id)
        interval = 1.0 / replay.rate_per_second
        next_send = self._monotonic()
        while not replay.exhausted and replay.done < replay.source.limit:
            left = deadline - self._monotonic()
            size = min(PAGE_SIZE, replay.source.limit - replay.done, int(left * replay.rate_per_second))
            if size < 1:
                return replay
            source = replay.source
            page = self._history.list(replay.model_id, source.start, source.end, source.status, size, replay.cursor)
            self._gateway.forget(replay.model_id)  # a fresh route: the candidate's endpoints as they are now
            route = self._gateway.route(replay.model_id)
            tally, done, versions = replay.tally, replay.done, set(replay.baseline_versions)
            for line in page.items:
                if line.model_version == str(replay.candidate_version):
                    continue  # answered by the candidate itself: nothing to compare with
                if line.model_version and line.model_version.isdigit():
                    versions.add(int(line.model_version))
                done += 1
                if not captured_whole(line):
                    tally = tally.count(Outcome.SKIPPED)
                    continue
                now = self._monotonic()
                if next_send > now:  # at most rate_per_second: one request at a time, started an interval apart
                    self._sleep(next_send - now)
                    now = next_send
                next_send = now + interval
                tally = tally.count(*self._compare(replay, route, line))
            exhausted = page.cursor is None
            progressed = dataclasses.replace(
                replay,
                tally=tally,
                done=done,
                baseline_versions=tuple(sorted(versions)),
                cursor=page.cursor,
                exhausted=exhausted,
                total=done if exhausted else replay.total,
            )
            saved = self._save(progressed, replay)
            if saved is None:  # cancelled meanwhile (the only other writer): undo and stop
                current = self._store.get(replay.model_id, replay.replay_id)
                return self._clean_up(current) if current.status.finished else current
            replay = saved
        finished = dataclasses.replace(
            replay, status=ReplayStatus.SUCCEEDED, finished_at=self._clock(), total=replay.done
        )
        saved = self._save(finished, replay)
        if saved is None:
            current = self._store.get(replay.model_id, replay.replay_id)
            return self._clean_up(current) if current.status.finished else current
        return self._clean_up(saved)

    def _compare(
        self, replay: Replay, route: Route, line: Prediction
    ) -> tuple[Outcome, DiffExample | None, float | None, float | None]:
        """One request sent to the candidate: its outcome, the difference to keep, both latencies."""
        body = line.request_body or ""
        baseline_body = line.response_body or ""
        sent = self._monotonic()
        status: int | None
        try:
            answer = self._gateway.try_version(
                route,
                replay.candidate_version,
                body.encode(),
                f"replay-{replay.replay_id}-{line.request_id}",
                REPLAY_ACTOR,
            )
            status, answered = answer.status, answer.body.decode("utf-8", errors="replace")
        except DomainError as error:
            status, answered = None, error.message
        candidate_ms = (self._monotonic() - sent) * 1000
        outcome, difference = judge(replay.rule, line.status, baseline_body, status, answered)
        example = None
        if difference is not None:
            shown = status if status is not None else 0
            example = DiffExample.of(line.request_id, body, (line.status, baseline_body), (shown, answered), difference)
        return outcome, example, (candidate_ms if status is not None else None), line.latency_ms

    # --- ending -------------------------------------------------------------------------------

    def _fail(self, replay: Replay, reason: str) -> Replay:
        logger.info("replay %s of model %s failed: %s", replay.replay_id, replay.model_id, reason)
        failed = dataclasses.replace(
            replay, status=ReplayStatus.FAILED, status_reason=reason, finished_at=self._clock()
        )
        saved = self._save(failed, replay)
        if saved is None:
            current = self._store.get(replay.model_id, replay.replay_id)
            return self._clean_up(current) if current.status.finished else current
        return self._clean_up(saved)

    def _clean_up(self, replay: Replay) -> Replay:
        """Take the candidate out of the deployment if this replay put it there and it still has weight 0."""
        if replay.cleaned:
            return replay
        if replay.started_candidate:
            self._remove_candidate(replay)
        done = dataclasses.replace(replay, cleaned=True)
        return self._save(done, replay) or self._store.get(replay.model_id, replay.replay_id)

    def _remove_candidate(self, replay: Replay) -> None:
        for _ in range(CLEANUP_ATTEMPTS):
            try:
                record = self._models.get(replay.model_id)
            except NotFound:
                return
            ours = next((d for d in record.deployment if d.version == replay.candidate_version), None)
            if ours is None or ours.weight != 0:
                return  # taken out already, or someone gave it traffic since: it stays
            rest: Sequence[DeployedVersion] = [d for d in record.deployment if d is not ours]
            if not rest:
                return
            message = f"replay {replay.replay_id} ended: version {replay.candidate_version} taken out again"
            try:
                self._lifecycle.deploy(replay.model_id, rest, message, REPLAY_ACTOR, record.revision)
                return
            except Conflict:
                continue  # changed meanwhile: read it again

    # --- the record's writes ------------------------------------------------------------------

    def _save(self, updated: Replay, current: Replay) -> Replay | None:
        """Write over the revision read; None when someone else wrote first."""
        updated = dataclasses.replace(updated, revision=current.revision + 1)
        try:
            self._store.replace(updated, current.revision)
        except Conflict:
            return None
        return updated

    def _save_or_current(self, updated: Replay, current: Replay) -> Replay:
        return self._save(updated, current) or self._store.get(current.model_id, current.replay_id)

    def _claim(self, replay: Replay, budget_seconds: float) -> Replay | None:
        now = self._clock()
        if replay.lease_until is not None and replay.lease_until > now:
            return None
        until = now + timedelta(seconds=budget_seconds) + LEASE_MARGIN
        return self._save(dataclasses.replace(replay, lease_until=until), replay)

    def _release(self, replay: Replay) -> None:
        for _ in range(3):
            current = self._store.get(replay.model_id, replay.replay_id)
            if current.lease_until is None:
                return
            if self._save(dataclasses.replace(current, lease_until=None), current) is not None:
                return
