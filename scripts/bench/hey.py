"""`hey`, a compiled HTTP load generator with rate limiting, driven from the harness: paced (open-loop) load at
a fixed request rate, where wrk (closed loop) sends the next request as soon as the last one is answered.

hey's workers within one process tick together (each `-q` ticker starts with the process), so `-c 4 -q 5`
sends bursts of four requests at once every 200 ms. To spread the requests evenly, each caller here is a
hey process of its own with one worker (`-c 1 -q rate/callers`), the callers started 1/rate s apart.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from scripts.bench.harness import HOST


@dataclass
class PacedResult:
    """One paced load: every completed request's latency (ms) and HTTP status, over all its callers."""

    name: str
    rate: float  # requests a second asked for, all callers together
    seconds: float
    callers: int
    latencies_ms: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def scheduled(self) -> int:
        """Requests the callers' tickers ask for over the load (hey sends one a tick, the first after one tick)."""
        return int(self.rate * self.seconds)

    @property
    def missing(self) -> int:
        """Scheduled requests with no line beyond one a caller (a last tick may fall after hey's deadline): failed
        below HTTP, or not sent because the callers fell behind the rate."""
        return max(0, self.scheduled - self.requests - self.callers)

    @property
    def failed(self) -> int:
        return sum(1 for status in self.statuses if not 200 <= status < 300)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Nearest rank: the smallest latency at or above which `p`% of the requests fall."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def require_hey() -> str:
    """hey's path; installs Debian's package when we are root with apt-get, else says how to get it."""
    found = shutil.which("hey")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("hey is missing: apt-get install -y hey", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "hey"], check=False, timeout=600)
        found = shutil.which("hey")
    if not found:
        raise SystemExit("this benchmark needs hey, a compiled HTTP load generator: apt-get install -y hey")
    return found


def parse_csv(text: str) -> tuple[list[float], list[int]]:
    """hey's `-o csv`: one line a completed request, `response-time` in seconds, `status-code`.

    A request that failed below HTTP (a reset, a refused connection, a timeout) has no line: hey only counts it
    in its summary, which `-o csv` leaves out, so callers compare the lines with the requests scheduled."""
    latencies, statuses = [], []
    for row in csv.DictReader(io.StringIO(text)):
        latencies.append(float(row["response-time"]) * 1000)
        statuses.append(int(row["status-code"]))
    return latencies, statuses


def run_hey(
    hey: str, name: str, port: int, path: str, body: bytes, rate: float, callers: int, seconds: int
) -> PacedResult:
    """POST `body` to 127.0.0.1:`port``path` at `rate` requests a second in all, from `callers` hey processes
    (one keep-alive connection each, `rate`/`callers` a second each, started 1/`rate` s apart) for `seconds`."""
    result = PacedResult(name, rate, float(seconds), callers)
    with tempfile.TemporaryDirectory(prefix="kraken-hey-") as tmp:
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(body)
        command = [
            hey, "-z", f"{seconds}s", "-c", "1", "-q", f"{rate / callers:g}", "-t", "10", "-m", "POST",
            "-T", "application/json", "-D", str(body_file), "-o", "csv", f"http://{HOST}:{port}{path}",
        ]  # fmt: skip
        procs, outputs = [], []
        try:
            for index in range(callers):
                if index:
                    time.sleep(1 / rate)
                output = (Path(tmp) / f"caller-{index}.csv").open("w")
                outputs.append(output)
                procs.append(subprocess.Popen(command, stdout=output, stderr=subprocess.PIPE, text=True))
            for proc in procs:
                _, errors = proc.communicate(timeout=seconds + 60)
                if proc.returncode != 0:
                    raise SystemExit(f"hey exited with {proc.returncode} for {name}: {errors.strip()[:600]}")
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            for output in outputs:
                output.close()
        for output in outputs:
            latencies, statuses = parse_csv(Path(output.name).read_text())
            result.latencies_ms += latencies
            result.statuses += statuses
    return result


def merge_paced(results: list[PacedResult]) -> PacedResult:
    """Rounds of one condition pooled: every request of every round (percentiles over all of them)."""
    first = results[0]
    merged = PacedResult(
        first.name, first.rate, sum(result.seconds for result in results), first.callers * len(results)
    )
    for result in results:
        merged.latencies_ms += result.latencies_ms
        merged.statuses += result.statuses
    return merged
