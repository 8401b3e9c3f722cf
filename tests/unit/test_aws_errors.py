"""The one AWS error translation: retryable failures are 503s, a refused permission is a 500 naming the action."""

from __future__ import annotations

import logging
import socket

import jwt
import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError

from chalicelib.adapters.aws_errors import ARTIFACT_STORE, CLOUDWATCH_LOGS, MODEL_STORE, translate, translated
from chalicelib.adapters.cognito import CognitoTokenVerifier
from chalicelib.api.errors import response_for
from chalicelib.domain.errors import DependencyUnavailable, Misconfigured


def client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException", "InternalError"])
def test_throttling_and_service_faults_are_retryable(code: str) -> None:
    error = translate(client_error(code, "slow down", "Query"), MODEL_STORE)
    assert isinstance(error, DependencyUnavailable)
    assert error.message == "the model store did not answer; try again shortly"


def test_a_timeout_is_retryable() -> None:
    with pytest.raises(DependencyUnavailable, match="CloudWatch Logs did not answer"), translated(CLOUDWATCH_LOGS):
        raise ConnectTimeoutError(endpoint_url="https://logs.example")


def test_a_refused_permission_names_the_action_from_the_message(caplog: pytest.LogCaptureFixture) -> None:
    message = "User: arn:aws:sts::1:assumed-role/api is not authorized to perform: logs:FilterLogEvents on resource: x"
    with caplog.at_level(logging.ERROR, "kraken.aws"):
        error = translate(client_error("AccessDeniedException", message, "FilterLogEvents"), CLOUDWATCH_LOGS)
    assert isinstance(error, Misconfigured)
    assert "missing IAM permission logs:FilterLogEvents" in caplog.text
    response = response_for(error, "rid-1")
    assert response.status_code == 500
    assert response.body["error"]["requestId"] == "rid-1"
    assert "try again" not in response.body["error"]["message"]


def test_s3_access_denied_names_the_action_the_operation_needs(caplog: pytest.LogCaptureFixture) -> None:
    # S3 says only "Access Denied"; the operation tells which grant is missing.
    with caplog.at_level(logging.ERROR, "kraken.aws"), pytest.raises(Misconfigured), translated(ARTIFACT_STORE):
        raise client_error("AccessDenied", "Access Denied", "ListObjectVersions")
    assert "missing IAM permission s3:ListBucketVersions" in caplog.text


def test_unreachable_signing_keys_are_a_503_not_a_401() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256", headers={"kid": "key-1"})
    verifier = CognitoTokenVerifier("issuer", "client", f"http://127.0.0.1:{port}/jwks.json")
    with pytest.raises(DependencyUnavailable):
        verifier.verify(token)


def test_an_access_denied_botocore_cannot_parse_is_still_a_missing_permission(caplog: pytest.LogCaptureFixture) -> None:
    # moto answers DynamoDB's refusals in XML; botocore then reports the HTTP status as the code.
    message = (
        "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/task"
        " is not authorized to perform: dynamodb:Query</Message></Error></Errors></ErrorResponse>"
    )
    with caplog.at_level(logging.ERROR, "kraken.aws"):
        error = translate(client_error("403", message, "Query"), MODEL_STORE)
    assert isinstance(error, Misconfigured)
    assert "missing IAM permission dynamodb:Query" in caplog.text


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("InvalidClientTokenId", "The security token included in the request is invalid"),
        ("UnrecognizedClientException", "The security token included in the request is invalid"),
        ("403", "<Error><Code>InvalidClientTokenId</Code><Message>The security token ...</Message></Error>"),
    ],
)
def test_unknown_credentials_are_a_misconfiguration_not_a_retry(
    code: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, "kraken.aws"):
        error = translate(client_error(code, message, "Query"), MODEL_STORE)
    assert isinstance(error, Misconfigured)
    assert "does not know the credentials Query was signed with" in caplog.text
