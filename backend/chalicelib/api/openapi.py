"""GET /openapi.json: the API's OpenAPI 3.1 document, built from the route table and the pydantic schemas.

Every route declares its access, body, query and response (ApiBlueprint.route), so the document is
derived, never written: a route cannot exist without appearing here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from chalice import Chalice, Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib import __version__
from chalicelib.api.http import ApiBlueprint, Contract, json_response
from chalicelib.domain.access import Role
from chalicelib.schemas.common import ErrorResponse, api_name
from chalicelib.schemas.protocols import MlflowErrorResponse, OipErrorResponse, SeldonErrorResponse

blueprint = ApiBlueprint(__name__)

REF = "#/components/schemas/{model}"
# The body of a failure, by the shape the route answers errors in (api/errors.py).
ERROR_SCHEMAS: dict[str, type[BaseModel]] = {
    "kraken": ErrorResponse,
    "oip": OipErrorResponse,
    "mlflow": MlflowErrorResponse,
    "seldon": SeldonErrorResponse,
}
_PATH_PARAMETER = re.compile(r"{(\w+)}")
_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    202: "Accepted: the change is under way",
    204: "Done; no body",
    400: "The request cannot be understood (malformed JSON, a bad token)",
    401: "Sign in: no credentials, or wrong, expired or revoked ones",
    403: "The caller's role does not allow this",
    404: "No such model (or client)",
    409: "The model's state or revision does not allow this now",
    413: "The body is larger than the limit",
    415: "The body is not JSON",
    422: "A field breaks a rule; details name each field",
    429: "The model's requests-per-second limit is reached; Retry-After says when to try again",
    500: "An unexpected error or a deployment fault; quote the request id",
    502: "The model's container failed or answered something that is not JSON",
    503: "A dependency did not answer in time; try again shortly",
    504: "The model's container did not answer in time",
}


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    operation_id: str
    contract: Contract


def operations(app: Chalice) -> list[Operation]:
    """Every route in the app's route table, with its contract."""
    return [
        Operation(path, method, entry.view_function.__name__, entry.view_function.__dict__["contract"])
        for path, methods in sorted(app.routes.items())
        for method, entry in sorted(methods.items())
    ]


def _links(created: Operation, routes: list[Operation]) -> dict[str, Any]:
    """What a client can do next with what a 201 created: each operation on the new resource's path."""
    links = {}
    for route in routes:
        names, known = _PATH_PARAMETER.findall(route.path), _PATH_PARAMETER.findall(created.path)
        if route.path.startswith(created.path + "/{") and len(names) == len(known) + 1:
            fresh = names[-1]
            parameters = {name: f"$request.path.{name}" for name in names if name != fresh}
            parameters[fresh] = "$response.body#/id" if fresh == "model_id" else f"$response.body#/{api_name(fresh)}"
            links[route.operation_id] = {"operationId": route.operation_id, "parameters": parameters}
    return links


def _reaches_model(path: str, contract: Contract) -> bool:
    """Predictions and the protocols' model routes: public routes that reach a model's container."""
    return contract.access == "public" and (contract.body is not None or "{" in path)


def _error_statuses(path: str, method: str, contract: Contract) -> set[int]:
    statuses = {400, 500, 503}
    if contract.access != "public":
        statuses.add(401)
    if isinstance(contract.access, Role) or contract.access == "stage-admin":
        statuses.add(403)
    if "{" in path:
        statuses.add(404)
    if any("project" in model.model_fields for model in (contract.body, contract.query) if model):
        statuses |= {403, 404}  # a project the caller has too low a role in, or none (as if it did not exist)
    if method != "GET":
        statuses.add(409)
    if contract.body is not None:
        statuses |= {413, 415, 422}
    if contract.query is not None:
        statuses.add(422)
    if _reaches_model(path, contract):  # 422: a pinned version or routing key that is not one
        statuses |= {401, 403, 404, 409, 422, 429, 502, 504}
    return statuses


def _schemas(routes: list[Operation]) -> tuple[dict[Any, Any], dict[str, Any]]:
    wanted: set[tuple[type[BaseModel], str]] = {(schema, "serialization") for schema in ERROR_SCHEMAS.values()}
    for contract in (route.contract for route in routes):
        wanted |= {(model, "validation") for model in (contract.body, contract.query) if model}
        if contract.response:
            wanted.add((contract.response, "serialization"))
    ordered = sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, document = models_json_schema(ordered, ref_template=REF)  # type: ignore[arg-type]
    return refs, document.get("$defs", {})


def _operation(route: Operation, refs: dict[Any, Any], defs: dict[str, Any]) -> Any:
    path, method, contract = route.path, route.method, route.contract
    access = contract.access.name.lower() if isinstance(contract.access, Role) else contract.access
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "x-kraken-access": access,
        "security": [{"cognito": []}],
    }
    if contract.access == "public":
        # A prediction may be anonymous (public model), a user's, or a client token's (private model).
        operation["security"] = [{}, {"cognito": []}, {"client": []}] if _reaches_model(path, contract) else []
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in _PATH_PARAMETER.findall(path)
    ]
    if contract.query is not None:
        query = defs[refs[(contract.query, "validation")]["$ref"].rsplit("/", 1)[1]]
        required = set(query.get("required", ()))
        parameters += [
            {"name": name, "in": "query", "required": name in required, "schema": schema}
            for name, schema in query.get("properties", {}).items()
        ]
    if parameters:
        operation["parameters"] = parameters
    if contract.body is not None:
        body_ref = refs[(contract.body, "validation")]
        content = {"application/json": {"schema": body_ref}}
        content.update({media: {"schema": {"type": "string"}} for media in contract.also_consumes})
        operation["requestBody"] = {"required": True, "content": content}
    success: dict[str, Any] = {"description": _DESCRIPTIONS[contract.status]}
    if contract.status != 204:
        schema = refs[(contract.response, "serialization")] if contract.response else {}
        success["content"] = {"application/json": {"schema": schema}}
        success["content"].update({media: {"schema": {"type": "string"}} for media in contract.also_produces})
    error_schema = refs[(ERROR_SCHEMAS[contract.errors_as], "serialization")]
    error = {"content": {"application/json": {"schema": error_schema}}}
    responses = {str(contract.status): success}
    for status in sorted(_error_statuses(path, method, contract)):
        responses[str(status)] = {"description": _DESCRIPTIONS[status], **error}
    operation["responses"] = responses
    return operation


def document(app: Chalice) -> dict[str, Any]:
    routes = operations(app)
    refs, defs = _schemas(routes)
    paths: dict[str, Any] = {}
    for route in routes:
        operation = _operation(route, refs, defs)
        if route.contract.status == 201:
            operation["responses"]["201"]["links"] = _links(route, routes)
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kraken API", "version": __version__},
        "servers": [{"url": "/api"}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "cognito": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "client": {"type": "http", "scheme": "basic"},
            },
        },
    }


@functools.cache
def _cached(app: Chalice) -> dict[str, Any]:
    return document(app)


@blueprint.route("/openapi.json", methods=["GET"], access="public")
def openapi() -> Response:
    return json_response(_cached(blueprint.current_app))
