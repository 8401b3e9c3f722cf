"""`state`: local mode's start with a saved state (N models, M request-history lines), what a save costs, and
what saving a state as it changes costs the callers under load."""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts.bench.harness import HOST, REPO, bench_command, free_port, print_seconds, save_pipeline, stop, wait_http_ok
from scripts.bench.localmode import ADMIN_PASSWORD, Api, local_mode, needs_project_env, prediction_body, start_model
from scripts.bench.wrk import WrkResult, merge, print_results, require_wrk, run_wrk

KEPT, NONE = "state kept (saved as it changes)", "no state kept"


def fill_in_process(args: argparse.Namespace) -> int:
    """Runs in a child process (moto's state is per process): local mode on `--data`, filled through its
    own services, saved a few times (timed), then stopped as Ctrl-C stops it (the last save)."""
    sys.path.insert(0, str(REPO / "backend"))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from chalicelib.domain.ports import Prediction
    from local.boot import boot
    from local.identities import acting_as
    from local.state import SavedState

    state = SavedState(Path(args.data))
    state.acquire()
    local = boot(free_port(), None, ADMIN_PASSWORD, state)
    local.start(reconciler=False)
    services = local.services
    started = time.monotonic()
    model_ids = []
    with acting_as("api_handler"):
        for i in range(args.models):
            settings = {
                "name": f"bench-state-{i}",
                "version": "1.0",
                "artifact_format": "joblib",
                "container_port": 8080,
                "container_cpu": 0.5,
                "container_memory": 1,
            }
            model_ids.append(services.registry.create(settings, "user:bench").id)
    created = time.monotonic() - started
    started = time.monotonic()
    body = '{"modelData":[{"carat":0.23,"cut":"Ideal"}],"metaData":{}}'
    for i in range(args.lines):
        services.prediction_log.record(
            Prediction(
                request_id=str(uuid.uuid4()),
                at=datetime.now(UTC),
                model_id=model_ids[i % min(10, len(model_ids))],
                model_version="1.0",
                status=200,
                latency_ms=3.2,
                container_ms=2.1,
                request_bytes=len(body),
                response_bytes=30,
                request_body=body,
                response_body='{"results":[410.0]}',
                caller="user:bench",
            )
        )
    services.shipper.flush()
    services.metrics_worker.flush()
    logged = time.monotonic() - started
    saves, pauses = [], []
    for _ in range(args.saves):
        started = time.monotonic()
        assert local.saver is not None
        local.saver.save()
        saves.append(time.monotonic() - started)
        pauses.append(state.last_pause_seconds)
    started = time.monotonic()
    problem = local.shutdown()
    shutdown = time.monotonic() - started
    if problem:
        raise SystemExit(problem)
    size = (Path(args.data) / "emulator" / "state").stat().st_size
    print(f"filled: {args.models} models in {created:.1f} s, {args.lines} history lines in {logged:.1f} s")
    print(f"snapshot: {size / 1e6:.1f} MB\n")
    print_seconds(
        [
            ("a save: the emulator paused (pickling)", pauses),
            ("a save: in all (with writing, fsync)", saves),
            ("shutdown, with the last save", [shutdown]),
        ]
    )
    return 0


def time_start(data: Path, work: Path) -> tuple[float, float, float]:
    """`python -m local` on `data`: seconds to /api/health 200, to the first models page, and to stop."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    env.update(
        PYTHONPATH=str(REPO / "backend"),
        KRAKEN_PORT=str(port),
        KRAKEN_ADMIN_PASSWORD=ADMIN_PASSWORD,
        KRAKEN_DATA_DIR=str(data),
        KRAKEN_LOCAL_RUNTIME="process",
    )
    log = work / f"local-{port}.log"
    started = time.monotonic()
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "local"], cwd=REPO, env=env, stdout=sink, stderr=sink, start_new_session=True
        )
    try:
        ready = wait_http_ok(f"http://{HOST}:{port}/api/health", proc, 120, log)
        Api(port).call("GET", "/models?limit=100")
        listed = time.monotonic() - started
        stopping = time.monotonic()
        stop(proc, leader_first=True)
        stopped = time.monotonic() - stopping
    finally:
        stop(proc)
    return ready, listed, stopped


def saving_under_load(args: argparse.Namespace, work: Path, wrk: str) -> bool:
    """Two local modes at once, serving the same model: one keeps a state (KRAKEN_DATA_DIR, as ./scripts/local.sh
    runs it), so it saves the emulator state, which grows with every request, as it changes; the other keeps none.
    wrk loads each in turn, every other round starting with the other (A B B A ...), so the saves' share of the
    machine shows as ratios of the same load. True when no request failed."""
    artifact, rows = save_pipeline(work)
    rows = rows[:5]
    (work / "kept").mkdir()
    (work / "none").mkdir()
    results: dict[str, list[WrkResult]] = {KEPT: [], NONE: []}
    with (
        local_mode(work / "kept", runtime="process", keep_state=True) as kept,
        local_mode(work / "none", runtime="process", keep_state=False) as none,
    ):
        apis = {KEPT: kept, NONE: none}
        model_ids = {name: start_model(api, "bench-state-load", artifact, rows) for name, api in apis.items()}
        paths = {name: f"/api/models/{model_id}/predict" for name, model_id in model_ids.items()}
        bodies = {name: json.dumps(prediction_body(model_id, rows)).encode() for name, model_id in model_ids.items()}
        seconds, rounds = args.load_seconds, args.load_rounds
        print(f"\nunder load: wrk, {args.connections} connections, {rounds} rounds of {seconds} s each", flush=True)
        for name in (KEPT, NONE):
            run_wrk(wrk, name, apis[name].port, paths[name], bodies[name], args.connections, 2)
        for index in range(rounds):
            order = (KEPT, NONE) if index % 2 == 0 else (NONE, KEPT)
            for name in order:
                result = run_wrk(wrk, name, apis[name].port, paths[name], bodies[name], args.connections, seconds)
                results[name].append(result)
                print(
                    f"  round {index + 1}, {name}: {result.throughput:.0f} req/s, p50 {result.p50_ms:.2f} ms",
                    flush=True,
                )
    snapshot = work / "kept" / "local-data-process" / "emulator" / "state"
    kept_all, none_all = merge(results[KEPT]), merge(results[NONE])
    print()
    print_results([kept_all, none_all], label="local mode (all rounds)")
    print(
        f"state kept vs none: throughput {kept_all.throughput / none_all.throughput:.2f}x, p50 "
        f"{kept_all.p50_ms / none_all.p50_ms:.2f}x, p99 {kept_all.p99_ms / none_all.p99_ms:.2f}x"
    )
    ratios = ", ".join(f"{k.throughput / n.throughput:.2f}" for k, n in zip(results[KEPT], results[NONE], strict=True))
    print(f"  throughput ratio round by round: {ratios}")
    if snapshot.exists():
        size = snapshot.stat().st_size / 1e6
        print(f"  the kept state's snapshot after the load (the last save at the stop): {size:.1f} MB")
    return not (kept_all.errors or none_all.errors)


def bench_state(args: argparse.Namespace) -> int:
    if needs_project_env("state"):
        return 2
    wrk = require_wrk() if args.load_rounds else ""
    with tempfile.TemporaryDirectory(prefix="kraken-bench-state-") as tmp:
        work = Path(tmp)
        data = work / "data"
        print(f"local mode's saved state: {args.models} models, {args.lines} request-history lines", flush=True)
        fill = bench_command(sys.executable, "_state-fill", "--data", str(data), "--models", str(args.models))
        fill += ["--lines", str(args.lines), "--saves", str(args.saves)]
        subprocess.run(fill, cwd=REPO, check=True, timeout=1800)
        empty, restored = [], []
        for _ in range(args.rounds):
            empty.append(time_start(work / f"empty-{secrets.token_hex(4)}", work))
            restored.append(time_start(data, work))
        print(f"\n`python -m local`, {args.rounds} starts each, alternating")
        print_seconds(
            [
                ("empty: to /api/health 200", [t[0] for t in empty]),
                ("empty: to the first GET /api/models", [t[1] for t in empty]),
                ("empty: SIGTERM to exit (last save incl.)", [t[2] for t in empty]),
                ("restored: to /api/health 200", [t[0] for t in restored]),
                ("restored: to the first GET /api/models", [t[1] for t in restored]),
                ("restored: SIGTERM to exit (last save incl.)", [t[2] for t in restored]),
            ]
        )
        if args.load_rounds and not saving_under_load(args, work, wrk):
            print("\nincomplete: failed requests under load (see above)")
            return 1
    return 0


def add_commands(commands: Any) -> None:
    """Register this benchmark's subcommands on the CLI's subparsers."""
    state = commands.add_parser(
        "state",
        help="local mode's start with a saved state of N models and M history lines, and the cost of a save",
        description="In a child process, local mode on a temporary data directory is filled through its own "
        "services (models, request-history lines with their metrics), saved a few times (timed) and stopped; "
        "then `python -m local` is started on that directory and on an empty one, alternating, timing "
        "/api/health, the first models page (signed in) and the stop. Then, unless --load-rounds is 0, two local "
        "modes at once serve the same model, one keeping a state (saved as it changes) and one keeping none, "
        "loaded by wrk in turns: the saves' cost to the callers as ratios.",
    )
    state.add_argument("--models", type=int, default=1000, help="models in the saved state")
    state.add_argument("--lines", type=int, default=10000, help="request-history lines in the saved state")
    state.add_argument("--saves", type=int, default=5, help="timed saves of the filled state")
    state.add_argument("--rounds", type=int, default=3, help="starts on each directory")
    state.add_argument(
        "--load-rounds", type=int, default=4, help="under load: rounds of each local mode (0: no load part)"
    )
    state.add_argument("--load-seconds", type=int, default=10, help="under load: measured seconds per round")
    state.add_argument("--connections", type=int, default=4, help="under load: wrk's keep-alive connections")
    state.set_defaults(handler=bench_state)

    fill = commands.add_parser("_state-fill")
    fill.add_argument("--data", required=True)
    fill.add_argument("--models", type=int, default=1000)
    fill.add_argument("--lines", type=int, default=10000)
    fill.add_argument("--saves", type=int, default=5)
    fill.set_defaults(handler=fill_in_process)
