"""IAM: one role per model, under the stage's permissions boundary, so a model's containers read only its artifacts."""

from __future__ import annotations

import json
from typing import Any

from chalicelib import config, permissions
from chalicelib.adapters.aws_errors import MODEL_ROLES, error_code, translated
from chalicelib.domain.errors import Misconfigured

OWN_ARTIFACTS_POLICY = "own-artifacts"


class IamModelRoles:
    """ModelIdentities on IAM: `kraken-<stage>-model-<id>`, assumable by ECS tasks of this account only.

    `boundary_arn` is the managed policy CDK makes (permissions.MODEL_TASK_BOUNDARY); a role's ARN is
    built from its partition and account, so making sure a role exists costs no read (and no GetRole grant).
    """

    def __init__(self, iam: Any, stage: str, bucket: str, boundary_arn: str) -> None:
        self._iam = iam
        self._boundary = boundary_arn
        self._prefix = f"kraken-{stage}"
        self._bucket = bucket

    def _name(self, model_id: str) -> str:
        return permissions.MODEL_ROLE_NAME.format(prefix=self._prefix, model_id=model_id)

    def ensure(self, model_id: str) -> str:
        """The model's role ARN, made (or its statement put back) as needed; idempotent."""
        parts = self._boundary.split(":")
        if len(parts) != 6 or parts[2] != "iam":
            raise Misconfigured(f"{config.MODEL_TASK_BOUNDARY_ARN} is not a policy ARN: models cannot get their roles")
        partition, account = parts[1], parts[4]
        name = self._name(model_id)
        values = {"partition": partition, "bucket": self._bucket, "model_id": model_id}
        with translated(MODEL_ROLES):
            try:
                self._iam.create_role(
                    RoleName=name,
                    AssumeRolePolicyDocument=json.dumps(permissions.model_role_trust(account)),
                    PermissionsBoundary=self._boundary,
                    Description=f"Kraken: what the containers of model {model_id} may do (read its artifacts)",
                )
            except Exception as error:
                if error_code(error) != "EntityAlreadyExists":
                    raise
            self._iam.put_role_policy(
                RoleName=name,
                PolicyName=OWN_ARTIFACTS_POLICY,
                PolicyDocument=json.dumps(permissions.policy_document("model_task", values)),
            )
        return f"arn:{partition}:iam::{account}:role/{name}"

    def remove(self, model_id: str) -> None:
        """Delete the model's role (its statement first, as IAM requires); a missing one is fine."""
        name = self._name(model_id)
        with translated(MODEL_ROLES):
            for call in (
                lambda: self._iam.delete_role_policy(RoleName=name, PolicyName=OWN_ARTIFACTS_POLICY),
                lambda: self._iam.delete_role(RoleName=name),
            ):
                try:
                    call()
                except Exception as error:
                    if error_code(error) != "NoSuchEntity":
                        raise
