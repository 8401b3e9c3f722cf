"""Conditional writes of model records and the operations log lines that go with them, shared by the services."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from chalicelib.domain.errors import Conflict
from chalicelib.domain.models import ModelRecord, ModelStatus, OperationEntry
from chalicelib.domain.ports import ModelRepository, OperationsLog


def revision_conflict(record: ModelRecord, expected_revision: int | None) -> None:
    """Conflict when the caller's change is based on another revision than the stored one."""
    if expected_revision is not None and expected_revision != record.revision:
        raise Conflict(
            f"the model has changed: revision {record.revision} is current, "
            f"the request is based on revision {expected_revision}; reload and try again"
        )


class RecordKeeper:
    """Writes a record only over the revision it read, and logs what each change did."""

    def __init__(
        self,
        models: ModelRepository,
        operations: OperationsLog,
        clock: Callable[[], datetime],
        on_change: Callable[[str], None],
    ) -> None:
        self._models = models
        self._operations = operations
        self._clock = clock
        self._on_change = on_change

    def _save(self, updated: ModelRecord, current: ModelRecord) -> ModelRecord | None:
        """Conditional write on the revision read; None when someone else wrote first."""
        updated = dataclasses.replace(updated, revision=current.revision + 1, updated_at=self._clock())
        try:
            self._models.replace(updated, expected_revision=current.revision)
        except Conflict:
            return None
        self._on_change(updated.id)
        return updated

    def _log(
        self,
        record: ModelRecord,
        actor: str,
        action: str,
        to_status: ModelStatus | None,
        result: str,
        reason: str | None = None,
    ) -> None:
        self._operations.record(
            OperationEntry(
                model_id=record.id,
                at=self._clock(),
                actor=actor,
                action=action,
                from_status=record.status,
                to_status=to_status,
                result=result,
                reason=reason,
            )
        )
