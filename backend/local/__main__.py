"""Starts local mode: `python -m local [--reset]` (with backend/ on PYTHONPATH); ./scripts/local.sh does it for you."""

from __future__ import annotations

import argparse
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
OPERATOR_CREDENTIALS = "KRAKEN_OPERATOR_CREDENTIALS"  # a file to write the user-managing keys to
DEFAULT_PORT = 8000


def admin_password_file(port: int) -> Path:
    """Where the admin password of the instance on `port` is kept: a file only its owner can read."""
    from local.state import data_dir

    return data_dir(port)[0] / "admin-password"


def read_admin_password(path: Path) -> str | None:
    """The password a previous run wrote, if its file is there and holds one."""
    try:
        return path.read_text().strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def random_password() -> str:
    """A random password the emulated pool's policy accepts (it needs a digit and a lowercase letter)."""
    while True:
        password = secrets.token_urlsafe(15)
        if any(c.isdigit() for c in password) and any(c.islower() for c in password):
            return password


def write_admin_password(path: Path, password: str) -> None:
    """Writes the password with mode 0600 from the first byte (never readable by others, even briefly)."""
    from local.state import data_root

    data_root(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w") as file:
        file.write(password + "\n")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local",
        description="Kraken's local mode: the console and API on 127.0.0.1, AWS emulated in this process.",
        epilog="State is kept in KRAKEN_DATA_DIR (default .kraken/local-<port> in the checkout); "
        "KRAKEN_DATA_DIR= (empty) keeps nothing.",
    )
    parser.add_argument(
        "--reset",
        "--fresh",
        action="store_true",
        help="start empty: remove the saved state (models, artifacts, users, tokens, history) first",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
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
    from local.state import InUse, SavedState, data_dir, save_interval

    try:
        save_interval()
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    root, keeps_state = data_dir(port)
    password_file = root / "admin-password"
    state = SavedState(root) if keeps_state else None
    try:
        if state is not None:
            state.acquire()
    except (InUse, OSError) as error:
        print(f"cannot use the data directory: {error}", file=sys.stderr)
        return 1
    if state is not None and args.reset and state.reset():
        print(f"--reset: the saved state in {state.dir} is removed; local mode starts empty.", flush=True)
    # Explicit beats remembered beats new: a restored admin keeps the password it has unless one is given.
    chosen = os.environ.get(ADMIN_PASSWORD)
    remembered = read_admin_password(password_file) if keeps_state else None
    admin_password = chosen or remembered or random_password()
    try:
        local = boot(port, CONSOLE_DIR, admin_password, state, keep_admin_password=bool(remembered and not chosen))
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
    write_admin_password(password_file, admin_password)  # before the server answers, so a ready server means a file
    local.start()
    print(f"Kraken local mode is running: http://127.0.0.1:{port}/  (API: http://127.0.0.1:{port}/api)", flush=True)
    # The password itself is in no log and on no screen: the file is readable by this user only.
    print(f"Sign in as {ADMIN_USER} with the password in {password_file}  (or set {ADMIN_PASSWORD})", flush=True)
    if local.server.console_dir is None:
        print("The console is not built; the API works without it.", flush=True)
    stop.wait()
    print("Stopping local mode...", flush=True)
    problem = local.shutdown()
    if state is None:  # nothing is kept: the password goes too, and the per-port directory with its last file
        password_file.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            password_file.parent.rmdir()
    elif problem:
        print(f"{problem}; the state saved before that is still in place.", file=sys.stderr, flush=True)
        return 1
    else:
        print(f"Local state saved in {root}; start again to continue, or with --reset to start empty.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
