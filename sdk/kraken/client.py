"""The connection to one Kraken: signing in (`connect`), the model registry, and deploying in one call."""

from __future__ import annotations

import getpass
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import requests

from kraken import auth
from kraken.errors import NotFound, NotSignedIn
from kraken.model import DEFAULT_WAIT_SECONDS, Model, ModelList, split_traffic
from kraken.transport import Transport

FORMAT_BY_SUFFIX = {".joblib": "joblib", ".pkl": "pickle", ".pickle": "pickle", ".onnx": "onnx", ".py": "python"}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def artifact_format(path: Path, given: str | None) -> str:
    """The artifact format: as given, else from the file's suffix."""
    if given:
        return given
    found = FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if found is None:
        known = ", ".join(sorted(FORMAT_BY_SUFFIX))
        raise ValueError(f"cannot tell the format of {path.name} from its suffix ({known}): give format=")
    return found


class Kraken:
    """A signed-in connection: `models()`, `model(name)`, `create_model(...)`, `deploy(obj, name=...)`."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @property
    def url(self) -> str:
        return self.transport.session.url

    @property
    def username(self) -> str:
        return self.transport.session.username

    @property
    def session(self) -> auth.Session:
        return self.transport.session

    def __repr__(self) -> str:
        return f"<Kraken {self.url} as {self.username}>"

    def me(self) -> dict[str, Any]:
        """`{"username", "groups", "role"}` of the signed-in user."""
        return dict(self.transport.json("GET", "/me"))

    def models(self, search: str | None = None, status: str | None = None) -> ModelList:
        """Every model (newest first), optionally those whose name contains `search` or that are `status`."""
        found = ModelList()
        token = None
        while True:
            params = {"limit": 100, "search": search, "status": status, "nextToken": token}
            page = self.transport.json("GET", "/models", params=params)
            found.extend(Model(self.transport, item) for item in page["items"])
            token = page.get("nextToken")
            if not token:
                return found

    def model(self, name_or_id: str) -> Model:
        """The model with this id or (unique) name; NotFound when there is none."""
        if _UUID.match(name_or_id):
            return Model(self.transport, self.transport.json("GET", f"/models/{name_or_id}"))
        found = self.find(name_or_id)
        if found is None:
            raise NotFound(f"no model named {name_or_id!r}", status=404, code="not_found")
        return found

    def find(self, name: str) -> Model | None:
        """The model named `name`, or None."""
        return next((m for m in self.models(search=name) if m.name == name), None)

    def create_model(
        self,
        name: str,
        *,
        artifact_format: str | None = "joblib",
        docker_image: str | None = None,
        version: str = "1",
        cpu: float = 0.5,
        memory: float = 1.0,
        **settings: Any,
    ) -> Model:
        """Registers a model (STOPPED); `settings` are any other fields of the API's record, in camelCase."""
        body: dict[str, Any] = {
            "name": name,
            "version": version,
            "containerCpu": cpu,
            "containerMemory": memory,
            **settings,
        }
        if docker_image:
            body["dockerImage"] = docker_image
        else:
            body["artifactFormat"] = artifact_format
        return Model(self.transport, self.transport.json("POST", "/models", body=body))

    def deploy(
        self,
        obj_or_path: Any,
        name: str,
        format: str | None = None,
        wait: bool = True,
        notes: str = "",
        timeout: float = DEFAULT_WAIT_SECONDS,
        progress: bool = True,
        cpu: float = 0.5,
        memory: float = 1.0,
        traffic: int = 100,
    ) -> Model:
        """Serializes (a Python object, with joblib) or takes a file, uploads it as a new version, serves it alone.

        A new name makes a new model; an existing one gets a new version, deployed at 100% through the
        same switch as any deployment change (no gap for callers), and is started if it was not running.
        `traffic` below 100 makes it a canary: it gets that share and the versions serving now keep the rest
        (0 deploys it beside them for pinned requests only: `predict(..., version=n)`). With `wait`, returns
        once that version serves; ModelFailed carries the statusReason otherwise.
        """
        if isinstance(obj_or_path, str | Path):
            path = Path(obj_or_path)
            return self._deploy_file(path, name, format, wait, notes, timeout, progress, cpu, memory, traffic)
        try:
            import joblib
        except ImportError as exc:
            raise ImportError("deploying a Python object needs joblib: pip install 'kraken[joblib]'") from exc
        with tempfile.TemporaryDirectory(prefix="kraken-") as scratch:
            path = Path(scratch) / f"{name}.joblib"
            joblib.dump(obj_or_path, path)
            return self._deploy_file(
                path, name, format or "joblib", wait, notes, timeout, progress, cpu, memory, traffic
            )

    def _deploy_file(
        self,
        path: Path,
        name: str,
        format: str | None,
        wait: bool,
        notes: str,
        timeout: float,
        progress: bool,
        cpu: float,
        memory: float,
        traffic: int,
    ) -> Model:
        fmt = artifact_format(path, format)
        model = self.find(name)
        if model is None:
            model = self.create_model(name, artifact_format=fmt, cpu=cpu, memory=memory, description=notes)
            model.upload(path, progress=progress)  # the simple path: version 1, deployed alone
            new_version = model.latest_version
        else:
            new_version = model.create_version(notes=notes or f"deployed from {path.name}", artifactFormat=fmt).number
            model.upload(path, new_version, progress=progress)
            serving = {int(line["version"]): int(line["weight"]) for line in model.deployment}
            weights = split_traffic(serving, new_version, traffic if model.status == "RUNNING" else 100)
            model.deploy(weights, message=notes or f"deploy version {new_version} ({weights[new_version]}%)")
        if model.status in ("STOPPED", "IDLE", "FAILED"):
            model.start()
        return model.wait_deployed(timeout, also=[new_version]) if wait else model


def _username(given: str | None, stored: auth.Session | None, settings: auth.StageSettings) -> str:
    name = given or os.environ.get("KRAKEN_USERNAME") or (stored.username if stored else None) or settings.local_user
    if name:
        return name
    if not os.isatty(0):
        raise NotSignedIn("no username: pass username= or set KRAKEN_USERNAME")
    return input("Kraken username: ").strip()


def connect(
    url: str | None = None,
    username: str | None = None,
    password: str | None = None,
    *,
    remember: bool = False,
) -> Kraken:
    """Signs in to the Kraken at `url` (default: $KRAKEN_URL, else the stored session's) and returns it.

    The password comes from `password`, else $KRAKEN_PASSWORD; without either, the session stored by
    `kraken login` is used (refreshed), else a prompt asks. `remember` stores the session (0600) for
    later connections and the CLI; a stored session in use is kept up to date either way.
    """
    stored = auth.load_session()
    base = (url or os.environ.get("KRAKEN_URL") or (stored.url if stored else "")).rstrip("/")
    if not base:
        raise NotSignedIn("no Kraken URL: pass one, set KRAKEN_URL, or run `kraken login URL`")
    if stored and stored.url != base:
        stored = None
    http = requests.Session()
    settings = auth.read_settings(http, base)
    name = _username(username, stored, settings)
    secret = password or os.environ.get("KRAKEN_PASSWORD")
    persist = remember
    if secret is None and stored is not None and stored.username == name:
        session = auth.refresh(http, settings, stored) if stored.expiring() else stored
        persist = True
    else:
        if secret is None:
            if not os.isatty(0):
                raise NotSignedIn("no password: pass password=, set KRAKEN_PASSWORD, or run `kraken login` first")
            secret = getpass.getpass(f"Password for {name} at {base}: ")
        session = auth.sign_in(http, settings, base, name, secret)
    if persist:
        auth.save_session(session)
    return Kraken(Transport(http, settings, session, persist=persist))
