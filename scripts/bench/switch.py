"""`switch`: seconds from a deployment change to every answer coming from the new version, and errors meanwhile."""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from scripts.bench.harness import print_seconds, save_pipeline
from scripts.bench.localmode import ANONYMOUS, Api, local_mode, needs_project_env, prediction_body, start_model


class Senders:
    """Clients predicting the whole time; each answer's time, status and serving version is kept."""

    def __init__(self, api: Api, body: dict[str, Any], clients: int) -> None:
        import requests

        self.answers: list[tuple[float, int, str | None]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()

        def send() -> None:
            with requests.Session() as session:
                while not self._stop.is_set():
                    try:
                        answer = session.post(api.base + "/predict", json=body, timeout=30, **ANONYMOUS)
                        seen = (time.monotonic(), answer.status_code, answer.headers.get("X-Model-Version"))
                    except requests.RequestException:
                        seen = (time.monotonic(), 0, None)
                    with self._lock:
                        self.answers.append(seen)

        self._threads = [threading.Thread(target=send, daemon=True) for _ in range(clients)]
        for thread in self._threads:
            thread.start()

    def since(self, moment: float) -> list[tuple[float, int, str | None]]:
        with self._lock:
            return [a for a in self.answers if a[0] >= moment]

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=40)


def _switch(api: Api, model_id: str, senders: Senders, version: int, settle: int) -> tuple[float, int]:
    """(seconds until `settle` answers in a row came from `version`, non-200 answers in that time)."""
    started = time.monotonic()
    api.deploy(model_id, [{"version": version, "weight": 100}], f"bench: switch to {version}")
    while True:
        answers = senders.since(started)
        recent = answers[-settle:]
        if len(recent) == settle and all(v == str(version) for _, _, v in recent):
            first_of_run = recent[0][0]
            return first_of_run - started, sum(1 for _, status, _ in answers if status != 200)
        if time.monotonic() - started > 180:
            raise SystemExit(f"version {version} did not take all the traffic within 180 s")
        time.sleep(0.05)


def bench_switch(args: argparse.Namespace) -> int:
    if needs_project_env("switch"):
        return 2
    seconds: list[float] = []
    errors = 0
    with tempfile.TemporaryDirectory(prefix="kraken-bench-") as tmp:
        work = Path(tmp)
        artifact, rows = save_pipeline(work)
        with local_mode(work) as api:
            model_id = start_model(api, "bench-switch", artifact, rows[:5])
            api.add_version(model_id, artifact)  # version 2: the same file again
            senders = Senders(api, prediction_body(model_id, rows[:5]), args.clients)
            try:
                print(
                    f"local mode: {args.switches} switches between two versions under {args.clients} clients "
                    "predicting continuously",
                    flush=True,
                )
                for turn in range(args.switches):
                    took, failed = _switch(api, model_id, senders, 2 if turn % 2 == 0 else 1, args.settle)
                    seconds.append(took)
                    errors += failed
            finally:
                senders.close()
            answered = len(senders.answers)
    print()
    # The first switch starts the new version's replica; the later ones go back to a version that is
    # still draining (it keeps running for the predict timeout plus a margin), so they need no start.
    print_seconds(
        [
            ("to a version not running: change -> every answer from it", seconds[:1]),
            ("back to a version still draining", seconds[1:]),
        ]
    )
    print(f"  answers during the run: {answered}; non-200 answers during the switches: {errors} (must be 0)")
    return 0 if errors == 0 else 1


def add_commands(commands: Any) -> None:
    """Register this benchmark's subcommands on the CLI's subparsers."""
    switch = commands.add_parser(
        "switch",
        help="local mode: seconds from a deployment change to 100%% of answers from the new version, and errors",
        description="Starts local mode with a model of two versions and clients predicting continuously, "
        "switches the deployment back and forth, and reports how long each switch took until every answer "
        "came from the new version, and how many answers were not 200 meanwhile (must be 0).",
    )
    switch.add_argument("--switches", type=int, default=4, help="deployment changes, alternating versions")
    switch.add_argument("--clients", type=int, default=4, help="clients predicting the whole time")
    switch.add_argument("--settle", type=int, default=50, help="answers in a row from the new version ending a switch")
    switch.set_defaults(handler=bench_switch)
