"""The environment the standard model runner reads (backend/runner), built from a model record."""

from __future__ import annotations

import math

from chalicelib.domain.models import ModelRecord

# The port the standard runner listens on when an artifact model does not choose one.
RUNNER_PORT = 8080
# The standard runner exits with this code when the artifact cannot be loaded: retrying cannot help.
RUNNER_CANNOT_LOAD_EXIT_CODE = 3


def runner_environment(record: ModelRecord, artifact_uri: str | None, max_bytes: int, port: int) -> dict[str, str]:
    """The user's env plus the runner's settings; the runner's own names win (users cannot set KRAKEN_*)."""
    environment = dict(record.env)
    if artifact_uri is None:  # an image model: it reads only what the user gave it
        return environment
    environment.update(
        {
            "KRAKEN_ARTIFACT_URI": artifact_uri,
            "KRAKEN_ARTIFACT_FORMAT": record.artifact_format.value if record.artifact_format else "",
            "KRAKEN_ARTIFACT_MAX_BYTES": str(max_bytes),
            "KRAKEN_MODEL_PORT": str(port),
            "KRAKEN_PREDICT_PATH": record.predict_path,
            "KRAKEN_HEALTH_PATH": record.health_path,
            # Fargate may not show the task's CPU quota inside the container: say how many vCPUs it has.
            "KRAKEN_WORKERS": str(max(1, math.ceil(record.container_cpu))),
        }
    )
    return environment
