"""Signed HTTP calls to the API: a timeout on each, the session refreshed before it expires, errors made typed."""

from __future__ import annotations

from typing import Any

import requests

from kraken import auth
from kraken.errors import Unauthorized, Unavailable, error_from_response

DEFAULT_TIMEOUT_SECONDS = 30
# A prediction may take the model's whole predictTimeoutSeconds (at most 28) plus the gateway's own time.
PREDICT_TIMEOUT_SECONDS = 35


class Transport:
    """One signed-in connection to one Kraken; `persist` keeps the stored session file up to date."""

    def __init__(
        self,
        http: requests.Session,
        settings: auth.StageSettings,
        session: auth.Session,
        persist: bool = False,
    ) -> None:
        self.http = http
        self.settings = settings
        self.session = session
        self.persist = persist
        self.api = settings.api_url(session.url)

    def refresh(self) -> None:
        self.session = auth.refresh(self.http, self.settings, self.session)
        if self.persist:
            auth.save_session(self.session)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> requests.Response:
        """One API call (`path` under /api); an error answer raises the matching KrakenError."""
        if self.session.expiring():
            self.refresh()
        response = self._send(method, path, body, params, headers, timeout)
        if response.status_code == 401:
            # The token may have been revoked or the clock is off: one refresh, one retry, then it is real.
            try:
                self.refresh()
            except Unauthorized:
                raise error_from_response(401, response.content, response.headers) from None
            response = self._send(method, path, body, params, headers, timeout)
        if response.status_code >= 400:
            raise error_from_response(response.status_code, response.content, response.headers)
        return response

    def json(self, method: str, path: str, **options: Any) -> Any:
        response = self.request(method, path, **options)
        return response.json() if response.content else None

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        timeout: float,
    ) -> requests.Response:
        all_headers = {"Authorization": f"Bearer {self.session.access_token}", **(headers or {})}
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            return self.http.request(
                method, self.api + path, json=body, params=query, headers=all_headers, timeout=timeout
            )
        except requests.Timeout as exc:
            raise Unavailable(f"{method} {path}: no answer within {timeout:g} s") from exc
        except requests.RequestException as exc:
            raise Unavailable(f"{method} {path}: cannot reach {self.session.url} ({type(exc).__name__})") from exc
