"""Non-HTTP entry points: ECS task state changes from EventBridge, the reconciler's schedule (which also fires
the models' start/stop schedules), and the shadow consumer fed by the request log's subscription filter."""

from __future__ import annotations

import logging
from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import wiring

logger = logging.getLogger("kraken.triggers")
blueprint = Blueprint(__name__)

# The deployed rule narrows this to our cluster (infra); the handler checks the cluster again.
TASK_STATE_CHANGE_PATTERN: dict[str, Any] = {"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"]}


@blueprint.on_cw_event(TASK_STATE_CHANGE_PATTERN, name="task_state_change")
def on_task_state_change(event: CloudWatchEvent) -> None:
    from chalicelib.adapters.ecs import replica_report_from_detail

    services = wiring.current()
    report = replica_report_from_detail(event.detail, services.settings)
    if report is None:
        logger.info("ignored a task event of another cluster or service, or one that changes nothing")
        return
    services.lifecycle.on_replica_report(report)


@blueprint.lambda_function(name="shadow_consumer")
def shadow_consumer(event: dict[str, Any], context: Any) -> None:  # noqa: ARG001 - no use for the context
    """The lines of shadowed requests, as the request log group's subscription filter delivers them (base64 gzip
    JSON): each captured body goes to its shadow versions and the answers are compared, after the caller was
    answered (the API function is frozen once it returns, so this is another function's work)."""
    from chalicelib.adapters.prediction_log import subscription_predictions

    predictions = subscription_predictions(event)
    counted = wiring.current().shadow.consume(predictions)
    logger.info("shadow consumer: %d lines, %d shadow requests counted", len(predictions), counted)


@blueprint.schedule(Rate(1, unit=Rate.MINUTES), name="reconcile")
def reconcile(event: CloudWatchEvent) -> None:  # noqa: ARG001 - the schedule's event carries nothing we need
    services = wiring.current()
    # Schedules first: what they start or stop is then compared with the runtime in the same round.
    services.schedules.run_due()
    services.lifecycle.reconcile()
    # Rollouts on the repaired records: a candidate the repair found failed is rolled back in this round.
    services.rollouts.run_due()
    # Replays last: each round works on them for at most ~40 s of the function's time.
    services.replays.run_due(budget_seconds=40.0)
