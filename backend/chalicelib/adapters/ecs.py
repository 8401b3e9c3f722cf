"""ECS Fargate: one service per deployed model version (its replicas); ECS task events become replica reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.app_autoscaling import ServiceScaling
from chalicelib.adapters.aws_errors import ECS, error_code, translate
from chalicelib.adapters.cloudwatch_logs import CONTAINER_NAME, STREAM_PREFIX
from chalicelib.config import Settings
from chalicelib.domain.clock import utc_now
from chalicelib.domain.ports import (
    ExitCause,
    ReplicaExit,
    ReplicaReport,
    ReplicaState,
    RuntimeRefused,
    RuntimeUnit,
    RuntimeView,
)
from chalicelib.domain.runner_contract import runner_environment

# Errors that mean ECS will never accept this request as it stands; anything else is worth a retry.
_REFUSALS = {"ClientException", "InvalidParameterException", "AccessDeniedException", "PlatformUnknownException"}
HEALTH_CHECK_SECONDS = {"interval": 15, "timeout": 5, "retries": 3, "startPeriod": 120}
_STARTING = {"PROVISIONING", "PENDING", "ACTIVATING"}
OOM_MARKER = "OutOfMemory"
# Zero-downtime changes: a new revision's tasks start beside the old ones (up to twice the count)
# and the old ones stop only once the new are healthy; a revision that never gets healthy is
# stopped by the circuit breaker, rolled back to the last one that worked.
DEPLOYMENT_CONFIGURATION = {
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
    "deploymentCircuitBreaker": {"enable": True, "rollback": True},
}


_VERSION_MARK = "-v"


def family(settings: Settings, model_id: str, version: int) -> str:
    """The name of a model version's task definition family and of its service: the one place it is made."""
    return f"{settings.resource_prefix}{model_id}{_VERSION_MARK}{version}"


def _unit_of_family(settings: Settings, name: str) -> tuple[str, int] | None:
    if not name.startswith(settings.resource_prefix):
        return None
    model_id, mark, version = name.removeprefix(settings.resource_prefix).rpartition(_VERSION_MARK)
    if not (mark and model_id and version.isdigit()):
        return None
    return model_id, int(version)


def health_check_command(port: int, path: str) -> list[str]:
    # Custom images may lack curl or wget, and the runner image has only Python: try each in turn.
    url = f"http://127.0.0.1:{port}{path}"
    return [
        "CMD-SHELL",
        f"curl -fsS -m 4 {url} >/dev/null 2>&1 || wget -q -T 4 -O /dev/null {url} || "
        f"python3 -c \"import urllib.request; urllib.request.urlopen('{url}', timeout=4)\"",
    ]


def capacity(spot: bool) -> list[dict[str, Any]]:
    """Where a version's tasks run: Fargate, or Fargate Spot (the cluster offers both)."""
    return [{"capacityProvider": "FARGATE_SPOT" if spot else "FARGATE", "weight": 1}]


def _ecs_call(operation: str, call: Any, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except (ClientError, BotoCoreError) as error:
        if isinstance(error, ClientError) and error_code(error) in _REFUSALS:
            raise RuntimeRefused(f"ECS refused to {operation}: {error.response['Error'].get('Message', '')}") from error
        raise translate(error, ECS) from error


class EcsContainerRuntime:
    def __init__(self, ecs: Any, settings: Settings, scaling: ServiceScaling) -> None:
        self._ecs = ecs
        self._settings = settings
        self._scaling = scaling

    def family(self, model_id: str, version: int) -> str:
        return family(self._settings, model_id, version)

    def task_definition(self, unit: RuntimeUnit) -> dict[str, Any]:
        settings = self._settings
        record = unit.record
        environment = runner_environment(record, unit.artifact_uri, settings.artifact_max_bytes, record.container_port)
        memory_mib = int(record.container_memory * 1024)
        definition: dict[str, Any] = {
            "family": self.family(record.id, unit.version),
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": str(int(record.container_cpu * 1024)),
            "memory": str(memory_mib),
            "containerDefinitions": [
                {
                    "name": CONTAINER_NAME,
                    "image": record.docker_image or settings.runner_image,
                    "essential": True,
                    "memory": memory_mib,
                    "portMappings": [{"containerPort": record.container_port, "protocol": "tcp"}],
                    "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                    "healthCheck": {
                        "command": health_check_command(record.container_port, record.health_path),
                        **HEALTH_CHECK_SECONDS,
                    },
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": settings.model_log_group(record.id),
                            "awslogs-region": settings.region,
                            "awslogs-stream-prefix": STREAM_PREFIX,
                        },
                    },
                }
            ],
            "tags": [
                {"key": "kraken:model-id", "value": record.id},
                {"key": "kraken:version", "value": str(unit.version)},
            ],
        }
        if record.secret_env:  # ECS reads each with the execution role and puts it in the environment
            definition["containerDefinitions"][0]["secrets"] = [
                {"name": name, "valueFrom": ref} for name, ref in sorted(record.secret_env.items())
            ]
        if record.docker_image and record.registry_secret:  # a private registry: ECS pulls with these
            definition["containerDefinitions"][0]["repositoryCredentials"] = {
                "credentialsParameter": record.registry_secret
            }
        if settings.task_execution_role_arn:
            definition["executionRoleArn"] = settings.task_execution_role_arn
        if unit.identity:  # the model's own role; an image model's task gets none
            definition["taskRoleArn"] = unit.identity
        return definition

    def _service(self, model_id: str, version: int) -> dict[str, Any] | None:
        found = _ecs_call(
            "describe the model's service",
            self._ecs.describe_services,
            cluster=self._settings.cluster,
            services=[self.family(model_id, version)],
        )
        active = [s for s in found.get("services", []) if s.get("status") == "ACTIVE"]
        return active[0] if active else None

    def start(self, unit: RuntimeUnit) -> None:
        model_id = unit.record.id
        registered = _ecs_call(
            "register the task definition",
            self._ecs.register_task_definition,
            **self.task_definition(unit),
        )
        task_definition = registered["taskDefinition"]["taskDefinitionArn"]
        name = self.family(model_id, unit.version)
        existing = self._service(model_id, unit.version)
        if existing is not None:
            replicas = unit.replicas
            if unit.autoscaling is not None and existing.get("desiredCount"):
                # Autoscaling owns the count between its bounds: a new revision keeps what it chose.
                replicas = unit.autoscaling.bounded(int(existing["desiredCount"]))
            # A new task definition revision rolls: new tasks are healthy before old ones stop.
            changes: dict[str, Any] = {}
            providers = [s.get("capacityProvider") for s in existing.get("capacityProviderStrategy", [])]
            if providers != [capacity(unit.spot)[0]["capacityProvider"]]:
                # To or from Spot (or from the launch type of a service made before): new tasks, same rolling.
                changes = {"capacityProviderStrategy": capacity(unit.spot), "forceNewDeployment": True}
            _ecs_call(
                "update the model's service",
                self._ecs.update_service,
                cluster=self._settings.cluster,
                service=name,
                taskDefinition=task_definition,
                desiredCount=replicas,
                deploymentConfiguration=DEPLOYMENT_CONFIGURATION,
                **changes,
            )
            self._scaling.apply(model_id, unit.version, name, unit.autoscaling)
            return
        _ecs_call(
            "create the model's service",
            self._ecs.create_service,
            cluster=self._settings.cluster,
            serviceName=name,
            taskDefinition=task_definition,
            desiredCount=unit.replicas,
            capacityProviderStrategy=capacity(unit.spot),
            deploymentConfiguration=DEPLOYMENT_CONFIGURATION,
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": list(self._settings.subnets),
                    "securityGroups": [self._settings.task_security_group]
                    if self._settings.task_security_group
                    else [],
                    "assignPublicIp": "DISABLED",
                }
            },
            propagateTags="TASK_DEFINITION",
            enableECSManagedTags=True,
            # Same token for the same version: a retried create cannot make a second service.
            clientToken=name[-64:],
        )
        self._scaling.apply(model_id, unit.version, name, unit.autoscaling)

    def stop(self, model_id: str, version: int) -> bool:
        service = self._service(model_id, version)
        if service is None:
            return False
        self._scaling.remove(self.family(model_id, version))
        _ecs_call(
            "stop the model's service",
            self._ecs.update_service,
            cluster=self._settings.cluster,
            service=self.family(model_id, version),
            desiredCount=0,
        )
        return bool(service.get("runningCount", 0) or service.get("pendingCount", 0) or self._tasks(model_id, version))

    def remove(self, model_id: str) -> None:
        prefix = f"{self._settings.resource_prefix}{model_id}{_VERSION_MARK}"
        listed = _ecs_call(
            "list task definitions", self._ecs.list_task_definition_families, familyPrefix=prefix, status="ACTIVE"
        )
        for name in listed.get("families", []):
            unit = _unit_of_family(self._settings, name)
            if unit is None or unit[0] != model_id:
                continue  # another model whose id starts like this one
            if self._service(model_id, unit[1]) is not None:
                self._scaling.remove(name)
                _ecs_call(
                    "delete the model's service",
                    self._ecs.delete_service,
                    cluster=self._settings.cluster,
                    service=name,
                    force=True,
                )
            definitions = _ecs_call(
                "list task definitions", self._ecs.list_task_definitions, familyPrefix=name, status="ACTIVE"
            )
            for arn in definitions.get("taskDefinitionArns", []):
                if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == name:
                    _ecs_call("deregister a task definition", self._ecs.deregister_task_definition, taskDefinition=arn)

    def _tasks(self, model_id: str, version: int) -> list[dict[str, Any]]:
        name = self.family(model_id, version)
        listed = _ecs_call(
            "list the model's tasks",
            self._ecs.list_tasks,
            cluster=self._settings.cluster,
            serviceName=name,
            desiredStatus="RUNNING",
        )
        arns = listed.get("taskArns", [])
        if not arns:
            return []
        described = _ecs_call(
            "describe the model's tasks", self._ecs.describe_tasks, cluster=self._settings.cluster, tasks=arns
        )
        return [t for t in described.get("tasks", []) if t.get("group") == f"service:{name}"]

    def view(self, model_id: str, version: int) -> RuntimeView:
        service = self._service(model_id, version)
        tasks = self._tasks(model_id, version) if service is not None else []
        healthy = []
        for task in tasks:
            if task.get("lastStatus") == "RUNNING" and task.get("healthStatus") == "HEALTHY":
                address = _task_address(task)
                port = _container_port(task)
                if address and port:
                    healthy.append(f"{address}:{port}")
        return RuntimeView(
            desired_running=bool(service and service.get("desiredCount", 0) > 0),
            healthy_endpoints=tuple(healthy),
            tasks_alive=len(tasks),
            desired_count=int(service.get("desiredCount", 0)) if service else 0,
        )


def _model_container(task: dict[str, Any]) -> dict[str, Any]:
    containers = task.get("containers") or [{}]
    return next((c for c in containers if c.get("name") == CONTAINER_NAME), containers[0])


def _task_address(task: dict[str, Any]) -> str | None:
    interfaces = _model_container(task).get("networkInterfaces") or []
    if interfaces and interfaces[0].get("privateIpv4Address"):
        return str(interfaces[0]["privateIpv4Address"])
    for attachment in task.get("attachments", []):
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                return str(detail["value"])
    return None


def _container_port(task: dict[str, Any]) -> int | None:
    bindings = _model_container(task).get("networkBindings") or []
    if bindings and bindings[0].get("hostPort"):
        return int(bindings[0]["hostPort"])
    return None


def replica_report_from_detail(detail: dict[str, Any], settings: Settings) -> ReplicaReport | None:
    """The domain's report from an "ECS Task State Change" detail, or None when it is not ours or says nothing."""
    if not str(detail.get("clusterArn", "")).endswith(f":cluster/{settings.cluster}"):
        return None
    unit = _unit_of_family(settings, str(detail.get("group", "")).removeprefix("service:"))
    if unit is None:
        task_definition = str(detail.get("taskDefinitionArn", "")).rsplit("/", 1)[-1].split(":")[0]
        unit = _unit_of_family(settings, task_definition)
    if unit is None:
        return None
    model_id, version = unit
    container = _model_container(detail)
    health = str(detail.get("healthStatus") or container.get("healthStatus") or "UNKNOWN")
    state = _replica_state(str(detail.get("lastStatus", "")), health)
    if state is None:
        return None
    bindings = container.get("networkBindings") or []
    updated_at = detail.get("updatedAt")
    return ReplicaReport(
        model_id=model_id,
        replica_id=str(detail.get("taskArn", "")).rsplit("/", 1)[-1],
        state=state,
        at=datetime.fromisoformat(updated_at) if updated_at else utc_now(),
        address=(bindings[0].get("bindIP") if bindings else None) or _task_address(detail),
        port=int(bindings[0]["hostPort"]) if bindings and bindings[0].get("hostPort") else None,
        exit=_task_exit(detail, container, health) if state is ReplicaState.EXITED else None,
        version=version,
    )


def _replica_state(last_status: str, health: str) -> ReplicaState | None:
    if last_status == "STOPPED":
        return ReplicaState.EXITED
    if last_status == "RUNNING":
        return {"HEALTHY": ReplicaState.HEALTHY, "UNHEALTHY": ReplicaState.UNHEALTHY}.get(health, ReplicaState.STARTED)
    # DEACTIVATING and STOPPING say nothing new: the STOPPED event follows.
    return ReplicaState.STARTED if last_status in _STARTING else None


def _task_exit(detail: dict[str, Any], container: dict[str, Any], health: str) -> ReplicaExit:
    """Why ECS stopped a task, in the runtime-neutral terms the domain understands."""
    stopped = str(detail.get("stoppedReason") or "")
    container_reason = str(container.get("reason") or "")
    exit_code = container.get("exitCode")
    if "CannotPullContainer" in stopped or "CannotPullContainer" in container_reason:
        cause = ExitCause.IMAGE_UNAVAILABLE
    elif OOM_MARKER in container_reason or (exit_code == 137 and OOM_MARKER in stopped):
        cause = ExitCause.OUT_OF_MEMORY
    elif health == "UNHEALTHY" or "health check" in stopped.lower():
        cause = ExitCause.HEALTH_CHECK
    else:
        cause = ExitCause.EXITED
    return ReplicaExit(cause, exit_code, stopped or container_reason or None)
