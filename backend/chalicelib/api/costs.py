"""Cost route: what a model costs per hour, this month, and per 1,000 predictions."""

from __future__ import annotations

import os

from chalice import Response

from chalicelib import wiring
from chalicelib.api.http import ApiBlueprint, json_response
from chalicelib.config import API_MEMORY_MB
from chalicelib.domain.access import Role
from chalicelib.domain.clock import utc_now
from chalicelib.domain.costs import model_cost
from chalicelib.schemas.costs import CostResponse

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
