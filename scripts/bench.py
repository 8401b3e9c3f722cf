"""Benchmarks on loopback only, one subcommand per component: `python scripts/bench.py runner`."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH_VENV = REPO / ".venv-bench"
BENCH_REQUIREMENTS = REPO / "scripts" / "bench-requirements.txt"
HOST = "127.0.0.1"
BUCKET = "kraken-bench"


# ---------------------------------------------------------------------------------------------
# The separate benchmark environment (MLflow and friends never go into .venv)
# ---------------------------------------------------------------------------------------------


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
        subprocess.run([sys._base_executable, "-m", "venv", str(BENCH_VENV)], check=True, timeout=300)
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


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM our child's own process group (MLflow forks uvicorn), then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (MLflow serves from a child process)."""
    total_kb, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total_kb += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, StopIteration):
            continue
    return total_kb / 1024


def post_json(url: str, payload: Any) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


# ---------------------------------------------------------------------------------------------
# A bounded HTTP/1.1 keep-alive load generator (asyncio, raw sockets: cheap next to the servers)
# ---------------------------------------------------------------------------------------------


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
        body = await reader.readexactly(int(headers.get("content-length", "0")))
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


def http_request(path: str, payload: Any, port: int) -> bytes:
    body = json.dumps(payload).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def run_load(name: str, port: int, request: bytes, total: int, concurrency: int) -> LoadResult:
    result = LoadResult(name)
    asyncio.run(_load(port, request, total, concurrency, result))
    return result


# ---------------------------------------------------------------------------------------------
# `runner`: the standard model runner vs MLflow's scoring server, same pipeline, same rows
# ---------------------------------------------------------------------------------------------


def train_for_runner_bench(out_dir: str) -> None:
    """Runs inside .venv-bench: fit one pipeline, save it for both servers, write sample rows."""
    import joblib
    import mlflow.sklearn
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    out = Path(out_dir)
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
    joblib.dump(pipeline, out / "pipeline.joblib")
    mlflow.sklearn.save_model(pipeline, str(out / "mlflow-model"))
    sample = frame.head(10)
    (out / "sample.json").write_text(
        json.dumps({"records": sample.to_dict(orient="records"), "expected": pipeline.predict(sample).tolist()})
    )


@dataclass
class Server:
    name: str
    port: int
    path: str
    payload: Any
    proc: subprocess.Popen[bytes]
    ready_seconds: float
    results: Callable[[Any], Any]


def start_runner(artifact_key: str, moto_endpoint: str, log_dir: Path) -> Server:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KRAKEN_"))},
        "PYTHONPATH": str(REPO / "backend"),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "KRAKEN_ARTIFACT_URI": f"s3://{BUCKET}/{artifact_key}",
        "KRAKEN_ARTIFACT_FORMAT": "joblib",
        "KRAKEN_MODEL_HOST": HOST,
        "KRAKEN_MODEL_PORT": str(port),
    }
    with (log_dir / "runner.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runner"], env=env, cwd=REPO, stdout=log, stderr=log, start_new_session=True
        )
    ready = wait_http_ok(f"http://{HOST}:{port}/health", proc, 120, log_dir / "runner.log")
    return Server("kraken runner", port, "/predict", None, proc, ready, lambda body: body["results"])


def start_mlflow(python: Path, model_dir: Path, log_dir: Path) -> Server:
    port = free_port()
    env = {
        **os.environ,
        # MLflow execs `uvicorn` by name, so the bench environment's bin/ must come first on PATH.
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_TRACKING_URI": f"file://{log_dir / 'mlruns'}",
        "PYTHONWARNINGS": "ignore",
    }
    command = [
        str(python.parent / "mlflow"), "models", "serve", "-m", str(model_dir),
        "--env-manager", "local", "-h", HOST, "-p", str(port), "-w", "1",
    ]  # fmt: skip
    with (log_dir / "mlflow.log").open("wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
    ready = wait_http_ok(f"http://{HOST}:{port}/ping", proc, 180, log_dir / "mlflow.log")
    return Server("mlflow models serve", port, "/invocations", None, proc, ready, lambda body: body["predictions"])


def print_table(results: list[LoadResult], servers: dict[str, Server], rss: dict[str, float]) -> None:
    header = f"{'server':<22}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}"
    header += f"{'p99 ms':>9}{'ready s':>9}{'RSS MB':>9}"
    print(header)
    print("-" * len(header))
    for result in results:
        print(
            f"{result.name:<22}{len(result.latencies):>9}{result.errors:>8}{result.throughput:>9.0f}"
            f"{result.percentile(0.50):>9.2f}{result.percentile(0.90):>9.2f}{result.percentile(0.99):>9.2f}"
            f"{servers[result.name].ready_seconds:>9.1f}{rss[result.name]:>9.0f}"
        )


def bench_runner(args: argparse.Namespace) -> int:
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        print("run this with the project environment: .venv/bin/python scripts/bench.py runner", file=sys.stderr)
        return 2
    python = bench_python()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    servers: dict[str, Server] = {}
    moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    with tempfile.TemporaryDirectory(prefix="kraken-bench-") as tmp:
        work = Path(tmp)
        try:
            print("training the pipeline in .venv-bench and saving it for both servers", flush=True)
            subprocess.run([str(python), __file__, "_train-runner", tmp], check=True, timeout=600)
            sample = json.loads((work / "sample.json").read_text())
            rows = sample["records"][: args.rows]

            moto.start()
            moto_host, moto_port = moto.get_host_and_port()
            endpoint = f"http://{moto_host}:{moto_port}"
            s3 = boto3.client(
                "s3", endpoint_url=endpoint, region_name="us-east-1",
                aws_access_key_id="bench", aws_secret_access_key="bench",
            )  # fmt: skip
            s3.create_bucket(Bucket=BUCKET)
            s3.upload_file(str(work / "pipeline.joblib"), BUCKET, "bench/pipeline.joblib")

            print("starting both servers", flush=True)
            runner = start_runner("bench/pipeline.joblib", endpoint, work)
            runner.payload = {"modelData": rows}
            mlflow = start_mlflow(python, work / "mlflow-model", work)
            mlflow.payload = {"dataframe_records": rows}
            servers = {runner.name: runner, mlflow.name: mlflow}

            expected = sample["expected"][: args.rows]
            for server in servers.values():
                got = server.results(post_json(f"http://{HOST}:{server.port}{server.path}", server.payload))
                if got != expected:
                    raise SystemExit(f"{server.name} predicted {got}, expected {expected}")

            totals = {name: LoadResult(name) for name in servers}
            per_round = max(1, args.requests // args.rounds)
            print(
                f"load: {per_round * args.rounds} requests per server of {len(rows)} rows, concurrency "
                f"{args.concurrency}, {args.rounds} alternating rounds, after {args.warmup} warm-up requests",
                flush=True,
            )
            for server in servers.values():
                request = http_request(server.path, server.payload, server.port)
                run_load(server.name, server.port, request, args.warmup, args.concurrency)
            # Alternating rounds spread the noise of a shared machine over both servers evenly.
            for _ in range(args.rounds):
                for server in servers.values():
                    request = http_request(server.path, server.payload, server.port)
                    measured = run_load(server.name, server.port, request, per_round, args.concurrency)
                    total = totals[server.name]
                    total.latencies += measured.latencies
                    total.errors += measured.errors
                    total.error_kinds |= measured.error_kinds
                    total.seconds += measured.seconds
            rss = {name: tree_rss_mb(server.proc.pid) for name, server in servers.items()}
        finally:
            for server in servers.values():
                stop(server.proc)
            moto.stop()

    print()
    results = list(totals.values())
    print_table(results, servers, rss)
    ours, theirs = totals[runner.name], totals[mlflow.name]
    print()
    print("runner vs MLflow:")
    print(f"  throughput  {ours.throughput / theirs.throughput:5.2f}x  (higher is better)")
    for label, q in (("p50 latency", 0.5), ("p90 latency", 0.9), ("p99 latency", 0.99)):
        print(f"  {label} {ours.percentile(q) / theirs.percentile(q):5.2f}x  (lower is better)")
    print(f"  time to ready {runner.ready_seconds / mlflow.ready_seconds:5.2f}x  (runner includes its S3 download)")
    print(f"  memory (RSS)  {rss[runner.name] / rss[mlflow.name]:5.2f}x")
    for result in results:
        if result.errors:
            print(f"{result.name}: {result.errors} failed requests ({', '.join(sorted(result.error_kinds))})")
    return 0 if ours.errors == theirs.errors == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("runner", help="the standard model runner vs `mlflow models serve`")
    runner.add_argument("--requests", type=int, default=4000, help="measured requests per server")
    runner.add_argument("--concurrency", type=int, default=4, help="keep-alive connections")
    runner.add_argument("--warmup", type=int, default=200, help="unmeasured requests per server first")
    runner.add_argument("--rounds", type=int, default=2, help="alternating measurement rounds")
    runner.add_argument("--rows", type=int, default=5, help="rows per request (at most 10)")
    runner.set_defaults(handler=bench_runner)
    train = commands.add_parser("_train-runner", help=argparse.SUPPRESS)
    train.add_argument("out_dir")
    train.set_defaults(handler=lambda args: train_for_runner_bench(args.out_dir) or 0)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
