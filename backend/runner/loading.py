"""Fetches the artifact from S3 (size-checked, bounded) and turns it into a servable Model."""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.config import Settings
from runner.errors import LoadFailure, describe
from runner.models import EstimatorModel, Model, OnnxModel, PythonModel

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
    client = client or s3_client()
    try:
        size = int(client.head_object(Bucket=bucket, Key=key)["ContentLength"])
        if size > limit:
            raise LoadFailure(
                f"artifact {uri} is {size} bytes, over the limit of {limit} bytes (KRAKEN_ARTIFACT_MAX_BYTES)"
            )
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
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


def _load_onnx(path: Path) -> Model:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # Uncapped, onnxruntime spins one thread per host core; Fargate's vCPU share is what we own.
    options.intra_op_num_threads = max(1, len(os.sched_getaffinity(0)))
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return OnnxModel(session)


def _load_python(path: Path, uri: str) -> Model:
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LoadFailure(f"python artifact {uri} is not UTF-8 text") from None
    module = types.ModuleType(PYTHON_MODULE_NAME)
    module.__file__ = uri
    # Registered so pickling, dataclasses and typing inside the user's file can find their module.
    sys.modules[PYTHON_MODULE_NAME] = module
    try:
        exec(compile(source, uri, "exec"), module.__dict__)  # noqa: S102 - running the owner's model file is the feature
    except SyntaxError as exc:
        raise LoadFailure(f"python artifact has a syntax error at line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        raise LoadFailure(f"python artifact failed while running its top level: {describe(exc)}") from None
    predict = getattr(module, "predict", None)
    if not callable(predict):
        raise LoadFailure("python artifact defines no predict(model_data, meta_data) function")
    return PythonModel(predict)


def build_model(path: Path, fmt: str, uri: str) -> Model:
    """Turn the downloaded file into a Model; every failure becomes a one-line LoadFailure."""
    try:
        if fmt == "joblib":
            return _load_joblib(path)
        if fmt == "pickle":
            return _load_pickle(path)
        if fmt == "onnx":
            return _load_onnx(path)
        if fmt == "python":
            return _load_python(path, uri)
    except LoadFailure:
        raise
    except Exception as exc:
        # Library messages quote our temporary file; the owner knows the artifact by its URI.
        cause = describe(exc).replace(str(path), uri)
        raise LoadFailure(
            f"artifact could not be loaded as {fmt}: {cause} (check the format and the library versions"
            " it was saved with)"
        ) from None
    raise LoadFailure(f"unsupported artifact format {fmt!r}")


def load(settings: Settings, client: Any | None = None) -> Loaded:
    """Download and build the configured artifact."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kraken-artifact-") as tmp:
        path = Path(tmp) / f"artifact.{settings.artifact_format}"
        size = download(settings, path, client)
        downloaded = time.perf_counter()
        model = build_model(path, settings.artifact_format, settings.artifact_uri)
    return Loaded(model, size, downloaded - started, time.perf_counter() - downloaded)
