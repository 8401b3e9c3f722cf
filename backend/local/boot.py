"""Local mode's start-up sequence, written once: used by `python -m local` and by the benchmarks."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib import __version__
from local.emulator import ADMIN_USER

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from local.emulator import Emulator
    from local.expiry import Expiry
    from local.identities import Identities
    from local.server import LocalServer
    from local.state import SavedState, Saver
    from local.wiring import LocalWiring

logger = logging.getLogger("kraken.local")
# The replicas of the run before this one, as the operations log names them when their end is recorded.
PREVIOUS_RUN = "previous-run"
PREVIOUS_RUN_ENDED = "local mode was stopped, and the model's process with it; local mode starts it again"


@dataclass
class LocalMode:
    """Everything one local-mode process runs: the emulator, the wiring over it, and the HTTP server."""

    settings: Settings
    emulator: Emulator
    services: LocalWiring
    server: LocalServer
    identities: Identities
    saver: Saver | None = None  # with a data directory: saves the emulator's state
    restored: bool = False  # the state of an earlier run was brought back
    expiry: Expiry = field(init=False)

    def __post_init__(self) -> None:
        from local.expiry import Expiry

        self.expiry = Expiry(self.emulator.app)

    def start(self, reconciler: bool = True) -> None:
        """Serve requests; the background work (reconciler, sampling) is optional so a benchmark can leave it out."""
        if self.restored:
            try:
                resume_models(self.services)  # before the first request: no one is sent to the last run's ports
            except Exception:  # the reconciler's rounds repair what this could not
                logger.exception("could not start again the models the previous run was running")
        self.server.start()
        if reconciler:
            self.services.start_background()
            self.expiry.start()
        if self.saver is not None:
            self.saver.start()

    def shutdown(self) -> str | None:
        """Stop serving and stop everything; returns why the state could not be saved, if it could not."""
        self.server.shutdown()
        self.server.server_close()
        self.expiry.stop()
        problem = None
        if self.saver is not None:
            # The last requests' history and metrics go into the state; then the last save, before the
            # models stop: that local mode stops them is no event of theirs to keep (resume_models says it).
            self.services.shipper.flush()
            self.services.metrics_worker.flush()
            problem = self.saver.stop()
        self.services.shutdown()  # model processes stop and their last events land before the emulator goes
        self.emulator.stop()
        return problem


def resume_models(services: LocalWiring) -> int:
    """After a restart, no replica of the previous run is left. Record that for each model whose record
    had one (or was starting or stopping one), as the runtime reports a replica's end; then reconcile
    once, which starts again what the records say should run. Returns how many models were affected."""
    from chalicelib.domain.clock import utc_now
    from chalicelib.domain.models import ModelStatus
    from chalicelib.domain.ports import ExitCause, ModelQuery, ReplicaExit, ReplicaReport, ReplicaState
    from local.identities import acting_as

    affected: list[tuple[str, int]] = []
    models: set[str] = set()
    with acting_as("reconcile"):
        for status in (ModelStatus.PENDING, ModelStatus.RUNNING, ModelStatus.STOPPING):
            cursor = None
            while True:
                page = services.registry.list(ModelQuery(limit=100, status=status, cursor=cursor))
                for record in page.items:
                    running = [s.version for s in record.version_states if s.status is not ModelStatus.STOPPED]
                    affected += [(record.id, version) for version in running]
                    models.update([record.id] if running else [])
                cursor = page.cursor
                if not cursor:
                    break
    for model_id, version in affected:
        # No address: the report ends every endpoint the version holds, none of which answers any more.
        ended = ReplicaReport(
            model_id=model_id,
            replica_id=PREVIOUS_RUN,
            state=ReplicaState.EXITED,
            at=utc_now(),
            exit=ReplicaExit(ExitCause.EXITED, None, PREVIOUS_RUN_ENDED),
            version=version,
        )
        with acting_as("task_state_change"):
            services.lifecycle.on_replica_report(ended)
    services.reconcile_once()
    return len(models)


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


def boot(
    port: int,
    console_dir: Path | None,
    admin_password: str,
    state: SavedState | None = None,
    keep_admin_password: bool = False,
) -> LocalMode:
    """Start the emulator (IAM enforced), with `state` restored into it when given, create the stack's
    resources and the admin in it (what a restored state holds is kept), install local wiring signed
    per role and bind 127.0.0.1:`port` (not serving yet: call `start()`). Changes os.environ: one per
    process. With `state`, the emulator's state is saved there from `start()` on and at `shutdown()`.

    Prints what became of a saved state. Raises OSError when the port cannot be bound, after stopping
    the emulator it started.
    """
    from local.calls import CALL_LOG, CallLog
    from local.emulator import start_local_aws

    restored = False
    if state is not None:
        outcome = state.restore()  # into moto's memory, before the emulator's first request
        print(outcome.message, flush=True)
        restored = outcome.restored
    origins = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    emulator, settings, identities = start_local_aws(origins, admin_password, keep_admin_password and restored)

    from chalicelib import wiring
    from local.wiring import LocalWiring

    call_log = CallLog(Path(os.environ[CALL_LOG])) if os.environ.get(CALL_LOG) else None
    services = LocalWiring(settings, identities, call_log)
    wiring.install(services)
    from app import app
    from local.server import LocalServer

    try:
        # The browser calls the emulator for what it calls AWS for directly: sign-in and uploads.
        server = LocalServer(app, port, console_dir, runtime_config(settings), connect_sources=[emulator.endpoint_url])
    except OSError:
        emulator.stop()
        raise
    saver = None
    if state is not None:
        from local.state import Saver, save_interval

        saver = Saver(state, emulator.app, save_interval())
    return LocalMode(settings, emulator, services, server, identities, saver, restored)
