"""`runner`: the standard model runner vs `mlflow models serve`, same pipeline, same rows, side by side."""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.bench.harness import (
    BUCKET,
    HOST,
    REPO,
    Target,
    alternate,
    bench_command,
    bench_python,
    fit_pipeline,
    free_port,
    http_request,
    post_json,
    print_ratios,
    print_table,
    stop,
    tree_rss_mb,
    wait_http_ok,
)


def train_for_runner_bench(args: argparse.Namespace) -> int:
    """Runs inside .venv-bench: fit one pipeline, save it for both servers, write sample rows."""
    import joblib
    import mlflow.sklearn

    out = Path(args.out_dir)
    pipeline, frame = fit_pipeline()
    joblib.dump(pipeline, out / "pipeline.joblib")
    mlflow.sklearn.save_model(pipeline, str(out / "mlflow-model"))
    sample = frame.head(10)
    (out / "sample.json").write_text(
        json.dumps({"records": sample.to_dict(orient="records"), "expected": pipeline.predict(sample).tolist()})
    )
    return 0


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
        print("run this with the project environment: .venv/bin/python -m scripts.bench runner", file=sys.stderr)
        return 2
    python = bench_python()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    servers: dict[str, Server] = {}
    moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    with tempfile.TemporaryDirectory(prefix="kraken-bench-") as tmp:
        work = Path(tmp)
        try:
            print("training the pipeline in .venv-bench and saving it for both servers", flush=True)
            subprocess.run(bench_command(python, "_train-runner", tmp), cwd=REPO, check=True, timeout=600)
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


def add_commands(commands: Any) -> None:
    """Register this benchmark's subcommands on the CLI's subparsers."""
    runner = commands.add_parser("runner", help="the standard model runner vs `mlflow models serve` (not in `all`)")
    runner.add_argument("--requests", type=int, default=4000, help="measured requests per server")
    runner.add_argument("--concurrency", type=int, default=4, help="keep-alive connections")
    runner.add_argument("--warmup", type=int, default=200, help="unmeasured requests per server first")
    runner.add_argument("--rounds", type=int, default=2, help="alternating measurement rounds")
    runner.add_argument("--rows", type=int, default=5, help="rows per request (at most 10)")
    runner.set_defaults(handler=bench_runner)

    train = commands.add_parser("_train-runner")
    train.add_argument("out_dir")
    train.set_defaults(handler=train_for_runner_bench)
