"""Functional fixtures: moto's in-process AWS and the real Chalice app behind chalice.test.Client."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib import config, wiring
from chalicelib.adapters import clients
from local.emulator import add_percentiles_to_cloudwatch, create_resources


@pytest.fixture
def settings() -> config.Settings:
    return config.from_environment({config.STAGE: "test", config.REGION: "us-east-1"})


@pytest.fixture
def aws(settings: config.Settings) -> Iterator[None]:
    add_percentiles_to_cloudwatch()
    with mock_aws():
        create_resources(settings, console_origins=["http://127.0.0.1:8000"])
        yield


@pytest.fixture
def api(aws: None, settings: config.Settings) -> Iterator[Client]:
    from app import app

    wiring.install(wiring.Wiring(settings))
    with Client(app) as client:
        yield client
    wiring.install(None)
    clients.client.cache_clear()  # clients made under one moto mock must not serve the next


ACCOUNT = "123456789012"


@pytest.fixture
def ecs_api(aws: None, settings: config.Settings) -> Iterator[tuple[Client, config.Settings]]:
    """The API on the AWS path: ECS runtime with a VPC, subnet and security group in moto."""
    ec2 = boto3.client("ec2", region_name=settings.region)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="models", Description="models", VpcId=vpc)["GroupId"]
    configured = dataclasses.replace(
        settings,
        subnets=(subnet,),
        task_security_group=group,
        runner_image=f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/kraken-runner:1",
        task_execution_role_arn=f"arn:aws:iam::{ACCOUNT}:role/kraken-test-task-execution",
        task_role_arn=f"arn:aws:iam::{ACCOUNT}:role/kraken-test-task",
    )
    from app import app

    wiring.install(wiring.Wiring(configured))
    with Client(app) as client:
        yield client, configured
    wiring.install(None)
    clients.client.cache_clear()
