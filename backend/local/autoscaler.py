"""Local mode's Application Auto Scaling: each autoscaled version's replicas follow its targets, as on ECS."""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable

from chalicelib.domain.autoscaling import SCALE_IN_COOLDOWN_SECONDS, SCALE_OUT_COOLDOWN_SECONDS, Load, decide
from local.resources import ResourceSampler
from local.runtime import LocalContainerRuntime
from local.telemetry import RequestCounts

logger = logging.getLogger("kraken.local")
ROUND_SECONDS = "KRAKEN_AUTOSCALE_SECONDS"  # how often the targets are checked
SCALE_OUT_COOLDOWN = "KRAKEN_SCALE_OUT_COOLDOWN_SECONDS"
SCALE_IN_COOLDOWN = "KRAKEN_SCALE_IN_COOLDOWN_SECONDS"
DEFAULT_ROUND_SECONDS = 15.0


def seconds_from(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        seconds = float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if seconds < 0 or math.isnan(seconds):
        raise ValueError(f"{name} must not be negative")
    return seconds


class LocalAutoscaler:
    def __init__(
        self,
        runtime: LocalContainerRuntime,
        sampler: ResourceSampler,
        requests: RequestCounts,
        record: Callable[[str, int, int, int, str], None],
    ) -> None:
        self._runtime = runtime
        self._sampler = sampler
        self._requests = requests
        self._record = record  # (model id, version, before, after, reason) into the operations log
        self._scale_out_cooldown = seconds_from(SCALE_OUT_COOLDOWN, SCALE_OUT_COOLDOWN_SECONDS)
        self._scale_in_cooldown = seconds_from(SCALE_IN_COOLDOWN, SCALE_IN_COOLDOWN_SECONDS)
        self._last_round: dict[tuple[str, int], float] = {}
        self._last_change: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()

    def round_once(self) -> None:
        now = time.monotonic()
        for model_id, version, policy, replicas in self._runtime.autoscaled():
            key = (model_id, version)
            started = self._last_round.get(key)
            self._last_round[key] = now
            count = self._requests.take(model_id, version)
            if started is None or replicas == 0:
                continue  # a rate needs a window
            rate = count / max(now - started, 1e-3) / replicas
            load = Load(self._sampler.cpu_percent(model_id, version), round(rate, 2))
            changed = self._last_change.get(key)
            since = math.inf if changed is None else now - changed
            decision = decide(policy, replicas, load, since, self._scale_out_cooldown, self._scale_in_cooldown)
            if decision is None or decision.replicas == replicas:
                continue
            self._runtime.scale(model_id, version, decision.replicas)
            self._last_change[key] = now
            logger.info(
                "autoscaled %s v%d: %d -> %d (%s)", model_id, version, replicas, decision.replicas, decision.reason
            )
            try:
                self._record(model_id, version, replicas, decision.replicas, decision.reason)
            except Exception:  # the scaling stands; only its log line is missing
                logger.exception("could not log the scaling of %s v%d", model_id, version)

    def start(self, interval: float) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.round_once()
                except Exception:  # the next round tries again
                    logger.exception("autoscaling failed")

        threading.Thread(target=loop, name="local-autoscaler", daemon=True).start()

    def close(self) -> None:
        self._stop.set()
