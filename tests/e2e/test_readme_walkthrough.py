"""The README's "Try it" shell block, run verbatim against a fresh local mode, as a newcomer would paste it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, STARTUP_SECONDS, free_port, session_processes

pytestmark = pytest.mark.e2e


def walkthrough() -> str:
    """The first fenced bash block of the README's "Try it" section."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"^```bash\n(.*?)^```$", section, re.S | re.M)
    assert found, 'the README\'s "Try it" section has no ```bash block'
    return found.group(1)


def checkout_state(state_dir: Path) -> str:
    """Every file git sees as changed, untracked or ignored (Python's bytecode caches and the state kept aside)."""
    listing = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    kept = f"!! {state_dir.relative_to(REPO)}/"  # ignored by git, as every user's state is
    lines = listing.splitlines()
    return "\n".join(line for line in lines if "__pycache__/" not in line and not line.startswith(kept))


def wait_until_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"local mode exited with {process.returncode}:\n{log.read_text()}"
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"local mode did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


def test_the_readme_walkthrough_works_as_pasted(request: pytest.FixtureRequest) -> None:
    script = walkthrough()
    port = free_port()
    # The state is meant to stay for the next start; a test's stays only for its own assertions.
    request.addfinalizer(lambda: shutil.rmtree(REPO / ".kraken" / f"local-{port}", ignore_errors=True))
    with tempfile.TemporaryDirectory(prefix="kraken-readme-") as home:
        # A fresh user: its own HOME, no password chosen; the state goes where the README says, in the checkout.
        env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
        env.update(HOME=home, KRAKEN_PORT=str(port))
        log = Path(home) / "local-mode.log"
        state_dir = REPO / ".kraken" / f"local-{port}"
        before = checkout_state(state_dir)
        with log.open("wb") as sink:
            local = subprocess.Popen(
                [sys.executable, "-m", "local"],
                cwd=REPO,
                env={**env, "PYTHONPATH": "backend"},
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_until_healthy(local, f"http://127.0.0.1:{port}", log)
            password_file = state_dir / "admin-password"
            assert password_file.stat().st_mode & 0o777 == 0o600
            password = password_file.read_text().strip()
            # The other terminal: a fresh bash in the checkout; -e and pipefail make any failing command fail the test.
            result = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", script],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=240,
            )
        finally:
            if local.poll() is None:
                local.send_signal(signal.SIGTERM)
            local.wait(timeout=30)
            for pid in session_processes(local.pid):
                os.kill(pid, signal.SIGKILL)
        output = result.stdout
        assert result.returncode == 0, f"the walkthrough failed:\n{output}\n{result.stderr}\n{log.read_text()}"
        # The state stays for the next start, where the README says, readable by this user only.
        assert password_file.read_text().strip() == password and (state_dir / "emulator" / "state").is_file()
        for path in [state_dir, *state_dir.rglob("*")]:
            assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path
        assert password not in log.read_text(), "local mode printed the admin password"
        assert str(password_file) in log.read_text(), "local mode did not say where the password is"
    assert re.search(r"^model [0-9a-f-]{36}$", output, re.M), output
    assert re.search(r"^upload: HTTP 20[14]$", output, re.M), output
    statuses = re.findall(r"^(PENDING|RUNNING|STOPPING|STOPPED)$", output, re.M)
    assert statuses == ["PENDING", "RUNNING", "STOPPING"], output
    assert output.count('"results"') == 2, output
    assert '"client:billing"' in output and '"items"' in output, output
    assert checkout_state(state_dir) == before, "the walkthrough left files in the checkout (or git sees the state)"
