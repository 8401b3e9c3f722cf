"""Functional fixtures: moto's in-process AWS and the real Chalice app behind chalice.test.Client."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws
from moto.server import ThreadedMotoServer

from chalicelib import config, wiring
from chalicelib.adapters import clients
from local.emulator import (
    ADMIN_USER,
    add_percentiles_to_cloudwatch,
    create_resources,
    ensure_user_pool,
    model_task_boundary_arn,
)


@pytest.fixture
def settings() -> config.Settings:
    return config.from_environment(
        {
            config.STAGE: "test",
            config.REGION: "us-east-1",
            config.MODEL_TASK_BOUNDARY_ARN: model_task_boundary_arn("test"),
        }
    )


@pytest.fixture(scope="session")
def key_server() -> Iterator[str]:
    """A real moto server on loopback, only to serve the user pool's public keys over HTTP (as AWS does)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(settings: config.Settings, key_server: str) -> Iterator[config.Settings]:
    """moto's AWS with the project's resources and a user pool; yields the settings that point at them."""
    add_percentiles_to_cloudwatch()
    with mock_aws():
        pool = ensure_user_pool(settings, ADMIN_PASSWORD)
        pool[config.JWKS_URL] = f"{key_server}/{pool[config.USER_POOL_ID]}/.well-known/jwks.json"
        configured = dataclasses.replace(
            settings,
            user_pool_id=pool[config.USER_POOL_ID],
            user_pool_client_id=pool[config.USER_POOL_CLIENT_ID],
            token_issuer=pool[config.TOKEN_ISSUER],
            jwks_url=pool[config.JWKS_URL],
        )
        create_resources(configured, console_origins=["http://127.0.0.1:8000"])
        yield configured


def access_token(settings: config.Settings, username: str = ADMIN_USER, group: str | None = None) -> str:
    """Sign in through the user pool, creating the user in `group` first unless it is the admin."""
    cognito = boto3.client("cognito-idp", region_name=settings.region)
    if username != ADMIN_USER:
        cognito.admin_create_user(UserPoolId=settings.user_pool_id, Username=username, MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=settings.user_pool_id, Username=username, Password=ADMIN_PASSWORD, Permanent=True
        )
        if group:
            cognito.admin_add_user_to_group(UserPoolId=settings.user_pool_id, Username=username, GroupName=group)
    answer = cognito.initiate_auth(
        AuthFlow="USER_PASSWORD_AUTH",
        ClientId=settings.user_pool_client_id,
        AuthParameters={"USERNAME": username, "PASSWORD": ADMIN_PASSWORD},
    )
    return str(answer["AuthenticationResult"]["AccessToken"])


def signed_in(client: Client, token: str) -> Client:
    """Every request of this test client carries the token unless the test sends its own Authorization."""
    send = client.http.request

    def with_token(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Any:
        return send(method, path, headers={"Authorization": f"Bearer {token}", **(headers or {})}, body=body)

    client.http.request = with_token  # type: ignore[method-assign]
    return client


@pytest.fixture
def api(aws: config.Settings) -> Iterator[Client]:
    from app import app

    wiring.install(wiring.Wiring(aws))
    with Client(app) as client:
        yield signed_in(client, access_token(aws))
    wiring.install(None)
    clients.client.cache_clear()  # clients made under one moto mock must not serve the next


ACCOUNT = "123456789012"
ADMIN_PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture
def ecs_api(aws: config.Settings) -> Iterator[tuple[Client, config.Settings]]:
    """The API on the AWS path: ECS runtime with a VPC, subnet and security group in moto."""
    ec2 = boto3.client("ec2", region_name=aws.region)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="models", Description="models", VpcId=vpc)["GroupId"]
    configured = dataclasses.replace(
        aws,
        subnets=(subnet,),
        task_security_group=group,
        runner_image=f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/kraken-runner:1",
        task_execution_role_arn=f"arn:aws:iam::{ACCOUNT}:role/kraken-test-task-execution",
    )
    from app import app

    wiring.install(wiring.Wiring(configured))
    with Client(app) as client:
        yield signed_in(client, access_token(configured)), configured
    wiring.install(None)
    clients.client.cache_clear()


class Echo(BaseHTTPRequestHandler):
    """A well-behaved model: answers the body it got, with the request id it was given."""

    protocol_version = "HTTP/1.1"
    seen: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append({"path": self.path, "body": body, "headers": dict(self.headers)})  # type: ignore[attr-defined]
        reply = json.dumps({"results": [len(body)], "requestId": self.headers.get("X-Request-Id")}).encode()
        status = 400 if b"bad-input" in body else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
