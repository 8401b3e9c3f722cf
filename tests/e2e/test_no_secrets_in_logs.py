"""No password, access token or client token ever reaches a log line or an error body."""

from __future__ import annotations

import base64
import json
import urllib.error

import psutil
import pytest
import requests

from tests.e2e.conftest import ADMIN_PASSWORD, start_local_mode
from tests.e2e.test_lifecycle_local import create_model, status, trained_pipeline, wait_for

pytestmark = pytest.mark.e2e
WRONG_PASSWORD = "not-the-password-" + ADMIN_PASSWORD[::-1]
ENV_SECRET = "sk-live-" + ADMIN_PASSWORD[::-1].replace("-", "")


def _runner_processes_with(name: str) -> list[psutil.Process]:
    """This user's processes whose environment holds `name` (local mode's runner replicas)."""
    found = []
    for process in psutil.process_iter():
        try:
            if name in process.environ():
                found.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def test_a_whole_session_leaves_no_secret_in_any_log() -> None:
    local = start_local_mode()
    try:
        model_id = create_model(
            local,
            "secrets",
            trained_pipeline(),
            env={"LOG_LEVEL": "info", "API_KEY": {"secret": True, "value": ENV_SECRET}},
        )
        local.request("POST", f"/api/models/{model_id}/start", {})
        wait_for(lambda: status(local, model_id)["status"] == "RUNNING", 15, "RUNNING")
        # The container has the secret env value in its environment (read with the execution role, as ECS
        # does), and no process has it on its command line (`ps` shows those to every user).
        replicas = _runner_processes_with("API_KEY")
        assert replicas and all(p.environ()["API_KEY"] == ENV_SECRET for p in replicas)
        assert not [p.pid for p in psutil.process_iter() if ENV_SECRET in " ".join(_cmdline(p))]
        shown = local.request("GET", f"/api/models/{model_id}").body
        assert shown["env"] == {"LOG_LEVEL": "info", "API_KEY": {"secret": True}}
        token = local.request("POST", f"/api/models/{model_id}/clients", {"name": "svc"}).body["token"]
        url = f"{local.base_url}/api/predict"
        body = {"modelData": [{"carat": 0.3, "cut": "Ideal"}], "metaData": {"modelId": model_id}}
        good = "Basic " + base64.b64encode(f"svc:{token}".encode()).decode()
        wrong = "Basic " + base64.b64encode(f"svc:{token}-wrong".encode()).decode()
        answers = [
            requests.post(url, json=body, headers={"Authorization": auth}, timeout=30)
            for auth in (good, wrong, f"Bearer {token}", f"Bearer {local.token}x", "Bearer not-a-token")
        ]
        assert [a.status_code for a in answers] == [200, 401, 200, 401, 401]
        unknown = requests.get(f"{local.base_url}/api/nowhere", headers=local.auth, timeout=30)
        assert unknown.status_code == 404
        with pytest.raises(urllib.error.HTTPError):
            local.sign_in(password=WRONG_PASSWORD)
        wait_for(
            lambda: len(local.request("GET", f"/api/models/{model_id}/requests").body["items"]) >= 5,
            15,
            "the predictions in the history",
        )
        seen = [answer.text for answer in [*answers, unknown]]
        seen.append(json.dumps(local.request("GET", f"/api/models/{model_id}/requests?limit=200").body))
        seen.append(json.dumps(local.request("GET", f"/api/models/{model_id}/container-logs?limit=1000").body))
        seen.append(json.dumps(local.request("GET", f"/api/models/{model_id}/logs?limit=100").body))
        seen.append(json.dumps(shown))
        secrets = {
            "password": ADMIN_PASSWORD,
            "wrong password": WRONG_PASSWORD,
            "client token": token,
            "access token": local.token,
            "secret env value": ENV_SECRET,
        }
    finally:
        local.stop()
    seen.append(local.output.read_text())
    for what, secret in secrets.items():
        secret_part = secret.split(".")[-1]  # a token's signature or random part is what must not leak
        assert not any(secret_part in text for text in seen), f"the {what} appears in output"


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
        return []
