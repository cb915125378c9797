"""Event models for the handlers (Powertools parser, pydantic v2).

S3 sends "Object Created" events to EventBridge. The billing-export rule invokes ``ingest_cur`` with
that event; the log-object rule puts the same event, as JSON text, into the SQS queue that feeds
``ingest_invocations``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    EventBridgeModel,
    S3EventNotificationEventBridgeModel,
    SqsRecordModel,
)
from pydantic import BaseModel, Json, ValidationError

from ..errors import InputError

ModelT = TypeVar("ModelT", bound=BaseModel)


class ObjectCreatedEvent(S3EventNotificationEventBridgeModel):
    """An S3 "Object Created" event delivered by EventBridge."""

    @property
    def bucket(self) -> str:
        """The bucket that contains the new object."""
        return self.detail.bucket.name

    @property
    def key(self) -> str:
        """The new object's key as the event gives it (see ``download_object`` about URL encoding)."""
        return self.detail.object.key

    @property
    def etag(self) -> str:
        """The new object's ETag, without quotes."""
        return self.detail.object.etag.strip('"')


class ObjectCreatedQueueRecord(SqsRecordModel):  # type: ignore[misc]
    """One SQS message whose body is an EventBridge "Object Created" event."""

    body: Json[ObjectCreatedEvent]  # type: ignore[assignment]


class ScheduledEvent(EventBridgeModel):
    """An EventBridge scheduled event; only its id and time are used."""


def parse_event(event: dict[str, Any], model: type[ModelT]) -> ModelT:
    """Validate an event against its model; raise InputError naming the invalid fields, never their values."""
    try:
        return parse(event=event, model=model)
    except ValidationError as error:
        fields = ", ".join(".".join(str(part) for part in item["loc"]) or "(top level)" for item in error.errors())
        raise InputError(f"event is not a valid {model.__name__}; invalid or missing fields: {fields}") from None
