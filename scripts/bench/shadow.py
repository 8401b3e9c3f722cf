"""`shadow`: what a 100% shadow version costs the callers, side by side: latency at a paced rate, and latency
and throughput under wrk's saturating load.

One local mode run, one model of two versions (the same scikit-learn pipeline twice). Version 1 serves every
request throughout; version 2 is in the deployment at weight 0 throughout, so the same processes run in both
conditions, and the rounds alternate between

  - without shadow: version 2 idle (weight 0, no shadow), and
  - with shadow: version 2 a shadow of 100% of the requests (the gateway names it in each request's history
    line; local mode's shadow deliveries hand the lines to the shadow consumer, which sends each body to
    version 2 and merges the comparison into the tally at GET /api/models/{id}/shadow).

The callers' side is POST /api/models/{id}/predict in two parts, each in rounds of both conditions, every other
round starting with the shadow (A B B A ...), so that drift on a shared machine shows and falls on both alike;
ratios are given over all rounds and round by round:

  1. paced (open loop): hey (compiled, rate-limited) at a fixed, modest request rate (20 a second by default)
     that leaves the CPU headroom, so the latencies show whether the shadow is on the callers' request path;
  2. saturation (closed loop): wrk (compiled) over keep-alive connections, each sending its next request as soon
     as the last is answered, so the load takes all local mode can give. Locally the shadow's work competes
     with the callers' for it: the consumer is a background thread of local mode's own process (a delivery
     every 0.5 s, off the request path but sharing the interpreter with the gateway) and the shadow's runner
     runs beside the serving one on the same 2 cores. So this part shows what the shadow's work costs when
     local mode is the bottleneck, not whether the shadow is on the request path (part 1 shows that).

After every load with the shadow on, the benchmark waits until the tally has counted at least the requests the
load completed (the consumer works off the request path, so it may lag behind the load), so that no shadow work
spills into the next round; how long it lagged is reported too.

Local mode keeps no state by default here (--keep-state to keep one, as ./scripts/local.sh does): its saves of an
emulator state that grows with every request take up to a fifth of the time under wrk's load (`state` measures it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.bench.harness import save_pipeline
from scripts.bench.hey import PacedResult, merge_paced, require_hey, run_hey
from scripts.bench.localmode import Api, local_mode, needs_project_env, prediction_body, start_model
from scripts.bench.wrk import WrkResult, merge, require_wrk, run_wrk

WITHOUT, WITH = "without shadow", "with 100% shadow"
ROUTE_SETTLE_SECONDS = 11.0  # the gateway caches a running model's route for 10 s (domain/gateway.py)


@dataclass
class Tallied:
    """What the shadow tally counted for one load with the shadow on."""

    sent: int  # requests the load completed (warm-up and measured) while the shadow was on
    at_load_end: int  # comparisons counted when the load stopped
    counted: int  # comparisons counted once the consumer caught up
    lag: float  # seconds after the load stopped until the tally stopped growing
    counts: dict[str, int] = field(default_factory=dict)
    candidate_p50: float | None = None
    baseline_p50: float | None = None


@dataclass
class Measured:
    """Everything one run measured: hey's and wrk's results, local mode's CPU per request, the machine's CPU
    use and the shadow tally's counts."""

    paced: dict[str, list[PacedResult]] = field(default_factory=dict)  # per condition, round by round
    paced_cpu_ms: dict[str, list[float]] = field(default_factory=dict)
    paced_busy: dict[str, list[float]] = field(default_factory=dict)  # the machine's CPU use, 0..1 of all cores
    paced_tallies: list[Tallied] = field(default_factory=list)
    results: dict[tuple[int, str], list[WrkResult]] = field(default_factory=dict)  # (connections, condition)
    cpu_ms: dict[tuple[int, str], list[float]] = field(default_factory=dict)
    busy: dict[tuple[int, str], list[float]] = field(default_factory=dict)
    tallies: dict[int, list[Tallied]] = field(default_factory=dict)  # per connections, the rounds with the shadow


def _order(index: int) -> tuple[str, str]:
    """Each other round starts with the shadow (A B B A ...): drift over the run (other work on the machine,
    local mode's growing request history) then weighs on both conditions alike."""
    return (WITHOUT, WITH) if index % 2 == 0 else (WITH, WITHOUT)


def _versions(shadow: bool) -> list[dict[str, Any]]:
    second: dict[str, Any] = {"version": 2, "weight": 0, "replicas": 1}
    if shadow:
        second["shadow"] = {"percent": 100}
    return [{"version": 1, "weight": 100}, second]


def _tally(api: Api, model_id: str) -> dict[str, Any] | None:
    items = api.call("GET", f"/models/{model_id}/shadow")["items"]
    return next((item for item in items if item["version"] == 2), None)


def _total(tally: dict[str, Any] | None) -> int:
    return sum(tally["counts"].values()) if tally else 0


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds one process has used so far, all its threads (not its children)."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, all cores, from /proc/stat (busy: not idle, not iowait)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest time is already in user)
    return total - fields[3] - fields[4], total


def _busy_since(earlier: tuple[int, int]) -> float:
    busy, total = _machine_jiffies()
    return (busy - earlier[0]) / max(1, total - earlier[1])


def _counts_since(earlier: dict[str, Any] | None, later: dict[str, Any] | None) -> dict[str, int]:
    """The tally's counts added between two readings (one tally counts every load of a shadow round)."""
    before = earlier["counts"] if earlier else {}
    return {name: count - before.get(name, 0) for name, count in (later["counts"] if later else {}).items()}


def _wait_running(api: Api, model_id: str, timeout: float = 180) -> None:
    """Until both versions have a healthy replica."""
    deadline = time.monotonic() + timeout
    while True:
        deployment = api.call("GET", f"/models/{model_id}")["deployment"]
        healthy = {line["version"]: line["healthyReplicas"] for line in deployment if line["status"] == "RUNNING"}
        if healthy.get(1, 0) >= 1 and healthy.get(2, 0) >= 1:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"both versions not running after {timeout:.0f} s: {json.dumps(deployment)[:600]}")
        time.sleep(0.2)


def _switch(api: Api, model_id: str, shadow: bool) -> None:
    """Turn the shadow on or off, then wait out the gateway's cached route so every request sees the change."""
    model = api.deploy(model_id, _versions(shadow), f"bench: shadow {'on' if shadow else 'off'}")
    line = next(line for line in model["deployment"] if line["version"] == 2)
    if bool(line.get("shadow")) != shadow:
        raise SystemExit(f"PUT /deployment answered 202 but version 2's line is {json.dumps(line)}")
    time.sleep(ROUTE_SETTLE_SECONDS)


def _caught_up(api: Api, model_id: str, sent: int, timeout: float, quiet: float = 1.5) -> tuple[int, float, Any]:
    """Wait until the tally has counted at least `sent` and stopped growing for `quiet` s: (count, lag, tally)."""
    started = time.monotonic()
    last, last_change = -1, started
    while True:
        tally = _tally(api, model_id)
        total = _total(tally)
        now = time.monotonic()
        if total != last:
            last, last_change = total, now
        if total >= sent and now - last_change >= quiet:
            return total, last_change - started, tally
        if now - started > timeout:
            print(f"  the shadow tally counted {total} of {sent} shadowed requests after {timeout:.0f} s", flush=True)
            return total, float("nan"), tally
        time.sleep(0.25)


RESET = re.compile(r"(ConnectionResetError|BrokenPipeError)\b")
RAISED = re.compile(r"[A-Za-z_][\w.]*(: .*)?")  # a traceback's last line: the exception, unindented


def _log_report(log: Path) -> tuple[str, int, list[str]]:
    """How local mode ran the models; how many connections a client reset (wrk does, stopping mid-request: local
    mode's HTTP server prints a traceback for each); every other error, exception and shadow line of its log.

    Concurrent tracebacks interleave in the log, so exceptions are told apart by their last lines, not by blocks."""
    lines = log.read_text(errors="replace").splitlines()
    how = next((line for line in lines if line.startswith("Models run ")), "(local mode did not say how models run)")
    tracebacks = sum(1 for line in lines if line.startswith("Traceback (most recent call last)"))
    resets = sum(1 for line in lines if RESET.match(line))
    problems = []
    for before, line in zip(["", *lines], lines, strict=False):
        # Both formats: `LEVEL name: message` (logging.basicConfig) and `name - LEVEL - message` (Chalice's app
        # log, which the `kraken.*` loggers reach).
        logged = re.search(r"\b(ERROR|CRITICAL)\b|kraken\.shadow\b", line)
        raised = before.startswith(" ") and RAISED.fullmatch(line) and not RESET.match(line)
        if logged or (tracebacks > resets and raised):
            problems.append(line)
    if tracebacks > resets:
        problems.insert(0, f"{tracebacks} tracebacks, of which {resets} connection resets")
    return how, resets, problems


def _row(label: str, result: WrkResult, busy: float | None) -> str:
    return (
        f"{label:<30}{result.requests:>9}{result.errors:>8}{result.throughput:>9.0f}"
        f"{result.p50_ms:>9.2f}{result.p90_ms:>9.2f}{result.p99_ms:>9.2f}"
        + (f"{busy:>9.0%}" if busy is not None else "")
    )


def _paced_row(label: str, result: PacedResult, busy: float | None) -> str:
    return (
        f"{label:<30}{result.requests:>9}{result.failed + result.missing:>8}{result.throughput:>9.1f}"
        f"{result.percentile(50):>9.2f}{result.percentile(90):>9.2f}{result.percentile(99):>9.2f}"
        + (f"{busy:>9.0%}" if busy is not None else "")
    )


HEADER = (
    f"{'round, condition':<30}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
    f"{'CPU busy':>9}"
)
PERCENTILES = (50, 90, 99)


def _print_ratios(pooled: dict[str, tuple[float, float]], rounds: list[tuple[str, list[float]]]) -> None:
    """pooled: label -> (with, without) over all rounds; rounds: label -> the ratios round by round."""
    for label, (mine, base) in pooled.items():
        better = "higher" if label == "throughput" else "lower"
        delta = f"; {mine - base:+.2f} ms" if label != "throughput" else ""
        print(f"  {label:<11} {mine / base:5.2f}x  ({better} is better{delta})")
    for label, each in rounds:
        listed = ", ".join(f"{r:.2f}x" for r in each)
        print(f"  {label} round by round: {listed} (median {statistics.median(each):.2f}x)")


def _print_tallies(runs: list[Tallied], load: str) -> bool:
    """The shadow tally over the rounds with the shadow; True when it counted every request the load completed."""
    sent, counted = sum(t.sent for t in runs), sum(t.counted for t in runs)
    at_end = sum(t.at_load_end for t in runs)
    counts = {name: sum(t.counts.get(name, 0) for t in runs) for name in ("matched", "differed", "errored")}
    skipped = sum(t.counts.get("skipped", 0) for t in runs)
    lags = ", ".join(f"{t.lag:.1f}" for t in runs)
    print(
        f"shadow tally (GET /api/models/{{id}}/shadow) over the {len(runs)} rounds with the shadow: {counted} "
        f"comparisons for {sent} requests {load} completed ({counted / max(1, sent):.0%}); {at_end} of them counted "
        f"when the load stopped, the rest after it (consumer lag per round: {lags} s)"
    )
    print(
        f"  matched {counts['matched']}, differed {counts['differed']}, errored {counts['errored']}, "
        f"skipped {skipped}; last round's container p50: shadow {runs[-1].candidate_p50} ms, "
        f"serving version {runs[-1].baseline_p50} ms"
    )
    return counted >= sent


def _print_paced(measured: Measured, args: argparse.Namespace) -> bool:
    """Part 1's table and ratios; True when every request was answered 2xx on schedule and counted by the shadow."""
    paced = measured.paced
    print(
        f"\n1. paced: {args.rate:g} requests/s in all from {args.callers} hey callers (one keep-alive connection "
        f"each, {args.rate / args.callers:g} requests/s each, started {1000 / args.rate:.0f} ms apart), "
        f"{args.paced_seconds} s per round"
    )
    print(HEADER + "\n" + "-" * len(HEADER))
    for index in range(args.rounds):
        for condition in _order(index):
            print(
                _paced_row(f"{index + 1}. {condition}", paced[condition][index], measured.paced_busy[condition][index])
            )
    merged = {condition: merge_paced(paced[condition]) for condition in (WITHOUT, WITH)}
    print("-" * len(HEADER))
    for condition, result in merged.items():
        print(_paced_row(f"all: {condition}", result, statistics.median(measured.paced_busy[condition])))
    ours, theirs = merged[WITH], merged[WITHOUT]
    print("with the shadow vs without (percentiles of all requests of all rounds pooled):")
    pairs = list(zip(paced[WITH], paced[WITHOUT], strict=True))
    _print_ratios(
        {f"p{p} latency": (ours.percentile(p), theirs.percentile(p)) for p in PERCENTILES},
        [(f"p{p}", [w.percentile(p) / wo.percentile(p) for w, wo in pairs]) for p in PERCENTILES],
    )
    mine, base = (statistics.median(measured.paced_cpu_ms[condition]) for condition in (WITH, WITHOUT))
    busy_with, busy_without = (statistics.median(measured.paced_busy[condition]) for condition in (WITH, WITHOUT))
    print(
        f"local mode's process CPU per request (API, gateway, shadow consumer; not the runners): {mine:.2f} ms with "
        f"the shadow, {base:.2f} ms without ({mine / base:.2f}x, medians of the rounds); the machine's CPU busy "
        f"(all processes, both cores, /proc/stat; the last column): median {busy_with:.0%} with, "
        f"{busy_without:.0%} without"
    )
    without_wrk = measured.results.get((min(args.connections), WITHOUT)) if args.connections else None
    if without_wrk:
        saturating = merge(without_wrk).throughput
        print(
            f"the paced rate is {args.rate / saturating:.0%} of the throughput wrk saturates at with "
            f"{min(args.connections)} connection(s) and no shadow ({saturating:.0f} requests/s, part 2)"
        )
    failed = ours.failed + theirs.failed
    missing = sum(result.missing for condition in (WITH, WITHOUT) for result in paced[condition])
    print(f"{failed} answers not 2xx; {missing} scheduled requests with no answer beyond one a caller and round")
    counted = _print_tallies(measured.paced_tallies, "hey")
    return counted and failed == 0 and missing == 0


def _print_saturated(measured: Measured, args: argparse.Namespace) -> bool:
    """Part 2's tables and ratios; True when every shadowed request was counted and no request failed."""
    results, cpu_ms, busy, tallies = measured.results, measured.cpu_ms, measured.busy, measured.tallies
    complete = True
    for connections in args.connections:
        print(f"\n2. saturation: wrk over {connections} keep-alive connection(s), {args.seconds} s per round")
        print(HEADER + "\n" + "-" * len(HEADER))
        for index in range(args.rounds):
            for condition in _order(index):
                key = (connections, condition)
                print(_row(f"{index + 1}. {condition}", results[key][index], busy[key][index]))
        merged = {condition: merge(results[(connections, condition)]) for condition in (WITHOUT, WITH)}
        print("-" * len(HEADER))
        for condition, result in merged.items():
            print(_row(f"all: {condition}", result, statistics.median(busy[(connections, condition)])))
        ours, theirs = merged[WITH], merged[WITHOUT]
        print("with the shadow vs without (all rounds; percentiles of the median round):")
        pairs = list(zip(results[(connections, WITH)], results[(connections, WITHOUT)], strict=True))
        _print_ratios(
            {
                "throughput": (ours.throughput, theirs.throughput),
                "p50 latency": (ours.p50_ms, theirs.p50_ms),
                "p90 latency": (ours.p90_ms, theirs.p90_ms),
                "p99 latency": (ours.p99_ms, theirs.p99_ms),
            },
            [
                ("throughput", [w.throughput / wo.throughput for w, wo in pairs]),
                ("p50", [w.p50_ms / wo.p50_ms for w, wo in pairs]),
                ("p90", [w.p90_ms / wo.p90_ms for w, wo in pairs]),
                ("p99", [w.p99_ms / wo.p99_ms for w, wo in pairs]),
            ],
        )
        mine, base = (statistics.median(cpu_ms[(connections, condition)]) for condition in (WITH, WITHOUT))
        print(
            f"local mode's process CPU per request while wrk ran (API, gateway, shadow consumer, and its background "
            f"work: log shipping, state saves if kept; not the runners): {mine:.2f} ms with the shadow, {base:.2f} ms "
            f"without ({mine / base:.2f}x, medians of the rounds)"
        )
        counted = _print_tallies(tallies[connections], "wrk")
        complete = complete and counted and ours.errors == 0 and theirs.errors == 0
    return complete


def _print(measured: Measured, args: argparse.Namespace) -> bool:
    """Both parts' tables and ratios; True when every shadowed request was counted and no request failed."""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nload average at the end (1, 5, 15 min; the machine has {os.cpu_count()} cores): {load}")
    complete = True
    if args.rate > 0:
        complete = _print_paced(measured, args) and complete
    if args.connections:
        complete = _print_saturated(measured, args) and complete
    return complete


def _drained(api: Api, model_id: str, earlier: Any, sent: int, timeout: float) -> Tallied:
    """After a load with the shadow on: wait until the consumer caught up with the `sent` requests, and what the
    tally counted for them (`earlier`: the tally before the load)."""
    before = _total(earlier)
    at_end = _total(_tally(api, model_id)) - before
    total, lag, tally = _caught_up(api, model_id, before + sent, timeout)
    return Tallied(
        sent,
        at_end,
        total - before,
        lag,
        _counts_since(earlier, tally),
        tally["candidateLatency"]["p50"] if tally else None,
        tally["baselineLatency"]["p50"] if tally else None,
    )


def _paced(api: Api, args: argparse.Namespace, model_id: str, path: str, body: bytes, measured: Measured) -> None:
    """Part 1: hey at args.rate requests a second, round by round alternating the conditions."""
    hey = require_hey()
    print(
        f"paced: {args.rounds} rounds alternating {WITHOUT!r} and {WITH!r}; {args.rate:g} requests/s from "
        f"{args.callers} hey callers, {args.warmup} s of warm-up, then {args.paced_seconds} s measured",
        flush=True,
    )
    for index in range(args.rounds):
        for condition in _order(index):
            shadow = condition == WITH
            _switch(api, model_id, shadow)
            print(f"  paced round {index + 1}, {condition}", flush=True)
            earlier = _tally(api, model_id) if shadow else None
            warm = run_hey(hey, condition, api.port, path, body, args.rate, args.callers, args.warmup)
            cpu, jiffies = _cpu_seconds(api.pid), _machine_jiffies()
            result = run_hey(hey, condition, api.port, path, body, args.rate, args.callers, args.paced_seconds)
            busy, cpu = _busy_since(jiffies), _cpu_seconds(api.pid) - cpu
            measured.paced.setdefault(condition, []).append(result)
            measured.paced_cpu_ms.setdefault(condition, []).append(1000 * cpu / max(1, result.requests))
            measured.paced_busy.setdefault(condition, []).append(busy)
            if shadow:
                sent = warm.requests + result.requests
                measured.paced_tallies.append(_drained(api, model_id, earlier, sent, args.drain_timeout))


def _saturated(api: Api, args: argparse.Namespace, model_id: str, path: str, body: bytes, measured: Measured) -> None:
    """Part 2: wrk over each of args.connections, round by round alternating the conditions."""
    wrk = require_wrk()
    print(
        f"saturation: {args.rounds} rounds alternating {WITHOUT!r} and {WITH!r}; per round and connection "
        f"level, {args.warmup} s of warm-up, then {args.seconds} s measured by wrk",
        flush=True,
    )
    for index in range(args.rounds):
        for condition in _order(index):
            shadow = condition == WITH
            _switch(api, model_id, shadow)
            for connections in args.connections:
                print(f"  round {index + 1}, {condition}, {connections} connections", flush=True)
                earlier = _tally(api, model_id) if shadow else None
                warm = run_wrk(wrk, condition, api.port, path, body, connections, args.warmup)
                cpu, jiffies = _cpu_seconds(api.pid), _machine_jiffies()
                result = run_wrk(wrk, condition, api.port, path, body, connections, args.seconds)
                busy, cpu = _busy_since(jiffies), _cpu_seconds(api.pid) - cpu
                measured.results.setdefault((connections, condition), []).append(result)
                measured.cpu_ms.setdefault((connections, condition), []).append(1000 * cpu / max(1, result.requests))
                measured.busy.setdefault((connections, condition), []).append(busy)
                if shadow:
                    sent = warm.requests + result.requests
                    tallied = _drained(api, model_id, earlier, sent, args.drain_timeout)
                    measured.tallies[connections].append(tallied)


def _measure(api: Api, args: argparse.Namespace, artifact: Path, rows: list[dict[str, Any]]) -> Measured:
    measured = Measured(tallies={connections: [] for connections in args.connections})
    model_id = start_model(api, "bench-shadow", artifact, rows)
    api.add_version(model_id, artifact)  # version 2: the same file again
    api.deploy(model_id, _versions(shadow=False), "bench: version 2 idle beside version 1")
    _wait_running(api, model_id)
    path = f"/api/models/{model_id}/predict"
    body = json.dumps(prediction_body(model_id, rows)).encode()
    print(f"local mode: one model, two versions; {len(rows)} rows a request", flush=True)
    if args.rate > 0:
        _paced(api, args, model_id, path, body, measured)
    if args.connections:
        _saturated(api, args, model_id, path, body, measured)
    return measured


def _report_log(work: Path, args: argparse.Namespace) -> bool:
    """Print what local mode's log says (copied to --log first); True when it has no problem line."""
    log = next(work.glob("local-mode*.log"))
    if args.log:
        shutil.copyfile(log, args.log)
    how, resets, problems = _log_report(log)
    print(f"\nlocal mode's log{f' (copied to {args.log})' if args.log else ''}: {how}")
    print(f"  {resets} connections reset by wrk as it stopped (local mode's server prints each as a traceback)")
    print(f"  {len(problems)} other error, traceback or shadow lines" + (":" if problems else ""))
    for line in problems[:20]:
        print(f"  {line}")
    return not problems


def bench_shadow(args: argparse.Namespace) -> int:
    if needs_project_env("shadow"):
        return 2
    if args.rate > 0:
        require_hey()
    if args.connections:
        require_wrk()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average before the run (1, 5, 15 min; the machine has {os.cpu_count()} cores): {load}", flush=True)
    with tempfile.TemporaryDirectory(prefix="kraken-bench-") as tmp:
        work = Path(tmp)
        artifact, rows = save_pipeline(work)
        runtime = None if args.runtime == "auto" else args.runtime
        try:
            with local_mode(work, runtime, keep_state=args.keep_state) as api:
                measured = _measure(api, args, artifact, rows[: args.rows])
        except BaseException:
            _report_log(work, args)  # what local mode said before the run failed
            raise
        complete = _print(measured, args)
        complete = _report_log(work, args) and complete
    if not complete:
        print("\nincomplete: failed requests, uncounted shadowed requests or problems in the log (see above)")
    return 0 if complete else 1


def add_commands(commands: Any) -> None:
    """Register this benchmark's subcommands on the CLI's subparsers."""
    shadow = commands.add_parser(
        "shadow",
        help="local mode: the callers' latency with a 100%% shadow version vs without, paced (hey) and saturated (wrk)",
        description="Starts local mode with a model of two versions (version 1 serving, version 2 at weight 0) "
        "and loads POST /api/models/{id}/predict in rounds alternating version 2 idle and version 2 a 100%% "
        "shadow: first paced by hey at a fixed rate that leaves the CPU headroom, then saturated by wrk; reports "
        "both side by side as ratios, and how many comparisons the shadow tally (GET /api/models/{id}/shadow) "
        "counted, waiting after each shadow round until the consumer caught up.",
    )
    shadow.add_argument("--rounds", type=int, default=4, help="rounds of both conditions, every other one shadow first")
    shadow.add_argument(
        "--rate",
        type=float,
        default=20,
        help="paced part: requests a second in all (0: no paced part); keep it well below the throughput the "
        "saturation part reports",
    )
    shadow.add_argument("--callers", type=int, default=2, help="paced part: hey processes sharing the rate")
    shadow.add_argument("--paced-seconds", type=int, default=15, help="paced part: measured seconds per round")
    shadow.add_argument(
        "--seconds", type=int, default=8, help="saturation part: measured seconds per round and connection level"
    )
    shadow.add_argument("--warmup", type=int, default=2, help="unmeasured seconds of load first, each time")
    shadow.add_argument(
        "--connections",
        type=int,
        nargs="*",
        default=[1, 4],
        help="saturation part: wrk's keep-alive connections, one level after the other (none: no saturation part)",
    )
    shadow.add_argument("--rows", type=int, default=5, help="rows per request (at most 10)")
    shadow.add_argument(
        "--drain-timeout", type=float, default=180, help="seconds to wait for the shadow tally after a load"
    )
    shadow.add_argument(
        "--runtime",
        choices=("auto", "process", "container"),
        default="auto",
        help="local mode's KRAKEN_LOCAL_RUNTIME: how the versions' runners run (auto: containers where an engine "
        "works, else processes)",
    )
    shadow.add_argument(
        "--keep-state",
        action="store_true",
        help="local mode keeps a state (KRAKEN_DATA_DIR), as ./scripts/local.sh does, and saves its growing "
        "emulator state as it changes (up to a fifth of the time under wrk's load); by default it keeps none",
    )
    shadow.add_argument("--log", type=Path, help="also copy local mode's log to this file")
    shadow.set_defaults(handler=bench_shadow)
