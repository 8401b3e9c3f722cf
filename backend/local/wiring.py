"""Local mode's wiring: the AWS adapters on the emulator, with the local container runtime in place of ECS.

Each function's calls are signed as that function's emulator identity (local.identities): the API's
requests as `api_handler`, task events as `task_state_change`, the schedule as `reconcile`, the shadowed
requests' lines as `shadow_consumer`; the platform's log and metric delivery as `platform`.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from chalice.local import LambdaContext

from chalicelib import triggers
from chalicelib.adapters.clients import client
from chalicelib.adapters.ecs import family
from chalicelib.config import Settings
from chalicelib.domain.clock import to_iso
from chalicelib.domain.ports import ContainerRuntime, PredictionLog, ReplicaReport
from chalicelib.wiring import Wiring
from local.autoscaler import DEFAULT_ROUND_SECONDS, ROUND_SECONDS, LocalAutoscaler, seconds_from
from local.calls import CallLog
from local.containers import local_runtime
from local.identities import PLATFORM, Identities, acting_as, model_session
from local.logs import LogShipper
from local.resources import ResourceSampler, sample_interval
from local.runtime import LocalContainerRuntime
from local.telemetry import LocalPredictionLog, MetricsWorker, ShadowDeliveries

logger = logging.getLogger("kraken.local")
RECONCILE_SECONDS = "KRAKEN_RECONCILE_SECONDS"  # the schedule's interval; 60 as deployed
DEFAULT_RECONCILE_SECONDS = 60.0
# The account moto's resources live in: the scheduled event names it, as EventBridge's does.
EMULATOR_ACCOUNT = "123456789012"


def _context(name: str) -> LambdaContext:
    return LambdaContext(function_name=name, memory_size=512)


def scheduled_event(region: str) -> dict[str, Any]:
    """The event EventBridge's schedule sends, with every field Chalice's CloudWatchEvent reads."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": EMULATOR_ACCOUNT,
        "time": to_iso(datetime.now(UTC)),
        "region": region,
        "resources": [],
        "detail": {},
    }


def reconcile_interval() -> float:
    raw = os.environ.get(RECONCILE_SECONDS)
    try:
        seconds = float(raw) if raw else DEFAULT_RECONCILE_SECONDS
    except ValueError:
        raise ValueError(f"{RECONCILE_SECONDS} must be a number of seconds, not {raw!r}") from None
    if seconds <= 0:
        raise ValueError(f"{RECONCILE_SECONDS} must be positive")
    return seconds


class LocalWiring(Wiring):
    def __init__(self, config: Settings, identities: Identities | None = None, call_log: CallLog | None = None) -> None:
        """Without `identities` (the benchmark's emulator does not enforce IAM) calls use the default chain."""
        super().__init__(config)
        self._identities = identities
        self._signing = identities.per_invocation() if identities else None
        self._call_log = call_log
        self._stop_reconciling = threading.Event()

    def client(self, service: str) -> Any:
        built = client(service, self.settings, self._signing)
        if self._call_log is not None:
            self._call_log.watch(built)
        return built

    def _platform_client(self, service: str) -> Any:
        return client(service, self.settings, self._identities.fixed(PLATFORM) if self._identities else None)

    def _table_client(self) -> Any:
        # PynamoDB would build its clients from the default chain; ours signs per function.
        return self.client("dynamodb")

    @cached_property
    def shipper(self) -> LogShipper:
        return LogShipper(self._platform_client("logs"))

    @cached_property
    def runtime(self) -> ContainerRuntime:
        region = self.settings.region
        return local_runtime(
            self.settings,
            self._on_report,
            self.shipper,
            lambda role, name: model_session(role, name, region),
            self._reveal_secret_env,
        )

    def _reveal_secret_env(self, refs: Mapping[str, str]) -> dict[str, str]:
        """What ECS does before a task starts: read each secret env value with the task execution role."""
        if not refs:
            return {}
        with acting_as("task_execution"):
            secrets = self.client("secretsmanager")
            return {name: str(secrets.get_secret_value(SecretId=ref)["SecretString"]) for name, ref in refs.items()}

    def _later(self, delay: float, job: Callable[[], None]) -> None:
        """Run a lifecycle job after a delay, as the reconciler would on AWS (with its role)."""

        def run() -> None:
            try:
                with acting_as("reconcile"):
                    job()
            except Exception:  # the reconciler repeats it on its next round
                logger.exception("a delayed lifecycle job failed")

        timer = threading.Timer(delay, run)
        timer.daemon = True
        timer.start()

    def _on_report(self, report: ReplicaReport) -> None:
        # On AWS the task-state events reach the event function: the report is handled with its role.
        with acting_as("task_state_change"):
            self.lifecycle.on_replica_report(report)

    @cached_property
    def metrics_worker(self) -> MetricsWorker:
        return MetricsWorker(self._platform_client("cloudwatch"))

    @cached_property
    def shadow_deliveries(self) -> ShadowDeliveries:
        return ShadowDeliveries(self.settings.request_log_group, self._consume_shadowed)

    def _consume_shadowed(self, event: dict[str, Any]) -> None:
        # On AWS the request log group's subscription filter invokes the consumer function: its role, its event.
        with acting_as("shadow_consumer"):
            triggers.shadow_consumer(event, _context("shadow_consumer"))

    @cached_property
    def prediction_log(self) -> PredictionLog:
        return LocalPredictionLog(self.settings, self.shipper, self.metrics_worker, self.shadow_deliveries)

    @cached_property
    def resource_sampler(self) -> ResourceSampler:
        runtime = self.runtime
        assert isinstance(runtime, LocalContainerRuntime)
        settings = self.settings
        return ResourceSampler(
            runtime.live,
            self._platform_client("cloudwatch"),  # Container Insights is the platform's, not a function's
            settings.cluster,
            lambda model_id, version: family(settings, model_id, version),
        )

    @cached_property
    def autoscaler(self) -> LocalAutoscaler:
        runtime = self.runtime
        log = self.prediction_log
        assert isinstance(runtime, LocalContainerRuntime) and isinstance(log, LocalPredictionLog)

        def record(model_id: str, version: int, before: int, after: int, reason: str) -> None:
            with acting_as("reconcile"):  # the schedule's role, which writes the log for system actors
                self.lifecycle.record_scaling(model_id, version, before, after, reason)

        return LocalAutoscaler(runtime, self.resource_sampler, log.counts, record)

    def start_background(self) -> None:
        """What runs between requests on AWS: the reconciler, Container Insights and Application Auto Scaling."""
        self.start_reconciler()
        self.resource_sampler.start(sample_interval())
        self.autoscaler.start(seconds_from(ROUND_SECONDS, DEFAULT_ROUND_SECONDS))

    def reconcile_once(self) -> None:
        with acting_as("reconcile"):
            triggers.reconcile(scheduled_event(self.settings.region), _context("reconcile"))

    def start_reconciler(self) -> None:
        interval = reconcile_interval()

        def loop() -> None:
            while not self._stop_reconciling.wait(interval):
                try:
                    self.reconcile_once()
                    logger.info("reconciler: records and runtime compared")
                except Exception:  # the next round tries again, as the schedule would
                    logger.exception("reconciling failed")

        threading.Thread(target=loop, name="local-reconciler", daemon=True).start()

    def shutdown(self) -> None:
        self._stop_reconciling.set()
        if "shadow_deliveries" in self.__dict__:  # the last lines still reach their shadows
            self.shadow_deliveries.close()
        self.resource_sampler.close()
        self.autoscaler.close()
        runtime = self.runtime
        assert isinstance(runtime, LocalContainerRuntime)
        runtime.shutdown()
        self.shipper.close()
        self.metrics_worker.close()
        if self._call_log is not None:
            self._call_log.close()
