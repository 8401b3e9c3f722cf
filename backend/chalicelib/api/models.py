"""The model registry's routes: create, list, read, update and delete model records."""

from __future__ import annotations

import re

from chalice import Response

from chalicelib import wiring
from chalicelib.api.http import ApiBlueprint, actor, json_response, parse_body, parse_query
from chalicelib.domain.access import Role
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.models import ModelRecord
from chalicelib.domain.ports import ModelQuery
from chalicelib.schemas.models import (
    CreateModelRequest,
    DeleteModelQuery,
    ListModelsQuery,
    ModelListResponse,
    ModelResponse,
    UpdateModelRequest,
)

blueprint = ApiBlueprint(__name__)

_ETAG = re.compile(r'^(W/)?"?(\d{1,18})"?$')


def revision_from(if_match: str | None) -> int | None:
    if not if_match:
        return None
    found = _ETAG.match(if_match.strip())
    if not found:
        raise BadRequest('If-Match must be the revision the change is based on, such as "3"')
    return int(found.group(2))


def record_response(record: ModelRecord, status_code: int = 200) -> Response:
    model = ModelResponse.of(record)
    return json_response(model.to_json(), status_code, headers={"ETag": f'"{model.revision}"'})


@blueprint.route(
    "/models", methods=["POST"], access=Role.EDITOR, body=CreateModelRequest, response=ModelResponse, status=201
)
def create_model() -> Response:
    request = blueprint.current_request
    spec = parse_body(request, CreateModelRequest)
    record = wiring.current().registry.create(spec.settings(), actor(request))
    return record_response(record, 201)


@blueprint.route("/models", methods=["GET"], access=Role.VIEWER, query=ListModelsQuery, response=ModelListResponse)
def list_models() -> Response:
    query = parse_query(blueprint.current_request, ListModelsQuery)
    page = wiring.current().registry.list(
        ModelQuery(limit=query.limit, search=query.search, status=query.status, cursor=query.next_token)
    )
    body = ModelListResponse(items=[ModelResponse.of(r) for r in page.items], next_token=page.cursor)
    return json_response(body.to_json())


@blueprint.route("/models/{model_id}", methods=["GET"], access=Role.VIEWER, response=ModelResponse)
def get_model(model_id: str) -> Response:
    services = wiring.current()
    return record_response(services.lifecycle.refresh_artifact(services.registry.get(model_id)))


@blueprint.route(
    "/models/{model_id}", methods=["PUT"], access=Role.EDITOR, body=UpdateModelRequest, response=ModelResponse
)
def update_model(model_id: str) -> Response:
    request = blueprint.current_request
    change = parse_body(request, UpdateModelRequest)
    expected = revision_from(request.headers.get("if-match"))
    if expected is not None and change.revision is not None and expected != change.revision:
        raise BadRequest("If-Match and revision disagree; send one of them")
    record = wiring.current().registry.update(
        model_id, change.changes(), actor(request), expected_revision=expected or change.revision
    )
    return record_response(record)


@blueprint.route("/models/{model_id}", methods=["DELETE"], access=Role.EDITOR, query=DeleteModelQuery, status=204)
def delete_model(model_id: str) -> Response:
    request = blueprint.current_request
    query = parse_query(request, DeleteModelQuery)
    wiring.current().lifecycle.delete(
        model_id, actor(request), force=query.force, expected_revision=revision_from(request.headers.get("if-match"))
    )
    return Response(body="", status_code=204)
