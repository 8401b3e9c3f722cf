"""boto3 clients with the timeouts and retries every AWS call of this project must have."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.config import Settings

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 10


@lru_cache(maxsize=64)
def client(service: str, settings: Settings, credentials: Any = None) -> Any:
    """One client per service and settings, reused across warm invocations (clients are thread-safe).

    `credentials` (a botocore `Credentials`) replaces the default chain; local mode signs each
    function's calls as that function's emulator identity this way. On Lambda it stays None: the
    function's role, from the environment.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"max_attempts": 3, "mode": "standard"},
        # Presigned POSTs must be SigV4; with a custom endpoint boto3 would otherwise sign them SigV2.
        signature_version="s3v4" if service == "s3" else None,
        # botocore gzips a PutMetricData body over 10 KB; the emulator checks signatures against the unzipped
        # body and refuses those calls (SignatureDoesNotMatch), so busy local metrics were lost. AWS unzips first.
        disable_request_compression=settings.aws_endpoint_url is not None,
    )
    session = boto3.session.Session(botocore_session=_botocore_session(credentials))
    return session.client(service, region_name=settings.region, endpoint_url=settings.aws_endpoint_url, config=config)


def _botocore_session(credentials: Any) -> Any:
    import botocore.session
    from botocore.credentials import CredentialProvider

    session = botocore.session.get_session()
    if credentials is not None:

        class Given(CredentialProvider):
            METHOD = "given"

            def load(self) -> Any:
                return credentials

        session.get_component("credential_provider").insert_before("env", Given())
    return session
