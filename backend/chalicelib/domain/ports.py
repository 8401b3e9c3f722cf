"""Ports: the interfaces the domain needs from storage and runtimes, implemented by the adapters."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from chalicelib.domain.models import ModelRecord, ModelStatus

T = TypeVar("T")


@dataclass(frozen=True)
class ModelQuery:
    limit: int
    search: str | None = None
    status: ModelStatus | None = None
    cursor: str | None = None  # opaque continuation from a previous Page


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursor: str | None


class ModelRepository(Protocol):
    """Model records in durable storage; every write is conditional so concurrent writers cannot both win."""

    def add(self, record: ModelRecord) -> None:
        """Store a new record; Conflict if its id exists."""
        ...

    def get(self, model_id: str) -> ModelRecord:
        """The record, or NotFound."""
        ...

    def list(self, query: ModelQuery) -> Page[ModelRecord]:
        """Records newest first, filtered by the query, without reading the whole table."""
        ...

    def replace(self, record: ModelRecord, expected_revision: int) -> None:
        """Overwrite the record if its stored revision is still `expected_revision`; else Conflict."""
        ...

    def remove(self, model_id: str, expected_revision: int, allowed: Collection[ModelStatus]) -> None:
        """Delete the record if it is unchanged and in one of the `allowed` statuses; else Conflict."""
        ...
