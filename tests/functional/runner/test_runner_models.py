"""Each artifact format served end to end: S3 (moto) -> runner child process -> HTTP predictions."""

from __future__ import annotations

import io
import pickle
import textwrap
from typing import Any

import joblib
import lightgbm as lgb
import numpy as np
import onnx
import pandas as pd
import pytest
import xgboost as xgb
from conftest import BUCKET
from onnx import TensorProto, helper, numpy_helper
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "age": rng.uniform(18, 80, 200),
            "income": rng.normal(50_000, 15_000, 200),
            "city": rng.choice(["paris", "lyon", "nice"], 200),
        }
    )


@pytest.fixture(scope="module")
def target(frame: pd.DataFrame) -> np.ndarray:
    return ((frame["age"] > 45) ^ (frame["city"] == "nice")).to_numpy(dtype=int)


@pytest.fixture(scope="module")
def pipeline(frame: pd.DataFrame, target: np.ndarray) -> Pipeline:
    columns = ColumnTransformer([("num", StandardScaler(), ["age", "income"]), ("cat", OneHotEncoder(), ["city"])])
    return Pipeline([("columns", columns), ("model", LogisticRegression())]).fit(frame, target)


@pytest.fixture(scope="module")
def numeric(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["age", "income"]]


def _put(s3: Any, key: str, body: bytes) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return key


def _dumps_joblib(obj: Any) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict(orient="records")


def test_joblib_pipeline_with_column_transformer(s3, start_runner, pipeline, frame) -> None:
    key = _put(s3, "models/pipeline.joblib", _dumps_joblib(pipeline))
    runner = start_runner(key, "joblib")
    statuses = runner.wait_healthy()
    assert set(statuses) <= {200, 503}
    sample = frame.head(25)

    status, body = runner.predict(_records(sample), {"requestedBy": "tests"})

    assert status == 200
    assert body == {"results": pipeline.predict(sample).tolist()}
    assert '"message":"model loaded"' in runner.stdout
    assert '"format":"joblib"' in runner.stdout


def test_pickle_pipeline(s3, start_runner, pipeline, frame) -> None:
    key = _put(s3, "models/pipeline.pkl", pickle.dumps(pipeline))
    runner = start_runner(key, "pickle")
    runner.wait_healthy()
    sample = frame.tail(10)

    status, body = runner.predict(_records(sample))

    assert status == 200
    assert body == {"results": pipeline.predict(sample).tolist()}


def test_xgboost_classifier_from_records(s3, start_runner, numeric, target) -> None:
    model = xgb.XGBClassifier(n_estimators=8, max_depth=3, n_jobs=1).fit(numeric, target)
    key = _put(s3, "models/xgb.joblib", _dumps_joblib(model))
    runner = start_runner(key, "joblib")
    runner.wait_healthy()
    sample = numeric.head(20)

    status, body = runner.predict(_records(sample))

    assert status == 200
    assert body == {"results": model.predict(sample).tolist()}


def test_lightgbm_regressor_from_rows(s3, start_runner, numeric, frame) -> None:
    features = numeric.to_numpy()
    model = lgb.LGBMRegressor(n_estimators=10, num_leaves=7, n_jobs=1, verbose=-1)
    model.fit(features, frame["age"].to_numpy() * 2.5)
    key = _put(s3, "models/lgbm.pkl", pickle.dumps(model))
    runner = start_runner(key, "pickle")
    runner.wait_healthy()
    rows = features[:15].tolist()

    status, body = runner.predict(rows)

    assert status == 200
    assert body["results"] == pytest.approx(model.predict(np.asarray(rows)).tolist(), rel=1e-12)


def _linear_onnx(model: LinearRegression) -> bytes:
    """The fitted regression as an ONNX graph (MatMul + Add), built with the onnx helper API."""
    weights = model.coef_.astype(np.float32).reshape(-1, 1)
    bias = np.asarray([model.intercept_], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["XW"]), helper.make_node("Add", ["XW", "B"], ["Y"])],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, weights.shape[0]])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 1])],
        initializer=[numpy_helper.from_array(weights, "W"), numpy_helper.from_array(bias, "B")],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=9)
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def test_onnx_model_gets_float32_rows(s3, start_runner, numeric, frame) -> None:
    features = numeric.to_numpy()
    model = LinearRegression().fit(features, frame["age"].to_numpy() * 3 + 1)
    key = _put(s3, "models/linear.onnx", _linear_onnx(model))
    runner = start_runner(key, "onnx")
    runner.wait_healthy()
    rows = features[:12].tolist()

    status, body = runner.predict(rows)

    assert status == 200
    got = np.asarray(body["results"])
    assert got.shape == (12, 1)
    np.testing.assert_allclose(got[:, 0], model.predict(np.asarray(rows)), rtol=1e-4)

    status, body = runner.predict(_records(numeric.head(2)))
    assert status == 400
    assert body["error"]["code"] == "invalid_input"


PYTHON_MODEL = textwrap.dedent(
    '''
    """A hand-written model: a weighted sum, scaled by metadata."""
    import numpy as np

    WEIGHTS = np.array([0.5, 2.0])


    def predict(model_data, meta_data):
        rows = np.asarray(model_data, dtype=float)
        return rows @ WEIGHTS * meta_data.get("scale", 1)
    '''
)

PYTHON_MODEL_WITH_ENVELOPE = textwrap.dedent(
    """
    def predict(model_data, meta_data):
        return {"results": [len(row) for row in model_data], "modelVersion": "7"}
    """
)


def test_python_file_model_gets_raw_input_and_metadata(s3, start_runner) -> None:
    key = _put(s3, "models/weighted.py", PYTHON_MODEL.encode())
    runner = start_runner(key, "python")
    runner.wait_healthy()
    rows = [[1.0, 2.0], [3.0, -1.0]]

    status, body = runner.predict(rows, {"scale": 10})

    assert status == 200
    assert body == {"results": (np.asarray(rows) @ np.array([0.5, 2.0]) * 10).tolist()}


def test_python_file_model_result_envelope_passes_through(s3, start_runner) -> None:
    key = _put(s3, "models/envelope.py", PYTHON_MODEL_WITH_ENVELOPE.encode())
    runner = start_runner(key, "python")
    runner.wait_healthy()

    status, body = runner.predict([[1, 2, 3], {"a": 1}])

    assert status == 200
    assert body == {"results": [3, 1], "modelVersion": "7"}
