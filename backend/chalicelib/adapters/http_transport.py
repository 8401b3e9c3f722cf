"""Outbound HTTP to model containers: one keep-alive pool per process, strict timeouts, typed failures."""

from __future__ import annotations

import json

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from chalicelib.adapters.tracing import subsegment
from chalicelib.domain.gateway import Garbled, Reply, TimedOut, Unreachable

# A container on the same network answers a connect in milliseconds; a second means it is not there.
CONNECT_TIMEOUT_SECONDS = 1.0
# Lambda can return at most 6 MB; a larger answer could never reach the caller.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024


class PooledTransport:
    """Transport over urllib3; the pool lives as long as the warm function, so connections are reused."""

    def __init__(self, connections_per_endpoint: int = 10) -> None:
        self._pool = urllib3.PoolManager(num_pools=64, maxsize=connections_per_endpoint, block=False, retries=False)

    def send(
        self, method: str, endpoint: str, path: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> Reply:
        url = f"http://{endpoint}{path}"
        with subsegment("## model container"):
            return self._send(method, url, body, headers, timeout)

    def _send(self, method: str, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Reply:
        try:
            response = self._pool.request(
                method,
                url,
                body=body,
                headers=headers,
                timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=timeout),
                preload_content=False,
                redirect=False,
            )
        except (NewConnectionError, ConnectTimeoutError) as error:
            raise Unreachable(str(error)) from None
        except MaxRetryError as error:  # urllib3 wraps connection errors this way even with retries off
            if isinstance(error.reason, ReadTimeoutError):
                raise TimedOut() from None
            raise Unreachable(str(error.reason)) from None
        except ReadTimeoutError:
            raise TimedOut() from None
        except (ProtocolError, OSError) as error:
            raise Garbled("the connection broke before an answer") from error
        try:
            payload = response.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
        except ReadTimeoutError:
            raise TimedOut() from None
        except (ProtocolError, OSError) as error:
            raise Garbled("the connection broke mid-answer") from error
        finally:
            response.release_conn()
        if len(payload) > MAX_RESPONSE_BYTES:
            raise Garbled(f"the answer is over {MAX_RESPONSE_BYTES} bytes")
        if not response.headers.get("Content-Type", "").startswith("application/json"):
            try:
                json.loads(payload)
            except ValueError:
                raise Garbled("the answer is not JSON") from None
        return Reply(response.status, payload)
