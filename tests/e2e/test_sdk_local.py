"""The Python SDK, the `kraken` CLI and the example notebook against one local mode, as a notebook user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import joblib
import nbformat
import pandas as pd
import pytest
import requests
from nbclient import NotebookClient
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

import kraken
from kraken import cli, errors
from tests.e2e.conftest import REPO, LocalMode

pytestmark = pytest.mark.e2e

KRAKEN = Path(sys.executable).parent / "kraken"  # the console script the package declares
X = pd.DataFrame({"carat": [0.2, 0.5, 1.0, 1.5], "cut": ["Ideal", "Good", "Ideal", "Fair"]})
PRICES = [300, 900, 3000, 5000]


def train(prices: list[float]) -> Pipeline:
    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["cut"]), remainder="passthrough")
    return make_pipeline(encode, LinearRegression()).fit(X, prices)


@pytest.fixture(scope="module")
def config_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where every SDK and CLI call of this module keeps its session, never the real ~/.config."""
    return tmp_path_factory.mktemp("config")


@pytest.fixture(scope="module")
def k(local_mode: LocalMode, config_home: Path) -> Iterator[kraken.Kraken]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(config_home))
        patch.delenv("KRAKEN_URL", raising=False)
        patch.delenv("KRAKEN_PASSWORD", raising=False)
        yield kraken.connect(local_mode.base_url, "admin", local_mode.password)


def test_deploy_predict_canary_and_roll_back(k: kraken.Kraken, capfd: pytest.CaptureFixture[str]) -> None:
    pipeline = train(PRICES)
    m = k.deploy(pipeline, name="diamonds", notes="first fit")
    assert "upload diamonds.joblib" in capfd.readouterr().err  # the progress bar
    assert m.status == "RUNNING"
    assert [(line["version"], line["servingWeight"]) for line in m.deployment] == [(1, 100)]

    predicted = m.predict(X)
    assert isinstance(predicted, pd.Series)
    assert predicted.round(6).tolist() == pytest.approx(pipeline.predict(X).round(6).tolist())

    doubled = train([2 * p for p in PRICES])
    m = k.deploy(doubled, name="diamonds", notes="refit", traffic=0)
    assert m.latest_version == 2
    assert m.predict(X, version=2).tolist() == pytest.approx(doubled.predict(X).tolist())
    assert m.predict(X).tolist() == pytest.approx(pipeline.predict(X).tolist())  # unpinned: still version 1

    m.deploy({"1": 90, "2": 10}, message="canary", wait=True)
    assert {line["version"]: line["servingWeight"] for line in m.deployment} == {1: 90, 2: 10}
    served = {m.predict(X.head(1)).iloc[0] for _ in range(10)}
    assert len(served) == 2  # the gateway spreads turns by weight: 1 in 10 goes to version 2

    versions = m.versions()
    assert [v.number for v in versions] == [2, 1]
    assert all(v.serving for v in versions)
    assert "<table>" in versions._repr_html_()

    m.rollback(message="version 2 doubles every price", wait=True)
    assert {line["version"]: line["weight"] for line in m.deployment}[1] == 100
    assert all(m.predict(X.head(1)).iloc[0] == pytest.approx(pipeline.predict(X.head(1))[0]) for _ in range(5))

    history = m.history()
    assert list(history["action"][:3]) == ["rollback", "deploy", "deploy"]
    assert history["message"][0] == "version 2 doubles every price"
    assert history["deployment"][1] == "v1 90%, v2 10%"
    assert str(history["at"].dtype).startswith("datetime64")

    deadline = time.monotonic() + 30  # local mode ships the request history in the background
    while len(requests_frame := m.requests()) < 5 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert {"time", "requestId", "modelVersion", "status", "latencyMs"} <= set(requests_frame.columns)
    assert set(requests_frame["status"]) == {200}
    assert {"1", "2"} <= set(requests_frame["modelVersion"].astype(str))

    metrics = m.metrics()
    assert {"latencyAvg", "latencyP99", "requests", "errors5xx", "successRate"} <= set(metrics.columns)
    assert str(metrics.index.dtype).startswith("datetime64")

    assert any("model loaded" in line["message"] for line in m.logs())
    followed = list(m.logs(follow=True, interval=1, seconds=1.5))
    assert followed and all("message" in line for line in followed)


def test_clients_call_the_private_endpoint_until_revoked(k: kraken.Kraken, local_mode: LocalMode) -> None:
    m = k.find("diamonds") or k.deploy(train(PRICES), name="diamonds", progress=False)
    created = m.clients.create("billing")
    assert created.token not in repr(created)
    body = {"modelData": [{"carat": 1.1, "cut": "Good"}], "metaData": {"modelId": m.id}}
    url = f"{local_mode.base_url}/api/models/{m.id}/predict"
    assert requests.post(url, json=body, auth=("billing", created.token), timeout=30).status_code == 200
    assert [c["name"] for c in m.clients.list()] == ["billing"]
    m.clients.revoke("billing")
    assert m.clients.list() == []
    assert requests.post(url, json=body, auth=("billing", created.token), timeout=30).status_code == 401
    with pytest.raises(errors.NotFound):
        m.clients.revoke("billing")


def test_errors_are_typed_and_carry_the_request_id(k: kraken.Kraken, tmp_path: Path) -> None:
    with pytest.raises(errors.NotFound) as missing:
        k.model(str(uuid.uuid4()))
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    assert missing.value.request_id
    k.create_model("taken")
    with pytest.raises(errors.Conflict) as taken:
        k.create_model("taken")
    assert (taken.value.status, taken.value.code) == (409, "conflict")
    assert taken.value.request_id and taken.value.request_id in str(taken.value)
    with pytest.raises(errors.ValidationError) as invalid:
        k.create_model("too-big", cpu=3)
    assert invalid.value.details
    with pytest.raises(errors.Unauthorized):
        kraken.connect(k.url, "admin", "wrong-password")
    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a pickle")
    with pytest.raises(errors.ModelFailed) as failed:
        k.deploy(broken, name="broken", timeout=60, progress=False)
    assert "could not be loaded as joblib" in str(failed.value)  # the statusReason the runner gave
    with pytest.raises(errors.Conflict):
        k.model("broken").delete()  # not stopped: needs force
    fixed = tmp_path / "fixed.joblib"
    joblib.dump(train(PRICES), fixed)
    assert k.deploy(fixed, name="broken", timeout=60, progress=False).status == "RUNNING"  # a fix deploys over it
    k.model("broken").delete(force=True)


def test_the_session_is_refreshed_before_it_expires(local_mode: LocalMode) -> None:
    session = kraken.connect(local_mode.base_url, "admin", local_mode.password)
    old_token = session.session.access_token
    session.transport.session.expires_at = time.time() + 10  # inside the refresh margin
    assert session.models()
    assert session.session.access_token != old_token
    assert session.session.expires_at > time.time() + 600


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KRAKEN), *args], env=env, input=stdin, capture_output=True, text=True, timeout=180, check=False
    )


def test_the_cli_from_a_shell(local_mode: LocalMode, tmp_path: Path) -> None:
    home = tmp_path / "config"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")} | {"XDG_CONFIG_HOME": str(home)}
    outputs: list[str] = []

    def cli(*args: str, stdin: str | None = None, code: int = 0) -> str:
        done = run_cli(*args, env=env, stdin=stdin)
        outputs.extend([done.stdout, done.stderr])
        assert done.returncode == code, f"kraken {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    cli("models", "list", code=2)  # not signed in
    cli("login", local_mode.base_url, "--password-stdin", stdin=local_mode.password + "\n")
    stored = home / "kraken" / "session.json"
    assert stored.stat().st_mode & 0o777 == 0o600
    session = json.loads(stored.read_text())

    joblib.dump(train(PRICES), tmp_path / "model.joblib")
    cli("deploy", str(tmp_path / "model.joblib"), "--name", "x")
    answer = json.loads(cli("predict", "x", '[{"carat": 0.5, "cut": "Good"}]'))
    assert answer["results"] == [pytest.approx(900, abs=1)]
    piped = json.loads(cli("predict", "x", "-", stdin='[{"carat": 1.5, "cut": "Fair"}]'))
    assert piped["results"] == [pytest.approx(5000, abs=1)]

    listed = json.loads(cli("--json", "models", "list"))
    assert "x" in [m["name"] for m in listed]
    assert "NAME" in cli("models", "list")  # a table for people
    assert json.loads(cli("versions", "x", "--json"))[0]["number"] == 1
    assert cli("wait", "x", "--status", "RUNNING", "--timeout", "30")
    cli("models", "get", "nope", code=3)
    cli("models", "delete", "x", code=4)  # running
    cli("traffic", "x", "1=90", code=1)  # weights must sum to 100: refused as invalid
    cli("traffic", "x", "1=ninety", code=1)
    assert json.loads(cli("--json", "history", "x"))[0]["action"] == "start"
    assert "model loaded" in cli("logs", "x")
    assert json.loads(cli("clients", "create", "x", "ci", "--json"))["token"]

    # An expired session is refreshed from its refresh token, and the file keeps the new one.
    stored.write_text(json.dumps({**session, "expires_at": time.time() - 60}))
    cli("models", "list")
    refreshed = json.loads(stored.read_text())
    assert refreshed["access_token"] != session["access_token"]
    assert refreshed["expires_at"] > time.time()
    assert stored.stat().st_mode & 0o777 == 0o600

    cli("stop", "x", "--wait", "--timeout", "60")
    cli("models", "delete", "x")
    printed = "".join(outputs)
    for secret in (session["access_token"], session["refresh_token"], refreshed["access_token"], local_mode.password):
        assert secret not in printed


# Python-format models (fast to start): x -> 2x, and the same off by one on every multiple of ten.
DOUBLE = b"""
def predict(model_data, meta_data):
    return [row["x"] * 2 for row in model_data]
"""
CHANGED = b"""
def predict(model_data, meta_data):
    return [row["x"] * 2 + (1 if row["x"] % 10 == 0 else 0) for row in model_data]
"""


def test_replay_shadow_and_rollout_from_the_sdk_and_the_cli(
    k: kraken.Kraken, local_mode: LocalMode, tmp_path: Path
) -> None:
    (tmp_path / "double.py").write_bytes(DOUBLE)
    (tmp_path / "changed.py").write_bytes(CHANGED)
    m = k.create_model("checked", artifact_format="python", cpu=0.25, memory=0.5)
    m.upload(tmp_path / "double.py", progress=False)
    m.start().wait("RUNNING", 60)
    for x in range(20):
        assert m.predict([{"x": x}]).tolist() == [2 * x]
    deadline = time.monotonic() + 30  # local mode ships the request history in the background
    while len(m.requests(limit=50)) < 20 and time.monotonic() < deadline:
        time.sleep(0.25)
    changed = m.create_version(notes="off by one on multiples of ten").number
    m.upload(tmp_path / "changed.py", changed, progress=False)
    same = m.create_version(notes="the same again").number
    m.upload(tmp_path / "double.py", same, progress=False)

    # A replay of the 20 captured requests: 2 of them (x = 0 and 10) differ by one.
    replay = m.replay(changed, limit=20, rate=100, timeout=60, progress=False)
    assert replay.status == "SUCCEEDED", replay.record
    assert replay.counts == {"matched": 18, "differed": 2, "errored": 0, "skipped": 0}
    assert replay.match_rate == 0.9 and replay.progress == (20, 20)
    differences = replay.differences()
    assert len(differences) == 2 and set(differences["size"]) == {1.0}
    assert (differences["baselineBody"] != differences["candidateBody"]).all()
    assert [r.id for r in m.replays()] == [replay.id]
    assert "<table>" in replay._repr_html_()

    # The replay takes its candidate out again; then version 3 shadows every request, the deployment kept.
    deadline = time.monotonic() + 30
    while {line["version"] for line in m.reload().deployment if not line["leaving"]} != {1}:
        assert time.monotonic() < deadline, m.deployment
        time.sleep(0.25)
    m.shadow(same, 100, wait=True, timeout=60)
    lines = [line for line in m.deployment if not line["leaving"]]  # version 2 may still drain
    assert [(line["version"], line["weight"], (line["shadow"] or {}).get("percent")) for line in lines] == [
        (1, 100, None),
        (same, 0, 100),
    ]
    for x in range(10):
        assert m.predict([{"x": x}]).tolist() == [2 * x]
    deadline = time.monotonic() + 30
    while not (results := m.shadow_results()) or sum(results[0].counts.values()) < 10:
        assert time.monotonic() < deadline, [r.record for r in results]
        time.sleep(0.25)
    assert (results[0].version, results[0].percent) == (same, 100)
    assert results[0].counts == {"matched": 10, "differed": 0, "errored": 0, "skipped": 0}
    assert results.frame().loc[0, "matchRate"] == 1.0

    # A rollout of version 2, paused, resumed and aborted by hand; the shadow line stays through all of it.
    plan = m.rollout(changed, steps=(50, 100), bake_seconds=300, message="try it", max_5xx_rate=0.02)
    assert (plan.status, plan.step, plan.weight, plan.baseline_version) == ("RUNNING", 0, 50, 1)
    assert plan.record["guardrails"]["max5xxRate"] == 0.02
    weights = {line["version"]: line["weight"] for line in m.reload().deployment if not line["leaving"]}
    assert weights == {1: 50, changed: 50, same: 0}
    assert plan.pause().status == "PAUSED"
    assert m.current_rollout().status == "PAUSED"
    assert plan.resume().status == "RUNNING"
    aborted = plan.abort()
    assert aborted.status == "ABORTED" and not aborted.active
    assert aborted.reason and "aborted by hand" in aborted.reason
    assert aborted.wait(timeout=5, progress=False) is aborted  # ended: no wait, no error
    assert list(aborted.decisions()["verdict"]) == ["advance", "pause", "resume", "abort"]
    weights = {line["version"]: line["weight"] for line in m.reload().deployment if not line["leaving"]}
    assert weights == {1: 100, same: 0}
    with pytest.raises(errors.Conflict):
        plan.resume()

    env = {key: value for key, value in os.environ.items() if not key.startswith("KRAKEN_")} | {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "KRAKEN_URL": local_mode.base_url,
        "KRAKEN_PASSWORD": local_mode.password,
    }
    shown = run_cli("rollout", "checked", "--show", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    printed = json.loads(shown.stdout)
    assert (printed["status"], printed["candidateVersion"], len(printed["decisions"])) == ("ABORTED", changed, 4)
    assert run_cli("rollout", "checked", "--pause", env=env).returncode == cli.EXIT_CONFLICT  # it ended
    m.stop()


def test_the_example_notebook_runs(local_mode: LocalMode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRAKEN_URL", local_mode.base_url)
    monkeypatch.setenv("KRAKEN_PASSWORD", local_mode.password)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    notebook = nbformat.read(REPO / "sdk" / "examples" / "quickstart.ipynb", as_version=4)
    # The kernel is this interpreter's (ipykernel's native "python3"), so it imports the same kraken.
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    shown = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in shown if o.output_type == "error"]
    assert any("<table>" in o.get("data", {}).get("text/html", "") for o in shown)


def test_pip_installs_the_sdk_in_a_fresh_venv_without_network(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The dependencies (requests, tqdm) come from the development environment, so nothing is downloaded.
    (Path(site) / "dev-libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    source = shutil.copytree(REPO / "sdk", tmp_path / "sdk", ignore=shutil.ignore_patterns("build", "*.egg-info"))
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-index",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--quiet",
            str(source),
        ],
        check=True,
        timeout=300,
        cwd=tmp_path,
    )
    where = subprocess.run(
        [str(python), "-c", "import kraken; print(kraken.__file__)"], capture_output=True, text=True, check=True
    ).stdout
    assert where.startswith(site)
    usage = subprocess.run([str(venv / "bin" / "kraken"), "--help"], capture_output=True, text=True, check=True)
    assert "exit codes" in usage.stdout
