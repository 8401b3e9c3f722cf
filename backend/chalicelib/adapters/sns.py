"""SNS: the rollout topic that tells subscribers (mail, chat, a pager) what a rollout decided."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.aws_errors import SNS, translated

MAX_SUBJECT = 100  # SNS refuses longer subjects


class SnsNotifications:
    def __init__(self, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    def publish(self, subject: str, message: str, attributes: dict[str, str]) -> None:
        with translated(SNS):
            self._sns.publish(
                TopicArn=self._topic_arn,
                Subject=subject[:MAX_SUBJECT],
                Message=message,
                MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
            )
