"""S3: model artifacts, uploaded by the user through presigned POSTs and read by the runner at boot."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.aws_errors import ARTIFACT_STORE, translated
from chalicelib.domain.models import ArtifactInfo
from chalicelib.domain.ports import UploadTicket

UPLOAD_EXPIRES_SECONDS = 15 * 60


def artifact_key(model_id: str) -> str:
    return f"models/{model_id}/artifact"


class S3ArtifactStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def uri(self, model_id: str) -> str:
        return f"s3://{self._bucket}/{artifact_key(model_id)}"

    def upload_ticket(self, model_id: str, max_bytes: int) -> UploadTicket:
        # The policy caps the size on AWS; the emulator does not enforce it, so start checks it again.
        post = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=artifact_key(model_id),
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=UPLOAD_EXPIRES_SECONDS,
        )
        return UploadTicket(post["url"], post["fields"], max_bytes, UPLOAD_EXPIRES_SECONDS)

    def describe(self, model_id: str) -> ArtifactInfo | None:
        with translated(ARTIFACT_STORE):
            try:
                head = self._s3.head_object(Bucket=self._bucket, Key=artifact_key(model_id))
            except ClientError as error:
                if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                    return None
                raise
        return ArtifactInfo(size=int(head["ContentLength"]), uploaded_at=head["LastModified"])

    def delete(self, model_id: str) -> None:
        with translated(ARTIFACT_STORE):
            listing = self._s3.list_object_versions(Bucket=self._bucket, Prefix=artifact_key(model_id))
            doomed = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in listing.get("Versions", []) + listing.get("DeleteMarkers", [])
            ]
            if doomed:
                self._s3.delete_objects(Bucket=self._bucket, Delete={"Objects": doomed, "Quiet": True})
