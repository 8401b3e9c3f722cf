"""Functional fixtures: moto's in-process AWS and the real Chalice app behind chalice.test.Client."""

from __future__ import annotations

from collections.abc import Iterator

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
