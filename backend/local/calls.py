"""Records which IAM action each role's SDK calls need, through botocore's event hooks (KRAKEN_CALL_LOG).

The e2e tests compare the record with chalicelib.permissions: moto checks actions (and S3's
resources) itself, this adds a check that names a missing grant even where a call's error is
swallowed or retried.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from chalicelib import permissions
from local.identities import PLATFORM, current_role

CALL_LOG = "KRAKEN_CALL_LOG"

# S3 operations whose IAM action has another name (the rest are "s3:<Operation>").
S3_ACTIONS = {
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "HeadObject": "s3:GetObject",
    "DeleteObjects": "s3:DeleteObject",
}


def iam_actions(service: str, operation: str, params: dict[str, Any], presigned: bool = False) -> list[str]:
    """The IAM actions AWS authorizes an SDK call against (a presigned one: the call it presigns)."""
    if service != "s3":
        return [f"{service}:{operation}"]
    if presigned and operation == "CreateBucket":
        return ["s3:PutObject"]  # botocore builds presigned POSTs from CreateBucket's operation model
    actions = [S3_ACTIONS.get(operation, f"s3:{operation}")]
    if operation == "DeleteObjects" and any("VersionId" in o for o in params.get("Delete", {}).get("Objects", [])):
        actions.append("s3:DeleteObjectVersion")
    if operation in ("GetObject", "HeadObject") and "VersionId" in params:
        actions = ["s3:GetObjectVersion"]
    return actions


def ungranted(lines: Iterable[str], grants: Mapping[str, frozenset[str]]) -> list[str]:
    """`<role> <action>` lines of a call log whose role does not grant the action, as sentences."""
    missing = []
    for line in lines:
        role, action = line.split(" ", 1)
        if role == PLATFORM:
            continue  # AWS's own delivery of logs and metrics, not a role of ours
        if action not in grants.get(role, frozenset()):
            missing.append(f"{role} calls {action}, which its role does not grant")
    return missing


def ungranted_calls(path: Path) -> list[str]:
    """What a call log file shows the roles of chalicelib.permissions calling without a grant."""
    grants = {role: permissions.granted_actions(role) for role in permissions.ROLES}
    return ungranted(path.read_text().splitlines(), grants)


class CallLog:
    """Appends `<role> <action>` lines to a file, once per distinct pair."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8")
        self._seen: set[tuple[str, str]] = set()
        self._watched: set[int] = set()
        self._lock = threading.Lock()

    def watch(self, client: Any) -> None:
        with self._lock:
            if id(client) in self._watched:
                return
            self._watched.add(id(client))
        service = client.meta.service_model.service_name

        def record(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            role = current_role() or "unbound"
            for action in iam_actions(service, model.name, params, bool(context.get("is_presign_request"))):
                self._add(role, action)

        client.meta.events.register("provide-client-params", record)

    def _add(self, role: str, action: str) -> None:
        with self._lock:
            if (role, action) in self._seen:
                return
            self._seen.add((role, action))
            self._file.write(f"{role} {action}\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()
