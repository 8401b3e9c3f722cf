"""The prediction gateway against real sockets: a good echo server and deliberately bad ones on 127.0.0.1.

Endpoints reach the record only as the container runtime reports them: through the task-event handler.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib import config
from tests.e2e.conftest import free_port
from tests.functional.test_lifecycle_ecs import send, started_model, task_event
from tests.functional.test_models_api import assert_error, post


class Misbehaving(socketserver.BaseRequestHandler):
    mode = "sleep"

    def handle(self) -> None:
        self.server.hits += 1  # type: ignore[attr-defined]
        self.request.recv(65536)
        if self.server.mode == "sleep":  # type: ignore[attr-defined]
            time.sleep(3)
        elif self.server.mode == "reset":  # type: ignore[attr-defined]
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.request.close()
        elif self.server.mode == "garbage":  # type: ignore[attr-defined]
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!")


def misbehaving(mode: str) -> socketserver.ThreadingTCPServer:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Misbehaving)
    server.daemon_threads = True
    server.mode = mode  # type: ignore[attr-defined]
    server.hits = 0  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def healthy_at(client: Client, settings: config.Settings, model_id: str, port: int, task: str = "t1") -> None:
    send(
        client,
        task_event(
            settings,
            model_id,
            task_id=task,
            lastStatus="RUNNING",
            desiredStatus="RUNNING",
            healthStatus="HEALTHY",
            container={"networkBindings": [{"bindIP": "127.0.0.1", "hostPort": port, "containerPort": 8080}]},
        ),
    )


def running_model(ecs_api: tuple[Client, config.Settings], port: int, **changes: Any) -> str:
    client, settings = ecs_api
    model_id = started_model(client)
    if changes:
        client.http.put(f"/models/{model_id}", headers={"Content-Type": "application/json"}, body=json.dumps(changes))
    healthy_at(client, settings, model_id, port)
    assert client.http.get(f"/models/{model_id}").json_body["status"] == "RUNNING"
    return model_id


def predict(client: Client, model_id: str, **extra: Any) -> Any:
    body = {"modelData": [[1, 2]], "metaData": {"modelId": model_id, **extra.pop("meta", {})}}
    return post(client, "/predict", body, extra.pop("headers", None))


def test_a_prediction_comes_back_unchanged_with_its_headers(
    ecs_api: tuple[Client, config.Settings], echo: ThreadingHTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client, _ = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1])
    response = predict(client, model_id, meta={"threshold": 0.7}, headers={"X-Request-Id": "req-77"})
    assert response.status_code == 200
    assert response.json_body == {"results": [len(echo.seen[0]["body"])], "requestId": "req-77"}
    assert response.headers["X-Request-Id"] == "req-77" and response.headers["X-Model-Id"] == model_id
    assert response.headers["X-Model-Version"] == "1"  # the number of the version that answered
    assert "container;dur=" in response.headers["Server-Timing"] and "gateway;dur=" in response.headers["Server-Timing"]
    forwarded = json.loads(echo.seen[0]["body"])
    assert forwarded["metaData"] == {"modelId": model_id, "threshold": 0.7}  # metaData passes untouched
    assert echo.seen[0]["path"] == "/predict"

    line = json.loads([out for out in capsys.readouterr().out.splitlines() if '"prediction"' in out][-1])
    # Counted for the model and for the version that answered.
    assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["ModelId"], ["ModelVersion"]]
    assert line["ModelVersion"] == f"{model_id}/v1"
    assert {m["Name"] for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]} == {
        "Latency",
        "Requests",
        "Errors4xx",
        "Errors5xx",
    }
    assert (line["ModelId"], line["status"], line["Requests"], line["requestId"]) == (model_id, 200, 1, "req-77")
    assert line["requestBody"] and line["responseBody"] and line["Latency"] > 0


def test_the_model_path_form_and_the_container_status(
    ecs_api: tuple[Client, config.Settings], echo: ThreadingHTTPServer
) -> None:
    client, _ = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1])
    ok = post(client, f"/models/{model_id}/predict", {"modelData": [1]})
    assert ok.status_code == 200
    rejected = post(client, f"/models/{model_id}/predict", {"modelData": "bad-input"})
    assert rejected.status_code == 400 and rejected.json_body["results"]  # the container's own answer
    mismatch = post(client, f"/models/{model_id}/predict", {"modelData": [1], "metaData": {"modelId": "other"}})
    assert_error(mismatch, 422, "validation_error")


def test_bodies_are_captured_up_to_the_models_limit(
    ecs_api: tuple[Client, config.Settings], echo: ThreadingHTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client, _ = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1], captureBodyBytes=10)
    predict(client, model_id)
    line = json.loads([o for o in capsys.readouterr().out.splitlines() if '"prediction"' in o][-1])
    assert len(line["requestBody"]) == 10 and line["requestBytes"] > 10
    client.http.put(f"/models/{model_id}", headers={"Content-Type": "application/json"}, body='{"captureBodyBytes": 0}')
    predict(client, model_id)
    line = json.loads([o for o in capsys.readouterr().out.splitlines() if '"prediction"' in o][-1])
    assert line["requestBody"] is None and line["responseBody"] is None


def test_unknown_and_stopped_models(ecs_api: tuple[Client, config.Settings]) -> None:
    client, _ = ecs_api
    assert_error(predict(client, "no-such-model"), 404, "not_found")
    model_id = post(client, "/models", {**_diamonds(), "name": "idle"}).json_body["id"]
    error = assert_error(predict(client, model_id), 409, "conflict")
    assert "STOPPED" in error["message"]


def _diamonds() -> dict[str, Any]:
    from tests.functional.test_models_api import DIAMONDS

    return dict(DIAMONDS)


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b'{"modelData": [1], "metaData": {"modelId": "m"}' + b" " * (6 * 1024 * 1024), None, 413, "payload_too_large"),
        (b"modelData=1", {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        (b'{"modelData": [1], ', None, 400, "bad_request"),
        (b'{"metaData": {"modelId": "m"}}', None, 422, "validation_error"),
        (b'{"modelData": [1]}', None, 422, "validation_error"),
        (b'{"modelData": [1], "metaData": {"modelId": 7}}', None, 422, "validation_error"),
    ],
    ids=["over-6-mb", "not-json-type", "malformed", "no-model-data", "no-model-id", "model-id-not-a-string"],
)
def test_bad_prediction_requests(
    ecs_api: tuple[Client, config.Settings], body: bytes, headers: dict[str, str] | None, status: int, code: str
) -> None:
    client, _ = ecs_api
    response = client.http.post("/predict", headers=headers or {"Content-Type": "application/json"}, body=body)
    assert_error(response, status, code)


def test_a_refused_connection_is_a_fast_502(ecs_api: tuple[Client, config.Settings]) -> None:
    client, _ = ecs_api
    model_id = running_model(ecs_api, free_port())  # nothing listens there
    started = time.monotonic()
    assert_error(predict(client, model_id), 502, "bad_gateway")
    assert time.monotonic() - started < 5  # a guard against hanging, not a speed test


def test_a_slow_container_is_a_504_after_the_models_timeout(ecs_api: tuple[Client, config.Settings]) -> None:
    client, _ = ecs_api
    slow = misbehaving("sleep")
    model_id = running_model(ecs_api, slow.server_address[1], predictTimeoutSeconds=1)
    started = time.monotonic()
    error = assert_error(predict(client, model_id), 504, "gateway_timeout")
    assert "1 s" in error["message"] and time.monotonic() - started < 3
    slow.shutdown()


@pytest.mark.parametrize("mode", ["reset", "garbage"])
def test_a_container_that_breaks_the_answer_is_a_502(ecs_api: tuple[Client, config.Settings], mode: str) -> None:
    client, _ = ecs_api
    broken = misbehaving(mode)
    model_id = running_model(ecs_api, broken.server_address[1])
    assert_error(predict(client, model_id), 502, "bad_gateway")
    broken.shutdown()


def test_a_refused_connection_is_retried_once_on_another_endpoint(
    ecs_api: tuple[Client, config.Settings], echo: ThreadingHTTPServer
) -> None:
    client, settings = ecs_api
    model_id = running_model(ecs_api, free_port())
    healthy_at(client, settings, model_id, echo.server_address[1], task="t2")
    assert len(client.http.get(f"/models/{model_id}").json_body) > 0
    statuses = {predict(client, model_id).status_code for _ in range(4)}
    assert statuses == {200}


def test_addresses_in_the_request_are_never_dialled(
    ecs_api: tuple[Client, config.Settings], echo: ThreadingHTTPServer
) -> None:
    client, _ = ecs_api
    trap = misbehaving("garbage")
    trap_address = f"127.0.0.1:{trap.server_address[1]}"
    model_id = running_model(ecs_api, echo.server_address[1])
    response = predict(
        client,
        model_id,
        meta={"endpoint": trap_address, "url": f"http://{trap_address}/predict"},
        headers={"Host": trap_address, "X-Forwarded-Host": trap_address, "X-Model-Endpoint": trap_address},
    )
    assert response.status_code == 200 and len(echo.seen) == 1
    assert trap.hits == 0  # type: ignore[attr-defined]
    trap.shutdown()


def test_stopping_turns_the_next_request_into_a_409(
    ecs_api: tuple[Client, config.Settings], echo: ThreadingHTTPServer
) -> None:
    client, _ = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1])
    assert predict(client, model_id).status_code == 200  # the route is now cached
    post(client, f"/models/{model_id}/stop", {})
    assert_error(predict(client, model_id), 409, "conflict")


@pytest.mark.parametrize(
    "query",
    [
        "requests?status=abc",
        "requests?limit=0",
        "requests?from=2026-11-21T05:00:00Z&to=2026-11-20T05:00:00Z",
        "requests?from=2026-11-21T05:00:00",
        "container-logs?format=xml",
        "metrics?period=30",
        "metrics?period=90",
        "metrics?from=2026-10-01T00:00:00Z&to=2026-11-20T00:00:00Z",
        "metrics?from=2026-11-19T00:00:00Z&to=2026-11-21T00:00:00Z&period=60",
    ],
)
def test_bad_observability_queries_get_422(ecs_api: tuple[Client, config.Settings], query: str) -> None:
    client, _ = ecs_api
    model_id = post(client, "/models", _diamonds()).json_body["id"]
    assert_error(client.http.get(f"/models/{model_id}/{query}"), 422, "validation_error")


def test_metrics_are_one_aligned_grid(ecs_api: tuple[Client, config.Settings]) -> None:
    client, _ = ecs_api
    model_id = post(client, "/models", _diamonds()).json_body["id"]
    body = client.http.get(f"/models/{model_id}/metrics?from=2026-11-21T05:00:30Z&to=2026-11-21T06:00:00Z").json_body
    assert (
        body["period"] == 60 and body["timestamps"][0] == "2026-11-21T05:00:00.000Z" and len(body["timestamps"]) == 60
    )
    assert set(body["series"]) == {
        "latencyAvg",
        "latencyP50",
        "latencyP90",
        "latencyP99",
        "requests",
        "errors4xx",
        "errors5xx",
        "successRate",
        "cpuPercent",
        "memoryPercent",
        "memoryPeakPercent",
    }
    assert all(len(values) == 60 and set(values) == {None} for values in body["series"].values())
    assert_error(client.http.get("/models/nope/metrics"), 404, "not_found")


def test_cpu_and_memory_come_from_container_insights_for_the_model_s_own_service(
    ecs_api: tuple[Client, config.Settings], echo: ThreadingHTTPServer
) -> None:
    """What Container Insights records for the ECS service the adapter made is what the chart shows."""
    client, settings = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1])
    ecs = boto3.client("ecs", region_name=settings.region)
    (service_arn,) = [arn for arn in ecs.list_services(cluster=settings.cluster)["serviceArns"] if model_id in arn]
    service = service_arn.rsplit("/", 1)[1]
    dimensions = [{"Name": "ClusterName", "Value": settings.cluster}, {"Name": "ServiceName", "Value": service}]
    # In the current minute and never ahead of the query that follows (second=5 was, in a minute's first 5 s).
    # A second ago, in whole seconds: never ahead of the query's end (second=5 was, in a minute's first 5 s).
    at = (datetime.now(UTC) - timedelta(seconds=1)).replace(microsecond=0)
    # Two replicas of 0.25 vCPU / 0.5 GB: one at 128 units and 200 MiB, the other at 64 units and 480 MiB.
    samples = [("CpuUtilized", 128), ("CpuUtilized", 64), ("CpuReserved", 256), ("CpuReserved", 256)]
    samples += [("MemoryUtilized", 200), ("MemoryUtilized", 480), ("MemoryReserved", 512), ("MemoryReserved", 512)]
    boto3.client("cloudwatch", region_name=settings.region).put_metric_data(
        Namespace="ECS/ContainerInsights",
        MetricData=[{"MetricName": n, "Dimensions": dimensions, "Timestamp": at, "Value": v} for n, v in samples],
    )
    for query in ("", "&version=1"):
        series = client.http.get(f"/models/{model_id}/metrics?period=60{query}").json_body["series"]
        assert [v for v in series["cpuPercent"] if v is not None] == [37.5]  # 192 of 512 units
        assert [v for v in series["memoryPercent"] if v is not None] == [66.41]  # 680 of 1024 MiB
        assert [v for v in series["memoryPeakPercent"] if v is not None] == [93.75]  # 480 of 512: the warning
    assert set(client.http.get(f"/models/{model_id}/metrics?version=2").json_body["series"]["cpuPercent"]) == {None}


def test_a_model_is_asked_by_its_name_as_well_as_its_id(
    ecs_api: tuple[Client, config.Settings], echo: ThreadingHTTPServer
) -> None:
    client, _ = ecs_api
    model_id = running_model(ecs_api, echo.server_address[1])
    name = client.http.get(f"/models/{model_id}").json_body["name"]
    by_body = predict(client, name)
    assert by_body.status_code == 200 and by_body.headers["X-Model-Id"] == model_id
    by_path = post(client, f"/models/{name}/predict", {"modelData": [[1]]})
    assert by_path.status_code == 200 and by_path.headers["X-Model-Id"] == model_id
    assert_error(predict(client, "no-such-model"), 404, "not_found")
