"""Local mode's wiring: the AWS adapters on the emulator, with the local container runtime in place of ECS."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime
from functools import cached_property

from chalice.local import LambdaContext

from chalicelib import triggers
from chalicelib.config import Settings
from chalicelib.domain.clock import to_iso
from chalicelib.domain.ports import ContainerRuntime, PredictionLog
from chalicelib.wiring import Wiring
from local.containers import local_runtime
from local.logs import LogShipper
from local.runtime import LocalContainerRuntime
from local.telemetry import LocalPredictionLog, MetricsWorker

logger = logging.getLogger("kraken.local")
RECONCILE_SECONDS = 60


def _context(name: str) -> LambdaContext:
    return LambdaContext(function_name=name, memory_size=512)


class LocalWiring(Wiring):
    def __init__(self, config: Settings) -> None:
        super().__init__(config)
        self._stop_reconciling = threading.Event()

    @cached_property
    def shipper(self) -> LogShipper:
        return LogShipper(self.client("logs"))

    @cached_property
    def runtime(self) -> ContainerRuntime:
        return local_runtime(self.settings, lambda report: self.lifecycle.on_replica_report(report), self.shipper)

    @cached_property
    def metrics_worker(self) -> MetricsWorker:
        return MetricsWorker(self.client("cloudwatch"))

    @cached_property
    def prediction_log(self) -> PredictionLog:
        return LocalPredictionLog(self.settings, self.shipper, self.metrics_worker)

    def start_reconciler(self) -> None:
        def loop() -> None:
            while not self._stop_reconciling.wait(RECONCILE_SECONDS):
                now = to_iso(datetime.now(UTC))
                event = {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "time": now,
                    "region": self.settings.region,
                    "resources": [],
                    "detail": {},
                }
                try:
                    triggers.reconcile(event, _context("reconcile"))
                except Exception:  # the next round tries again, as the schedule would
                    logger.exception("reconciling failed")

        threading.Thread(target=loop, name="local-reconciler", daemon=True).start()

    def shutdown(self) -> None:
        self._stop_reconciling.set()
        runtime = self.runtime
        assert isinstance(runtime, LocalContainerRuntime)
        runtime.shutdown()
        self.shipper.close()
        self.metrics_worker.close()
