"""Unit tests of the CDK app's pure helpers: SAM template adjustments, zip slimming, stage settings."""

from __future__ import annotations

import copy
import json
import sys
import zipfile

import pytest

from infra.constructs.chalice_app import (
    GATEWAY_RESPONSES,
    configure_rest_api,
    filter_ecs_events_to_cluster,
    kebab,
    name_functions,
    strip_runtime_packages,
)
from infra.constructs.nag import flatten_reference
from infra.stage import Egress, StageSettings, stages_from_context

SAM = {
    "Resources": {
        "ApiHandlerLogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${ApiHandler}"}},
        },
        "APIHandler": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "app.app"}},
        "OnTaskStateChange": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Events": {
                    "OnTaskStateChangeEvent": {
                        "Type": "CloudWatchEvent",
                        "Properties": {"Pattern": {"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"]}},
                    }
                }
            },
        },
        "Reconcile": {
            "Type": "AWS::Serverless::Function",
            "Properties": {"Events": {"ReconcileEvent": {"Type": "Schedule", "Properties": {}}}},
        },
        "RestAPI": {
            "Type": "AWS::Serverless::Api",
            "Properties": {"DefinitionBody": {"info": {"title": "kraken"}}},
        },
    }
}


@pytest.mark.parametrize(
    ("logical_id", "expected"),
    [("APIHandler", "api-handler"), ("OnTaskStateChange", "on-task-state-change"), ("Reconcile", "reconcile")],
)
def test_kebab(logical_id, expected) -> None:
    assert kebab(logical_id) == expected


def test_functions_get_stage_names_and_log_groups_follow_them() -> None:
    template = copy.deepcopy(SAM)
    names = name_functions(template, "kraken-dev")
    assert names["APIHandler"] == "kraken-dev-api-handler"
    resources = template["Resources"]
    assert resources["OnTaskStateChange"]["Properties"]["FunctionName"] == "kraken-dev-on-task-state-change"
    # Chalice 1.34 spells the API handler's log group reference ${ApiHandler}, which does not exist.
    assert resources["ApiHandlerLogGroup"]["Properties"]["LogGroupName"] == "/aws/lambda/kraken-dev-api-handler"


def test_function_names_longer_than_lambda_allows_are_refused() -> None:
    with pytest.raises(ValueError, match="64"):
        name_functions(copy.deepcopy(SAM), "k" * 60)


def test_ecs_events_are_filtered_to_the_cluster_and_schedules_left_alone() -> None:
    template = copy.deepcopy(SAM)
    filtered = filter_ecs_events_to_cluster(template, "arn:aws:ecs:eu-west-1:1:cluster/kraken-dev")
    assert filtered == ["OnTaskStateChange.OnTaskStateChangeEvent"]
    pattern = template["Resources"]["OnTaskStateChange"]["Properties"]["Events"]["OnTaskStateChangeEvent"]
    assert pattern["Properties"]["Pattern"]["detail"] == {"clusterArn": ["arn:aws:ecs:eu-west-1:1:cluster/kraken-dev"]}
    assert template["Resources"]["Reconcile"] == SAM["Resources"]["Reconcile"]


def test_rest_api_gets_name_tracing_throttling_and_gateway_responses() -> None:
    template = copy.deepcopy(SAM)
    logs_arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/kraken-dev/access"
    configure_rest_api(template, name="kraken-dev", throttle_rate=10, throttle_burst=20, access_log_arn=logs_arn)
    api = template["Resources"]["RestAPI"]["Properties"]
    assert api["AccessLogSetting"]["DestinationArn"] == logs_arn
    assert api["Name"] == "kraken-dev" and api["DefinitionBody"]["info"]["title"] == "kraken-dev"
    assert api["TracingEnabled"] is True
    assert api["MethodSettings"][0]["ThrottlingBurstLimit"] == 20
    assert api["DefinitionBody"]["x-amazon-apigateway-gateway-responses"] is GATEWAY_RESPONSES


def test_strip_runtime_packages_keeps_everything_else(tmp_path) -> None:
    package = tmp_path / "deployment.zip"
    names = [
        "app.py",
        "chalicelib/__init__.py",
        "botocore/__init__.py",
        "botocore/data/s3/service-2.json",
        "botocore-1.44.5.dist-info/METADATA",
        "boto3/__init__.py",
        "s3transfer/__init__.py",
        "pynamodb/__init__.py",
        "botocore_extras/__init__.py",
    ]
    with zipfile.ZipFile(package, "w") as archive:
        for name in names:
            archive.writestr(name, "x" * 1000)
    before, after = strip_runtime_packages(package)
    assert after < before
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == [
            "app.py",
            "botocore_extras/__init__.py",
            "chalicelib/__init__.py",
            "pynamodb/__init__.py",
        ]


def test_flatten_reference_matches_cdk_nag_finding_ids() -> None:
    value = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::b/", {"Fn::GetAtt": ["T", "Arn"]}, "/*"]]}
    assert flatten_reference(value) == "arn:<AWS::Partition>:s3:::b/<T.Arn>/*"


@pytest.mark.parametrize("stage", ["Dev", "a" * 13, "dev_1", "1dev", ""])
def test_stage_names_must_fit_every_resource_name(stage) -> None:
    with pytest.raises(ValueError):
        StageSettings(stage=stage)


def test_settings_from_context() -> None:
    settings = StageSettings.from_context("prod", {"egress": "endpoints", "alarmEmail": "ops@example.com"})
    assert settings.is_production and settings.egress is Egress.ENDPOINTS
    assert settings.alarm_email == "ops@example.com"
    assert settings.prefix == "kraken-prod"
    assert not StageSettings(stage="dev").is_production
    assert stages_from_context({"stages": "dev, prod,dev"}) == ["dev", "prod"]
    assert stages_from_context({"stage": "qa"}) == ["qa"]
    assert stages_from_context({}) == ["dev"]
    assert not settings.threat_protection
    assert StageSettings.from_context("dev", {"threatProtection": "true"}).threat_protection
    assert not StageSettings.from_context("dev", {"threatProtection": False}).threat_protection


def test_unauthorized_and_access_denied_use_the_error_shape_with_a_bearer_challenge() -> None:
    unauthorized = GATEWAY_RESPONSES["UNAUTHORIZED"]
    assert unauthorized["statusCode"] == "401"
    # Static header values are quoted literals in API Gateway's mapping syntax.
    assert unauthorized["responseParameters"]["gatewayresponse.header.WWW-Authenticate"] == "'Bearer'"
    assert GATEWAY_RESPONSES["ACCESS_DENIED"]["statusCode"] == "403"
    for kind, code in (("UNAUTHORIZED", "unauthorized"), ("ACCESS_DENIED", "forbidden")):
        body = json.loads(GATEWAY_RESPONSES[kind]["responseTemplates"]["application/json"])
        assert body["error"]["code"] == code
        assert body["error"]["requestId"] == "$context.requestId"


AUTHORIZER_APP = """\
from chalice import AuthResponse, Chalice

app = Chalice(app_name="kraken")


@app.authorizer()
def jwt_auth(auth_request):
    return AuthResponse(routes=["*"], principal_id="someone")


@app.route("/models", authorizer=jwt_auth)
def models():
    return {}
"""


def test_a_chalice_authorizer_gets_the_same_role_environment_vpc_and_naming(tmp_path, monkeypatch) -> None:
    """Chalice generates the authorizer's function from the stage settings, like every other function."""
    import aws_cdk as cdk

    from infra.constructs.api import chalice_stage_config
    from infra.constructs.chalice_app import KrakenChalice

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    project = tmp_path / "app"
    (project / ".chalice").mkdir(parents=True)
    (project / "app.py").write_text(AUTHORIZER_APP)
    (project / "requirements.txt").write_text("")
    (project / ".chalice" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "kraken", "api_gateway_stage": "api", "stages": {}})
    )
    role_arn = "arn:aws:iam::123456789012:role/kraken-dev-api-function"
    environment = {"KRAKEN_USER_POOL_ID": "us-east-1_example"}
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path / "out")), "authorizer")
    # Chalice imports the project as the module `app`; the backend's may already be imported.
    backend_app = sys.modules.pop("app", None)
    try:
        chalice = KrakenChalice(
            stack,
            "Chalice",
            source_dir=project,
            stage="dev",
            stage_config=chalice_stage_config(
                stage="dev",
                environment=environment,
                role_arn=role_arn,
                subnet_ids=["subnet-1", "subnet-2"],
                security_group_id="sg-1",
                log_retention_days=30,
            ),
            template_hook=lambda template: name_functions(template, "kraken-dev"),
        )
    finally:
        sys.modules.pop("app", None)
        if backend_app is not None:
            sys.modules["app"] = backend_app
    functions = {
        lid: r["Properties"] for lid, r in chalice.sam["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    }
    assert set(functions) == {"APIHandler", "JwtAuth"}
    for props in functions.values():
        assert props["Role"] == role_arn
        assert props["Environment"]["Variables"] == environment
        assert props["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "SubnetIds": ["subnet-1", "subnet-2"]}
        assert props["Tracing"] == "Active"
    assert functions["JwtAuth"]["FunctionName"] == "kraken-dev-jwt-auth"
    groups = {
        r["Properties"]["LogGroupName"] for r in chalice.sam["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"
    }
    assert "/aws/lambda/kraken-dev-jwt-auth" in groups
