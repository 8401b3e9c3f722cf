"""Model processes are held to their size as on Fargate: past its memory a model fails for memory, CPU is capped."""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path

import joblib
import pytest
import requests

from local.limits import cgroup_version
from tests.e2e.conftest import LocalMode, session_processes, start_local_mode
from tests.e2e.test_containers_local import Allocates
from tests.e2e.test_lifecycle_local import (
    ARTIFACT_MODEL,
    create_model,
    runner_processes,
    status,
    trained_pipeline,
    wait_for,
)

pytestmark = pytest.mark.e2e


def greedy_model_fails_for_memory(local_mode: LocalMode) -> None:
    buffer = io.BytesIO()
    joblib.dump(Allocates(), buffer)  # 1.5 GB touched while loading, with 0.5 GB reserved
    created = local_mode.request(
        "POST",
        "/api/models",
        {**ARTIFACT_MODEL, "name": "greedy-process", "containerCpu": 0.25, "containerMemory": 0.5},
    )
    model_id = created.body["id"]
    ticket = local_mode.request("POST", f"/api/models/{model_id}/artifact", {}).body
    requests.post(ticket["url"], data=ticket["fields"], files={"file": ("m", buffer.getvalue())}, timeout=30)
    local_mode.request("POST", f"/api/models/{model_id}/start", {})
    failed = wait_for(lambda: (r := status(local_mode, model_id))["status"] == "FAILED" and r, 60, "FAILED")
    assert failed["statusReason"] == (
        "out of memory: the container needed more than 0.5 GB; choose a larger containerMemory"
    )
    local_mode.request("POST", f"/api/models/{model_id}/stop", {})


def test_a_process_past_its_memory_fails_with_the_oom_reason(local_mode: LocalMode) -> None:
    greedy_model_fails_for_memory(local_mode)


def test_without_cgroups_a_watchdog_on_resident_memory_fails_it_the_same_way() -> None:
    local = start_local_mode({"KRAKEN_LOCAL_LIMITS": "watchdog"})
    try:
        assert "a memory limit on resident memory (no cgroups here, so no CPU limit)" in local.output.read_text()
        greedy_model_fails_for_memory(local)
    finally:
        local.stop()
        for pid in session_processes(local.process.pid):
            os.kill(pid, signal.SIGKILL)


def test_a_process_runs_in_its_own_cgroup_with_its_cpu_quota(local_mode: LocalMode) -> None:
    version = cgroup_version()
    if version is None:
        pytest.skip("no cgroups here: local mode watches the processes' memory instead (the test above)")
    model_id = create_model(local_mode, "capped", trained_pipeline(), containerCpu=0.25, containerMemory=0.5)
    local_mode.request("POST", f"/api/models/{model_id}/start", {})
    wait_for(lambda: status(local_mode, model_id)["status"] == "RUNNING", 30, "RUNNING")
    (pid,) = runner_processes(local_mode, model_id)
    groups = dict(line.split(":", 2)[1:] for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines())
    if version == 2:
        group = Path("/sys/fs/cgroup") / groups[""].lstrip("/")
        assert (group / "cpu.max").read_text().split() == ["25000", "100000"]
        assert int((group / "memory.max").read_text()) == 2**29
    else:
        cpu = Path("/sys/fs/cgroup/cpu") / groups["cpu"].lstrip("/")
        memory = Path("/sys/fs/cgroup/memory") / groups["memory"].lstrip("/")
        assert int((cpu / "cpu.cfs_quota_us").read_text()) == 25000
        assert int((memory / "memory.limit_in_bytes").read_text()) == 2**29
    assert "kraken-local-" in str(groups), groups
    local_mode.request("POST", f"/api/models/{model_id}/stop", {})
    wait_for(lambda: status(local_mode, model_id)["status"] == "STOPPED", 30, "STOPPED")
