"""Routing messages to owners: the outbox in the lake, SNS publishing with filterable attributes, subscriptions.

Every message is written to ``outbox/team=<team>/<billing_period>/<kind>-<key>.json`` in the lake. When a
topic is known (the team's own topic, else the alerts topic), it is also published to SNS with the
message attributes ``team``, ``kind``, ``severity`` and ``billing_period``. A marker per idempotency key
under ``messages/sent/`` makes a re-run skip messages already sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pyarrow as pa
from botocore.exceptions import BotoCoreError, ClientError

from ..config import GovernanceConfig
from ..errors import FinOpsError
from ..lake.base import Lake, key_segment
from ..observability import logger
from ..tables import MESSAGES_SENT
from .messages import Message

if TYPE_CHECKING:
    import boto3

SENT_PREFIX = "messages/sent"


class DeliveryError(FinOpsError):
    """Publishing a message or creating a subscription failed."""


class Publisher(Protocol):
    """Sends one message to a topic and returns the transport's message id."""

    def publish(self, message: Message, topic_arn: str) -> str: ...


class SnsPublisher:
    """Publishes messages to SNS: JSON for queues and functions, the readable text for email."""

    def __init__(self, session: boto3.Session) -> None:
        self._sns = session.client("sns")

    def publish(self, message: Message, topic_arn: str) -> str:
        envelope = message.model_dump_json()
        structured = {"default": envelope, "email": f"{message.subject}\n\n{message.body}\n"}
        attributes = {
            name: {"DataType": "String", "StringValue": value} for name, value in message.attributes().items()
        }
        try:
            response = self._sns.publish(
                TopicArn=topic_arn,
                Subject=message.subject,
                Message=json.dumps(structured),
                MessageStructure="json",
                MessageAttributes=attributes,  # type: ignore[arg-type]
            )
        except (ClientError, BotoCoreError) as error:
            raise DeliveryError(
                f"publishing {message.kind} for team {message.team} to {topic_arn} failed: {error}"
            ) from error
        return str(response["MessageId"])


def route_team(config: GovernanceConfig, about_team: str | None) -> str:
    """Return the team whose subscription receives a message about ``about_team``: itself if it has an owner,
    else the FinOps owner."""
    if about_team is not None and about_team in config.owners.teams:
        return about_team
    return config.owners.finops.team


def topic_for(config: GovernanceConfig, team: str, default_topic_arn: str | None) -> str | None:
    """Return the team's own topic when configured, else the alerts topic (None locally without one)."""
    owner = config.owners.teams.get(team)
    if owner is not None and owner.topic_arn:
        return owner.topic_arn
    if team == config.owners.finops.team and config.owners.finops.topic_arn:
        return config.owners.finops.topic_arn
    return default_topic_arn


@dataclass
class DeliveryReport:
    """Counts of one call of ``Router.send``: messages sent and repeats skipped."""

    sent: int = 0
    skipped_duplicates: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "skipped_duplicates": self.skipped_duplicates}


class Router:
    """Sends messages once each: outbox document, optional SNS publish, sent marker, messages_sent table."""

    def __init__(
        self,
        lake: Lake,
        config: GovernanceConfig,
        *,
        publisher: Publisher | None = None,
        default_topic_arn: str | None = None,
    ) -> None:
        self.lake = lake
        self.config = config
        self.publisher = publisher
        self.default_topic_arn = default_topic_arn

    @staticmethod
    def outbox_key(message: Message) -> str:
        return (
            f"outbox/team={key_segment(message.team)}/{message.billing_period}/"
            f"{message.kind}-{key_segment(message.idempotency_key)}.json"
        )

    @staticmethod
    def _marker_key(message: Message) -> str:
        return f"{SENT_PREFIX}/billing_period={message.billing_period}/{key_segment(message.idempotency_key)}.json"

    def send(self, messages: Sequence[Message]) -> DeliveryReport:
        """Deliver each message not sent before, then rewrite the messages_sent partitions touched."""
        report = DeliveryReport()
        periods: set[str] = set()
        for message in messages:
            marker = self._marker_key(message)
            if self.lake.get_document(marker) is not None:
                report.skipped_duplicates += 1
                continue
            topic = topic_for(self.config, message.team, self.default_topic_arn)
            message_id = None
            if topic is not None and self.publisher is not None:
                message_id = self.publisher.publish(message, topic)
            else:
                topic = None
            document_key = self.outbox_key(message)
            self.lake.put_document(document_key, message.model_dump_json(indent=2).encode("utf-8"))
            record = {
                "idempotency_key": message.idempotency_key,
                "kind": message.kind,
                "team": message.team,
                "severity": message.severity,
                "subject": message.subject,
                "topic_arn": topic,
                "message_id": message_id,
                "document_key": document_key,
                "sent_at": datetime.now(UTC).isoformat(),
            }
            # NOTE: a crash between the publish and this marker sends the message again on the next run
            # (at-least-once delivery); subscribers can drop repeats by idempotency_key.
            self.lake.put_document(marker, json.dumps(record).encode("utf-8"))
            periods.add(message.billing_period)
            report.sent += 1
            logger.info(
                "message sent",
                extra={"kind": message.kind, "team": message.team, "idempotency_key": message.idempotency_key},
            )
        for period in sorted(periods):
            self._write_sent_table(period)
        return report

    def _write_sent_table(self, period: str) -> None:
        records: list[dict[str, Any]] = []
        for key in self.lake.list_documents(f"{SENT_PREFIX}/billing_period={period}/"):
            body = self.lake.get_document(key)
            if body is not None:
                records.append(json.loads(body))
        for record in records:
            record["sent_at"] = datetime.fromisoformat(record["sent_at"])
        table = pa.Table.from_pylist(records, schema=MESSAGES_SENT.schema)
        self.lake.write_partition(MESSAGES_SENT.name, {"billing_period": period}, table)


def filter_policy(team: str, kinds: Sequence[str] = ()) -> dict[str, list[str]]:
    """Return the subscription filter policy that selects one team's messages (optionally some kinds)."""
    policy: dict[str, list[str]] = {"team": [team]}
    if kinds:
        policy["kind"] = list(kinds)
    return policy


def subscribe(
    session: boto3.Session,
    topic_arn: str,
    team: str,
    protocol: Literal["email", "sqs", "lambda"],
    endpoint: str,
    kinds: Sequence[str] = (),
) -> str:
    """Subscribe an endpoint to the alerts topic with a filter policy on the team; return the subscription ARN.

    An email subscription stays pending until the recipient confirms it. An SQS queue needs a queue policy
    that allows the topic to send to it, and a Lambda function a permission for sns.amazonaws.com.
    """
    sns = session.client("sns")
    try:
        response = sns.subscribe(
            TopicArn=topic_arn,
            Protocol=protocol,
            Endpoint=endpoint,
            Attributes={
                "FilterPolicy": json.dumps(filter_policy(team, kinds)),
                "FilterPolicyScope": "MessageAttributes",
            },
            ReturnSubscriptionArn=True,
        )
    except (ClientError, BotoCoreError) as error:
        raise DeliveryError(
            f"subscribing {protocol} {endpoint} to {topic_arn} for team {team} failed: {error}"
        ) from error
    return str(response["SubscriptionArn"])
