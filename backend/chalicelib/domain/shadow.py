"""Shadow traffic: what the consumer of shadowed request lines does with them, and what a model's shadows came to.

The gateway only names the shadow versions drawn for a request in its history line; nothing more happens on
the request path (on Lambda nothing may run after the answer). The lines reach `ShadowComparer` later (a
CloudWatch Logs subscription on AWS, a worker thread in local mode): it sends each captured body to the shadow,
compares the answer with the captured serving answer and merges the batch's tally into the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.domain.comparison import DiffExample, Outcome, Tally, captured_whole, judge
from chalicelib.domain.errors import BadGateway, Conflict, GatewayTimeout, NotFound
from chalicelib.domain.gateway import HISTORY_STATUS, Answer, Route
from chalicelib.domain.models import SYSTEM_ACTOR_PREFIX, ModelRecord, Shadow
from chalicelib.domain.ports import Prediction, ShadowTallies

logger = logging.getLogger("kraken.shadow")
SHADOW_ACTOR = f"{SYSTEM_ACTOR_PREFIX}shadow"
PARALLEL_CALLS = 8  # shadow calls of one batch in flight at once (a delivery may carry many lines)


class ShadowGateway(Protocol):
    """What the comparer needs of the prediction gateway (domain.gateway.PredictionGateway)."""

    def route(self, model_id: str) -> Route: ...

    def try_version(self, route: Route, version: int, body: bytes, request_id: str, caller: str) -> Answer: ...


@dataclass(frozen=True)
class _Job:
    prediction: Prediction
    route: Route
    version: int
    shadow: Shadow


class ShadowComparer:
    def __init__(self, gateway: ShadowGateway, tallies: ShadowTallies) -> None:
        self._gateway = gateway
        self._tallies = tallies

    def consume(self, predictions: Iterable[Prediction]) -> int:
        """Compare every shadow answer the lines call for and merge the tallies; how many were compared or skipped."""
        jobs = [job for prediction in predictions for job in self._jobs(prediction)]
        if not jobs:
            return 0
        with ThreadPoolExecutor(max_workers=min(PARALLEL_CALLS, len(jobs))) as pool:
            outcomes = list(pool.map(self._compare, jobs))
        batches: dict[tuple[str, int, datetime], Tally] = {}
        for job, counted in zip(jobs, outcomes, strict=True):
            if counted is None or job.shadow.since is None:
                continue
            key = (job.route.model_id, job.version, job.shadow.since)
            batches[key] = counted(batches.get(key, Tally()))
        for (model_id, version, since), tally in batches.items():
            try:
                self._tallies.merge(model_id, version, since, tally)
            except Conflict as error:  # the batch's counts are lost; the next batches count again
                logger.warning("shadow tally of %s v%s: %s", model_id, version, error.message)
        return sum(t.total for t in batches.values())

    def _jobs(self, prediction: Prediction) -> list[_Job]:
        if not prediction.shadow_versions:
            return []
        try:
            route = self._gateway.route(prediction.model_id)
        except NotFound:
            return []  # the model was deleted since
        jobs = []
        for version in prediction.shadow_versions:
            target = next((t for t in route.targets if t.version == version), None)
            shadow = target.shadow if target else None
            # No longer a shadow, or a shadow anew since the request: not this tally's business.
            if shadow is not None and shadow.since is not None and prediction.at >= shadow.since:
                jobs.append(_Job(prediction, route, version, shadow))
        return jobs

    def _compare(self, job: _Job) -> Callable[[Tally], Tally] | None:
        """How the job's outcome counts in a tally; None when it does not count (the shadow is not running)."""
        prediction = job.prediction
        if not captured_whole(prediction):
            return lambda tally: tally.count(Outcome.SKIPPED)
        request, baseline = str(prediction.request_body), str(prediction.response_body)
        try:
            answer = self._gateway.try_version(
                job.route, job.version, request.encode(), prediction.request_id, SHADOW_ACTOR
            )
            status: int | None = answer.status
            shown = answer.status
            body, candidate_ms = answer.body.decode("utf-8", errors="replace"), answer.container_ms
        except Conflict:
            return None  # stopped or not started yet: nothing to compare with
        except (BadGateway, GatewayTimeout) as error:
            status, shown, body, candidate_ms = None, HISTORY_STATUS[error.code], error.message, None
        outcome, difference = judge(job.shadow.rule, prediction.status, baseline, status, body)
        example = None
        if difference is not None:
            example = DiffExample.of(
                prediction.request_id, request, (prediction.status, baseline), (shown, body), difference
            )
        baseline_ms = prediction.container_ms
        return lambda tally: tally.count(outcome, example, candidate_ms, baseline_ms)


@dataclass(frozen=True)
class ShadowReport:
    """One shadow version of a model's deployment, and its tally since it became one."""

    version: int
    percent: int
    since: datetime | None
    tally: Tally


def shadow_reports(record: ModelRecord, tallies: ShadowTallies) -> list[ShadowReport]:
    """The deployment's shadows with what their comparisons came to (an empty tally before any)."""
    reports = []
    for deployed in record.deployment:
        shadow = deployed.shadow
        if shadow is None:
            continue
        stored = tallies.get(record.id, deployed.version)
        tally = stored.tally if stored is not None and stored.since == shadow.since else Tally()
        reports.append(ShadowReport(deployed.version, shadow.percent, shadow.since, tally))
    return reports
