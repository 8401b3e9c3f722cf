"""The model registry: creating, reading, changing and deleting model records under the domain's rules."""

from __future__ import annotations

import builtins
import dataclasses
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import utc_now
from chalicelib.domain.deployments import follow_settings
from chalicelib.domain.env_secrets import EnvSecretKeeper
from chalicelib.domain.errors import Conflict, FieldProblem, InvalidRequest
from chalicelib.domain.models import (
    RUNTIME_FIELDS,
    ArtifactFormat,
    ModelRecord,
    OperationEntry,
    fargate_size_problem,
)
from chalicelib.domain.ports import (
    ModelNames,
    ModelQuery,
    ModelRepository,
    OperationsLog,
    Page,
    RegistryCredentials,
)
from chalicelib.domain.records import revision_conflict
from chalicelib.domain.runner_contract import RUNNER_PORT


def check_record(record: ModelRecord) -> None:
    """Raise InvalidRequest listing every rule across fields that the record breaks."""
    problems: list[FieldProblem] = []
    size_problem = fargate_size_problem(record.container_cpu, record.container_memory)
    if size_problem:
        problems.append(size_problem)
    if record.docker_image and record.artifact_format:
        problems.append(FieldProblem("artifact_format", "give either dockerImage or artifactFormat, not both"))
    if not record.docker_image and not record.artifact_format:
        problems.append(
            FieldProblem(
                "artifact_format",
                "without dockerImage the model runs in the standard runner: "
                f"artifactFormat must be one of {', '.join(ArtifactFormat)}",
            )
        )
    if problems:
        raise InvalidRequest("the model's settings are not valid", tuple(problems))


class ModelRegistry:
    def __init__(
        self,
        repository: ModelRepository,
        operations: OperationsLog,
        names: ModelNames,
        env_secrets: EnvSecretKeeper,
        on_change: Callable[[str], None] = lambda _model_id: None,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        credentials: RegistryCredentials | None = None,
    ) -> None:
        self._repository = repository
        self._env_secrets = env_secrets
        self._credentials = credentials
        self._operations = operations
        self._names = names
        self._on_change = on_change
        self._clock = clock
        self._new_id = new_id

    def create(self, settings: Mapping[str, Any], actor: str) -> ModelRecord:
        """A new STOPPED model from the caller's settings (ModelRecord field names); defaults fill the rest."""
        settings = dict(settings)
        if settings.get("container_port") is None:
            if not settings.get("artifact_format"):
                problem = FieldProblem("container_port", "an image model needs the port its server listens on")
                raise InvalidRequest("the model's settings are not valid", (problem,))
            settings["container_port"] = RUNNER_PORT  # the standard runner's; it listens where it is told
        model_id = self._new_id()
        split = self._env_secrets.split(model_id, settings.pop("env", {}), {})
        record = ModelRecord.new(model_id, actor, self._clock(), {**settings, "env": split.env})
        record = dataclasses.replace(record, secret_env=split.secret_env)
        try:
            check_record(record)
            self._names.claim(record.name, record.id)
            try:
                self._repository.add(record)
            except Exception:
                self._names.release(record.name, record.id)
                raise
        except Exception:
            self._env_secrets.forget(split.stored)  # nothing refers to them: the model was not made
            raise
        self._log(record, actor, "create", "created")
        return record

    def get(self, model_id: str) -> ModelRecord:
        return self._repository.get(model_id)

    def list(self, query: ModelQuery) -> Page[ModelRecord]:
        return self._repository.list(query)

    def every_in(self, project: str) -> builtins.list[ModelRecord]:
        """Every model of the project, page by page from the index."""
        found: builtins.list[ModelRecord] = []
        cursor: str | None = None
        while True:
            page = self._repository.list(ModelQuery(limit=100, cursor=cursor, projects=(project,)))
            found += page.items
            if (cursor := page.cursor) is None:
                return found

    def update(
        self,
        model_id: str,
        changes: Mapping[str, Any],
        actor: str,
        expected_revision: int | None = None,
    ) -> ModelRecord:
        """Apply a partial change; `changes` uses ModelRecord field names.

        Without `expected_revision` the change still applies only to the revision read here, so a
        concurrent writer makes it fail rather than be silently overwritten.
        """
        current = self._repository.get(model_id)
        revision_conflict(current, expected_revision)
        if "env" not in changes:
            return self._update(current, changes, actor)
        split = self._env_secrets.split(model_id, changes["env"], current.secret_env)
        try:
            return self._update(current, {**changes, "env": split.env, "secret_env": split.secret_env}, actor)
        except Exception:
            self._env_secrets.forget(split.stored)  # the change did not happen: nothing refers to them
            raise

    def _update(self, current: ModelRecord, changes: Mapping[str, Any], actor: str) -> ModelRecord:
        model_id = current.id
        runtime_changes = sorted(
            name for name in RUNTIME_FIELDS & changes.keys() if changes[name] != getattr(current, name)
        )
        if runtime_changes and not current.runs_nothing:
            raise Conflict(
                f"stop the model before changing its runtime settings (see details): it is {current.status}",
                tuple(FieldProblem(name, "changes only while the model is stopped") for name in runtime_changes),
            )
        bookkeeping: dict[str, Any] = {}
        if "schedules" in changes and changes["schedules"] != current.schedules:
            # Edited schedules count from now: a time that passed before the edit never fires.
            bookkeeping["schedule_checked_at"] = self._clock()
        updated = dataclasses.replace(
            current,
            **changes,
            **bookkeeping,
            updated_by=actor,
            updated_at=self._clock(),
            revision=current.revision + 1,
        )
        check_record(updated)
        if runtime_changes:
            updated = follow_settings(updated, actor, self._clock())
        renamed = updated.name != current.name
        if renamed:
            self._names.claim(updated.name, model_id)
        try:
            self._repository.replace(updated, expected_revision=current.revision)
        except Exception:
            if renamed:
                self._names.release(updated.name, model_id)
            raise
        if renamed:
            self._names.release(current.name, model_id)
        self._on_change(model_id)
        said = sorted(changes.keys() - {"secret_env"})  # an env change says env, whichever values are secret
        self._log(updated, actor, "update", f"changed {', '.join(said) or 'nothing'}")
        return updated

    def set_registry_credentials(self, model_id: str, username: str, password: str, actor: str) -> ModelRecord:
        """Keep the pull credentials of the model's private registry where ECS reads them, never in the record."""
        self._repository.get(model_id)  # an unknown model stores nothing
        secret = self._credentials_store().store(model_id, username, password)
        return self._with_secret(model_id, secret, actor, f"registry credentials set for user {username}")

    def clear_registry_credentials(self, model_id: str, actor: str) -> ModelRecord:
        self._repository.get(model_id)
        self._credentials_store().forget(model_id)
        return self._with_secret(model_id, None, actor, "registry credentials removed")

    def _credentials_store(self) -> RegistryCredentials:
        if self._credentials is None:
            raise TypeError("this registry was built without a credentials store")
        return self._credentials

    def _with_secret(self, model_id: str, secret: str | None, actor: str, said: str) -> ModelRecord:
        current = self._repository.get(model_id)
        updated = dataclasses.replace(
            current, registry_secret=secret, updated_by=actor, updated_at=self._clock(), revision=current.revision + 1
        )
        self._repository.replace(updated, expected_revision=current.revision)
        self._on_change(model_id)
        self._log(updated, actor, "registry-credentials", said)
        return updated

    def _log(self, record: ModelRecord, actor: str, action: str, result: str) -> None:
        self._operations.record(
            OperationEntry(record.id, self._clock(), actor, action, record.status, record.status, result)
        )
