"""Secrets Manager: registry pull credentials (one secret per model) and secret env values (one per value)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from chalicelib.adapters.aws_errors import REGISTRY_SECRETS, error_code, translated


class SecretsManagerRegistryCredentials:
    """RegistryCredentials on Secrets Manager: `{"username", "password"}` as ECS's repositoryCredentials wants."""

    def __init__(self, secrets: Any, name_prefix: str) -> None:
        self._secrets = secrets
        self._prefix = name_prefix

    def _name(self, model_id: str) -> str:
        return f"{self._prefix}{model_id}"

    def store(self, model_id: str, username: str, password: str) -> str:
        value = json.dumps({"username": username, "password": password})
        with translated(REGISTRY_SECRETS):
            try:
                created = self._secrets.create_secret(
                    Name=self._name(model_id),
                    SecretString=value,
                    Description=f"Kraken: pull credentials of model {model_id}'s private registry",
                )
            except Exception as error:
                if error_code(error) != "ResourceExistsException":
                    raise
                created = self._secrets.put_secret_value(SecretId=self._name(model_id), SecretString=value)
        return str(created["ARN"])

    def forget(self, model_id: str) -> None:
        with translated(REGISTRY_SECRETS):
            try:
                self._secrets.delete_secret(SecretId=self._name(model_id), ForceDeleteWithoutRecovery=True)
            except Exception as error:
                if error_code(error) != "ResourceNotFoundException":
                    raise


class SecretsManagerEnvSecrets:
    """EnvSecrets on Secrets Manager: `<prefix><model id>/<NAME>-<random>`, a plain string; the ARN refers to it.

    Each value given is a secret of its own and is never overwritten, so a version keeps the value it was
    made with; the model's deletion removes them all.
    """

    def __init__(self, secrets: Any, name_prefix: str) -> None:
        self._secrets = secrets
        self._prefix = name_prefix

    def store(self, model_id: str, name: str, value: str) -> str:
        with translated(REGISTRY_SECRETS):
            created = self._secrets.create_secret(
                Name=f"{self._prefix}{model_id}/{name}-{uuid.uuid4().hex[:12]}",
                SecretString=value,
                Description=f"Kraken: the env value {name} of model {model_id}",
            )
        return str(created["ARN"])

    def forget(self, ref: str) -> None:
        with translated(REGISTRY_SECRETS):
            try:
                self._secrets.delete_secret(SecretId=ref, ForceDeleteWithoutRecovery=True)
            except Exception as error:
                if error_code(error) != "ResourceNotFoundException":
                    raise
