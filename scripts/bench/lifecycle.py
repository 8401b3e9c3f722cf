"""`lifecycle`: seconds from POST /models/{id}/start to the first successful prediction, in local mode."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from scripts.bench.harness import print_seconds, save_pipeline
from scripts.bench.localmode import StartTiming, local_mode, needs_project_env, prediction_body, time_start, time_stop


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


def add_commands(commands: Any) -> None:
    """Register this benchmark's subcommands on the CLI's subparsers."""
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
