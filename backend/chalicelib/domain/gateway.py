"""The prediction gateway: finds a running model's container, forwards the request, records the outcome.

It dials only endpoints the container runtime recorded, never an address taken from a request.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.domain.clock import utc_now
from chalicelib.domain.errors import BadGateway, Conflict, DomainError, GatewayTimeout, NotFound, Throttled, Waking
from chalicelib.domain.models import ModelRecord, ModelStatus, Shadow, Visibility
from chalicelib.domain.ports import ModelNames, ModelRepository, Prediction, PredictionLog
from chalicelib.domain.throttle import Throttles
from chalicelib.tables import DEFAULT_PROJECT

ROUTE_CACHE_SECONDS = 10.0
# How long a request that finds its model IDLE is held while the model wakes; API Gateway ends
# every request at 29 s, and the prediction itself gets what is left of that.
WAKE_HOLD_SECONDS = 20.0
API_LIMIT_SECONDS = 28.0
WAKE_POLL_SECONDS = 0.25
WAKE_RETRY_AFTER_SECONDS = 5
_GOLDEN = 0.6180339887498949  # successive multiples mod 1 spread evenly (a low-discrepancy sequence)
# The status a failed prediction is recorded with: the one the caller receives for that error.
HISTORY_STATUS = {
    "conflict": 409,
    "throttled": 429,
    "bad_gateway": 502,
    "model_waking": 503,
    "gateway_timeout": 504,
}


class Unreachable(Exception):
    """The connection was refused or could not be made in time; nothing reached the container."""


class TimedOut(Exception):
    """The container accepted the request but did not answer in time."""


class Garbled(Exception):
    """The connection broke mid-answer, or the answer was not HTTP with a JSON body."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


class Transport(Protocol):
    def send(
        self, method: str, endpoint: str, path: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> Reply:
        """`method` http://endpoint/path over a pooled keep-alive connection."""
        ...


@dataclass(frozen=True)
class Call:
    """What a request asks of the container: the version's predict path (the ML-Kraken body) unless a
    protocol names its own path, where `{name}` stands for the model's name and `{version}` for the
    version chosen for the request."""

    method: str = "POST"
    path: str | None = None
    content_type: str = "application/json"

    def path_for(self, name: str, target: Target) -> str:
        if self.path is None:
            return target.predict_path
        return self.path.replace("{name}", name).replace("{version}", str(target.version))


@dataclass(frozen=True)
class Target:
    """One running version a request may go to: its share of unpinned traffic and its replicas."""

    version: int
    weight: int
    endpoints: tuple[str, ...]
    predict_path: str
    shadow: Shadow | None = None  # a shadow: drawn for `percent` of the requests another version answers


@dataclass(frozen=True)
class Choice:
    """What the caller asked of the routing: a pinned version, or a key that keeps it on one version."""

    version: int | None = None
    routing_key: str | None = None


@dataclass(frozen=True)
class Route:
    """What the gateway needs to know of a model, cached while the model runs."""

    model_id: str
    name: str
    status: ModelStatus
    status_reason: str | None
    visibility: Visibility
    targets: tuple[Target, ...]
    timeout: float
    capture_bytes: int
    rate_limit: float | None = None
    failed_for_good: bool = False
    # IDLE, or on its way to or from resting with the idle stop on: a request waits for it to serve.
    wakes: bool = False
    project: str = DEFAULT_PROJECT

    @classmethod
    def of(cls, record: ModelRecord) -> Route:
        weights = {d.version: d.weight for d in record.serving}
        targets = []
        for deployed in record.wanted():
            state = record.state_of(deployed.version)
            version = record.find_version(deployed.version)
            if state.status is ModelStatus.RUNNING and state.endpoints and version is not None:
                weight = weights.get(deployed.version, 0)
                targets.append(Target(deployed.version, weight, state.endpoints, version.predict_path, deployed.shadow))
        return cls(
            record.id,
            record.name,
            record.status,
            record.status_reason,
            record.endpoint_visibility,
            tuple(targets),
            record.predict_timeout_seconds,
            record.capture_body_bytes,
            record.rate_limit_per_second,
            record.failed_for_good,
            _wakes(record),
            record.project,
        )

    @property
    def serves(self) -> bool:
        return any(target.weight > 0 for target in self.targets)


def _wakes(record: ModelRecord) -> bool:
    """IDLE, or (with the idle stop on) starting, or stopping to rest: a request waits for it to serve."""
    if record.status is ModelStatus.IDLE:
        return True
    if record.idle_stop_minutes is None:
        return False
    return record.status is ModelStatus.PENDING or (
        record.status is ModelStatus.STOPPING and record.idle_since is not None
    )


def bucket_of(routing_key: str) -> int:
    """0..99 for a routing key, the same in every process (unlike hash())."""
    return int.from_bytes(hashlib.blake2b(routing_key.encode(), digest_size=8).digest(), "big") % 100


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    route: Route
    version: int
    container_ms: float


def _truncate(body: bytes, limit: int) -> str | None:
    if limit <= 0:
        return None
    return body[:limit].decode("utf-8", errors="replace")


class PredictionGateway:
    def __init__(
        self,
        models: ModelRepository,
        names: ModelNames,
        transport: Transport,
        log: PredictionLog,
        clock: Callable[[], datetime] = utc_now,
        cache_seconds: float = ROUTE_CACHE_SECONDS,
        wake: Callable[[str], None] = lambda _model_id: None,
    ) -> None:
        self._models = models
        self._names = names
        self._transport = transport
        self._log = log
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._routes: dict[str, tuple[Route, float]] = {}
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._throttles = Throttles()
        self._wake = wake
        self._waking: set[str] = set()
        self._shadow_turns: dict[tuple[str, int], itertools.count[int]] = {}

    def forget(self, model_id: str) -> None:
        """Drop a model's cached routes (by id and by name): its status or endpoints changed."""
        with self._lock:
            for key in [key for key, (route, _) in self._routes.items() if route.model_id == model_id]:
                del self._routes[key]

    def route(self, model_id: str) -> Route:
        """The model's route: a running model's from the warm cache, others read fresh; NotFound if none."""
        with self._lock:
            cached = self._routes.get(model_id)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        route = Route.of(self._find(model_id))
        if route.status is ModelStatus.RUNNING and route.serves:
            with self._lock:
                self._routes[model_id] = (route, time.monotonic() + self._cache_seconds)
                self._routes[route.model_id] = (route, time.monotonic() + self._cache_seconds)
        return route

    def _find(self, id_or_name: str) -> ModelRecord:
        """The model by id, else by its name (a name and an id never look alike to a caller)."""
        try:
            return self._models.get(id_or_name)
        except NotFound:
            model_id = self._names.find(id_or_name)
            if model_id is None:
                raise
            return self._models.get(model_id)

    def predict(
        self, route: Route, body: bytes, request_id: str, caller: str, choice: Choice = Choice(), call: Call = Call()
    ) -> Answer:
        """Forward the body unchanged to the chosen version; raise Conflict, BadGateway or GatewayTimeout."""
        started = time.perf_counter()
        target: Target | None = None
        try:
            if route.wakes:
                route = self._awake(route, started)
            target = self._target(route, choice)
            wait = self._throttles.wait_for(route.model_id, route.rate_limit)
            if wait > 0:
                raise Throttled(
                    f"the model takes at most {route.rate_limit:g} requests per second; retry shortly",
                    retry_after_seconds=max(1, math.ceil(wait)),
                )
            answer = self._forward(route, target, body, request_id, caller, started, call)
        except DomainError as error:
            status = HISTORY_STATUS.get(error.code, 500)
            self._record(route, target, request_id, caller, started, status, None, body, error.message.encode())
            raise
        shadows = self._shadows(route, answer.version) if call.path is None else ()
        self._record(
            route, target, request_id, caller, started, answer.status, answer.container_ms, body, answer.body, shadows
        )
        return answer

    def _shadows(self, route: Route, served: int) -> tuple[int, ...]:
        """The shadow versions drawn for a request `served` answered: each at its percent, evenly spread over its
        turns. Only named in the request's history line: the shadow consumer sends them the body, off the
        request path (on Lambda nothing may run after the answer)."""
        drawn = []
        for target in route.targets:
            if target.shadow is None or target.version == served:
                continue
            turns = self._shadow_turns.get((route.model_id, target.version))
            if turns is None:
                turns = self._shadow_turns.setdefault((route.model_id, target.version), itertools.count())
            turn, percent = next(turns), target.shadow.percent
            if (turn + 1) * percent // 100 > turn * percent // 100:  # exactly `percent` of any 100 turns, +-1
                drawn.append(target.version)
        return tuple(drawn)

    def describe(self, route: Route, request_id: str, caller: str, choice: Choice, path: str) -> Answer:
        """GET what the chosen version's container says of its model (a protocol's metadata): woken like a
        prediction, but neither throttled nor recorded, since nothing is predicted."""
        started = time.perf_counter()
        if route.wakes:
            route = self._awake(route, started)
        target = self._target(route, choice)
        return self._forward(route, target, b"", request_id, caller, started, Call("GET", path))

    def try_version(self, route: Route, version: int, body: bytes, request_id: str, caller: str) -> Answer:
        """Send a captured request to one version (a replay's candidate, a shadow): its answer reaches no
        caller, so it is neither throttled nor recorded in the history or the metrics, and a resting model
        is not woken. Raises Conflict when the version is not running, BadGateway or GatewayTimeout."""
        target = self._target(route, Choice(version=version))
        return self._forward(route, target, body, request_id, caller, time.perf_counter(), Call())

    def ready(self, route: Route, choice: Choice) -> bool:
        """Whether a request would be served now, without waking a resting model."""
        try:
            self._target(route, choice)
        except DomainError:
            return False
        return not route.wakes

    def _awake(self, route: Route, started: float) -> Route:
        """Wake a resting model and hold the request until it serves, within WAKE_HOLD_SECONDS."""
        deadline = started + WAKE_HOLD_SECONDS
        while route.wakes:
            if route.status is ModelStatus.IDLE:
                self._start_once(route.model_id)
            if time.perf_counter() >= deadline:
                raise Waking(
                    "the model was idle and is starting; retry in a few seconds",
                    retry_after_seconds=WAKE_RETRY_AFTER_SECONDS,
                )
            time.sleep(WAKE_POLL_SECONDS)
            route = self.route(route.model_id)
        return route

    def _start_once(self, model_id: str) -> None:
        """One wake per model at a time from this process, however many requests are held."""
        with self._lock:
            if model_id in self._waking:
                return
            self._waking.add(model_id)
        try:
            self._wake(model_id)
        finally:
            with self._lock:
                self._waking.discard(model_id)

    def _target(self, route: Route, choice: Choice) -> Target:
        """The version this request goes to: pinned, by routing key, or by weight."""
        if choice.version is not None:
            pinned = next((t for t in route.targets if t.version == choice.version), None)
            if pinned is None:
                raise Conflict(f"version {choice.version} of the model is not running; deploy it to try it")
            return pinned
        weighted = [t for t in route.targets if t.weight > 0]
        if not weighted:
            if route.status is ModelStatus.FAILED:
                # The containers broke (being replaced): an upstream failure, not a request in conflict.
                then = "start the model again once it is fixed" if route.failed_for_good else "it is being restarted"
                raise BadGateway(f"the model's container failed: {route.status_reason}; {then}")
            raise Conflict(f"the model is {route.status}, not RUNNING; start it first")
        total = sum(t.weight for t in weighted)
        if choice.routing_key is not None:
            point = bucket_of(choice.routing_key) * total / 100
        else:
            point = (next(self._turn) * _GOLDEN % 1.0) * total  # an even spread over turns, in any proportion
        for target in weighted:
            point -= target.weight
            if point < 0:
                return target
        return weighted[-1]

    def reject(self, route: Route, body: bytes, request_id: str, caller: str, reason: str) -> None:
        """Record a refused caller in the history (without the credentials it sent)."""
        self._record(route, None, request_id, caller, time.perf_counter(), 401, None, body, reason.encode())

    def _forward(
        self, route: Route, target: Target, body: bytes, request_id: str, caller: str, started: float, call: Call
    ) -> Answer:
        endpoints = target.endpoints
        # A request held while the model woke has less of API Gateway's time left for the answer.
        timeout = max(1.0, min(route.timeout, API_LIMIT_SECONDS - (time.perf_counter() - started)))
        first = next(self._turn) % len(endpoints)
        # A refused connection is retried once on another replica of the version, when there is one.
        candidates = [endpoints[first]]
        if len(endpoints) > 1:
            candidates.append(endpoints[(first + 1) % len(endpoints)])
        headers = {"Content-Type": call.content_type, "X-Request-Id": request_id, "X-Forwarded-User": caller}
        path = call.path_for(route.name, target)
        for attempt, endpoint in enumerate(candidates, start=1):
            sent = time.perf_counter()
            try:
                reply = self._transport.send(call.method, endpoint, path, body, headers, timeout)
            except Unreachable:
                if attempt < len(candidates):
                    continue
                self.forget(route.model_id)
                raise BadGateway("the model's container refused the connection; it may be restarting") from None
            except TimedOut:
                raise GatewayTimeout(f"the model did not answer within {timeout:g} s") from None
            except Garbled as garbled:
                self.forget(route.model_id)
                raise BadGateway(f"the model's container answered badly: {garbled}") from None
            return Answer(reply.status, reply.body, route, target.version, (time.perf_counter() - sent) * 1000)
        raise AssertionError("unreachable: the loop returns or raises")

    def _record(
        self,
        route: Route,
        target: Target | None,
        request_id: str,
        caller: str,
        started: float,
        status: int,
        container_ms: float | None,
        request: bytes,
        response: bytes,
        shadows: tuple[int, ...] = (),
    ) -> None:
        self._log.record(
            Prediction(
                request_id=request_id,
                at=self._clock(),
                model_id=route.model_id,
                model_version=str(target.version) if target else None,
                status=status,
                latency_ms=(time.perf_counter() - started) * 1000,
                container_ms=container_ms,
                request_bytes=len(request),
                response_bytes=len(response),
                request_body=_truncate(request, route.capture_bytes),
                response_body=_truncate(response, route.capture_bytes),
                caller=caller,
                shadow_versions=shadows,
            )
        )
