"""Cognito access tokens, verified in the function against the pool's public keys (cached while warm)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from chalicelib.domain.access import Identity
from chalicelib.domain.errors import DependencyUnavailable, Unauthenticated

logger = logging.getLogger("kraken.auth")
JWKS_TIMEOUT_SECONDS = 3
JWKS_CACHE_SECONDS = 3600


class CognitoTokenVerifier:
    """Checks signature (RS256, keys by kid), expiry, issuer, token use and app client of an access token."""

    def __init__(self, issuer: str, client_id: str, jwks_url: str) -> None:
        self._issuer = issuer
        self._client_id = client_id
        self._jwks_url = jwks_url
        self._keys: Any = None
        self._lock = threading.Lock()

    def _key_source(self) -> Any:
        # PyJWT and cryptography load on first use: routes that verify nothing never pay for them.
        from jwt import PyJWKClient

        with self._lock:
            if self._keys is None:
                self._keys = PyJWKClient(
                    self._jwks_url, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=JWKS_TIMEOUT_SECONDS
                )
            return self._keys

    def verify(self, token: str) -> Identity:
        import jwt

        if not (self._issuer and self._client_id and self._jwks_url):
            raise Unauthenticated("sign-in is not configured for this deployment")
        try:
            key = self._key_source().get_signing_key_from_jwt(token).key
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self._issuer,
                options={"require": ["exp", "iss", "token_use"], "verify_aud": False},
                leeway=5,
            )
        except jwt.PyJWKClientConnectionError:
            logger.exception("the user pool's keys could not be fetched")
            # The caller's token may well be valid: this is our dependency failing, not their credentials.
            raise DependencyUnavailable("the sign-in keys could not be fetched; try again shortly") from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as error:
            raise Unauthenticated(f"the token is not valid: {type(error).__name__}") from None
        if claims.get("token_use") != "access" or claims.get("client_id") != self._client_id:
            raise Unauthenticated("send the access token of the console's app client")
        return Identity(str(claims.get("username") or claims.get("sub")), tuple(claims.get("cognito:groups", ())))


class CognitoUserDirectory:
    """UserDirectory on the user pool: ListUsers by username, then by e-mail address (an exact match)."""

    def __init__(self, cognito: Any, user_pool_id: str) -> None:
        self._cognito = cognito
        self._pool = user_pool_id

    def username_of(self, username_or_email: str) -> str | None:
        from chalicelib.adapters.aws_errors import USER_POOL, translated

        # ListUsers filters take a quoted value: a quote or backslash in it could change the filter.
        if not username_or_email or any(c in username_or_email for c in '"\\') or len(username_or_email) > 128:
            return None
        attribute = "email" if "@" in username_or_email else "username"
        with translated(USER_POOL):
            found = self._cognito.list_users(
                UserPoolId=self._pool, Filter=f'{attribute} = "{username_or_email}"', Limit=2
            )["Users"]
        return str(found[0]["Username"]) if len(found) == 1 else None
