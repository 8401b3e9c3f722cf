"""The standard inference protocols' bodies, for the OpenAPI document: Open Inference Protocol v2, MLflow, Seldon.

The gateway forwards these bodies byte for byte and the model runner validates them (backend/runner/v2.py,
scoring.py, seldon.py), so the API function stays a thin hop; the field names are the protocols' own.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Datatype = Literal[
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"
]


class _Protocol(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")


class TensorMetadata(_Protocol):
    name: str
    datatype: Datatype
    shape: list[int] = Field(description="-1 for a dimension of any size")


class InferInputTensor(_Protocol):
    name: str = Field(description="one tensor [N, k] is N rows; several tensors [N] are the columns of a table")
    shape: list[int]
    datatype: Datatype
    data: list[Any] = Field(description="the values, row-major, flat or nested")
    parameters: dict[str, Any] | None = None


class InferOutputRequest(_Protocol):
    name: str = Field(description="an estimator method (predict, predict_proba, ...) or an ONNX graph output")
    parameters: dict[str, Any] | None = None


class InferRequest(_Protocol):
    id: str | None = None
    inputs: list[InferInputTensor] = Field(min_length=1)
    outputs: list[InferOutputRequest] | None = None
    parameters: dict[str, Any] | None = None


class InferOutputTensor(_Protocol):
    name: str
    shape: list[int]
    datatype: Datatype
    data: list[Any]


class InferResponse(_Protocol):
    model_name: str
    model_version: str
    id: str
    outputs: list[InferOutputTensor]


class ModelMetadataResponse(_Protocol):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata] = Field(description="what the artifact declares (ONNX graph, MLflow signature)")
    outputs: list[TensorMetadata]


class ModelReadyResponse(_Protocol):
    name: str
    ready: bool


class ServerLiveResponse(_Protocol):
    live: bool


class ServerReadyResponse(_Protocol):
    ready: bool


class ServerMetadataResponse(_Protocol):
    name: str
    version: str
    extensions: list[str]


class OipErrorResponse(_Protocol):
    """Open Inference Protocol v2's error shape."""

    error: str


class DataframeSplit(_Protocol):
    columns: list[str] | None = None
    data: list[list[Any]]
    index: list[Any] | None = None


class InvocationRequest(_Protocol):
    """MLflow's scoring request: exactly one of the four inputs, or a CSV body with a header row."""

    dataframe_split: DataframeSplit | None = None
    dataframe_records: list[dict[str, Any]] | None = None
    instances: list[Any] | dict[str, list[Any]] | None = None
    inputs: list[Any] | dict[str, list[Any]] | None = None
    params: dict[str, Any] | None = Field(default=None, description="reach the model as metaData: method")


class InvocationResponse(_Protocol):
    predictions: Any


class MlflowErrorResponse(_Protocol):
    """MLflow's scoring server's error shape."""

    error_code: str
    message: str


class SeldonTensor(_Protocol):
    shape: list[int]
    values: list[float]


class SeldonData(_Protocol):
    names: list[str] | None = None
    ndarray: list[Any] | None = None
    tensor: SeldonTensor | None = None


class SeldonMessage(_Protocol):
    """A Seldon Core message (as PrimeHub's docs send it): `ndarray` rows or a `tensor`; answered alike."""

    data: SeldonData
    meta: dict[str, Any] | None = None


class SeldonStatus(_Protocol):
    code: int
    info: str
    reason: str
    status: str


class SeldonErrorResponse(_Protocol):
    """Seldon Core's error shape."""

    status: SeldonStatus
