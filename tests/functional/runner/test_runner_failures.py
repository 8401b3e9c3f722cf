"""Boot failures: one KRAKEN_FAILURE line a person can act on, then exit code 3, fast."""

from __future__ import annotations

import io
import pickle

import joblib
import pytest
from conftest import BUCKET, failure_line


def _joblib_bytes(obj: object) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


CASES = [
    pytest.param(
        "models/absent.joblib", None, "joblib", {},
        f"artifact s3://{BUCKET}/models/absent.joblib not found",
        id="missing object",
    ),
    pytest.param(
        "bad/garbage.joblib", b"\x00not a model at all", "joblib", {},
        "artifact could not be loaded as joblib: ",
        id="garbage joblib",
    ),
    pytest.param(
        "bad/garbage.pkl", b"definitely not pickle", "pickle", {},
        "artifact could not be loaded as pickle: UnpicklingError",
        id="garbage pickle",
    ),
    pytest.param(
        "bad/garbage.onnx", b"not a protobuf", "onnx", {},
        "artifact could not be loaded as onnx: ",
        id="garbage onnx",
    ),
    pytest.param(
        "bad/dict.joblib", _joblib_bytes({"weights": [1, 2]}), "joblib", {},
        "loaded object has no predict method (got dict from joblib)",
        id="no predict method",
    ),
    pytest.param(
        "bad/len.pkl", pickle.dumps(len), "pickle", {},
        "loaded object has no predict method",
        id="pickled function",
    ),
    pytest.param(
        "bad/nopredict.py", b"def score(x, y):\n    return x\n", "python", {},
        "python artifact defines no predict(model_data, meta_data) function",
        id="python without predict",
    ),
    pytest.param(
        "bad/syntax.py", b"def predict(:\n", "python", {},
        "python artifact has a syntax error at line 1",
        id="python syntax error",
    ),
    pytest.param(
        "bad/imports.py", b"import not_a_real_module\n", "python", {},
        "ModuleNotFoundError: No module named 'not_a_real_module'",
        id="python import error",
    ),
    pytest.param(
        "big/model.pkl", b"x" * 4096, "pickle", {"KRAKEN_ARTIFACT_MAX_BYTES": "1024"},
        "is 4096 bytes, over the limit of 1024 bytes (KRAKEN_ARTIFACT_MAX_BYTES)",
        id="over size limit",
    ),
    pytest.param(
        "models/any.bin", None, "tensorflow", {},
        "KRAKEN_ARTIFACT_FORMAT must be one of joblib, pickle, onnx, python, xgboost, lightgbm, bundle, mlflow, "
        "got 'tensorflow'",
        id="unknown format",
    ),
    pytest.param(
        "", None, "joblib", {"KRAKEN_ARTIFACT_URI": "https://example.com/model"},
        "KRAKEN_ARTIFACT_URI must look like s3://bucket/key",
        id="bad uri",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("key", "body", "fmt", "extra_env", "expected"), CASES)
def test_load_failure_reports_one_line_and_exits_3(key, body, fmt, extra_env, expected, s3, start_runner) -> None:
    if body is not None:
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    runner = start_runner(key, fmt, **extra_env)

    assert runner.wait_exit(timeout=60) == 3
    reason = failure_line(runner.stderr)
    assert expected in reason
    assert "testing" not in reason  # credentials never leak into statusReason


def test_unreachable_s3_fails_with_a_reason(start_runner) -> None:
    # Port 9 (discard) is closed on loopback: connection refused, retried a bounded number of times.
    runner = start_runner("models/any.joblib", "joblib", AWS_ENDPOINT_URL="http://127.0.0.1:9")

    assert runner.wait_exit(timeout=60) == 3
    assert "could not reach S3 for artifact" in failure_line(runner.stderr)
