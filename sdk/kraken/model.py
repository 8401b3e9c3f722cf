"""A model and its versions, deployment, replays, shadows, rollouts, predictions, history, metrics, logs and client
tokens."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from kraken import upload
from kraken.display import cell, html_table, pandas
from kraken.errors import KrakenError, ModelFailed, Timeout
from kraken.rollouts import (
    DEFAULT_STEPS,
    Replay,
    ReplayList,
    Rollout,
    ShadowResult,
    ShadowResultList,
    comparison_rule,
    deployment_lines,
    replay_body,
    rollout_body,
    shadow_lines,
)
from kraken.transport import PREDICT_TIMEOUT_SECONDS, Transport

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_WAIT_SECONDS = 300
# Polling starts fast (a local model starts in a second or two) and backs off to this, so a long wait stays cheap.
MAX_POLL_SECONDS = 5.0
# Traffic weights by version: {2: 90, 3: 10}, {"2": 90, "3": 10} or ["2=90", "3=10"].
Weights = Mapping[int, int] | Mapping[str, int] | Sequence[str]
MODEL_COLUMNS = ["name", "id", "status", "deployment", "statusReason"]
VERSION_COLUMNS = ["number", "status", "serving", "artifactFormat", "artifact", "notes", "createdBy", "createdAt"]


def parse_weights(pairs: Weights) -> dict[int, int]:
    """Traffic weights by version, from `{"2": 90, 3: 10}` or `["2=90", "3=10"]`; numbers checked, not the sum."""
    items: list[tuple[Any, Any]]
    if isinstance(pairs, Mapping):
        items = list(pairs.items())
    else:
        items = []
        for pair in pairs:
            version, separator, weight = str(pair).partition("=")
            if not separator:
                raise ValueError(f"{pair!r}: give VERSION=WEIGHT, such as 2=90")
            items.append((version, weight))
    weights: dict[int, int] = {}
    for version, weight in items:
        try:
            number, share = int(str(version).strip()), int(str(weight).strip())
        except ValueError:
            raise ValueError(f"{version}={weight}: versions and weights are whole numbers, such as 2=90") from None
        if number < 1 or not 0 <= share <= 100:
            raise ValueError(f"{version}={weight}: a version is 1 or more, a weight 0..100")
        if number in weights:
            raise ValueError(f"version {number} is given twice")
        weights[number] = share
    if not weights:
        raise ValueError("give at least one VERSION=WEIGHT")
    return weights


def split_traffic(current: Mapping[int, int], new_version: int, share: int) -> dict[int, int]:
    """Weights giving `new_version` `share` % and the versions serving now the rest, in their proportions.

    Integer weights summing to 100: the remainders go to the largest fractions first (ties to the older version).
    """
    if not 0 <= share <= 100:
        raise ValueError(f"a share is 0..100, not {share}")
    serving = {v: w for v, w in current.items() if w > 0 and v != new_version}
    if share == 100 or not serving:
        return {new_version: 100}
    rest, total = 100 - share, sum(serving.values())
    exact = {v: w * rest / total for v, w in serving.items()}
    weights = {v: int(x) for v, x in exact.items()}
    by_fraction = sorted(serving, key=lambda v: (-(exact[v] - weights[v]), v))
    for version in by_fraction[: rest - sum(weights.values())]:
        weights[version] += 1
    return {**dict(sorted(weights.items())), new_version: share}


def weighted_lines(
    deployment: Sequence[Mapping[str, Any]], weights: Mapping[int, int], replicas: Mapping[int, int] | None = None
) -> list[dict[str, Any]]:
    """The deployment `weights` asks for. A version deployed now keeps every setting of its line (size,
    replicas, autoscaling, spot; a shadow only while it stays at weight 0: traffic makes it serve), a new one
    takes the model's size and one replica; `replicas` overrides the count of the versions it names."""
    current = {line["version"]: line for line in deployment_lines(deployment)}
    lines = []
    for version, weight in weights.items():
        line = {**current.get(version, {"version": version, "replicas": 1}), "weight": weight}
        if replicas and version in replicas:
            line["replicas"] = replicas[version]
        if weight > 0:
            line.pop("shadow", None)
        lines.append(line)
    return lines


def describe_deployment(lines: Sequence[Mapping[str, Any]]) -> str:
    """`v2 90%, v3 10%`: a deployment (or a history entry's spec) in a few characters."""
    return ", ".join(f"v{line.get('version')} {line.get('weight')}%" for line in lines)


def _spec_key(lines: Sequence[Mapping[str, Any]]) -> set[tuple[Any, Any, Any]]:
    return {(line.get("version"), line.get("weight"), line.get("replicas")) for line in lines}


def previous_entry(entries: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The newest history entry (newest first) whose spec differs from the current one: what a rollback restores."""
    if not entries:
        return None
    current = _spec_key(entries[0].get("spec") or [])
    return next((e for e in entries[1:] if _spec_key(e.get("spec") or []) != current), None)


def to_model_data(data: Any) -> Any:
    """The `modelData` for the standard runner: a DataFrame as records, an array as rows, anything else as it is."""
    if hasattr(data, "to_json") and hasattr(data, "columns"):  # a pandas DataFrame, without importing pandas
        # to_json turns numpy scalars, NaN (null) and timestamps (ISO strings) into JSON the runner reads back.
        return json.loads(data.to_json(orient="records", date_format="iso"))
    if hasattr(data, "tolist"):  # a numpy array
        return data.tolist()
    return data


def from_results(answer: Any, given: Any) -> Any:
    """The runner's `{"results": [...]}` as numpy (or pandas, indexed like a given DataFrame) when they are here."""
    if not isinstance(answer, dict) or set(answer) != {"results"}:
        return answer  # a custom container's own answer: returned unchanged
    results = answer["results"]
    if hasattr(given, "columns") and hasattr(given, "index") and isinstance(results, list):
        pd = pandas()
        if len(results) == len(given.index):
            if results and isinstance(results[0], dict | list):  # several outputs per row: predict_proba's, say
                return pd.DataFrame(results, index=given.index)
            return pd.Series(results, index=given.index, name="prediction")
    try:
        import numpy as np
    except ImportError:  # numpy is optional
        return results
    if isinstance(results, list) and results and isinstance(results[0], dict):
        return results  # per-output objects (ONNX's outputs by name) are not one array
    return np.asarray(results)


class Version:
    """One version of a model: its code settings, artifact, notes, and whether it serves."""

    def __init__(self, model: Model, record: dict[str, Any]) -> None:
        self.model = model
        self.record = record

    @property
    def number(self) -> int:
        return int(self.record["number"])

    @property
    def status(self) -> str:
        return str(self.record.get("status"))

    @property
    def serving(self) -> bool:
        """Whether it is in the deployment or still gets traffic."""
        return bool(self.record.get("serving"))

    @property
    def notes(self) -> str:
        return str(self.record.get("notes") or "")

    def __repr__(self) -> str:
        return f"<Version {self.model.name} v{self.number} {self.status}{' serving' if self.serving else ''}>"

    def _repr_html_(self) -> str:
        return html_table([_version_row(self.record)], VERSION_COLUMNS, f"{self.model.name} v{self.number}")


def _version_row(record: Mapping[str, Any]) -> dict[str, Any]:
    artifact = record.get("artifact")
    size = f"{artifact['size']} bytes" if isinstance(artifact, dict) and "size" in artifact else "none"
    return {**record, "artifact": size}


class VersionList(list[Version]):
    """A model's versions, newest first; shown as a table in Jupyter."""

    def _repr_html_(self) -> str:
        title = f"{self[0].model.name}: {len(self)} versions" if self else "no versions"
        return html_table([_version_row(v.record) for v in self], VERSION_COLUMNS, title)


class ClientToken:
    """A client token just created: `token` is shown this once (the server keeps only a salted hash)."""

    def __init__(self, name: str, token: str, created_at: str) -> None:
        self.name = name
        self.token = token
        self.created_at = created_at

    def __repr__(self) -> str:  # the token stays out of logs and tracebacks; read .token to use it
        return f"<ClientToken {self.name} created {self.created_at}: read .token (shown once)>"


class Clients:
    """A model's client tokens, for programs calling its private endpoint (admin only)."""

    def __init__(self, model: Model) -> None:
        self.model = model

    def create(self, name: str) -> ClientToken:
        body = self.model.transport.json("POST", f"/models/{self.model.id}/clients", body={"name": name})
        return ClientToken(body["name"], body["token"], body["createdAt"])

    def list(self) -> list[dict[str, Any]]:
        return list(self.model.transport.json("GET", f"/models/{self.model.id}/clients")["items"])

    def revoke(self, name: str) -> None:
        self.model.transport.request("DELETE", f"/models/{self.model.id}/clients/{name}")


def _pages(transport: Transport, path: str, params: dict[str, Any], limit: int | None) -> list[dict[str, Any]]:
    """Every item of a paged list (or the first `limit`), following nextToken."""
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page = transport.json("GET", path, params={**params, "nextToken": token})
        items.extend(page["items"])
        token = page.get("nextToken")
        if not token or (limit is not None and len(items) >= limit):
            return items[:limit] if limit is not None else items


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


class Model:
    """A model of the registry, as last read (`reload()` reads it again); methods act on the server."""

    def __init__(self, transport: Transport, record: dict[str, Any]) -> None:
        self.transport = transport
        self.record = record
        self.clients = Clients(self)

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def name(self) -> str:
        return str(self.record["name"])

    @property
    def status(self) -> str:
        return str(self.record["status"])

    @property
    def status_reason(self) -> str | None:
        reason = self.record.get("statusReason")
        return str(reason) if reason is not None else None

    @property
    def revision(self) -> int:
        return int(self.record["revision"])

    @property
    def latest_version(self) -> int:
        """The newest version's number (0 before the first)."""
        return max((int(v["number"]) for v in self.record.get("versions") or []), default=0)

    @property
    def deployment(self) -> list[dict[str, Any]]:
        return list(self.record.get("deployment") or [])

    def __repr__(self) -> str:
        return f"<Model {self.name} {self.status} [{describe_deployment(self.deployment)}] id={self.id}>"

    def _repr_html_(self) -> str:
        return html_table([model_row(self.record)], MODEL_COLUMNS, f"model {self.name}")

    def _set(self, record: dict[str, Any]) -> Model:
        self.record = record
        return self

    def reload(self) -> Model:
        return self._set(self.transport.json("GET", f"/models/{self.id}"))

    # Lifecycle

    def start(self) -> Model:
        return self._set(self.transport.json("POST", f"/models/{self.id}/start", body={}))

    def stop(self) -> Model:
        return self._set(self.transport.json("POST", f"/models/{self.id}/stop", body={}))

    def delete(self, force: bool = False) -> None:
        """Deletes the model, its versions, files and logs; a model still running needs `force=True`."""
        self.transport.request("DELETE", f"/models/{self.id}", params={"force": "true" if force else None})

    def wait(self, status: str = "RUNNING", timeout: float = DEFAULT_WAIT_SECONDS) -> Model:
        """Polls until the model is `status`; ModelFailed (with statusReason) if it fails instead, else Timeout."""
        return self._poll(lambda: self.status == status, f"to be {status}", timeout, fail_on_failed=status != "FAILED")

    def wait_deployed(self, timeout: float = DEFAULT_WAIT_SECONDS, also: Sequence[int] = ()) -> Model:
        """Polls until the model runs and every version of its deployment with a weight serves it
        (and the versions in `also` run, such as a candidate at weight 0); ModelFailed if one fails.
        """

        def switched() -> bool:
            wanted = [line for line in self.deployment if line.get("weight") or line.get("version") in also]
            for line in wanted:
                if line.get("status") == "FAILED":
                    reason = line.get("statusReason") or "no reason given"
                    raise ModelFailed(f"{self.name} version {line['version']} FAILED: {reason}", code="model_failed")
            ready = all(line.get("status") == "RUNNING" and line["servingWeight"] == line["weight"] for line in wanted)
            return self.status == "RUNNING" and ready

        return self._poll(switched, f"to serve {describe_deployment(self.deployment)}", timeout, fail_on_failed=True)

    def _poll(self, done: Any, wanted: str, timeout: float, fail_on_failed: bool) -> Model:
        deadline = time.monotonic() + timeout
        interval = 0.25
        while True:
            self.reload()
            if done():
                return self
            if fail_on_failed and self.status == "FAILED":
                raise ModelFailed(f"{self.name} FAILED: {self.status_reason or 'no reason given'}", code="model_failed")
            if time.monotonic() >= deadline:
                raise Timeout(
                    f"waited {timeout:g} s for {self.name} {wanted}; it is {self.status}"
                    + (f" ({self.status_reason})" if self.status_reason else "")
                )
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            interval = min(interval * 1.5, MAX_POLL_SECONDS)

    # Versions and deployments

    def versions(self) -> VersionList:
        items = self.transport.json("GET", f"/models/{self.id}/versions")["items"]
        return VersionList(Version(self, item) for item in items)

    def version(self, number: int) -> Version:
        return Version(self, self.transport.json("GET", f"/models/{self.id}/versions/{number}"))

    def create_version(self, notes: str = "", **code_settings: Any) -> Version:
        """A new version (its code settings default to the model's); upload its file with `upload(path, version)`."""
        body = {"notes": notes, **code_settings}
        return Version(self, self.transport.json("POST", f"/models/{self.id}/versions", body=body))

    def upload(self, path: str | Path, version: int | None = None, progress: bool = True) -> Model:
        """Uploads a file as `version`'s artifact (without it: the simple path, which deploys it while stopped)."""
        where = f"/models/{self.id}/versions/{version}/artifact" if version else f"/models/{self.id}/artifact"
        ticket = self.transport.json("POST", where, body={})
        upload.presigned_post(self.transport.http, ticket, Path(path), progress=progress)
        return self.reload()

    def deploy(
        self,
        weights: Weights,
        message: str = "",
        replicas: Mapping[int, int] | None = None,
        wait: bool = False,
        timeout: float = DEFAULT_WAIT_SECONDS,
    ) -> Model:
        """Makes `weights` (`{"2": 90, "3": 10}`) the deployment; a started model switches to it.

        Versions deployed now keep their line's settings (size, replicas, autoscaling, spot, a shadow at
        weight 0); new ones get one replica of the model's size; `replicas` sets counts by version. The
        change is conditional (If-Match) on the revision read just before it, so a concurrent change in
        between gives Conflict instead of being overwritten.
        """
        parsed = parse_weights(weights)
        self.reload()
        self._put_deployment(weighted_lines(self.deployment, parsed, replicas), message)
        return self.wait_deployed(timeout) if wait and self.status != "STOPPED" else self

    def _put_deployment(self, lines: list[dict[str, Any]], message: str) -> Model:
        """The deployment change, conditional (If-Match) on the revision of the record as last read."""
        record = self.transport.json(
            "PUT",
            f"/models/{self.id}/deployment",
            body={"versions": lines, "message": message},
            headers={"If-Match": f'"{self.revision}"'},
        )
        return self._set(record)

    def history(self, limit: int | None = None) -> pd.DataFrame:
        """Every deployment change, start, stop and rollback, newest first."""
        rows = [
            {**entry, "deployment": describe_deployment(entry.get("spec") or [])}
            for entry in self.history_entries(limit)
        ]
        frame = pandas().DataFrame(rows, columns=["entryId", "at", "actor", "action", "message", "deployment", "spec"])
        frame["at"] = pandas().to_datetime(frame["at"], utc=True)
        return frame

    def history_entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The deployment history as the API gives it (newest first), all of it or the first `limit` entries."""
        return _pages(self.transport, f"/models/{self.id}/history", {"limit": min(limit or 100, 100)}, limit)

    def rollback(
        self, entry_id: str | None = None, message: str = "", wait: bool = False, timeout: float = DEFAULT_WAIT_SECONDS
    ) -> Model:
        """Restores a history entry's deployment exactly; by default the last one that differs from the current."""
        if entry_id is None:
            entry = previous_entry(self.history_entries())
            if entry is None:
                raise KrakenError(f"{self.name} has no earlier deployment to roll back to")
            entry_id = str(entry["entryId"])
        self.reload()
        record = self.transport.json(
            "POST",
            f"/models/{self.id}/rollback",
            body={"entryId": entry_id, "message": message},
            headers={"If-Match": f'"{self.revision}"'},
        )
        self._set(record)
        return self.wait_deployed(timeout) if wait and self.status != "STOPPED" else self

    # Checking a candidate: replays, shadow traffic, progressive rollouts

    def replay(
        self,
        version: int,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        status: str | None = "2xx",
        limit: int = 500,
        rule: str | Mapping[str, Any] | None = None,
        absolute: float | None = None,
        relative: float | None = None,
        rate: int = 20,
        wait: bool = True,
        timeout: float | None = None,
        progress: bool = True,
    ) -> Replay:
        """Sends captured requests (the last day's unless `start`/`end`; `status` a code, a class such as `2xx`,
        or None for all; at most `limit`) to `version` at `rate` per second and compares its answers with
        those the serving version gave: exactly, or numbers within `absolute` + `relative` x the larger.

        The model must be RUNNING; a version not deployed is added at weight 0 for the replay. With `wait`,
        polls with a progress bar until it ends (ReplayFailed with its statusReason if it FAILED).
        """
        body = replay_body(
            version,
            start=_iso(start) if isinstance(start, datetime) else start,
            end=_iso(end) if isinstance(end, datetime) else end,
            status=status,
            limit=limit,
            rule=comparison_rule(rule, absolute, relative),
            rate=rate,
        )
        replay = Replay(self, self.transport.json("POST", f"/models/{self.id}/replays", body=body))
        return replay.wait(timeout, progress) if wait else replay

    def replays(self, limit: int | None = None) -> ReplayList:
        """The model's replays, newest first (all, or the first `limit`)."""
        items = _pages(self.transport, f"/models/{self.id}/replays", {"limit": min(limit or 100, 100)}, limit)
        return ReplayList(Replay(self, item) for item in items)

    def shadow(
        self,
        version: int,
        percent: int,
        rule: str | Mapping[str, Any] | None = None,
        *,
        absolute: float | None = None,
        relative: float | None = None,
        message: str = "",
        wait: bool = False,
        timeout: float = DEFAULT_WAIT_SECONDS,
    ) -> Model:
        """Makes `version` a shadow (weight 0): `percent` % of the live requests are also sent to it, its answers
        reach no caller and are compared with the serving version's (see `shadow_results()`). 0 ends it (the
        version stays at weight 0). Every other line of the deployment is kept as it is; the change is
        conditional (If-Match) like `deploy`'s. The model needs captureBodyBytes above 0.
        """
        self.reload()
        lines = shadow_lines(self.deployment, version, percent, comparison_rule(rule, absolute, relative))
        said = message or (f"shadow version {version} at {percent}%" if percent else f"version {version} unshadowed")
        self._put_deployment(lines, said)
        return self.wait_deployed(timeout, also=[version]) if wait and self.status != "STOPPED" else self

    def shadow_results(self) -> ShadowResultList:
        """Each shadow version's comparisons since it became a shadow: counts, match rate, latency, differences."""
        items = self.transport.json("GET", f"/models/{self.id}/shadow")["items"]
        return ShadowResultList(ShadowResult(self, item) for item in items)

    def rollout(
        self,
        version: int,
        steps: Sequence[int] = DEFAULT_STEPS,
        bake_seconds: int = 300,
        message: str = "",
        wait: bool = False,
        timeout: float | None = None,
        progress: bool = True,
        **guardrails: Any,
    ) -> Rollout:
        """Starts a progressive rollout of `version`: its weight goes through `steps`, each held `bake_seconds`
        while the guardrails hold (`max_5xx_rate`, `max_4xx_increase`, `max_p99_ratio`, `min_match_rate`,
        `min_requests`; those left out take the server's defaults); a breach rolls it back to the version
        that has all the traffic now. With `wait`, returns once it ended, however it ended (read `.status`).
        """
        body = rollout_body(version, steps, bake_seconds, message, guardrails)
        rollout = Rollout(self, self.transport.json("POST", f"/models/{self.id}/rollout", body=body))
        return rollout.wait(timeout, progress) if wait else rollout

    def current_rollout(self) -> Rollout:
        """The model's latest rollout (running or ended); NotFound if it never had one."""
        return Rollout(self, self.transport.json("GET", f"/models/{self.id}/rollout"))

    # Predictions and what they left behind

    def predict(self, data: Any, version: int | None = None, method: str | None = None) -> Any:
        """Scores `data` (a DataFrame, an array, a list of rows or records): numpy or pandas back, when available.

        `version` pins one version; `method` asks the runner for predict_proba, decision_function or transform.
        """
        meta: dict[str, Any] = {"modelId": self.id}
        if version is not None:
            meta["version"] = version
        if method is not None:
            meta["method"] = method
        answer = self.predict_raw({"modelData": to_model_data(data), "metaData": meta})
        return from_results(answer, data)

    def predict_raw(self, body: Any) -> Any:
        """Sends a prediction body as it is and returns the container's JSON as it is."""
        return self.transport.json("POST", f"/models/{self.id}/predict", body=body, timeout=PREDICT_TIMEOUT_SECONDS)

    def requests(
        self,
        limit: int | None = 200,
        status: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """The prediction history (last day unless `start`/`end`), newest first; `status` is `404` or `5xx`."""
        params = {"status": status, "from": _iso(start), "to": _iso(end), "limit": min(limit or 200, 200)}
        rows = _pages(self.transport, f"/models/{self.id}/requests", params, limit)
        columns = [
            "time",
            "requestId",
            "modelVersion",
            "status",
            "latencyMs",
            "containerMs",
            "caller",
            "requestBytes",
            "responseBytes",
            "requestBody",
            "responseBody",
        ]
        frame = pandas().DataFrame(rows, columns=columns)
        frame["time"] = pandas().to_datetime(frame["time"], utc=True)
        return frame

    def metrics(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        period: int = 60,
        version: int | None = None,
    ) -> pd.DataFrame:
        """Per-period series (latency avg/p50/p90/p99, requests, 4xx, 5xx, success rate), indexed by time."""
        params = {"from": _iso(start), "to": _iso(end), "period": period, "version": version}
        body = self.transport.json("GET", f"/models/{self.id}/metrics", params=params)
        pd = pandas()
        index = pd.DatetimeIndex(pd.to_datetime(body["timestamps"], utc=True), name="time")
        return pd.DataFrame(body["series"], index=index)

    def operations(self, limit: int | None = 100) -> pd.DataFrame:
        """The operations log, newest first: who did what, each status change, with reasons."""
        rows = _pages(self.transport, f"/models/{self.id}/logs", {"limit": min(limit or 100, 100)}, limit)
        columns = ["at", "actor", "action", "fromStatus", "toStatus", "result", "reason"]
        frame = pandas().DataFrame(rows, columns=columns)
        frame["at"] = pandas().to_datetime(frame["at"], utc=True)
        return frame

    @overload
    def logs(
        self, follow: Literal[False] = False, limit: int = 200, interval: float = 2.0, seconds: float | None = None
    ) -> list[dict[str, Any]]: ...

    @overload
    def logs(
        self, follow: Literal[True], limit: int = 200, interval: float = 2.0, seconds: float | None = None
    ) -> Iterator[dict[str, Any]]: ...

    def logs(
        self, follow: bool = False, limit: int = 200, interval: float = 2.0, seconds: float | None = None
    ) -> list[dict[str, Any]] | Iterator[dict[str, Any]]:
        """What the model's containers printed, oldest first: the last `limit` lines, or with `follow` an
        iterator that yields new lines as they come (polling every `interval` s, 1..30) for `seconds` or forever.
        """
        latest = self._log_lines(None, limit)
        if not follow:
            return latest
        return self._follow(latest, min(max(interval, 1.0), 30.0), seconds)

    def _log_lines(self, since: str | None, limit: int) -> list[dict[str, Any]]:
        params = {"from": since, "limit": min(limit, 1000)}
        lines = _pages(self.transport, f"/models/{self.id}/container-logs", params, limit)
        return list(reversed(lines))  # the API answers latest first; a person reads oldest first

    def _follow(self, first: list[dict[str, Any]], interval: float, seconds: float | None) -> Iterator[dict[str, Any]]:
        deadline = time.monotonic() + seconds if seconds is not None else None
        seen: set[tuple[str, str, str]] = set()
        since = None
        lines = first
        while True:
            for line in lines:
                key = (line["time"], line.get("stream", ""), line["message"])
                if key not in seen:
                    seen.add(key)
                    yield line
            if lines:
                # Lines of the newest instant are asked again (from is inclusive), so none is missed; `seen` drops them.
                since = lines[-1]["time"]
                seen = {k for k in seen if k[0] >= since}
            if deadline is not None and time.monotonic() + interval > deadline:
                return
            time.sleep(interval)
            lines = self._log_lines(since or _iso(datetime.now(UTC) - timedelta(minutes=1)), 1000)


def model_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """A model record as one table row."""
    return {**record, "deployment": describe_deployment(record.get("deployment") or [])}


class ModelList(list[Model]):
    """Models, newest first; shown as a table in Jupyter."""

    def _repr_html_(self) -> str:
        return html_table([model_row(m.record) for m in self], MODEL_COLUMNS, f"{len(self)} models")

    def __repr__(self) -> str:
        return "[" + ", ".join(cell(m.name) for m in self) + "]"
