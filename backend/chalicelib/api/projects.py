"""Project routes: the projects a user sees, creating and deleting them, and their members' roles."""

from __future__ import annotations

from urllib.parse import unquote

from chalice import Response

from chalicelib import wiring
from chalicelib.api.http import ApiBlueprint, actor, authenticate, json_response, parse_body
from chalicelib.domain.access import Role
from chalicelib.domain.ports import ModelQuery
from chalicelib.domain.projects import Access, Member, Project
from chalicelib.domain.quotas import Quota, Usage
from chalicelib.schemas.projects import (
    CreateProjectRequest,
    MemberListResponse,
    MemberRequest,
    MemberResponse,
    ProjectListResponse,
    ProjectResponse,
    QuotaBody,
)

blueprint = ApiBlueprint(__name__)


def _project(project: Project, access: Access, usage: Usage | None = None) -> ProjectResponse:
    role = access.role.name.lower() if access.role else "viewer"
    fields = {**project.__dict__, "quota": project.quota.__dict__, "usage": usage.__dict__ if usage else None}
    return ProjectResponse.model_validate({**fields, "role": role})


def _member(member: Member) -> MemberResponse:
    return MemberResponse.model_validate({**member.__dict__, "role": member.role.name.lower()})


@blueprint.route("/projects", methods=["GET"], access="signed-in", response=ProjectListResponse)
def list_projects() -> Response:
    seen = wiring.current().projects.visible(authenticate(blueprint.current_request))
    return json_response(ProjectListResponse(items=[_project(p, a) for p, a in seen]).to_json())


# Projects are made and deleted by the stage's admins; each project's admins manage its members.
@blueprint.route(
    "/projects", methods=["POST"], access="stage-admin", body=CreateProjectRequest, response=ProjectResponse, status=201
)
def create_project() -> Response:
    request = blueprint.current_request
    spec = parse_body(request, CreateProjectRequest)
    project = wiring.current().projects.create(spec.name, spec.description, actor(request))
    return json_response(_project(project, Access(project.name, Role.ADMIN)).to_json(), 201)


@blueprint.route("/projects/{project}", methods=["GET"], access=Role.VIEWER, response=ProjectResponse)
def get_project(project: str) -> Response:
    services = wiring.current()
    found, access = services.projects.get(authenticate(blueprint.current_request), project)
    return json_response(_project(found, access, services.quotas.usage(project)).to_json())


# A quota is the operators' to set: a project's own admins could otherwise lift it.
@blueprint.route(
    "/projects/{project}/quota", methods=["PUT"], access="stage-admin", body=QuotaBody, response=ProjectResponse
)
def set_quota(project: str) -> Response:
    """Replace the project's quota; a bound left out or null is no bound. Nothing running is stopped by it."""
    spec = parse_body(blueprint.current_request, QuotaBody)
    services = wiring.current()
    updated = services.projects.set_quota(project, Quota(**spec.model_dump()))
    return json_response(_project(updated, Access(project, Role.ADMIN), services.quotas.usage(project)).to_json())


@blueprint.route("/projects/{project}", methods=["DELETE"], access="stage-admin", status=204)
def delete_project(project: str) -> Response:
    services = wiring.current()

    def has_models(name: str) -> bool:
        return bool(services.registry.list(ModelQuery(limit=1, projects=(name,))).items)

    services.projects.delete(project, has_models)
    return Response(body="", status_code=204)


@blueprint.route("/projects/{project}/members", methods=["GET"], access=Role.VIEWER, response=MemberListResponse)
def list_members(project: str) -> Response:
    members = wiring.current().projects.members(project)
    return json_response(MemberListResponse(items=[_member(m) for m in members]).to_json())


@blueprint.route(
    "/projects/{project}/members/{username}",
    methods=["PUT"],
    access=Role.ADMIN,
    body=MemberRequest,
    response=MemberResponse,
)
def set_member(project: str, username: str) -> Response:
    """Add a user (by username or e-mail address) to the project with a role, or change their role."""
    request = blueprint.current_request
    spec = parse_body(request, MemberRequest)
    # Chalice's local server hands path parameters over still percent-encoded (an e-mail's %40).
    who = unquote(username)
    member = wiring.current().projects.set_member(project, who, Role[spec.role.upper()], actor(request))
    return json_response(_member(member).to_json())


@blueprint.route("/projects/{project}/members/{username}", methods=["DELETE"], access=Role.ADMIN, status=204)
def remove_member(project: str, username: str) -> Response:
    wiring.current().projects.remove_member(project, unquote(username))
    return Response(body="", status_code=204)
