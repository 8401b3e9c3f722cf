"""Uploading a file through a presigned S3 POST (its fields, then the file) with a progress bar."""

from __future__ import annotations

import secrets
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import requests

# The text bar, not tqdm.auto: that one warns in every notebook without ipywidgets and shows the same.
from tqdm import tqdm

from kraken.errors import KrakenError, Unavailable, error_from_response

CHUNK_BYTES = 256 * 1024
# Bounds one chunk's wait, not the whole upload: a large file on a slow line may take minutes.
UPLOAD_TIMEOUT_SECONDS = 60


class MultipartFile:
    """A multipart/form-data body read in chunks, with its length known (S3 refuses chunked encoding)."""

    def __init__(self, fields: dict[str, str], path: Path, progress: Any) -> None:
        self.boundary = "kraken-" + secrets.token_hex(16)
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        )
        filename = path.name.replace('"', "_").replace("\r", "_").replace("\n", "_")  # it sits in a quoted header
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._parts: list[bytes | BinaryIO] = [head, path.open("rb"), tail]
        self._length = len(head) + path.stat().st_size + len(tail)
        self._progress = progress

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        wanted = CHUNK_BYTES if size is None or size < 0 else size
        while self._parts:
            part = self._parts[0]
            if isinstance(part, bytes):
                chunk, rest = part[:wanted], part[wanted:]
                self._parts[0] = rest
                if not rest:
                    self._parts.pop(0)
            else:
                chunk = part.read(wanted)
                if not chunk:
                    part.close()
                    self._parts.pop(0)
                    continue
                self._progress.update(len(chunk))
            if chunk:
                return chunk
        return b""

    def close(self) -> None:
        for part in self._parts:
            if not isinstance(part, bytes):
                part.close()

    def __enter__(self) -> MultipartFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def presigned_post(http: requests.Session, ticket: dict[str, Any], path: Path, progress: bool = True) -> None:
    """Sends `path` to the ticket's URL with its fields; S3's (or the emulator's) refusal becomes a KrakenError."""
    size = path.stat().st_size
    if size > int(ticket.get("maxBytes") or size):
        raise KrakenError(f"{path.name} is {size} bytes; this Kraken takes at most {ticket['maxBytes']}")
    with (
        tqdm(total=size, unit="B", unit_scale=True, desc=f"upload {path.name}", disable=not progress) as bar,
        MultipartFile(dict(ticket["fields"]), path, bar) as body,
    ):
        try:
            # No Authorization header: the presigned fields are the credentials, and S3 would refuse a second kind.
            response = http.post(
                ticket["url"],
                data=body,
                headers={"Content-Type": body.content_type, "Content-Length": str(len(body))},
                timeout=UPLOAD_TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            raise Unavailable(f"upload of {path.name} failed: {type(exc).__name__}") from exc
    if response.status_code >= 300:
        raise error_from_response(response.status_code, response.content, response.headers)
