"""Cost routes: what a model costs per hour, this month, and per 1,000 predictions; what the stage costs idle."""

from __future__ import annotations

import dataclasses
import os

from chalice import Response

from chalicelib import wiring
from chalicelib.api.http import ApiBlueprint, json_response
from chalicelib.config import API_MEMORY_MB
from chalicelib.domain.access import Role
from chalicelib.domain.clock import utc_now
from chalicelib.domain.costs import model_cost, stage_idle_cost
from chalicelib.schemas.costs import CostResponse, StageCostResponse

blueprint = ApiBlueprint(__name__)


@blueprint.route("/models/{model_id}/cost", methods=["GET"], access=Role.VIEWER, response=CostResponse)
def cost(model_id: str) -> Response:
    services = wiring.current()
    record = services.registry.get(model_id)
    # Lambda says its own memory size; elsewhere the size the stack gives the API function.
    memory_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", API_MEMORY_MB))
    found = model_cost(record, services.history, services.metrics, services.settings.region, memory_mb, utc_now())
    body = CostResponse.model_validate(found)
    return json_response(body.to_json())


# What the stage costs idle is no secret of any project: everyone signed in may read it.
@blueprint.route("/costs", methods=["GET"], access="signed-in", response=StageCostResponse)
def stage_cost() -> Response:
    settings = wiring.current().settings
    found = stage_idle_cost(settings.region, settings.nat_gateways, settings.interface_endpoints, settings.waf_rules)
    local = settings.aws_endpoint_url is not None
    body = StageCostResponse.model_validate({**dataclasses.asdict(found), "local": local})
    return json_response(body.to_json())
