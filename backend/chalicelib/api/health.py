"""GET /health: liveness and the deployed version; touches no dependency so it stays cheap."""

from __future__ import annotations

from chalicelib import __version__
from chalicelib.api.http import ApiBlueprint
from chalicelib.schemas.common import HealthResponse

blueprint = ApiBlueprint(__name__)


@blueprint.route("/health", methods=["GET"], access="public", response=HealthResponse)
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}
