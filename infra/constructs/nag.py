"""Helpers to acknowledge cdk-nag findings next to the resources they concern, with a reason each."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding id (e.g. `AwsSolutions-S1`) on `scope` and everything under it."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def flatten_reference(value: Any) -> str:
    """A CloudFormation value written the way cdk-nag names it in finding ids.

    Mirrors cdk-nag's flattenCfnReference: Ref X -> <X>, GetAtt X.Arn -> <X.Arn>, Join and Sub flattened.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return delimiter.join(flatten_reference(item) for item in items)
        if "Fn::Sub" in value:
            return flatten_reference(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Ref" in value:
            return f"<{flatten_reference(value['Ref'])}>"
    raise ValueError(f"cannot flatten {value!r} the way cdk-nag does")


def acknowledge_wildcard_resource(scope: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for one resource pattern (an ARN string, tokens allowed) on `scope`."""
    flat = flatten_reference(cdk.Stack.of(scope).resolve(resource))
    acknowledge(scope, f"AwsSolutions-IAM5[Resource::{flat}]", reason)


def acknowledge_wildcard_action(scope: IConstruct, action: str, reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for one action pattern (e.g. `s3:GetObject*`) on `scope`."""
    acknowledge(scope, f"AwsSolutions-IAM5[Action::{action}]", reason)
