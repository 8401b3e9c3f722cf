"""`gateway`: the API's own cost on a prediction, in-process (handler calls) and over HTTP (vs the runner)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from scripts.bench.harness import (
    REPO,
    LoadResult,
    Target,
    alternate,
    bench_command,
    free_port,
    http_request,
    print_ratios,
    print_table,
    save_pipeline,
    stop,
)
from scripts.bench.localmode import (
    ADMIN_PASSWORD,
    Api,
    local_mode,
    needs_project_env,
    prediction_body,
    start_model,
    start_private_model,
)


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

    from chalicelib import wiring
    from local.boot import LocalMode, boot

    rows = json.loads(Path(args.rows_file).read_text())
    local: LocalMode | None = None
    try:
        port = free_port()
        local = boot(port, None, ADMIN_PASSWORD)  # local mode's own start-up, so this cannot drift from it
        local.start(reconciler=False)
        services, settings = local.services, local.settings
        from app import app

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
    finally:
        if local is not None:
            wiring.install(local.services)
            local.shutdown()

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
            *bench_command(sys.executable, "_gateway-in-process"), "--artifact", str(artifact), "--rows-file",
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


def add_commands(commands: Any) -> None:
    """Register this benchmark's subcommands on the CLI's subparsers."""
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

    in_process = commands.add_parser("_gateway-in-process")
    in_process.add_argument("--artifact", required=True)
    in_process.add_argument("--rows-file", required=True)
    in_process.add_argument("--calls", type=int, default=2000)
    in_process.add_argument("--warmup", type=int, default=200)
    in_process.add_argument("--rounds", type=int, default=4)
    in_process.add_argument("--profile", type=int, default=0)
    in_process.set_defaults(handler=gateway_in_process)
