"""The API function: creates the Chalice app and registers the blueprints; no logic lives here."""

from __future__ import annotations

from chalicelib import triggers
from chalicelib.api import (
    access,
    costs,
    deployments,
    errors,
    health,
    lifecycle,
    models,
    openapi,
    predictions,
    projects,
    protocols,
    replays,
    rollouts,
)
from chalicelib.api.application import KrakenApp

app = KrakenApp(app_name="kraken")
app.register_middleware(errors.normalize_gateway_errors, "http")
app.register_blueprint(health.blueprint)
app.register_blueprint(models.blueprint)
app.register_blueprint(lifecycle.blueprint)
app.register_blueprint(deployments.blueprint)
app.register_blueprint(replays.blueprint)
app.register_blueprint(rollouts.blueprint)
app.register_blueprint(predictions.blueprint)
app.register_blueprint(protocols.blueprint)
app.register_blueprint(costs.blueprint)
app.register_blueprint(access.blueprint)
app.register_blueprint(projects.blueprint)
app.register_blueprint(openapi.blueprint)
app.register_blueprint(triggers.blueprint)
