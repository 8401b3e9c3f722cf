"""The only module that knows every adapter: builds them lazily, once per process, from Settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.config import Settings, settings

if TYPE_CHECKING:  # the services load on first use, so cold start pays only for what a route needs
    from chalicelib.domain.access import TokenVerifier
    from chalicelib.domain.clients import ClientTokens
    from chalicelib.domain.env_secrets import EnvSecretKeeper
    from chalicelib.domain.gateway import PredictionGateway
    from chalicelib.domain.lifecycle import Lifecycle
    from chalicelib.domain.ports import (
        ContainerLogReader,
        ContainerRuntime,
        DeploymentHistory,
        MetricsReader,
        PredictionLog,
        RequestHistory,
    )
    from chalicelib.domain.projects import Projects
    from chalicelib.domain.quotas import QuotaGuard
    from chalicelib.domain.registry import ModelRegistry
    from chalicelib.domain.replays import ReplayRunner, ReplayStore
    from chalicelib.domain.rollouts import Rollouts
    from chalicelib.domain.schedules import ScheduleRunner
    from chalicelib.domain.shadow import ShadowComparer
    from chalicelib.domain.versions import VersionCatalog


class Wiring:
    """The adapters and services of one process; built on first use to keep cold start light.

    Adapter modules are imported inside the properties: PynamoDB and boto3 pull in botocore,
    ~100 ms that routes such as /health never need.
    """

    def __init__(self, config: Settings) -> None:
        self.settings = config

    def client(self, service: str) -> Any:
        from chalicelib.adapters.clients import client

        return client(service, self.settings)

    @cached_property
    def _tables(self) -> Any:
        from chalicelib.adapters import dynamodb

        dynamodb.configure(self.settings, self._table_client())
        return dynamodb

    def _table_client(self) -> Any:
        """The DynamoDB client the tables use; None lets PynamoDB build its own (as on Lambda)."""
        return None

    @cached_property
    def operations(self) -> Any:
        return self._tables.DynamoOperationsLog(self.settings.operations_ttl_days)

    @cached_property
    def registry(self) -> ModelRegistry:
        from chalicelib.domain.registry import ModelRegistry

        return ModelRegistry(
            self._tables.DynamoModelRepository(),
            self.operations,
            self._names,
            self.env_secrets,
            on_change=self._forget_route,
            credentials=self._registry_credentials,
        )

    @cached_property
    def env_secrets(self) -> EnvSecretKeeper:
        from chalicelib.adapters.secrets import SecretsManagerEnvSecrets
        from chalicelib.domain.env_secrets import EnvSecretKeeper

        store = SecretsManagerEnvSecrets(self.client("secretsmanager"), self.settings.env_secret_prefix)
        return EnvSecretKeeper(store)

    @cached_property
    def _registry_credentials(self) -> Any:
        from chalicelib.adapters.secrets import SecretsManagerRegistryCredentials

        return SecretsManagerRegistryCredentials(self.client("secretsmanager"), self.settings.registry_secret_prefix)

    @cached_property
    def runtime(self) -> ContainerRuntime:
        from chalicelib.adapters.app_autoscaling import ServiceScaling
        from chalicelib.adapters.ecs import EcsContainerRuntime

        scaling = ServiceScaling(
            self.client("application-autoscaling"), self.settings.cluster, self.settings.metrics_namespace
        )
        return EcsContainerRuntime(self.client("ecs"), self.settings, scaling)

    @cached_property
    def lifecycle(self) -> Lifecycle:
        from chalicelib.adapters.cloudwatch_logs import CloudWatchContainerLogs
        from chalicelib.domain.lifecycle import Lifecycle

        return Lifecycle(
            models=self._tables.DynamoModelRepository(),
            runtime=self.runtime,
            operations=self.operations,
            artifacts=self._artifacts,
            container_logs=CloudWatchContainerLogs(self.client("logs"), self.settings),
            history=self.history,
            names=self._names,
            artifact_max_bytes=self.settings.artifact_max_bytes,
            start_timeout=timedelta(seconds=self.settings.start_timeout_seconds),
            requests=self.request_history,
            on_change=self._forget_route,
            later=self._later,
            idle_minute=timedelta(seconds=self.settings.idle_minute_seconds),
            admit=lambda record, spec: self.quotas.admit_deployment(record, spec),
            forget_credentials=lambda model_id: self._registry_credentials.forget(model_id),
            identities=self.model_identities,
            env_secrets=self.env_secrets,
        )

    @cached_property
    def model_identities(self) -> Any:
        from chalicelib.adapters.iam import IamModelRoles

        settings = self.settings
        return IamModelRoles(
            self.client("iam"), settings.stage, settings.artifact_bucket, settings.model_task_boundary_arn
        )

    @cached_property
    def schedules(self) -> ScheduleRunner:
        from chalicelib.domain.schedules import ScheduleRunner

        return ScheduleRunner(
            self._tables.DynamoModelRepository(), self.operations, self.lifecycle, on_change=self._forget_route
        )

    # On AWS nothing outlives a request: the reconciler retires drained versions on its schedule.
    _later: Callable[[float, Callable[[], None]], None] | None = None

    @cached_property
    def _artifacts(self) -> Any:
        from chalicelib.adapters.s3 import S3ArtifactStore

        return S3ArtifactStore(self.client("s3"), self.settings.artifact_bucket)

    @cached_property
    def _names(self) -> Any:
        return self._tables.DynamoModelNames()

    @cached_property
    def history(self) -> DeploymentHistory:
        return self._tables.DynamoDeploymentHistory()

    @cached_property
    def versions(self) -> VersionCatalog:
        from chalicelib.domain.versions import VersionCatalog

        return VersionCatalog(
            self._tables.DynamoModelRepository(),
            self.operations,
            self._artifacts,
            self.settings.artifact_max_bytes,
            self.env_secrets,
            on_change=self._forget_route,
        )

    def _forget_route(self, model_id: str) -> None:
        # Only a gateway this process already built holds a cached route worth dropping.
        gateway = self.__dict__.get("gateway")
        if gateway is not None:
            gateway.forget(model_id)

    @cached_property
    def verifier(self) -> TokenVerifier:
        from chalicelib.adapters.cognito import CognitoTokenVerifier

        s = self.settings
        return CognitoTokenVerifier(s.token_issuer, s.user_pool_client_id, s.jwks_url)

    @cached_property
    def projects(self) -> Projects:
        from chalicelib.adapters.cognito import CognitoUserDirectory
        from chalicelib.domain.projects import Projects

        users = CognitoUserDirectory(self.client("cognito-idp"), self.settings.user_pool_id)
        return Projects(self._tables.DynamoProjectDirectory(), users)

    @cached_property
    def quotas(self) -> QuotaGuard:
        from chalicelib.domain.quotas import QuotaGuard

        return QuotaGuard(self.projects.quota_of, self.registry.every_in)

    @cached_property
    def clients(self) -> ClientTokens:
        from chalicelib.domain.clients import ClientTokens

        return ClientTokens(self._tables.DynamoClientStore())

    @cached_property
    def prediction_log(self) -> PredictionLog:
        from chalicelib.adapters.prediction_log import StdoutPredictionLog

        return StdoutPredictionLog(self.settings.metrics_namespace)

    @cached_property
    def gateway(self) -> PredictionGateway:
        from chalicelib.adapters.http_transport import PooledTransport
        from chalicelib.domain.gateway import PredictionGateway

        return PredictionGateway(
            self._tables.DynamoModelRepository(),
            self._names,
            PooledTransport(),
            self.prediction_log,
            wake=lambda model_id: self.lifecycle.wake(model_id),
        )

    @cached_property
    def shadow_tallies(self) -> Any:
        return self._tables.DynamoShadowTallies()

    @cached_property
    def shadow(self) -> ShadowComparer:
        """The shadow consumer's work: the shadowed requests' lines in, their comparisons into the tallies."""
        from chalicelib.domain.shadow import ShadowComparer

        return ShadowComparer(self.gateway, self.shadow_tallies)

    @cached_property
    def replay_store(self) -> ReplayStore:
        return self._tables.DynamoReplayStore()

    @cached_property
    def replays(self) -> ReplayRunner:
        """Replays of captured requests against a candidate; `_later` (local mode) runs a new one at once."""
        from chalicelib.domain.replays import ReplayRunner

        return ReplayRunner(
            self.replay_store,
            self._tables.DynamoModelRepository(),
            self.lifecycle,
            self.gateway,
            self.request_history,
            later=self._later,
        )

    @cached_property
    def rollouts(self) -> Rollouts:
        from chalicelib.adapters.sns import SnsNotifications
        from chalicelib.domain.rollouts import Rollouts

        return Rollouts(
            self._tables.DynamoModelRepository(),
            self.operations,
            self.lifecycle,
            self.metrics,
            SnsNotifications(self.client("sns"), self.settings.rollout_topic_arn),
            match_rate=self._match_rate,
            on_change=self._forget_route,
        )

    def _match_rate(self, model_id: str, version: int) -> float | None:
        """The candidate's live shadow comparison when it has one, else its latest finished replay's."""
        shadow = self.shadow_tallies.get(model_id, version)
        if shadow is not None and shadow.tally.match_rate is not None:
            return float(shadow.tally.match_rate)
        replay = self.replay_store.latest_finished(model_id, version)
        return replay.tally.match_rate if replay is not None else None

    @cached_property
    def _log_reader(self) -> Any:
        from chalicelib.adapters.log_history import LogReader

        return LogReader(self.client("logs"))

    @cached_property
    def request_history(self) -> RequestHistory:
        from chalicelib.adapters.log_history import CloudWatchRequestHistory

        return CloudWatchRequestHistory(self._log_reader, self.settings)

    @cached_property
    def container_logs(self) -> ContainerLogReader:
        from chalicelib.adapters.log_history import CloudWatchContainerLogReader

        return CloudWatchContainerLogReader(self._log_reader, self.settings)

    @cached_property
    def metrics(self) -> MetricsReader:
        from chalicelib.adapters.cloudwatch_metrics import CloudWatchMetricsReader
        from chalicelib.adapters.ecs import family

        settings = self.settings
        return CloudWatchMetricsReader(
            self.client("cloudwatch"),
            settings.metrics_namespace,
            settings.cluster,
            lambda model_id, version: family(settings, model_id, version),
        )


_current: Wiring | None = None


def current() -> Wiring:
    global _current
    if _current is None:
        _current = Wiring(settings())
    return _current


def install(wiring: Wiring | None) -> None:
    """Replace the process's wiring (local mode, tests); None rebuilds it from the environment."""
    global _current
    _current = wiring
