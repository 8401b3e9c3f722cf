"""Kraken's Python SDK: `k = kraken.connect(url)`, `m = k.deploy(pipeline, name="diamonds")`, `m.predict(df)`."""

from __future__ import annotations

from kraken import errors
from kraken.client import Kraken, connect
from kraken.errors import KrakenError
from kraken.model import ClientToken, Model, ModelList, Version, VersionList

__version__ = "0.1.0"
__all__ = [
    "ClientToken",
    "Kraken",
    "KrakenError",
    "Model",
    "ModelList",
    "Version",
    "VersionList",
    "__version__",
    "connect",
    "errors",
]
