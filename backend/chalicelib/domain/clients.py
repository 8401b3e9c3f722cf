"""Client tokens: long-lived secrets that let a program call one model's private prediction endpoint.

A token is shown once; only a salted SHA-256 of it is stored (tokens are 256 random bits, so a
slow password hash would add latency without adding safety). Verifications are cached by the warm
function for at most a minute, which bounds how long a revoked token keeps working, and at most
CACHE_ENTRIES of them (least recently used first out, failed checks included), so a caller sending
endless wrong tokens cannot grow the function's memory.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.domain.clock import utc_now
from chalicelib.domain.errors import NotFound

TOKEN_PREFIX = "kt"  # noqa: S105 - marks a client token, not a secret
CACHE_SECONDS = 60.0
CACHE_ENTRIES = 1024
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Client:
    model_id: str
    name: str
    salt: str
    digest: str
    created_at: datetime
    last_used_at: datetime | None = None


class ClientStore(Protocol):
    def add(self, client: Client) -> None:
        """Store a new client; Conflict if the model already has one of that name."""
        ...

    def get(self, model_id: str, name: str) -> Client | None: ...

    def list(self, model_id: str) -> list[Client]: ...

    def remove(self, model_id: str, name: str) -> bool:
        """True when there was such a client."""
        ...

    def touch(self, model_id: str, name: str, at: datetime) -> None: ...


def _digest(salt: str, token: str) -> str:
    return hashlib.sha256(f"{salt}:{token}".encode()).hexdigest()


def name_in(token: str) -> str | None:
    """The client name a token carries (kt.<name>.<secret>), so a Bearer token needs no separate name."""
    parts = token.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == TOKEN_PREFIX and parts[1] else None


class ClientTokens:
    def __init__(
        self,
        store: ClientStore,
        clock: Callable[[], datetime] = utc_now,
        cache_seconds: float = CACHE_SECONDS,
        cache_entries: int = CACHE_ENTRIES,
    ) -> None:
        self._store = store
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cache_entries = cache_entries
        self._verified: OrderedDict[tuple[str, str, str], tuple[bool, float]] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, model_id: str, name: str) -> tuple[Client, str]:
        """A new client and its token, which is never stored and cannot be shown again."""
        token = f"{TOKEN_PREFIX}.{name}.{secrets.token_urlsafe(32)}"
        salt = secrets.token_hex(16)
        client = Client(model_id, name, salt, _digest(salt, token), self._clock())
        self._store.add(client)
        return client, token

    def list(self, model_id: str) -> list[Client]:
        return self._store.list(model_id)

    def revoke(self, model_id: str, name: str) -> None:
        if not self._store.remove(model_id, name):
            raise NotFound(f"the model has no client named {name}")
        # This function forgets at once; other warm ones within CACHE_SECONDS.
        with self._lock:
            for key in [k for k in self._verified if k[:2] == (model_id, name)]:
                del self._verified[key]

    def verify(self, model_id: str, name: str, token: str) -> bool:
        """True when the token is the named client's; one store read per client and minute at most."""
        key = (model_id, name, hashlib.sha256(token.encode()).hexdigest())
        now = time.monotonic()
        with self._lock:
            cached = self._verified.get(key)
            if cached and cached[1] > now:
                self._verified.move_to_end(key)
                return cached[0]
        client = self._store.get(model_id, name)
        valid = client is not None and hmac.compare_digest(client.digest, _digest(client.salt, token))
        with self._lock:
            self._verified[key] = (valid, now + self._cache_seconds)
            self._verified.move_to_end(key)
            while len(self._verified) > self._cache_entries:
                self._verified.popitem(last=False)
        if valid and client is not None:
            moment = self._clock()
            if client.last_used_at is None or moment - client.last_used_at >= TOUCH_EVERY:
                self._store.touch(model_id, name, moment)
        return valid
