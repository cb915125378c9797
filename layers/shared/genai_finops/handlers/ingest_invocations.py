"""Lambda handler: a batch of SQS messages, each an S3 "Object Created" event for a Bedrock log object.

Each record is processed on its own: download the object, then ingest it. The domain skips an object
already ingested with the same key and ETag, so a redelivered message changes nothing. A record that
fails (corrupt gzip, unreadable object, a body that is not the expected event) is reported back as a
batch item failure. SQS then delivers only that message again, and after the queue's receive limit
it moves to the dead-letter queue. Side objects and the permission-check marker are acknowledged and
skipped.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from ..adapters.s3_objects import download_object
from ..errors import FinOpsError
from ..invocations import LogObject, ProfileResolver, ingest_log_objects, is_log_object_key
from ..invocations.objects import classify_key
from ..invocations.user_key import UserKeyProvider
from ..observability import logger, metrics, tracer
from .events import ObjectCreatedQueueRecord
from .runtime import AwsRuntime, get_runtime, user_key_provider


class LogObjectBatchProcessor(BatchProcessor):
    """A Powertools SQS batch processor that logs each failed record with its message id and object key."""

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        error = exception[1]
        body = getattr(record, "body", None)
        details: dict[str, Any] = {
            "message_id": getattr(record, "messageId", None) or getattr(record, "message_id", None),
            "object_key": getattr(body, "key", None),
            "error_type": type(error).__name__,
        }
        if isinstance(error, ValidationError):
            # The validation message repeats the input; name only the invalid fields.
            details["error"] = "invalid message body: " + ", ".join(
                ".".join(str(part) for part in item["loc"]) for item in error.errors()
            )
            logger.error("log object message rejected", extra=details)
        elif isinstance(error, FinOpsError):
            details["error"] = str(error)
            logger.error("log object failed", extra=details)
        else:
            logger.error("log object failed unexpectedly", extra=details, exc_info=error)
        return super().failure_handler(record, exception)


processor = LogObjectBatchProcessor(event_type=EventType.SQS, model=ObjectCreatedQueueRecord)


@dataclass
class BatchContext:
    """State shared by the records of one batch: runtime, user key, the profile inventory and outcome counts.

    The inventory is read once per batch, on the first log object, not once per object.
    """

    runtime: AwsRuntime
    user_key: UserKeyProvider
    profiles: ProfileResolver | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def resolver(self) -> ProfileResolver:
        """Return the profile inventory, reading it from the lake on first use."""
        if self.profiles is None:
            self.profiles = ProfileResolver.from_lake(self.runtime.lake)
        return self.profiles


def ingest_record(record: ObjectCreatedQueueRecord, batch: BatchContext) -> str:
    """Ingest the log object one queue message names; return the outcome (loaded, unchanged or skipped)."""
    created = record.body
    if not is_log_object_key(created.key):
        logger.info("object skipped", extra={"object_key": created.key, "reason": classify_key(created.key)})
        outcome = "skipped"
    else:
        outcome = _ingest_object(created.bucket, created.key, created.etag, batch)
    batch.counts[outcome] = batch.counts.get(outcome, 0) + 1
    return outcome


def _ingest_object(bucket: str, key: str, event_etag: str, batch: BatchContext) -> str:
    runtime = batch.runtime
    work = Path(tempfile.mkdtemp(prefix="logs-", dir=runtime.scratch_dir))
    try:
        downloaded = download_object(runtime.s3, bucket, key, work)
        log_object = LogObject(key=downloaded.key, etag=downloaded.etag or event_etag, path=downloaded.path)
        profiles = batch.resolver()
        report = ingest_log_objects(runtime.lake, runtime.config, [log_object], batch.user_key, profiles=profiles)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    outcome = "unchanged" if report.objects_unchanged else "loaded"
    logger.info(
        "log object processed",
        extra={
            "object_key": key,
            "outcome": outcome,
            "lines_read": report.lines_read,
            "rows_loaded": report.rows_loaded,
            "rows_duplicate": report.rows_duplicate,
            "lines_quarantined": report.lines_quarantined,
        },
    )
    return outcome


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Process one SQS batch and return the ids of the messages that failed."""
    runtime = get_runtime()
    batch = BatchContext(runtime=runtime, user_key=user_key_provider(runtime))
    response = process_partial_response(
        event=event,
        record_handler=lambda record: ingest_record(record, batch),
        processor=processor,
        context=context,
    )

    counts = batch.counts
    failures = len(response.get("batchItemFailures", []))
    for outcome, count in counts.items():
        metrics.add_metric(name=f"LogObjects{outcome.capitalize()}", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="LogObjectsFailed", unit=MetricUnit.Count, value=failures)
    logger.info("batch processed", extra={"outcomes": counts, "failure_count": failures})
    return dict(response)
