"""Fixtures shared by every test layer: fake AWS credentials so nothing can reach a real account, and an
environment that no test leaves changed."""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Iterator, Sequence

import pytest


@contextlib.contextmanager
def kept_environment(keep: Sequence[str] = ()) -> Iterator[None]:
    """os.environ as it was before the block, once it ends, but for the variables in `keep`. One process runs
    many modules, and a variable left behind (packaging the Chalice app sets its stage's) would reach the local
    modes the later ones start."""
    before = dict(os.environ)
    try:
        yield
    finally:
        kept = {name: os.environ[name] for name in keep if name in os.environ}
        if dict(os.environ) != {**before, **kept}:
            os.environ.clear()
            os.environ.update({**before, **kept})


def pytest_xdist_node_collection_finished(node: object, ids: Sequence[str]) -> None:
    """xdist schedules by node id, so tests sharing one would silently run as one: stop the run instead."""
    shared = sorted(nodeid for nodeid, count in Counter(ids).items() if count > 1)
    if shared:
        pytest.exit(f"tests sharing a node id cannot run on xdist workers (mark them one_process): {shared}", 4)


@pytest.fixture(autouse=True)
def _environment_kept() -> Iterator[None]:
    with kept_environment():
        yield


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
