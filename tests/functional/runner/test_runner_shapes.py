"""The model shapes people ship: methods, ONNX outputs, native boosters, bundles, MLflow models, versions."""

from __future__ import annotations

import base64
import hashlib
import io
import pickle
import tarfile
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import joblib
import lightgbm as lgb
import numpy as np
import onnx
import pandas as pd
import pytest
import sklearn
import xgboost as xgb
from conftest import BUCKET, failure_line
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LinearRegression, LogisticRegression


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    features = rng.normal(size=(200, 3))
    return features, (features[:, 0] + features[:, 1] > 0).astype(int)


def _put(s3: Any, key: str, body: bytes) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return key


def _joblib(obj: Any) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


def test_method_picks_probabilities_and_scores(s3, start_runner, data) -> None:
    features, target = data
    model = LogisticRegression().fit(features, target)
    runner = start_runner(_put(s3, "shapes/logistic.joblib", _joblib(model)), "joblib")
    runner.wait_healthy()
    rows = features[:6].tolist()

    assert runner.predict(rows) == (200, {"results": model.predict(np.asarray(rows)).tolist()})
    status, body = runner.predict(rows, {"method": "predict_proba"})
    assert status == 200
    np.testing.assert_allclose(body["results"], model.predict_proba(np.asarray(rows)), rtol=1e-12)
    status, body = runner.predict(rows, {"method": "decision_function"})
    assert status == 200
    np.testing.assert_allclose(body["results"], model.decision_function(np.asarray(rows)), rtol=1e-12)

    status, body = runner.predict(rows, {"method": "transform"})
    assert (
        status == 400
        and "has no transform method (it has predict, predict_proba, decision_function)" in (body["error"]["message"])
    )
    status, body = runner.predict(rows, {"method": "__class__"})
    assert status == 400 and '"metaData.method" must be one of' in body["error"]["message"]


def _classifier_onnx() -> bytes:
    """A two-output graph as converters write classifiers: a label and the probabilities."""
    weights = np.asarray([[1.0], [1.0], [0.0]], dtype=np.float32)
    nodes = [
        helper.make_node("MatMul", ["X", "W"], ["score"]),
        helper.make_node("Sigmoid", ["score"], ["p1"]),
        helper.make_node("Sub", ["one", "p1"], ["p0"]),
        helper.make_node("Concat", ["p0", "p1"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "classifier",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 3])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2]),
        ],
        initializer=[
            numpy_helper.from_array(weights, "W"),
            numpy_helper.from_array(np.asarray([1.0], dtype=np.float32), "one"),
        ],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=9)
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def test_onnx_returns_every_output_by_name(s3, start_runner, data) -> None:
    features, _ = data
    runner = start_runner(_put(s3, "shapes/classifier.onnx", _classifier_onnx()), "onnx")
    runner.wait_healthy()
    rows = features[:5].tolist()

    status, body = runner.predict(rows)

    assert status == 200
    expected_label = (np.asarray(rows)[:, 0] + np.asarray(rows)[:, 1] > 0).astype(int).tolist()
    assert set(body["outputs"]) == {"label", "probabilities"}
    assert body["results"] == body["outputs"]["label"] == expected_label
    probabilities = np.asarray(body["outputs"]["probabilities"])
    assert probabilities.shape == (5, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)


@pytest.fixture(scope="module")
def xgb_booster(data) -> xgb.Booster:
    features, target = data
    return xgb.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1}, xgb.DMatrix(features, target), 8)


@pytest.mark.parametrize("kind", ["joblib", "json", "ubj"])
def test_xgboost_booster_pickled_and_native(kind: str, s3, start_runner, data, xgb_booster, tmp_path: Path) -> None:
    features, _ = data
    if kind == "joblib":
        body, fmt = _joblib(xgb_booster), "joblib"
    else:
        path = tmp_path / f"model.{kind}"
        xgb_booster.save_model(str(path))
        body, fmt = path.read_bytes(), "xgboost"
    runner = start_runner(_put(s3, f"shapes/booster-{kind}", body), fmt)
    runner.wait_healthy()
    rows = features[:7].tolist()

    status, answer = runner.predict(rows)

    assert status == 200
    expected = xgb_booster.predict(xgb.DMatrix(np.asarray(rows)))
    np.testing.assert_allclose(answer["results"], expected, rtol=1e-6)


@pytest.mark.parametrize("kind", ["pickle", "txt"])
def test_lightgbm_booster_pickled_and_native(kind: str, s3, start_runner, data) -> None:
    features, target = data
    booster = lgb.train({"objective": "binary", "num_leaves": 5, "verbose": -1}, lgb.Dataset(features, target), 5)
    if kind == "pickle":
        body, fmt = pickle.dumps(booster), "pickle"
    else:
        body, fmt = booster.model_to_string().encode(), "lightgbm"
    runner = start_runner(_put(s3, f"shapes/lgb-{kind}", body), fmt)
    runner.wait_healthy()
    rows = features[:4].tolist()

    status, answer = runner.predict(rows)

    assert status == 200
    np.testing.assert_allclose(answer["results"], booster.predict(np.asarray(rows)), rtol=1e-9)


BUNDLE_MODEL = textwrap.dedent(
    """
    from pathlib import Path

    import kraken_bundle_dep
    from helpers import normalise

    VOCABULARY = (Path(__file__).parent / "data" / "vocabulary.txt").read_text().split()


    def predict(model_data, meta_data):
        return [kraken_bundle_dep.score(VOCABULARY, normalise(text)) for text in model_data]
    """
)


def _wheel(directory: Path, name: str = "kraken_bundle_dep", version: str = "1.0") -> None:
    """A real (tiny, pure-Python) wheel in a local index, so pip installs it without a network."""
    files = {
        f"{name}.py": "def score(vocabulary, word):\n    return vocabulary.index(word) if word in vocabulary else -1\n",
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{name}-{version}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    files[f"{name}-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(directory / f"{name}-{version}-py3-none-any.whl", "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return buffer.getvalue()


def _tar_gz(files: dict[str, str], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in files.items():
            raw = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
        for path, target in (links or {}).items():
            link = tarfile.TarInfo(path)
            link.type, link.linkname = tarfile.SYMTYPE, target
            archive.addfile(link)
    return buffer.getvalue()


def _bundle_files(wheels: Path, requirement: str = "kraken_bundle_dep==1.0") -> dict[str, str]:
    return {
        "model.py": BUNDLE_MODEL,
        "helpers.py": "def normalise(text):\n    return text.strip().lower()\n",
        "data/vocabulary.txt": "apple banana cherry\n",
        # Offline: the requirement comes from a local directory of wheels (a real pip install all the same).
        "requirements.txt": f"--no-index\n--find-links {wheels}\n{requirement}\nnumpy\n",
    }


@pytest.mark.parametrize("packing", ["zip", "tar.gz"])
def test_bundle_with_requirements_and_files(packing: str, s3, start_runner, tmp_path: Path) -> None:
    _wheel(tmp_path / "wheels")
    files = _bundle_files(tmp_path / "wheels")
    # The tar.gz in one top-level directory, as `tar czf model.tar.gz model/` makes it.
    nested = {f"model/{path}": text for path, text in files.items()}
    body = _tar_gz(nested) if packing == "tar.gz" else _zip(files)
    runner = start_runner(_put(s3, f"shapes/bundle.{packing}", body), "bundle")
    runner.wait_healthy(timeout=120)

    assert runner.predict([" Banana", "cherry ", "kiwi"]) == (200, {"results": [1, 2, -1]})


def test_bundle_whose_requirement_has_no_wheel_fails_with_the_reason(s3, start_runner, tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    body = _zip(_bundle_files(tmp_path / "wheels", requirement="kraken-no-such-package==9.9"))
    runner = start_runner(_put(s3, "shapes/bundle-missing.zip", body), "bundle")

    assert runner.wait_exit(timeout=120) == 3
    reason = failure_line(runner.stderr)
    assert reason.startswith("the bundle's requirements.txt could not be installed: ")
    assert "kraken-no-such-package==9.9" in reason and "only wheels are installed" in reason


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_zip({"../escape.py": "x = 1\n", "model.py": "def predict(d, m):\n    return d\n"}), "outside its root"),
        (
            _zip({"predict.py": "def predict(d, m):\n    return d\n"}),
            "no model.py at its top level (found: predict.py)",
        ),
        (b"not an archive at all", "neither a .zip nor a .tar.gz archive"),
        (
            _tar_gz({"model.py": "def predict(d, m):\n    return d\n"}, links={"secrets": "/etc/passwd"}),
            "links or special files, which are not allowed ('secrets')",
        ),
    ],
    ids=["path traversal", "no entry module", "not an archive", "symlink in a tar"],
)
def test_bad_bundles_fail_with_a_reason(body: bytes, expected: str, s3, start_runner) -> None:
    runner = start_runner(_put(s3, f"shapes/bad-{hashlib.sha1(body).hexdigest()}", body), "bundle")
    assert runner.wait_exit(timeout=60) == 3
    assert expected in failure_line(runner.stderr)


def test_bundle_over_the_unpacked_limit_is_refused(s3, start_runner) -> None:
    body = _zip({"model.py": "def predict(d, m):\n    return d\n", "weights.bin": "0" * 50_000})
    runner = start_runner(_put(s3, "shapes/bundle-big.zip", body), "bundle", KRAKEN_UNPACKED_MAX_BYTES="10000")
    assert runner.wait_exit(timeout=60) == 3
    assert "over the limit of 10000 bytes (KRAKEN_UNPACKED_MAX_BYTES)" in failure_line(runner.stderr)


def test_mlflow_model_directory_zipped(s3, start_runner, tmp_path: Path) -> None:
    import mlflow.sklearn

    frame = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "rooms": [1, 2, 2, 3]})
    model = LinearRegression().fit(frame, [10.0, 19.0, 31.0, 40.0])
    mlflow.sklearn.save_model(model, str(tmp_path / "mlflow-model"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # zipped as `cd mlflow-model && zip -r ../model.zip .` does
        for path in (tmp_path / "mlflow-model").rglob("*"):
            if path.is_file():
                archive.write(path, path.relative_to(tmp_path / "mlflow-model"))
    runner = start_runner(_put(s3, "shapes/mlflow.zip", buffer.getvalue()), "mlflow")
    runner.wait_healthy(timeout=120)
    rows = [{"size": 2.5, "rooms": 2}, {"size": 5.0, "rooms": 4}]

    status, body = runner.predict(rows)

    assert status == 200
    np.testing.assert_allclose(body["results"], model.predict(pd.DataFrame(rows)), rtol=1e-12)


def test_health_lists_library_versions_and_a_version_warning(s3, start_runner, data) -> None:
    features, target = data
    pickled = pickle.dumps(LogisticRegression().fit(features, target))
    current = sklearn.__version__.encode()
    older = b"1.0.0"[: len(current)].ljust(len(current), b"0")  # same length: the pickle stays well formed
    assert current in pickled
    runner = start_runner(_put(s3, "shapes/old.pkl", pickled.replace(current, older)), "pickle")
    runner.wait_healthy()

    _, _, health = runner.request("GET", "/health")

    details = health["details"]
    assert details["libraries"]["scikit-learn"] == sklearn.__version__
    assert {"python", "numpy", "pandas", "onnxruntime", "xgboost", "lightgbm"} <= set(details["libraries"])
    [warning] = [w for w in details["warnings"] if w["category"] == "InconsistentVersionWarning"]
    assert older.decode() in warning["message"] and sklearn.__version__ in warning["message"]
    assert '"message":"model load warning","artifactUri"' in runner.stdout
    assert '"category":"InconsistentVersionWarning"' in runner.stdout
