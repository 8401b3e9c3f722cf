"""Local state's pure parts: where the data directory is, which emulator requests change the state, and
the pause that lets a snapshot see the emulator between requests."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from local.state import Pausable, changes_state, data_dir

CLOUDWATCH = "/service/GraniteServiceVersion20100801"  # botocore's RPC v2 (CBOR) path for CloudWatch


def test_the_data_directory_is_per_port_unless_named_and_empty_keeps_nothing() -> None:
    default = Path(__file__).resolve().parents[2] / ".kraken" / "local-8000"  # in the checkout
    assert data_dir(8000, {}) == (default, True)
    assert data_dir(8000, {"KRAKEN_DATA_DIR": "/tmp/x"}) == (Path("/tmp/x"), True)
    assert data_dir(8000, {"KRAKEN_DATA_DIR": ""}) == (default, False)


@pytest.mark.parametrize(
    ("environ", "changes"),
    [
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query", "REQUEST_METHOD": "POST"}, False),
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem", "REQUEST_METHOD": "POST"}, False),
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem", "REQUEST_METHOD": "POST"}, True),
        ({"HTTP_X_AMZ_TARGET": "Logs_20140328.FilterLogEvents", "REQUEST_METHOD": "POST"}, False),
        ({"HTTP_X_AMZ_TARGET": "Logs_20140328.PutLogEvents", "REQUEST_METHOD": "POST"}, True),
        # Signing in stores a refresh token.
        ({"HTTP_X_AMZ_TARGET": "AWSCognitoIdentityProviderService.InitiateAuth", "REQUEST_METHOD": "POST"}, True),
        ({"PATH_INFO": f"{CLOUDWATCH}/operation/GetMetricData", "REQUEST_METHOD": "POST"}, False),
        ({"PATH_INFO": f"{CLOUDWATCH}/operation/PutMetricData", "REQUEST_METHOD": "POST"}, True),
        ({"PATH_INFO": "/bucket/models/x/artifact", "REQUEST_METHOD": "GET"}, False),
        ({"PATH_INFO": "/bucket/models/x/artifact", "REQUEST_METHOD": "HEAD"}, False),
        ({"PATH_INFO": "/bucket", "REQUEST_METHOD": "POST"}, True),
        ({"PATH_INFO": "/bucket/models/x/artifact", "REQUEST_METHOD": "DELETE"}, True),
    ],
)
def test_only_reads_leave_the_state_unchanged(environ: dict[str, Any], changes: bool) -> None:
    assert changes_state(environ) is changes


def _app(entered: threading.Event, release: threading.Event) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        entered.set()
        release.wait(5)
        return [b"ok"]

    return app


def test_a_pause_waits_for_requests_in_flight_and_holds_new_ones_back() -> None:
    entered, release = threading.Event(), threading.Event()
    pausable = Pausable(_app(entered, release))
    write = {"REQUEST_METHOD": "POST", "PATH_INFO": "/bucket"}
    in_flight = threading.Thread(target=pausable, args=(write, None))
    in_flight.start()
    assert entered.wait(5)
    order: list[str] = []

    def pause() -> None:
        with pausable.paused(timeout=5) as changes:
            order.append(f"paused after {changes} change(s)")
            time.sleep(0.2)
            order.append("resumed")

    pauser = threading.Thread(target=pause)
    pauser.start()
    time.sleep(0.1)
    assert order == []  # the request in flight finishes first
    release.set()
    in_flight.join(5)
    entered.clear()
    late = threading.Thread(target=lambda: (pausable(write, None), order.append("late request served")))
    time.sleep(0.05)
    late.start()
    pauser.join(5)
    late.join(5)
    assert order == ["paused after 1 change(s)", "resumed", "late request served"]
    assert pausable.changes == 2


def test_a_pause_gives_up_when_a_request_does_not_finish() -> None:
    entered, release = threading.Event(), threading.Event()
    pausable = Pausable(_app(entered, release))
    stuck = threading.Thread(target=pausable, args=({"REQUEST_METHOD": "GET"}, None))
    stuck.start()
    assert entered.wait(5)
    with pytest.raises(TimeoutError), pausable.paused(timeout=0.1):
        pass
    release.set()
    stuck.join(5)
    with pausable.paused(timeout=1) as changes:  # and the emulator is not left paused
        assert changes == 0
