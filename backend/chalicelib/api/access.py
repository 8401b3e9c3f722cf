"""Access routes: who the caller is, and the client tokens of a model's private prediction endpoint."""

from __future__ import annotations

from chalice import Response

from chalicelib import wiring
from chalicelib.api.http import ApiBlueprint, authenticate, json_response, parse_body
from chalicelib.domain.access import Role
from chalicelib.schemas.access import (
    ClientCreatedResponse,
    ClientListResponse,
    ClientResponse,
    CreateClientRequest,
    MeResponse,
)

blueprint = ApiBlueprint(__name__)


@blueprint.route("/me", methods=["GET"], access="signed-in", response=MeResponse)
def me() -> Response:
    identity = authenticate(blueprint.current_request)
    role = identity.role
    projects = [
        {"name": project.name, "role": access.role.name.lower()}
        for project, access in wiring.current().projects.visible(identity)
        if access.role is not None
    ]
    body = MeResponse.model_validate(
        {
            "username": identity.username,
            "groups": list(identity.groups),
            "role": role.name.lower() if role else None,
            "projects": projects,
        }
    )
    return json_response(body.to_json())


@blueprint.route(
    "/models/{model_id}/clients",
    methods=["POST"],
    access=Role.ADMIN,
    body=CreateClientRequest,
    response=ClientCreatedResponse,
    status=201,
)
def create_client(model_id: str) -> Response:
    spec = parse_body(blueprint.current_request, CreateClientRequest)
    services = wiring.current()
    services.registry.get(model_id)
    client, token = services.clients.create(model_id, spec.name)
    body = ClientCreatedResponse(name=client.name, token=token, created_at=client.created_at)
    return json_response(body.to_json(), 201, headers={"Cache-Control": "no-store"})


@blueprint.route("/models/{model_id}/clients", methods=["GET"], access=Role.ADMIN, response=ClientListResponse)
def list_clients(model_id: str) -> Response:
    services = wiring.current()
    services.registry.get(model_id)
    items = [ClientResponse.model_validate(client) for client in services.clients.list(model_id)]
    return json_response(ClientListResponse(items=items).to_json())


@blueprint.route("/models/{model_id}/clients/{name}", methods=["DELETE"], access=Role.ADMIN, status=204)
def revoke_client(model_id: str, name: str) -> Response:
    wiring.current().clients.revoke(model_id, name)
    return Response(body="", status_code=204)
