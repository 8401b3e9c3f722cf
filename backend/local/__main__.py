"""Starts local mode: `python -m local` (with backend/ on PYTHONPATH); ./scripts/local.sh does it for you."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONSOLE_DIR = REPO_ROOT / "frontend_build" / "dist"
PORT = "KRAKEN_PORT"
ADMIN_PASSWORD = "KRAKEN_ADMIN_PASSWORD"  # noqa: S105 - the variable's name
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

    from local.boot import boot
    from local.emulator import ADMIN_USER

    admin_password = os.environ.get(ADMIN_PASSWORD) or secrets.token_urlsafe(12)
    try:
        local = boot(port, CONSOLE_DIR, admin_password)
    except OSError as error:
        print(f"cannot listen on 127.0.0.1:{port}: {error.strerror}; set {PORT} to another port", file=sys.stderr)
        return 1

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    local.start()
    print(f"Kraken local mode is running: http://127.0.0.1:{port}/  (API: http://127.0.0.1:{port}/api)", flush=True)
    if ADMIN_PASSWORD in os.environ:
        print(f"Sign in as {ADMIN_USER} with the password in {ADMIN_PASSWORD}.", flush=True)
    else:
        # Shown once, here only: it is in no file and no log.
        print(
            f"Sign in as {ADMIN_USER} with password {admin_password}  (set {ADMIN_PASSWORD} to choose it)", flush=True
        )
    if local.server.console_dir is None:
        print("The console is not built; the API works without it.", flush=True)
    stop.wait()
    print("Stopping local mode...", flush=True)
    local.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
