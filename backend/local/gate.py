"""The emulator's front door: CORS for the console's origin only, and no unsigned call past set-up.

moto in server mode echoes any `Origin` and, with IAM enforcement on, fails unsigned requests with a
500 instead of refusing them. The gate answers preflights itself (for the console's origins only),
refuses unsigned requests except those AWS also serves without a signature (Cognito's sign-in
family, the user pool's key set), and checks presigned POST uploads, which moto does not check at
all: signature, expiry, bucket, key, size, and the signer's s3:PutObject permission.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.formparser import parse_form_data

from local.identities import Identity

# Token-authorized (or anonymous) on AWS, so never SigV4-signed by a browser.
PUBLIC_COGNITO_OPERATIONS = tuple(
    f"AWSCognitoIdentityProviderService.{name}"
    for name in (
        "InitiateAuth",
        "RespondToAuthChallenge",
        "RevokeToken",
        "GlobalSignOut",
        "ChangePassword",
        "GetUser",
        "ForgotPassword",
        "ConfirmForgotPassword",
    )
)
PUBLIC_PATH_SUFFIXES = ("/.well-known/jwks.json", "/.well-known/openid-configuration")

StartResponse = Callable[..., Any]
_admitted = threading.local()


def admitted_by_gate() -> bool:
    """True while the gate serves a presigned request it has verified (moto would fail it unsigned)."""
    return bool(getattr(_admitted, "value", False))


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


class Gate:
    """WSGI middleware in front of moto. `enforcing` turns the refusals on once set-up is done."""

    def __init__(self, app: Callable[..., Iterable[bytes]], origins: Iterable[str]) -> None:
        self._app = app
        self.origins = frozenset(origins)
        self.identities: Mapping[str, Identity] = {}
        self.hosts: frozenset[str] = frozenset()  # 127.0.0.1:<port> and localhost:<port>, once listening
        self.enforcing = False

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN", "")
        allowed = origin in self.origins
        if environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            if not allowed:
                return self._refuse(start_response, f"origin {origin or '(none)'} may not call the emulator")
            start_response(
                "204 No Content",
                [
                    *self._cors(origin),
                    ("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT"),
                    ("Access-Control-Allow-Headers", environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")),
                    ("Access-Control-Max-Age", "600"),
                ],
            )
            return [b""]
        presigned = False
        if self.enforcing:
            try:
                refusal, presigned = self._admit(environ)
            except SizeRefused as refused:
                return refused.answer(start_response, self._cors(origin) if allowed else [])
            if refusal:
                return self._refuse(start_response, refusal)

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(n, v) for n, v in headers if not n.lower().startswith("access-control-")]
            return start_response(status, kept + (self._cors(origin) if allowed else []), exc_info)

        _admitted.value = presigned
        try:
            return list(self._app(environ, respond))
        finally:
            _admitted.value = False

    @staticmethod
    def _cors(origin: str) -> list[tuple[str, str]]:
        return [("Access-Control-Allow-Origin", origin), ("Access-Control-Expose-Headers", "ETag"), ("Vary", "Origin")]

    @staticmethod
    def _refuse(start_response: StartResponse, message: str) -> list[bytes]:
        body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
        start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def _admit(self, environ: dict[str, Any]) -> tuple[str, bool]:
        """('', presigned?) when the request may go on to moto, else (why not, False)."""
        path = environ.get("PATH_INFO", "")
        if environ.get("HTTP_HOST", "") not in self.hosts:
            return "the emulator answers only to 127.0.0.1 and localhost (a rebound name gets nothing)", False
        if path.startswith("/moto-api"):
            return "the emulator's control API is closed while local mode runs", False
        if environ.get("HTTP_AUTHORIZATION"):
            return "", False  # moto checks the signature and the signer's policy
        if environ.get("HTTP_X_AMZ_TARGET") in PUBLIC_COGNITO_OPERATIONS:
            return "", False
        if environ["REQUEST_METHOD"] == "GET" and path.endswith(PUBLIC_PATH_SUFFIXES):
            return "", False
        if environ["REQUEST_METHOD"] == "POST" and environ.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
            refusal = self._check_presigned_post(environ)
            return refusal, not refusal
        return "unsigned request: sign it with the keys of an identity allowed to make it", False

    def _check_presigned_post(self, environ: dict[str, Any]) -> str:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        _, form, files = parse_form_data({**environ, "wsgi.input": io.BytesIO(body)})
        try:
            key_id, date, region, service, _ = form["x-amz-credential"].split("/")
            policy_b64, signature, key = form["policy"], form["x-amz-signature"], form["key"]
            policy = json.loads(base64.b64decode(policy_b64))
        except (KeyError, ValueError):
            return "not a presigned POST: credential, policy, signature and key are required"
        identity = self.identities.get(key_id)
        if identity is None:
            return "presigned POST by an unknown access key"
        expected = hmac.new(_signing_key(identity.secret_key, date, region, service), policy_b64.encode(), "sha256")
        if not hmac.compare_digest(expected.hexdigest(), signature):
            return "presigned POST signature does not match"
        if datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")) < datetime.now(UTC):
            return "presigned POST has expired"
        bucket = environ.get("PATH_INFO", "").strip("/").split("/")[0]
        upload = files.get("file")
        size = len(upload.read()) if upload else 0
        for condition in policy.get("conditions", []):
            if isinstance(condition, list) and condition[0] == "content-length-range":
                SizeRefused.check(size, int(condition[1]), int(condition[2]))
            elif not _holds(condition, {"bucket": bucket, "key": key}):
                return f"presigned POST condition not met: {json.dumps(condition)}"
        from moto.iam.access_control import IAMPolicy, PermissionResult

        policy_check = IAMPolicy(json.dumps(identity.policy))
        verdict = policy_check.is_action_permitted("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")
        if verdict != PermissionResult.PERMITTED:
            return "the presigned POST's signer is not allowed s3:PutObject on this key"
        return ""


class SizeRefused(Exception):
    """A file outside the policy's content-length-range: S3 answers 400 with its own XML error, readable
    by the console (CORS headers kept), so the person uploading learns why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @classmethod
    def check(cls, size: int, smallest: int, largest: int) -> None:
        if size < smallest:
            raise cls("EntityTooSmall", f"Your proposed upload is smaller than the minimum size ({smallest} bytes)")
        if size > largest:
            raise cls("EntityTooLarge", f"Your proposed upload exceeds the maximum allowed size ({largest} bytes)")

    def answer(self, start_response: StartResponse, cors: list[tuple[str, str]]) -> list[bytes]:
        body = f"<Error><Code>{self.code}</Code><Message>{self.message}</Message></Error>".encode()
        start_response(
            "400 Bad Request", [*cors, ("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
        )
        return [body]


def _holds(condition: Any, values: Mapping[str, str]) -> bool:
    if isinstance(condition, dict):
        return all(name not in values or values[name] == wanted for name, wanted in condition.items())
    operator, *operands = condition
    if operator == "starts-with":
        field, prefix = operands
        return values.get(field.lstrip("$"), "").startswith(prefix) if field.lstrip("$") in values else True
    return True  # eq on form fields moto stores as given; nothing to protect there
