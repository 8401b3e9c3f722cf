"""CloudWatch Logs: each model's log group, where its container's stdout and stderr land."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.aws_errors import CLOUDWATCH_LOGS, error_code, translated
from chalicelib.config import Settings

CONTAINER_NAME = "model"
STREAM_PREFIX = "model"
# The runner prints this before exiting when it cannot serve; the rest of the line is the reason.
FAILURE_MARKER = "KRAKEN_FAILURE:"


def stream_name(task_id: str) -> str:
    """The stream ECS's awslogs driver writes a task's container output to: prefix/container/task-id."""
    return f"{STREAM_PREFIX}/{CONTAINER_NAME}/{task_id}"


class CloudWatchContainerLogs:
    def __init__(self, logs: Any, settings: Settings) -> None:
        self._logs = logs
        self._settings = settings

    def create_group(self, model_id: str) -> None:
        group = self._settings.model_log_group(model_id)
        with translated(CLOUDWATCH_LOGS):
            try:
                self._logs.create_log_group(logGroupName=group)
            except ClientError as error:
                if error_code(error) != "ResourceAlreadyExistsException":
                    raise
            self._logs.put_retention_policy(logGroupName=group, retentionInDays=self._settings.model_log_retention_days)

    def failure_line(self, model_id: str, task_id: str) -> str | None:
        try:
            found = self._logs.filter_log_events(
                logGroupName=self._settings.model_log_group(model_id),
                logStreamNames=[stream_name(task_id)],
                filterPattern=f'"{FAILURE_MARKER}"',
                limit=10,
            )
        except (ClientError, BotoCoreError):
            return None  # the reason is a courtesy; the exit code still explains the failure
        lines = [e["message"] for e in found.get("events", []) if FAILURE_MARKER in e["message"]]
        return lines[-1].split(FAILURE_MARKER, 1)[1].strip() if lines else None

    def delete_group(self, model_id: str) -> None:
        with translated(CLOUDWATCH_LOGS):
            try:
                self._logs.delete_log_group(logGroupName=self._settings.model_log_group(model_id))
            except ClientError as error:
                if error_code(error) != "ResourceNotFoundException":
                    raise
