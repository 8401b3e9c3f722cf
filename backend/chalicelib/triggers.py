"""Non-HTTP entry points: ECS task state changes from EventBridge and the reconciler's schedule (which also fires
the models' start/stop schedules)."""

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


@blueprint.schedule(Rate(1, unit=Rate.MINUTES), name="reconcile")
def reconcile(event: CloudWatchEvent) -> None:  # noqa: ARG001 - the schedule's event carries nothing we need
    services = wiring.current()
    # Schedules first: what they start or stop is then compared with the runtime in the same round.
    services.schedules.run_due()
    services.lifecycle.reconcile()
