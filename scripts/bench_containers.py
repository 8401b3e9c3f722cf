"""Benchmark: the runner image's size, and start -> healthy and prediction latency in a container and as a process.

Run from the repository root: `.venv/bin/python scripts/bench_containers.py [--rounds 3]`. Both runtimes
are measured side by side in one run, through local mode over HTTP (POST start until the record says
RUNNING; then sequential predictions through the gateway), on the same scikit-learn pipeline; the
image is built first if it is missing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "backend")]

import requests  # noqa: E402

from local.engine import ensure_runner_image, find_engine  # noqa: E402
from tests.e2e.conftest import LocalMode, start_local_mode  # noqa: E402
from tests.e2e.test_gateway_local import predict  # noqa: E402
from tests.e2e.test_lifecycle_local import create_model, status, trained_pipeline, wait_for  # noqa: E402

START_SECONDS = 120
PREDICTIONS = 300


def start_to_healthy(local: LocalMode, model_id: str) -> float:
    started = time.perf_counter()
    local.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(local, model_id)["status"] == "RUNNING", START_SECONDS, "RUNNING")
    seconds = time.perf_counter() - started
    local.request("POST", f"/api/models/{model_id}/stop", {})
    wait_for(lambda: status(local, model_id)["status"] == "STOPPED", START_SECONDS, "STOPPED")
    return seconds


def median_prediction_ms(local: LocalMode, model_id: str) -> float:
    local.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(local, model_id)["status"] == "RUNNING", START_SECONDS, "RUNNING")
    timings = []
    with requests.Session() as session:
        for _ in range(PREDICTIONS):
            started = time.perf_counter()
            assert predict(local, model_id, session).status_code == 200
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def measure(runtime: str, rounds: int) -> tuple[list[float], float]:
    local = start_local_mode({"KRAKEN_LOCAL_RUNTIME": runtime})
    try:
        model_id = create_model(local, f"bench-{runtime}", trained_pipeline())
        starts = [start_to_healthy(local, model_id) for _ in range(rounds)]
        return starts, median_prediction_ms(local, model_id)
    finally:
        local.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    engine = find_engine()
    image = ensure_runner_image(engine)
    size = int(engine.run("image", "inspect", "--format", "{{.Size}}", image, check=True).stdout)
    container, container_ms = measure("container", rounds)
    process, process_ms = measure("process", rounds)
    result = {
        "image": image,
        "imageMegabytes": round(size / 1e6),
        "containerStartToHealthySeconds": [round(s, 2) for s in container],
        "processStartToHealthySeconds": [round(s, 2) for s in process],
        "startRatioContainerToProcess": round(statistics.median(container) / statistics.median(process), 2),
        "containerPredictionMedianMs": round(container_ms, 2),
        "processPredictionMedianMs": round(process_ms, 2),
        "predictionRatioContainerToProcess": round(container_ms / process_ms, 2),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
