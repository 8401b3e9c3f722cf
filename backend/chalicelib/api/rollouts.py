"""Rollout routes: start a canary plan for a version, read its progress, and pause, resume, promote or abort it."""

from __future__ import annotations

from chalice import Response

from chalicelib import wiring
from chalicelib.api.http import ApiBlueprint, actor, json_response, parse_body
from chalicelib.domain.access import Role
from chalicelib.domain.errors import NotFound
from chalicelib.domain.models import ModelRecord
from chalicelib.schemas.rollouts import RolloutRequest, RolloutResponse

blueprint = ApiBlueprint(__name__)


def _shown(record: ModelRecord, status: int = 200) -> Response:
    assert record.rollout is not None
    return json_response(RolloutResponse.of(record.rollout).to_json(), status)


@blueprint.route(
    "/models/{model_id}/rollout",
    methods=["POST"],
    access=Role.EDITOR,
    body=RolloutRequest,
    response=RolloutResponse,
    status=201,
)
def start_rollout(model_id: str) -> Response:
    request = blueprint.current_request
    plan = parse_body(request, RolloutRequest)
    record = wiring.current().rollouts.start(
        model_id,
        plan.candidate_version,
        tuple(plan.steps),
        plan.bake_seconds,
        plan.guardrails.guardrails(),
        plan.message,
        actor(request),
    )
    return _shown(record, 201)


@blueprint.route("/models/{model_id}/rollout", methods=["GET"], access=Role.VIEWER, response=RolloutResponse)
def get_rollout(model_id: str) -> Response:
    record = wiring.current().registry.get(model_id)
    if record.rollout is None:
        raise NotFound("the model has had no rollout: POST /api/models/{id}/rollout starts one")
    return _shown(record)


def _action(model_id: str, verb: str) -> Response:
    rollouts = wiring.current().rollouts
    act = {"pause": rollouts.pause, "resume": rollouts.resume, "promote": rollouts.promote, "abort": rollouts.abort}
    return _shown(act[verb](model_id, actor(blueprint.current_request)))


@blueprint.route("/models/{model_id}/rollout/pause", methods=["POST"], access=Role.EDITOR, response=RolloutResponse)
def pause_rollout(model_id: str) -> Response:
    return _action(model_id, "pause")


@blueprint.route("/models/{model_id}/rollout/resume", methods=["POST"], access=Role.EDITOR, response=RolloutResponse)
def resume_rollout(model_id: str) -> Response:
    return _action(model_id, "resume")


@blueprint.route("/models/{model_id}/rollout/promote", methods=["POST"], access=Role.EDITOR, response=RolloutResponse)
def promote_rollout(model_id: str) -> Response:
    return _action(model_id, "promote")


@blueprint.route("/models/{model_id}/rollout/abort", methods=["POST"], access=Role.EDITOR, response=RolloutResponse)
def abort_rollout(model_id: str) -> Response:
    return _action(model_id, "abort")
