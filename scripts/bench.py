"""Benchmarks on loopback only, one subcommand per component; run them with the project's .venv.

    .venv/bin/python scripts/bench.py lifecycle   # local mode: POST start -> first 200 prediction
    .venv/bin/python scripts/bench.py gateway     # the API's own overhead: in-process and over HTTP
    .venv/bin/python scripts/bench.py import      # cold import of the API function (`import app`)
    .venv/bin/python scripts/bench.py runner      # the model runner vs `mlflow models serve`
    .venv/bin/python scripts/bench.py all         # lifecycle, gateway and import (not runner)

`all` leaves out `runner`: it builds .venv-bench with MLflow (minutes on the first run) and measures
the runner alone, not the API. Every benchmark binds 127.0.0.1 only, sends a bounded number of
requests and stops everything it started. Nothing here asserts on time: it reports, it does not judge.

The API needs sign-in: local mode is started with a random KRAKEN_ADMIN_PASSWORD (never printed, nor
are tokens) and the set-up calls carry the admin's Cognito access token. Latencies are measured on
public models, which need no credentials; `gateway` also times a private model asked with a client token.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
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


# ---------------------------------------------------------------------------------------------
# `runner`: the standard model runner vs MLflow's scoring server, same pipeline, same rows
# ---------------------------------------------------------------------------------------------


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


def train_for_runner_bench(out_dir: str) -> None:
    """Runs inside .venv-bench: fit one pipeline, save it for both servers, write sample rows."""
    import joblib
    import mlflow.sklearn

    out = Path(out_dir)
    pipeline, frame = fit_pipeline()
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

            print(
                f"load: {args.requests} requests per server of {len(rows)} rows, concurrency "
                f"{args.concurrency}, {args.rounds} alternating rounds, after {args.warmup} warm-up requests",
                flush=True,
            )
            targets = [
                Target(server.name, server.port, http_request(server.path, server.payload, server.port))
                for server in servers.values()
            ]
            results = alternate(targets, args.requests, args.concurrency, args.rounds, args.warmup)
            rss = {name: tree_rss_mb(server.proc.pid) for name, server in servers.items()}
        finally:
            for server in servers.values():
                stop(server.proc)
            moto.stop()

    print()
    print_table(
        results,
        (
            ("ready s", lambda result: servers[result.name].ready_seconds, ".1f"),
            ("RSS MB", lambda result: rss[result.name], ".0f"),
        ),
    )
    ours, theirs = results
    print()
    print_ratios(ours, theirs, "runner vs MLflow")
    print(f"  time to ready {runner.ready_seconds / mlflow.ready_seconds:5.2f}x  (runner includes its S3 download)")
    print(f"  memory (RSS)  {rss[runner.name] / rss[mlflow.name]:5.2f}x")
    return 0 if ours.errors == theirs.errors == 0 else 1


# ---------------------------------------------------------------------------------------------
# Local mode, driven through its API the way a user would
# ---------------------------------------------------------------------------------------------

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
        print(f"run this with the project environment: .venv/bin/python scripts/bench.py {command}", file=sys.stderr)
        return True
    return False


# The admin's password in local mode: chosen here, handed over in KRAKEN_ADMIN_PASSWORD, never printed.
ADMIN_PASSWORD = "bench-" + secrets.token_urlsafe(18)


ANONYMOUS: dict[str, Any] = {"headers": {"Authorization": None}}  # requests drops a session header set to None


class Api:
    """The kraken API under `base` (…/api) over one keep-alive session, signed in as local mode's admin."""

    def __init__(self, port: int) -> None:
        import requests

        self.port = port
        self.base = f"http://{HOST}:{port}/api"
        self.session = requests.Session()
        self.sign_in()

    def sign_in(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
        """Sign in as the console does (Cognito's InitiateAuth at the address /config.json gives); every later
        call on the session carries the access token. Neither the password nor the token is ever printed."""
        auth = self.session.get(f"http://{HOST}:{self.port}/config.json", timeout=10).json()["auth"]
        response = self.session.post(
            auth["cognitoEndpoint"] + "/",
            data=json.dumps(
                {
                    "AuthFlow": "USER_PASSWORD_AUTH",
                    "ClientId": auth["clientId"],
                    "AuthParameters": {"USERNAME": username, "PASSWORD": password},
                }
            ),
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
            },
            timeout=10,
        )
        if response.status_code != 200:
            raise SystemExit(f"signing in as {username} failed: HTTP {response.status_code}")
        token = response.json()["AuthenticationResult"]["AccessToken"]
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
def local_mode(work: Path) -> Iterator[Api]:
    """`python -m local` on a free port, as ./scripts/local.sh runs it; SIGTERM (and a group kill) at the end."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    env.update({"PYTHONPATH": str(REPO / "backend"), "KRAKEN_PORT": str(port), "KRAKEN_ADMIN_PASSWORD": ADMIN_PASSWORD})
    log_path = work / "local-mode.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "local"], cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:
        wait_http_ok(f"http://{HOST}:{port}/api/health", proc, 120, log_path)
        yield Api(port)
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


# ---------------------------------------------------------------------------------------------
# `lifecycle`: from POST start to the first successful prediction, in local mode
# ---------------------------------------------------------------------------------------------


def print_seconds(rows: list[tuple[str, list[float]]], unit: str = "s", scale: float = 1.0) -> None:
    header = f"{'':<44}{'n':>4}{'median ' + unit:>12}{'max ' + unit:>10}{'min ' + unit:>10}"
    print(header)
    print("-" * len(header))
    for label, values in rows:
        scaled = [value * scale for value in values]
        print(f"{label:<44}{len(scaled):>4}{median(scaled):>12.3f}{max(scaled):>10.3f}{min(scaled):>10.3f}")


def bench_lifecycle(args: argparse.Namespace) -> int:
    if needs_project_env("lifecycle"):
        return 2
    if args.fresh < 1:
        print("--fresh must be at least 1: the start/stop cycles reuse the first fresh model", file=sys.stderr)
        return 2
    fresh: list[StartTiming] = []
    restarts: list[StartTiming] = []
    stops: list[float] = []
    with tempfile.TemporaryDirectory(prefix="kraken-bench-") as tmp:
        work = Path(tmp)
        artifact, rows = save_pipeline(work)
        print(
            f"local mode: {args.fresh} fresh model(s) started once, then {args.cycles} start/stop cycles of one "
            f"model; predictions polled every {args.poll_ms:g} ms",
            flush=True,
        )
        with local_mode(work) as api:
            models = [api.create_model(f"bench-lifecycle-{i}", artifact) for i in range(args.fresh)]
            for model_id in models:
                fresh.append(time_start(api, model_id, prediction_body(model_id, rows[:5]), args.poll_ms / 1000))
                stops.append(time_stop(api, model_id))
            body = prediction_body(models[0], rows[:5])
            for _ in range(args.cycles):
                restarts.append(time_start(api, models[0], body, args.poll_ms / 1000))
                stops.append(time_stop(api, models[0]))
    print()
    for title, timings in (("first start of a fresh model", fresh), ("restart of a stopped model", restarts)):
        print(title)
        print_seconds(
            [
                ("POST start answered 202", [t.accepted for t in timings]),
                ("-> runner listening (process up, imports)", [t.listening for t in timings]),
                ("-> model loaded", [t.loaded for t in timings]),
                ("   of which the runner's S3 download", [t.download for t in timings]),
                ("   of which the runner's joblib.load", [t.unpickle for t in timings]),
                ("-> first HTTP 200 from POST /api/predict", [t.first_prediction for t in timings]),
            ]
        )
        print(f"  predictions refused before the first 200: {sum(t.not_yet for t in timings)} in all\n")
    print_seconds([("POST stop -> status STOPPED", stops)])
    return 0


# ---------------------------------------------------------------------------------------------
# `gateway`: the API's own cost on a prediction, in-process and over HTTP
# ---------------------------------------------------------------------------------------------


def proxy_event(resource: str, path: str, path_parameters: dict[str, str] | None, body: str) -> dict[str, Any]:
    """An API Gateway REST proxy-integration event (payload 1.0), as Lambda receives it behind /api.

    No Authorization header: the model asked is public, so what is timed is the gateway, not a sign-in."""
    headers = {
        "Accept": "*/*",
        "Content-Type": "application/json",
        "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "kraken-bench",
        "X-Forwarded-For": "127.0.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    return {
        "resource": resource,
        "path": path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": "POST",
            "path": f"/api{path}",
            "stage": "api",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": "000000000000",
            "apiId": "abcdef1234",
            "resourceId": "abc123",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "kraken-bench"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def server_timing(header: str) -> dict[str, float]:
    """`container;dur=1.23, gateway;dur=0.40` -> {"container": 1.23, "gateway": 0.4}."""
    timings = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "dur":
                timings[name] = float(value)
    return timings


def print_milliseconds(rows: list[tuple[str, list[float]]]) -> None:
    header = f"{'':<46}{'n':>6}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'mean ms':>9}"
    print(header)
    print("-" * len(header))
    for label, values in rows:
        timing = LoadResult(label, [value / 1000 for value in values])
        print(
            f"{label:<46}{len(values):>6}{timing.percentile(0.5):>9.3f}{timing.percentile(0.9):>9.3f}"
            f"{timing.percentile(0.99):>9.3f}{statistics.fmean(values):>9.3f}"
        )


CALLS_FAILED = 3  # the in-process child's exit code when some handler calls did not answer 200


def gateway_in_process(args: argparse.Namespace) -> int:
    """Runs in a child process (it changes os.environ and starts threads): local mode's wiring built here,
    the runner as its child, and the Chalice handler called directly with proxy events."""
    sys.path.insert(0, str(REPO / "backend"))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from chalice.local import LambdaContext

    from chalicelib import config, wiring
    from local.emulator import (
        Emulator,
        create_resources,
        create_user_pool,
        use_emulator,  # local mode's own set-up, so this cannot drift from it
    )
    from local.wiring import LocalWiring

    rows = json.loads(Path(args.rows_file).read_text())
    emulator = Emulator()
    services: LocalWiring | None = None
    server: Any = None
    try:
        use_emulator(emulator.start())
        os.environ.update(create_user_pool(config.from_environment(), ADMIN_PASSWORD))  # as local mode does
        settings = config.from_environment()
        port = free_port()
        create_resources(settings, [f"http://{HOST}:{port}"])
        services = LocalWiring(settings)
        wiring.install(services)
        from app import app
        from local.server import LocalServer

        auth = {
            "userPoolId": settings.user_pool_id,
            "clientId": settings.user_pool_client_id,
            "region": settings.region,
            "cognitoEndpoint": settings.aws_endpoint_url,
        }
        server = LocalServer(app, port, None, {"auth": auth})  # /config.json, for Api's sign-in
        server.start()
        model_id = start_model(Api(port), "bench-in-process", Path(args.artifact), rows)  # a public model

        # Two wirings over the same emulator and runner: local mode's (prediction lines go to the emulator's
        # Logs and metrics from background threads) and the one the Lambda function builds (one EMF line per
        # prediction on stdout, sent to /dev/null here).
        variants = [("local wiring", services), ("Lambda wiring, EMF to /dev/null", wiring.Wiring(settings))]
        body = json.dumps(prediction_body(model_id, rows))
        context = LambdaContext("kraken-api", memory_size=512)
        measured: dict[str, dict[str, list[float]]] = {
            name: {"total": [], "container": [], "gateway": []} for name, _ in variants
        }
        errors: dict[str, int] = dict.fromkeys(measured, 0)

        def call(name: str, keep: bool) -> None:
            event = proxy_event("/predict", "/predict", None, body)
            started = time.perf_counter()
            response = app(event, context)
            total_ms = (time.perf_counter() - started) * 1000
            if response["statusCode"] != 200:
                errors[name] += 1
                return
            if keep:
                timing = server_timing(response["headers"]["Server-Timing"])
                measured[name]["total"].append(total_ms)
                measured[name]["container"].append(timing["container"])
                measured[name]["gateway"].append(timing["gateway"])

        def run(variant: tuple[str, Any], count: int, keep: bool) -> None:
            name, chosen = variant
            wiring.install(chosen)
            with Path(os.devnull).open("w") as sink, contextlib.redirect_stdout(sink):
                for _ in range(count):
                    call(name, keep)

        for variant in variants:
            run(variant, args.warmup, keep=False)
        for _ in range(args.rounds):
            for variant in variants:
                run(variant, max(1, args.calls // args.rounds), keep=True)
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            run(variants[1], args.profile, keep=False)
            profiler.disable()
            wiring.install(services)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        if services is not None:
            services.shutdown()
        emulator.stop()

    print(
        f"(a) in-process: app(event, context) with API Gateway proxy events for POST /predict to a public model, "
        f"{len(rows)} rows; "
        f"{args.warmup} warm-up calls, then {args.calls} per wiring in {args.rounds} alternating rounds",
    )
    for name, values in measured.items():
        own = [total - container for total, container in zip(values["total"], values["container"], strict=True)]
        print(f"\n{name}" + (f"  ({errors[name]} calls failed)" if errors[name] else ""))
        print_milliseconds(
            [
                ("gateway (Server-Timing gateway;dur)", values["gateway"]),
                ("handler total - container (timed here)", own),
                ("container (Server-Timing container;dur)", values["container"]),
                ("handler total (timed here)", values["total"]),
            ]
        )
        p50 = LoadResult(name, [v / 1000 for v in values["gateway"]]).percentile(0.5)
        print(f"  gateway p50 {p50:.3f} ms against the 0.5 ms target: {'met' if p50 <= 0.5 else 'missed'}")
    if args.profile:
        print(f"\nprofile of {args.profile} calls (Lambda wiring), by own time:")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return CALLS_FAILED if any(errors.values()) else 0


def bench_gateway(args: argparse.Namespace) -> int:
    if needs_project_env("gateway"):
        return 2
    with tempfile.TemporaryDirectory(prefix="kraken-bench-") as tmp:
        work = Path(tmp)
        artifact, rows = save_pipeline(work)
        rows = rows[: args.rows]
        rows_file = work / "rows.json"
        rows_file.write_text(json.dumps(rows))
        command = [
            sys.executable, __file__, "_gateway-in-process", "--artifact", str(artifact), "--rows-file",
            str(rows_file), "--calls", str(args.calls), "--warmup", str(args.warmup), "--rounds", str(args.rounds),
            "--profile", str(args.profile),
        ]  # fmt: skip
        print("(a) setting up local-mode wiring in a child process", flush=True)
        child = subprocess.Popen(command, cwd=REPO, start_new_session=True)
        try:
            in_process_code = child.wait(timeout=900)
            if in_process_code not in (0, CALLS_FAILED):
                print(f"the in-process benchmark failed with exit code {in_process_code}", file=sys.stderr)
                return 1
        finally:
            stop(child, leader_first=True)

        print(f"\n(b) over HTTP in local mode: {len(rows)} rows per request", flush=True)
        with local_mode(work) as api:
            model_id = start_model(api, "bench-gateway", artifact, rows)
            private_id, credentials = start_private_model(api, "bench-gateway-private", artifact, rows)
            runner_port = int(api.runner_record(model_id, "runner listening")["port"])
            api_port = api.port
            body = prediction_body(model_id, rows)
            private_body = prediction_body(private_id, rows)
            targets = [
                Target(
                    "API /api/models/{id}/predict",
                    api_port,
                    http_request(f"/api/models/{model_id}/predict", body, api_port),
                ),
                Target("runner /predict (direct)", runner_port, http_request("/predict", body, runner_port)),
                # Same request to a private model with a client token (Basic name:token): the check's cost.
                Target(
                    "API, private model + client token",
                    api_port,
                    http_request(f"/api/models/{private_id}/predict", private_body, api_port, credentials),
                ),
            ]
            results = {}
            for concurrency in args.concurrency:
                print(
                    f"  concurrency {concurrency}: {args.requests} requests per target in {args.rounds} alternating "
                    f"rounds after {args.warmup} warm-up requests",
                    flush=True,
                )
                results[concurrency] = alternate(targets, args.requests, concurrency, args.rounds, args.warmup)
    failed = in_process_code == CALLS_FAILED
    for concurrency, (through, direct, private) in results.items():
        print(f"\nconcurrency {concurrency} (keep-alive connections)")
        print_table([through, direct, private], label="target")
        print_ratios(through, direct, "through the API (public model) vs the runner directly")
        print(f"  added p50    {through.percentile(0.5) - direct.percentile(0.5):5.2f} ms")
        print_ratios(private, through, "extra cost of the client-token check: private model + token vs public model")
        print(f"  added p50    {private.percentile(0.5) - through.percentile(0.5):5.2f} ms")
        failed = failed or bool(through.errors or direct.errors or private.errors)
    return 1 if failed else 0


# ---------------------------------------------------------------------------------------------
# `import`: the API function's cold import, as Lambda's init phase pays it
# ---------------------------------------------------------------------------------------------


def parse_importtime(stderr: str) -> tuple[float, dict[str, float], dict[str, float]]:
    """`app`'s cumulative import time (ms), and its subtree's own time (ms) by top-level package and by module."""
    entries: list[tuple[int, str, int, int]] = []  # level, name, self us, cumulative us
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, raw_name = line.removeprefix("import time:").split("|", 2)
        raw_name = raw_name[1:]  # one space after the bar, then two per nesting level
        name = raw_name.lstrip()
        entries.append(((len(raw_name) - len(name)) // 2, name, int(own), int(cumulative)))
    index = next(i for i, entry in enumerate(entries) if entry[0] == 0 and entry[1] == "app")
    first = index
    while first > 0 and entries[first - 1][0] > 0:
        first -= 1
    by_package: dict[str, float] = {}
    by_module: dict[str, float] = {}
    for _, name, own_us, _ in entries[first : index + 1]:
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + own_us / 1000
        by_module[name] = own_us / 1000
    return entries[index][3] / 1000, by_package, by_module


def bench_import(args: argparse.Namespace) -> int:
    backend = REPO / "backend"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith(("AWS_", "KRAKEN_"))}
    timed = "import time; t = time.perf_counter(); import app; print((time.perf_counter() - t) * 1000)"
    with_importtime: list[float] = []
    plain: list[float] = []
    breakdowns: list[tuple[dict[str, float], dict[str, float]]] = []
    for _ in range(args.runs):  # the two kinds alternate, each in a fresh interpreter
        traced = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import app"],
            cwd=backend, env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        total, by_package, by_module = parse_importtime(traced.stderr)
        with_importtime.append(total)
        breakdowns.append((by_package, by_module))
        untraced = subprocess.run(
            [sys.executable, "-c", timed], cwd=backend, env=env, capture_output=True, text=True, timeout=120, check=True
        )
        plain.append(float(untraced.stdout.strip()))
    print(f"cold `import app` (cwd backend/, {sys.executable}), {args.runs} fresh processes each")
    print_seconds(
        [("python -X importtime: app cumulative", with_importtime), ("perf_counter around `import app`", plain)],
        unit="ms",
    )
    by_package, by_module = breakdowns[with_importtime.index(sorted(with_importtime)[len(with_importtime) // 2])]
    for title, shares in (("top-level package", by_package), ("module", by_module)):
        print(f"\nwhere it goes: own time by {title} (the median -X importtime run, which inflates each a little)")
        for name, ms in sorted(shares.items(), key=lambda item: -item[1])[: args.top]:
            print(f"  {name:<40}{ms:>8.1f} ms")
    print(
        f"\nmedian {median(with_importtime):.1f} ms against the 150 ms target: "
        f"{'met' if median(with_importtime) < 150 else 'missed'}"
    )
    return 0


def bench_all(_args: argparse.Namespace) -> int:
    codes = []
    for command in ("lifecycle", "gateway", "import"):
        print(f"\n===== {command} =====", flush=True)
        codes.append(main([command]))
    return max(codes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Only parsers given a help= are listed; the underscored ones are the benchmarks' own child processes.
    commands = parser.add_subparsers(dest="command", required=True, metavar="{runner,lifecycle,gateway,import,all}")

    runner = commands.add_parser("runner", help="the standard model runner vs `mlflow models serve` (not in `all`)")
    runner.add_argument("--requests", type=int, default=4000, help="measured requests per server")
    runner.add_argument("--concurrency", type=int, default=4, help="keep-alive connections")
    runner.add_argument("--warmup", type=int, default=200, help="unmeasured requests per server first")
    runner.add_argument("--rounds", type=int, default=2, help="alternating measurement rounds")
    runner.add_argument("--rows", type=int, default=5, help="rows per request (at most 10)")
    runner.set_defaults(handler=bench_runner)

    lifecycle = commands.add_parser(
        "lifecycle",
        help="local mode: seconds from POST /models/{id}/start to the first 200 from POST /predict",
        description="Starts local mode, starts fresh models once each, then start/stop-cycles one of them; "
        "reports median and max of start -> first successful prediction, with the runner's own log "
        "lines (listening, model loaded) as a breakdown, and stop -> STOPPED.",
    )
    lifecycle.add_argument("--fresh", type=int, default=2, help="fresh models, each started once")
    lifecycle.add_argument("--cycles", type=int, default=5, help="start/stop cycles of one model")
    lifecycle.add_argument("--poll-ms", type=float, default=20, help="interval between prediction attempts")
    lifecycle.set_defaults(handler=bench_lifecycle)

    gateway = commands.add_parser(
        "gateway",
        help="the API's overhead on a prediction: in-process handler calls, and over HTTP vs the runner",
        description="(a) In a child process: local-mode wiring and a runner, the Chalice handler called "
        "directly with API Gateway proxy events; reports Server-Timing's gateway;dur and the handler's "
        "total minus container time (target p50 <= 0.5 ms), for local mode's wiring and for the wiring "
        "the Lambda function builds. (b) Local mode over real HTTP: POST /api/models/{id}/predict vs the "
        "runner's own /predict, same model and body, alternating rounds, as ratios; plus a private model "
        "asked with a client token (Basic name:token), as the client-token check's cost against the public "
        "model. Latencies are measured on public models (no credentials), so they time the gateway itself; "
        "the set-up signs in as local mode's admin. The cold import of the API function is the separate "
        "`import` command.",
    )
    gateway.add_argument("--calls", type=int, default=2000, help="(a) measured handler calls per wiring")
    gateway.add_argument("--requests", type=int, default=2000, help="(b) measured requests per target and level")
    gateway.add_argument("--warmup", type=int, default=200, help="unmeasured calls/requests per target first")
    gateway.add_argument("--rounds", type=int, default=4, help="alternating measurement rounds")
    gateway.add_argument("--concurrency", type=int, nargs="+", default=[1, 4], help="(b) keep-alive connections")
    gateway.add_argument("--rows", type=int, default=5, help="rows per request (at most 10)")
    gateway.add_argument("--profile", type=int, default=0, help="(a) also cProfile this many handler calls")
    gateway.set_defaults(handler=bench_gateway)

    cold = commands.add_parser(
        "import",
        help="cold `import app` (cwd backend/) in fresh interpreters: median ms (target < 150 ms)",
    )
    cold.add_argument("--runs", type=int, default=7, help="fresh processes per measurement kind")
    cold.add_argument("--top", type=int, default=10, help="packages to list by import time")
    cold.set_defaults(handler=bench_import)

    everything = commands.add_parser(
        "all",
        help="lifecycle, gateway and import with their defaults; not runner (it builds .venv-bench with "
        "MLflow, minutes on a first run, and measures the runner alone)",
    )
    everything.set_defaults(handler=bench_all)

    train = commands.add_parser("_train-runner")
    train.add_argument("out_dir")
    train.set_defaults(handler=lambda args: train_for_runner_bench(args.out_dir) or 0)
    in_process = commands.add_parser("_gateway-in-process")
    in_process.add_argument("--artifact", required=True)
    in_process.add_argument("--rows-file", required=True)
    in_process.add_argument("--calls", type=int, default=2000)
    in_process.add_argument("--warmup", type=int, default=200)
    in_process.add_argument("--rounds", type=int, default=4)
    in_process.add_argument("--profile", type=int, default=0)
    in_process.set_defaults(handler=gateway_in_process)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
