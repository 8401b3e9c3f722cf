"""Framework-free serving logic: turns a request's modelData into model input and results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from runner.errors import InvalidInput, describe

# The exception types that, raised by a model on its input, mean "bad input" rather than "bug".
INPUT_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, KeyError)


class Model(Protocol):
    """A loaded artifact ready to score; returns the response body as a JSON-ready dict."""

    format: str

    def predict(self, model_data: Any, meta_data: Mapping[str, Any]) -> dict[str, Any]: ...


def _rows(model_data: Any) -> list[Any]:
    if not isinstance(model_data, list):
        raise InvalidInput("modelData must be a list of records (objects) or of rows (lists)")
    if not model_data:
        raise InvalidInput("modelData must not be empty")
    return model_data


def to_model_input(model_data: Any) -> pd.DataFrame | np.ndarray:
    """Records become a DataFrame (so column-based pipelines work); rows become a 2-D array."""
    rows = _rows(model_data)
    first = rows[0]
    if isinstance(first, dict):
        if not all(isinstance(row, dict) for row in rows):
            raise InvalidInput("modelData mixes records (objects) with other values")
        return pd.DataFrame.from_records(rows)
    if isinstance(first, list):
        if not all(isinstance(row, list) and len(row) == len(first) for row in rows):
            raise InvalidInput("modelData rows must all be lists of the same length")
        return np.asarray(rows)
    raise InvalidInput("modelData must be a list of records (objects) or of rows (lists)")


def _rejected(exc: BaseException) -> InvalidInput:
    # The model's own message says what it wanted (missing column, feature count) without the input.
    return InvalidInput(f"the model rejected the input: {describe(exc)}")


class EstimatorModel:
    """Any object with a scikit-learn style `predict` (scikit-learn, XGBoost, LightGBM, ...)."""

    def __init__(self, estimator: Any, fmt: str) -> None:
        self.estimator = estimator
        self.format = fmt
        self._predict: Callable[[Any], Any] = estimator.predict

    def predict(self, model_data: Any, meta_data: Mapping[str, Any]) -> dict[str, Any]:  # noqa: ARG002 - Model interface; estimators take no metadata
        features = to_model_input(model_data)
        try:
            return {"results": self._predict(features)}
        except INPUT_ERRORS as exc:
            raise _rejected(exc) from exc


_ONNX_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
}


class OnnxModel:
    """An onnxruntime session: rows go to the first input, the first output is the result."""

    format = "onnx"

    def __init__(self, session: Any) -> None:
        from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument

        self.session = session
        model_input = session.get_inputs()[0]
        self._input_name: str = model_input.name
        self._dtype = _ONNX_DTYPES.get(model_input.type, np.float32)
        self._outputs = [session.get_outputs()[0].name]
        self._input_errors = (*INPUT_ERRORS, InvalidArgument)

    def predict(self, model_data: Any, meta_data: Mapping[str, Any]) -> dict[str, Any]:  # noqa: ARG002 - Model interface; ONNX graphs take no metadata
        rows = _rows(model_data)
        if not all(isinstance(row, list) for row in rows):
            raise InvalidInput("ONNX models take modelData as a list of rows (lists of numbers)")
        try:
            features = np.asarray(rows, dtype=self._dtype)
        except INPUT_ERRORS as exc:
            raise InvalidInput(f"modelData is not a rectangular array of numbers: {describe(exc)}") from exc
        try:
            (output,) = self.session.run(self._outputs, {self._input_name: features})
        except self._input_errors as exc:
            raise _rejected(exc) from exc
        return {"results": output}


class PythonModel:
    """A user's Python file: `predict(model_data, meta_data)` gets the request as it came."""

    format = "python"

    def __init__(self, predict: Callable[[Any, Any], Any]) -> None:
        self._predict = predict

    def predict(self, model_data: Any, meta_data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            output = self._predict(model_data, meta_data)
        except INPUT_ERRORS as exc:
            raise _rejected(exc) from exc
        if isinstance(output, dict) and "results" in output:
            return output
        return {"results": output}


def json_default(value: Any) -> Any:
    """orjson fallback for what it cannot write natively (object/str arrays, pandas, numpy scalars)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="records")
    if isinstance(value, pd.Series | pd.Index):
        return value.tolist()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
