"""Entry point (`python -m runner`): listen at once, load the model in the background, serve."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from types import FrameType

from runner import EXIT_LOAD_FAILURE
from runner.config import ConfigError, Settings, load_settings
from runner.errors import LoadFailure, describe
from runner.logs import fail, log
from runner.server import RunnerApp


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets that say so,
    # and without it every keep-alive response stalls ~40 ms on delayed ACK (headers, body: 2 writes).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def _load_in_background(settings: Settings, app: RunnerApp, on_failure: threading.Event) -> None:
    from runner.loading import load

    try:
        loaded = load(settings)
    except LoadFailure as exc:
        fail(str(exc))
        on_failure.set()
        return
    except BaseException as exc:
        fail(f"unexpected error while loading {settings.artifact_uri}: {describe(exc)}")
        on_failure.set()
        return
    app.set_model(loaded.model)
    log(
        "INFO",
        "model loaded",
        format=settings.artifact_format,
        artifactUri=settings.artifact_uri,
        sizeBytes=loaded.size_bytes,
        downloadSeconds=round(loaded.download_seconds, 3),
        loadSeconds=round(loaded.load_seconds, 3),
    )


def main() -> int:
    started = time.perf_counter()
    try:
        settings = load_settings()
    except ConfigError as exc:
        fail(str(exc))
        return EXIT_LOAD_FAILURE
    try:
        sock = _bind(settings.host, settings.port)
    except OSError as exc:
        fail(f"cannot listen on {settings.host}:{settings.port}: {describe(exc)}")
        return EXIT_LOAD_FAILURE

    import uvicorn

    app = RunnerApp(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            http="httptools",
            loop="asyncio",
            lifespan="off",
            access_log=False,
            log_level="warning",
            server_header=False,
            # Longer than the callers' idle timeouts, so we never close a connection they are reusing.
            timeout_keep_alive=75,
            timeout_graceful_shutdown=5,
        )
    )
    load_failed = threading.Event()

    def watch_load() -> None:
        load_failed.wait()
        server.should_exit = True

    # uvicorn re-raises the stop signal after its graceful shutdown; with these handlers in place
    # that re-raise is a no-op and we exit 0, which is what ECS and local mode expect from a stop.
    def stopped(_signum: int, _frame: FrameType | None) -> None:
        server.should_exit = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopped)

    threading.Thread(target=_load_in_background, args=(settings, app, load_failed), daemon=True).start()
    threading.Thread(target=watch_load, daemon=True).start()
    log(
        "INFO",
        "runner listening",
        host=settings.host,
        port=sock.getsockname()[1],
        format=settings.artifact_format,
        artifactUri=settings.artifact_uri,
        startSeconds=round(time.perf_counter() - started, 3),
    )
    server.run(sockets=[sock])
    return EXIT_LOAD_FAILURE if load_failed.is_set() else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # A stop can arrive mid-download or mid-unpickle; skipping interpreter teardown (which would wait
    # for, or race with, those threads) is what makes the exit prompt.
    os._exit(code)
