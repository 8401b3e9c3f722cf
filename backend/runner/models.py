"""Framework-free serving logic: turns a request's modelData into model input and results, alone or batched."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, Protocol

import numpy as np
import orjson
import pandas as pd

from runner.errors import InvalidInput, describe

# The exception types that, raised by a model on its input, mean "bad input" rather than "bug".
INPUT_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, KeyError)
# What `metaData.method` may ask of an estimator, when the object has it.
METHODS = ("predict", "predict_proba", "decision_function", "transform")
_NUMBERS = frozenset({int, float, bool})


class BatchMismatch(Exception):
    """A batched call's output cannot be split back per request; the requests are then scored one by one."""


class Model(Protocol):
    """A loaded artifact ready to score; returns the response body as a JSON-ready dict.

    Batching: requests whose `batch_key` is equal (and not None) can be scored in one `predict_batch`
    call on their concatenated rows, which must answer exactly what `predict` answers for each alone.
    """

    format: str
    batchable: bool

    def predict(self, model_data: Any, meta_data: Mapping[str, Any]) -> dict[str, Any]: ...

    def batch_key(self, model_data: Any, meta_data: Mapping[str, Any]) -> Hashable | None: ...

    def predict_batch(
        self, rows: list[Any], meta_data: Mapping[str, Any], sizes: list[int]
    ) -> list[dict[str, Any]]: ...

    def after_fork(self) -> None: ...


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


def input_signature(model_data: Any) -> Hashable | None:
    """What decides the input's shape and dtypes: equal signatures concatenate into the same columns and
    dtypes each request would have had alone. None when the input is unusual enough to go alone."""
    if not isinstance(model_data, list) or not model_data:
        return None
    first = model_data[0]
    if isinstance(first, dict):
        keys = first.keys()
        columns = tuple(keys)
        # pandas infers a column's dtype from the set of value types in it, so equal sets give equal dtypes.
        types: list[set[type]] = [set() for _ in columns]
        for row in model_data:
            if not isinstance(row, dict) or row.keys() != keys:
                return None
            for seen, name in zip(types, columns, strict=True):
                seen.add(type(row[name]))
        return ("records", columns, tuple(frozenset(seen) for seen in types))
    if isinstance(first, list):
        width = len(first)
        found: set[type] = set()
        for row in model_data:
            if not isinstance(row, list) or len(row) != width:
                return None
            found.update(map(type, row))
        # Strings would make a fixed-width unicode array whose width depends on the batch.
        return ("rows", width, frozenset(found)) if found <= _NUMBERS else None
    return None


def split(output: Any, sizes: list[int]) -> list[Any]:
    """Cut a batched call's output back into one piece per request, or raise BatchMismatch."""
    total = sum(sizes)
    if isinstance(output, pd.DataFrame | pd.Series):
        if len(output) != total:
            raise BatchMismatch(f"{len(output)} output rows for {total} input rows")
        take: Callable[[int, int], Any] = lambda start, stop: output.iloc[start:stop]  # noqa: E731
    elif isinstance(output, np.ndarray | list):
        length = len(output) if isinstance(output, list) or output.ndim else None
        if length != total:
            raise BatchMismatch(f"output of length {length} for {total} input rows")
        take = lambda start, stop: output[start:stop]  # noqa: E731
    else:
        raise BatchMismatch(f"cannot split a {type(output).__name__} output per request")
    pieces, start = [], 0
    for size in sizes:
        pieces.append(take(start, start + size))
        start += size
    return pieces


def _rejected(exc: BaseException) -> InvalidInput:
    # The model's own message says what it wanted (missing column, feature count) without the input.
    return InvalidInput(f"the model rejected the input: {describe(exc)}")


def _is_xgboost_booster(obj: Any) -> bool:
    return type(obj).__name__ == "Booster" and type(obj).__module__.startswith("xgboost")


class EstimatorModel:
    """Any object with a scikit-learn style `predict` (scikit-learn, XGBoost, LightGBM, a native Booster).

    `metaData.method` picks `predict_proba`, `decision_function` or `transform` when the object has it.
    An object that sets `batchable = False` is never batched.
    """

    def __init__(self, estimator: Any, fmt: str) -> None:
        self.estimator = estimator
        self.format = fmt
        self.batchable = getattr(estimator, "batchable", True) is not False
        self._methods: dict[str, Callable[[Any], Any]] = {}
        for name in METHODS:
            try:  # scikit-learn's available_if raises AttributeError when a pipeline's last step lacks it
                method = getattr(estimator, name, None)
            except AttributeError:
                method = None
            if callable(method):
                self._methods[name] = method
        self._features: Callable[[Any], Any] = to_model_input
        if _is_xgboost_booster(estimator):
            import xgboost

            # A raw Booster scores a DMatrix only; its predict of a binary:logistic model is the probability.
            self._features = lambda model_data: xgboost.DMatrix(to_model_input(model_data))

    def _method(self, meta_data: Mapping[str, Any]) -> Callable[[Any], Any]:
        name = meta_data.get("method", "predict")
        if name not in METHODS:
            raise InvalidInput(f'"metaData.method" must be one of {", ".join(METHODS)}')
        method = self._methods.get(name)
        if method is None:
            raise InvalidInput(f"this model has no {name} method (it has {', '.join(self._methods)})")
        return method

    def predict(self, model_data: Any, meta_data: Mapping[str, Any]) -> dict[str, Any]:
        method = self._method(meta_data)
        features = self._features(model_data)
        try:
            return {"results": method(features)}
        except INPUT_ERRORS as exc:
            raise _rejected(exc) from exc

    def batch_key(self, model_data: Any, meta_data: Mapping[str, Any]) -> Hashable | None:
        method = meta_data.get("method", "predict")
        if not self.batchable or method not in self._methods:
            return None
        signature = input_signature(model_data)
        return None if signature is None else (method, signature)

    def predict_batch(self, rows: list[Any], meta_data: Mapping[str, Any], sizes: list[int]) -> list[dict[str, Any]]:
        output = self._method(meta_data)(self._features(rows))
        return [{"results": piece} for piece in split(output, sizes)]

    def after_fork(self) -> None:
        """Nothing to redo: the estimator is shared copy-on-write with the parent."""


class MlflowModel(EstimatorModel):
    """An MLflow model's pyfunc flavor, given modelData as `mlflow models serve` gives it its JSON.

    JSON's numbers arrive as float64 and int64, and pyfunc's schema enforcement refuses to cast them
    down to a float32 or int32 signature (or an integer to a float64 tensor), so the input is first
    parsed against the signature with MLflow's own helpers: records' columns and rows' tensors take
    its types. An input that breaks the signature (a missing column, a value that cannot be cast) is
    the caller's to fix, a 400 with MLflow's reason.
    """

    def __init__(self, pyfunc_model: Any) -> None:
        from mlflow.exceptions import MlflowException
        from mlflow.utils.proto_json_utils import cast_df_types_according_to_schema, parse_tf_serving_input

        super().__init__(pyfunc_model, "mlflow")
        self.input_schema = pyfunc_model.metadata.get_input_schema()
        self._mlflow_error = MlflowException
        self._cast_columns = cast_df_types_according_to_schema
        self._cast_tensor = parse_tf_serving_input
        self._features = self._parsed

    def _parsed(self, model_data: Any) -> Any:
        rows = _rows(model_data)
        if isinstance(rows[0], dict):  # as the scoring server parses dataframe_records
            frame = to_model_input(rows)
            return frame if self.input_schema is None else self._cast_columns(frame, self.input_schema)
        # As it parses "inputs": rows, or single values (a one-dimensional tensor, or one column).
        return self._cast_tensor({"inputs": rows}, schema=self.input_schema)

    def predict(self, model_data: Any, meta_data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return super().predict(model_data, meta_data)
        except self._mlflow_error as exc:
            # MLflow's error code says whose fault it is: a 400's (a bad parameter or input) the caller's.
            if exc.get_http_status_code() != 400:
                raise
            # pyfunc wraps a schema error as "Failed to enforce schema of data '<the whole input>' ...":
            # its reason alone, since a 400 never echoes the input.
            reason = exc.__context__ if getattr(exc, "error_class", None) == "SCHEMA_ENFORCEMENT_FAILED" else None
            raise _rejected(reason or exc) from exc


_ONNX_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
}


class OnnxModel:
    """An onnxruntime session: rows go to the first input; `results` is the first output and `outputs`
    holds every output by name (a classifier's label and probabilities)."""

    format = "onnx"

    def __init__(self, make_session: Callable[[], Any]) -> None:
        self._make_session = make_session
        self._start(make_session())

    def _start(self, session: Any) -> None:
        from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument

        self.session = session
        model_input = session.get_inputs()[0]
        self._input_name: str = model_input.name
        self._dtype = _ONNX_DTYPES.get(model_input.type, np.float32)
        self._outputs = [output.name for output in session.get_outputs()]
        self._input_errors = (*INPUT_ERRORS, InvalidArgument)
        # A graph with a fixed batch dimension takes exactly that many rows, so requests cannot be joined.
        first_dim = model_input.shape[0] if model_input.shape else None
        self.batchable = not isinstance(first_dim, int)

    def _features(self, model_data: Any) -> np.ndarray:
        rows = _rows(model_data)
        if not all(isinstance(row, list) for row in rows):
            raise InvalidInput("ONNX models take modelData as a list of rows (lists of numbers)")
        try:
            return np.asarray(rows, dtype=self._dtype)
        except INPUT_ERRORS as exc:
            raise InvalidInput(f"modelData is not a rectangular array of numbers: {describe(exc)}") from exc

    def _run(self, features: np.ndarray) -> list[Any]:
        try:
            return list(self.session.run(self._outputs, {self._input_name: features}))
        except self._input_errors as exc:
            raise _rejected(exc) from exc

    def predict(self, model_data: Any, meta_data: Mapping[str, Any]) -> dict[str, Any]:  # noqa: ARG002 - Model interface; ONNX graphs take no metadata
        outputs = self._run(self._features(model_data))
        return {"results": outputs[0], "outputs": dict(zip(self._outputs, outputs, strict=True))}

    def batch_key(self, model_data: Any, meta_data: Mapping[str, Any]) -> Hashable | None:  # noqa: ARG002 - Model interface
        if not self.batchable or not isinstance(model_data, list) or not model_data:
            return None
        first = model_data[0]
        return ("onnx", len(first)) if isinstance(first, list) else None

    def predict_batch(self, rows: list[Any], meta_data: Mapping[str, Any], sizes: list[int]) -> list[dict[str, Any]]:  # noqa: ARG002 - Model interface
        pieces = [split(output, sizes) for output in self._run(self._features(rows))]
        return [
            {"results": parts[0], "outputs": dict(zip(self._outputs, parts, strict=True))}
            for parts in zip(*pieces, strict=True)
        ]

    def after_fork(self) -> None:
        # onnxruntime's thread pools do not survive fork(): each worker builds its own session.
        self._start(self._make_session())


class PythonModel:
    """A user's Python module: `predict(model_data, meta_data)` gets the request as it came.

    Batched only when the module says it can (`BATCHABLE = True`): then `predict` gets the rows of
    several requests that carry equal metaData and must return one result per row.
    """

    def __init__(self, predict: Callable[[Any, Any], Any], fmt: str = "python", batchable: bool = False) -> None:
        self._predict = predict
        self.format = fmt
        self.batchable = batchable

    def predict(self, model_data: Any, meta_data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            output = self._predict(model_data, meta_data)
        except INPUT_ERRORS as exc:
            raise _rejected(exc) from exc
        if isinstance(output, dict) and "results" in output:
            return output
        return {"results": output}

    def batch_key(self, model_data: Any, meta_data: Mapping[str, Any]) -> Hashable | None:
        if not self.batchable or not isinstance(model_data, list) or not model_data:
            return None
        try:
            return orjson.dumps(meta_data, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None

    def predict_batch(self, rows: list[Any], meta_data: Mapping[str, Any], sizes: list[int]) -> list[dict[str, Any]]:
        output = self._predict(rows, meta_data)
        if isinstance(output, dict):
            if set(output) != {"results"}:
                raise BatchMismatch("an envelope with more than results cannot be split per request")
            output = output["results"]
        return [{"results": piece} for piece in split(output, sizes)]

    def after_fork(self) -> None:
        """Nothing to redo: the module is shared copy-on-write with the parent."""


# Non-string keys: an ONNX classifier's probabilities come as {label: probability} maps.
JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


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
