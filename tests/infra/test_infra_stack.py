"""Assertions on the synthesized kraken stacks: data, network, compute, API, console, observability."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from chalicelib import config, tables
from infra.constructs.console import SPA_FALLBACK_FUNCTION
from infra.constructs.storage import snake, table_env_var
from infra.stacks.kraken_stack import NOT_SET_BY_STACK

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = list(resources(template, resource_type).values())
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    return found[0]


def api_handler(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]["APIHandler"]


@pytest.fixture(scope="module")
def dev(synthesized) -> dict[str, Any]:
    return synthesized.template("dev")


@pytest.fixture(scope="module")
def prod(synthesized) -> dict[str, Any]:
    return synthesized.template("prod")


@pytest.fixture(scope="module")
def iso(synthesized) -> dict[str, Any]:
    return synthesized.template("iso")


# --- DynamoDB ------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", tables.ALL_TABLES, ids=lambda layout: layout.logical_name)
def test_every_table_layout_becomes_an_on_demand_table_with_pitr(dev, layout) -> None:
    keys = [{"AttributeName": layout.partition_key.name, "KeyType": "HASH"}]
    if layout.sort_key:
        keys.append({"AttributeName": layout.sort_key.name, "KeyType": "RANGE"})
    expected: dict[str, Any] = {
        "TableName": f"kraken-dev-{snake(layout.logical_name).replace('_', '-')}",
        "KeySchema": keys,
        "BillingMode": "PAY_PER_REQUEST",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    }
    if layout.indexes:
        expected["GlobalSecondaryIndexes"] = Match.array_with(
            [Match.object_like({"IndexName": index.name}) for index in layout.indexes]
        )
    if layout.ttl_attribute:
        expected["TimeToLiveSpecification"] = {"AttributeName": layout.ttl_attribute, "Enabled": True}
    else:
        expected["TimeToLiveSpecification"] = Match.absent()
    Template.from_json(dev).has_resource_properties("AWS::DynamoDB::Table", expected)


def test_index_keys_match_the_layouts(dev) -> None:
    deployed = {r["Properties"]["TableName"]: r["Properties"] for r in resources(dev, "AWS::DynamoDB::Table").values()}
    for layout in tables.ALL_TABLES:
        table = deployed[f"kraken-dev-{snake(layout.logical_name).replace('_', '-')}"]
        indexes = {i["IndexName"]: i["KeySchema"] for i in table.get("GlobalSecondaryIndexes", [])}
        for index in layout.indexes:
            expected = [{"AttributeName": index.partition_key.name, "KeyType": "HASH"}]
            if index.sort_key:
                expected.append({"AttributeName": index.sort_key.name, "KeyType": "RANGE"})
            assert indexes[index.name] == expected


def test_prod_retains_and_protects_its_data_and_dev_does_not(dev, prod) -> None:
    for table in resources(prod, "AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Retain"
        assert table["UpdateReplacePolicy"] == "Retain"
        assert table["Properties"]["DeletionProtectionEnabled"] is True
    for table in resources(dev, "AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"
        assert table["Properties"].get("DeletionProtectionEnabled") is not True
    prod_buckets = resources(prod, "AWS::S3::Bucket")
    artifacts = [b for b in prod_buckets.values() if "artifacts" in json.dumps(b["Properties"].get("BucketName", ""))]
    assert artifacts and all(b["DeletionPolicy"] == "Retain" for b in artifacts)
    assert not resources(prod, "Custom::S3AutoDeleteObjects") or all(
        "Console" in k for k in resources(prod, "Custom::S3AutoDeleteObjects")
    ), "only the rebuildable console bucket may be emptied on deletion in prod"


def test_termination_protection_only_in_prod(synthesized) -> None:
    assert synthesized.stacks["prod"].termination_protection is True
    assert synthesized.stacks["dev"].termination_protection is False


# --- Artifact bucket ------------------------------------------------------------------------------


def _artifact_bucket(template: dict[str, Any]) -> dict[str, Any]:
    for bucket in resources(template, "AWS::S3::Bucket").values():
        if "-artifacts-" in json.dumps(bucket["Properties"].get("BucketName", "")):
            return bucket
    raise AssertionError("no artifact bucket")


def test_artifact_bucket_is_private_encrypted_versioned_with_cors_and_lifecycle(dev) -> None:
    props = _artifact_bucket(dev)["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    cors = props["CorsConfiguration"]["CorsRules"][0]
    assert "POST" in cors["AllowedMethods"]
    # The console's CloudFront domain only, not "*".
    assert "ConsoleDistribution" in json.dumps(cors["AllowedOrigins"])
    rules = props["LifecycleConfiguration"]["Rules"]
    assert any(r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") for r in rules)


def test_every_bucket_denies_plain_http(dev) -> None:
    buckets = set(resources(dev, "AWS::S3::Bucket"))
    tls_only = set()
    for policy in resources(dev, "AWS::S3::BucketPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                tls_only.add(policy["Properties"]["Bucket"]["Ref"])
    assert tls_only == buckets


# --- Network --------------------------------------------------------------------------------------


def test_gateway_endpoints_and_one_nat_gateway_by_default(dev) -> None:
    endpoints = [e["Properties"] for e in resources(dev, "AWS::EC2::VPCEndpoint").values()]
    gateway_services = {
        json.dumps(e["ServiceName"]) for e in endpoints if e.get("VpcEndpointType", "Gateway") == "Gateway"
    }
    assert any("dynamodb" in s for s in gateway_services)
    assert any(".s3" in s for s in gateway_services)
    assert len(resources(dev, "AWS::EC2::NatGateway")) == 1
    assert not [e for e in endpoints if e.get("VpcEndpointType") == "Interface"]


def test_endpoints_mode_has_interface_endpoints_and_no_nat(iso) -> None:
    assert not resources(iso, "AWS::EC2::NatGateway")
    assert not resources(iso, "AWS::EC2::InternetGateway")
    interface = [
        json.dumps(e["Properties"]["ServiceName"])
        for e in resources(iso, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    ]
    for service in ("ecr.api", "ecr.dkr", "logs", "ecs", "monitoring", "cognito-idp"):
        assert any(f".{service}" in s for s in interface), service


def test_functions_run_in_the_private_subnets(dev) -> None:
    private = {k for k, s in resources(dev, "AWS::EC2::Subnet").items() if "private" in k}
    for function in resources(dev, "AWS::Serverless::Function").values():
        subnets = {s["Ref"] for s in function["Properties"]["VpcConfig"]["SubnetIds"]}
        assert subnets == private


# --- Compute --------------------------------------------------------------------------------------


def test_cluster_is_named_for_the_stage_with_container_insights(dev) -> None:
    Template.from_json(dev).has_resource_properties(
        "AWS::ECS::Cluster",
        {"ClusterName": "kraken-dev", "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
    )
    Template.from_json(dev).has_resource_properties(
        "AWS::ECS::ClusterCapacityProviderAssociations",
        {"CapacityProviders": Match.array_with(["FARGATE"])},
    )


def test_model_containers_accept_only_the_api_functions_security_group(dev) -> None:
    groups = resources(dev, "AWS::EC2::SecurityGroup")
    models = next(k for k, g in groups.items() if g["Properties"]["GroupName"] == "kraken-dev-models")
    function = next(k for k, g in groups.items() if g["Properties"]["GroupName"] == "kraken-dev-api-function")
    assert not groups[models]["Properties"].get("SecurityGroupIngress")
    ingress = [i["Properties"] for i in resources(dev, "AWS::EC2::SecurityGroupIngress").values()]
    to_models = [i for i in ingress if i["GroupId"] == {"Fn::GetAtt": [models, "GroupId"]}]
    assert to_models
    assert all(i["SourceSecurityGroupId"] == {"Fn::GetAtt": [function, "GroupId"]} for i in to_models)
    assert not any("CidrIp" in i for i in to_models)


def test_task_roles_are_assumed_by_ecs_tasks(dev) -> None:
    for name in ("kraken-dev-task-execution",):
        Template.from_json(dev).has_resource_properties(
            "AWS::IAM::Role",
            {
                "RoleName": name,
                "AssumeRolePolicyDocument": Match.object_like(
                    {"Statement": [Match.object_like({"Principal": {"Service": "ecs-tasks.amazonaws.com"}})]}
                ),
            },
        )


def test_runner_image_is_an_asset_synthesized_without_docker(synthesized) -> None:
    stack = synthesized.stacks["iso"]
    assets = json.loads((synthesized.outdir / f"{stack.stack_name}.assets.json").read_text())
    images = assets.get("dockerImages", {})
    assert len(images) == 1
    image = next(iter(images.values()))
    assert (synthesized.outdir / image["source"]["directory"] / "Dockerfile").is_file()
    assert image["source"].get("platform") == "linux/amd64"
    env = api_handler(synthesized.template("iso"))["Properties"]["Environment"]["Variables"]
    assert config.RUNNER_IMAGE in env


# --- API ------------------------------------------------------------------------------------------


def test_functions_get_every_environment_variable_the_backend_declares(dev) -> None:
    env = api_handler(dev)["Properties"]["Environment"]["Variables"]
    declared = {
        name: value
        for name, value in vars(config).items()
        if name.isupper() and isinstance(value, str) and name not in NOT_SET_BY_STACK
    }
    # RUNNER_IMAGE needs backend/runner/Dockerfile; the iso stage proves it is set when that exists.
    if config.RUNNER_IMAGE not in env:
        declared.pop("RUNNER_IMAGE", None)
    missing = {name: value for name, value in declared.items() if value not in env}
    assert not missing, f"chalicelib/config.py declares variables the stack does not set: {missing}"
    for layout in tables.ALL_TABLES:
        assert table_env_var(layout) in env
    assert env[config.STAGE] == "dev"
    assert env[config.CLUSTER] == "kraken-dev"
    if hasattr(config, "REQUEST_LOG_GROUP"):  # prediction lines are the API function's own stdout
        assert env[config.REQUEST_LOG_GROUP] == "/aws/lambda/kraken-dev-api-handler"


@pytest.mark.parametrize("stage", ["dev", "iso"])
def test_the_stage_s_idle_cost_counts_what_the_template_runs(synthesized, stage: str) -> None:
    """NAT gateways, interface endpoints' network interfaces and WAF rules, as the cost route prices them."""
    template = synthesized.template(stage)
    env = api_handler(template)["Properties"]["Environment"]["Variables"]
    endpoints = [e for e in resources(template, "AWS::EC2::VPCEndpoint").values()]
    interfaces = sum(
        len(e["Properties"]["SubnetIds"]) for e in endpoints if e["Properties"].get("VpcEndpointType") == "Interface"
    )
    rules = sum(len(acl["Properties"]["Rules"]) for acl in resources(template, "AWS::WAFv2::WebACL").values())
    assert int(env[config.NAT_GATEWAYS]) == len(resources(template, "AWS::EC2::NatGateway"))
    assert int(env[config.INTERFACE_ENDPOINTS]) == interfaces
    assert int(env[config.WAF_RULES]) == rules
    assert (int(env[config.NAT_GATEWAYS]), int(env[config.INTERFACE_ENDPOINTS])) != (0, 0), (
        "a stage reaches AWS somehow"
    )


def test_functions_are_named_traced_and_use_our_role(dev) -> None:
    for logical_id, function in resources(dev, "AWS::Serverless::Function").items():
        props = function["Properties"]
        assert props["FunctionName"].startswith("kraken-dev-")
        assert props["Tracing"] == "Active"
        # Each function has its own role (chalicelib/permissions.py), and starts only once its policy exists.
        role = props["Role"]["Fn::GetAtt"][0]
        expected = "ApiFunctionRole" if logical_id == "APIHandler" else f"Api{logical_id}Role"
        assert role.startswith(expected), (logical_id, role)
        assert f"{expected}DefaultPolicy" in " ".join(function.get("DependsOn", [])), logical_id
    assert api_handler(dev)["Properties"]["FunctionName"] == "kraken-dev-api-handler"


def test_function_log_groups_are_named_after_the_functions(dev) -> None:
    names = {f["Properties"]["FunctionName"] for f in resources(dev, "AWS::Serverless::Function").values()}
    groups = {g["Properties"]["LogGroupName"] for g in resources(dev, "AWS::Logs::LogGroup").values()}
    assert {f"/aws/lambda/{n}" for n in names} <= groups


def test_rest_api_is_regional_traced_throttled_and_named_for_the_stage(dev) -> None:
    api = dev["Resources"]["RestAPI"]["Properties"]
    assert api["Name"] == "kraken-dev"
    assert api["StageName"] == "api"
    assert api["EndpointConfiguration"] == "REGIONAL"
    assert api["TracingEnabled"] is True
    assert api["MethodSettings"][0]["ThrottlingRateLimit"] > 0


def test_unknown_routes_answer_404_and_gateway_errors_use_the_error_shape(dev) -> None:
    responses = dev["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    for kind in ("MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"):
        template = responses[kind]["responseTemplates"]["application/json"]
        # Substitute what API Gateway would, then the body must be our shape.
        body = json.loads(
            template.replace("$context.error.messageString", '"Forbidden"').replace("$context.requestId", "r-1")
        )
        assert set(body["error"]) >= {"code", "message"}
    assert "statusCode" not in responses["DEFAULT_4XX"], "4xx responses keep their own status"


def test_ecs_task_events_are_filtered_to_our_cluster(dev) -> None:
    subscriptions = [
        (logical_id, event["Properties"]["Pattern"])
        for logical_id, function in resources(dev, "AWS::Serverless::Function").items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] in ("CloudWatchEvent", "EventBridgeRule")
        and "aws.ecs" in event["Properties"].get("Pattern", {}).get("source", [])
    ]
    if not subscriptions:
        pytest.skip("the backend has no ECS task-state handler yet (unit-tested in test_infra_units)")
    for _, pattern in subscriptions:
        (cluster_arn,) = pattern["detail"]["clusterArn"]
        assert cluster_arn["Fn::GetAtt"][0].startswith("ModelsCluster")


def test_reconciler_runs_every_minute_when_it_exists(dev) -> None:
    schedules = [
        event["Properties"]["Schedule"]
        for function in resources(dev, "AWS::Serverless::Function").values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "Schedule"
    ]
    if not schedules:
        pytest.skip("the backend has no @app.schedule reconciler yet")
    assert "rate(1 minute)" in schedules


def test_shadowed_request_lines_feed_the_shadow_consumer_through_a_subscription_filter(dev) -> None:
    """The API function is frozen once it answers, so a shadow's calls run in another function: the request log
    group's subscription filter hands it exactly the lines naming shadow versions."""
    (subscription,) = resources(dev, "AWS::Logs::SubscriptionFilter").values()
    properties = subscription["Properties"]
    assert properties["FilterPattern"] == config.SHADOW_FILTER_PATTERN
    assert properties["DestinationArn"] == {"Fn::GetAtt": ["ShadowConsumer", "Arn"]}
    log_group = dev["Resources"][properties["LogGroupName"]["Ref"]]
    assert log_group["Properties"]["LogGroupName"] == "/aws/lambda/kraken-dev-api-handler"
    (permission,) = [
        p
        for p in resources(dev, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "logs.amazonaws.com"
    ]
    assert permission["Properties"]["FunctionName"] == {"Ref": "ShadowConsumer"}
    assert permission["Properties"]["SourceArn"] == {"Fn::GetAtt": [properties["LogGroupName"]["Ref"], "Arn"]}
    assert "ShadowConsumerInvokePermission" in subscription["DependsOn"]


def test_rollout_decisions_go_to_an_encrypted_https_only_topic_the_functions_know(dev) -> None:
    ((logical_id, topic),) = [
        (lid, t)
        for lid, t in resources(dev, "AWS::SNS::Topic").items()
        if t["Properties"]["TopicName"] == "kraken-dev-rollouts"
    ]
    assert topic["Properties"]["KmsMasterKeyId"]
    (policy,) = [
        p for p in resources(dev, "AWS::SNS::TopicPolicy").values() if {"Ref": logical_id} in p["Properties"]["Topics"]
    ]
    denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)
    for function in resources(dev, "AWS::Serverless::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables[config.ROLLOUT_TOPIC_ARN] == {"Ref": logical_id}


# --- Sign-in --------------------------------------------------------------------------------------


def _pool(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (pool,) = resources(template, "AWS::Cognito::UserPool").items()
    return pool


def test_user_pool_is_admin_only_with_strong_passwords_optional_totp_and_email_recovery(dev) -> None:
    _, pool = _pool(dev)
    props = pool["Properties"]
    assert props["UserPoolName"] == "kraken-dev-users"
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    # Usernames (the first admin's is an e-mail address); an e-mail alias would forbid that.
    assert "UsernameAttributes" not in props and "AliasAttributes" not in props
    assert props["UsernameConfiguration"] == {"CaseSensitive": False}
    assert props["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
        "RequireLowercase": True,
        "RequireUppercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 7,
    }
    assert props["MfaConfiguration"] == "OPTIONAL"
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert props["AccountRecoverySetting"] == {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]}
    assert {"Name": "email", "Required": True, "Mutable": True} in props["Schema"]
    assert "{####}" in props["AdminCreateUserConfig"]["InviteMessageTemplate"]["EmailMessage"]
    assert props["UserPoolTier"] == "LITE"  # free up to 10,000 monthly active users
    assert "UserPoolAddOns" not in props


def test_threat_protection_is_opt_in_on_the_plus_plan(iso) -> None:
    _, pool = _pool(iso)
    assert pool["Properties"]["UserPoolTier"] == "PLUS"
    assert pool["Properties"]["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}


def test_prod_retains_and_protects_its_user_pool_and_dev_does_not(dev, prod) -> None:
    _, pool = _pool(prod)
    assert pool["DeletionPolicy"] == pool["UpdateReplacePolicy"] == "Retain"
    assert pool["Properties"]["DeletionProtection"] == "ACTIVE"
    _, pool = _pool(dev)
    assert pool["DeletionPolicy"] == "Delete"
    assert pool["Properties"]["DeletionProtection"] == "INACTIVE"


def test_console_client_has_no_secret_password_and_refresh_flows_and_short_access_tokens(dev) -> None:
    pool_id, _ = _pool(dev)
    client = only(dev, "AWS::Cognito::UserPoolClient")["Properties"]
    assert client["ClientName"] == "kraken-dev-console"
    assert client["UserPoolId"] == {"Ref": pool_id}
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_SRP_AUTH",
    }
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True
    assert client["AllowedOAuthFlowsUserPoolClient"] is False and "CallbackURLs" not in client
    units = client["TokenValidityUnits"]
    assert (client["AccessTokenValidity"], units["AccessToken"]) == (60, "minutes")
    assert (client["RefreshTokenValidity"], units["RefreshToken"]) == (30 * 24 * 60, "minutes")


def test_role_groups_admin_editor_viewer(dev) -> None:
    pool_id, _ = _pool(dev)
    groups = {
        g["Properties"]["GroupName"]: g["Properties"] for g in resources(dev, "AWS::Cognito::UserPoolGroup").values()
    }
    assert set(groups) == {"admin", "editor", "viewer"}
    assert all(g["UserPoolId"] == {"Ref": pool_id} for g in groups.values())
    # A user in several groups gets the highest role: lowest precedence wins.
    assert groups["admin"]["Precedence"] < groups["editor"]["Precedence"] < groups["viewer"]["Precedence"]


def test_functions_get_the_sign_in_settings(dev) -> None:
    pool_id, _ = _pool(dev)
    (client_id,) = resources(dev, "AWS::Cognito::UserPoolClient")
    env = api_handler(dev)["Properties"]["Environment"]["Variables"]
    names = {c: getattr(config, c) for c in ("USER_POOL_ID", "USER_POOL_CLIENT_ID", "TOKEN_ISSUER", "JWKS_URL")}
    assert env[names["USER_POOL_ID"]] == {"Ref": pool_id}
    assert env[names["USER_POOL_CLIENT_ID"]] == {"Ref": client_id}
    issuer = ["https://cognito-idp.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}, "/", {"Ref": pool_id}]
    assert env[names["TOKEN_ISSUER"]] == {"Fn::Join": ["", issuer]}
    assert env[names["JWKS_URL"]] == {"Fn::Join": ["", [*issuer, "/.well-known/jwks.json"]]}
    # Same-origin console: no CORS origin (setting the CloudFront domain would be a dependency cycle).
    assert getattr(config, "CORS_ORIGIN", "KRAKEN_CORS_ORIGIN") not in env
    # Every Chalice function (API, events, schedule, authorizers) reads the same settings.
    for logical_id, function in resources(dev, "AWS::Serverless::Function").items():
        assert function["Properties"]["Environment"]["Variables"] == env, logical_id


def test_sign_in_outputs(dev) -> None:
    pool_id, _ = _pool(dev)
    assert dev["Outputs"]["UserPoolId"]["Value"] == {"Ref": pool_id}
    assert "UserPoolClientId" in dev["Outputs"] and "Region" in dev["Outputs"]


def test_gateway_answers_401_with_bearer_challenge_and_403_in_the_error_shape(dev) -> None:
    responses = dev["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    for kind, status, code in (("UNAUTHORIZED", "401", "unauthorized"), ("ACCESS_DENIED", "403", "forbidden")):
        response = responses[kind]
        assert response["statusCode"] == status
        body = json.loads(response["responseTemplates"]["application/json"].replace("$context.requestId", "r-1"))
        assert body["error"]["code"] == code and body["error"]["message"]
    assert responses["UNAUTHORIZED"]["responseParameters"]["gatewayresponse.header.WWW-Authenticate"] == "'Bearer'"
    assert "gatewayresponse.header.WWW-Authenticate" not in responses["ACCESS_DENIED"]["responseParameters"]


# --- Console --------------------------------------------------------------------------------------


def test_console_bucket_is_private_behind_origin_access_control(dev) -> None:
    distribution = only(dev, "AWS::CloudFront::Distribution")["Properties"]["DistributionConfig"]
    s3_origins = [o for o in distribution["Origins"] if "S3OriginConfig" in o]
    assert len(s3_origins) == 1 and "OriginAccessControlId" in s3_origins[0]
    assert (
        only(dev, "AWS::CloudFront::OriginAccessControl")["Properties"]["OriginAccessControlConfig"]["SigningBehavior"]
        == "always"
    )


def test_console_is_https_only_with_security_headers(dev) -> None:
    distribution = only(dev, "AWS::CloudFront::Distribution")["Properties"]["DistributionConfig"]
    assert distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert all(b["ViewerProtocolPolicy"] == "https-only" for b in distribution["CacheBehaviors"])
    headers = only(dev, "AWS::CloudFront::ResponseHeadersPolicy")["Properties"]["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ContentTypeOptions"]["Override"] is True
    assert "frame-ancestors 'none'" in json.dumps(security["ContentSecurityPolicy"])


def test_api_is_routed_uncached_with_viewer_headers_and_query_strings(dev) -> None:
    distribution = only(dev, "AWS::CloudFront::Distribution")["Properties"]["DistributionConfig"]
    api = next(b for b in distribution["CacheBehaviors"] if b["PathPattern"] == "/api/*")
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert set(api["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    origin = next(o for o in distribution["Origins"] if o["Id"] == api["TargetOriginId"])
    assert "RestAPI" in json.dumps(origin["DomainName"]) and ".execute-api." in json.dumps(origin["DomainName"])
    assert "OriginPath" not in origin, "/api/x must reach stage 'api' unchanged"
    # The single-page fallback never touches API answers.
    assert "FunctionAssociations" not in api
    assert "CustomErrorResponses" not in distribution, "error-page rewrites would turn API 403/404s into HTML"
    assert distribution["DefaultCacheBehavior"]["FunctionAssociations"][0]["EventType"] == "viewer-request"


@pytest.mark.parametrize(
    ("uri", "served"),
    [
        ("/", "/index.html"),
        ("/models", "/index.html"),
        ("/models/m-1/metrics", "/index.html"),
        ("/assets/index-3f2a.js", "/assets/index-3f2a.js"),
        ("/config.json", "/config.json"),
        ("/favicon.ico", "/favicon.ico"),
    ],
)
def test_spa_fallback_function_rewrites_only_client_routes(uri, served) -> None:
    script = SPA_FALLBACK_FUNCTION + f"console.log(handler({{request: {{uri: {json.dumps(uri)}}}}}).uri);"
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=30)
    assert result.stdout.strip() == served


def test_console_build_and_runtime_config_are_deployed(synthesized, dev, iso) -> None:
    deployments = [d["Properties"] for d in resources(dev, "Custom::CDKBucketDeployment").values()]
    entry = next(d for d in deployments if d.get("DistributionPaths"))
    assert entry["DistributionPaths"] == ["/*"]
    # config.json is one of the entry deployment's sources: find it in the assembly.
    # Values from other resources (the region) are markers that the deployment substitutes.
    configs = [
        json.loads(re.sub(r'"?<<marker:[^>]+>>"?', '"marker"', p.read_text()))
        for p in synthesized.outdir.glob("asset.*/config.json")
    ]
    dev_config = next(c for c in configs if c["stage"] == "dev")
    assert {"apiBase": "/api", "stage": "dev", "region": "marker"}.items() <= dev_config.items()
    # Sign-in settings for the console; a null endpoint means Cognito's public one in that region.
    assert dev_config["auth"] == {
        "userPoolId": "marker",
        "clientId": "marker",
        "region": "marker",
        "cognitoEndpoint": None,
    }
    # Without a console build the iso stage still deploys an index page (a placeholder) and config.json.
    assert synthesized.stacks["iso"].console.deployed_build is False
    assert len(resources(iso, "Custom::CDKBucketDeployment")) == 1


# --- Observability --------------------------------------------------------------------------------


def test_dashboard_shows_per_model_metrics_and_lambda_health(dev) -> None:
    body = json.dumps(only(dev, "AWS::CloudWatch::Dashboard")["Properties"]["DashboardBody"])
    for needle in ("Kraken", "ModelId", "Latency", "Requests", "Errors4xx", "Errors5xx", "Throttles", "AWS/Lambda"):
        assert needle in body, needle


def test_alarms_on_5xx_rate_and_throttling(dev) -> None:
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in resources(dev, "AWS::CloudWatch::Alarm").values()}
    rate = alarms["kraken-dev-api-5xx-rate"]
    assert rate["MetricName"] == "5XXError" and rate["Statistic"] == "Average" and rate["Threshold"] == 0.05
    throttles = alarms["kraken-dev-lambda-throttles"]
    assert "Throttles" in json.dumps(throttles["Metrics"])
    assert all(a.get("AlarmActions") for a in alarms.values())


# --- Names ----------------------------------------------------------------------------------------

NAME_PROPERTIES = (
    "TableName",
    "BucketName",
    "ClusterName",
    "FunctionName",
    "RoleName",
    "GroupName",
    "AlarmName",
    "DashboardName",
    "TopicName",
    "UserPoolName",
    "ClientName",
    "Name",
)
# Names scoped to a resource that carries the stage itself: the role groups inside the stage's pool.
NAMES_SCOPED_BY_PARENT = frozenset({"AWS::Cognito::UserPoolGroup"})


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_explicit_name_includes_the_stage(synthesized, stage) -> None:
    template = synthesized.template(stage)
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] in NAMES_SCOPED_BY_PARENT:
            continue
        for prop in NAME_PROPERTIES:
            value = resource.get("Properties", {}).get(prop)
            # References name another resource, which is checked on its own.
            if value is None or (isinstance(value, dict) and ({"Ref", "Fn::GetAtt"} & set(value))):
                continue
            if isinstance(value, str | dict):
                assert f"kraken-{stage}" in json.dumps(value), f"{logical_id}.{prop} = {value}"


def _joined(value: Any) -> str:
    """A Fn::Join of strings and references as text, references written as ${Name}."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_joined(p) for p in parts)
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    return "${" + json.dumps(value) + "}"


def test_csp_is_the_shared_one_and_lets_the_console_sign_in_and_upload(dev) -> None:
    from chalicelib import security_headers

    security = only(dev, "AWS::CloudFront::ResponseHeadersPolicy")["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    csp = _joined(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    connect = next(d for d in csp.split("; ") if d.startswith("connect-src ")).split()[1:]
    # The deployed console signs in at Cognito of the stage's region (cognitoEndpoint is null there).
    assert connect[:2] == ["'self'", "https://cognito-idp.${AWS::Region}.amazonaws.com"]
    assert all(".s3." in source and "-artifacts-" in source for source in connect[2:]) and len(connect) == 4
    assert csp == security_headers.content_security_policy(connect[1:])
    expected = security_headers.response_headers([])
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == security_headers.HSTS_SECONDS
    assert security["FrameOptions"]["FrameOption"] == expected["X-Frame-Options"]
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == expected["Referrer-Policy"]


def test_the_api_function_cannot_take_the_background_functions_capacity(dev) -> None:
    functions = {
        f["Properties"]["FunctionName"]: f["Properties"] for f in resources(dev, "AWS::Serverless::Function").values()
    }
    assert functions["kraken-dev-api-handler"]["ReservedConcurrentExecutions"] == 50
    background = [p for name, p in functions.items() if name != "kraken-dev-api-handler"]
    assert background and all(p["ReservedConcurrentExecutions"] == 2 for p in background)


def test_every_api_request_is_access_logged_without_headers(dev) -> None:
    api = dev["Resources"]["RestAPI"]["Properties"]
    assert api["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][1] == "Arn"
    logged = json.loads(api["AccessLogSetting"]["Format"])
    assert {"requestId", "ip", "status", "path"} <= set(logged)
    assert not any("header" in v.lower() or "authorization" in v.lower() for v in logged.values())
    assert only(dev, "AWS::ApiGateway::Account")["Properties"]["CloudWatchRoleArn"]


def test_the_waf_flag_adds_a_rate_based_rule_on_cloudfront(tmp_path) -> None:
    from infra.assembly import build_app
    from infra.stage import StageSettings

    app, stacks = build_app(
        [StageSettings(stage="waf", waf_rate_limit=500, console_dist_dir=tmp_path / "none")],
        outdir=str(tmp_path / "out"),
    )
    template = app.synth().get_stack_by_name(stacks["waf"].stack_name).template
    acl = only(template, "AWS::WAFv2::WebACL")["Properties"]
    assert acl["Scope"] == "CLOUDFRONT"
    rule = acl["Rules"][0]["Statement"]["RateBasedStatement"]
    assert rule == {"Limit": 500, "AggregateKeyType": "IP"}
    distribution = only(template, "AWS::CloudFront::Distribution")["Properties"]["DistributionConfig"]
    assert distribution["WebACLId"]["Fn::GetAtt"][1] == "Arn"
