"""Local mode driven through its API the way a user would: start it, sign in, upload, start and time models."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.bench.harness import HOST, REPO, free_port, stop, wait_http_ok

MODEL_SETTINGS = {
    "version": "1",
    "artifactFormat": "joblib",
    "containerPort": 8080,
    "containerCpu": 0.5,
    "containerMemory": 1,
}
NOT_YET = (409, 502, 503, 504)  # what predictions answer while a model is still starting


def needs_project_env(command: str) -> bool:
    """True (after saying why) unless this interpreter is the project's .venv, which local mode needs."""
    try:
        import chalice  # noqa: F401
        import moto  # noqa: F401
        import requests  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError:
        print(f"run this with the project environment: .venv/bin/python -m scripts.bench {command}", file=sys.stderr)
        return True
    return False


# The admin's password in local mode: chosen here, handed over in KRAKEN_ADMIN_PASSWORD, never printed.
ADMIN_PASSWORD = "bench-" + secrets.token_urlsafe(18)


ANONYMOUS: dict[str, Any] = {"headers": {"Authorization": None}}  # requests drops a session header set to None


class Api:
    """The kraken API under `base` (…/api) over one keep-alive session, signed in as local mode's admin."""

    def __init__(self, port: int, pid: int | None = None) -> None:
        import requests

        self.port = port
        self.pid = pid  # local mode's process, when the benchmark started it
        self.base = f"http://{HOST}:{port}/api"
        self.session = requests.Session()
        self.sign_in()

    def sign_in(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
        """Sign in as the console does; every later call on the session carries the access token.
        Neither the password nor the token is ever printed."""
        from local.signin import sign_in

        try:
            token = sign_in(f"http://{HOST}:{self.port}", username, password)
        except urllib.error.HTTPError as error:
            raise SystemExit(f"signing in as {username} failed: HTTP {error.code}") from None
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, payload: Any = None, expect: tuple[int, ...] = (200,)) -> Any:
        response = self.session.request(method, self.base + path, json=payload, timeout=30)
        if response.status_code not in expect:
            raise SystemExit(f"{method} {path}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    def create_model(self, name: str, artifact: Path, visibility: str = "public") -> str:
        """A new model with `artifact` uploaded through the presigned POST the API hands out.

        Public by default: its predictions need no credentials, so what is timed is the gateway itself."""
        spec = {"name": name, **MODEL_SETTINGS, "endpointVisibility": visibility}
        model_id = str(self.call("POST", "/models", spec, expect=(201,))["id"])
        ticket = self.call("POST", f"/models/{model_id}/artifact", {})
        with artifact.open("rb") as file:
            # The presigned POST goes to S3 (the emulator), which must not be sent the API's token.
            upload = self.session.post(
                ticket["url"], data=ticket["fields"], files={"file": (artifact.name, file)}, timeout=60, **ANONYMOUS
            )
        if upload.status_code >= 300:
            raise SystemExit(f"artifact upload: HTTP {upload.status_code}: {upload.text[:300]}")
        return model_id

    def add_version(self, model_id: str, artifact: Path, notes: str = "bench") -> int:
        """A new version of the model with `artifact` uploaded (the same file again is a version all the same)."""
        number = int(self.call("POST", f"/models/{model_id}/versions", {"notes": notes}, expect=(201,))["number"])
        ticket = self.call("POST", f"/models/{model_id}/versions/{number}/artifact", {})
        with artifact.open("rb") as file:
            upload = self.session.post(
                ticket["url"], data=ticket["fields"], files={"file": (artifact.name, file)}, timeout=60, **ANONYMOUS
            )
        if upload.status_code >= 300:
            raise SystemExit(f"artifact upload: HTTP {upload.status_code}: {upload.text[:300]}")
        return number

    def deploy(self, model_id: str, versions: list[dict[str, Any]], message: str) -> dict[str, Any]:
        """PUT the model's whole deployment (If-Match its current revision); the model as the 202 shows it."""
        revision = self.call("GET", f"/models/{model_id}")["revision"]
        response = self.session.put(
            f"{self.base}/models/{model_id}/deployment",
            json={"versions": versions, "message": message},
            headers={"If-Match": f'"{revision}"'},
            timeout=30,
        )
        if response.status_code != 202:
            raise SystemExit(f"deployment change: HTTP {response.status_code}: {response.text[:300]}")
        return dict(response.json())

    def create_client(self, model_id: str, name: str = "bench") -> dict[str, str]:
        """A client token for a private model's endpoint, as the Basic Authorization header that carries it."""
        token = str(self.call("POST", f"/models/{model_id}/clients", {"name": name}, expect=(201,))["token"])
        return {"Authorization": "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()}

    def predict_status(self, body: dict[str, Any]) -> int:
        # No credentials: the models these polls ask are public.
        return int(self.session.post(self.base + "/predict", json=body, timeout=30, **ANONYMOUS).status_code)

    def wait_status(self, model_id: str, wanted: str, timeout: float = 120) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.call("GET", f"/models/{model_id}")["status"] == wanted:
                return time.monotonic() - started
            time.sleep(0.02)
        raise SystemExit(f"model {model_id} not {wanted} after {timeout:.0f} s")

    def runner_records(self, model_id: str, since: float = 0.0) -> list[dict[str, Any]]:
        """The runner's JSON log lines (its own `time` on or after `since`), from the container logs."""
        page = self.call("GET", f"/models/{model_id}/container-logs?limit=200")
        records = []
        for item in page["items"]:
            try:
                record = json.loads(item["message"])
            except ValueError:
                continue
            if isinstance(record, dict) and float(record.get("time", 0)) >= since:
                records.append(record)
        return records

    def runner_record(self, model_id: str, message: str, since: float = 0.0, timeout: float = 10) -> dict[str, Any]:
        """Waits for one runner log line: local mode ships container output every half second."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.runner_records(model_id, since) if r.get("message") == message]
            if found:
                return min(found, key=lambda record: float(record["time"]))
            if time.monotonic() > deadline:
                raise SystemExit(f"no {message!r} line in model {model_id}'s container logs after {timeout:.0f} s")
            time.sleep(0.1)


@contextlib.contextmanager
def local_mode(work: Path, runtime: str | None = None, keep_state: bool = True) -> Iterator[Api]:
    """`python -m local` on a free port, as ./scripts/local.sh runs it; SIGTERM (and a group kill) at the end.

    `runtime` is local mode's KRAKEN_LOCAL_RUNTIME (container or process); unset, it picks (auto). Without
    `keep_state`, KRAKEN_DATA_DIR is empty: local mode keeps nothing, so it never saves its state."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    env.update({"PYTHONPATH": str(REPO / "backend"), "KRAKEN_PORT": str(port), "KRAKEN_ADMIN_PASSWORD": ADMIN_PASSWORD})
    if runtime:
        env["KRAKEN_LOCAL_RUNTIME"] = runtime
    # A fresh state in the benchmark's own directory, one per local mode run side by side.
    env["KRAKEN_DATA_DIR"] = str(work / (f"local-data-{runtime}" if runtime else "local-data")) if keep_state else ""
    log_path = work / (f"local-mode-{runtime}.log" if runtime else "local-mode.log")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "local"], cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:
        wait_http_ok(f"http://{HOST}:{port}/api/health", proc, 120, log_path)
        yield Api(port, proc.pid)
    finally:
        stop(proc, leader_first=True)


def prediction_body(model_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"modelData": rows, "metaData": {"modelId": model_id}}


@dataclass
class StartTiming:
    accepted: float  # POST start answered 202
    listening: float  # the runner's "runner listening" line
    loaded: float  # the runner's "model loaded" line
    download: float  # the runner's own downloadSeconds (boto3 import, S3 GET)
    unpickle: float  # the runner's own loadSeconds (joblib.load, which imports scikit-learn)
    first_prediction: float  # the first 200 from POST /api/predict
    not_yet: int  # predictions answered 409/5xx before that


def time_start(api: Api, model_id: str, body: dict[str, Any], poll: float, timeout: float = 180) -> StartTiming:
    """Seconds from POST /models/{id}/start to the first 200 from POST /predict, polling every `poll` s."""
    wall, started = time.time(), time.monotonic()
    api.call("POST", f"/models/{model_id}/start", expect=(202,))
    accepted = time.monotonic() - started
    not_yet = 0
    while (status := api.predict_status(body)) != 200:
        if status not in NOT_YET:
            raise SystemExit(f"a prediction while model {model_id} was starting answered HTTP {status}")
        if time.monotonic() - started > timeout:
            raise SystemExit(f"model {model_id} did not answer a prediction within {timeout:.0f} s of its start")
        not_yet += 1
        time.sleep(poll)
    first = time.monotonic() - started
    listening = float(api.runner_record(model_id, "runner listening", wall)["time"]) - wall
    loaded = api.runner_record(model_id, "model loaded", wall)
    return StartTiming(
        accepted,
        listening,
        float(loaded["time"]) - wall,
        float(loaded["downloadSeconds"]),
        float(loaded["loadSeconds"]),
        first,
        not_yet,
    )


def time_stop(api: Api, model_id: str) -> float:
    started = time.monotonic()
    api.call("POST", f"/models/{model_id}/stop", expect=(202,))
    api.wait_status(model_id, "STOPPED")
    return time.monotonic() - started


def start_model(api: Api, name: str, artifact: Path, rows: list[dict[str, Any]]) -> str:
    """A new public model, uploaded, started and answering predictions."""
    model_id = api.create_model(name, artifact)
    time_start(api, model_id, prediction_body(model_id, rows), 0.05)
    return model_id


def start_private_model(api: Api, name: str, artifact: Path, rows: list[dict[str, Any]]) -> tuple[str, dict[str, str]]:
    """A new private model, started, with a client token; its id and the Authorization header that carries it."""
    model_id = api.create_model(name, artifact, visibility="private")
    credentials = api.create_client(model_id)
    api.call("POST", f"/models/{model_id}/start", expect=(202,))
    url, body = f"{api.base}/models/{model_id}/predict", prediction_body(model_id, rows)
    deadline = time.monotonic() + 180
    while (status := api.session.post(url, json=body, headers=credentials, timeout=30).status_code) != 200:
        if status not in NOT_YET or time.monotonic() > deadline:
            raise SystemExit(f"private model {model_id}, asked with its client token, answered HTTP {status}")
        time.sleep(0.05)
    return model_id, credentials
