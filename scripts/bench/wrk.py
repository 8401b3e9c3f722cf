"""`wrk`, a compiled HTTP load generator, driven from the harness: a Python client on a 2-core machine
becomes the bottleneck before a fast server does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.bench.harness import HOST

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = io.open("{body}", "rb")
wrk.body = file:read("*a")
file:close()
"""


@dataclass
class WrkResult:
    name: str
    requests: int
    seconds: float
    throughput: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int


def require_wrk() -> str:
    """wrk's path; installs Debian's package when we are root with apt-get, else says how to get it."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("wrk is missing: apt-get install -y wrk", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, timeout=600)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("this benchmark needs wrk, a compiled HTTP load generator: apt-get install -y wrk")
    return found


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(name: str, output: str) -> WrkResult:
    """Read wrk's `--latency` report: totals, throughput, the latency distribution and error counts."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s)", output)
    throughput = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not total or not throughput:
        raise SystemExit(f"could not read wrk's report for {name}:\n{output}")
    percentiles = {p: _milliseconds(value) for p, value in re.findall(r"^\s+(50|90|99)%\s+(\S+)\s*$", output, re.M)}
    if len(percentiles) < 3:
        raise SystemExit(f"no 50%, 90% and 99% latencies in wrk's report for {name}:\n{output}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    seconds = float(total.group(2)) * _UNITS[total.group(3)] / 1000
    return WrkResult(
        name, int(total.group(1)), seconds, float(throughput.group(1)),
        percentiles["50"], percentiles["90"], percentiles["99"], errors,
    )  # fmt: skip


def run_wrk(wrk: str, name: str, port: int, path: str, body: bytes, connections: int, seconds: int) -> WrkResult:
    """POST `body` to 127.0.0.1:`port``path` over `connections` keep-alive connections for `seconds`."""
    with tempfile.TemporaryDirectory(prefix="kraken-wrk-") as tmp:
        (Path(tmp) / "body.json").write_bytes(body)
        script = Path(tmp) / "post.lua"
        script.write_text(_LUA.format(body=Path(tmp) / "body.json"))
        threads = min(connections, 2)  # the machine's cores; more wrk threads only steal them from the server
        command = [
            wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "10s",
            "-s", str(script), f"http://{HOST}:{port}{path}",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    return parse(name, done.stdout)


def merge(results: list[WrkResult]) -> WrkResult:
    """Rounds of one target summed: throughput over all of them, the median round's percentiles."""
    ordered = sorted(results, key=lambda result: result.p50_ms)
    middle = ordered[len(ordered) // 2]
    requests = sum(result.requests for result in results)
    seconds = sum(result.seconds for result in results)
    return WrkResult(
        middle.name, requests, seconds, requests / seconds if seconds else 0.0,
        middle.p50_ms, middle.p90_ms, middle.p99_ms, sum(result.errors for result in results),
    )  # fmt: skip


def print_results(results: Sequence[WrkResult], label: str = "server") -> None:
    """One table row per result: requests, errors, throughput and the percentiles wrk reported."""
    width = max(30, *(len(result.name) + 2 for result in results))
    header = f"{label:<{width}}{'requests':>10}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
    print(header + "\n" + "-" * len(header))
    for r in results:
        print(
            f"{r.name:<{width}}{r.requests:>10}{r.errors:>8}{r.throughput:>9.0f}"
            f"{r.p50_ms:>9.2f}{r.p90_ms:>9.2f}{r.p99_ms:>9.2f}"
        )
