"""Fetches the artifact from S3 (size-checked, bounded) and turns it into a servable Model."""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import tempfile
import time
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.bundles import load_bundle, load_mlflow
from runner.config import Settings
from runner.errors import LoadFailure, describe
from runner.logs import log
from runner.models import EstimatorModel, Model, OnnxModel, PythonModel
from runner.versions import library_versions, load_warnings
from runner.workers import threads_per_worker

_CHUNK = 1024 * 1024
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
_DENIED = {"403", "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
PYTHON_MODULE_NAME = "kraken_model"


@dataclass(frozen=True, slots=True)
class Loaded:
    model: Model
    size_bytes: int
    download_seconds: float
    load_seconds: float
    details: dict[str, Any]  # libraries and load warnings, shown by GET /health


def s3_client() -> Any:
    """An S3 client with bounded timeouts and retries; endpoint from AWS_ENDPOINT_URL(_S3)."""
    import boto3
    from botocore.config import Config

    custom_endpoint = bool(os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))
    config = Config(
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 4, "mode": "standard"},
        # Emulators on 127.0.0.1/localhost have no per-bucket DNS names.
        s3={"addressing_style": "path"} if custom_endpoint else None,
    )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.session.Session().client("s3", region_name=region, config=config)


def _client_error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def download(settings: Settings, dest: Path, client: Any | None = None) -> int:
    """HEAD (existence, size limit) then stream the object to `dest`; returns its size."""
    from botocore.exceptions import BotoCoreError, ClientError

    uri, limit = settings.artifact_uri, settings.max_artifact_bytes
    bucket, key = settings.bucket_and_key
    exact = {"VersionId": settings.object_version} if settings.object_version else {}
    client = client or s3_client()
    try:
        size = int(client.head_object(Bucket=bucket, Key=key, **exact)["ContentLength"])
        if size > limit:
            raise LoadFailure(
                f"artifact {uri} is {size} bytes, over the limit of {limit} bytes (KRAKEN_ARTIFACT_MAX_BYTES)"
            )
        body = client.get_object(Bucket=bucket, Key=key, **exact)["Body"]
        written = 0
        with dest.open("wb") as out:
            # Count while streaming too: the object can be replaced between HEAD and GET.
            for chunk in body.iter_chunks(_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise LoadFailure(f"artifact {uri} grew over the limit of {limit} bytes during download")
                out.write(chunk)
        return written
    except ClientError as exc:
        code = _client_error_code(exc)
        if code in _NOT_FOUND:
            raise LoadFailure(f"artifact {uri} not found") from None
        if code in _DENIED:
            raise LoadFailure(f"access to artifact {uri} denied ({code}); check the task role") from None
        raise LoadFailure(f"could not read artifact {uri}: {describe(exc)}") from None
    except BotoCoreError as exc:
        raise LoadFailure(f"could not reach S3 for artifact {uri}: {describe(exc)}") from None


def _estimator(obj: Any, fmt: str) -> Model:
    if not callable(getattr(obj, "predict", None)):
        raise LoadFailure(f"loaded object has no predict method (got {type(obj).__name__} from {fmt})")
    return EstimatorModel(obj, fmt)


def _load_joblib(path: Path) -> Model:
    import joblib

    # Unpickling runs code by design: the artifact belongs to the model's owner, in their container.
    return _estimator(joblib.load(path), "joblib")


def _load_pickle(path: Path) -> Model:
    with path.open("rb") as handle:
        return _estimator(pickle.load(handle), "pickle")  # noqa: S301 - trusted owner artifact, see joblib


def _load_onnx(path: Path, workers: int) -> Model:
    import onnxruntime

    graph = path.read_bytes()  # kept: each forked worker builds its own session from it
    options = onnxruntime.SessionOptions()
    # Uncapped, onnxruntime spins one thread per host core; our vCPU share, split between workers, is what we own.
    options.intra_op_num_threads = threads_per_worker(workers)
    return OnnxModel(lambda: onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"]))


def _load_xgboost(path: Path) -> Model:
    import xgboost

    # XGBoost tells its JSON and UBJSON model files apart by name only.
    suffix = ".json" if path.read_bytes()[:2] == b'{"' else ".ubj"
    named = path.rename(path.with_suffix(suffix))
    return EstimatorModel(xgboost.Booster(model_file=str(named)), "xgboost")


def _load_lightgbm(path: Path) -> Model:
    import lightgbm

    return EstimatorModel(lightgbm.Booster(model_file=str(path)), "lightgbm")


def load_python_module(source_path: Path, label: str, fmt: str) -> Model:
    """Run a model's Python module as `kraken_model`; it must define predict(model_data, meta_data)."""
    try:
        source = source_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LoadFailure(f"python artifact {label} is not UTF-8 text") from None
    module = types.ModuleType(PYTHON_MODULE_NAME)
    # A bundle's module finds its files next to it; a single file only has its artifact's address.
    module.__file__ = str(source_path) if fmt == "bundle" else label
    # Registered so pickling, dataclasses and typing inside the user's file can find their module.
    sys.modules[PYTHON_MODULE_NAME] = module
    try:
        exec(compile(source, label, "exec"), module.__dict__)  # noqa: S102 - running the owner's model file is the feature
    except SyntaxError as exc:
        raise LoadFailure(f"python artifact has a syntax error at line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        raise LoadFailure(f"python artifact failed while running its top level: {describe(exc)}") from None
    predict = getattr(module, "predict", None)
    if not callable(predict):
        raise LoadFailure("python artifact defines no predict(model_data, meta_data) function")
    return PythonModel(predict, fmt, batchable=getattr(module, "BATCHABLE", False) is True)


def build_model(path: Path, settings: Settings) -> Model:
    """Turn the downloaded file into a Model; every failure becomes a one-line LoadFailure."""
    fmt, uri = settings.artifact_format, settings.artifact_uri
    loaders: dict[str, Callable[[], Model]] = {
        "joblib": lambda: _load_joblib(path),
        "pickle": lambda: _load_pickle(path),
        "onnx": lambda: _load_onnx(path, settings.workers),
        "python": lambda: load_python_module(path, uri, "python"),
        "xgboost": lambda: _load_xgboost(path),
        "lightgbm": lambda: _load_lightgbm(path),
        "bundle": lambda: load_bundle(path, settings),
        "mlflow": lambda: load_mlflow(path, settings),
    }
    loader = loaders.get(fmt)
    if loader is None:
        raise LoadFailure(f"unsupported artifact format {fmt!r}")
    try:
        return loader()
    except LoadFailure:
        raise
    except Exception as exc:
        # Library messages quote our temporary file; the owner knows the artifact by its URI.
        cause = describe(exc).replace(str(path.parent), uri)
        raise LoadFailure(
            f"artifact could not be loaded as {fmt}: {cause} (check the format and the library versions"
            " it was saved with)"
        ) from None


def load(settings: Settings, client: Any | None = None) -> Loaded:
    """Download and build the configured artifact, noting the warnings its libraries raise meanwhile."""
    started = time.perf_counter()
    # Not a TemporaryDirectory: a bundle's or MLflow model's files are read while serving.
    work = Path(tempfile.mkdtemp(prefix="kraken-artifact-"))
    path = work / f"artifact.{settings.artifact_format}"
    size = download(settings, path, client)
    downloaded = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = build_model(path, settings)
    if settings.artifact_format not in ("bundle", "mlflow"):
        shutil.rmtree(work, ignore_errors=True)
    details = {"libraries": library_versions(), "warnings": load_warnings(caught)}
    return Loaded(model, size, downloaded - started, time.perf_counter() - downloaded, details)


def report_loaded(settings: Settings, loaded: Loaded) -> None:
    """The "model loaded" log line, and one structured line per warning raised while loading."""
    for warning in loaded.details["warnings"]:
        log(
            "WARNING",
            "model load warning",
            artifactUri=settings.artifact_uri,
            category=warning["category"],
            warning=warning["message"],
        )
    log(
        "INFO",
        "model loaded",
        format=settings.artifact_format,
        artifactUri=settings.artifact_uri,
        sizeBytes=loaded.size_bytes,
        downloadSeconds=round(loaded.download_seconds, 3),
        loadSeconds=round(loaded.load_seconds, 3),
        batchable=loaded.model.batchable,
        libraries=loaded.details["libraries"],
        warnings=len(loaded.details["warnings"]),
    )
