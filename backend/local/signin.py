"""Signing in as the console does, from any client (benchmarks, e2e tests, an SDK): standard library only."""

from __future__ import annotations

import json
import urllib.request

TIMEOUT_SECONDS = 10


def _http(url: str) -> str:
    # urlopen also opens file: and ftp: URLs; only the addresses config.json can legitimately name are allowed.
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url[:80]!r}")
    return url


def auth_settings(base_url: str) -> dict[str, str]:
    """The `auth` block the console reads from `<base_url>/config.json` (pool, client id, Cognito endpoint)."""
    url = _http(f"{base_url}/config.json")
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - the scheme is checked
        return dict(json.loads(response.read())["auth"])


def sign_in(base_url: str, username: str, password: str) -> str:
    """An access token from Cognito's InitiateAuth (USER_PASSWORD_AUTH) at the endpoint config.json names.

    Raises urllib.error.HTTPError on refused credentials; neither the password nor the token is logged.
    """
    auth = auth_settings(base_url)
    body = {
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": auth["clientId"],
        "AuthParameters": {"USERNAME": username, "PASSWORD": password},
    }
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked
        _http(auth["cognitoEndpoint"] + "/"),
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - checked above
        return str(json.loads(response.read())["AuthenticationResult"]["AccessToken"])
