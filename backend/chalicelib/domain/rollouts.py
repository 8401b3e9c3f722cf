"""Progressive rollouts: a candidate's weight raised step by step, advanced or rolled back by the reconciler on
the gateway's numbers, with pause, resume, promote and abort for people."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib.domain.clock import utc_now
from chalicelib.domain.errors import Conflict, DomainError, FieldProblem, InvalidRequest, NotFound
from chalicelib.domain.lifecycle import Lifecycle
from chalicelib.domain.models import SYSTEM_ACTOR_PREFIX, DeployedVersion, ModelRecord, ModelStatus
from chalicelib.domain.ports import MetricsReader, ModelQuery, ModelRepository, Notifications, OperationsLog
from chalicelib.domain.records import RecordKeeper
from chalicelib.domain.rollout_plans import (
    Decision,
    Guardrails,
    Rollout,
    RolloutStatus,
    StepNumbers,
    Verdict,
    WindowCounts,
    breaches,
    held,
    numbers_of,
    steps_problem,
)

logger = logging.getLogger("kraken.rollouts")

ROLLOUT_ACTOR = f"{SYSTEM_ACTOR_PREFIX}rollout"
STEP_ACTION = "rollout"  # a step's deployment change, in the history and the operations log
ROLLBACK_ACTION = "rollout-rollback"
# The baseline's numbers from before the rollout cover its bake time, and at least this (a few of CloudWatch's
# minutes, so its p99 stands on more than a handful of requests).
REFERENCE_SECONDS = 300
# The candidate's match rate (its shadow's, else its latest replay's) for the guardrail; None when neither ran.
MatchRate = Callable[[str, int], float | None]


class Rollouts(RecordKeeper):
    def __init__(
        self,
        models: ModelRepository,
        operations: OperationsLog,
        lifecycle: Lifecycle,
        metrics: MetricsReader,
        notifications: Notifications,
        match_rate: MatchRate = lambda _model_id, _version: None,
        clock: Callable[[], datetime] = utc_now,
        on_change: Callable[[str], None] = lambda _model_id: None,
    ) -> None:
        super().__init__(models, operations, clock, on_change)
        self._lifecycle = lifecycle
        self._metrics = metrics
        self._notifications = notifications
        self._match_rate = match_rate

    # --- people's actions -----------------------------------------------------------------------

    def start(
        self,
        model_id: str,
        candidate: int,
        steps: tuple[int, ...],
        bake_seconds: int,
        rails: Guardrails,
        message: str,
        actor: str,
    ) -> ModelRecord:
        # An upload that landed since it was offered counts, as it does for a deployment change.
        record = self._lifecycle.refresh_artifact(self._models.get(model_id))
        if record.rollout is not None and record.rollout.active:
            raise Conflict(
                f"a rollout of version {record.rollout.candidate_version} is {record.rollout.status}; "
                "promote or abort it first"
            )
        problem = steps_problem(steps)
        if problem:
            raise InvalidRequest("the rollout plan is not valid", (FieldProblem("steps", problem),))
        if record.find_version(candidate) is None:
            raise NotFound(f"the model has no version {candidate}")
        self._lifecycle.check_artifact(record, candidate)
        if record.status is not ModelStatus.RUNNING or record.deployment != record.serving:
            raise Conflict(f"the model is {record.status}; a rollout starts from a running model whose switch is done")
        carrying = [d for d in record.deployment if d.weight > 0]
        if len(carrying) != 1:
            raise Conflict("a rollout starts from a deployment where one version has all the traffic")
        baseline = carrying[0].version
        if baseline == candidate:
            raise Conflict(f"version {candidate} already has all the traffic")
        now = self._clock()
        said = f"rollout of version {candidate} over {', '.join(f'{s}%' for s in steps)} started: step 1 at {steps[0]}%"
        said += f": {message}" if message else ""
        rollout = Rollout(
            candidate_version=candidate,
            baseline_version=baseline,
            steps=steps,
            bake_seconds=bake_seconds,
            guardrails=rails,
            status=RolloutStatus.RUNNING,
            started_by=actor,
            started_at=now,
        ).decided(Decision(now, 0, steps[0], Verdict.ADVANCE, actor, said))
        saved = self._deploy(record, rollout, self._step_spec(record, rollout, steps[0]), actor, STEP_ACTION, said)
        self._tell(saved, rollout.decisions[-1])
        return saved

    def pause(self, model_id: str, actor: str) -> ModelRecord:
        record, rollout = self._active(model_id, RolloutStatus.RUNNING, "pause")
        decision = Decision(
            self._clock(), rollout.step, rollout.weight, Verdict.PAUSE, actor, "paused: the weights stay"
        )
        return self._keep(record, rollout.decided(decision, status=RolloutStatus.PAUSED), actor, decision)

    def resume(self, model_id: str, actor: str) -> ModelRecord:
        record, rollout = self._active(model_id, RolloutStatus.PAUSED, "resume")
        now = self._clock()
        decision = Decision(now, rollout.step, rollout.weight, Verdict.RESUME, actor, "resumed: the step bakes anew")
        resumed = rollout.decided(decision, status=RolloutStatus.RUNNING, step_started_at=None)
        return self._keep(record, resumed, actor, decision)

    def promote(self, model_id: str, actor: str) -> ModelRecord:
        record, rollout = self._active(model_id, None, "promote")
        said = f"promoted by hand: version {rollout.candidate_version} takes all the traffic now"
        return self._end(record, rollout, RolloutStatus.SUCCEEDED, Verdict.PROMOTE, actor, said, None)

    def abort(self, model_id: str, actor: str) -> ModelRecord:
        record, rollout = self._active(model_id, None, "abort")
        said = f"aborted by hand: version {rollout.baseline_version} takes all the traffic back"
        return self._end(record, rollout, RolloutStatus.ABORTED, Verdict.ABORT, actor, said, None)

    # --- the reconciler -------------------------------------------------------------------------

    def run_due(self) -> None:
        """Judge every running rollout's step: advance it, roll it back, or let it bake."""
        for status in (ModelStatus.RUNNING, ModelStatus.FAILED, ModelStatus.PENDING):
            cursor = None
            while True:
                page = self._models.list(ModelQuery(limit=100, status=status, cursor=cursor))
                for record in page.items:
                    if record.rollout is not None and record.rollout.status is RolloutStatus.RUNNING:
                        try:
                            self.advance(record.id)
                        except DomainError:
                            logger.exception("a rollout step could not be judged", extra={"model_id": record.id})
                cursor = page.cursor
                if not cursor:
                    break

    def advance(self, model_id: str) -> None:
        record = self._models.get(model_id)
        rollout = record.rollout
        if rollout is None or rollout.status is not RolloutStatus.RUNNING:
            return
        now = self._clock()
        weights = {d.version: d.weight for d in record.deployment}
        if (
            weights.get(rollout.candidate_version) != rollout.weight
            or weights.get(rollout.baseline_version) != 100 - rollout.weight
        ):
            said = "the deployment was changed outside the rollout; the rollout stopped and left it as it is"
            decision = Decision(now, rollout.step, rollout.weight, Verdict.ABORT, ROLLOUT_ACTOR, said)
            ended = rollout.decided(decision, status=RolloutStatus.ABORTED, ended_at=now, reason=said)
            self._keep(record, ended, ROLLOUT_ACTOR, decision, quiet=True)
            return
        state = record.state_of(rollout.candidate_version)
        if state.status is ModelStatus.FAILED:
            said = f"version {rollout.candidate_version} failed: {state.status_reason}"
            self._end(record, rollout, RolloutStatus.ROLLED_BACK, Verdict.ROLLBACK, ROLLOUT_ACTOR, said, None)
            return
        if record.serving != record.deployment:
            return  # the step's switch is under way: its window starts once its weights serve
        if rollout.step_started_at is None:
            started = dataclasses.replace(rollout, step_started_at=now)
            if rollout.step == 0 and rollout.baseline_alone is None:
                started = dataclasses.replace(started, baseline_alone=self._before(record.id, rollout))
            self._save(dataclasses.replace(record, rollout=started), record)
            return
        numbers, reference = self._numbers(record.id, rollout, now)
        broken = breaches(numbers, rollout.guardrails)
        if broken:
            said = f"rolled back at step {rollout.step + 1} ({rollout.weight}%): " + "; ".join(broken)
            self._end(record, rollout, RolloutStatus.ROLLED_BACK, Verdict.ROLLBACK, ROLLOUT_ACTOR, said, numbers)
            return
        baked = (now - rollout.step_started_at).total_seconds()
        why = held(numbers, rollout.guardrails, baked, rollout.bake_seconds)
        if why is None:
            return  # still baking, or waiting for enough requests to say anything
        if rollout.step == len(rollout.steps) - 1:
            said = f"version {rollout.candidate_version} holds all the traffic: {why}"
            self._end(record, rollout, RolloutStatus.SUCCEEDED, Verdict.SUCCEED, ROLLOUT_ACTOR, said, numbers)
            return
        step = rollout.step + 1
        weight = rollout.steps[step]
        said = f"step {step + 1} at {weight}%: step {step} at {rollout.weight}% {why}"
        decision = Decision(now, step, weight, Verdict.ADVANCE, ROLLOUT_ACTOR, said, numbers)
        moved = rollout.decided(decision, step=step, step_started_at=None, baseline_reference=reference)
        saved = self._deploy(record, moved, self._step_spec(record, moved, weight), ROLLOUT_ACTOR, STEP_ACTION, said)
        self._tell(saved, decision)

    # --- helpers --------------------------------------------------------------------------------

    def _numbers(self, model_id: str, rollout: Rollout, now: datetime) -> tuple[StepNumbers, WindowCounts | None]:
        assert rollout.step_started_at is not None
        start = rollout.step_started_at
        candidate = self._metrics.window(model_id, rollout.candidate_version, start, now)
        baseline = self._metrics.window(model_id, rollout.baseline_version, start, now)
        match = self._match_rate(model_id, rollout.candidate_version)
        numbers = numbers_of(rollout, candidate, baseline, match)
        reference = baseline if baseline.requests >= rollout.guardrails.min_requests else rollout.baseline_reference
        return numbers, reference

    def _before(self, model_id: str, rollout: Rollout) -> WindowCounts | None:
        """The baseline's numbers over the span before the rollout began, when it had enough requests."""
        span = timedelta(seconds=max(rollout.bake_seconds, REFERENCE_SECONDS))
        alone = self._metrics.window(model_id, rollout.baseline_version, rollout.started_at - span, rollout.started_at)
        return alone if alone.requests >= rollout.guardrails.min_requests else None

    def _active(self, model_id: str, wanted: RolloutStatus | None, verb: str) -> tuple[ModelRecord, Rollout]:
        record = self._models.get(model_id)
        rollout = record.rollout
        if rollout is None:
            raise NotFound("the model has no rollout")
        if not rollout.active or (wanted is not None and rollout.status is not wanted):
            raise Conflict(f"the rollout is {rollout.status}: it cannot {verb}")
        return record, rollout

    def _step_spec(self, record: ModelRecord, rollout: Rollout, weight: int) -> tuple[DeployedVersion, ...]:
        """The baseline at 100 - weight (kept running at 0, so a rollback is instant) and the candidate at weight,
        sized as the baseline; any other version in the deployment (a shadow) stays as it is."""
        baseline = self._line(record, rollout.baseline_version)
        candidate = DeployedVersion(
            rollout.candidate_version,
            weight,
            baseline.replicas,
            baseline.container_cpu,
            baseline.container_memory,
            baseline.autoscaling,
            baseline.spot,
        )
        others = self._others(record, rollout)
        return (dataclasses.replace(baseline, weight=100 - weight), candidate, *others)

    def _line(self, record: ModelRecord, version: int) -> DeployedVersion:
        found = next((d for d in record.deployment if d.version == version), None)
        if found is None:
            raise Conflict(f"version {version} is no longer in the deployment")
        return found

    def _others(self, record: ModelRecord, rollout: Rollout) -> tuple[DeployedVersion, ...]:
        ours = {rollout.candidate_version, rollout.baseline_version}
        return tuple(d for d in record.deployment if d.version not in ours)

    def _deploy(
        self,
        record: ModelRecord,
        rollout: Rollout,
        spec: tuple[DeployedVersion, ...],
        actor: str,
        action: str,
        said: str,
    ) -> ModelRecord:
        return self._lifecycle.deploy(
            record.id,
            spec,
            said,
            actor,
            record.revision,
            action=action,
            also=lambda planned: dataclasses.replace(planned, rollout=rollout),
        )

    def _end(
        self,
        record: ModelRecord,
        rollout: Rollout,
        status: RolloutStatus,
        verdict: Verdict,
        actor: str,
        said: str,
        numbers: StepNumbers | None,
    ) -> ModelRecord:
        """Finish the rollout: all traffic to the candidate (success) or back to the baseline (anything else)."""
        now = self._clock()
        decision = Decision(now, rollout.step, rollout.weight, verdict, actor, said, numbers)
        ended = rollout.decided(decision, status=status, ended_at=now, reason=said)
        winner = rollout.candidate_version if status is RolloutStatus.SUCCEEDED else rollout.baseline_version
        source = self._line(record, rollout.baseline_version)
        if winner == rollout.candidate_version:
            source = next((d for d in record.deployment if d.version == winner), source)
        line = dataclasses.replace(source, version=winner, weight=100)
        action = STEP_ACTION if status is RolloutStatus.SUCCEEDED else ROLLBACK_ACTION
        saved = self._deploy(record, ended, (line, *self._others(record, rollout)), actor, action, said)
        self._tell(saved, decision)
        return saved

    def _keep(
        self, record: ModelRecord, rollout: Rollout, actor: str, decision: Decision, quiet: bool = False
    ) -> ModelRecord:
        """A change of the rollout alone (pause, resume), with its line in the operations log."""
        saved = self._save(dataclasses.replace(record, rollout=rollout), record)
        if saved is None:
            raise Conflict("the model changed meanwhile; reload and try again")
        self._log(record, actor, STEP_ACTION, saved.status, decision.reason)
        if not quiet:
            self._tell(saved, decision)
        return saved

    def _tell(self, record: ModelRecord, decision: Decision) -> None:
        rollout = record.rollout
        assert rollout is not None
        subject = f"Kraken {record.name}: rollout of version {rollout.candidate_version}: {decision.verdict}"
        attributes = {"modelId": record.id, "verdict": decision.verdict.value, "status": rollout.status.value}
        try:
            self._notifications.publish(subject, decision.reason, attributes)
        except DomainError:  # the rollout's decision stands; the history and the log still say it
            logger.exception("the rollout topic refused a notice", extra={"model_id": record.id})
