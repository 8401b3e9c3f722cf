"""End-to-end fixtures: local mode started as a real process tree, spoken to over real HTTP on 127.0.0.1."""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.signin import sign_in

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def session_processes(session_id: int) -> list[int]:
    """Every live process in the session, found through /proc so escaped grandchildren count too."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, session = fields[0], int(fields[3])
        if session == session_id and state != "Z":
            found.append(int(entry.name))
    return found


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: Any


ADMIN_PASSWORD = "e2e-" + secrets.token_urlsafe(16)
# Every local mode of a test run keeps its state under here (never in the checkout's .kraken/), gone at exit.
DATA_ROOT = Path(tempfile.mkdtemp(prefix="kraken-e2e-data-"))
atexit.register(shutil.rmtree, DATA_ROOT, True)


def new_data_dir() -> Path:
    """A data directory of its own for one local mode (or for one restarted several times)."""
    return Path(tempfile.mkdtemp(prefix="local-", dir=DATA_ROOT))


@dataclass
class LocalMode:
    process: subprocess.Popen[bytes]
    base_url: str
    output: Path  # everything local mode printed: a file, so a full pipe can never block it
    calls: Path  # `<role> <IAM action>` for every AWS call local mode made (local/calls.py)
    data_dir: Path  # its KRAKEN_DATA_DIR
    password: str = ADMIN_PASSWORD
    token: str = ""

    def ungranted_calls(self) -> list[str]:
        """Calls a role made that chalicelib.permissions does not grant it: each names role and action."""
        from local.calls import ungranted_calls

        return ungranted_calls(self.calls)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def sign_in(self, username: str = "admin", password: str | None = None) -> str:
        """Sign in as the console does, through the helper the benchmarks share (the admin by default)."""
        return sign_in(self.base_url, username, self.password if password is None else password)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> HttpResult:
        data = json.dumps(body).encode() if body is not None else None
        headers = {**(self.auth if self.token else {}), **(headers or {})}
        all_headers = {"Content-Type": "application/json", **headers} if data is not None else headers
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                status, response_headers = response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            raw, status, response_headers = error.read(), error.code, dict(error.headers)
        is_json = response_headers.get("Content-Type", "").startswith("application/json")
        return HttpResult(status, response_headers, json.loads(raw) if raw and is_json else raw)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def start_local_mode(
    extra_env: dict[str, str] | None = None, data_dir: Path | None = None, args: tuple[str, ...] = ()
) -> LocalMode:
    """Local mode on a free port with a data directory of its own (`data_dir` to start on an earlier one's).

    The admin's password is ADMIN_PASSWORD unless `extra_env` empties KRAKEN_ADMIN_PASSWORD: then it
    is read from the password file, as a person would.
    """
    port = free_port()
    data_dir = data_dir or new_data_dir()
    env = {
        # The shell's own KRAKEN_ settings (or any an earlier test in this worker left) do not reach it.
        **{name: value for name, value in os.environ.items() if not name.startswith("KRAKEN_")},
        "KRAKEN_PORT": str(port),
        "PYTHONPATH": "backend",
        "KRAKEN_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "KRAKEN_DATA_DIR": str(data_dir),
        # The suites that find model processes through /proc test the process runtime; the
        # container runtime has its own suite (test_containers_local.py), which overrides this.
        "KRAKEN_LOCAL_RUNTIME": "process",
        # Container Insights samples every minute; compressed so the CPU and memory charts fill in seconds.
        "KRAKEN_RESOURCE_SAMPLE_SECONDS": "1",
        **(extra_env or {}),
    }
    output = Path(tempfile.mkstemp(prefix="kraken-local-", suffix=".log")[1])
    calls = Path(tempfile.mkstemp(prefix="kraken-calls-", suffix=".txt")[1])
    env["KRAKEN_CALL_LOG"] = str(calls)
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "local", *args],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    local = LocalMode(process, f"http://127.0.0.1:{port}", output, calls, data_dir)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"local mode exited with {process.returncode}:\n{output.read_text()}")
        try:
            if local.request("GET", "/api/health").status == 200:
                local.password = env["KRAKEN_ADMIN_PASSWORD"] or (data_dir / "admin-password").read_text().strip()
                local.token = local.sign_in()
                return local
        except OSError:
            pass
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError(f"local mode did not answer /api/health within {STARTUP_SECONDS} s")


@contextmanager
def checked_local_mode(extra_env: dict[str, str] | None = None) -> Iterator[LocalMode]:
    """Local mode for a test module; after it, no process may be left behind and no role may have made a call
    that chalicelib.permissions does not grant it."""
    local = start_local_mode(extra_env)
    try:
        yield local
    finally:
        if local.process.poll() is None:
            local.stop()
        leftovers = session_processes(local.process.pid)
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        assert not leftovers, f"local mode left processes behind: {leftovers}"
        ungranted = local.ungranted_calls()
        assert not ungranted, "\n".join(ungranted)


@pytest.fixture(scope="module")
def local_mode() -> Iterator[LocalMode]:
    with checked_local_mode() as local:
        yield local
