"""The one translation of AWS SDK failures into domain errors, used by every adapter.

Throttling, timeouts and 5xx answers are worth retrying (503). A refused permission is not: it is a
deployment that lacks an IAM grant, so the caller gets a 500 and the log names the missing action.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import DependencyUnavailable, DomainError, Misconfigured

logger = logging.getLogger("kraken.aws")

PERMISSION_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthorizationError",
    }
)
# botocore names an answer it cannot parse (moto's XML refusals of DynamoDB calls) by its HTTP status;
# the code it should have read is inside the message.
_CODE_IN_XML = re.compile(r"<Code>([A-Za-z0-9.]+)</Code>")
# Keys the service does not know: a deployment (or local mode) signing with the wrong credentials.
CREDENTIAL_CODES = frozenset({"InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId"})
# "User: arn:... is not authorized to perform: s3:ListBucketVersions on resource: ..."
_ACTION = re.compile(r"perform:? ([A-Za-z0-9-]+:[A-Za-z0-9*]+)")


@dataclass(frozen=True)
class Dependency:
    """An AWS service as the adapters name it: how a user reads it and its IAM action prefix."""

    what: str
    iam_prefix: str
    # Where an operation's IAM action is not named after it (S3's ListObjectVersions needs ListBucketVersions).
    actions: dict[str, str] = field(default_factory=dict)

    def action(self, operation: str) -> str:
        return self.actions.get(operation, f"{self.iam_prefix}:{operation}")


MODEL_STORE = Dependency("the model store", "dynamodb")
ARTIFACT_STORE = Dependency(
    "the artifact store",
    "s3",
    {
        "HeadObject": "s3:GetObject",
        "ListObjectVersions": "s3:ListBucketVersions",
        "DeleteObjects": "s3:DeleteObject or s3:DeleteObjectVersion",
    },
)
CLOUDWATCH_LOGS = Dependency("CloudWatch Logs", "logs")
CLOUDWATCH = Dependency("CloudWatch", "cloudwatch")
ECS = Dependency("ECS", "ecs")
USER_POOL = Dependency("the user pool", "cognito-idp")
REGISTRY_SECRETS = Dependency("Secrets Manager", "secretsmanager")
MODEL_ROLES = Dependency("IAM (the models' roles)", "iam")
SNS = Dependency("SNS (the rollout topic)", "sns")


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ClientError, or '' for anything else."""
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    if code.isdigit():
        inner = _CODE_IN_XML.search(str(response.get("Error", {}).get("Message", "")))
        return inner.group(1) if inner else code
    return code


def translate(error: BaseException, dependency: Dependency) -> DomainError:
    """The domain error for a failed AWS call (a ClientError, a BotoCoreError, or what PynamoDB wraps)."""
    if isinstance(error, ClientError) and error_code(error) in PERMISSION_CODES:
        message = str(error.response.get("Error", {}).get("Message", ""))
        operation = error.operation_name
        found = _ACTION.search(message)
        action = found.group(1) if found else dependency.action(operation)
        logger.error("missing IAM permission %s (%s refused %s: %s)", action, dependency.what, operation, message)
        return Misconfigured(f"{dependency.what} refused the call: the deployment lacks a permission; see the log")
    if isinstance(error, ClientError) and error_code(error) in CREDENTIAL_CODES:
        logger.error("%s does not know the credentials %s was signed with", dependency.what, error.operation_name)
        return Misconfigured(f"{dependency.what} refused the call: its credentials are not valid; see the log")
    logger.warning("%s failed (answered 503): %s", dependency.what, error)
    return DependencyUnavailable(f"{dependency.what} did not answer; try again shortly")


@contextmanager
def translated(dependency: Dependency) -> Iterator[None]:
    """Turn any botocore failure inside the block into the matching domain error."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise translate(error, dependency) from error
