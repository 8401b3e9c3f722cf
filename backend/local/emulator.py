"""The embedded AWS emulator: a moto server on loopback holding the project's tables, buckets, logs and cluster."""

from __future__ import annotations

import logging

from moto.server import ThreadedMotoServer

from chalicelib.adapters import dynamodb
from chalicelib.adapters.clients import client
from chalicelib.config import Settings


class Emulator:
    """A moto server in a background thread of this process, on a free 127.0.0.1 port."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint_url = ""

    def start(self) -> str:
        # werkzeug would log every emulated AWS call; only its problems are worth seeing.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        return self.endpoint_url

    def stop(self) -> None:
        self._server.stop()


def create_resources(settings: Settings, console_origins: list[str]) -> None:
    """Create what the CDK stack creates on AWS, from the same definitions, in the emulator."""
    dynamodb.configure(settings)
    dynamodb.create_tables()
    s3 = client("s3", settings)
    s3.create_bucket(Bucket=settings.artifact_bucket)
    s3.put_bucket_cors(
        Bucket=settings.artifact_bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": console_origins,
                    "AllowedMethods": ["POST", "PUT", "GET", "HEAD"],
                    "AllowedHeaders": ["*"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )
    client("ecs", settings).create_cluster(clusterName=settings.cluster)
