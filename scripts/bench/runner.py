"""`runner`: the standard model runner vs `mlflow models serve` and Seldon MLServer, same pipeline, same rows.

Each server is loaded by wrk (compiled) over 1, 4 and 16 keep-alive connections with 5-row and 100-row
requests, in alternating rounds so a shared machine's noise falls on all of them evenly. Memory is the
process tree's RSS and PSS once loaded and after the load (PSS splits pages shared by forked workers).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.bench.harness import (
    BUCKET,
    HOST,
    REPO,
    bench_command,
    bench_python,
    fit_pipeline,
    free_port,
    post_json,
    stop,
    tree_memory_mb,
    wait_http_ok,
)
from scripts.bench.wrk import WrkResult, merge, print_results, require_wrk, run_wrk

MLSERVER_MODEL = "pipeline"
# The runner as it was before batching and workers (one process, every request scored alone): the baseline
# for "no slower at one connection".
RUNNER_VARIANTS = {
    "runner, 1 worker, unbatched": {"KRAKEN_WORKERS": "1", "KRAKEN_BATCH_MAX_SIZE": "1"},
    "runner, 1 worker, batched": {"KRAKEN_WORKERS": "1"},
    "runner, 2 workers, batched": {"KRAKEN_WORKERS": "2"},
}


def train_for_runner_bench(args: argparse.Namespace) -> int:
    """Runs inside .venv-bench: fit one pipeline, save it for every server, write sample rows."""
    import joblib
    import mlflow.sklearn

    out = Path(args.out_dir)
    pipeline, frame = fit_pipeline()
    joblib.dump(pipeline, out / "pipeline.joblib")
    mlflow.sklearn.save_model(pipeline, str(out / "mlflow-model"), serialization_format="cloudpickle")
    mlserver = out / "mlserver-model"
    mlserver.mkdir()
    joblib.dump(pipeline, mlserver / "pipeline.joblib")
    settings = {"name": MLSERVER_MODEL, "implementation": "mlserver_sklearn.SKLearnModel"}
    (mlserver / "model-settings.json").write_text(json.dumps({**settings, "parameters": {"uri": "./pipeline.joblib"}}))
    sample = frame.head(100)
    (out / "sample.json").write_text(
        json.dumps({"records": sample.to_dict(orient="records"), "expected": pipeline.predict(sample).tolist()})
    )
    return 0


@dataclass
class Server:
    name: str
    port: int
    path: str
    proc: subprocess.Popen[bytes]
    ready_seconds: float
    body: Callable[[list[dict[str, Any]]], Any]  # the request body for these rows, in the server's protocol
    results: Callable[[Any], Any]  # the predictions in its answer
    memory: dict[str, tuple[float, float]] = field(default_factory=dict)  # when -> (RSS, PSS) MB


def _spawn(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    with (log_dir / f"{name.replace(' ', '-').replace(',', '')}.log").open("wb") as log:
        return subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=log, start_new_session=True)


def start_runner(name: str, extra_env: dict[str, str], moto_endpoint: str, log_dir: Path) -> Server:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KRAKEN_"))},
        "PYTHONPATH": str(REPO / "backend"),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "KRAKEN_ARTIFACT_URI": f"s3://{BUCKET}/bench/pipeline.joblib",
        "KRAKEN_ARTIFACT_FORMAT": "joblib",
        "KRAKEN_MODEL_HOST": HOST,
        "KRAKEN_MODEL_PORT": str(port),
        **extra_env,
    }
    proc = _spawn(name, [sys.executable, "-m", "runner"], env, log_dir)
    log = log_dir / f"{name.replace(' ', '-').replace(',', '')}.log"
    ready = wait_http_ok(f"http://{HOST}:{port}/health", proc, 120, log)
    return Server(name, port, "/predict", proc, ready, lambda rows: {"modelData": rows}, lambda b: b["results"])


def start_mlflow(python: Path, model_dir: Path, log_dir: Path) -> Server:
    port, name = free_port(), "mlflow models serve"
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
    proc = _spawn(name, command, env, log_dir)
    ready = wait_http_ok(f"http://{HOST}:{port}/ping", proc, 180, log_dir / "mlflow-models-serve.log")
    return Server(
        name, port, "/invocations", proc, ready, lambda rows: {"dataframe_records": rows}, lambda b: b["predictions"]
    )


def mlserver_body(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The V2 inference protocol's request for a DataFrame: one input per column, `pd` content type."""
    inputs = []
    for column in rows[0]:
        values = [row[column] for row in rows]
        datatype = "BYTES" if isinstance(values[0], str) else "FP64"
        inputs.append({"name": column, "shape": [len(values)], "datatype": datatype, "data": values})
    return {"parameters": {"content_type": "pd"}, "inputs": inputs}


def start_mlserver(python: Path, model_dir: Path, log_dir: Path) -> Server:
    """MLServer with its default settings (one inference worker), only the addresses chosen."""
    port, name = free_port(), "mlserver (defaults)"
    env = {
        **os.environ,
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLSERVER_HOST": HOST,
        "MLSERVER_HTTP_PORT": str(port),
        "MLSERVER_GRPC_PORT": str(free_port()),
        "MLSERVER_METRICS_PORT": str(free_port()),
        "PYTHONWARNINGS": "ignore",
    }
    proc = _spawn(name, [str(python.parent / "mlserver"), "start", str(model_dir)], env, log_dir)
    url = f"http://{HOST}:{port}/v2/models/{MLSERVER_MODEL}/ready"
    ready = wait_http_ok(url, proc, 180, log_dir / "mlserver-(defaults).log")
    return Server(
        name, port, f"/v2/models/{MLSERVER_MODEL}/infer", proc, ready, mlserver_body,
        lambda body: body["outputs"][0]["data"],
    )  # fmt: skip


def _start_all(args: argparse.Namespace, python: Path, work: Path, endpoint: str, servers: list[Server]) -> None:
    """Start the chosen servers into `servers` one by one, so the caller stops those started if one fails."""

    def wanted(name: str) -> bool:
        return not args.only or any(word in name for word in args.only)

    for name, env in RUNNER_VARIANTS.items():
        if wanted(name):
            servers.append(start_runner(name, env, endpoint, work))
    if wanted("mlflow models serve"):
        servers.append(start_mlflow(python, work / "mlflow-model", work))
    if wanted("mlserver (defaults)"):
        servers.append(start_mlserver(python, work / "mlserver-model", work))


def _check(servers: list[Server], rows: list[dict[str, Any]], expected: list[Any]) -> None:
    for server in servers:
        got = server.results(post_json(f"http://{HOST}:{server.port}{server.path}", server.body(rows)))
        if got != expected:
            raise SystemExit(f"{server.name} predicted {got[:5]}..., expected {expected[:5]}...")


def _measure(args: argparse.Namespace, servers: list[Server], records: list[dict[str, Any]]) -> dict[Any, WrkResult]:
    wrk = require_wrk()
    measured: dict[Any, list[WrkResult]] = {}
    for rows in args.rows:
        bodies = {server.name: json.dumps(server.body(records[:rows])).encode() for server in servers}
        for connections in args.connections:
            print(f"  {rows} rows, {connections} connections", flush=True)
            for server in servers:  # warm-up, unmeasured
                run_wrk(wrk, server.name, server.port, server.path, bodies[server.name], connections, args.warmup)
            for _ in range(args.rounds):
                for server in servers:
                    result = run_wrk(
                        wrk, server.name, server.port, server.path, bodies[server.name], connections, args.seconds
                    )
                    measured.setdefault((rows, connections, server.name), []).append(result)
    return {key: merge(results) for key, results in measured.items()}


def _print(servers: list[Server], results: dict[Any, WrkResult], args: argparse.Namespace) -> None:
    for rows in args.rows:
        for connections in args.connections:
            print(f"\n{rows} rows per request, {connections} connections")
            print_results([results[(rows, connections, server.name)] for server in servers])
    print(f"\n{'server':<30}{'ready s':>9}{'RSS MB':>9}{'PSS MB':>9}{'RSS after':>11}{'PSS after':>11}")
    for server in servers:
        (rss, pss), (rss_after, pss_after) = server.memory["ready"], server.memory["after"]
        print(
            f"{server.name:<30}{server.ready_seconds:>9.1f}{rss:>9.0f}{pss:>9.0f}{rss_after:>11.0f}{pss_after:>11.0f}"
        )


BEST, TODAY, ONE_WORKER, MLSERVER = (
    "runner, 2 workers, batched",
    "runner, 1 worker, unbatched",
    "runner, 1 worker, batched",
    "mlserver (defaults)",
)


def _ratios(servers: list[Server], results: dict[Any, WrkResult], args: argparse.Namespace) -> None:
    names = {server.name for server in servers}
    print("\nratios (each against the other server at the same rows and connections)")
    for rows in args.rows:
        for connections in args.connections:
            ours = results.get((rows, connections, BEST))
            for other in (MLSERVER, "mlflow models serve", TODAY):
                theirs = results.get((rows, connections, other))
                if ours is None or theirs is None or other not in names:
                    continue
                print(
                    f"  {rows:>3} rows, {connections:>2} conn: {BEST} vs {other}: "
                    f"throughput {ours.throughput / theirs.throughput:5.2f}x, p50 {ours.p50_ms / theirs.p50_ms:5.2f}x, "
                    f"p99 {ours.p99_ms / theirs.p99_ms:5.2f}x"
                )
    memory = {server.name: server.memory["after"][1] for server in servers}
    if BEST in memory and ONE_WORKER in memory:
        print(f"  memory (PSS after load): 2 workers vs 1 worker {memory[BEST] / memory[ONE_WORKER]:5.2f}x")
    _targets(results, memory, args)


def _targets(results: dict[Any, WrkResult], memory: dict[str, float], args: argparse.Namespace) -> None:
    """The issue's targets, judged on this run's ratios (reported, never asserted)."""
    print("\ntargets")
    for rows in args.rows:
        ours, mlserver = results.get((rows, 4, BEST)), results.get((rows, 4, MLSERVER))
        if ours and mlserver:
            met = ours.throughput >= 3 * mlserver.throughput and ours.p50_ms <= mlserver.p50_ms
            print(
                f"  {rows} rows, 4 connections: >= 3x MLServer's throughput, p50 no worse: {'met' if met else 'missed'}"
            )
        ours, today = results.get((rows, 1, BEST)), results.get((rows, 1, TODAY))
        if ours and today:
            met = ours.throughput >= today.throughput
            print(f"  {rows} rows, 1 connection: no slower than today's runner: {'met' if met else 'missed'}")
    if BEST in memory and ONE_WORKER in memory:
        met = memory[BEST] < 1.5 * memory[ONE_WORKER]
        print(f"  memory with 2 workers under 1.5x one worker: {'met' if met else 'missed'}")


def bench_runner(args: argparse.Namespace) -> int:
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        print("run this with the project environment: .venv/bin/python -m scripts.bench runner", file=sys.stderr)
        return 2
    require_wrk()
    python = bench_python()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    servers: list[Server] = []
    moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    with tempfile.TemporaryDirectory(prefix="kraken-bench-") as tmp:
        work = Path(tmp)
        try:
            print("training the pipeline in .venv-bench and saving it for every server", flush=True)
            subprocess.run(bench_command(python, "_train-runner", tmp), cwd=REPO, check=True, timeout=600)
            sample = json.loads((work / "sample.json").read_text())
            moto.start()
            moto_host, moto_port = moto.get_host_and_port()
            endpoint = f"http://{moto_host}:{moto_port}"
            s3 = boto3.client(
                "s3", endpoint_url=endpoint, region_name="us-east-1",
                aws_access_key_id="bench", aws_secret_access_key="bench",
            )  # fmt: skip
            s3.create_bucket(Bucket=BUCKET)
            s3.upload_file(str(work / "pipeline.joblib"), BUCKET, "bench/pipeline.joblib")
            print("starting the servers", flush=True)
            _start_all(args, python, work, endpoint, servers)
            for server in servers:
                server.memory["ready"] = tree_memory_mb(server.proc.pid)
            _check(servers, sample["records"][: max(args.rows)], sample["expected"][: max(args.rows)])
            print(f"load (wrk): {args.rounds} rounds of {args.seconds:g} s per server and setting", flush=True)
            results = _measure(args, servers, sample["records"])
            for server in servers:
                server.memory["after"] = tree_memory_mb(server.proc.pid)
        finally:
            for server in servers:
                stop(server.proc)
            moto.stop()
    _print(servers, results, args)
    _ratios(servers, results, args)
    return 0 if all(result.errors == 0 for result in results.values()) else 1


def add_commands(commands: Any) -> None:
    """Register this benchmark's subcommands on the CLI's subparsers."""
    runner = commands.add_parser(
        "runner", help="the standard model runner vs `mlflow models serve` and MLServer, with wrk (not in `all`)"
    )
    runner.add_argument("--seconds", type=int, default=4, help="measured seconds per server, setting and round")
    runner.add_argument("--warmup", type=int, default=1, help="unmeasured seconds per server and setting first")
    runner.add_argument("--rounds", type=int, default=2, help="alternating measurement rounds")
    runner.add_argument("--connections", type=int, nargs="+", default=[1, 4, 16], help="keep-alive connections")
    runner.add_argument("--rows", type=int, nargs="+", default=[5, 100], help="rows per request (at most 100)")
    runner.add_argument("--only", nargs="+", default=[], help="only the servers whose name has one of these words")
    runner.set_defaults(handler=bench_runner)

    train = commands.add_parser("_train-runner")
    train.add_argument("out_dir")
    train.set_defaults(handler=train_for_runner_bench)
