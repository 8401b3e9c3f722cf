"""The only module that knows every adapter: builds them lazily, once per process, from Settings."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any

from chalicelib.config import Settings, settings
from chalicelib.domain.lifecycle import Lifecycle
from chalicelib.domain.ports import ContainerRuntime
from chalicelib.domain.registry import ModelRegistry


class Wiring:
    """The adapters and services of one process; built on first use to keep cold start light.

    Adapter modules are imported inside the properties: PynamoDB and boto3 pull in botocore,
    ~100 ms that routes such as /health never need.
    """

    def __init__(self, config: Settings) -> None:
        self.settings = config

    def client(self, service: str) -> Any:
        from chalicelib.adapters.clients import client

        return client(service, self.settings)

    @cached_property
    def _tables(self) -> Any:
        from chalicelib.adapters import dynamodb

        dynamodb.configure(self.settings)
        return dynamodb

    @cached_property
    def operations(self) -> Any:
        return self._tables.DynamoOperationsLog(self.settings.operations_ttl_days)

    @cached_property
    def registry(self) -> ModelRegistry:
        return ModelRegistry(self._tables.DynamoModelRepository(), self.operations)

    @cached_property
    def runtime(self) -> ContainerRuntime:
        from chalicelib.adapters.ecs import EcsContainerRuntime

        return EcsContainerRuntime(self.client("ecs"), self.settings)

    @cached_property
    def lifecycle(self) -> Lifecycle:
        from chalicelib.adapters.cloudwatch_logs import CloudWatchContainerLogs
        from chalicelib.adapters.s3 import S3ArtifactStore

        return Lifecycle(
            models=self._tables.DynamoModelRepository(),
            runtime=self.runtime,
            operations=self.operations,
            artifacts=S3ArtifactStore(self.client("s3"), self.settings.artifact_bucket),
            container_logs=CloudWatchContainerLogs(self.client("logs"), self.settings),
            artifact_max_bytes=self.settings.artifact_max_bytes,
            start_timeout=timedelta(seconds=self.settings.start_timeout_seconds),
        )


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
