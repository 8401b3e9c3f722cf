"""The standard inference protocols on the gateway: Open Inference Protocol v2 (KServe/Triton REST), MLflow's
scoring (/invocations) and Seldon/PrimeHub's /api/v1.0/predictions.

Thin on purpose: each route authorizes as a prediction does, picks the container path of its protocol and
forwards the body byte for byte; the model runner translates the protocol (backend/runner/v2.py, scoring.py,
seldon.py), and errors take the protocol's shape (api/errors.py).
"""

from __future__ import annotations

import time

from chalice import Response

from chalicelib import __version__, wiring
from chalicelib.api.correlation import request_id
from chalicelib.api.http import ApiBlueprint, json_response, raw_body, too_large
from chalicelib.api.predictions import MAX_PREDICTION_BYTES, answered, authorized, forward, routing_choice
from chalicelib.domain.errors import Conflict, UnsupportedMediaType
from chalicelib.domain.gateway import Call
from chalicelib.schemas.protocols import (
    InferRequest,
    InferResponse,
    InvocationRequest,
    InvocationResponse,
    ModelMetadataResponse,
    ModelReadyResponse,
    SeldonMessage,
    ServerLiveResponse,
    ServerMetadataResponse,
    ServerReadyResponse,
)

blueprint = ApiBlueprint(__name__)

# Where the standard runner answers each protocol; `{name}` becomes the model's name and `{version}` the
# version that serves (the gateway fills them in: it dials no address or path taken from a request).
V2_MODEL_PATH = "/v2/models/{name}/versions/{version}"
MLFLOW_PATH = "/invocations"
SELDON_PATH = "/api/v1.0/predictions"


def _bounded() -> None:
    size = len(raw_body(blueprint.current_request))
    if size > MAX_PREDICTION_BYTES:
        raise too_large(size, MAX_PREDICTION_BYTES)


# Open Inference Protocol v2: the server itself.
@blueprint.route("/v2", methods=["GET"], access="public", response=ServerMetadataResponse, errors_as="oip")
def v2_server_metadata() -> Response:
    return json_response({"name": "kraken", "version": __version__, "extensions": []})


@blueprint.route("/v2/health/live", methods=["GET"], access="public", response=ServerLiveResponse, errors_as="oip")
def v2_live() -> Response:
    return json_response({"live": True})


@blueprint.route("/v2/health/ready", methods=["GET"], access="public", response=ServerReadyResponse, errors_as="oip")
def v2_ready() -> Response:
    return json_response({"ready": True})


# Open Inference Protocol v2: a model, by name or id, optionally pinned to a version.
def _metadata(name: str, version: str | None) -> Response:
    started = time.perf_counter()
    request = blueprint.current_request
    route, caller = authorized(request, name, b"")
    choice = routing_choice({}, request, version)
    answer = wiring.current().gateway.describe(route, request_id(request), caller, choice, V2_MODEL_PATH)
    return answered(request, route, answer, started)


def _ready(name: str, version: str | None) -> Response:
    request = blueprint.current_request
    route, _ = authorized(request, name, b"")
    if not wiring.current().gateway.ready(route, routing_choice({}, request, version)):
        pinned = f"version {version} of " if version else ""
        raise Conflict(f"{pinned}the model is not ready: it is {route.status}")
    return json_response({"name": route.name, "ready": True})


def _infer(name: str, version: str | None) -> Response:
    _bounded()
    request = blueprint.current_request
    return forward(request, name, routing_choice({}, request, version), Call(path=V2_MODEL_PATH + "/infer"))


@blueprint.route("/v2/models/{name}", methods=["GET"], access="public", response=ModelMetadataResponse, errors_as="oip")
def v2_model_metadata(name: str) -> Response:
    return _metadata(name, None)


@blueprint.route(
    "/v2/models/{name}/versions/{version}",
    methods=["GET"],
    access="public",
    response=ModelMetadataResponse,
    errors_as="oip",
)
def v2_version_metadata(name: str, version: str) -> Response:
    return _metadata(name, version)


@blueprint.route(
    "/v2/models/{name}/ready", methods=["GET"], access="public", response=ModelReadyResponse, errors_as="oip"
)
def v2_model_ready(name: str) -> Response:
    return _ready(name, None)


@blueprint.route(
    "/v2/models/{name}/versions/{version}/ready",
    methods=["GET"],
    access="public",
    response=ModelReadyResponse,
    errors_as="oip",
)
def v2_version_ready(name: str, version: str) -> Response:
    return _ready(name, version)


@blueprint.route(
    "/v2/models/{name}/infer",
    methods=["POST"],
    access="public",
    body=InferRequest,
    response=InferResponse,
    errors_as="oip",
)
def v2_model_infer(name: str) -> Response:
    return _infer(name, None)


@blueprint.route(
    "/v2/models/{name}/versions/{version}/infer",
    methods=["POST"],
    access="public",
    body=InferRequest,
    response=InferResponse,
    errors_as="oip",
)
def v2_version_infer(name: str, version: str) -> Response:
    return _infer(name, version)


# MLflow's scoring protocol, as `mlflow models serve` answers it.
@blueprint.route(
    "/models/{model_id}/invocations",
    methods=["POST"],
    access="public",
    body=InvocationRequest,
    response=InvocationResponse,
    also_consumes=("text/csv",),
    errors_as="mlflow",
)
def mlflow_invocations(model_id: str) -> Response:
    _bounded()
    request = blueprint.current_request
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media not in ("application/json", "text/csv"):
        raise UnsupportedMediaType("send the body as application/json or text/csv")
    return forward(request, model_id, routing_choice({}, request), Call(path=MLFLOW_PATH, content_type=media))


# Seldon Core's (and PrimeHub's) prediction path.
@blueprint.route(
    "/models/{model_id}/api/v1.0/predictions",
    methods=["POST"],
    access="public",
    body=SeldonMessage,
    response=SeldonMessage,
    errors_as="seldon",
)
def seldon_predictions(model_id: str) -> Response:
    _bounded()
    request = blueprint.current_request
    return forward(request, model_id, routing_choice({}, request), Call(path=SELDON_PATH))
