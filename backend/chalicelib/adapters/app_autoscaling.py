"""Application Auto Scaling for the models' ECS services: each autoscaled version's bounds and target tracking."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.aws_errors import Dependency, translate
from chalicelib.adapters.cloudwatch_metrics import CONTAINER_INSIGHTS, container_dimensions
from chalicelib.adapters.prediction_log import VERSION_DIMENSION, version_dimension
from chalicelib.domain.autoscaling import SCALE_IN_COOLDOWN_SECONDS, SCALE_OUT_COOLDOWN_SECONDS
from chalicelib.domain.models import Autoscaling

APP_AUTOSCALING = Dependency("Application Auto Scaling", "application-autoscaling")
DIMENSION = "ecs:service:DesiredCount"
CPU_POLICY = "cpu"
REQUESTS_POLICY = "requests-per-replica"


class ServiceScaling:
    def __init__(self, client: Any, cluster: str, metrics_namespace: str) -> None:
        self._client = client
        self._cluster = cluster
        self._namespace = metrics_namespace

    def apply(self, model_id: str, version: int, service: str, policy: Autoscaling | None) -> None:
        """Bounds and one target-tracking policy per target; without a policy, the count is left to us."""
        if policy is None:
            self.remove(service)
            return
        resource = self._resource(service)
        self._call(
            "register_scalable_target",
            ServiceNamespace="ecs",
            ResourceId=resource,
            ScalableDimension=DIMENSION,
            MinCapacity=policy.min_replicas,
            MaxCapacity=policy.max_replicas,
        )
        wanted: dict[str, dict[str, Any]] = {}
        if policy.target_cpu_percent is not None:
            wanted[CPU_POLICY] = {
                "TargetValue": policy.target_cpu_percent,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
            }
        if policy.target_requests_per_replica is not None:
            wanted[REQUESTS_POLICY] = {
                "TargetValue": policy.target_requests_per_replica,
                "CustomizedMetricSpecification": {"Metrics": self._requests_per_replica(model_id, version, service)},
            }
        for name, configuration in wanted.items():
            self._call(
                "put_scaling_policy",
                PolicyName=f"{service}-{name}",
                ServiceNamespace="ecs",
                ResourceId=resource,
                ScalableDimension=DIMENSION,
                PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={
                    **configuration,
                    "ScaleOutCooldown": int(SCALE_OUT_COOLDOWN_SECONDS),
                    "ScaleInCooldown": int(SCALE_IN_COOLDOWN_SECONDS),
                },
            )
        existing = self._call("describe_scaling_policies", ServiceNamespace="ecs", ResourceId=resource)
        unwanted = {f"{service}-{name}" for name in (CPU_POLICY, REQUESTS_POLICY) - wanted.keys()}
        for found in existing.get("ScalingPolicies", []):
            if found["PolicyName"] in unwanted:
                self._call(
                    "delete_scaling_policy",
                    PolicyName=found["PolicyName"],
                    ServiceNamespace="ecs",
                    ResourceId=resource,
                    ScalableDimension=DIMENSION,
                )

    def remove(self, service: str) -> None:
        """Before a service stops or goes: a scalable target left behind would bring its tasks back."""
        resource = self._resource(service)
        found = self._call(
            "describe_scalable_targets", ServiceNamespace="ecs", ResourceIds=[resource], ScalableDimension=DIMENSION
        )
        if found.get("ScalableTargets"):  # its policies go with it
            self._call(
                "deregister_scalable_target", ServiceNamespace="ecs", ResourceId=resource, ScalableDimension=DIMENSION
            )

    def _requests_per_replica(self, model_id: str, version: int, service: str) -> list[dict[str, Any]]:
        # The gateway's own count of this version's requests per minute, over its running tasks.
        requests = {
            "Namespace": self._namespace,
            "MetricName": "Requests",
            "Dimensions": [{"Name": VERSION_DIMENSION, "Value": version_dimension(model_id, version)}],
        }
        tasks = {
            "Namespace": CONTAINER_INSIGHTS,
            "MetricName": "RunningTaskCount",
            "Dimensions": container_dimensions(self._cluster, service),
        }
        return [
            {"Id": "requests", "MetricStat": {"Metric": requests, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "tasks", "MetricStat": {"Metric": tasks, "Stat": "Average"}, "ReturnData": False},
            {"Id": "perreplica", "Expression": "requests / 60 / tasks", "Label": "requests per replica per second"},
        ]

    def _resource(self, service: str) -> str:
        return f"service/{self._cluster}/{service}"

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, operation)(**kwargs)
        except (ClientError, BotoCoreError) as error:
            raise translate(error, APP_AUTOSCALING) from error
