"""MLflow models as their owners logged them: float32/int32 signatures take JSON numbers on every protocol,
schema errors are 400s in each protocol's shape, a bug in the model is a 500, unnamed inputs are input-N."""

from __future__ import annotations

import io
import json
import textwrap
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import BUCKET, RunnerProcess, runner_env
from sklearn.linear_model import LinearRegression

JSON = {"content-type": "application/json"}
CSV = {"content-type": "text/csv"}
# Rows as a caller writes them in JSON: numbers that pandas and numpy read as float64 and int64.
HOUSES = [{"size": 2.5, "rooms": 2}, {"size": 5.0, "rooms": 4}, {"size": 1.25, "rooms": 1}]
POINTS = [[0.5, 1.0, -2.0], [3.0, 0.25, 1.0]]
# A pyfunc model from code (saved next to its MLmodel): doubles a one-dimensional int32 tensor, and has a bug.
COUNTS_MODEL = textwrap.dedent(
    """
    import mlflow.models
    import mlflow.pyfunc


    class Doubler(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            if (model_input < 0).any():
                raise RuntimeError("negative counts are not handled yet")
            return model_input * 2


    mlflow.models.set_model(Doubler())
    """
)


def _zipped(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # as `cd model && zip -r ../model.zip .` does
        for path in directory.rglob("*"):
            if path.is_file():
                archive.write(path, path.relative_to(directory))
    return buffer.getvalue()


def _signature(model_input: Any, model_output: Any) -> Any:
    from mlflow.models import infer_signature

    with warnings.catch_warnings():  # MLflow's hint that integer columns cannot hold missing values
        warnings.simplefilter("ignore")
        return infer_signature(model_input, model_output)


def _serve(s3: Any, moto_endpoint: str, log_dir: Path, name: str, directory: Path) -> Iterator[RunnerProcess]:
    s3.put_object(Bucket=BUCKET, Key=f"mlflow/{name}.zip", Body=_zipped(directory))
    process = RunnerProcess(runner_env(moto_endpoint, f"mlflow/{name}.zip", "mlflow"), log_dir)
    process.wait_healthy(timeout=120)
    yield process
    process.kill()


@pytest.fixture(scope="module")
def houses_model() -> LinearRegression:
    frame = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "rooms": [1, 2, 2, 3]}).astype(
        {"size": np.float32, "rooms": np.int32}
    )
    return LinearRegression().fit(frame, [10.0, 19.0, 31.0, 40.0])


@pytest.fixture(scope="module")
def houses(s3, moto_endpoint, tmp_path_factory, houses_model) -> Iterator[RunnerProcess]:
    """Columns logged from a float32/int32 DataFrame: the signature says float and integer."""
    import mlflow.sklearn

    frame = pd.DataFrame(HOUSES).astype({"size": np.float32, "rooms": np.int32})
    directory = tmp_path_factory.mktemp("houses") / "model"
    mlflow.sklearn.save_model(houses_model, str(directory), signature=_signature(frame, houses_model.predict(frame)))
    yield from _serve(s3, moto_endpoint, tmp_path_factory.mktemp("houses-runner"), "houses", directory)


@pytest.fixture(scope="module")
def points_model() -> LinearRegression:
    features = np.random.default_rng(5).normal(size=(40, 3)).astype(np.float32)
    return LinearRegression().fit(features, features @ np.array([1.0, -2.0, 0.5]))


def _tensor_runner(s3, moto_endpoint, tmp_path_factory, model: LinearRegression, dtype: Any, name: str):
    import mlflow.sklearn

    features = np.asarray(POINTS, dtype=dtype)
    directory = tmp_path_factory.mktemp(name) / "model"
    mlflow.sklearn.save_model(model, str(directory), signature=_signature(features, model.predict(features)))
    yield from _serve(s3, moto_endpoint, tmp_path_factory.mktemp(f"{name}-runner"), name, directory)


@pytest.fixture(scope="module")
def points(s3, moto_endpoint, tmp_path_factory, points_model) -> Iterator[RunnerProcess]:
    """One unnamed tensor logged from a float32 array: Tensor('float32', (-1, 3))."""
    yield from _tensor_runner(s3, moto_endpoint, tmp_path_factory, points_model, np.float32, "points")


@pytest.fixture(scope="module")
def points64(s3, moto_endpoint, tmp_path_factory, points_model) -> Iterator[RunnerProcess]:
    """The same model logged from a float64 array: Tensor('float64', (-1, 3)), which pyfunc keeps from integers."""
    yield from _tensor_runner(s3, moto_endpoint, tmp_path_factory, points_model, np.float64, "points64")


@pytest.fixture(scope="module")
def counts(s3, moto_endpoint, tmp_path_factory) -> Iterator[RunnerProcess]:
    """A pyfunc model from code with one unnamed one-dimensional int32 tensor in and out."""
    import mlflow.pyfunc
    from mlflow.models import ModelSignature
    from mlflow.types.schema import Schema, TensorSpec

    work = tmp_path_factory.mktemp("counts")
    (work / "counts.py").write_text(COUNTS_MODEL)
    tensor = Schema([TensorSpec(np.dtype(np.int32), (-1,))])
    with warnings.catch_warnings():  # MLflow's hint to log an input example (its type-hint one ignores filters)
        warnings.simplefilter("ignore")
        signature = ModelSignature(tensor, tensor)
        mlflow.pyfunc.save_model(str(work / "model"), python_model=str(work / "counts.py"), signature=signature)
    yield from _serve(s3, moto_endpoint, tmp_path_factory.mktemp("counts-runner"), "counts", work / "model")


def _post(runner: RunnerProcess, path: str, body: Any, headers: dict[str, str] = JSON) -> tuple[int, Any]:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    status, _, answer = runner.request("POST", path, raw, headers)
    return status, answer


def _infer(runner: RunnerProcess, *tensors: tuple[str, list[int], str, list[Any]]) -> tuple[int, Any]:
    inputs = [
        {"name": name, "shape": shape, "datatype": datatype, "data": data} for name, shape, datatype, data in tensors
    ]
    return _post(runner, "/v2/models/m/versions/1/infer", {"inputs": inputs})


def test_float32_and_int32_columns_take_json_numbers_on_every_protocol(houses, houses_model) -> None:
    expected = houses_model.predict(pd.DataFrame(HOUSES).astype({"size": np.float32, "rooms": np.int32}))
    sizes, rooms = [row["size"] for row in HOUSES], [row["rooms"] for row in HOUSES]
    split = pd.DataFrame(HOUSES).to_dict(orient="split")
    csv = "size,rooms\n" + "".join(f"{row['size']},{row['rooms']}\n" for row in HOUSES)

    status, body = houses.predict(HOUSES)
    assert status == 200, body
    np.testing.assert_allclose(body["results"], expected, rtol=1e-6)
    for request in (
        {"dataframe_split": {"columns": split["columns"], "data": split["data"]}},
        {"dataframe_records": HOUSES},
        {"inputs": {"size": sizes, "rooms": rooms}},
        {"instances": HOUSES},
    ):
        status, body = _post(houses, "/invocations", request)
        assert status == 200, (request, body)
        np.testing.assert_allclose(body["predictions"], expected, rtol=1e-6)
    status, body = _post(houses, "/invocations", csv, CSV)
    assert status == 200, body
    np.testing.assert_allclose(body["predictions"], expected, rtol=1e-6)
    # As the metadata declares the columns (what tritonclient sends), and as plain JSON numbers.
    for size_type, rooms_type in (("FP32", "INT32"), ("FP64", "INT64")):
        status, body = _infer(houses, ("size", [3], size_type, sizes), ("rooms", [3, 1], rooms_type, rooms))
        assert status == 200, body
        np.testing.assert_allclose(body["outputs"][0]["data"], expected, rtol=1e-6)
    seldon = {"data": {"names": ["size", "rooms"], "ndarray": [[row["size"], row["rooms"]] for row in HOUSES]}}
    status, body = _post(houses, "/api/v1.0/predictions", seldon)
    assert status == 200, body
    np.testing.assert_allclose(body["data"]["ndarray"], expected, rtol=1e-6)


def test_a_float32_tensor_takes_json_numbers_on_every_protocol(points, points_model) -> None:
    expected = points_model.predict(np.asarray(POINTS, dtype=np.float32))
    flat = [value for row in POINTS for value in row]

    for datatype in ("FP32", "FP64"):
        status, body = _infer(points, ("input-0", [2, 3], datatype, flat))
        assert status == 200, body
        [output] = body["outputs"]
        assert output["name"] == "predict" and output["shape"] == [2]
        np.testing.assert_allclose(output["data"], expected, rtol=1e-6)
    status, body = points.predict(POINTS)
    assert status == 200, body
    np.testing.assert_allclose(body["results"], expected, rtol=1e-6)
    for request in ({"inputs": POINTS}, {"instances": POINTS}, {"dataframe_split": {"data": POINTS}}):
        status, body = _post(points, "/invocations", request)
        assert status == 200, (request, body)
        np.testing.assert_allclose(body["predictions"], expected, rtol=1e-6)
    status, body = _post(points, "/api/v1.0/predictions", {"data": {"tensor": {"shape": [2, 3], "values": flat}}})
    assert status == 200, body
    np.testing.assert_allclose(body["data"]["tensor"]["values"], expected, rtol=1e-6)


def test_a_one_dimensional_int32_tensor_takes_a_list_of_json_integers(counts) -> None:
    assert counts.predict([1, 2, 3]) == (200, {"results": [2, 4, 6]})
    # What `mlflow models serve` takes for a one-dimensional tensor: a list of single values.
    for request in ({"inputs": [1, 2, 3]}, {"instances": [1, 2, 3]}):
        assert _post(counts, "/invocations", request) == (200, {"predictions": [2, 4, 6]})


def test_unnamed_inputs_are_input_n_in_the_metadata_and_infer_takes_them_by_that_name(points, counts) -> None:
    status, _, metadata = points.request("GET", "/v2/models/m/versions/1")
    assert status == 200
    assert metadata["inputs"] == [{"name": "input-0", "datatype": "FP32", "shape": [-1, 3]}]
    assert metadata["outputs"] == [{"name": "predict", "datatype": "FP32", "shape": [-1]}]
    status, _, metadata = counts.request("GET", "/v2/models/m/versions/1")
    assert status == 200
    assert metadata["inputs"] == [{"name": "input-0", "datatype": "INT32", "shape": [-1]}]
    assert metadata["outputs"] == [{"name": "predict", "datatype": "INT32", "shape": [-1]}]
    # A [3] tensor is not a column named input-0 here but the model's one tensor, sent whole.
    doubled = [{"name": "predict", "shape": [3], "datatype": "INT32", "data": [2, 4, 6]}]
    for datatype in ("INT32", "INT64"):
        status, body = _infer(counts, ("input-0", [3], datatype, [1, 2, 3]))
        assert (status, body.get("outputs")) == (200, doubled), body


def test_an_integer_where_the_signature_says_float64_is_cast(points64, points_model) -> None:
    # The console's try-it example from the request history re-stringifies a captured [[0.0, ...]] as
    # [[0, ...]] (JSON.parse then JSON.stringify): both must score alike.
    expected = points_model.predict(np.zeros((1, 3)))
    for rows in ([[0.0, 0.0, 0.0]], [[0, 0, 0]]):
        status, body = points64.predict(rows)
        assert status == 200, body
        np.testing.assert_allclose(body["results"], expected, rtol=1e-12)
    status, body = _post(points64, "/invocations", {"inputs": [[0, 0, 0]]})
    assert status == 200, body
    np.testing.assert_allclose(body["predictions"], expected, rtol=1e-12)


def test_schema_errors_are_400s_in_each_protocols_shape_with_mlflows_reason(houses) -> None:
    missing = "Model is missing inputs ['rooms']"
    records = [{"size": 1.5}, {"size": 2.5}]

    status, body = houses.predict(records)
    assert (status, body["error"]["code"]) == (400, "invalid_input")
    assert body["error"]["message"] == f"the model rejected the input: MlflowException: {missing}."
    status, body = _post(houses, "/invocations", {"dataframe_records": records})
    assert (status, body["error_code"]) == (400, "BAD_REQUEST") and missing in body["message"]
    status, body = _post(houses, "/invocations", "size\n1.5\n", CSV)
    assert (status, body["error_code"]) == (400, "BAD_REQUEST") and missing in body["message"]
    status, body = _infer(houses, ("size", [2], "FP64", [1.5, 2.5]))
    assert status == 400 and missing in body["error"]
    status, body = _post(houses, "/api/v1.0/predictions", {"data": {"names": ["size"], "ndarray": [[1.5]]}})
    assert (status, body["status"]["code"], body["status"]["reason"]) == (400, 400, "MICROSERVICE_BAD_DATA")
    assert missing in body["status"]["info"]
    # A value that cannot take the column's type, and MLflow's words for it.
    status, body = houses.predict([{"size": "large", "rooms": 2}])
    assert status == 400
    assert "Failed to convert column size to type 'float32'" in body["error"]["message"]
    # The input is not echoed back: pyfunc's own message quotes the whole DataFrame.
    status, body = houses.predict([{"size": 1.5, "note": "x" * 500}])
    assert status == 400 and missing in body["error"]["message"] and "xxxx" not in json.dumps(body)
    assert houses.predict(HOUSES)[0] == 200


def test_a_bug_in_the_model_is_still_a_500(counts) -> None:
    status, _, body = counts.request(
        "POST", "/predict", json.dumps({"modelData": [1, -1]}).encode(), {**JSON, "X-Request-Id": "bug-1"}
    )
    assert (status, body) == (
        500, {"error": {"code": "internal", "message": "the model failed on this request", "requestId": "bug-1"}}
    )  # fmt: skip
    assert _post(counts, "/invocations", {"inputs": [1, -1]}) == (
        500, {"error_code": "INTERNAL_ERROR", "message": "the model failed on this request"}
    )  # fmt: skip
    assert _infer(counts, ("input-0", [2], "INT32", [1, -1])) == (500, {"error": "the model failed on this request"})
    [logged] = [json.loads(line) for line in counts.stderr.splitlines() if '"requestId":"bug-1"' in line]
    assert logged["error"] == "RuntimeError: negative counts are not handled yet"
    assert counts.predict([1]) == (200, {"results": [2]})
