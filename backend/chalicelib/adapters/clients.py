"""boto3 clients with the timeouts and retries every AWS call of this project must have."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.config import Settings

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 10


@lru_cache(maxsize=32)
def client(service: str, settings: Settings) -> Any:
    """One client per service and settings, reused across warm invocations (clients are thread-safe)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"max_attempts": 3, "mode": "standard"},
        # Presigned POSTs must be SigV4; with a custom endpoint boto3 would otherwise sign them SigV2.
        signature_version="s3v4" if service == "s3" else None,
    )
    return boto3.client(service, region_name=settings.region, endpoint_url=settings.aws_endpoint_url, config=config)

