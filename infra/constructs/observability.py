"""The CloudWatch dashboard (per-model latency, requests, errors; API and Lambda health) and the alarms."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

# What the API emits as EMF lines, per model (dimension ModelId): Latency in ms and three counters.
MODEL_DIMENSION = "ModelId"
FIVE_MINUTES = cdk.Duration.minutes(5)
API_5XX_RATE_THRESHOLD = 0.05  # 5% of requests over 5 minutes


def _per_model(namespace: str, metric: str, stat: str, label: str) -> cloudwatch.MathExpression:
    # Models come and go at runtime, so the dashboard searches for every ModelId instead of naming them.
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{{{namespace},{MODEL_DIMENSION}}} MetricName=\"{metric}\"', '{stat}', 300)",
        using_metrics={},
        label=label,
        period=FIVE_MINUTES,
    )


def _lambda_metric(function_name: str, name: str, stat: str, label: str | None = None) -> cloudwatch.Metric:
    """A Lambda metric of one function over five minutes, labelled with the function's name by default."""
    return cloudwatch.Metric(
        namespace="AWS/Lambda",
        metric_name=name,
        dimensions_map={"FunctionName": function_name},
        statistic=stat,
        period=FIVE_MINUTES,
        label=label or function_name,
    )


class Observability(Construct):
    """Attributes: `dashboard`, `alarm_topic`, `api_5xx_alarm`, `throttle_alarm`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        metrics_namespace: str,
        api_name: str,
        api_stage: str,
        function_names: Sequence[str],
        api_function_name: str,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._api_dimensions = {"ApiName": api_name, "Stage": api_stage}
        self.alarm_topic = self._alarm_topic(prefix, alarm_email)
        self.api_5xx_alarm = self._api_5xx_alarm(prefix)
        self.throttle_alarm = self._throttle_alarm(prefix, function_names)
        for alarm in (self.api_5xx_alarm, self.throttle_alarm):
            alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
            alarm.add_ok_action(cw_actions.SnsAction(self.alarm_topic))
        self.dashboard = self._dashboard(prefix, metrics_namespace, function_names, api_function_name)

    def _api_metric(self, name: str, stat: str) -> cloudwatch.Metric:
        """An API Gateway metric of this stage's API over five minutes."""
        return cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name=name,
            dimensions_map=self._api_dimensions,
            statistic=stat,
            period=FIVE_MINUTES,
        )

    def _alarm_topic(self, prefix: str, alarm_email: str | None) -> sns.Topic:
        """The topic every alarm notifies, with a mail subscription when an address is configured."""
        # Not KMS-encrypted on purpose: notifications carry alarm names and states only, CloudWatch cannot
        # publish to a topic under the AWS-managed SNS key, and a customer key costs $1/month per stage.
        topic = sns.Topic(
            self, "AlarmTopic", topic_name=f"{prefix}-alarms", display_name=f"{prefix} alarms", enforce_ssl=True
        )
        if alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        return topic

    def _api_5xx_alarm(self, prefix: str) -> cloudwatch.Alarm:
        """Alarms when too large a share of API requests fails with 5xx."""
        return cloudwatch.Alarm(
            self,
            "Api5xxRate",
            alarm_name=f"{prefix}-api-5xx-rate",
            alarm_description=f"More than {API_5XX_RATE_THRESHOLD:.0%} of API requests answered 5xx",
            # API Gateway's 5XXError is 0 or 1 per request, so its average is the 5xx rate.
            metric=self._api_metric("5XXError", "Average"),
            threshold=API_5XX_RATE_THRESHOLD,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _throttle_alarm(self, prefix: str, function_names: Sequence[str]) -> cloudwatch.Alarm:
        """Alarms when any of the stage's functions is throttled."""
        throttles = {f"t{i}": _lambda_metric(name, "Throttles", "Sum") for i, name in enumerate(function_names)}
        return cloudwatch.Alarm(
            self,
            "LambdaThrottles",
            alarm_name=f"{prefix}-lambda-throttles",
            alarm_description="A kraken function was throttled (account concurrency exhausted)",
            metric=cloudwatch.MathExpression(
                # FILL: a function without invocations reports nothing, which must count as zero.
                expression=" + ".join(f"FILL({key}, 0)" for key in throttles),
                using_metrics=throttles,
                label="throttles",
                period=FIVE_MINUTES,
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _dashboard(
        self, prefix: str, ns: str, function_names: Sequence[str], api_function_name: str
    ) -> cloudwatch.Dashboard:
        """The stage's dashboard: per-model rows first, then the API's and the functions' health."""
        dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=prefix, default_interval=cdk.Duration.hours(3)
        )
        dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# {prefix}\nPer-model metrics come from the API's EMF lines in namespace `{ns}` "
                f"(dimension `{MODEL_DIMENSION}`).",
                width=24,
                height=2,
            )
        )
        self._add_model_rows(dashboard, ns)
        self._add_api_row(dashboard)
        self._add_lambda_row(dashboard, function_names, api_function_name)
        return dashboard

    @staticmethod
    def _add_model_rows(dashboard: cloudwatch.Dashboard, ns: str) -> None:
        """Latency, requests and errors of every model, from the API's EMF metrics."""
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Model latency (ms, p90)", left=[_per_model(ns, "Latency", "p90", "")], width=12
            ),
            cloudwatch.GraphWidget(title="Model requests", left=[_per_model(ns, "Requests", "Sum", "")], width=12),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Model 4xx", left=[_per_model(ns, "Errors4xx", "Sum", "")], width=12),
            cloudwatch.GraphWidget(title="Model 5xx", left=[_per_model(ns, "Errors5xx", "Sum", "")], width=12),
        )

    def _add_api_row(self, dashboard: cloudwatch.Dashboard) -> None:
        """API Gateway requests, errors and latency, next to the alarms' states."""
        api_metric = self._api_metric
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[api_metric("Count", "Sum"), api_metric("4XXError", "Sum"), api_metric("5XXError", "Sum")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="API latency (ms)",
                left=[api_metric("Latency", "p50"), api_metric("Latency", "p90"), api_metric("Latency", "p99")],
                width=8,
            ),
            cloudwatch.AlarmStatusWidget(alarms=[self.api_5xx_alarm, self.throttle_alarm], title="Alarms", width=8),
        )

    @staticmethod
    def _add_lambda_row(dashboard: cloudwatch.Dashboard, function_names: Sequence[str], api_function_name: str) -> None:
        """Errors and throttles of every function, and the API function's duration."""
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda errors", left=[_lambda_metric(n, "Errors", "Sum") for n in function_names], width=8
            ),
            cloudwatch.GraphWidget(
                title="Lambda throttles", left=[_lambda_metric(n, "Throttles", "Sum") for n in function_names], width=8
            ),
            cloudwatch.GraphWidget(
                title="API function duration (ms)",
                left=[_lambda_metric(api_function_name, "Duration", s, label=s) for s in ("p50", "p90", "Maximum")],
                width=8,
            ),
        )
