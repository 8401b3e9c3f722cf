"""What the runner serves with: its library versions, and the warnings a model raised while loading."""

from __future__ import annotations

import platform
import warnings
from importlib import metadata

from runner.errors import one_line

# Distribution names as installed (xgboost comes as xgboost-cpu in the image), shown under their import names.
LIBRARIES = {
    "numpy": ("numpy",),
    "pandas": ("pandas",),
    "scikit-learn": ("scikit-learn",),
    "joblib": ("joblib",),
    "onnxruntime": ("onnxruntime",),
    "xgboost": ("xgboost-cpu", "xgboost"),
    "lightgbm": ("lightgbm",),
    "mlflow": ("mlflow-skinny", "mlflow"),
}
MAX_WARNINGS = 20


def library_versions() -> dict[str, str]:
    """`{"python": "3.11.7", "scikit-learn": "1.9.1", ...}` for the libraries that are installed."""
    versions = {"python": platform.python_version()}
    for name, distributions in LIBRARIES.items():
        for distribution in distributions:
            try:
                versions[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def load_warnings(caught: list[warnings.WarningMessage]) -> list[dict[str, str]]:
    """Distinct warnings raised while loading (scikit-learn's InconsistentVersionWarning first among them):
    `{"category": ..., "message": ...}`, one line each, so they can be shown on the model."""
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for warning in caught:
        category = warning.category.__name__
        message = one_line(str(warning.message), 300)
        seen.setdefault((category, message), {"category": category, "message": message})
    ordered = sorted(seen.values(), key=lambda item: "Version" not in item["category"])
    return ordered[:MAX_WARNINGS]
