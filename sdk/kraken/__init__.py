"""Kraken's Python SDK: `k = kraken.connect(url)`, `m = k.deploy(pipeline, name="diamonds")`, `m.predict(df)`."""

from __future__ import annotations

from kraken import errors
from kraken.client import Kraken, connect
from kraken.errors import KrakenError
from kraken.model import ClientToken, Model, ModelList, Version, VersionList
from kraken.rollouts import Replay, ReplayList, Rollout, ShadowResult, ShadowResultList

__version__ = "0.1.0"
__all__ = [
    "ClientToken",
    "Kraken",
    "KrakenError",
    "Model",
    "ModelList",
    "Replay",
    "ReplayList",
    "Rollout",
    "ShadowResult",
    "ShadowResultList",
    "Version",
    "VersionList",
    "__version__",
    "connect",
    "errors",
]
