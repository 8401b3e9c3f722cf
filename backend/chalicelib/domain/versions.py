"""A model's versions: creating them, offering uploads of their artifacts, and deleting those that do not serve."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import utc_now
from chalicelib.domain.deployments import sole_deployment, version_from_settings
from chalicelib.domain.env_secrets import EnvSecretKeeper
from chalicelib.domain.errors import Conflict, FieldProblem, InvalidRequest, NotFound
from chalicelib.domain.models import CODE_FIELDS, MAX_VERSIONS, ModelRecord, ModelStatus, ModelVersion
from chalicelib.domain.ports import ArtifactStore, ModelRepository, OperationsLog, UploadTicket
from chalicelib.domain.records import RecordKeeper
from chalicelib.domain.runner_contract import RUNNER_PORT


class VersionCatalog(RecordKeeper):
    def __init__(
        self,
        models: ModelRepository,
        operations: OperationsLog,
        artifacts: ArtifactStore,
        artifact_max_bytes: int,
        env_secrets: EnvSecretKeeper,
        clock: Callable[[], datetime] = utc_now,
        on_change: Callable[[str], None] = lambda _model_id: None,
    ) -> None:
        super().__init__(models, operations, clock, on_change)
        self._artifacts = artifacts
        self._artifact_max_bytes = artifact_max_bytes
        self._env_secrets = env_secrets

    def create(
        self, model_id: str, actor: str, notes: str, code: Mapping[str, Any], metadata: Mapping[str, str] | None = None
    ) -> ModelVersion:
        """A new version: the model's own code settings, overridden by those given."""
        record = self._models.get(model_id)
        if len(record.versions) >= MAX_VERSIONS:
            raise Conflict(f"the model has {MAX_VERSIONS} versions, the most it may keep; delete old ones first")
        unknown = sorted(code.keys() - set(CODE_FIELDS))
        if unknown:
            raise TypeError(f"not code settings of a version: {', '.join(unknown)}")
        base = version_from_settings(record, actor, self._clock(), notes)
        code = dict(code)
        stored: tuple[str, ...] = ()
        if "env" in code:  # a kept secret is the model's own
            split = self._env_secrets.split(model_id, code["env"], record.secret_env)
            code.update(env=split.env, secret_env=split.secret_env)
            stored = split.stored
        try:
            return self._add(record, dataclasses.replace(base, **code, metadata=dict(metadata or {})), code, actor)
        except Exception:
            self._env_secrets.forget(stored)  # no version refers to them
            raise

    def _add(self, record: ModelRecord, version: ModelVersion, code: Mapping[str, Any], actor: str) -> ModelVersion:
        if "docker_image" in code and code["docker_image"] and "artifact_format" not in code:
            version = dataclasses.replace(version, artifact_format=None)
        if "artifact_format" in code and code["artifact_format"] and "docker_image" not in code:
            version = dataclasses.replace(version, docker_image=None)
        if version.docker_image is None and version.container_port is None:
            version = dataclasses.replace(version, container_port=RUNNER_PORT)
        _check_version(version)
        saved = self._save(dataclasses.replace(record, versions=(*record.versions, version)), record)
        if saved is None:
            raise Conflict("the model changed while the version was being created; try again")
        self._log(record, actor, "version", record.status, f"version {version.number} created")
        return version

    def get(self, model_id: str, number: int) -> tuple[ModelRecord, ModelVersion]:
        record = self._models.get(model_id)
        version = record.find_version(number)
        if version is None:
            raise NotFound(f"the model has no version {number}")
        return record, version

    def delete(self, model_id: str, number: int, actor: str) -> None:
        record, version = self.get(model_id, number)
        if number in {d.version for d in record.wanted()} or record.state_of(number).status is not ModelStatus.STOPPED:
            raise Conflict(f"version {number} is in the deployment or still has replicas; deploy without it first")
        if any(v.artifact_of == number for v in record.versions):
            raise Conflict(f"version {number}'s artifact is also served by later versions; delete those first")
        saved = self._save(
            dataclasses.replace(record, versions=tuple(v for v in record.versions if v.number != number)), record
        )
        if saved is None:
            raise Conflict("the model changed while the version was being deleted; try again")
        if version.artifact_of is None:
            self._artifacts.delete(model_id, number)
        self._log(record, actor, "version", record.status, f"version {number} deleted")

    def request_upload(self, model_id: str, number: int, actor: str) -> UploadTicket:
        """A ticket for the version's one artifact; a version that has one never takes another."""
        record, version = self.get(model_id, number)
        if version.docker_image:
            raise Conflict(f"version {number} runs its own image; artifacts are for versions without dockerImage")
        if version.artifact_of is not None:
            raise Conflict(
                f"version {number} serves the file of version {version.artifact_of}; "
                f"a new file is a new version: POST /api/models/{model_id}/versions"
            )
        if version.artifact is not None:
            raise Conflict(
                f"version {number} already has its artifact ({version.artifact.size} bytes) and a version's "
                f"artifact never changes; a new file is a new version: POST /api/models/{model_id}/versions"
            )
        return self._offer(record, version, actor)

    def request_model_upload(self, model_id: str, actor: str) -> UploadTicket:
        """The simple path: the model's file becomes a new version, deployed alone while the model is stopped."""
        record = self._models.get(model_id)
        if record.docker_image:
            raise Conflict("this model runs its own image; artifacts are for models without dockerImage")
        if not record.runs_nothing:
            serving = ", ".join(str(d.version) for d in record.serving) or "its deployment"
            raise Conflict(
                f"the model is {record.status}, serving version {serving}; a file uploaded here would not be served. "
                f"Upload a new version (POST /api/models/{model_id}/versions, then its artifact) and deploy it"
            )
        latest = record.latest_version
        reusable = (
            latest is not None
            and latest.artifact is None
            and latest.artifact_of is None
            and latest.code() == version_from_settings(record, actor, self._clock(), "").code()
        )
        version = latest if reusable and latest else version_from_settings(record, actor, self._clock(), "uploaded")
        planned = record if reusable else dataclasses.replace(record, versions=(*record.versions, version))
        if len(record.deployment) <= 1:
            planned = dataclasses.replace(planned, deployment=sole_deployment(record, version))
        if planned is not record:
            saved = self._save(planned, record)
            if saved is None:
                raise Conflict("the model changed while the upload was being prepared; try again")
            self._log(record, actor, "version", record.status, f"version {version.number} created for the upload")
            record = saved
        return self._offer(record, version, actor)

    def _offer(self, record: ModelRecord, version: ModelVersion, actor: str) -> UploadTicket:
        ticket = self._artifacts.upload_ticket(record.id, version.number, self._artifact_max_bytes)
        if version.artifact_pending_since is None:
            marked = dataclasses.replace(version, artifact_pending_since=self._clock())
            versions = tuple(marked if v.number == version.number else v for v in record.versions)
            self._save(dataclasses.replace(record, versions=versions), record)
        self._log(record, actor, "upload", record.status, f"upload offered for version {version.number}")
        return ticket


def _check_version(version: ModelVersion) -> None:
    problems = []
    if version.docker_image and version.artifact_format:
        problems.append(FieldProblem("artifact_format", "give either dockerImage or artifactFormat, not both"))
    if not version.docker_image and not version.artifact_format:
        problems.append(FieldProblem("artifact_format", "a version needs dockerImage or artifactFormat"))
    if problems:
        raise InvalidRequest("the version's settings are not valid", tuple(problems))
