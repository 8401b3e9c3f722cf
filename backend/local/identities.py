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
from local.runtime import SessionKeys

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
# The emulator's account, moto's default: the one its ARNs name.
ACCOUNT = "123456789012"

# ECS refreshes a task's role credentials itself; a replica's one session must outlive it here.
MODEL_SESSION_SECONDS = 12 * 3600

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

    def __init__(self, iam: Any, settings: Settings, account: str = ACCOUNT) -> None:
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


def model_session(role_arn: str, session_name: str, region: str) -> SessionKeys:
    """A session of a model's own role, as ECS gets one for each task through its service principal.

    ECS is not a caller of ours, so no identity of ours signs this: it is asked of the in-process
    emulator's STS directly. moto then judges every call made with these keys by that role's policy.
    """
    from moto.sts.models import sts_backends

    session = sts_backends[ACCOUNT]["aws"].assume_role(
        region_name=region,
        role_session_name=session_name[:64],
        role_arn=role_arn,
        policy="",
        duration=MODEL_SESSION_SECONDS,
        external_id="",
    )
    return SessionKeys(session.access_key_id, session.secret_access_key, session.session_token)
