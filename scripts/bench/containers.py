"""`containers`: the runner image's size, and a model's start -> healthy time and prediction latency in a
container and as a child process, side by side: one local mode per runtime, rounds alternating between them."""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.bench.harness import median, print_seconds, save_pipeline
from scripts.bench.localmode import Api, local_mode, needs_project_env, prediction_body

RUNTIMES = ("container", "process")
TITLES = {"container": "in a container (the runner image, its CPU and memory limits)", "process": "as a child process"}
PREDICTION_BLOCKS = 10
IMAGE_TARGET_MB = 500  # issue 20: the standard image, uncompressed (SI megabytes, as `podman images` shows)
START_SECONDS = 180  # a container imports pandas and scikit-learn at half a vCPU, from a cold page cache


@dataclass
class Timings:
    """One runtime's figures, in seconds from POST start (the runner's own log lines for the breakdown)."""

    healthy: list[float] = field(default_factory=list)  # the record says RUNNING: the health check passed
    listening: list[float] = field(default_factory=list)  # "runner listening": container or process up, imports done
    loaded: list[float] = field(default_factory=list)  # "model loaded": artifact downloaded and unpickled
    stopped: list[float] = field(default_factory=list)  # POST stop -> STOPPED
    predictions: list[float] = field(default_factory=list)  # sequential, through the gateway


def runner_image_megabytes() -> tuple[str, float] | None:
    """The runner image (built first when missing) and its size; None, after saying why, without an engine."""
    from local.engine import EngineUnavailable, ensure_runner_image, find_engine

    try:
        engine = find_engine()
        image = ensure_runner_image(engine)
    except EngineUnavailable as error:
        print(f"no container engine works here, so there is no image to measure: {error}", file=sys.stderr)
        return None
    size = int(engine.run("image", "inspect", "--format", "{{.Size}}", image, check=True).stdout)
    return image, size / 1e6


def start_and_stop(api: Api, model_id: str, timings: Timings) -> None:
    wall, started = time.time(), time.monotonic()
    api.call("POST", f"/models/{model_id}/start", expect=(202,))
    api.wait_status(model_id, "RUNNING", START_SECONDS)
    timings.healthy.append(time.monotonic() - started)
    timings.listening.append(float(api.runner_record(model_id, "runner listening", wall)["time"]) - wall)
    timings.loaded.append(float(api.runner_record(model_id, "model loaded", wall)["time"]) - wall)
    stopping = time.monotonic()
    api.call("POST", f"/models/{model_id}/stop", expect=(202,))
    api.wait_status(model_id, "STOPPED")
    timings.stopped.append(time.monotonic() - stopping)


def predict_sequentially(api: Api, body: dict[str, Any], count: int, timings: Timings) -> None:
    for _ in range(count):
        started = time.perf_counter()
        status = api.predict_status(body)
        if status != 200:
            raise SystemExit(f"a prediction answered HTTP {status}")
        timings.predictions.append(time.perf_counter() - started)


def bench_containers(args: argparse.Namespace) -> int:
    if needs_project_env("containers"):
        return 2
    measured = runner_image_megabytes()
    if measured is None:
        return 2
    image, megabytes = measured
    print(f"runner image {image}: {megabytes:.1f} MB uncompressed (target at most {IMAGE_TARGET_MB} MB)", flush=True)
    timings = {runtime: Timings() for runtime in RUNTIMES}
    with tempfile.TemporaryDirectory(prefix="kraken-bench-") as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        artifact, rows = save_pipeline(work)
        print(
            f"one local mode per runtime ({', '.join(RUNTIMES)}), the same pipeline at 0.5 vCPU / 1 GB; "
            f"{args.rounds} start/stop rounds, then {args.predictions} sequential predictions each, alternating",
            flush=True,
        )
        apis = {runtime: stack.enter_context(local_mode(work, runtime)) for runtime in RUNTIMES}
        models = {runtime: api.create_model(f"bench-{runtime}", artifact) for runtime, api in apis.items()}
        for _ in range(args.rounds):
            for runtime, api in apis.items():
                start_and_stop(api, models[runtime], timings[runtime])
        for runtime, api in apis.items():  # both running, so the prediction rounds can alternate
            api.call("POST", f"/models/{models[runtime]}/start", expect=(202,))
            api.wait_status(models[runtime], "RUNNING", START_SECONDS)
        per_block, extra = divmod(args.predictions, PREDICTION_BLOCKS)
        for block in filter(None, (per_block + (i < extra) for i in range(PREDICTION_BLOCKS))):
            for runtime, api in apis.items():
                predict_sequentially(api, prediction_body(models[runtime], rows[:5]), block, timings[runtime])
    print()
    for runtime in RUNTIMES:
        timing = timings[runtime]
        print(TITLES[runtime])
        print_seconds(
            [
                ("POST start -> runner listening (up, imports)", timing.listening),
                ("-> model loaded", timing.loaded),
                ("-> healthy (status RUNNING)", timing.healthy),
                ("POST stop -> status STOPPED", timing.stopped),
            ]
        )
        print_seconds([("prediction through the gateway, sequential", timing.predictions)], unit="ms", scale=1000)
        print()
    container, process = timings["container"], timings["process"]
    print(f"start -> healthy, container / process: {median(container.healthy) / median(process.healthy):.2f}x")
    print(f"median prediction, container / process: {median(container.predictions) / median(process.predictions):.2f}x")
    verdict = "met" if megabytes <= IMAGE_TARGET_MB else "missed"
    print(f"image {megabytes:.1f} MB against the {IMAGE_TARGET_MB} MB target: {verdict}")
    return 0


def add_commands(commands: Any) -> None:
    """Register this benchmark's subcommands on the CLI's subparsers."""
    containers = commands.add_parser(
        "containers",
        help="the runner image's size, and start -> healthy and prediction latency in a container vs a process",
        description="Builds the runner image when it is missing and reports its size; then starts local mode "
        "twice (KRAKEN_LOCAL_RUNTIME=container and =process) with the same public pipeline model, times start "
        "-> healthy (with the runner's own log lines as a breakdown) and stop in alternating rounds, and "
        "sequential predictions through the gateway in alternating blocks. Needs podman or Docker.",
    )
    containers.add_argument("--rounds", type=int, default=3, help="start/stop rounds per runtime")
    containers.add_argument("--predictions", type=int, default=300, help="sequential predictions per runtime")
    containers.set_defaults(handler=bench_containers)
