"""Chalice's CDK construct, packaging a slimmer zip and adjusting the SAM template before CDK reads it.

`chalice.cdk.Chalice` packages the app with `chalice package` and includes the resulting SAM template
with `CfnInclude`. Two things must happen between those steps, so this subclass hooks `_package_app`
(chalice==1.34.0 is pinned; tests/infra fail loudly if the hook moves):

* the zip loses boto3/botocore/s3transfer: pynamodb pulls botocore in, but the Lambda Python runtime
  already ships all three, and botocore alone is ~80% of the package;
* the SAM template gets what `.chalice/config.json` cannot express: explicit function names (so logs,
  IAM and the dashboard can name them), the ECS event filter for our cluster, API Gateway gateway
  responses in the project's error shape, an API name with the stage, tracing and throttling.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from chalice.cdk import Chalice
from constructs import Construct

# Distributions the Lambda Python runtime provides; /var/runtime is on sys.path after /var/task.
RUNTIME_PROVIDED_PACKAGES = ("boto3", "botocore", "s3transfer")
SERVERLESS_FUNCTION = "AWS::Serverless::Function"
SERVERLESS_API = "AWS::Serverless::Api"
REST_API_LOGICAL_ID = "RestAPI"
API_HANDLER_LOGICAL_ID = "APIHandler"

SamTemplate = dict[str, Any]
TemplateHook = Callable[[SamTemplate], None]


def _is_runtime_provided(entry: str) -> bool:
    top = entry.split("/", 1)[0]
    return any(
        top == package or (top.startswith(f"{package}-") and top.endswith((".dist-info", ".data")))
        for package in RUNTIME_PROVIDED_PACKAGES
    )


def strip_runtime_packages(zip_path: Path) -> tuple[int, int]:
    """Rewrite the deployment zip without the packages the Lambda runtime provides; (before, after) bytes."""
    before = zip_path.stat().st_size
    slim_path = zip_path.with_suffix(".slim.zip")
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(slim_path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if not _is_runtime_provided(info.filename):
                # Copying the info keeps Chalice's file modes and its fixed timestamps (stable asset hash).
                target.writestr(info, source.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
    slim_path.replace(zip_path)
    return before, zip_path.stat().st_size


def kebab(logical_id: str) -> str:
    """APIHandler -> api-handler, OnTaskStateChange -> on-task-state-change."""
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", logical_id)
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", spaced)
    return spaced.replace("_", "-").lower()


def resources_of_type(template: SamTemplate, resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template.get("Resources", {}).items() if res.get("Type") == resource_type}


def function_name(prefix: str, logical_id: str) -> str:
    """The name a Chalice function gets, known before packaging (the API's own log group is named after it)."""
    return f"{prefix}-{kebab(logical_id)}"


def function_names(template: SamTemplate, prefix: str) -> dict[str, str]:
    """Logical id of every Chalice function -> the explicit name it gets: <prefix>-<kebab id>."""
    names = {lid: function_name(prefix, lid) for lid in resources_of_type(template, SERVERLESS_FUNCTION)}
    too_long = [name for name in names.values() if len(name) > 64]
    if too_long:
        raise ValueError(f"Lambda function names longer than 64 characters: {too_long}")
    return names


def name_functions(template: SamTemplate, prefix: str) -> dict[str, str]:
    """Give every function an explicit name and point its log group at that name.

    Chalice 1.34 writes the API handler's log group as `/aws/lambda/${ApiHandler}` while the resource is
    `APIHandler`, which CloudFormation rejects; a literal name also lets the log group exist before the
    function first logs, and lets IAM scope log permissions to `/aws/lambda/<prefix>-*`.
    """
    names = function_names(template, prefix)
    resources = template["Resources"]
    for logical_id, name in names.items():
        resources[logical_id]["Properties"]["FunctionName"] = name
    by_lower = {lid.lower(): name for lid, name in names.items()}
    for logical_id, group in resources_of_type(template, "AWS::Logs::LogGroup").items():
        target = logical_id.removesuffix("LogGroup").lower()
        if target in by_lower:
            group["Properties"]["LogGroupName"] = f"/aws/lambda/{by_lower[target]}"
    return names


def filter_ecs_events_to_cluster(template: SamTemplate, cluster_arn: str) -> list[str]:
    """Limit every ECS event subscription to our cluster, so two stages never see each other's tasks."""
    filtered = []
    for logical_id, function in resources_of_type(template, SERVERLESS_FUNCTION).items():
        for event_id, event in function["Properties"].get("Events", {}).items():
            if event.get("Type") not in ("CloudWatchEvent", "EventBridgeRule"):
                continue
            pattern = event["Properties"].get("Pattern", {})
            if "aws.ecs" not in pattern.get("source", []):
                continue
            pattern.setdefault("detail", {})["clusterArn"] = [cluster_arn]
            filtered.append(f"{logical_id}.{event_id}")
    return filtered


def reserve_concurrency(template: SamTemplate, limits: dict[str, int]) -> None:
    """ReservedConcurrentExecutions per function logical id; 0 leaves a function unreserved."""
    for logical_id, limit in limits.items():
        if limit:
            template["Resources"][logical_id]["Properties"]["ReservedConcurrentExecutions"] = limit


def _gateway_response(
    status: int | None, code: str, message: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """One gateway response; `message` is a JSON string literal or a $context value that is one.

    Without a status the response keeps API Gateway's own (401, 403, 415, 502...). `headers` are
    static response headers (name -> value).
    """
    # The body is a mapping template: API Gateway substitutes the $context values.
    body = json.dumps({"error": {"code": code, "message": "MESSAGE", "requestId": "$context.requestId"}})
    body = body.replace('"MESSAGE"', message)
    parameters = {"gatewayresponse.header.X-Request-Id": "context.requestId"}
    for name, value in (headers or {}).items():
        parameters[f"gatewayresponse.header.{name}"] = f"'{value}'"  # a quoted literal, not a mapping
    response: dict[str, Any] = {
        "responseParameters": parameters,
        "responseTemplates": {"application/json": body},
    }
    if status is not None:
        response["statusCode"] = str(status)
    return response


# Answers API Gateway gives before the function runs, in the project's shape
# {"error": {"code", "message"}} and with the codes chalicelib/api/errors.py uses.
GATEWAY_RESPONSES: dict[str, dict[str, Any]] = {
    # API Gateway says "Missing Authentication Token" (403) for unknown routes; it means 404.
    "MISSING_AUTHENTICATION_TOKEN": _gateway_response(404, "not_found", '"no such route"'),
    # The function checks tokens itself (no authorizer); these two answer only what API Gateway
    # refuses on its own before the function runs, in the same shape (RFC 6750: a 401 names the scheme).
    "UNAUTHORIZED": _gateway_response(
        401, "unauthorized", '"sign in: a valid bearer token is required"', {"WWW-Authenticate": "Bearer"}
    ),
    "ACCESS_DENIED": _gateway_response(403, "forbidden", '"your role does not allow this request"'),
    "THROTTLED": _gateway_response(429, "throttled", '"too many requests; retry later"'),
    "REQUEST_TOO_LARGE": _gateway_response(413, "payload_too_large", '"the request is too large"'),
    "INTEGRATION_TIMEOUT": _gateway_response(504, "timeout", '"the request timed out"'),
    "DEFAULT_4XX": _gateway_response(None, "bad_request", "$context.error.messageString"),
    "DEFAULT_5XX": _gateway_response(None, "internal", '"an unexpected error occurred"'),
}


# One JSON line per request in the API's access log group (no headers, so no tokens).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "time": "$context.requestTime",
        "method": "$context.httpMethod",
        "path": "$context.path",
        "status": "$context.status",
        "length": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "error": "$context.error.responseType",
    }
)


def configure_rest_api(
    template: SamTemplate, *, name: str, throttle_rate: int, throttle_burst: int, access_log_arn: str
) -> None:
    """Name the API after the stage, trace it, throttle it, log every request, answer gateway errors in our shape."""
    api = template["Resources"][REST_API_LOGICAL_ID]["Properties"]
    api["Name"] = name
    api["TracingEnabled"] = True
    api["AccessLogSetting"] = {"DestinationArn": access_log_arn, "Format": ACCESS_LOG_FORMAT}
    api["MethodSettings"] = [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": throttle_rate,
            "ThrottlingBurstLimit": throttle_burst,
        }
    ]
    body = api["DefinitionBody"]
    body["info"]["title"] = name
    body["x-amazon-apigateway-gateway-responses"] = GATEWAY_RESPONSES


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


class KrakenChalice(Chalice):
    """`chalice.cdk.Chalice` with the stage name we choose, a slim zip and a template hook.

    Attributes: `package_bytes` / `unstripped_bytes` (zip size after/before stripping) and
    `sam` (the SAM template as included, after the hook ran).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_dir: Path,
        stage: str,
        stage_config: dict[str, Any],
        template_hook: TemplateHook,
    ) -> None:
        # Read by _package_app, which the base constructor calls.
        self._kraken_stage = stage
        self._template_hook = template_hook
        self.package_bytes = 0
        self.unstripped_bytes = 0
        self.sam: SamTemplate = {}
        # The base class writes ./chalice.out/<uuid>/ under the working directory; packaging in a
        # temporary directory keeps the checkout clean. Assets and CfnInclude read the files eagerly.
        with (
            tempfile.TemporaryDirectory(prefix="kraken-chalice-") as workdir,
            _working_directory(Path(workdir)),
        ):
            super().__init__(scope, construct_id, source_dir=str(source_dir.resolve()), stage_config=stage_config)

    def _package_app(self) -> None:
        # The base class would use the scope's path as the Chalice stage name.
        self.stage_name = self._kraken_stage
        super()._package_app()
        package_dir = Path(self._sam_package_dir)
        self.unstripped_bytes, self.package_bytes = strip_runtime_packages(package_dir / "deployment.zip")
        sam_path = package_dir / "sam.json"
        template = json.loads(sam_path.read_text())
        self._template_hook(template)
        sam_path.write_text(json.dumps(template, indent=2))
        self.sam = template
