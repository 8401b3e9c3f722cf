"""Seldon Core's (and PrimeHub's) prediction payloads in the runner: `ndarray` or `tensor` in, the same shape out.

`{"data": {"names": [...], "ndarray": [[...]]}}`: rows, which become records when `names` gives one
name per value; `{"data": {"tensor": {"shape": [N, k], "values": [...]}}}`: N rows of k values.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import numpy as np
import orjson

from runner.errors import InvalidInput
from runner.models import JSON_OPTIONS, json_default

Predict = Callable[[Any, Mapping[str, Any]], Awaitable[dict[str, Any]]]


def _rows(values: list[Any], names: list[str]) -> list[Any]:
    if not values:
        raise InvalidInput('"data" holds no rows')
    if all(isinstance(row, list) for row in values):
        if names and all(len(row) == len(names) for row in values):
            return [dict(zip(names, row, strict=True)) for row in values]
        return values
    if any(isinstance(row, list | dict) for row in values):
        raise InvalidInput('"ndarray" must be a list of rows (lists) or of single values')
    return [[value] for value in values]


def parse(body: bytes) -> tuple[list[Any], str]:
    """The rows a Seldon message carries, and which form ("ndarray" or "tensor") the answer takes."""
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("the request body is not valid JSON") from None
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, dict):
        raise InvalidInput('the request body must be a JSON object with "data": {"ndarray": ...} or {"tensor": ...}')
    names = data.get("names") or []
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise InvalidInput('"data.names" must be a list of strings')
    if "ndarray" in data:
        if not isinstance(data["ndarray"], list):
            raise InvalidInput('"data.ndarray" must be a list')
        return _rows(data["ndarray"], names), "ndarray"
    tensor = data.get("tensor")
    if not isinstance(tensor, dict):
        raise InvalidInput('"data" must hold "ndarray" or "tensor"')
    shape, values = tensor.get("shape"), tensor.get("values")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise InvalidInput('"data.tensor.shape" must be a list of non-negative integers')
    if not 1 <= len(shape) <= 2:
        raise InvalidInput('"data.tensor.shape" must be [N] or [N, k]')
    if not isinstance(values, list) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise InvalidInput('"data.tensor.values" must be a flat list of numbers')
    if len(values) != math.prod(shape):
        raise InvalidInput(f"shape {shape} needs {math.prod(shape)} values, data.tensor.values has {len(values)}")
    return _rows(np.asarray(values).reshape(shape).tolist(), names), "tensor"


def _names(array: np.ndarray) -> list[str]:
    return [f"t:{column}" for column in range(array.shape[1])] if array.ndim == 2 else []


async def predictions(body: bytes, predict: Predict) -> bytes:
    rows, form = parse(body)
    result = (await predict(rows, {}))["results"]
    results = np.asarray(result.to_numpy() if hasattr(result, "to_numpy") else result)
    data: dict[str, Any] = {"names": _names(results)}
    if form == "tensor" and results.dtype.kind in "biuf":
        data["tensor"] = {"shape": list(results.shape), "values": results.ravel().tolist()}
    else:
        data["ndarray"] = results.tolist()
    return orjson.dumps({"data": data, "meta": {}}, default=json_default, option=JSON_OPTIONS)


def error(status: int, message: str) -> bytes:
    reason = "MICROSERVICE_BAD_DATA" if status < 500 else "MICROSERVICE_INTERNAL_ERROR"
    return orjson.dumps({"status": {"code": status, "info": message, "reason": reason, "status": "FAILURE"}})
