"""Benchmark: the runner image's size and a model's start -> healthy time, in a container and as a process.

Run from the repository root: `.venv/bin/python scripts/bench_containers.py [--rounds 3]`. Both runtimes
are measured side by side in one run, through local mode over HTTP (POST start until the record says
RUNNING), on the same scikit-learn pipeline; the image is built first if it is missing.
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

from local.engine import ensure_runner_image, find_engine  # noqa: E402
from tests.e2e.conftest import LocalMode, start_local_mode  # noqa: E402
from tests.e2e.test_lifecycle_local import create_model, status, trained_pipeline, wait_for  # noqa: E402

START_SECONDS = 120


def start_to_healthy(local: LocalMode, model_id: str) -> float:
    started = time.perf_counter()
    local.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(local, model_id)["status"] == "RUNNING", START_SECONDS, "RUNNING")
    seconds = time.perf_counter() - started
    local.request("POST", f"/api/models/{model_id}/stop", {})
    wait_for(lambda: status(local, model_id)["status"] == "STOPPED", START_SECONDS, "STOPPED")
    return seconds


def measure(runtime: str, rounds: int) -> list[float]:
    local = start_local_mode({"KRAKEN_LOCAL_RUNTIME": runtime})
    try:
        model_id = create_model(local, f"bench-{runtime}", trained_pipeline())
        return [start_to_healthy(local, model_id) for _ in range(rounds)]
    finally:
        local.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    engine = find_engine()
    image = ensure_runner_image(engine)
    size = int(engine.run("image", "inspect", "--format", "{{.Size}}", image, check=True).stdout)
    container = measure("container", rounds)
    process = measure("process", rounds)
    result = {
        "image": image,
        "imageMegabytes": round(size / 1e6),
        "containerStartToHealthySeconds": [round(s, 2) for s in container],
        "processStartToHealthySeconds": [round(s, 2) for s in process],
        "medianRatioContainerToProcess": round(statistics.median(container) / statistics.median(process), 2),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
