"""The standard inference protocols against local mode with unmodified clients: Triton's tritonclient and KServe's
InferenceRESTClient (OIP v2), an MLflow scoring client's requests, and Seldon/PrimeHub payloads, each compared
with the model's own predict."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import requests
import tritonclient.http as triton
from sklearn.linear_model import LinearRegression
from tritonclient.utils import InferenceServerException

from tests.e2e.conftest import REPO, LocalMode
from tests.e2e.test_lifecycle_local import create_model, status, trained_pipeline, wait_for

pytestmark = pytest.mark.e2e

ROWS = pd.DataFrame({"carat": [0.23, 1.1, 0.5], "cut": ["Ideal", "Good", "Fair"]})
PUBLIC = {"endpointVisibility": "public"}
FEATURES = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])


def _linear_onnx(model: LinearRegression) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    weights = model.coef_.astype(np.float32).reshape(-1, 1)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["XW"]), helper.make_node("Add", ["XW", "B"], ["Y"])],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, weights.shape[0]])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 1])],
        initializer=[
            numpy_helper.from_array(weights, "W"),
            numpy_helper.from_array(np.asarray([model.intercept_], dtype=np.float32), "B"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=9).SerializeToString()


def _mlflow_zip(model: LinearRegression, frame: pd.DataFrame) -> bytes:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    directory = Path(tempfile.mkdtemp()) / "model"
    with warnings.catch_warnings():  # MLflow's hint that integer columns cannot hold missing values
        warnings.simplefilter("ignore", UserWarning)
        signature = infer_signature(frame, model.predict(frame))
    mlflow.sklearn.save_model(model, str(directory), signature=signature)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in directory.rglob("*"):
            if path.is_file():
                archive.write(path, path.relative_to(directory))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def models(local_mode: LocalMode) -> dict[str, Any]:
    """Three running models: a column-transformer pipeline (private, with a client token), and, public, an ONNX
    graph and an MLflow model with a signature."""
    pipeline_file = trained_pipeline()
    linear = LinearRegression().fit(FEATURES, [1.0, 2.0])
    houses = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "rooms": [1, 2, 2, 3]})
    mlflow_model = LinearRegression().fit(houses, [10.0, 19.0, 31.0, 40.0])
    ids = {
        "diamonds": create_model(local_mode, "diamonds", pipeline_file),
        "linear-onnx": create_model(local_mode, "linear-onnx", _linear_onnx(linear), artifactFormat="onnx", **PUBLIC),
        "houses": create_model(
            local_mode, "houses", _mlflow_zip(mlflow_model, houses), artifactFormat="mlflow", **PUBLIC
        ),
    }
    for model_id in ids.values():
        assert local_mode.request("POST", f"/api/models/{model_id}/start", {}).status == 202
    for model_id in ids.values():
        wait_for(lambda model_id=model_id: status(local_mode, model_id)["status"] == "RUNNING", 120, "RUNNING")
    client = local_mode.request("POST", f"/api/models/{ids['diamonds']}/clients", {"name": "notebook"}).body
    basic = base64.b64encode(f"notebook:{client['token']}".encode()).decode()
    return {
        "ids": ids,
        "pipeline": joblib.load(io.BytesIO(pipeline_file)),
        "linear": linear,
        "mlflow": mlflow_model,
        "auth": {"Authorization": f"Basic {basic}"},
    }


@pytest.fixture(scope="module")
def client(local_mode: LocalMode) -> triton.InferenceServerClient:
    # tritonclient takes host:port and a base path, and adds v2/... to it.
    return triton.InferenceServerClient(url=local_mode.base_url.removeprefix("http://") + "/api", network_timeout=30)


def test_tritonclient_infers_what_the_pipeline_predicts(client: triton.InferenceServerClient, models: Any) -> None:
    auth = models["auth"]
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("diamonds", headers=auth)
    carat = triton.InferInput("carat", [3], "FP64")
    carat.set_data_from_numpy(ROWS["carat"].to_numpy(), binary_data=False)
    cut = triton.InferInput("cut", [3], "BYTES")
    cut.set_data_from_numpy(ROWS["cut"].to_numpy(dtype=object), binary_data=False)
    wanted = [triton.InferRequestedOutput("predict", binary_data=False)]

    result = client.infer("diamonds", [carat, cut], outputs=wanted, request_id="nb-1", headers=auth)

    np.testing.assert_allclose(result.as_numpy("predict"), models["pipeline"].predict(ROWS))
    response = result.get_response()
    assert response["model_name"] == "diamonds" and response["model_version"] == "1" and response["id"] == "nb-1"
    assert response["outputs"][0]["datatype"] == "FP64" and response["outputs"][0]["shape"] == [3]
    pinned = client.infer("diamonds", [carat, cut], model_version="1", headers=auth)
    np.testing.assert_allclose(pinned.as_numpy("predict"), models["pipeline"].predict(ROWS))
    with pytest.raises(InferenceServerException, match="not running"):
        client.infer("diamonds", [carat, cut], model_version="9", headers=auth)
    with pytest.raises(InferenceServerException):  # a private model without its credentials
        client.infer("diamonds", [carat, cut])


def test_tritonclient_reads_an_onnx_graphs_metadata_and_outputs(
    client: triton.InferenceServerClient, models: Any
) -> None:
    metadata = client.get_model_metadata("linear-onnx")
    assert metadata["name"] == "linear-onnx" and metadata["versions"] == ["1"]
    assert metadata["platform"] == "onnxruntime_onnx"
    assert metadata["inputs"] == [{"name": "X", "datatype": "FP32", "shape": [-1, 3]}]
    assert metadata["outputs"] == [{"name": "Y", "datatype": "FP32", "shape": [-1, 1]}]
    features = triton.InferInput("X", [2, 3], "FP32")
    features.set_data_from_numpy(FEATURES.astype(np.float32), binary_data=False)

    result = client.infer("linear-onnx", [features], outputs=[triton.InferRequestedOutput("Y", binary_data=False)])

    assert result.as_numpy("Y").shape == (2, 1)
    np.testing.assert_allclose(result.as_numpy("Y")[:, 0], models["linear"].predict(FEATURES), rtol=1e-5)


# Run by .venv-kserve's Python: kserve's own client, unmodified, asking local mode's gateway.
KSERVE_CLIENT = """
import asyncio, json, sys
from kserve import InferenceRESTClient, RESTConfig
from kserve.protocol.infer_type import InferInput, InferRequest

async def main(base_url, rows):
    client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=30, retries=0))
    features = InferInput("X", [len(rows), len(rows[0])], "FP32", data=[v for row in rows for v in row])
    request = InferRequest(model_name="linear-onnx", infer_inputs=[features], request_id="kserve-1")
    response = await client.infer(base_url, request, model_name="linear-onnx")
    answer = {
        "live": await client.is_server_live(base_url),
        "ready": await client.is_model_ready(base_url, "linear-onnx"),
        "model": response.model_name,
        "id": response.id,
        "outputs": [
            {"name": o.name, "shape": o.shape, "datatype": o.datatype, "data": o.data} for o in response.outputs
        ],
    }
    await client.close()
    print(json.dumps(answer))

asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
"""


def test_kserves_rest_client_infers_what_the_onnx_graph_computes(local_mode: LocalMode, models: Any) -> None:
    # kserve brings a server stack of its own, so its client lives in .venv-kserve, set up when this test runs.
    setup = "set -euo pipefail; source scripts/lib/setup.sh; ensure_kserve_env"
    subprocess.run(["bash", "-c", setup], cwd=REPO, check=True, timeout=900)
    run = subprocess.run(
        [
            str(REPO / ".venv-kserve/bin/python"),
            "-c",
            KSERVE_CLIENT,
            local_mode.base_url + "/api",
            json.dumps(FEATURES.tolist()),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    answer = json.loads(run.stdout)
    assert answer["live"] and answer["ready"] and answer["model"] == "linear-onnx" and answer["id"] == "kserve-1"
    [output] = answer["outputs"]
    assert output["name"] == "Y" and output["shape"] == [2, 1] and output["datatype"] == "FP32"
    np.testing.assert_allclose(output["data"], models["linear"].predict(FEATURES), rtol=1e-5)


def test_an_mlflow_signature_is_the_models_metadata(client: triton.InferenceServerClient, models: Any) -> None:
    metadata = client.get_model_metadata("houses", model_version="1")
    assert metadata["platform"] == "mlflow"
    assert metadata["inputs"] == [
        {"name": "size", "datatype": "FP64", "shape": [-1]},
        {"name": "rooms", "datatype": "INT64", "shape": [-1]},
    ]
    assert metadata["outputs"] == [{"name": "predict", "datatype": "FP64", "shape": [-1]}]


def test_bad_tensors_get_the_protocols_400_and_unknown_models_404(local_mode: LocalMode, models: Any) -> None:
    url = f"{local_mode.base_url}/api/v2/models/linear-onnx/infer"
    short = {"inputs": [{"name": "X", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3]}]}
    refused = requests.post(url, json=short, timeout=30)
    assert refused.status_code == 400
    assert refused.json() == {"error": "input 'X': shape [2, 3] needs 6 values, data has 3"}
    typed = {"inputs": [{"name": "X", "shape": [1, 3], "datatype": "INT64", "data": [1.5, 2, 3]}]}
    assert "takes integers" in requests.post(url, json=typed, timeout=30).json()["error"]
    unknown = requests.get(f"{local_mode.base_url}/api/v2/models/no-such-model", headers=local_mode.auth, timeout=30)
    assert unknown.status_code == 404 and set(unknown.json()) == {"error"}
    request_id = requests.post(url, json=short, headers={"X-Request-Id": "v2-bad-1"}, timeout=30).headers[
        "X-Request-Id"
    ]
    model_id = models["ids"]["linear-onnx"]

    def recorded() -> Any:
        items = local_mode.request("GET", f"/api/models/{model_id}/requests?limit=50").body["items"]
        return next((item for item in items if item["requestId"] == request_id), None)

    assert wait_for(recorded, 15, "the v2 request in the history")["status"] == 400


def test_an_mlflow_clients_requests_get_mlflows_answers(local_mode: LocalMode, models: Any) -> None:
    url = f"{local_mode.base_url}/api/models/diamonds/invocations"
    auth, expected = models["auth"], models["pipeline"].predict(ROWS).tolist()
    # As MLflow's docs send it: {"dataframe_split": df.to_dict(orient="split")}.
    split = requests.post(url, json={"dataframe_split": ROWS.to_dict(orient="split")}, headers=auth, timeout=30)
    assert split.status_code == 200 and split.json()["predictions"] == pytest.approx(expected)
    records = {"dataframe_records": ROWS.to_dict(orient="records")}
    assert requests.post(url, json=records, headers=auth, timeout=30).json()["predictions"] == pytest.approx(expected)
    csv = requests.post(url, data=ROWS.to_csv(index=False), headers={**auth, "Content-Type": "text/csv"}, timeout=30)
    assert csv.json()["predictions"] == pytest.approx(expected)
    houses = {"inputs": {"size": [2.5, 5.0], "rooms": [2, 4]}}
    answer = requests.post(f"{local_mode.base_url}/api/models/houses/invocations", json=houses, timeout=30).json()
    frame = pd.DataFrame(houses["inputs"])
    assert answer["predictions"] == pytest.approx(models["mlflow"].predict(frame).tolist())
    bad = requests.post(
        url, json={"dataframe_split": ROWS.to_dict(orient="split"), "instances": []}, headers=auth, timeout=30
    )
    assert bad.status_code == 400 and bad.json()["error_code"] == "BAD_REQUEST"
    assert "exactly one of the input fields" in bad.json()["message"]


def test_mlflows_own_scoring_client_gets_the_models_predictions(local_mode: LocalMode, models: Any) -> None:
    from mlflow.pyfunc.scoring_server.client import ScoringServerClient

    # The client builds http://{host}:{port}/invocations; only the URL changes, as for any client.
    port = local_mode.base_url.rsplit(":", 1)[1]
    client = ScoringServerClient("127.0.0.1", f"{port}/api/models/houses")
    frame = pd.DataFrame({"size": [2.5, 5.0], "rooms": [2, 4]})

    predictions = client.invoke(frame).get_predictions()

    np.testing.assert_allclose(np.asarray(predictions).ravel(), models["mlflow"].predict(frame))


def test_seldon_payloads_are_answered_in_their_own_shape(local_mode: LocalMode, models: Any) -> None:
    auth, base = models["auth"], local_mode.base_url
    named = {"data": {"names": ["carat", "cut"], "ndarray": ROWS.to_numpy().tolist()}}
    answer = requests.post(f"{base}/api/models/diamonds/api/v1.0/predictions", json=named, headers=auth, timeout=30)
    assert answer.status_code == 200
    assert answer.json()["data"]["ndarray"] == pytest.approx(models["pipeline"].predict(ROWS).tolist())
    tensor = {"data": {"tensor": {"shape": [2, 3], "values": FEATURES.ravel().tolist()}}}
    answer = requests.post(f"{base}/api/models/linear-onnx/api/v1.0/predictions", json=tensor, timeout=30).json()
    assert answer["data"]["tensor"]["shape"] == [2, 1]
    assert answer["data"]["tensor"]["values"] == pytest.approx(models["linear"].predict(FEATURES).tolist(), rel=1e-5)
    short = {"data": {"tensor": {"shape": [2, 3], "values": [1.0]}}}
    refused = requests.post(f"{base}/api/models/linear-onnx/api/v1.0/predictions", json=short, timeout=30)
    assert refused.status_code == 400 and refused.json()["status"]["reason"] == "MICROSERVICE_BAD_DATA"


def test_the_ml_kraken_body_is_unchanged(local_mode: LocalMode, models: Any) -> None:
    body = {"modelData": ROWS.to_dict(orient="records"), "metaData": {"modelId": models["ids"]["diamonds"]}}
    answer = requests.post(f"{local_mode.base_url}/api/predict", json=body, headers=models["auth"], timeout=30)
    assert answer.json()["results"] == pytest.approx(models["pipeline"].predict(ROWS).tolist())
