"""MLflow's scoring protocol (`mlflow models serve`'s /invocations) in the runner: its inputs in, predictions out.

JSON with exactly one of `dataframe_split`, `dataframe_records`, `instances` or `inputs` (and
optionally `params`, which reach the model as metaData: `{"method": "predict_proba"}`), or CSV
with a header row. Errors come as MLflow writes them: `{"error_code": "BAD_REQUEST", "message"}`.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from runner.errors import InvalidInput, UnsupportedContent, describe
from runner.models import JSON_OPTIONS, json_default

Predict = Callable[[Any, Mapping[str, Any]], Awaitable[dict[str, Any]]]
FIELDS = ("dataframe_split", "dataframe_records", "instances", "inputs")
CONTENT_TYPES = ("application/json", "text/csv")


def _columns_to_records(columns: Mapping[str, Any]) -> list[dict[str, Any]]:
    values = list(columns.values())
    if not all(isinstance(v, list) for v in values) or len({len(v) for v in values}) != 1:
        raise InvalidInput("named inputs must be lists of the same length (one per column)")
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _split(frame: Any) -> list[Any]:
    if not isinstance(frame, dict) or not isinstance(frame.get("data"), list):
        raise InvalidInput('"dataframe_split" must be an object with "data" (a list of rows) and "columns"')
    rows, columns = frame["data"], frame.get("columns")
    if columns is None:
        return rows
    if not isinstance(columns, list) or not all(isinstance(row, list) and len(row) == len(columns) for row in rows):
        raise InvalidInput('"dataframe_split": every row of "data" needs one value per name in "columns"')
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _tensor_input(value: Any, field: str, mlflow: bool) -> list[Any]:
    if isinstance(value, dict):
        return _columns_to_records(value)
    if not isinstance(value, list) or not value:
        raise InvalidInput(f'"{field}" must be a non-empty list of rows, or an object of named columns')
    if mlflow or all(isinstance(item, dict | list) for item in value):
        return value
    return [[item] for item in value]  # a list of scalars is one column


def model_data(body: bytes, content_type: str, mlflow: bool = False) -> tuple[list[Any], dict[str, Any]]:
    """The rows and the metaData an invocation asks for; InvalidInput for what the caller must fix.

    An MLflow model gets `instances` and `inputs` lists as sent (it parses them against its signature as
    `mlflow models serve` does: a list of single values is a one-dimensional tensor, or a column); other
    models get a list of single values as one column.
    """
    if content_type == "text/csv":
        import pandas as pd

        try:
            frame = pd.read_csv(io.BytesIO(body))
        except (ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError and EmptyDataError are ValueErrors
            raise InvalidInput(f"the CSV body cannot be read: {describe(exc)}") from None
        return frame.to_dict(orient="records"), {}
    if content_type != "application/json":
        raise UnsupportedContent(
            f"this predictor only supports the content types {', '.join(CONTENT_TYPES)}; got {content_type[:60]!r}"
        )
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("the request body is not valid JSON") from None
    present = [field for field in FIELDS if isinstance(request, dict) and field in request]
    if not isinstance(request, dict) or len(present) != 1:
        received = sorted(request) if isinstance(request, dict) else []
        raise InvalidInput(
            f"the input must be a JSON dictionary with exactly one of the input fields {', '.join(FIELDS)};"
            f" received a dictionary with the fields {received}"[:300]
        )
    params = request.get("params") or {}
    if not isinstance(params, dict):
        raise InvalidInput('"params" must be an object')
    field = present[0]
    value = request[field]
    if field == "dataframe_split":
        rows = _split(value)
    elif field == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            raise InvalidInput('"dataframe_records" must be a list of records (objects)')
        rows = value
    else:
        rows = _tensor_input(value, field, mlflow)
    return rows, params


async def invocations(body: bytes, content_type: str, predict: Predict, mlflow: bool) -> bytes:
    rows, params = model_data(body, content_type, mlflow)
    result = await predict(rows, params)
    return orjson.dumps({"predictions": result["results"]}, default=json_default, option=JSON_OPTIONS)


def error(status: int, message: str) -> bytes:
    return orjson.dumps({"error_code": "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR", "message": message})
