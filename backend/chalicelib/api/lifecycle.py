"""Lifecycle routes: start and stop a model's container, upload its artifact, read its operations log."""

from __future__ import annotations

from chalice import Response

from chalicelib import wiring
from chalicelib.api.http import ApiBlueprint, actor, json_response, parse_query
from chalicelib.api.models import record_response
from chalicelib.domain.access import Role
from chalicelib.schemas.models import (
    ModelResponse,
    OperationListResponse,
    OperationResponse,
    PageQuery,
    UploadTicketResponse,
)

blueprint = ApiBlueprint(__name__)


@blueprint.route("/models/{model_id}/start", methods=["POST"], access=Role.EDITOR, response=ModelResponse, status=202)
def start_model(model_id: str) -> Response:
    request = blueprint.current_request
    return record_response(wiring.current().lifecycle.start(model_id, actor(request)), 202)


@blueprint.route("/models/{model_id}/stop", methods=["POST"], access=Role.EDITOR, response=ModelResponse, status=202)
def stop_model(model_id: str) -> Response:
    request = blueprint.current_request
    return record_response(wiring.current().lifecycle.stop(model_id, actor(request)), 202)


@blueprint.route("/models/{model_id}/artifact", methods=["POST"], access=Role.EDITOR, response=UploadTicketResponse)
def request_artifact_upload(model_id: str) -> Response:
    ticket = wiring.current().versions.request_model_upload(model_id, actor(blueprint.current_request))
    return json_response(UploadTicketResponse.model_validate(ticket).to_json())


@blueprint.route(
    "/models/{model_id}/logs", methods=["GET"], access=Role.VIEWER, query=PageQuery, response=OperationListResponse
)
def operations_log(model_id: str) -> Response:
    query = parse_query(blueprint.current_request, PageQuery)
    services = wiring.current()
    services.registry.get(model_id)  # a 404 for unknown models rather than an empty log
    page = services.operations.list(model_id, query.limit, query.next_token)
    body = OperationListResponse(
        items=[OperationResponse.model_validate(e) for e in page.items], next_token=page.cursor
    )
    return json_response(body.to_json())
