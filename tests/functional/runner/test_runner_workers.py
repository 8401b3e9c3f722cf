"""Worker processes: one per vCPU from the cgroup quota, sharing the port, health counting every one of them."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from conftest import BUCKET

from runner.workers import container_cpus, worker_count

PID_MODEL = b"""
import os

BATCHABLE = True


def predict(model_data, meta_data):
    return [os.getpid() for _ in model_data]
"""


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "200000 100000\n"}, 2),  # cgroup v2: 2 vCPUs
        ({"cpu.max": "25000 100000\n"}, 1),  # a quarter vCPU still gets one worker
        ({"cpu.max": "150000 100000\n"}, 2),  # a part of a vCPU counts as one more
        ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),  # cgroup v1
        ({"cpu,cpuacct/cpu.cfs_quota_us": "50000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, 1),
    ],
)
def test_workers_follow_the_cgroup_quota(tmp_path: Path, files: dict[str, str], expected: int) -> None:
    for relative, text in files.items():
        _write(tmp_path, relative, text)
    assert container_cpus(tmp_path) == min(expected, len(os.sched_getaffinity(0)))


@pytest.mark.parametrize(
    "files",
    [
        {"cpu.max": "max 100000\n"},
        {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"},
        {},  # no cgroup files at all (not in a container)
    ],
)
def test_without_a_quota_every_cpu_we_may_run_on_counts(tmp_path: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        _write(tmp_path, relative, text)
    assert container_cpus(tmp_path) == len(os.sched_getaffinity(0))


def _health(runner) -> tuple[int, dict]:
    status, _, body = runner.request("GET", "/health")
    return status, body


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not {what} within {timeout} s")


def _serving_pids(runner, asks: int = 60) -> set[int]:
    pids = set()
    for _ in range(asks):
        status, body = runner.predict([[1]])
        assert status == 200
        pids.add(body["results"][0])
    return pids


def test_two_workers_share_the_port_and_health_counts_both(s3, start_runner) -> None:
    s3.put_object(Bucket=BUCKET, Key="workers/pid.py", Body=PID_MODEL)
    runner = start_runner("workers/pid.py", "python", KRAKEN_WORKERS="2")
    runner.wait_healthy()
    status, body = _health(runner)
    assert status == 200 and body["details"]["workers"] == {"ready": 2, "total": 2}
    # Each request on a new connection: the kernel hands connections to whichever worker accepts first.
    pids = _serving_pids(runner)
    assert runner.proc.pid not in pids
    _wait(lambda: len(pids | _serving_pids(runner, 20)) == 2 or None, 20, "served by both workers")

    victim = next(iter(pids))
    os.kill(victim, signal.SIGKILL)
    _wait(lambda: _health(runner)[0] == 503 and _health(runner)[1]["status"] == "degraded", 10, "degraded")
    _wait(lambda: _health(runner)[0] == 200, 30, "healthy again")
    assert _health(runner)[1]["details"]["workers"] == {"ready": 2, "total": 2}
    assert '"message":"worker exited; starting another"' in runner.stderr

    runner.proc.send_signal(signal.SIGTERM)
    assert runner.wait_exit(timeout=30) == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_workers_do_not_outlive_a_killed_parent(s3, start_runner) -> None:
    s3.put_object(Bucket=BUCKET, Key="workers/pid-kill.py", Body=PID_MODEL)
    runner = start_runner("workers/pid-kill.py", "python", KRAKEN_WORKERS="2")
    runner.wait_healthy()
    pids = _serving_pids(runner)

    runner.kill()  # SIGKILL: no chance to stop its workers itself

    def gone() -> bool:
        alive = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.append(pid)
        return not alive

    _wait(gone, 10, "workers gone after their parent was killed")


def test_a_process_with_no_cpu_limit_runs_one_worker_unless_told(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ECS_CONTAINER_METADATA_URI_V4", raising=False)
    monkeypatch.delenv("ECS_CONTAINER_METADATA_URI", raising=False)
    assert worker_count(0, tmp_path) == 1
    assert worker_count(3, tmp_path) == 3
    monkeypatch.setenv("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/task")
    assert worker_count(0, tmp_path) == len(os.sched_getaffinity(0))
    _write(tmp_path, "cpu.max", "100000 100000\n")
    assert worker_count(0, tmp_path) == 1
