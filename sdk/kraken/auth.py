"""Signing in as the console does (Cognito's InitiateAuth JSON API over HTTP) and the session stored on disk."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from kraken.errors import KrakenError, ServerError, Throttled, Unauthorized, Unavailable

TIMEOUT_SECONDS = 15
# A token is refreshed when less than this is left of its life, so a request never leaves with one about to expire.
REFRESH_MARGIN_SECONDS = 120
_THROTTLED = {"TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"}


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim (epoch seconds) of a JWT, read without verifying it: the server verifies every token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


@dataclass
class Session:
    """A signed-in session: where, who, and the tokens (the refresh token mints new access tokens)."""

    url: str
    username: str
    access_token: str
    refresh_token: str
    expires_at: float

    def expiring(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) >= self.expires_at - REFRESH_MARGIN_SECONDS

    def __repr__(self) -> str:  # never show the tokens, not even in a traceback or a notebook cell
        return f"Session(url={self.url!r}, username={self.username!r}, expires_at={self.expires_at:.0f})"


@dataclass(frozen=True)
class StageSettings:
    """What `<url>/config.json` tells a client (as it tells the console): the user pool's app client,
    where Cognito answers, and where the API is."""

    client_id: str
    endpoint: str
    local_user: str | None
    api_base: str = "/api"

    def api_url(self, url: str) -> str:
        """The API's address: `apiBase` as it is when absolute, else under the stage's URL."""
        if self.api_base.startswith(("http://", "https://")):
            return self.api_base.rstrip("/")
        return url + "/" + self.api_base.strip("/")

    @classmethod
    def of(cls, config: dict[str, Any]) -> StageSettings:
        auth = config.get("auth")
        if not isinstance(auth, dict) or not auth.get("clientId"):
            raise KrakenError("the server's /config.json has no sign-in settings (auth.clientId)")
        region = auth.get("region") or config.get("region") or "us-east-1"
        endpoint = auth.get("cognitoEndpoint") or f"https://cognito-idp.{region}.amazonaws.com"
        if not str(endpoint).startswith(("http://", "https://")):
            raise KrakenError("the server's /config.json names a sign-in endpoint that is not an http(s) URL")
        api_base = config.get("apiBase") if isinstance(config.get("apiBase"), str) else None
        return cls(
            str(auth["clientId"]), str(endpoint).rstrip("/") + "/", auth.get("localUser") or None, api_base or "/api"
        )


def read_settings(http: requests.Session, url: str) -> StageSettings:
    """Where to sign in for the Kraken at `url` (the same file the console reads, so a deployed stage works too)."""
    try:
        response = http.get(f"{url}/config.json", timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise Unavailable(f"cannot reach {url}: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise KrakenError(f"{url}/config.json answered {response.status_code}: is this a Kraken?")
    try:
        config = response.json()
    except ValueError as exc:
        raise KrakenError(f"{url}/config.json is not JSON: is this a Kraken?") from exc
    return StageSettings.of(config if isinstance(config, dict) else {})


def _cognito(http: requests.Session, settings: StageSettings, target: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        response = http.post(
            settings.endpoint,
            data=json.dumps(body),
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"AWSCognitoIdentityProviderService.{target}",
            },
            timeout=TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise Unavailable(f"cannot reach the sign-in service: {type(exc).__name__}") from exc
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.ok and isinstance(data, dict):
        return data
    raw_type = str(data.get("__type", "") if isinstance(data, dict) else "") or response.headers.get(
        "x-amzn-ErrorType", ""
    )
    kind = raw_type.split("#")[-1].split(":")[0]  # "com.amazonaws...#NotAuthorizedException" or "Name:http://..."
    if kind in _THROTTLED:
        raise Throttled("too many sign-in attempts; wait a few minutes", status=response.status_code, code=kind)
    if response.status_code >= 500:
        raise ServerError("the sign-in service failed; try again", status=response.status_code, code=kind or None)
    # Cognito's own text may say whether the user exists; a wrong name and a wrong password read the same here.
    raise Unauthorized("sign-in refused: wrong username or password, or the session ended", code=kind or None)


def _session(url: str, username: str, result: dict[str, Any], refresh_token: str | None = None) -> Session:
    access = result.get("AccessToken")
    refresh = result.get("RefreshToken") or refresh_token
    if not isinstance(access, str) or not isinstance(refresh, str):
        raise Unauthorized("the sign-in service answered without tokens")
    expires_in = result.get("ExpiresIn") if isinstance(result.get("ExpiresIn"), int) else 3600
    expires_at = jwt_expiry(access) or time.time() + float(expires_in or 3600)
    return Session(url, username, access, refresh, expires_at)


def sign_in(http: requests.Session, settings: StageSettings, url: str, username: str, password: str) -> Session:
    """A new session from a password (USER_PASSWORD_AUTH)."""
    data = _cognito(
        http,
        settings,
        "InitiateAuth",
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": settings.client_id,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
        },
    )
    if data.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
        raise Unauthorized("this account still has its temporary password: sign in to the console once to set yours")
    if data.get("ChallengeName"):
        raise Unauthorized(f"this account needs a sign-in step the SDK does not support ({data['ChallengeName']})")
    return _session(url, username, data.get("AuthenticationResult") or {})


def refresh(http: requests.Session, settings: StageSettings, session: Session) -> Session:
    """A new access token from the refresh token (REFRESH_TOKEN_AUTH); Cognito keeps the refresh token."""
    data = _cognito(
        http,
        settings,
        "InitiateAuth",
        {
            "AuthFlow": "REFRESH_TOKEN_AUTH",
            "ClientId": settings.client_id,
            "AuthParameters": {"REFRESH_TOKEN": session.refresh_token},
        },
    )
    return _session(session.url, session.username, data.get("AuthenticationResult") or {}, session.refresh_token)


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/kraken` (by default `~/.config/kraken`)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kraken"


def session_path() -> Path:
    return config_dir() / "session.json"


def load_session(url: str | None = None) -> Session | None:
    """The stored session (for `url`, when given); None when there is none or it is unreadable."""
    try:
        saved = json.loads(session_path().read_text())
        session = Session(**{name: saved[name] for name in Session.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if url is not None and session.url != url:
        return None
    return session


def save_session(session: Session) -> Path:
    """Writes the session readable by its owner only (0600, in a 0700 directory), atomically."""
    path = session_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_suffix(".tmp")
    # Created with 0600 from the start: a chmod after writing would leave a moment where others could read it.
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as sink:
        json.dump(asdict(session), sink)
    partial.chmod(0o600)  # an existing file keeps its old mode through O_CREAT
    partial.replace(path)
    return path


def forget_session() -> bool:
    """Removes the stored session; whether there was one."""
    with contextlib.suppress(FileNotFoundError):
        session_path().unlink()
        return True
    return False
