"""Replay routes: start a replay of captured requests against a candidate version, follow it, cancel it."""

from __future__ import annotations

from chalice import Response

from chalicelib import wiring
from chalicelib.api.http import ApiBlueprint, actor, json_response, parse_body, parse_query
from chalicelib.domain.access import Role
from chalicelib.domain.clock import utc_now
from chalicelib.schemas.replays import ReplayListResponse, ReplayPageQuery, ReplayRequest, ReplayResponse

blueprint = ApiBlueprint(__name__)


@blueprint.route(
    "/models/{model_id}/replays",
    methods=["POST"],
    access=Role.EDITOR,
    body=ReplayRequest,
    response=ReplayResponse,
    status=201,
)
def create_replay(model_id: str) -> Response:
    request = blueprint.current_request
    asked = parse_body(request, ReplayRequest)
    replay = wiring.current().replays.create(
        model_id,
        asked.candidate_version,
        asked.source.source(utc_now()),
        asked.rule.rule(),
        asked.rate_per_second,
        actor(request),
    )
    return json_response(ReplayResponse.of(replay).to_json(), 201)


@blueprint.route(
    "/models/{model_id}/replays",
    methods=["GET"],
    access=Role.VIEWER,
    query=ReplayPageQuery,
    response=ReplayListResponse,
)
def list_replays(model_id: str) -> Response:
    query = parse_query(blueprint.current_request, ReplayPageQuery)
    services = wiring.current()
    services.registry.get(model_id)  # a 404 for unknown models rather than an empty list
    page = services.replay_store.page(model_id, query.limit, query.next_token)
    body = ReplayListResponse(items=[ReplayResponse.of(r) for r in page.items], next_token=page.cursor)
    return json_response(body.to_json())


@blueprint.route("/models/{model_id}/replays/{replay_id}", methods=["GET"], access=Role.VIEWER, response=ReplayResponse)
def get_replay(model_id: str, replay_id: str) -> Response:
    return json_response(ReplayResponse.of(wiring.current().replay_store.get(model_id, replay_id)).to_json())


@blueprint.route(
    "/models/{model_id}/replays/{replay_id}/cancel",
    methods=["POST"],
    access=Role.EDITOR,
    response=ReplayResponse,
    status=202,
)
def cancel_replay(model_id: str, replay_id: str) -> Response:
    request = blueprint.current_request
    replay = wiring.current().replays.cancel(model_id, replay_id, actor(request))
    return json_response(ReplayResponse.of(replay).to_json(), 202)
