"""The only module that knows every adapter: builds them lazily, once per process, from Settings."""

from __future__ import annotations

from functools import cached_property

from chalicelib.config import Settings, settings
from chalicelib.domain.registry import ModelRegistry


class Wiring:
    """The adapters and services of one process; built on first use to keep cold start light."""

    def __init__(self, config: Settings) -> None:
        self.settings = config

    @cached_property
    def registry(self) -> ModelRegistry:
        # Imported here: PynamoDB pulls in botocore, ~100 ms that routes like /health never need.
        from chalicelib.adapters import dynamodb

        dynamodb.configure(self.settings)
        return ModelRegistry(dynamodb.DynamoModelRepository())


_current: Wiring | None = None


def current() -> Wiring:
    global _current
    if _current is None:
        _current = Wiring(settings())
    return _current


def install(wiring: Wiring | None) -> None:
    """Replace the process's wiring (local mode, tests); None rebuilds it from the environment."""
    global _current
    _current = wiring
