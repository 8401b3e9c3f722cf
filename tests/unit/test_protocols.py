"""The runner's protocol translations, pure: OIP v2 tensors, MLflow scoring inputs and Seldon payloads."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
import pytest

from runner import scoring, seldon, v2
from runner.errors import InvalidInput, UnsupportedContent
from runner.models import EstimatorModel


def tensor(name: str, shape: list[Any], datatype: str, data: Any) -> dict[str, Any]:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def infer_body(*inputs: dict[str, Any], **rest: Any) -> bytes:
    return orjson.dumps({"inputs": list(inputs), **rest})


def test_one_matrix_tensor_is_rows_reshaped_by_its_shape() -> None:
    request = v2.parse(infer_body(tensor("x", [2, 3], "FP32", [1, 2, 3, 4, 5, 6])))
    assert request.inputs[0].array.dtype == np.float32
    assert v2.model_data(request.inputs) == [[1, 2, 3], [4, 5, 6]]


def test_named_tensors_are_columns_and_bytes_are_strings() -> None:
    request = v2.parse(
        infer_body(tensor("carat", [2], "FP64", [0.2, 1.1]), tensor("cut", [2, 1], "BYTES", ["Ideal", "Good"]))
    )
    rows = v2.model_data(request.inputs)
    assert rows == [{"carat": 0.2, "cut": "Ideal"}, {"carat": 1.1, "cut": "Good"}]
    assert all(type(row["cut"]) is str for row in rows)


def test_nested_data_is_accepted_when_it_has_the_shapes_values() -> None:
    request = v2.parse(infer_body(tensor("x", [2, 2], "INT64", [[1, 2], [3, 4]])))
    assert request.inputs[0].array.tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "not valid JSON"),
        (b"[]", 'must be a JSON object with "inputs"'),
        (orjson.dumps({"inputs": []}), "non-empty list"),
        (infer_body(tensor("x", [2, -1], "FP32", [1, 2])), "shape must be a list of non-negative integers"),
        (infer_body(tensor("x", "2", "FP32", [1, 2])), "shape must be a list"),
        (infer_body(tensor("x", [2, 2], "FP32", [1, 2, 3])), "shape [2, 2] needs 4 values, data has 3"),
        (infer_body(tensor("x", [2], "FLOAT", [1, 2])), "datatype must be one of"),
        (infer_body(tensor("x", [2], "INT64", [1.5, 2])), "datatype INT64 takes integers"),
        (infer_body(tensor("x", [2], "FP32", ["a", "b"])), "datatype FP32 takes numbers"),
        (infer_body(tensor("x", [2], "BOOL", [1, 0])), "datatype BOOL takes booleans"),
        (infer_body(tensor("x", [2], "BYTES", [1, 2])), "datatype BYTES takes strings"),
        (infer_body(tensor("x", [2], "UINT8", [1, 300])), "does not fit in UINT8"),
        (infer_body(tensor("x", [2, 2], "FP32", [[1, 2], [3]])), "ragged"),
        (infer_body({"name": "x", "shape": [1], "datatype": "FP32"}), "data is required"),
        (infer_body(tensor("", [1], "FP32", [1])), "name must be a non-empty string"),
        (infer_body(tensor("x", [1], "FP32", [1]), tensor("x", [1], "FP32", [1])), "unique"),
        (infer_body(tensor("x", [1], "FP32", [1]), outputs=["predict"]), '"outputs" must be a list of objects'),
    ],
)
def test_bad_tensors_are_refused_with_what_to_fix(body: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        v2.parse(body)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([tensor("a", [2], "FP32", [1, 2]), tensor("b", [3], "FP32", [1, 2, 3])], "the same length"),
        ([tensor("a", [1, 2, 2], "FP32", [1, 2, 3, 4])], "send one tensor of shape [N, k]"),
        ([tensor("a", [2, 2], "FP32", [1, 2, 3, 4]), tensor("b", [2], "FP32", [1, 2])], "shape [2, 2]"),
        ([tensor("a", [0], "FP32", [])], "no rows"),
    ],
)
def test_tensors_that_make_no_table_are_refused(inputs: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        v2.model_data(v2.parse(infer_body(*inputs)).inputs)
    assert message in str(refused.value)


def test_outputs_carry_their_datatype_and_shape() -> None:
    assert v2.output_tensor("p", np.array([[0.1, 0.9], [0.8, 0.2]])) == {
        "name": "p", "shape": [2, 2], "datatype": "FP64", "data": [0.1, 0.9, 0.8, 0.2]
    }  # fmt: skip
    assert v2.output_tensor("p", np.array([1, 2], dtype=np.int64))["datatype"] == "INT64"
    assert v2.output_tensor("p", np.array([True]))["datatype"] == "BOOL"
    assert v2.output_tensor("p", np.array([1.5], dtype=np.float32))["datatype"] == "FP32"
    labels = v2.output_tensor("p", np.array(["a", "b"], dtype=object))
    assert labels["datatype"] == "BYTES" and labels["data"] == ["a", "b"]
    maps = v2.output_tensor("p", [{0: 0.25, 1: 0.75}])
    assert maps["datatype"] == "BYTES" and orjson.loads(maps["data"][0]) == {"0": 0.25, "1": 0.75}


class Doubler:
    """A stand-in estimator (third-party shaped, not our code): predict doubles the first column."""

    def predict(self, features: Any) -> Any:
        return np.asarray(features, dtype=float)[:, 0] * 2

    def predict_proba(self, features: Any) -> Any:
        rows = len(np.asarray(features))
        return np.tile([0.25, 0.75], (rows, 1))


def _predictor(model: EstimatorModel) -> Any:
    async def predict(model_data: Any, meta_data: Mapping[str, Any]) -> dict[str, Any]:
        return model.predict(model_data, meta_data)

    return predict


def test_infer_answers_each_asked_method_as_an_output() -> None:
    model = EstimatorModel(Doubler(), "joblib")
    body = infer_body(
        tensor("x", [2, 2], "FP64", [1, 2, 3, 4]), id="r1", outputs=[{"name": "predict"}, {"name": "predict_proba"}]
    )
    answer = orjson.loads(asyncio.run(v2.infer(body, model, _predictor(model), "m", "3", "rid")))
    assert answer["model_name"] == "m" and answer["model_version"] == "3" and answer["id"] == "r1"
    assert answer["outputs"][0] == {"name": "predict", "shape": [2], "datatype": "FP64", "data": [2.0, 6.0]}
    assert answer["outputs"][1]["shape"] == [2, 2]
    with pytest.raises(InvalidInput, match="must name a method"):
        asyncio.run(
            v2.infer(
                infer_body(tensor("x", [1, 2], "FP64", [1, 2]), outputs=[{"name": "y"}]),
                model,
                _predictor(model),
                "m",
                "3",
                "rid",
            )
        )


def test_v2_paths() -> None:
    assert v2.target("/v2/models/diamonds/versions/2/infer") == ("diamonds", "2", "infer")
    assert v2.target("/v2/models/diamonds") == ("diamonds", "", "metadata")
    assert v2.target("/v2/models/diamonds/versions/2") == ("diamonds", "2", "metadata")
    assert v2.target("/v2/models/diamonds/explain") is None
    assert v2.target("/v2/health/live") is None


def test_mlflow_inputs_become_rows_or_records() -> None:
    split = {"dataframe_split": {"columns": ["carat", "cut"], "data": [[0.2, "Ideal"]]}}
    assert scoring.model_data(orjson.dumps(split), "application/json") == ([{"carat": 0.2, "cut": "Ideal"}], {})
    records = {"dataframe_records": [{"carat": 0.2}], "params": {"method": "predict_proba"}}
    assert scoring.model_data(orjson.dumps(records), "application/json") == (
        [{"carat": 0.2}],
        {"method": "predict_proba"},
    )
    assert scoring.model_data(orjson.dumps({"instances": [[1, 2]]}), "application/json")[0] == [[1, 2]]
    assert scoring.model_data(orjson.dumps({"inputs": {"a": [1, 2]}}), "application/json")[0] == [{"a": 1}, {"a": 2}]
    assert scoring.model_data(orjson.dumps({"inputs": [1, 2]}), "application/json")[0] == [[1], [2]]
    # An MLflow model parses single values against its signature itself (a 1-D tensor, or one column).
    assert scoring.model_data(orjson.dumps({"inputs": [1, 2]}), "application/json", mlflow=True)[0] == [1, 2]
    assert scoring.model_data(b"carat,cut\n0.2,Ideal\n", "text/csv")[0] == [{"carat": 0.2, "cut": "Ideal"}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"dataframe_split": {"data": [[1]]}, "instances": [[1]]}, "exactly one of the input fields"),
        ({"data": [[1]]}, "exactly one of the input fields"),
        ({"dataframe_split": {"columns": ["a", "b"], "data": [[1]]}}, "one value per name"),
        ({"dataframe_records": [[1, 2]]}, "list of records"),
        ({"inputs": {"a": [1], "b": [1, 2]}}, "the same length"),
        ({"instances": [[1]], "params": [1]}, '"params" must be an object'),
    ],
)
def test_mlflow_bad_inputs_are_refused(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        scoring.model_data(orjson.dumps(body), "application/json")
    assert message in str(refused.value)


def test_mlflow_refuses_other_media_types_and_writes_its_error_shape() -> None:
    with pytest.raises(UnsupportedContent, match="text/csv"):
        scoring.model_data(b"x", "text/plain")
    assert orjson.loads(scoring.error(400, "bad")) == {"error_code": "BAD_REQUEST", "message": "bad"}


def test_seldon_payloads_and_answers_in_the_same_shape() -> None:
    named = {"data": {"names": ["carat", "depth"], "ndarray": [[0.2, 61.0]]}}
    assert seldon.parse(orjson.dumps(named)) == ([{"carat": 0.2, "depth": 61.0}], "ndarray")
    tensor_message = {"data": {"tensor": {"shape": [2, 2], "values": [1, 2, 3, 4]}}}
    assert seldon.parse(orjson.dumps(tensor_message)) == ([[1, 2], [3, 4]], "tensor")
    model = EstimatorModel(Doubler(), "joblib")
    answer = orjson.loads(asyncio.run(seldon.predictions(orjson.dumps(tensor_message), _predictor(model))))
    assert answer["data"]["tensor"] == {"shape": [2], "values": [2.0, 6.0]}
    answer = orjson.loads(asyncio.run(seldon.predictions(orjson.dumps(named), _predictor(model))))
    assert answer["data"] == {"names": [], "ndarray": [0.4]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"data": {"tensor": {"shape": [2, 2], "values": [1, 2, 3]}}}, "needs 4 values"),
        ({"data": {"tensor": {"shape": [2, 2, 1], "values": [1, 2, 3, 4]}}}, "[N] or [N, k]"),
        ({"data": {"tensor": {"shape": [2], "values": ["a", "b"]}}}, "flat list of numbers"),
        ({"data": {"ndarray": []}}, "no rows"),
        ({"data": {"names": "a", "ndarray": [[1]]}}, "list of strings"),
        ({"modelData": [[1]]}, '"data"'),
    ],
)
def test_seldon_bad_payloads_are_refused(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        seldon.parse(orjson.dumps(body))
    assert message in str(refused.value)
