"""The shared harness: the bench-only environment, child processes, a load generator, tables and ratios.

Standard library only at import time: the bench-only environment (.venv-bench) imports it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BENCH_VENV = REPO / ".venv-bench"
BENCH_REQUIREMENTS = REPO / "scripts" / "bench-requirements.txt"
HOST = "127.0.0.1"
BUCKET = "kraken-bench"


def bench_command(python: Path | str, *args: str) -> list[str]:
    """`python -m scripts.bench <args>`: how a benchmark runs one of its own steps in a child process."""
    return [str(python), "-m", "scripts.bench", *args]


def bench_python() -> Path:
    """Create or refresh .venv-bench from bench-requirements.txt; return its interpreter."""
    python = BENCH_VENV / "bin" / "python"
    stamp = BENCH_VENV / ".requirements-sha256"
    wanted = hashlib.sha256(BENCH_REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    if not python.exists():
        print(f"creating {BENCH_VENV.name} (first run only)", flush=True)
        # The base interpreter, not .venv's, so the two environments share nothing.
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(BENCH_VENV)], check=True, timeout=300)
    print(f"installing {BENCH_REQUIREMENTS.name} into {BENCH_VENV.name}", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(BENCH_REQUIREMENTS)], check=True, timeout=1800)
    stamp.write_text(wanted)
    return python


# ---------------------------------------------------------------------------------------------
# Processes and readiness
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_http_ok(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> float:
    """Poll `url` until 200; return the seconds it took. Fails fast if the process dies."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise SystemExit(f"server exited with {proc.returncode} before it was ready ({url}):\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} not ready after {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes], leader_first: bool = False) -> None:
    """SIGTERM our child's own process group (MLflow forks uvicorn), then SIGKILL if it lingers.

    With `leader_first`, only the leader gets the SIGTERM (local mode stops its model processes
    itself, as Ctrl-C would); whatever is left of the group afterwards is killed.
    """
    if proc.poll() is None:
        try:
            (os.kill if leader_first else os.killpg)(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30 if leader_first else 10)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers only; a no-op when the group is gone
    if proc.poll() is None:
        proc.wait(timeout=10)


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB of a process and its descendants (MLflow and MLServer serve from child processes).

    RSS counts a page shared by forked workers once per worker; PSS splits it between them, so PSS is the
    figure that says what forked workers really cost."""
    rss_kb, pss_kb, pending = 0, 0, [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss_kb += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss_kb += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return rss_kb / 1024, pss_kb / 1024


def post_json(url: str, payload: Any) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@dataclass
class LoadResult:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: set[str] = field(default_factory=set)
    seconds: float = 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def add(self, other: LoadResult) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.error_kinds |= other.error_kinds
        self.seconds += other.seconds


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = bytearray(await reader.readexactly(int(headers.get("content-length", "0"))))
    return status, bytes(body), headers.get("connection", "").lower() == "close"


async def _worker(port: int, request: bytes, count: int, result: LoadResult) -> None:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 5)
    try:
        for _ in range(count):
            started = time.perf_counter()
            try:
                writer.write(request)
                status, _, close = await asyncio.wait_for(_read_response(reader), 30)
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                # Counted and reported, not fatal: one dropped connection must not void the whole run.
                result.errors += 1
                result.error_kinds.add(type(exc).__name__)
                status, close = 0, True
            if status == 200:
                result.latencies.append(time.perf_counter() - started)
            elif status:
                result.errors += 1
                result.error_kinds.add(f"HTTP {status}")
            if close:
                writer.close()
                reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 5)
    finally:
        writer.close()


async def _load(port: int, request: bytes, total: int, concurrency: int, result: LoadResult) -> None:
    per_worker = [total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)]
    started = time.perf_counter()
    await asyncio.gather(*(_worker(port, request, n, result) for n in per_worker))
    result.seconds += time.perf_counter() - started


def http_request(path: str, payload: Any, port: int, headers: dict[str, str] | None = None) -> bytes:
    body = json.dumps(payload).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def run_load(name: str, port: int, request: bytes, total: int, concurrency: int) -> LoadResult:
    result = LoadResult(name)
    asyncio.run(_load(port, request, total, concurrency, result))
    return result


@dataclass(frozen=True)
class Target:
    """One side of a side-by-side comparison: a name and the raw request to send it."""

    name: str
    port: int
    request: bytes


def alternate(targets: list[Target], total: int, concurrency: int, rounds: int, warmup: int) -> list[LoadResult]:
    """Warm every target up, then measure them in alternating rounds (the noise of a shared machine
    then falls on all of them evenly); one summed LoadResult per target, in the order given."""
    for target in targets:
        run_load(target.name, target.port, target.request, warmup, concurrency)
    totals = [LoadResult(target.name) for target in targets]
    per_round = max(1, total // rounds)
    for _ in range(rounds):
        for target, summed in zip(targets, totals, strict=True):
            summed.add(run_load(target.name, target.port, target.request, per_round, concurrency))
    return totals


Column = tuple[str, Callable[[LoadResult], float], str]  # header, value, format spec


def print_table(results: list[LoadResult], extra: tuple[Column, ...] = (), label: str = "server") -> None:
    width = max(22, *(len(result.name) + 2 for result in results))
    header = f"{label:<{width}}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
    header += "".join(f"{title:>9}" for title, _, _ in extra)
    print(header)
    print("-" * len(header))
    for result in results:
        print(
            f"{result.name:<{width}}{len(result.latencies):>9}{result.errors:>8}{result.throughput:>9.0f}"
            f"{result.percentile(0.50):>9.2f}{result.percentile(0.90):>9.2f}{result.percentile(0.99):>9.2f}"
            + "".join(f"{value(result):>9{spec}}" for _, value, spec in extra)
        )
    for result in results:
        if result.errors:
            print(f"{result.name}: {result.errors} failed requests ({', '.join(sorted(result.error_kinds))})")


def print_ratios(ours: LoadResult, theirs: LoadResult, title: str) -> None:
    print(f"{title}:")
    print(f"  throughput  {ours.throughput / theirs.throughput:5.2f}x  (higher is better)")
    for label, q in (("p50 latency", 0.5), ("p90 latency", 0.9), ("p99 latency", 0.99)):
        print(f"  {label} {ours.percentile(q) / theirs.percentile(q):5.2f}x  (lower is better)")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_seconds(rows: list[tuple[str, list[float]]], unit: str = "s", scale: float = 1.0) -> None:
    header = f"{'':<44}{'n':>4}{'median ' + unit:>12}{'max ' + unit:>10}{'min ' + unit:>10}"
    print(header)
    print("-" * len(header))
    for label, values in rows:
        scaled = [value * scale for value in values]
        print(f"{label:<44}{len(scaled):>4}{median(scaled):>12.3f}{max(scaled):>10.3f}{min(scaled):>10.3f}")


def fit_pipeline() -> tuple[Any, Any]:
    """A small scikit-learn pipeline (scaling, one-hot, logistic regression) and the frame it was fit on."""
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(42)
    frame = pd.DataFrame(
        {
            "age": rng.uniform(18, 80, 2000),
            "income": rng.normal(50_000, 15_000, 2000),
            "tenure": rng.integers(0, 30, 2000).astype(float),
            "city": rng.choice(["paris", "lyon", "nice", "lille"], 2000),
            "plan": rng.choice(["free", "pro", "team"], 2000),
        }
    )
    target = ((frame["age"] > 45) ^ (frame["plan"] == "pro")).astype(int)
    columns = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "income", "tenure"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["city", "plan"]),
        ]
    )
    pipeline = Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=500))]).fit(frame, target)
    return pipeline, frame


def save_pipeline(out: Path) -> tuple[Path, list[dict[str, Any]]]:
    """Fit the pipeline, joblib-dump it into `out`; return its path and ten sample rows."""
    import joblib

    pipeline, frame = fit_pipeline()
    path = out / "pipeline.joblib"
    joblib.dump(pipeline, path)
    return path, frame.head(10).to_dict(orient="records")
