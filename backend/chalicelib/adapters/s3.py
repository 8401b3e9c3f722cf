"""S3: model artifacts, uploaded by the user through presigned POSTs and read by the runner at boot."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from chalicelib.adapters.aws_errors import ARTIFACT_STORE, translated
from chalicelib.domain.models import ArtifactInfo
from chalicelib.domain.ports import UploadTicket

UPLOAD_EXPIRES_SECONDS = 15 * 60


HASH_CHUNK_BYTES = 1024 * 1024


def model_prefix(model_id: str) -> str:
    return f"models/{model_id}/"


def artifact_key(model_id: str, version: int) -> str:
    return f"{model_prefix(model_id)}versions/{version}/artifact"


class S3ArtifactStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def uri(self, model_id: str, version: int, object_version: str | None = None) -> str:
        uri = f"s3://{self._bucket}/{artifact_key(model_id, version)}"
        return f"{uri}?versionId={quote(object_version, safe='')}" if object_version else uri

    def upload_ticket(self, model_id: str, version: int, max_bytes: int) -> UploadTicket:
        # The policy bounds the size (S3 on AWS, local mode's gate in front of moto); start checks it again.
        post = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=artifact_key(model_id, version),
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=UPLOAD_EXPIRES_SECONDS,
        )
        return UploadTicket(post["url"], post["fields"], max_bytes, UPLOAD_EXPIRES_SECONDS)

    def describe(self, model_id: str, version: int) -> ArtifactInfo | None:
        key = artifact_key(model_id, version)
        with translated(ARTIFACT_STORE):
            try:
                found = self._s3.get_object(Bucket=self._bucket, Key=key)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
            # Read once, when the upload is first seen: the digest the history and rollbacks show.
            digest = hashlib.sha256()
            body = found["Body"]
            while chunk := body.read(HASH_CHUNK_BYTES):
                digest.update(chunk)
        # An unversioned bucket says "null"; a versioned one (as the stack makes it) names this upload.
        object_version = found.get("VersionId")
        return ArtifactInfo(
            size=int(found["ContentLength"]),
            uploaded_at=found["LastModified"],
            sha256=digest.hexdigest(),
            object_version=object_version if object_version and object_version != "null" else None,
        )

    def delete(self, model_id: str, version: int | None = None) -> None:
        prefix = model_prefix(model_id) if version is None else artifact_key(model_id, version)
        with translated(ARTIFACT_STORE):
            for page in self._s3.get_paginator("list_object_versions").paginate(Bucket=self._bucket, Prefix=prefix):
                doomed = [
                    {"Key": item["Key"], "VersionId": item["VersionId"]}
                    for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
                ]
                if doomed:
                    self._s3.delete_objects(Bucket=self._bucket, Delete={"Objects": doomed, "Quiet": True})
