"""Open Inference Protocol v2 (KServe/Triton REST) in the runner: tensors in, the model's own predict, tensors out.

One tensor of shape [N, k] is N rows of k features; several named tensors of shape [N] (or [N, 1])
are the columns of an N-row DataFrame, named by the tensors; BYTES elements are strings. An MLflow
signature's one unnamed tensor (`input-0` in the metadata) takes the one tensor sent, in its shape.
Outputs name the estimator method they ask for (`predict`, `predict_proba`, ...), or an ONNX graph's outputs.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from runner.errors import InvalidInput, one_line
from runner.models import METHODS, MlflowModel, Model, OnnxModel

Predict = Callable[[Any, Mapping[str, Any]], Awaitable[dict[str, Any]]]

# datatype → the numpy dtype its data becomes, and the kinds of JSON values it accepts.
DATATYPES: dict[str, tuple[Any, str]] = {
    "BOOL": (np.bool_, "b"),
    "UINT8": (np.uint8, "iu"),
    "UINT16": (np.uint16, "iu"),
    "UINT32": (np.uint32, "iu"),
    "UINT64": (np.uint64, "iu"),
    "INT8": (np.int8, "iu"),
    "INT16": (np.int16, "iu"),
    "INT32": (np.int32, "iu"),
    "INT64": (np.int64, "iu"),
    "FP16": (np.float16, "iuf"),
    "FP32": (np.float32, "iuf"),
    "FP64": (np.float64, "iuf"),
    "BYTES": (object, "U"),
}
_KIND_WORDS = {"b": "booleans", "iu": "integers", "iuf": "numbers", "U": "strings"}
_ONNX_TYPES = {"tensor(float)": "FP32", "tensor(double)": "FP64", "tensor(int64)": "INT64", "tensor(int32)": "INT32",
               "tensor(string)": "BYTES", "tensor(bool)": "BOOL"}  # fmt: skip
_MLFLOW_TYPES = {"double": "FP64", "float": "FP32", "long": "INT64", "integer": "INT32", "boolean": "BOOL",
                 "string": "BYTES", "binary": "BYTES"}  # fmt: skip
_NUMPY_KINDS = {"f": "FP", "i": "INT", "u": "UINT"}


@dataclass(frozen=True, slots=True)
class Tensor:
    name: str
    array: np.ndarray


@dataclass(frozen=True, slots=True)
class InferRequest:
    id: str | None
    inputs: tuple[Tensor, ...]
    outputs: tuple[str, ...]


def _shape(name: str, raw: Any) -> tuple[int, ...]:
    if not isinstance(raw, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in raw):
        raise InvalidInput(f"input {name!r}: shape must be a list of non-negative integers")
    return tuple(raw)


def _tensor(position: int, raw: Any) -> Tensor:
    if not isinstance(raw, dict):
        raise InvalidInput(f"inputs[{position}] must be an object with name, shape, datatype and data")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"inputs[{position}].name must be a non-empty string")
    shape = _shape(name, raw.get("shape"))
    datatype = raw.get("datatype")
    if datatype not in DATATYPES:
        raise InvalidInput(f"input {name!r}: datatype must be one of {', '.join(DATATYPES)}")
    if "data" not in raw:
        raise InvalidInput(f"input {name!r}: data is required (binary tensor data is not supported)")
    dtype, kinds = DATATYPES[datatype]
    try:
        flat = np.asarray(raw["data"])
    except ValueError:
        raise InvalidInput(f"input {name!r}: data is a ragged nested list") from None
    expected = math.prod(shape)
    if flat.size != expected:
        raise InvalidInput(f"input {name!r}: shape {list(shape)} needs {expected} values, data has {flat.size}")
    if flat.size and flat.dtype.kind not in kinds:
        raise InvalidInput(f"input {name!r}: datatype {datatype} takes {_KIND_WORDS[kinds]}")
    if flat.size and kinds == "iu":
        limits = np.iinfo(dtype)
        if flat.min() < limits.min or flat.max() > limits.max:
            raise InvalidInput(f"input {name!r}: a value does not fit in {datatype}")
    return Tensor(name, flat.astype(dtype).reshape(shape))


def parse(body: bytes) -> InferRequest:
    """The infer request, validated: every problem is an InvalidInput naming the input and what is wrong."""
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("the request body is not valid JSON") from None
    if not isinstance(request, dict):
        raise InvalidInput('the request body must be a JSON object with "inputs"')
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidInput('"inputs" must be a non-empty list of tensors')
    tensors = tuple(_tensor(position, raw) for position, raw in enumerate(inputs))
    if len({t.name for t in tensors}) != len(tensors):
        raise InvalidInput("input names must be unique")
    outputs = request.get("outputs", [])
    named = isinstance(outputs, list) and all(isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs)
    if not named:
        raise InvalidInput('"outputs" must be a list of objects with a "name"')
    request_id = request.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput('"id" must be a string')
    return InferRequest(request_id, tensors, tuple(o["name"] for o in outputs))


def model_data(inputs: tuple[Tensor, ...]) -> list[Any]:
    """The tensors as the runner's modelData: rows for one [N, k] tensor, records for named columns."""
    if len(inputs) == 1 and inputs[0].array.ndim == 2 and inputs[0].array.shape[1] != 1:
        return inputs[0].array.tolist()
    columns: dict[str, np.ndarray] = {}
    for tensor in inputs:
        array = tensor.array
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1:
            raise InvalidInput(
                f"input {tensor.name!r} has shape {list(tensor.array.shape)}: send one tensor of shape [N, k],"
                " or one tensor of shape [N] per column"
            )
        columns[tensor.name] = array
    lengths = {len(column) for column in columns.values()}
    if len(lengths) != 1:
        raise InvalidInput(f"the inputs are columns of one table, so they need the same length (got {sorted(lengths)})")
    if not lengths.pop():
        raise InvalidInput("the inputs hold no rows")
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*(c.tolist() for c in columns.values()), strict=True)]


def datatype_of(array: np.ndarray) -> str:
    kind = array.dtype.kind
    if kind == "b":
        return "BOOL"
    if kind in _NUMPY_KINDS:
        return f"{_NUMPY_KINDS[kind]}{array.dtype.itemsize * 8}"
    return "BYTES"


def output_tensor(name: str, value: Any) -> dict[str, Any]:
    """One output: its shape, the datatype its values have, and the values flattened row-major."""
    if hasattr(value, "to_numpy"):  # a pandas result (transform of a ColumnTransformer, say)
        value = value.to_numpy()
    try:
        array = np.asarray(value)
    except ValueError:  # ragged
        array = np.asarray(value, dtype=object)
    datatype = datatype_of(array)
    data = array.ravel().tolist()
    if datatype == "BYTES":
        data = [item if isinstance(item, str) else _text(item) for item in data]
    return {"name": name, "shape": list(array.shape), "datatype": datatype, "data": data}


def _text(item: Any) -> str:
    # An ONNX classifier's probability maps ({label: p}) and other objects go as JSON text.
    try:
        return orjson.dumps(item, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()
    except TypeError:
        return str(item)


async def infer(body: bytes, model: Model, predict: Predict, name: str, version: str, request_id: str) -> bytes:
    """Answer an infer request: the response body, or InvalidInput for what the caller must fix."""
    request = parse(body)
    outputs: list[dict[str, Any]] = []
    if isinstance(model, OnnxModel):
        # A graph takes rows of numbers, even one column of them ([N, 1]).
        single = request.inputs[0].array if len(request.inputs) == 1 else None
        rows = single.tolist() if single is not None and single.ndim == 2 else model_data(request.inputs)
        produced = (await predict(rows, {}))["outputs"]
        for wanted in request.outputs:
            if wanted not in produced:
                raise InvalidInput(f"output {wanted!r} is not one of the model's outputs: {', '.join(produced)}")
        outputs = [output_tensor(n, produced[n]) for n in request.outputs or list(produced)]
    else:
        single = request.inputs[0].array if len(request.inputs) == 1 else None
        rows = single.tolist() if single is not None and _unnamed_tensor(model) else model_data(request.inputs)
        for method in request.outputs or ("predict",):
            if method not in METHODS:
                raise InvalidInput(f"output {one_line(method, 60)!r} must name a method: {', '.join(METHODS)}")
            outputs.append(output_tensor(method, (await predict(rows, {"method": method}))["results"]))
    response = {"model_name": name, "model_version": version, "id": request.id or request_id, "outputs": outputs}
    return orjson.dumps(response)


def _unnamed_tensor(model: Model) -> bool:
    """Whether the model's signature is one unnamed tensor: it takes the tensor sent whole, whatever its name."""
    schema = model.input_schema if isinstance(model, MlflowModel) else None
    return schema is not None and schema.is_tensor_spec() and not schema.has_input_names()


def _dims(shape: Any) -> list[int]:
    return [d if isinstance(d, int) and d >= 0 else -1 for d in (shape or [])]


def declared_tensors(model: Model) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The inputs and outputs the artifact declares: an ONNX graph's, an MLflow signature's; else none."""
    if isinstance(model, OnnxModel):
        return _onnx_specs(model.session.get_inputs()), _onnx_specs(model.session.get_outputs())
    signature = model.estimator.metadata.signature if isinstance(model, MlflowModel) else None
    if signature is None:
        return [], []
    return _mlflow_specs(signature.inputs, _input_name), _mlflow_specs(signature.outputs, _output_name)


def _onnx_specs(tensors: list[Any]) -> list[dict[str, Any]]:
    return [{"name": t.name, "datatype": _ONNX_TYPES.get(t.type, "BYTES"), "shape": _dims(t.shape)} for t in tensors]


def _input_name(position: int) -> str:
    return f"input-{position}"  # what infer takes for an unnamed tensor (and names an unnamed column)


def _output_name(position: int) -> str:
    return "predict" if position == 0 else f"predict-{position}"  # an unnamed output is predict's


def _mlflow_specs(schema: Any, unnamed: Callable[[int], str]) -> list[dict[str, Any]]:
    specs = []
    for position, spec in enumerate(getattr(schema, "inputs", None) or []):
        name = spec.name or unnamed(position)
        if hasattr(spec, "shape"):  # a TensorSpec: a numpy dtype and a shape
            datatype = datatype_of(np.empty(0, dtype=spec.type))
            specs.append({"name": name, "datatype": datatype, "shape": _dims(spec.shape)})
        else:  # a ColSpec: one column of a DataFrame
            type_name = getattr(spec.type, "name", str(spec.type))
            specs.append({"name": name, "datatype": _MLFLOW_TYPES.get(type_name, "BYTES"), "shape": [-1]})
    return specs


def metadata(model: Model, name: str, version: str) -> bytes:
    inputs, outputs = declared_tensors(model)
    platform = "onnxruntime_onnx" if isinstance(model, OnnxModel) else model.format
    body = {"name": name, "versions": [version], "platform": platform, "inputs": inputs, "outputs": outputs}
    return orjson.dumps(body)


def error(message: str) -> bytes:
    """The protocol's error body."""
    return orjson.dumps({"error": message})


def target(path: str) -> tuple[str, str, str] | None:
    """(name, version, action) of a /v2/models/{name}[/versions/{v}][/infer] path; None if not one."""
    parts = path.strip("/").split("/")
    if len(parts) < 3 or parts[:2] != ["v2", "models"] or not parts[2]:
        return None
    name, rest = parts[2], parts[3:]
    version = ""
    if rest[:1] == ["versions"] and len(rest) >= 2 and rest[1]:
        version, rest = rest[1], rest[2:]
    if rest == []:
        return name, version, "metadata"
    if rest == ["infer"]:
        return name, version, "infer"
    return None
