"""Starts local mode: `python -m local` (with backend/ on PYTHONPATH); ./scripts/local.sh does it for you."""

from __future__ import annotations

import contextlib
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
DATA_DIR = "KRAKEN_DATA_DIR"
OPERATOR_CREDENTIALS = "KRAKEN_OPERATOR_CREDENTIALS"  # a file to write the user-managing keys to
DEFAULT_PORT = 8000


def admin_password_file(port: int) -> Path:
    """Where the admin password of the instance on `port` is kept: a file only its owner can read."""
    configured = os.environ.get(DATA_DIR)
    data_dir = Path(configured) if configured else Path.home() / ".local" / "state" / "kraken" / f"local-{port}"
    return data_dir / "admin-password"


def random_password() -> str:
    """A random password the emulated pool's policy accepts (it needs a digit and a lowercase letter)."""
    while True:
        password = secrets.token_urlsafe(15)
        if any(c.isdigit() for c in password) and any(c.islower() for c in password):
            return password


def write_admin_password(path: Path, password: str) -> None:
    """Writes the password with mode 0600 from the first byte (never readable by others, even briefly)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w") as file:
        file.write(password + "\n")


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

    admin_password = os.environ.get(ADMIN_PASSWORD) or random_password()
    try:
        local = boot(port, CONSOLE_DIR, admin_password)
        if os.environ.get(OPERATOR_CREDENTIALS):
            local.identities.write_operator_credentials(Path(os.environ[OPERATOR_CREDENTIALS]))
    except OSError as error:
        print(f"cannot listen on 127.0.0.1:{port}: {error.strerror}; set {PORT} to another port", file=sys.stderr)
        return 1

    from local.runtime import LocalContainerRuntime

    runtime = local.services.runtime  # chosen now, so that local mode says at start how models run
    assert isinstance(runtime, LocalContainerRuntime)
    print(f"Models run {runtime.launcher.description}.", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    password_file = admin_password_file(port)
    write_admin_password(password_file, admin_password)  # before the server answers, so a ready server means a file
    local.start()
    print(f"Kraken local mode is running: http://127.0.0.1:{port}/  (API: http://127.0.0.1:{port}/api)", flush=True)
    # The password itself is in no log and on no screen: the file is readable by this user only.
    print(f"Sign in as {ADMIN_USER} with the password in {password_file}  (or set {ADMIN_PASSWORD})", flush=True)
    if local.server.console_dir is None:
        print("The console is not built; the API works without it.", flush=True)
    stop.wait()
    print("Stopping local mode...", flush=True)
    local.shutdown()
    password_file.unlink(missing_ok=True)
    if DATA_DIR not in os.environ:
        with contextlib.suppress(OSError):  # the per-port directory goes with its last file
            password_file.parent.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
