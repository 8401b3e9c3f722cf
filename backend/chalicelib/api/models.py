"""The model registry's routes: create, list, read, update and delete model records."""

from __future__ import annotations

import re

from chalice import Response

from chalicelib import wiring
from chalicelib.api.http import (
    ApiBlueprint,
    actor,
    authenticate,
    json_response,
    parse_body,
    parse_query,
    require_in_project,
)
from chalicelib.domain.access import Role
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.models import ModelRecord
from chalicelib.domain.ports import MODEL_FILTERS, ModelQuery
from chalicelib.domain.projects import names_of
from chalicelib.schemas.models import (
    CreateModelRequest,
    DeleteModelQuery,
    ListModelsQuery,
    ModelListResponse,
    ModelResponse,
    RegistryCredentialsRequest,
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


# Creating takes the editor role in the model's project, which the body names.
@blueprint.route(
    "/models", methods=["POST"], access="signed-in", body=CreateModelRequest, response=ModelResponse, status=201
)
def create_model() -> Response:
    request = blueprint.current_request
    spec = parse_body(request, CreateModelRequest)
    require_in_project(authenticate(request), spec.project, Role.EDITOR)
    services = wiring.current()
    services.quotas.admit_model(spec.project)
    record = services.registry.create(spec.settings(), actor(request))
    return record_response(record, 201)


# Anyone signed in may list: they see the models of the projects they have a role in.
@blueprint.route("/models", methods=["GET"], access="signed-in", query=ListModelsQuery, response=ModelListResponse)
def list_models() -> Response:
    request = blueprint.current_request
    query = parse_query(request, ListModelsQuery)
    services = wiring.current()
    identity = authenticate(request)
    if query.project is not None:
        require_in_project(identity, query.project, Role.VIEWER)
        projects: tuple[str, ...] = (query.project,)
    else:
        projects = names_of(services.projects.visible(identity))
    filters = query.model_dump(include=set(MODEL_FILTERS))
    page = services.registry.list(ModelQuery(limit=query.limit, cursor=query.next_token, projects=projects, **filters))
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
    changes = change.changes()
    services = wiring.current()
    if "project" in changes:  # moving it: the editor role in the project it goes to as well, and room there
        require_in_project(authenticate(request), str(changes["project"]), Role.EDITOR)
        services.quotas.admit_model(str(changes["project"]), services.registry.get(model_id))
    record = services.registry.update(model_id, changes, actor(request), expected_revision=expected or change.revision)
    return record_response(record)


@blueprint.route(
    "/models/{model_id}/registry-credentials",
    methods=["PUT"],
    access=Role.EDITOR,
    body=RegistryCredentialsRequest,
    response=ModelResponse,
)
def set_registry_credentials(model_id: str) -> Response:
    """Pull the model's image from a private registry with these credentials (set or replaced)."""
    request = blueprint.current_request
    spec = parse_body(request, RegistryCredentialsRequest)
    registry = wiring.current().registry
    return record_response(registry.set_registry_credentials(model_id, spec.username, spec.password, actor(request)))


@blueprint.route(
    "/models/{model_id}/registry-credentials", methods=["DELETE"], access=Role.EDITOR, response=ModelResponse
)
def clear_registry_credentials(model_id: str) -> Response:
    request = blueprint.current_request
    return record_response(wiring.current().registry.clear_registry_credentials(model_id, actor(request)))


@blueprint.route("/models/{model_id}", methods=["DELETE"], access=Role.EDITOR, query=DeleteModelQuery, status=204)
def delete_model(model_id: str) -> Response:
    request = blueprint.current_request
    query = parse_query(request, DeleteModelQuery)
    wiring.current().lifecycle.delete(
        model_id, actor(request), force=query.force, expected_revision=revision_from(request.headers.get("if-match"))
    )
    return Response(body="", status_code=204)
