"""The Chalice application class: Chalice with per-thread request state.

Chalice keeps the request being handled in one attribute of the app. On Lambda one process serves
one request at a time, so that is enough; local mode serves many at once from threads, like many
warm Lambda instances, so each thread gets its own `current_request` and `lambda_context`.
"""

from __future__ import annotations

import threading
from typing import Any

from chalice import Chalice


class KrakenApp(Chalice):
    def __init__(self, app_name: str, **kwargs: Any) -> None:
        self._per_thread = threading.local()
        super().__init__(app_name, **kwargs)

    @property
    def current_request(self) -> Any:
        return getattr(self._per_thread, "request", None)

    @current_request.setter
    def current_request(self, value: Any) -> None:
        self._per_thread.request = value

    @property
    def lambda_context(self) -> Any:
        return getattr(self._per_thread, "context", None)

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._per_thread.context = value
