"""CloudWatch Logs: each model's log group, where its container's stdout and stderr land."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.aws_errors import CLOUDWATCH_LOGS, error_code, translated
from chalicelib.config import Settings
from chalicelib.domain.ports import LoadReport

CONTAINER_NAME = "model"
STREAM_PREFIX = "model"
# The runner prints this before exiting when it cannot serve; the rest of the line is the reason.
FAILURE_MARKER = "KRAKEN_FAILURE:"
# The runner's JSON log lines on loading (runner/loading.py report_loaded): one per warning, then one when done.
LOADED_MESSAGE = "model loaded"
LOAD_WARNING_MESSAGE = "model load warning"


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

    def load_report(self, model_id: str, task_id: str) -> LoadReport | None:
        try:
            found = self._logs.filter_log_events(
                logGroupName=self._settings.model_log_group(model_id),
                logStreamNames=[stream_name(task_id)],
                filterPattern=f'?"{LOADED_MESSAGE}" ?"{LOAD_WARNING_MESSAGE}"',
                limit=50,
            )
        except (ClientError, BotoCoreError):
            return None  # a courtesy, as the failure line is: the model serves either way
        lines = [_json_line(e["message"]) for e in found.get("events", [])]
        loaded = next((line for line in lines if line.get("message") == LOADED_MESSAGE), None)
        if loaded is None:
            return None
        warnings = tuple(
            f"{line.get('category', 'Warning')}: {line.get('warning', '')}"[:500]
            for line in lines
            if line.get("message") == LOAD_WARNING_MESSAGE
        )
        libraries = loaded.get("libraries")
        named = {str(k): str(v) for k, v in libraries.items()} if isinstance(libraries, dict) else {}
        return LoadReport(named, warnings)

    def delete_group(self, model_id: str) -> None:
        with translated(CLOUDWATCH_LOGS):
            try:
                self._logs.delete_log_group(logGroupName=self._settings.model_log_group(model_id))
            except ClientError as error:
                if error_code(error) != "ResourceNotFoundException":
                    raise


def _json_line(message: str) -> dict[str, Any]:
    try:
        line = json.loads(message)
    except ValueError:
        return {}
    return line if isinstance(line, dict) else {}
