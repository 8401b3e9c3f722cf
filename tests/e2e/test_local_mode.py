"""Local mode as a newcomer meets it: started as a process, driven over real HTTP, stopped cleanly."""

from __future__ import annotations

import json
import signal
import socket
import struct
import threading
import time
import urllib.request

import pytest

from tests.e2e.conftest import LocalMode, session_processes, start_local_mode
from tests.functional.test_models_api import DIAMONDS

pytestmark = pytest.mark.e2e


def test_model_crud_over_http(local_mode: LocalMode) -> None:
    created = local_mode.request("POST", "/api/models", DIAMONDS)
    assert created.status == 201, created.body
    model_id = created.body["id"]

    listed = local_mode.request("GET", "/api/models?search=diamonds")
    assert [m["id"] for m in listed.body["items"]] == [model_id]

    fetched = local_mode.request("GET", f"/api/models/{model_id}")
    assert fetched.status == 200 and fetched.body == created.body

    updated = local_mode.request("PUT", f"/api/models/{model_id}", {"version": "1.1"}, {"If-Match": '"1"'})
    assert updated.status == 200 and updated.body["version"] == "1.1" and updated.body["revision"] == 2

    stale = local_mode.request("PUT", f"/api/models/{model_id}", {"version": "9"}, {"If-Match": '"1"'})
    assert stale.status == 409 and stale.body["error"]["code"] == "conflict"

    assert local_mode.request("DELETE", f"/api/models/{model_id}").status == 204
    assert local_mode.request("GET", f"/api/models/{model_id}").status == 404


def test_errors_keep_their_shape_over_http(local_mode: LocalMode) -> None:
    bad_size = local_mode.request("POST", "/api/models", {**DIAMONDS, "containerCpu": 0.25, "containerMemory": 4})
    assert bad_size.status == 422 and bad_size.body["error"]["details"][0]["field"] == "containerMemory"
    unknown_route = local_mode.request("GET", "/api/no-such-thing")
    assert unknown_route.status == 404 and unknown_route.body["error"]["code"] == "not_found"
    request = urllib.request.Request(
        local_mode.base_url + "/api/models",
        data=b"{not json",
        method="POST",
        headers={"Content-Type": "application/json", **local_mode.auth},
    )
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("malformed JSON was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 400 and json.loads(error.read())["error"]["code"] == "bad_request"


def test_config_json_tells_the_console_where_the_api_is(local_mode: LocalMode) -> None:
    config = local_mode.request("GET", "/config.json")
    assert config.status == 200 and config.body["apiBase"] == "/api" and config.body["stage"] == "local"
    assert config.body["auth"]["userPoolId"] and config.body["auth"]["clientId"]


def test_without_signing_in_only_health_answers(local_mode: LocalMode) -> None:
    assert local_mode.request("GET", "/api/health", headers={"Authorization": ""}).status == 200
    refused = local_mode.request("GET", "/api/models", headers={"Authorization": ""})
    assert refused.status == 401 and refused.body["error"]["code"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert local_mode.request("GET", "/api/me").body["role"] == "admin"


def test_requests_are_served_concurrently(local_mode: LocalMode) -> None:
    statuses: list[int] = []

    def create(i: int) -> None:
        statuses.append(local_mode.request("POST", "/api/models", {**DIAMONDS, "name": f"parallel-{i}"}).status)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [201] * 20
    listed = local_mode.request("GET", "/api/models?search=parallel&limit=100")
    assert len(listed.body["items"]) == 20
    assert len({m["id"] for m in listed.body["items"]}) == 20


def test_a_client_hanging_up_mid_request_is_not_reported_as_an_error(local_mode: LocalMode) -> None:
    """A closed tab or a stopped load generator resets its connection; local mode goes on without a traceback."""
    host, port = local_mode.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        head = f"POST /api/models HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 1000\r\n\r\n"
        client.sendall(head.encode() + b'{"name": ')
        time.sleep(0.5)  # the server is reading the body
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
    time.sleep(0.5)
    assert local_mode.request("GET", "/api/models?limit=1").status == 200
    printed = local_mode.output.read_text(errors="replace")
    assert "ConnectionResetError" not in printed, printed[-3000:]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_everything(signum: signal.Signals) -> None:
    local = start_local_mode()
    local.process.send_signal(signum)
    assert local.process.wait(timeout=30) == 0
    deadline = time.monotonic() + 5
    while session_processes(local.process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert session_processes(local.process.pid) == []
