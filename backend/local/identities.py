"""Local mode's signing identities: one emulator IAM user per role, its policy rendered from chalicelib.permissions.

All Lambda functions of local mode run in one process; each invocation binds its function's role
(`acting_as`) and every AWS call it makes is signed with that role's keys (`RoleCredentials`), so the
emulator's IAM enforcement judges it by exactly the policy CDK grants that function.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.credentials import Credentials, ReadOnlyCredentials

from chalicelib import permissions
from chalicelib.config import Settings

# What AWS does itself in local mode: delivering logs written to stdout (Lambda's, the awslogs
# driver's) and turning EMF lines into metrics. Not a role of ours; it gets only these actions.
PLATFORM = "platform"
PLATFORM_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "cloudwatch:PutMetricData"],
            "Resource": "*",
        }
    ],
}
# A person administering the stage (on AWS: with their own IAM credentials): manages the pool's users.
# Local mode writes these keys only to the file KRAKEN_OPERATOR_CREDENTIALS names (tests use it).
OPERATOR = "operator"
OPERATOR_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                f"cognito-idp:{name}"
                for name in (
                    "AdminCreateUser",
                    "AdminAddUserToGroup",
                    "AdminRemoveUserFromGroup",
                    "AdminSetUserPassword",
                    "AdminGetUser",
                    "AdminDeleteUser",
                    "ListUsers",
                )
            ],
            "Resource": "*",
        }
    ],
}
# The key local/runtime.py hands every runner process: it is the model task role's key in the emulator.
RUNNER_KEY = "local"
MODEL_TASK = "model_task"

_role: ContextVar[str | None] = ContextVar("kraken_local_role", default=None)


@contextlib.contextmanager
def acting_as(role: str) -> Iterator[None]:
    """Sign the AWS calls made inside this block (in this thread or task) as `role`."""
    token = _role.set(role)
    try:
        yield
    finally:
        _role.reset(token)


def current_role() -> str | None:
    return _role.get()


def emulator_policy(document: Mapping[str, Any]) -> dict[str, Any]:
    """The policy as moto can judge it. moto authorizes S3 calls against the bucket or object ARN but
    every other service's against '*', so an ARN-scoped statement of those would refuse every call:
    their resources become '*'. Actions stay exact (CloudWatch's get moto's spelling too), S3 resources too."""
    statements = []
    for statement in document["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if not all(r.startswith("arn:aws:s3:") for r in resources):
            statement = {**statement, "Resource": "*"}
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        # moto names an action after the signing name, which for CloudWatch is "monitoring".
        aliases = [f"monitoring:{a.split(':', 1)[1]}" for a in actions if a.startswith("cloudwatch:")]
        statements.append({**statement, "Action": actions + aliases})
    return {**document, "Statement": statements}


def policy_values(settings: Settings, account: str) -> dict[str, str]:
    return {
        "partition": "aws",
        "region": settings.region,
        "account": account,
        "prefix": f"kraken-{settings.stage}",
        "bucket": settings.artifact_bucket,
        "cluster": settings.cluster,
        "model_log_groups": settings.model_log_group_prefix,
        "request_log_group": settings.request_log_group,
        "user_pool": settings.user_pool_id,
    }


@dataclass(frozen=True)
class Identity:
    access_key: str
    secret_key: str
    policy: dict[str, Any]  # as the emulator enforces it


class Identities:
    """Creates the users in the emulator (before enforcement starts) and hands out their credentials."""

    def __init__(self, iam: Any, settings: Settings, account: str = "123456789012") -> None:
        values = policy_values(settings, account)
        tables = [f"arn:aws:dynamodb:{settings.region}:{account}:table/{name}" for name in settings.table_names]
        documents = {
            role: permissions.policy_document(role, values, tables=tables, task_roles=["*"])
            for role in permissions.ROLES
        }
        documents[PLATFORM] = PLATFORM_POLICY
        documents[OPERATOR] = OPERATOR_POLICY
        self.by_role: dict[str, Identity] = {}
        for role, document in documents.items():
            policy = emulator_policy(document)
            user = f"kraken-local-{role.replace('_', '-')}"
            iam.create_user(UserName=user)
            iam.put_user_policy(UserName=user, PolicyName=role, PolicyDocument=json.dumps(policy))
            key = iam.create_access_key(UserName=user)["AccessKey"]
            self.by_role[role] = Identity(key["AccessKeyId"], key["SecretAccessKey"], policy)
        self._give_runner_key(account)

    def _give_runner_key(self, account: str) -> None:
        # Runner processes sign with RUNNER_KEY (local/runtime.py sets it); in this in-process emulator
        # that key becomes the model task user's, so a model reads with the task role's policy only.
        from moto.iam.models import iam_backends

        identity = self.by_role[MODEL_TASK]
        user = iam_backends[account]["aws"].get_user(f"kraken-local-{MODEL_TASK.replace('_', '-')}")
        user.access_keys[0].access_key_id = RUNNER_KEY
        user.access_keys[0].secret_access_key = RUNNER_KEY
        self.by_role[MODEL_TASK] = Identity(RUNNER_KEY, RUNNER_KEY, identity.policy)

    def secrets(self) -> dict[str, Identity]:
        """Access key id -> identity, for the emulator's own checks of presigned requests."""
        return {identity.access_key: identity for identity in self.by_role.values()}

    def write_operator_credentials(self, path: Path) -> None:
        """The operator's keys, readable by this user only."""
        identity = self.by_role[OPERATOR]
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps({"accessKeyId": identity.access_key, "secretAccessKey": identity.secret_key}))

    def fixed(self, role: str) -> Credentials:
        identity = self.by_role[role]
        return Credentials(identity.access_key, identity.secret_key)

    def per_invocation(self) -> RoleCredentials:
        return RoleCredentials(self.by_role)


class RoleCredentials(Credentials):
    """Credentials that are those of the role bound by `acting_as` at signing time.

    A call outside any binding fails loudly rather than falling back to a broader identity.
    """

    def __init__(self, by_role: Mapping[str, Identity]) -> None:
        super().__init__("unbound", "unbound")
        self._by_role = by_role

    def _identity(self) -> Identity:
        role = _role.get()
        if role is None:
            raise RuntimeError("an AWS call in local mode outside any function's role (see local.identities)")
        return self._by_role[role]

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        identity = self._identity()
        return ReadOnlyCredentials(identity.access_key, identity.secret_key, None)

    @property
    def access_key(self) -> str:
        return self._identity().access_key if _role.get() else "unbound"

    @access_key.setter
    def access_key(self, value: str) -> None:
        pass  # botocore's constructor sets it; the bound role decides

    @property
    def secret_key(self) -> str:
        return self._identity().secret_key if _role.get() else "unbound"

    @secret_key.setter
    def secret_key(self, value: str) -> None:
        pass
