"""Runner settings: every environment variable the runner reads, parsed once at start."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

# The first four are the domain's ArtifactFormat values today; the others are accepted by name.
FORMATS = ("joblib", "pickle", "onnx", "python", "xgboost", "lightgbm", "bundle", "mlflow")
DEFAULT_MAX_BYTES = 500 * 1024 * 1024
# API Gateway and Lambda cap payloads at 6 MB, so nothing larger can legitimately reach us.
MAX_BODY_BYTES = 6 * 1024 * 1024
DEFAULT_BATCH_MAX_SIZE = 32
DEFAULT_BATCH_MAX_WAIT_MS = 1.0
DEFAULT_INSTALL_TIMEOUT_SECONDS = 600
DEFAULT_UNPACKED_MAX_BYTES = 2 * 1024 * 1024 * 1024


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    artifact_uri: str
    artifact_format: str
    max_artifact_bytes: int
    host: str
    port: int
    predict_path: str
    health_path: str
    # Adaptive batching: at most this many concurrent requests in one call (1 turns batching off), and
    # at most this long a wait for the others to arrive once a request is queued.
    batch_max_size: int
    batch_max_wait_seconds: float
    # Worker processes sharing the port; 0 means one per vCPU of the container (cgroup quota).
    workers: int
    # Bundles and MLflow archives: how long `pip install` of a requirements.txt may take, and how much
    # disk the unpacked archive (and, separately, the installed requirements) may take.
    install_timeout_seconds: int
    unpacked_max_bytes: int

    @property
    def bucket_and_key(self) -> tuple[str, str]:
        rest = self.artifact_uri.removeprefix("s3://").partition("?")[0]
        bucket, _, key = rest.partition("/")
        return bucket, key

    @property
    def object_version(self) -> str | None:
        """The upload to read (`?versionId=` on the URI): the one the platform recorded, not a later one."""
        query = urllib.parse.parse_qs(self.artifact_uri.partition("?")[2])
        return query.get("versionId", [None])[0]


def _int(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw[:40]!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float, maximum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw[:40]!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum:g} and {maximum:g}, got {value:g}")
    return value


def _path(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith("/"):
        raise ConfigError(f"{name} must start with '/', got {value[:60]!r}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise ConfigError with an actionable message."""
    env = os.environ if env is None else env
    uri = env.get("KRAKEN_ARTIFACT_URI", "").strip()
    if not uri:
        raise ConfigError("KRAKEN_ARTIFACT_URI is not set")
    bucket, _, key = uri.removeprefix("s3://").partition("?")[0].partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise ConfigError(f"KRAKEN_ARTIFACT_URI must look like s3://bucket/key, got {uri[:120]!r}")
    fmt = env.get("KRAKEN_ARTIFACT_FORMAT", "").strip().lower()
    if fmt not in FORMATS:
        raise ConfigError(f"KRAKEN_ARTIFACT_FORMAT must be one of {', '.join(FORMATS)}, got {fmt[:40]!r}")
    settings = Settings(
        artifact_uri=uri,
        artifact_format=fmt,
        max_artifact_bytes=_int(env, "KRAKEN_ARTIFACT_MAX_BYTES", DEFAULT_MAX_BYTES, 1, 1 << 40),
        host=env.get("KRAKEN_MODEL_HOST", "").strip() or "0.0.0.0",  # noqa: S104 - a container must listen on all interfaces
        port=_int(env, "KRAKEN_MODEL_PORT", 8080, 0, 65535),
        predict_path=_path(env, "KRAKEN_PREDICT_PATH", "/predict"),
        health_path=_path(env, "KRAKEN_HEALTH_PATH", "/health"),
        batch_max_size=_int(env, "KRAKEN_BATCH_MAX_SIZE", DEFAULT_BATCH_MAX_SIZE, 1, 1024),
        batch_max_wait_seconds=_float(env, "KRAKEN_BATCH_MAX_WAIT_MS", DEFAULT_BATCH_MAX_WAIT_MS, 0.0, 100.0) / 1000,
        workers=_int(env, "KRAKEN_WORKERS", 0, 0, 64),
        install_timeout_seconds=_int(env, "KRAKEN_INSTALL_TIMEOUT_SECONDS", DEFAULT_INSTALL_TIMEOUT_SECONDS, 1, 3600),
        unpacked_max_bytes=_int(env, "KRAKEN_UNPACKED_MAX_BYTES", DEFAULT_UNPACKED_MAX_BYTES, 1, 1 << 40),
    )
    if settings.predict_path == settings.health_path:
        raise ConfigError("KRAKEN_PREDICT_PATH and KRAKEN_HEALTH_PATH must differ")
    return settings
