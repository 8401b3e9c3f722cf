"""Local state survives a restart: stopped with SIGTERM (or killed) and started on the same data directory,
local mode has its models, artifacts, operations log, client tokens, users and history, and runs again
what was running. A snapshot it cannot use is kept aside with a clear message, and local mode starts empty."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.e2e.conftest import REPO, LocalMode, new_data_dir, session_processes, start_local_mode
from tests.e2e.test_lifecycle_local import create_model, status, trained_pipeline, wait_for
from tests.functional.test_models_api import DIAMONDS

pytestmark = pytest.mark.e2e

ROWS = [{"carat": 0.23, "cut": "Ideal"}, {"carat": 1.1, "cut": "Good"}]
# The admin's password is the one local mode chose and wrote to its file: nothing in the environment.
FROM_THE_FILE = {"KRAKEN_ADMIN_PASSWORD": ""}


def stop_cleanly(local: LocalMode) -> str:
    """SIGTERM, as Ctrl-C's sibling; checks what every local mode must do on the way out. Returns its output."""
    try:
        assert local.stop() == 0, local.output.read_text()
    finally:
        leftovers = session_processes(local.process.pid)
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
    assert not leftovers, f"local mode left processes behind: {leftovers}"
    ungranted = local.ungranted_calls()
    assert not ungranted, "\n".join(ungranted)
    return local.output.read_text()


def predict(local: LocalMode, model_id: str, token: str) -> requests.Response:
    body = {"modelData": ROWS, "metaData": {"modelId": model_id}}
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(f"{local.base_url}/api/predict", json=body, headers=headers, timeout=30)


def operations(local: LocalMode, model_id: str) -> list[dict[str, Any]]:
    return list(local.request("GET", f"/api/models/{model_id}/logs?limit=100").body["items"])


def history(local: LocalMode, model_id: str) -> set[str]:
    items = local.request("GET", f"/api/models/{model_id}/requests?limit=100").body["items"]
    return {item["requestId"] for item in items}


def add_viewer(local: LocalMode, credentials: Path, username: str, password: str) -> None:
    """A user made as a person administering the stage makes one: with the operator's keys."""
    auth = local.request("GET", "/config.json").body["auth"]
    keys = json.loads(credentials.read_text())
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=auth["cognitoEndpoint"],
        region_name=auth["region"],
        aws_access_key_id=keys["accessKeyId"],
        aws_secret_access_key=keys["secretAccessKey"],
    )
    pool = auth["userPoolId"]
    cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName="viewer")


def charted(local: LocalMode, model_id: str) -> bool:
    series = local.request("GET", f"/api/models/{model_id}/metrics?period=60").body["series"]
    return any(series["requests"])


def assert_private(root: Path) -> None:
    """Only the owner can read anything local mode keeps."""
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    for path in root.rglob("*"):
        wanted = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == wanted, f"{path} has mode {oct(path.stat().st_mode)}"


def test_everything_is_there_after_a_restart_and_the_running_model_answers_again() -> None:
    operator = new_data_dir() / "operator.json"  # the operator's keys are new at each start
    first = start_local_mode({**FROM_THE_FILE, "KRAKEN_OPERATOR_CREDENTIALS": str(operator)})
    data_dir = first.data_dir
    viewer_password = "viewer-" + os.urandom(8).hex()
    try:
        password = first.password
        add_viewer(first, operator, "vera", viewer_password)
        model_id = create_model(first, "persisted", trained_pipeline())
        revision = status(first, model_id)["revision"]
        updated = first.request("PUT", f"/api/models/{model_id}", {"version": "1.1"}, {"If-Match": f'"{revision}"'})
        assert updated.status == 200, updated.body
        client = first.request("POST", f"/api/models/{model_id}/clients", {"name": "billing"})
        assert client.status == 201, client.body
        token = client.body["token"]
        assert first.request("POST", f"/api/models/{model_id}/start", {}).status == 202
        wait_for(lambda: status(first, model_id)["status"] == "RUNNING", 30, "RUNNING")
        answered = predict(first, model_id, token)
        assert answered.status_code == 200, answered.text
        request_id = answered.headers["X-Request-Id"]
        wait_for(lambda: request_id in history(first, model_id), 15, "the prediction in the history")
        wait_for(lambda: charted(first, model_id), 15, "the prediction on the metrics")
        before = status(first, model_id)
        logged = operations(first, model_id)
        assert first.request("POST", "/api/projects", {"name": "kept"}).status == 201
        image = {"name": "from-a-private-registry", "version": "1", "dockerImage": "registry.example.com/m:1"}
        image_model = first.request("POST", "/api/models", {**image, "containerPort": 80, "containerCpu": 0.25,
                                                            "containerMemory": 0.5}).body["id"]  # fmt: skip
        pull = {"username": "robot", "password": "pull-" + os.urandom(8).hex()}
        assert first.request("PUT", f"/api/models/{image_model}/registry-credentials", pull).status == 200
    finally:
        output = stop_cleanly(first)
    assert f"Local state saved in {data_dir}" in output
    assert_private(data_dir)
    assert password not in output

    second = start_local_mode(FROM_THE_FILE, data_dir=data_dir)
    try:
        assert second.password == password and second.sign_in(password=password)
        assert "Local state restored from" in second.output.read_text()
        after = status(second, model_id)
        kept = ("name", "version", "artifact", "createdAt", "createdBy", "artifactFormat", "containerMemory")
        assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
        assert after["version"] == "1.1" and after["artifact"]["size"] > 0
        listed = second.request("GET", "/api/models?search=persisted").body["items"]
        assert [m["id"] for m in listed] == [model_id]
        # The log as it was, and on top the end of the previous run's process, then the new start.
        now = operations(second, model_id)
        assert all(row in now for row in logged)
        ended = [row for row in now if "previous-run" in row["result"]]
        assert len(ended) == 1 and "local mode was stopped" in ended[0]["reason"], now
        clients = second.request("GET", f"/api/models/{model_id}/clients").body["items"]
        assert [c["name"] for c in clients] == ["billing"]
        assert request_id in history(second, model_id)
        assert charted(second, model_id)
        assert "kept" in [p["name"] for p in second.request("GET", "/api/projects").body["items"]]
        # The pull secret is still in Secrets Manager: storing again replaces it instead of creating it.
        assert status(second, image_model)["privateRegistry"] is True
        assert second.request("PUT", f"/api/models/{image_model}/registry-credentials", pull).status == 200
        assert "api_handler secretsmanager:PutSecretValue" in second.calls.read_text()
        viewer = second.sign_in("vera", viewer_password)
        me = requests.get(f"{second.base_url}/api/me", headers={"Authorization": f"Bearer {viewer}"}, timeout=10)
        assert me.json()["role"] == "viewer"

        # The model comes back by itself (its artifact read from the restored bucket), for the same token.
        wait_for(lambda: status(second, model_id)["status"] == "RUNNING", 30, "RUNNING again")
        again = predict(second, model_id, token)
        assert again.status_code == 200, again.text
        assert again.json()["results"] == answered.json()["results"]
    finally:
        stop_cleanly(second)


def test_a_kill_loses_at_most_the_last_second() -> None:
    first = start_local_mode()
    try:
        created = first.request("POST", "/api/models", {**DIAMONDS, "name": "before-the-kill"})
        assert created.status == 201, created.body
        time.sleep(2.5)  # more than the save interval (1 s)
    finally:
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=30)
    second = start_local_mode(data_dir=first.data_dir)
    try:
        assert "Local state restored from" in second.output.read_text()
        names = [m["name"] for m in second.request("GET", "/api/models").body["items"]]
        assert names == ["before-the-kill"]
    finally:
        stop_cleanly(second)


@pytest.fixture(scope="module")
def saved_state() -> Iterator[Path]:
    """A data directory holding the state of a local mode that had one model, stopped cleanly."""
    local = start_local_mode()
    try:
        assert local.request("POST", "/api/models", {**DIAMONDS, "name": "saved"}).status == 201
    finally:
        stop_cleanly(local)
    yield local.data_dir


def copy_of(saved: Path) -> Path:
    copy = new_data_dir()
    shutil.rmtree(copy)
    shutil.copytree(saved, copy)
    return copy


def truncate(state: Path) -> None:
    state.write_bytes(state.read_bytes()[:-100])


def flip_a_byte(state: Path) -> None:
    content = bytearray(state.read_bytes())
    content[-50] ^= 0xFF
    state.write_bytes(bytes(content))


def from_another_moto(state: Path) -> None:
    magic, header, payload = state.read_bytes().split(b"\n", 2)
    changed = {**json.loads(header), "moto": "4.0.0"}
    state.write_bytes(magic + b"\n" + json.dumps(changed).encode() + b"\n" + payload)


def not_a_snapshot(state: Path) -> None:
    state.write_bytes(b"\x00garbage\n" * 10)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (truncate, "is damaged"),
        (flip_a_byte, "is damaged"),
        (from_another_moto, "saved with moto 4.0.0"),
        (not_a_snapshot, "is not a local-mode snapshot"),
    ],
)
def test_an_unusable_snapshot_is_kept_aside_and_local_mode_starts_empty(
    saved_state: Path, damage: Any, reason: str
) -> None:
    data_dir = copy_of(saved_state)
    damage(data_dir / "emulator" / "state")
    damaged = (data_dir / "emulator" / "state").read_bytes()
    local = start_local_mode(data_dir=data_dir)
    try:
        output = local.output.read_text()
        assert "The saved local state cannot be used" in output and reason in output, output
        assert "Traceback" not in output
        assert local.request("GET", "/api/models").body["items"] == []
        [aside] = data_dir.glob("emulator.unreadable-*")
        assert str(aside) in output
        assert (aside / "state").read_bytes() == damaged, "the unusable snapshot must be kept as it was"
    finally:
        stop_cleanly(local)
    assert_private(data_dir)
    # The next start has the (new) state of the run that started empty, and leaves the old one aside.
    again = start_local_mode(data_dir=data_dir)
    try:
        assert "Local state restored from" in again.output.read_text()
        assert [aside] == list(data_dir.glob("emulator.unreadable-*"))
    finally:
        stop_cleanly(again)


def test_reset_starts_empty(saved_state: Path) -> None:
    data_dir = copy_of(saved_state)
    local = start_local_mode(data_dir=data_dir, args=("--reset",))
    try:
        assert "--reset: the saved state" in local.output.read_text()
        assert local.request("GET", "/api/models").body["items"] == []
    finally:
        stop_cleanly(local)


def test_an_empty_data_dir_setting_keeps_nothing() -> None:
    local = start_local_mode({"KRAKEN_DATA_DIR": ""})
    # The password file's place is the port's default directory, in the checkout's .kraken/.
    default = REPO / ".kraken" / f"local-{local.base_url.rsplit(':', 1)[1]}"
    try:
        assert "Local state" not in local.output.read_text()
        assert (default / "admin-password").is_file()
    finally:
        output = stop_cleanly(local)
        leftovers = [p for p in default.rglob("*") if p.is_file()]
        shutil.rmtree(default, ignore_errors=True)
    assert "Local state saved" not in output
    assert list(local.data_dir.iterdir()) == []
    assert leftovers == [], "nothing may be left where nothing is kept"


def test_two_local_modes_cannot_share_a_data_dir(saved_state: Path) -> None:
    data_dir = copy_of(saved_state)
    local = start_local_mode(data_dir=data_dir)
    try:
        env = {**os.environ, "PYTHONPATH": "backend", "KRAKEN_DATA_DIR": str(data_dir), "KRAKEN_PORT": "1"}
        other = subprocess.run(
            [sys.executable, "-m", "local"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
        )
        assert other.returncode == 1
        assert "another local mode keeps its state in" in other.stderr and "Traceback" not in other.stderr
    finally:
        stop_cleanly(local)
