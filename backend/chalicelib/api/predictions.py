"""Prediction routes: the ML-Kraken contract (POST /predict) and the per-model form, plus their history."""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chalice import Response
from chalice.app import Request

from chalicelib import wiring
from chalicelib.api.correlation import request_id
from chalicelib.api.http import (
    MAX_REQUEST_BYTES,
    ApiBlueprint,
    actor,
    authenticate,
    json_body,
    json_response,
    parse_query,
    raw_body,
)
from chalicelib.domain.access import Role
from chalicelib.domain.errors import FieldProblem, Forbidden, InvalidRequest, NotFound, Unauthenticated, no_model
from chalicelib.domain.gateway import Answer, Call, Choice
from chalicelib.domain.models import Visibility
from chalicelib.schemas.observability import (
    ContainerLogsQuery,
    LogLineListResponse,
    LogLineResponse,
    MetricsQuery,
    MetricsResponse,
    PredictionListResponse,
    PredictionResponse,
    PredictRequest,
    RequestsQuery,
)

if TYPE_CHECKING:
    from chalicelib.domain.gateway import Route

blueprint = ApiBlueprint(__name__)

MAX_PREDICTION_BYTES = MAX_REQUEST_BYTES
BASIC_SHAPE = "the Basic credentials must be base64 of name:token, both non-empty"
PRIVATE_ENDPOINT = "this model's endpoint is private: send a client token (curl -u name:token) or sign in"


def _model_id_in(body: Any, path_model_id: str | None) -> str:
    """The model a prediction is for; the body itself is forwarded untouched."""
    problems: list[FieldProblem] = []
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be an object with modelData and metaData")
    if "modelData" not in body:
        problems.append(FieldProblem("modelData", "modelData is required: the input rows for the model"))
    meta = body.get("metaData", {})
    if not isinstance(meta, dict):
        problems.append(FieldProblem("metaData", "metaData must be an object"))
        meta = {}
    named = meta.get("modelId")
    if named is not None and not isinstance(named, str):
        problems.append(FieldProblem("metaData.modelId", "metaData.modelId must be a string"))
    elif path_model_id is None and not named:
        problems.append(FieldProblem("metaData.modelId", "metaData.modelId is required: the model to ask"))
    elif path_model_id is not None and named and named != path_model_id:
        problems.append(FieldProblem("metaData.modelId", "metaData.modelId names another model than the path"))
    if problems:
        raise InvalidRequest("the prediction request is not valid", tuple(problems))
    return path_model_id or str(named)


def routing_choice(body: dict[str, Any], request: Request, path_version: str | None = None) -> Choice:
    """The caller's routing wish, from metaData, the path's version, or headers (metaData wins when both say)."""
    meta = body.get("metaData")
    meta = meta if isinstance(meta, dict) else {}
    pinned = meta.get("version", path_version or request.headers.get("x-kraken-version"))
    key = meta.get("routingKey", request.headers.get("x-kraken-routing-key"))
    problems = []
    version: int | None = None
    if pinned is not None:
        text = str(pinned)
        if isinstance(pinned, bool) or not text.isdigit() or len(text) > 6:
            problems.append(FieldProblem("metaData.version", "a version is its number, such as 2"))
        else:
            version = int(text)
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 256):
        problems.append(FieldProblem("metaData.routingKey", "a routing key is text of 1 to 256 characters"))
    if problems:
        raise InvalidRequest("the prediction request is not valid", tuple(problems))
    return Choice(version, key)


def _caller(request: Request, route: Route, asked: str) -> str:
    """Who is asking, once their right to ask this model is established; Unauthenticated otherwise."""
    if route.visibility is Visibility.PUBLIC:
        return actor(request)
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "basic" and credentials:
        try:
            name, _, token = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise Unauthenticated(BASIC_SHAPE) from None
        if not (name and token):
            raise Unauthenticated(BASIC_SHAPE)
        return _client(route, name, token)
    if scheme.lower() == "bearer" and credentials:
        from chalicelib.domain.clients import name_in  # hashing modules load with the first private call

        if (client_name := name_in(credentials)) is not None:
            return _client(route, client_name, credentials)
        identity = authenticate(request)
        if identity.role is None or identity.role < Role.EDITOR:  # a stage-wide editor needs no read
            access = wiring.current().projects.access(identity, route.project)
            if access.role is None:
                raise no_model(asked)  # as for a model that does not exist: no oracle of other projects' models
            access.require(identity, Role.EDITOR)
        return actor(request)
    raise Unauthenticated(PRIVATE_ENDPOINT)


def _client(route: Route, name: str, token: str) -> str:
    if not wiring.current().clients.verify(route.model_id, name, token):
        raise Unauthenticated("the client token is wrong or has been revoked")
    return f"client:{name}"


def authorized(request: Request, model_id: str, body: bytes) -> tuple[Route, str]:
    """The model's route and who is calling, once they may call it (the refusal is recorded otherwise).

    An unknown model without credentials answers as a private one would: no oracle of which ids exist."""
    gateway = wiring.current().gateway
    try:
        route = gateway.route(model_id)
    except NotFound:
        if not request.headers.get("authorization"):
            raise Unauthenticated(PRIVATE_ENDPOINT) from None
        raise
    try:
        return route, _caller(request, route, model_id)
    except (Unauthenticated, Forbidden) as refused:
        gateway.reject(route, body, request_id(request), "anonymous", refused.message)
        raise


def answered(request: Request, route: Route, answer: Answer, started: float) -> Response:
    """The container's answer, unchanged, with the gateway's headers."""
    gateway_ms = (time.perf_counter() - started) * 1000 - answer.container_ms
    return Response(
        body=answer.body.decode("utf-8", errors="replace"),
        status_code=answer.status,
        headers={
            "Content-Type": "application/json",
            "X-Request-Id": request_id(request),
            "X-Model-Id": route.model_id,
            "X-Model-Version": str(answer.version),
            "Server-Timing": f"container;dur={answer.container_ms:.2f}, gateway;dur={max(gateway_ms, 0):.2f}",
        },
    )


def forward(request: Request, model_id: str, choice: Choice, call: Call, started: float | None = None) -> Response:
    """A prediction in any protocol: the body goes to the chosen version's container byte for byte."""
    started = time.perf_counter() if started is None else started
    body = raw_body(request)
    route, caller = authorized(request, model_id, body)
    answer = wiring.current().gateway.predict(route, body, request_id(request), caller, choice, call)
    return answered(request, route, answer, started)


def _predict(path_model_id: str | None) -> Response:
    started = time.perf_counter()
    request = blueprint.current_request
    body = json_body(request, MAX_PREDICTION_BYTES)
    model_id = _model_id_in(body, path_model_id)
    return forward(request, model_id, routing_choice(body, request), Call(), started)


# Predictions are authorized in the view: public models need nothing, private ones a user or client token.
@blueprint.route("/predict", methods=["POST"], access="public", body=PredictRequest)
def predict() -> Response:
    return _predict(None)


@blueprint.route("/models/{model_id}/predict", methods=["POST"], access="public", body=PredictRequest)
def predict_model(model_id: str) -> Response:
    return _predict(model_id)


@blueprint.route(
    "/models/{model_id}/requests",
    methods=["GET"],
    access=Role.VIEWER,
    query=RequestsQuery,
    response=PredictionListResponse,
)
def prediction_history(model_id: str) -> Response:
    query = parse_query(blueprint.current_request, RequestsQuery)
    services = wiring.current()
    services.registry.get(model_id)
    start, end = query.window(timedelta(days=1))
    page = services.request_history.list(model_id, start, end, query.status, query.limit, query.next_token)
    body = PredictionListResponse(
        items=[PredictionResponse.model_validate(prediction) for prediction in page.items], next_token=page.cursor
    )
    return json_response(body.to_json())


@blueprint.route(
    "/models/{model_id}/container-logs",
    methods=["GET"],
    access=Role.VIEWER,
    query=ContainerLogsQuery,
    response=LogLineListResponse,
    also_produces=("text/plain",),
)
def container_logs(model_id: str) -> Response:
    query = parse_query(blueprint.current_request, ContainerLogsQuery)
    services = wiring.current()
    services.registry.get(model_id)
    start, end = query.window(timedelta(days=1))
    if query.format == "text":
        download = services.container_logs.download(model_id, start, end)
        text = download.text
        if download.cut:
            text += "... cut at the download limit: ask for a shorter range with from and to\n"
        return Response(
            body=text,
            headers={
                "Content-Type": "text/plain; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{model_id}.log"',
            },
        )
    page = services.container_logs.latest(model_id, start, end, query.limit, query.next_token)
    items = [LogLineResponse.model_validate(line) for line in page.items]
    return json_response(LogLineListResponse(items=items, next_token=page.cursor).to_json())


@blueprint.route(
    "/models/{model_id}/metrics", methods=["GET"], access=Role.VIEWER, query=MetricsQuery, response=MetricsResponse
)
def model_metrics(model_id: str) -> Response:
    query = parse_query(blueprint.current_request, MetricsQuery)
    services = wiring.current()
    record = services.registry.get(model_id)
    start, end = query.aligned_window()
    containers = (query.version,) if query.version is not None else record.versions_with_containers
    series = services.metrics.series(model_id, start, end, query.period, query.version, containers)
    body = MetricsResponse(period=query.period, timestamps=series.timestamps, series=series.values)
    return json_response(body.to_json())
