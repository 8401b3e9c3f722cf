"""Local mode's start-up sequence, written once: used by `python -m local` and by the benchmarks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib import __version__
from local.emulator import ADMIN_USER

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from local.emulator import Emulator
    from local.identities import Identities
    from local.server import LocalServer
    from local.wiring import LocalWiring


@dataclass
class LocalMode:
    """Everything one local-mode process runs: the emulator, the wiring over it, and the HTTP server."""

    settings: Settings
    emulator: Emulator
    services: LocalWiring
    server: LocalServer
    identities: Identities

    def start(self, reconciler: bool = True) -> None:
        """Serve requests; the reconciler is optional so a benchmark can leave its background work out."""
        self.server.start()
        if reconciler:
            self.services.start_reconciler()

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.services.shutdown()  # model processes stop and their last events land before the emulator goes
        self.emulator.stop()


def runtime_config(settings: Settings) -> dict[str, object]:
    """What the console reads from /config.json: where the API is and how to sign in."""
    return {
        "apiBase": "/api",
        "stage": settings.stage,
        "mode": "local",
        "version": __version__,
        "region": settings.region,
        "auth": {
            "userPoolId": settings.user_pool_id,
            "clientId": settings.user_pool_client_id,
            "region": settings.region,
            "cognitoEndpoint": settings.aws_endpoint_url,
            "localUser": ADMIN_USER,  # the sign-in page names the user local mode created
        },
    }


def boot(port: int, console_dir: Path | None, admin_password: str) -> LocalMode:
    """Start the emulator (IAM enforced), create the stack's resources and the admin in it, install local
    wiring signed per role and bind 127.0.0.1:`port` (not serving yet: call `start()`). Changes
    os.environ: one per process.

    Raises OSError when the port cannot be bound, after stopping the emulator it started.
    """
    from local.calls import CALL_LOG, CallLog
    from local.emulator import start_local_aws

    origins = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    emulator, settings, identities = start_local_aws(origins, admin_password)

    from chalicelib import wiring
    from local.wiring import LocalWiring

    call_log = CallLog(Path(os.environ[CALL_LOG])) if os.environ.get(CALL_LOG) else None
    services = LocalWiring(settings, identities, call_log)
    wiring.install(services)
    from app import app
    from local.server import LocalServer

    try:
        # The browser calls the emulator for what it calls AWS for directly: sign-in and uploads.
        server = LocalServer(
            app, port, console_dir, runtime_config(settings), connect_sources=[emulator.endpoint_url]
        )
    except OSError:
        emulator.stop()
        raise
    return LocalMode(settings, emulator, services, server, identities)
