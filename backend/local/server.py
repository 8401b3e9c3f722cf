"""Local mode's HTTP server: the API at /api through Chalice's local gateway, the console at /.

It replaces `chalice local`'s server, which stalls ~40 ms per request on keep-alive connections
(its responses go out in small writes that meet delayed ACK) and serves one request at a time.
Here each response leaves in one write with TCP_NODELAY, and every connection has its own thread.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import socket
import sys
import threading
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException, RouteMatcher

from chalicelib.api.errors import error_body
from chalicelib.api.http import MAX_REQUEST_BYTES, too_large
from chalicelib.security_headers import response_headers
from local.identities import acting_as

logger = logging.getLogger("kraken.local")

API_PREFIX = "/api"
# API Gateway refuses payloads over 10 MB before the Lambda sees them; so do we.
IDLE_CONNECTION_SECONDS = 75


class RequestTooLarge(Exception):
    pass


def _read_chunked(stream: Any, limit: int) -> bytes:
    body = bytearray()
    while True:
        size_line = stream.readline(1024)
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while stream.readline(1024).strip():  # trailers
                pass
            return bytes(body)
        if len(body) + size > limit:
            raise RequestTooLarge
        body += stream.read(size)
        stream.readline(1024)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_SECONDS
    server: LocalServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET

    def _dispatch(self) -> None:
        if self.headers.get("Host", "") not in self.server.allowed_hosts:
            # A page whose name was rebound to 127.0.0.1 sends its own name here: it gets nothing.
            self.close_connection = True
            self._send_error(421, "misdirected_request", "this server answers only to 127.0.0.1 and localhost")
            return
        path = urlsplit(self.path).path
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            self._api()
        elif path == "/config.json":
            self._send(200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, self.server.config_json)
        elif self.command in ("GET", "HEAD"):
            self._static(path)
        else:
            self._send_error(405, "method_not_allowed", f"{self.command} is not allowed here")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return _read_chunked(self.rfile, MAX_REQUEST_BYTES)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:  # read(-1) would read to the end of the stream, past every limit
            raise ValueError("negative Content-Length")
        if length > MAX_REQUEST_BYTES:
            raise RequestTooLarge
        return self.rfile.read(length) if length else b""

    def _api(self) -> None:
        try:
            body = self._read_body()
        except RequestTooLarge:
            self.close_connection = True  # the unread body would be taken for the next request
            refused = too_large(None, MAX_REQUEST_BYTES)
            self._send_error(413, refused.code, refused.message)
            return
        except (ValueError, OSError):
            self.close_connection = True
            self._send_error(400, "bad_request", "the request body could not be read")
            return
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        api_path = self.path[len(API_PREFIX) :] or "/"
        if not api_path.startswith("/"):
            api_path = "/" + api_path
        try:
            with acting_as("api_handler"):
                response = self.server.gateway.handle_request(self.command, api_path, headers, body or None)
        except LocalGatewayException:
            # The local gateway refuses only routes it cannot match (tokens are checked in the API). Its own body
            # would echo the Authorization header (as API Gateway's does); ours, like the deployed
            # API's MISSING_AUTHENTICATION_TOKEN gateway response, is a plain 404.
            self._send_error(404, "not_found", f"no route for {self.command} {urlsplit(self.path).path}")
            return
        self._send_lambda_response(response)

    def _send_lambda_response(self, response: Mapping[str, Any]) -> None:
        raw = response.get("body") or b""
        if response.get("isBase64Encoded"):
            payload = base64.b64decode(raw)
        else:
            payload = raw.encode() if isinstance(raw, str) else raw
        headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = ",".join(values)
        self._send(int(response["statusCode"]), headers, payload)

    def _static(self, path: str) -> None:
        root = self.server.console_dir
        if root is None:
            self._send(
                200,
                {"Content-Type": "text/plain; charset=utf-8"},
                b"Kraken local mode is running; the API is at /api.\n"
                b"The console is not built yet: ./scripts/local.sh builds it.\n",
            )
            return
        relative = unquote(path).lstrip("/") or "index.html"
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            # Paths without a file are the single-page app's own routes; it renders them itself.
            target = root / "index.html"
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        immutable = target.parent.name == "assets"  # Vite puts content-hashed files there
        cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
        self._send(200, {"Content-Type": content_type, "Cache-Control": cache}, target.read_bytes())

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:  # noqa: ARG002 - its signature
        """The standard library's own refusals (an unknown method, a malformed request line) in our shape."""
        self.close_connection = True
        if code == HTTPStatus.NOT_IMPLEMENTED:  # a method no route has: a 405 that says which ones exist
            allowed = self.server.allowed_methods(urlsplit(self.path).path)
            payload = json.dumps(error_body("method_not_allowed", f"{self.command} is not allowed here")).encode()
            self._send(405, {"Content-Type": "application/json", "Allow": ", ".join(allowed)}, payload)
        else:
            self._send_error(code, "bad_request", message or HTTPStatus(code).phrase)

    def _send_error(self, status: int, code: str, message: str) -> None:
        payload = json.dumps(error_body(code, message)).encode()
        self._send(status, {"Content-Type": "application/json"}, payload)

    def _send(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        lines = [f"HTTP/1.1 {status} {reason}"]
        # The headers CloudFront adds on AWS, to every answer (console and API alike).
        headers = {**headers, **self.server.security_headers}
        lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() != "content-length"]
        lines.append(f"Content-Length: {len(payload)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + payload)
        self.log_request(status)


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default of 5 resets connections under a burst of parallel clients
    allow_reuse_address = True

    def __init__(
        self,
        app: Any,
        port: int,
        console_dir: Path | None,
        runtime_config: Mapping[str, Any],
        connect_sources: Sequence[str] = (),
    ) -> None:
        """`connect_sources`: what the console may call besides this server (the emulator, in local mode)."""
        self.gateway = LocalGateway(app, Config(chalice_stage="local"))
        self._app_routes = app.routes
        self._routes = RouteMatcher(list(app.routes))
        self.allowed_hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})
        self.security_headers = response_headers(connect_sources)
        has_console = console_dir is not None and (console_dir / "index.html").is_file()
        self.console_dir = console_dir.resolve() if has_console and console_dir else None
        self.config_json = json.dumps(runtime_config).encode()
        super().__init__(("127.0.0.1", port), _Handler)

    def allowed_methods(self, path: str) -> list[str]:
        """The methods a path answers: its routes' under /api, GET and HEAD for the console."""
        if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            return ["GET", "HEAD"]
        try:
            resource = self._routes.match_route(path[len(API_PREFIX) :] or "/").route
        except ValueError:
            return []
        return sorted(self._app_routes[resource])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (a browser tab closed, a load generator stopping) is no fault of ours;
        # anything else keeps socketserver's traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="local-http", daemon=True)
        thread.start()
        return thread
