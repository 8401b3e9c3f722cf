"""The README's list of the runner's library versions says what backend/runner/requirements.txt pins."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LISTED = (
    "scikit-learn",
    "joblib",
    "numpy",
    "pandas",
    "onnxruntime",
    "xgboost-cpu",
    "lightgbm",
    "mlflow-skinny",
    "skops",
)


def test_each_listed_library_is_at_its_pinned_version() -> None:
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (REPO / "backend/runner/requirements.txt").read_text(), re.M))
    readme = (REPO / "README.md").read_text()
    for name in LISTED:
        assert f"{name} {pins[name]}" in readme, f"README's runner libraries: {name} is pinned at {pins[name]}"
