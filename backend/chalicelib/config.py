"""Every environment variable the API reads, named once and read once into a frozen Settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

# Names of the environment variables; the CDK stack and local mode set them from these constants.
STAGE = "KRAKEN_STAGE"
MODELS_TABLE = "KRAKEN_MODELS_TABLE"
ARTIFACT_BUCKET = "KRAKEN_ARTIFACT_BUCKET"
CLUSTER = "KRAKEN_CLUSTER"
AWS_ENDPOINT_URL = "KRAKEN_AWS_ENDPOINT_URL"
REGION = "AWS_REGION"
DEFAULT_REGION = "AWS_DEFAULT_REGION"


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    models_table: str
    artifact_bucket: str
    cluster: str
    # Set only in local mode and tests: the emulator's endpoint. On AWS every client uses its default.
    aws_endpoint_url: str | None


def from_environment(environ: os._Environ[str] | dict[str, str] = os.environ) -> Settings:
    stage = environ.get(STAGE, "local")
    return Settings(
        stage=stage,
        region=environ.get(REGION) or environ.get(DEFAULT_REGION) or "us-east-1",
        models_table=environ.get(MODELS_TABLE, f"kraken-{stage}-models"),
        artifact_bucket=environ.get(ARTIFACT_BUCKET, f"kraken-{stage}-artifacts"),
        cluster=environ.get(CLUSTER, f"kraken-{stage}"),
        aws_endpoint_url=environ.get(AWS_ENDPOINT_URL) or None,
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return from_environment()
