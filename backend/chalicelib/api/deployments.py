"""Version and deployment routes: versions and their artifacts, the deployment, its history and rollback."""

from __future__ import annotations

from chalice import Response

from chalicelib import wiring
from chalicelib.api.http import ApiBlueprint, actor, json_response, parse_body, parse_query
from chalicelib.api.models import record_response, revision_from
from chalicelib.domain.access import Role
from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.schemas.deployments import (
    CreateVersionRequest,
    DeploymentRequest,
    HistoryEntryResponse,
    HistoryListResponse,
    RollbackRequest,
    ShadowListResponse,
    ShadowTallyResponse,
    VersionListResponse,
    VersionResponse,
)
from chalicelib.schemas.models import ModelResponse, PageQuery, UploadTicketResponse

blueprint = ApiBlueprint(__name__)


def _number(text: str) -> int:
    if not text.isdigit() or len(text) > 6:
        raise NotFound(f"no version {text[:20]!r}: versions are numbers, such as 2")
    return int(text)


def _expected(header: str | None, in_body: int | None) -> int | None:
    expected = revision_from(header)
    if expected is not None and in_body is not None and expected != in_body:
        raise BadRequest("If-Match and revision disagree; send one of them")
    return expected or in_body


@blueprint.route("/models/{model_id}/versions", methods=["GET"], access=Role.VIEWER, response=VersionListResponse)
def list_versions(model_id: str) -> Response:
    services = wiring.current()
    record = services.lifecycle.refresh_artifact(services.registry.get(model_id))
    items = [VersionResponse.of(record, v) for v in reversed(record.versions)]
    return json_response(VersionListResponse(items=items).to_json())


@blueprint.route(
    "/models/{model_id}/versions",
    methods=["POST"],
    access=Role.EDITOR,
    body=CreateVersionRequest,
    response=VersionResponse,
    status=201,
)
def create_version(model_id: str) -> Response:
    request = blueprint.current_request
    spec = parse_body(request, CreateVersionRequest)
    services = wiring.current()
    version = services.versions.create(model_id, actor(request), spec.notes, spec.code(), spec.metadata)
    record = services.registry.get(model_id)
    return json_response(VersionResponse.of(record, version).to_json(), 201)


@blueprint.route("/models/{model_id}/versions/{number}", methods=["GET"], access=Role.VIEWER, response=VersionResponse)
def get_version(model_id: str, number: str) -> Response:
    services = wiring.current()
    record = services.lifecycle.refresh_artifact(services.registry.get(model_id))
    version = record.find_version(_number(number))
    if version is None:
        raise NotFound(f"the model has no version {number}")
    return json_response(VersionResponse.of(record, version).to_json())


@blueprint.route("/models/{model_id}/versions/{number}", methods=["DELETE"], access=Role.EDITOR, status=204)
def delete_version(model_id: str, number: str) -> Response:
    wiring.current().versions.delete(model_id, _number(number), actor(blueprint.current_request))
    return Response(body="", status_code=204)


@blueprint.route(
    "/models/{model_id}/versions/{number}/artifact",
    methods=["POST"],
    access=Role.EDITOR,
    response=UploadTicketResponse,
)
def request_version_upload(model_id: str, number: str) -> Response:
    ticket = wiring.current().versions.request_upload(model_id, _number(number), actor(blueprint.current_request))
    return json_response(UploadTicketResponse.model_validate(ticket).to_json())


@blueprint.route(
    "/models/{model_id}/deployment",
    methods=["PUT"],
    access=Role.EDITOR,
    body=DeploymentRequest,
    response=ModelResponse,
    status=202,
)
def change_deployment(model_id: str) -> Response:
    request = blueprint.current_request
    change = parse_body(request, DeploymentRequest)
    expected = _expected(request.headers.get("if-match"), change.revision)
    services = wiring.current()
    record = services.lifecycle.refresh_artifact(services.registry.get(model_id))
    spec = [line.deployed(record) for line in change.versions]
    return record_response(services.lifecycle.deploy(model_id, spec, change.message, actor(request), expected), 202)


@blueprint.route(
    "/models/{model_id}/history", methods=["GET"], access=Role.VIEWER, query=PageQuery, response=HistoryListResponse
)
def deployment_history(model_id: str) -> Response:
    query = parse_query(blueprint.current_request, PageQuery)
    services = wiring.current()
    services.registry.get(model_id)  # a 404 for unknown models rather than an empty history
    page = services.history.list(model_id, query.limit, query.next_token)
    body = HistoryListResponse(items=[HistoryEntryResponse.of(e) for e in page.items], next_token=page.cursor)
    return json_response(body.to_json())


@blueprint.route(
    "/models/{model_id}/rollback",
    methods=["POST"],
    access=Role.EDITOR,
    body=RollbackRequest,
    response=ModelResponse,
    status=202,
)
def rollback(model_id: str) -> Response:
    request = blueprint.current_request
    change = parse_body(request, RollbackRequest)
    expected = _expected(request.headers.get("if-match"), change.revision)
    record = wiring.current().lifecycle.rollback(model_id, change.entry_id, change.message, actor(request), expected)
    return record_response(record, 202)


@blueprint.route("/models/{model_id}/shadow", methods=["GET"], access=Role.VIEWER, response=ShadowListResponse)
def shadow_tallies(model_id: str) -> Response:
    """Each shadow version of the deployment, with its comparisons since it became a shadow."""
    from chalicelib.domain.shadow import shadow_reports

    services = wiring.current()
    reports = shadow_reports(services.registry.get(model_id), services.shadow_tallies)
    return json_response(ShadowListResponse(items=[ShadowTallyResponse.of(r) for r in reports]).to_json())
