"""Secret environment values: kept in a secret store, referenced by the record, never shown or logged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chalicelib.domain.errors import FieldProblem, InvalidRequest
from chalicelib.domain.models import ModelRecord
from chalicelib.domain.ports import EnvSecrets


@dataclass(frozen=True)
class SecretEnv:
    """A secret env value as a caller gives it: a new value to store, or None to keep the one stored."""

    value: str | None = None


RequestedEnv = Mapping[str, "str | SecretEnv"]


@dataclass(frozen=True)
class SplitEnv:
    env: dict[str, str]  # the plain values, as the container gets them
    secret_env: dict[str, str]  # name -> the stored secret's reference
    stored: tuple[str, ...]  # references stored by this split: forget them if what needed them fails


def references(record: ModelRecord) -> set[str]:
    """Every secret the model's record and versions name (versions keep the values they were made with)."""
    return {*record.secret_env.values(), *(ref for v in record.versions for ref in v.secret_env.values())}


class EnvSecretKeeper:
    """Turns the env a caller asked for into plain values and references to stored secrets."""

    def __init__(self, store: EnvSecrets) -> None:
        self._store = store

    def split(self, model_id: str, requested: RequestedEnv, current: Mapping[str, str]) -> SplitEnv:
        """Checked first, stored second: a bad request (a kept secret that does not exist) stores nothing."""
        kept = [name for name, value in requested.items() if isinstance(value, SecretEnv) and value.value is None]
        missing = [name for name in kept if name not in current]
        if missing:
            raise InvalidRequest(
                "the model's settings are not valid",
                tuple(
                    FieldProblem(f"env.{name}", "no secret is stored under this name to keep: give its value")
                    for name in missing
                ),
            )
        plain = {name: value for name, value in requested.items() if isinstance(value, str)}
        secret_env: dict[str, str] = {}
        stored: list[str] = []
        try:
            for name, value in requested.items():
                if isinstance(value, SecretEnv):
                    if value.value is None:
                        secret_env[name] = current[name]
                    else:
                        secret_env[name] = self._store.store(model_id, name, value.value)
                        stored.append(secret_env[name])
        except Exception:
            self.forget(stored)
            raise
        return SplitEnv(plain, secret_env, tuple(stored))

    def forget(self, refs: Iterable[str]) -> None:
        for ref in refs:
            self._store.forget(ref)
