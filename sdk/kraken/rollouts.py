"""Checking a candidate version before and while it takes traffic: replays, shadow traffic and progressive rollouts.

The request bodies are built by pure functions (tested without a server); `Replay`, `ShadowResult` and `Rollout`
wrap the API's records with properties, DataFrames, Jupyter tables and waits with a progress bar.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

# The text bar, not tqdm.auto: that one warns in every notebook without ipywidgets and shows the same.
from tqdm import tqdm

from kraken.display import cell, html_table, pandas
from kraken.errors import ReplayFailed, Timeout

if TYPE_CHECKING:
    import pandas as pd

    from kraken.model import Model

# Polling starts fast (a local replay ends in a second or two) and backs off to this.
MAX_POLL_SECONDS = 5.0
REPLAY_ENDED = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
ROLLOUT_ACTIVE = frozenset({"RUNNING", "PAUSED"})
DEFAULT_STEPS = (5, 25, 50, 100)
# The guardrails as keyword arguments (snake_case) and as the API names them.
GUARDRAILS = {
    "max_5xx_rate": "max5xxRate",
    "max_4xx_increase": "max4xxIncrease",
    "max_p99_ratio": "maxP99Ratio",
    "min_match_rate": "minMatchRate",
    "min_requests": "minRequests",
}
# What a deployment line carries that a deployment change takes back (the rest is status, shown only).
_LINE_FIELDS = ("version", "weight", "replicas", "containerCpu", "containerMemory", "autoscaling", "spot", "shadow")
DIFFERENCE_COLUMNS = [
    "requestId",
    "where",
    "size",
    "requestBody",
    "baselineStatus",
    "baselineBody",
    "candidateStatus",
    "candidateBody",
]
COUNT_NAMES = ("matched", "differed", "errored", "skipped")
REPLAY_COLUMNS = ["replayId", "candidateVersion", "status", "progress", *COUNT_NAMES, "matchRate", "createdAt"]
SHADOW_COLUMNS = ["version", "percent", "since", *COUNT_NAMES, "matchRate", "candidateP99", "baselineP99"]
ROLLOUT_COLUMNS = ["candidateVersion", "baselineVersion", "status", "step", "reason", "startedAt"]
NUMBER_COLUMNS = [
    "candidateRequests",
    "baselineRequests",
    "candidate5xxRate",
    "baseline5xxRate",
    "candidate4xxRate",
    "baseline4xxRate",
    "candidateP99",
    "baselineP99",
    "p99Ratio",
    "matchRate",
]
DECISION_COLUMNS = ["at", "step", "weight", "verdict", "actor", "reason", *NUMBER_COLUMNS]


# Request bodies


def comparison_rule(
    rule: str | Mapping[str, Any] | None = None, absolute: float | None = None, relative: float | None = None
) -> dict[str, Any]:
    """The API's rule: exact (the default, or `"exact"`), a tolerance from `absolute`/`relative`, or a rule as given."""
    if rule is not None and (absolute is not None or relative is not None):
        raise ValueError("give either rule= or absolute=/relative=, not both")
    if absolute is not None or relative is not None:
        return {"kind": "tolerance", "absolute": float(absolute or 0), "relative": float(relative or 0)}
    if rule is None or rule == "exact":
        return {"kind": "exact"}
    if isinstance(rule, Mapping):
        return dict(rule)
    raise ValueError(f"a rule is 'exact', a mapping such as {{'kind': 'tolerance', 'absolute': 0.01}}, not {rule!r}")


def replay_body(
    version: int,
    *,
    start: str | None = None,
    end: str | None = None,
    status: str | None = "2xx",
    limit: int = 500,
    rule: Mapping[str, Any] | None = None,
    rate: int = 20,
) -> dict[str, Any]:
    """The body of POST /models/{id}/replays; `start`/`end` are ISO times (left out: the last day), `status`
    a code or a class (None: every status)."""
    source: dict[str, Any] = {"status": status, "limit": limit}
    if start is not None:
        source["start"] = start
    if end is not None:
        source["end"] = end
    return {
        "candidateVersion": version,
        "source": source,
        "rule": dict(rule or {"kind": "exact"}),
        "ratePerSecond": rate,
    }


def deployment_lines(deployment: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The deployment as a change takes it back: its lines (not those leaving), each with every setting it has."""
    lines = []
    for shown in deployment:
        if shown.get("leaving"):
            continue
        line = {name: shown[name] for name in _LINE_FIELDS if shown.get(name) is not None}
        if "shadow" in line:
            line["shadow"] = {"percent": line["shadow"]["percent"], "rule": line["shadow"]["rule"]}
        lines.append(line)
    return lines


def shadow_lines(
    deployment: Sequence[Mapping[str, Any]], version: int, percent: int, rule: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The deployment with `version` a shadow of `percent` % (0: no longer a shadow), every other line kept."""
    if not 0 <= percent <= 100:
        raise ValueError(f"a shadow's percent is 1..100 (0 ends it), not {percent}")
    lines = deployment_lines(deployment)
    line = next((item for item in lines if item["version"] == version), None)
    if line is not None and line["weight"] > 0:
        raise ValueError(
            f"version {version} has {line['weight']}% of the traffic; a shadow has none: move its traffic first"
        )
    if percent == 0:
        if line is None or "shadow" not in line:
            raise ValueError(f"version {version} is not a shadow")
        del line["shadow"]  # it stays at weight 0, for pinned requests
        return lines
    if line is None:
        line = {"version": version, "weight": 0, "replicas": 1}
        lines.append(line)
    line["shadow"] = {"percent": percent, "rule": dict(rule or {"kind": "exact"})}
    return lines


def rollout_body(
    version: int,
    steps: Sequence[int] = DEFAULT_STEPS,
    bake_seconds: int = 300,
    message: str = "",
    guardrails: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of POST /models/{id}/rollout; `guardrails` by their snake_case names, those left out defaulted
    by the server."""
    rails = {}
    for name, value in (guardrails or {}).items():
        if name not in GUARDRAILS:
            raise TypeError(f"unknown guardrail {name!r}: one of {', '.join(GUARDRAILS)}")
        rails[GUARDRAILS[name]] = value
    return {
        "candidateVersion": version,
        "steps": [int(step) for step in steps],
        "bakeSeconds": bake_seconds,
        "guardrails": rails,
        "message": message,
    }


def parse_steps(text: str) -> list[int]:
    """`5,25,50,100` as a list of weights; the server checks that they increase to 100."""
    try:
        steps = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{text!r}: steps are whole numbers separated by commas, such as 5,25,50,100") from None
    if not steps:
        raise ValueError("give at least one step, such as 5,25,50,100")
    return steps


def replay_wait_seconds(limit: int, rate: int) -> float:
    """How long a replay may take: its requests at its rate, half again (on AWS the reconciler works 40 s a
    minute), two minutes more, and five minutes at least."""
    return max(300.0, limit / max(rate, 1) * 1.5 + 120)


def rollout_wait_seconds(record: Mapping[str, Any]) -> float:
    """How long a rollout may still take: each step left bakes, plus two minutes (a switch, a reconciler round)."""
    left = max(len(record.get("steps") or []) - int(record.get("step") or 0), 1)
    return left * (float(record.get("bakeSeconds") or 300) + 120) + 300


# Rows and frames


def comparison_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """A replay's or a shadow's result as one table row: counts and p99s flattened."""
    counts = record.get("counts") or {}
    return {
        **record,
        **{name: counts.get(name) for name in COUNT_NAMES},
        "candidateP99": (record.get("candidateLatency") or {}).get("p99"),
        "baselineP99": (record.get("baselineLatency") or {}).get("p99"),
    }


def replay_row(record: Mapping[str, Any]) -> dict[str, Any]:
    progress = record.get("progress") or {}
    return {**comparison_row(record), "progress": f"{progress.get('done', 0)}/{progress.get('total', 0)}"}


def rollout_row(record: Mapping[str, Any]) -> dict[str, Any]:
    steps = list(record.get("steps") or [])
    step = int(record.get("step") or 0)
    shown = f"{step + 1}/{len(steps)} ({steps[step]}%)" if step < len(steps) else str(step)
    return {**record, "step": shown}


def differences_frame(largest: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The largest differences, the request and both answers side by side, largest first."""
    return pandas().DataFrame(list(largest), columns=DIFFERENCE_COLUMNS)


def decisions_frame(decisions: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A rollout's decisions, oldest first, with the numbers that made each (empty where a person decided)."""
    rows = [{**decision, **(decision.get("numbers") or {})} for decision in decisions]
    pd = pandas()
    frame = pd.DataFrame(rows, columns=DECISION_COLUMNS)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


def _poll(check: Callable[[], bool], timeout: float, late: Callable[[], str]) -> None:
    """Calls `check` (which reads the server) until it is true; Timeout with `late()`'s words after `timeout` s."""
    deadline = time.monotonic() + timeout
    interval = 0.25
    while not check():
        if time.monotonic() >= deadline:
            raise Timeout(f"waited {timeout:g} s: {late()}")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(interval * 1.5, MAX_POLL_SECONDS)


# Results


class Comparison:
    """What a candidate's answers came to against the serving version's: counts, match rate, differences."""

    record: dict[str, Any]

    @property
    def counts(self) -> dict[str, int]:
        """`matched`, `differed`, `errored` (the candidate failed where the serving version answered), `skipped`."""
        return dict(self.record.get("counts") or {})

    @property
    def match_rate(self) -> float | None:
        """Matched among the compared requests; None before any was compared."""
        rate = self.record.get("matchRate")
        return float(rate) if rate is not None else None

    @property
    def latency(self) -> dict[str, dict[str, float | None]]:
        """`{"candidate": {"p50", "p99"}, "baseline": {...}}` in milliseconds, for the same requests."""
        return {
            "candidate": dict(self.record.get("candidateLatency") or {}),
            "baseline": dict(self.record.get("baselineLatency") or {}),
        }

    def differences(self) -> pd.DataFrame:
        """The largest differences (up to ten): the request, both statuses and answers side by side, where
        they first differ (a JSON path such as `$[0]`, or `status`) and by how much."""
        return differences_frame(self.record.get("largest") or [])


class Replay(Comparison):
    """A replay of captured requests against a candidate version, as last read (`refresh()` reads it again)."""

    def __init__(self, model: Model, record: dict[str, Any]) -> None:
        self.model = model
        self.record = record

    @property
    def id(self) -> str:
        return str(self.record["replayId"])

    @property
    def candidate_version(self) -> int:
        return int(self.record["candidateVersion"])

    @property
    def status(self) -> str:
        """PENDING, RUNNING, SUCCEEDED, FAILED or CANCELLED."""
        return str(self.record["status"])

    @property
    def status_reason(self) -> str | None:
        reason = self.record.get("statusReason")
        return str(reason) if reason is not None else None

    @property
    def progress(self) -> tuple[int, int]:
        """(done, total): total is the limit until the history is read to its end, then the requests it held."""
        progress = self.record.get("progress") or {}
        return int(progress.get("done", 0)), int(progress.get("total", 0))

    @property
    def ended(self) -> bool:
        return self.status in REPLAY_ENDED

    def __repr__(self) -> str:
        done, total = self.progress
        rate = f" match {self.match_rate:.1%}" if self.match_rate is not None else ""
        return f"<Replay {self.id} of {self.model.name} v{self.candidate_version} {self.status} {done}/{total}{rate}>"

    def _repr_html_(self) -> str:
        title = f"replay of {self.model.name} v{self.candidate_version}"
        table = html_table([replay_row(self.record)], REPLAY_COLUMNS, title)
        if self.record.get("largest"):
            table += html_table(self.record["largest"], DIFFERENCE_COLUMNS, "largest differences")
        return table

    def _path(self) -> str:
        return f"/models/{self.model.id}/replays/{self.id}"

    def refresh(self) -> Replay:
        self.record = self.model.transport.json("GET", self._path())
        return self

    def cancel(self) -> Replay:
        """Stops it; what it compared so far is kept."""
        self.record = self.model.transport.json("POST", self._path() + "/cancel", body={})
        return self

    def wait(self, timeout: float | None = None, progress: bool = True) -> Replay:
        """Polls (with a progress bar on stderr) until it ends; ReplayFailed with its statusReason if it FAILED,
        Timeout if it runs past `timeout` s (default: its limit at its rate, with room; it goes on running).
        """
        source = self.record.get("source") or {}
        limit = int(source.get("limit") or self.progress[1] or 1)
        seconds = timeout if timeout is not None else replay_wait_seconds(limit, int(self.record["ratePerSecond"]))
        with tqdm(
            total=self.progress[1] or None,
            desc=f"replay v{self.candidate_version}",
            unit="req",
            disable=not progress,
            leave=True,
        ) as bar:

            def ended() -> bool:
                self.refresh()
                done, total = self.progress
                bar.total = max(total, done)
                bar.n = done
                bar.set_postfix({name: self.counts.get(name, 0) for name in COUNT_NAMES[:3]}, refresh=False)
                bar.refresh()
                return self.ended

            _poll(ended, seconds, lambda: f"the replay {self.id} is {self.status} ({self.progress[0]} done)")
        if self.status == "FAILED":
            failed = ReplayFailed(
                f"replay {self.id} of {self.model.name} version {self.candidate_version} FAILED: "
                f"{self.status_reason or 'no reason given'}",
                code="replay_failed",
            )
            failed.replay = self
            raise failed
        return self


class ReplayList(list[Replay]):
    """A model's replays, newest first; shown as a table in Jupyter."""

    def _repr_html_(self) -> str:
        title = f"{self[0].model.name}: {len(self)} replays" if self else "no replays"
        return html_table([replay_row(r.record) for r in self], REPLAY_COLUMNS, title)


class ShadowResult(Comparison):
    """One shadow version's comparisons with the serving version since it became a shadow (with its rule)."""

    def __init__(self, model: Model, record: dict[str, Any]) -> None:
        self.model = model
        self.record = record

    @property
    def version(self) -> int:
        return int(self.record["version"])

    @property
    def percent(self) -> int:
        return int(self.record["percent"])

    def __repr__(self) -> str:
        rate = f" match {self.match_rate:.1%}" if self.match_rate is not None else ""
        return f"<ShadowResult {self.model.name} v{self.version} {self.percent}% {cell(self.counts)}{rate}>"

    def _repr_html_(self) -> str:
        title = f"shadow {self.model.name} v{self.version}"
        table = html_table([comparison_row(self.record)], SHADOW_COLUMNS, title)
        if self.record.get("largest"):
            table += html_table(self.record["largest"], DIFFERENCE_COLUMNS, "largest differences")
        return table


class ShadowResultList(list[ShadowResult]):
    """Each shadow version's results; shown as a table in Jupyter."""

    def _repr_html_(self) -> str:
        title = f"{self[0].model.name}: {len(self)} shadows" if self else "no shadows"
        return html_table([comparison_row(s.record) for s in self], SHADOW_COLUMNS, title)

    def frame(self) -> pd.DataFrame:
        """One row a shadow version: its share, counts, match rate and both p99s."""
        return pandas().DataFrame([comparison_row(s.record) for s in self], columns=SHADOW_COLUMNS)


class Rollout:
    """A model's progressive rollout, as last read (`refresh()` reads it again); the actions act on the server."""

    def __init__(self, model: Model, record: dict[str, Any]) -> None:
        self.model = model
        self.record = record

    @property
    def status(self) -> str:
        """RUNNING, PAUSED, SUCCEEDED, ROLLED_BACK or ABORTED."""
        return str(self.record["status"])

    @property
    def step(self) -> int:
        """The current step, an index into `steps`."""
        return int(self.record["step"])

    @property
    def steps(self) -> list[int]:
        return [int(step) for step in self.record["steps"]]

    @property
    def weight(self) -> int:
        """The candidate's weight at the current step."""
        return self.steps[min(self.step, len(self.steps) - 1)]

    @property
    def candidate_version(self) -> int:
        return int(self.record["candidateVersion"])

    @property
    def baseline_version(self) -> int:
        return int(self.record["baselineVersion"])

    @property
    def reason(self) -> str | None:
        """Why it ended (the breached guardrail and its numbers, or who ended it); None while it runs."""
        reason = self.record.get("reason")
        return str(reason) if reason is not None else None

    @property
    def active(self) -> bool:
        """RUNNING or PAUSED: not ended."""
        return self.status in ROLLOUT_ACTIVE

    def __repr__(self) -> str:
        shown = f"<Rollout {self.model.name} v{self.candidate_version} over v{self.baseline_version} {self.status}"
        shown += f" step {self.step + 1}/{len(self.steps)} ({self.weight}%)"
        return shown + (f": {self.reason}>" if self.reason else ">")

    def _repr_html_(self) -> str:
        title = f"rollout of {self.model.name} v{self.candidate_version}"
        rows = [{**d, **(d.get("numbers") or {})} for d in self.record.get("decisions") or []]
        return html_table([rollout_row(self.record)], ROLLOUT_COLUMNS, title) + html_table(
            rows, DECISION_COLUMNS, "decisions"
        )

    def decisions(self) -> pd.DataFrame:
        """Every decision, oldest first: when, at which step and weight, the verdict, who, why, and the numbers."""
        return decisions_frame(self.record.get("decisions") or [])

    def _act(self, verb: str | None) -> Rollout:
        path = f"/models/{self.model.id}/rollout"
        if verb is None:
            self.record = self.model.transport.json("GET", path)
        else:
            self.record = self.model.transport.json("POST", f"{path}/{verb}", body={})
        return self

    def refresh(self) -> Rollout:
        return self._act(None)

    def pause(self) -> Rollout:
        """Holds the weights as they are; nothing is judged until `resume()`."""
        return self._act("pause")

    def resume(self) -> Rollout:
        """Goes on; the current step bakes anew."""
        return self._act("resume")

    def promote(self) -> Rollout:
        """Gives the candidate all the traffic now: SUCCEEDED."""
        return self._act("promote")

    def abort(self) -> Rollout:
        """Gives the baseline all the traffic back: ABORTED."""
        return self._act("abort")

    def wait(self, timeout: float | None = None, progress: bool = True) -> Rollout:
        """Polls (with a bar of its steps on stderr) until it ends and returns it, however it ended: read
        `.status` and `.reason`. Timeout past `timeout` s (default: each step left bakes, with room); a
        PAUSED rollout waits for someone to resume it.
        """
        seconds = timeout if timeout is not None else rollout_wait_seconds(self.record)
        with tqdm(
            total=len(self.steps), desc=f"rollout v{self.candidate_version}", unit="step", disable=not progress
        ) as bar:

            def ended() -> bool:
                self.refresh()
                bar.n = len(self.steps) if self.status == "SUCCEEDED" else self.step
                bar.set_postfix({"status": self.status, "weight": f"{self.weight}%"}, refresh=False)
                bar.refresh()
                return not self.active

            _poll(ended, seconds, lambda: f"the rollout is {self.status} at step {self.step + 1} ({self.weight}%)")
        return self
