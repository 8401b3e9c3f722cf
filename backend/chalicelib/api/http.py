"""Request plumbing shared by every blueprint: error-translating routes, JSON bodies, request ids."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from chalice import Blueprint, CORSConfig, Response
from chalice.app import Request
from pydantic import BaseModel

from chalicelib import wiring
from chalicelib.api import errors
from chalicelib.api.correlation import request_id
from chalicelib.config import settings
from chalicelib.domain.access import Identity, Role, require
from chalicelib.domain.errors import BadRequest, PayloadTooLarge, Unauthenticated, UnsupportedMediaType, no_model

MAX_MANAGEMENT_BODY_BYTES = 1024 * 1024
# The largest body any route takes: Lambda's invocation payload limit. Local mode's server refuses
# bigger ones with the same 413, so a body is refused the same way everywhere.
MAX_REQUEST_BYTES = 6 * 1024 * 1024


def too_large(size: int | None, limit: int) -> PayloadTooLarge:
    measured = f"{size} bytes" if size is not None else "larger than that"
    return PayloadTooLarge(f"the request body is {measured}; the limit is {limit} bytes")


_JSON_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
Schema = TypeVar("Schema", bound=BaseModel)


# Who may call a route: anyone, any signed-in user, or users holding at least a role.
# A Role holds in the project the route acts on (the model's, or the one it names), or stage-wide;
# "stage-admin" only stage-wide: what a project's own admins must not decide, such as its quota.
Access = Role | Literal["public", "signed-in", "stage-admin"]
_IDENTITY = "krakenIdentity"


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate(request: Request) -> Identity:
    """The signed-in user of this request, verified once and kept on the request."""
    known = request.context.get(_IDENTITY)
    if isinstance(known, Identity):
        return known
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("sign in: send Authorization: Bearer <access token>")
    identity = wiring.current().verifier.verify(token)
    request.context[_IDENTITY] = identity
    return identity


def require_on(identity: Identity, needed: Role, path: dict[str, str]) -> None:
    """The caller holds `needed` where the route acts: in the model's project, in the named project, or
    stage-wide. A stage-wide role holds everywhere and needs no read."""
    if identity.role is not None and identity.role >= needed:
        return
    if "model_id" in path:
        require_in_model(identity, path["model_id"], needed)
    elif "project" in path:
        require_in_project(identity, path["project"], needed)
    else:
        require(identity, needed)


def require_in_model(identity: Identity, model_id: str, needed: Role) -> None:
    """`needed` in the model's project; a caller with no role there learns nothing, not even that it exists."""
    services = wiring.current()
    access = services.projects.access(identity, services.registry.get(model_id).project)
    if access.role is None:
        raise no_model(model_id)
    access.require(identity, needed)


def require_in_project(identity: Identity, project: str, needed: Role) -> None:
    """`needed` in a project that exists; NotFound for one that does not, or that the caller has no role in."""
    wiring.current().projects.get(identity, project)[1].require(identity, needed)


@dataclass(frozen=True)
class Contract:
    """What a route takes and gives, as the OpenAPI document describes it."""

    access: Access
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    # Besides JSON: the media types a body may have ("text/plain" for a download).
    also_produces: tuple[str, ...] = ()
    # Besides JSON: the media types a request body may have ("text/csv" for MLflow's scoring).
    also_consumes: tuple[str, ...] = ()
    # The shape errors take: the project's, or a standard inference protocol's (api/errors.py).
    errors_as: errors.ErrorShape = "kraken"


class ApiBlueprint(Blueprint):
    """A Blueprint whose routes declare who may call them, and hand every exception to errors.response_for."""

    # Stricter than Blueprint.route on purpose: a route cannot be registered without saying who may call it
    # and, for the OpenAPI document, what it takes and gives.
    def route(  # type: ignore[override]
        self,
        path: str,
        *,
        access: Access,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        also_produces: tuple[str, ...] = (),
        also_consumes: tuple[str, ...] = (),
        errors_as: errors.ErrorShape = "kraken",
        **kwargs: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        contract = Contract(access, body, query, response, status, also_produces, also_consumes, errors_as)
        # Content types are checked by json_body so that a 415 has the project's error shape.
        kwargs.setdefault("content_types", ["*/*"])
        if cors := _cors():
            kwargs.setdefault("cors", cors)
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def translated(*args: Any, **view_kwargs: Any) -> Any:
                request = self.current_request
                try:
                    if access != "public":
                        identity = authenticate(request)
                        if isinstance(access, Role):
                            require_on(identity, access, view_kwargs)
                        elif access == "stage-admin":
                            require(identity, Role.ADMIN)
                    return view(*args, **view_kwargs)
                except Exception as error:
                    return errors.response_for(error, request_id(request), errors_as)

            translated.__dict__["access"] = access  # read by the test that walks the route table
            translated.__dict__["contract"] = contract  # read by the OpenAPI document
            register(translated)
            return view

        return decorator


def _cors() -> CORSConfig | None:
    # The console is served from the API's own origin; CORS only for a console hosted elsewhere.
    origin = settings().cors_origin
    return CORSConfig(allow_origin=origin, allow_headers=["Authorization", "X-Request-Id"]) if origin else None


def raw_body(request: Request) -> bytes:
    body = request.raw_body or b""
    return body if isinstance(body, bytes) else body.encode()


def json_body(request: Request, max_bytes: int = MAX_MANAGEMENT_BODY_BYTES) -> Any:
    """The request's JSON body, after the checks in the order a client can act on: size, type, syntax."""
    raw = raw_body(request)
    if len(raw) > max_bytes:
        raise too_large(len(raw), max_bytes)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not _JSON_TYPE.match(content_type):
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    if not raw.strip():
        raise BadRequest("the request body is empty; send a JSON object")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the request body is not valid JSON") from None
    except RecursionError:
        raise BadRequest("the request body nests arrays or objects too deeply") from None


def parse_body(request: Request, schema: type[Schema]) -> Schema:
    body = json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return schema.model_validate(body)


def parse_query(request: Request, schema: type[Schema]) -> Schema:
    return schema.model_validate(dict(request.query_params or {}))


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=body,
        status_code=status_code,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def actor(request: Request) -> str:
    """Who is making the request, for createdBy/updatedBy and the operations log."""
    identity = request.context.get(_IDENTITY)
    return identity.username if isinstance(identity, Identity) else "anonymous"
