"""Offline checks on the synthesized templates: cdk-nag, cfn-lint, IAM least privilege, the Lambda zip size."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from infra.constructs.chalice_app import RUNTIME_PROVIDED_PACKAGES

MAX_PACKAGE_BYTES = 10 * 1024 * 1024
# Statements that may name Resource "*", because the actions in them have no resource-level
# permissions; each is acknowledged for cdk-nag next to the statement (infra/constructs/*.py).
STAR_RESOURCE_ACTIONS = frozenset(
    {
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "cloudwatch:GetMetricData",
        "ecs:RegisterTaskDefinition",
        "ecs:DeregisterTaskDefinition",
        "ecs:ListTaskDefinitions",
        "ecs:ListTaskDefinitionFamilies",
        # Application Auto Scaling's scalable targets have generated ids, not the service's name.
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:DeregisterScalableTarget",
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DeleteScalingPolicy",
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DescribeScalingPolicies",
        "ecr:GetAuthorizationToken",
        # CDK's BucketDeployment handler invalidates the console's distribution.
        "cloudfront:CreateInvalidation",
        "cloudfront:GetInvalidation",
    }
)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every statement of every identity policy in a template, with the logical id that holds it."""
    found = []
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents = []
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(props["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::Role":
            documents.extend(p["PolicyDocument"] for p in props.get("Policies", []))
        if resource["Type"] == "AWS::Serverless::Function":
            documents.extend(p for p in as_list(props.get("Policies", [])) if isinstance(p, dict) and "Statement" in p)
        for document in documents:
            found.extend((logical_id, statement) for statement in document["Statement"])
    return found


def test_cdk_nag_finds_nothing_unacknowledged(synthesized) -> None:
    report = synthesized.nag_report or {}
    violations = [
        f"{violation['ruleName']} ({violation['severity']}) at "
        + ", ".join(c["constructPath"] for c in violation["violatingConstructs"])
        for plugin in report.get("pluginReports", [])
        for violation in plugin.get("violations", [])
    ]
    assert not violations, "\n".join(violations)
    assert synthesized.error is None, synthesized.error


def test_cdk_nag_is_active(tmp_path) -> None:
    """A deliberately careless bucket must fail synthesis, so a green run means the rules ran."""
    app = cdk.App(outdir=str(tmp_path))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "careless")
    s3.Bucket(stack, "Bucket")  # no TLS enforcement, no access logs
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p.get("violations", [])}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules


def test_cfn_lint_reports_no_errors(synthesized) -> None:
    files = [str(synthesized.outdir / f"{stack.stack_name}.template.json") for stack in synthesized.stacks.values()]
    result = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert not errors, json.dumps(errors, indent=1)


@pytest.mark.parametrize("stage", ["dev", "prod", "iso"])
def test_no_policy_statement_allows_a_wildcard_action(synthesized, stage) -> None:
    offending = [
        (logical_id, action)
        for logical_id, statement in policy_statements(synthesized.template(stage))
        if statement.get("Effect") == "Allow"
        for action in as_list(statement.get("Action", []))
        if action == "*" or action.endswith(":*")
    ]
    assert not offending


@pytest.mark.parametrize("stage", ["dev", "iso"])
def test_resource_star_only_where_aws_requires_it(synthesized, stage) -> None:
    for logical_id, statement in policy_statements(synthesized.template(stage)):
        if "*" in as_list(statement.get("Resource", [])):
            extra = set(as_list(statement["Action"])) - STAR_RESOURCE_ACTIONS
            assert not extra, f"{logical_id} grants {extra} on '*'"


def _api_statements(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s.get("Sid", ""): s for lid, s in policy_statements(template) if lid.startswith("ApiFunctionRole")}


def test_pass_role_is_limited_to_the_task_roles(synthesized) -> None:
    template = synthesized.template("dev")
    statement = _api_statements(template)["PassTaskRoles"]
    named = {r["Fn::GetAtt"][0] for r in statement["Resource"] if "Fn::GetAtt" in r}
    assert named == {
        lid
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == "kraken-dev-task-execution"
    }
    # ... and the models' own roles, which exist only once a model has started: a pattern of this stage.
    patterns = [json.dumps(r) for r in statement["Resource"] if "Fn::GetAtt" not in r]
    assert len(patterns) == 1 and ":role/kraken-dev-model-*" in patterns[0]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    granting_pass_role = [
        lid for lid, s in policy_statements(template) if "iam:PassRole" in as_list(s.get("Action", []))
    ]
    # The API starts models, and so does the reconciler when a start was lost; the event handler never does.
    assert granting_pass_role and all(
        lid.startswith(("ApiFunctionRole", "ApiReconcileRole")) for lid in granting_pass_role
    )


def test_model_roles_can_only_be_made_under_the_boundary_that_lets_them_read_artifacts(synthesized) -> None:
    """The API makes each model's role; IAM lets it only with the boundary, which allows reading artifacts."""
    from chalicelib import permissions

    template = synthesized.template("dev")
    boundary_id, boundary = next(
        (lid, r)
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
        and r["Properties"].get("ManagedPolicyName") == "kraken-dev-model-task-boundary"
    )
    statements = boundary["Properties"]["PolicyDocument"]["Statement"]
    assert {a for s in statements for a in as_list(s["Action"])} == permissions.granted_actions("model_task")
    assert all("kraken-dev-artifacts-" in json.dumps(s["Resource"]) for s in statements)
    for role_id in ("ApiFunctionRole", "ApiReconcileRole"):
        making = next(
            s for lid, s in policy_statements(template) if lid.startswith(role_id) and s.get("Sid") == "ModelRoles"
        )
        assert set(as_list(making["Action"])) == {"iam:CreateRole", "iam:PutRolePolicy"}
        assert ":role/kraken-dev-model-*" in json.dumps(making["Resource"])
        bound = making["Condition"]["StringEquals"]["iam:PermissionsBoundary"]
        assert "kraken-dev-model-task-boundary" in json.dumps(bound)
    environment = json.dumps(template)
    assert "KRAKEN_MODEL_TASK_BOUNDARY_ARN" in environment and boundary_id in environment
    # No role that every model would share is left.
    assert not [
        r for r in template["Resources"].values() if r["Properties"].get("RoleName", "") == "kraken-dev-model-task"
    ]


def test_ecs_permissions_are_scoped_to_our_cluster(synthesized) -> None:
    statements = _api_statements(synthesized.template("dev"))
    actions = {a for s in statements.values() for a in as_list(s["Action"]) if a.startswith("ecs:")}
    assert {
        "ecs:RegisterTaskDefinition",
        "ecs:CreateService",
        "ecs:UpdateService",
        "ecs:DeleteService",
        "ecs:DescribeServices",
        "ecs:ListTasks",
        "ecs:DescribeTasks",
        "ecs:DeregisterTaskDefinition",
    } <= actions
    for sid in ("ModelServices", "ModelTasks", "ListModelTasks"):
        assert "ecs:cluster" in statements[sid]["Condition"]["ArnEquals"]
        assert "kraken-dev/*" in json.dumps(statements[sid]["Resource"])


def test_log_and_data_permissions_name_this_stage(synthesized) -> None:
    statements = _api_statements(synthesized.template("dev"))
    assert set(as_list(statements["ModelLogs"]["Action"])) == {
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:FilterLogEvents",  # the container log and a stopped container's last lines
        "logs:DeleteLogGroup",  # deleting a model removes its log group
    }
    assert ":log-group:/kraken/dev/models/*" in json.dumps(statements["ModelLogs"]["Resource"])
    assert "kraken-dev-artifacts-" in json.dumps(statements["Artifacts"]["Resource"])
    assert ":log-group:/aws/lambda/kraken-dev-api-handler" in json.dumps(statements["RequestHistory"]["Resource"])
    table_resources = json.dumps(statements["Tables"]["Resource"])
    assert "/index/*" in table_resources and "Tables" in table_resources


def test_api_function_package_is_small_and_leaves_boto_to_the_runtime(synthesized) -> None:
    chalice = synthesized.stacks["dev"].api.chalice
    print(
        f"\nAPI function package: {chalice.package_bytes / 1e6:.2f} MB zipped "
        f"({chalice.unstripped_bytes / 1e6:.2f} MB as Chalice packaged it)"
    )
    assert chalice.package_bytes <= MAX_PACKAGE_BYTES
    assets = json.loads((synthesized.outdir / "kraken-dev.assets.json").read_text())["files"]
    zips = [synthesized.outdir / a["source"]["path"] for a in assets.values() if a["source"]["path"].endswith(".zip")]
    package = next(z for z in zips if z.stat().st_size == chalice.package_bytes)
    with zipfile.ZipFile(package) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
        zones = {name for name in archive.namelist() if name.startswith("tzdata/zoneinfo/")}
    assert {"app.py", "chalicelib", "pynamodb", "pydantic"} <= tops
    # Schedules' time zones ride in the package, whatever the runtime's image carries.
    assert {"tzdata/zoneinfo/Europe/Berlin", "tzdata/zoneinfo/America/New_York"} <= zones
    assert not tops & set(RUNTIME_PROVIDED_PACKAGES)


def test_every_acknowledgment_matches_a_finding(tmp_path, monkeypatch) -> None:
    """Synthesize with acknowledgments switched off: the findings must be exactly what the code acknowledges."""
    from infra.assembly import build_app
    from infra.stage import Egress, StageSettings

    acknowledged: set[str] = set()
    monkeypatch.setattr(cdk.Validations, "acknowledge", lambda _self, *rules: acknowledged.update(r.id for r in rules))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    runner = tmp_path / "runner"
    runner.mkdir()
    (runner / "Dockerfile").write_text("FROM scratch\n")
    app, _ = build_app(
        [StageSettings(stage="dev"), StageSettings(stage="iso", egress=Egress.ENDPOINTS, runner_dir=runner)],
        outdir=str(tmp_path / "out"),
    )
    with pytest.raises(RuntimeError):
        app.synth()
    report = json.loads((tmp_path / "out" / "validation-report.json").read_text())
    findings = {v["ruleName"] for p in report["pluginReports"] for v in p.get("violations", [])}
    assert findings - acknowledged == set(), "findings nobody acknowledged"
    assert acknowledged - findings == set(), "stale acknowledgments: remove them"


def test_each_function_role_grants_exactly_what_the_policy_source_says(synthesized) -> None:
    """CDK and local mode's emulator identities read the same chalicelib/permissions.py."""
    from chalicelib import permissions

    template = synthesized.template("dev")
    prefixes = {
        "api_handler": "ApiFunctionRole",
        "task_state_change": "ApiTaskStateChangeRole",
        "reconcile": "ApiReconcileRole",
        "shadow_consumer": "ApiShadowConsumerRole",
    }
    for role, name in (("task_execution", "kraken-dev-task-execution"),):
        found = next(lid for lid, r in template["Resources"].items() if r["Properties"].get("RoleName") == name)
        prefixes[role] = found[:-8]  # without the hash, so its DefaultPolicy matches too
    assert set(prefixes) == set(permissions.ROLES)  # every role of the source is checked
    for role, prefix in prefixes.items():
        granted = {
            action
            for lid, statement in policy_statements(template)
            if lid.startswith(prefix)
            for action in as_list(statement["Action"])
        }
        assert granted == permissions.granted_actions(role), role


def test_only_the_execution_role_reads_pull_secrets_and_only_the_stages(synthesized) -> None:
    """ECS reads a model's private-registry credentials and secret env values with the execution role; the API
    writes them, nobody else, and only under this stage's prefixes."""
    template = synthesized.template("dev")
    readers = {
        lid
        for lid, statement in policy_statements(template)
        if "secretsmanager:GetSecretValue" in as_list(statement["Action"])
    }
    assert len(readers) == 1 and "TaskExecutionRole" in next(iter(readers)), readers
    for lid, statement in policy_statements(template):
        if any(action.startswith("secretsmanager:") for action in as_list(statement["Action"])):
            resources = json.dumps(statement["Resource"])
            ours = ("secret:kraken-dev/registry/*", "secret:kraken-dev/env/*")
            assert any(prefix in resources for prefix in ours), (lid, statement)
