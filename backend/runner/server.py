"""The HTTP adapter: a raw ASGI callable (no framework) routing health, predict and the standard protocols
(Open Inference Protocol v2, MLflow's /invocations, Seldon's /api/v1.0/predictions) to the model."""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import orjson

from runner.config import MAX_BODY_BYTES, Settings
from runner.errors import InvalidInput, UnsupportedContent, one_line
from runner.logs import log

if TYPE_CHECKING:
    from runner.batching import Batcher
    from runner.models import Model
    from runner.workers import Readiness

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON_HEADERS = [(b"content-type", b"application/json")]
_HEALTH_LOADING = orjson.dumps({"status": "loading"})
MLFLOW_PATH = "/invocations"
SELDON_PATH = "/api/v1.0/predictions"
# Answers one protocol's request body (InvalidInput for what the caller must fix), and writes its errors.
Handler = Callable[[bytes, "Scope"], Awaitable[bytes]]
ErrorShape = Callable[[int, str, "str | None"], bytes]


class _TooLarge(Exception):
    pass


def _error_body(code: str, message: str, request_id: str | None = None) -> bytes:
    error: dict[str, str] = {"code": code, "message": message}
    if request_id:
        error["requestId"] = request_id
    return orjson.dumps({"error": error})


class RunnerApp:
    """Serves one model. `model` stays None until loading finishes; health says 503 until then, and
    while any worker process of this container is not serving."""

    def __init__(self, settings: Settings, open_connections: Callable[[], int], readiness: Readiness) -> None:
        self.settings = settings
        self.model: Model | None = None
        self.readiness = readiness
        self.details: dict[str, Any] = {}
        self._open_connections = open_connections
        self._batcher: Batcher | None = None
        self._json_default: Callable[[Any], Any] | None = None
        self._json_options = 0

    def set_model(self, model: Model, details: dict[str, Any]) -> None:
        """Start serving `model`; `details` (libraries, load warnings) are shown by the health route."""
        from runner.batching import Batcher
        from runner.models import JSON_OPTIONS, json_default

        settings = self.settings
        self._json_default, self._json_options = json_default, JSON_OPTIONS
        self._batcher = Batcher(model, settings.batch_max_size, settings.batch_max_wait_seconds, self._open_connections)
        self.details = details
        self.model = model

    def _health(self) -> tuple[int, bytes]:
        if self.model is None or self._batcher is None:
            return 503, _HEALTH_LOADING
        ready, total = self.readiness.count()
        details = {**self.details, "workers": {"ready": ready, "total": total}, "batching": self._batcher.describe()}
        status = "ok" if ready == total else "degraded"
        return (200 if ready == total else 503), orjson.dumps({"status": status, "details": details})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == self.settings.predict_path:
            if await self._allowed(send, method, "POST", _kraken_error):
                await self._answer(scope, receive, send, self._predict, _kraken_error)
        elif path == self.settings.health_path:
            if await self._allowed(send, method, "GET", _kraken_error):
                await self._respond(send, *self._health())
        elif path.startswith("/v2/"):
            await self._v2(path, method, scope, receive, send)
        elif path == MLFLOW_PATH:
            if await self._allowed(send, method, "POST", _mlflow_error):
                await self._answer(scope, receive, send, self._invocations, _mlflow_error)
        elif path == SELDON_PATH:
            if await self._allowed(send, method, "POST", _seldon_error):
                await self._answer(scope, receive, send, self._seldon, _seldon_error)
        else:
            await self._respond(send, 404, _kraken_error(404, f"no route for {one_line(path, 80)}", None))

    async def _allowed(self, send: Send, method: str, allowed: str, shape: ErrorShape) -> bool:
        if method == allowed:
            return True
        await self._respond(send, 405, shape(405, f"use {allowed}", None), allowed.encode())
        return False

    async def _v2(self, path: str, method: str, scope: Scope, receive: Receive, send: Send) -> None:
        from runner import v2

        found = v2.target(path)
        if found is None:
            await self._respond(send, 404, _v2_error(404, f"no route for {one_line(path, 80)}", None))
            return
        name, version, action = found
        if action == "metadata":
            if not await self._allowed(send, method, "GET", _v2_error):
                return
            if self.model is None:
                await self._respond(send, 503, _v2_error(503, "the model is still loading", None))
                return
            await self._respond(send, 200, v2.metadata(self.model, name, version))
        elif await self._allowed(send, method, "POST", _v2_error):

            async def infer(body: bytes, scope: Scope) -> bytes:
                assert self.model is not None and self._batcher is not None
                return await v2.infer(body, self.model, self._batcher.predict, name, version, _request_id(scope))

            await self._answer(scope, receive, send, infer, _v2_error)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, handle: Handler, shape: ErrorShape) -> None:
        """Read the body and answer it with `handle`, every failure in the protocol's error shape."""
        if self.model is None:
            await self._respond(send, 503, shape(503, "the model is still loading", None))
            return
        try:
            body = await _read_body(scope, receive)
        except _TooLarge:
            await self._respond(send, 413, shape(413, f"request body is over {MAX_BODY_BYTES} bytes", None))
            return
        # Scored inline on the event loop: inference is CPU-bound and serialized by the GIL anyway, and
        # handing it to a worker thread measured ~20% less throughput and a 2x worse p99 (GIL
        # hand-offs). The price: a health check waits behind the prediction that is running.
        try:
            status, payload = 200, await handle(body, scope)
        except InvalidInput as exc:
            status, payload = 400, shape(400, one_line(str(exc), 300), None)
        except UnsupportedContent as exc:
            status, payload = 415, shape(415, str(exc), None)
        except Exception as exc:
            request_id = _request_id(scope)
            log(
                "ERROR",
                "prediction failed",
                requestId=request_id,
                error=f"{type(exc).__name__}: {one_line(str(exc), 500)}",
                traceback=traceback.format_exc(limit=20),
            )
            status, payload = 500, shape(500, "the model failed on this request", request_id)
        await self._respond(send, status, payload)

    async def _predict(self, body: bytes, scope: Scope) -> bytes:  # noqa: ARG002 - a Handler
        """The ML-Kraken body: modelData and metaData, predicted (perhaps batched with concurrent requests)."""
        assert self._batcher is not None
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise InvalidInput("the request body is not valid JSON") from None
        if not isinstance(request, dict) or "modelData" not in request:
            raise InvalidInput('the request body must be a JSON object with a "modelData" field')
        meta_data = request.get("metaData")
        if meta_data is None:
            meta_data = {}
        elif not isinstance(meta_data, dict):
            raise InvalidInput('"metaData" must be a JSON object')
        result = await self._batcher.predict(request["modelData"], meta_data)
        return orjson.dumps(result, default=self._json_default, option=self._json_options)

    async def _invocations(self, body: bytes, scope: Scope) -> bytes:
        from runner import scoring
        from runner.models import MlflowModel

        assert self._batcher is not None
        mlflow = isinstance(self.model, MlflowModel)
        return await scoring.invocations(body, _content_type(scope), self._batcher.predict, mlflow)

    async def _seldon(self, body: bytes, scope: Scope) -> bytes:  # noqa: ARG002 - a Handler
        from runner import seldon

        assert self._batcher is not None
        return await seldon.predictions(body, self._batcher.predict)

    @staticmethod
    async def _respond(send: Send, status: int, body: bytes, allow: bytes | None = None) -> None:
        headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
        if allow:
            headers.append((b"allow", allow))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


_CODES = {400: "invalid_input", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
          415: "unsupported_media_type", 500: "internal", 503: "not_ready"}  # fmt: skip


def _kraken_error(status: int, message: str, request_id: str | None) -> bytes:
    return _error_body(_CODES.get(status, "error"), message, request_id)


def _v2_error(status: int, message: str, request_id: str | None) -> bytes:  # noqa: ARG001 - an ErrorShape
    from runner import v2

    return v2.error(message)


def _mlflow_error(status: int, message: str, request_id: str | None) -> bytes:  # noqa: ARG001 - an ErrorShape
    from runner import scoring

    return scoring.error(status, message)


def _seldon_error(status: int, message: str, request_id: str | None) -> bytes:  # noqa: ARG001 - an ErrorShape
    from runner import seldon

    return seldon.error(status, message)


def _content_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return "application/json"


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and value:
            return one_line(value.decode("latin-1"), 64)
    return uuid.uuid4().hex


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                if int(value) > MAX_BODY_BYTES:
                    raise _TooLarge
            except ValueError:
                pass  # the server's own parser rejects a malformed length
            break
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            # Chunked uploads carry no length up front, so count as they arrive.
            if size > MAX_BODY_BYTES:
                raise _TooLarge
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
