"""Entry point (`python -m runner`): listen at once, load the model in the background, serve."""

from __future__ import annotations

import gc
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from runner import EXIT_LOAD_FAILURE
from runner.config import ConfigError, Settings, load_settings
from runner.errors import LoadFailure, describe
from runner.logs import fail, log
from runner.server import RunnerApp
from runner.workers import Pool, Readiness, limit_threads, threads_per_worker, worker_count

if TYPE_CHECKING:
    import uvicorn

    from runner.loading import Loaded


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


def _server(app: RunnerApp) -> uvicorn.Server:
    import uvicorn

    return uvicorn.Server(
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


def _stop_on_signals(server: uvicorn.Server, also: Callable[[], None] = lambda: None) -> None:
    # uvicorn re-raises the stop signal after its graceful shutdown; with these handlers in place
    # that re-raise is a no-op and we exit 0, which is what ECS and local mode expect from a stop.
    def stopped(_signum: int, _frame: FrameType | None) -> None:
        also()
        server.should_exit = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopped)


def _app(settings: Settings, readiness: Readiness) -> tuple[RunnerApp, uvicorn.Server]:
    holder: list[uvicorn.Server] = []
    app = RunnerApp(settings, lambda: len(holder[0].server_state.connections), readiness)
    holder.append(_server(app))
    return app, holder[0]


@dataclass
class _Boot:
    """What the loading thread hands back to the main thread."""

    loaded: Loaded | None = None
    failed: bool = False
    stop_requested: bool = False


def _load_in_background(settings: Settings, boot: _Boot, app: RunnerApp, server: uvicorn.Server, fork: bool) -> None:
    from runner.loading import load, report_loaded

    try:
        loaded = load(settings)
    except LoadFailure as exc:
        fail(str(exc))
        boot.failed = server.should_exit = True
        return
    except BaseException as exc:
        fail(f"unexpected error while loading {settings.artifact_uri}: {describe(exc)}")
        boot.failed = server.should_exit = True
        return
    report_loaded(settings, loaded)
    if fork:
        # The parent hands over to workers forked from it once this server has stopped (copy-on-write).
        boot.loaded = loaded
        server.should_exit = True
    else:
        app.readiness.set(0, True)
        app.set_model(loaded.model, loaded.details)


def _serve_worker(settings: Settings, sock: socket.socket, readiness: Readiness, loaded: Loaded, slot: int) -> int:
    """A forked worker: redo what fork() does not carry (thread pools), then serve on the shared socket."""
    loaded.model.after_fork()
    limit_threads(threads_per_worker(settings.workers))
    app, server = _app(settings, readiness)
    app.set_model(loaded.model, loaded.details)
    _stop_on_signals(server)
    readiness.set(slot, True)
    server.run(sockets=[sock])
    return 0


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

    workers = worker_count(settings.workers)
    readiness = Readiness(workers)
    # This process answers (health 503) while the model loads; with one worker it then serves it itself.
    app, server = _app(settings, readiness)
    boot = _Boot()
    _stop_on_signals(server, also=lambda: setattr(boot, "stop_requested", True))
    loader = threading.Thread(target=_load_in_background, args=(settings, boot, app, server, workers > 1), daemon=True)
    loader.start()
    log(
        "INFO",
        "runner listening",
        host=settings.host,
        port=sock.getsockname()[1],
        format=settings.artifact_format,
        artifactUri=settings.artifact_uri,
        workers=workers,
        startSeconds=round(time.perf_counter() - started, 3),
    )
    # A duplicate: uvicorn closes the sockets it served on when it stops, and the workers need this one open.
    server.run(sockets=[sock.dup()] if workers > 1 else [sock])
    if boot.failed:
        return EXIT_LOAD_FAILURE
    if boot.stop_requested or boot.loaded is None:
        return 0
    loader.join()
    loaded = boot.loaded
    pool = Pool(workers, readiness, lambda slot: _serve_worker(settings, sock, readiness, loaded, slot))
    pool.take_signals()
    if boot.stop_requested:  # a stop that came while this process was handing over
        return 0
    gc.freeze()  # the model's objects stay out of the collector's writes: more pages stay shared after fork
    return pool.run()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # A stop can arrive mid-download or mid-unpickle; skipping interpreter teardown (which would wait
    # for, or race with, those threads) is what makes the exit prompt.
    os._exit(code)
