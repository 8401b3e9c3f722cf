"""Starts local mode: `python -m local` (with backend/ on PYTHONPATH); ./scripts/local.sh does it for you."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

from chalicelib import __version__

REPO_ROOT = Path(__file__).resolve().parents[2]
CONSOLE_DIR = REPO_ROOT / "frontend_build" / "dist"
PORT = "KRAKEN_PORT"
ADMIN_PASSWORD = "KRAKEN_ADMIN_PASSWORD"  # noqa: S105 - the variable's name
OPERATOR_CREDENTIALS = "KRAKEN_OPERATOR_CREDENTIALS"  # a file to write the user-managing keys to
DEFAULT_PORT = 8000


def main() -> int:
    logging.basicConfig(level=os.environ.get("KRAKEN_LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s")
    for chatty in ("botocore", "pynamodb"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        port = int(os.environ.get(PORT, DEFAULT_PORT))
    except ValueError:
        print(f"{PORT} must be a port number", file=sys.stderr)
        return 2

    from local.calls import CALL_LOG, CallLog
    from local.emulator import ADMIN_USER, start_local_aws

    origins = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    admin_password = os.environ.get(ADMIN_PASSWORD) or secrets.token_urlsafe(12)
    emulator, settings, identities = start_local_aws(origins, admin_password)
    if os.environ.get(OPERATOR_CREDENTIALS):
        identities.write_operator_credentials(Path(os.environ[OPERATOR_CREDENTIALS]))

    from chalicelib import wiring
    from local.wiring import LocalWiring

    call_log = CallLog(Path(os.environ[CALL_LOG])) if os.environ.get(CALL_LOG) else None
    services = LocalWiring(settings, identities, call_log)
    wiring.install(services)
    from app import app
    from local.server import LocalServer

    try:
        server = LocalServer(
            app,
            port,
            CONSOLE_DIR,
            {
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
                },
            },
            # The browser calls the emulator for what it calls AWS for directly: sign-in and uploads.
            connect_sources=[emulator.endpoint_url],
        )
    except OSError as error:
        print(f"cannot listen on 127.0.0.1:{port}: {error.strerror}; set {PORT} to another port", file=sys.stderr)
        emulator.stop()
        return 1

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    services.start_reconciler()
    print(f"Kraken local mode is running: http://127.0.0.1:{port}/  (API: http://127.0.0.1:{port}/api)", flush=True)
    if ADMIN_PASSWORD in os.environ:
        print(f"Sign in as {ADMIN_USER} with the password in {ADMIN_PASSWORD}.", flush=True)
    else:
        # Shown once, here only: it is in no file and no log.
        print(
            f"Sign in as {ADMIN_USER} with password {admin_password}  (set {ADMIN_PASSWORD} to choose it)", flush=True
        )
    if server.console_dir is None:
        print("The console is not built; the API works without it.", flush=True)
    stop.wait()
    print("Stopping local mode...", flush=True)
    server.shutdown()
    server.server_close()
    services.shutdown()  # model processes stop and their last events land before the emulator goes
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
