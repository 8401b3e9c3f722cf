"""Functional fixtures: moto's in-process AWS and the real Chalice app behind chalice.test.Client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib import config, wiring
from chalicelib.adapters import dynamodb


@pytest.fixture
def settings() -> config.Settings:
    return config.from_environment({config.STAGE: "test", config.REGION: "us-east-1"})


@pytest.fixture
def aws(settings: config.Settings) -> Iterator[None]:
    with mock_aws():
        dynamodb.configure(settings)
        dynamodb.create_tables()
        yield


@pytest.fixture
def api(aws: None, settings: config.Settings) -> Iterator[Client]:
    from app import app

    wiring.install(wiring.Wiring(settings))
    with Client(app) as client:
        yield client
    wiring.install(None)
