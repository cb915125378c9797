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
from aws_lambda_powertools.utilities.typing import LambdaContext

from ..adapters.s3_objects import download_object
from ..invocations import LogObject, ProfileResolver, ingest_log_objects, is_log_object_key
from ..invocations.aws import SecretsManagerUserKey
from ..invocations.objects import classify_key
from ..invocations.user_key import UserKeyProvider
from ..observability import logger, metrics, tracer
from .events import ObjectCreatedQueueRecord
from .runtime import AwsRuntime, get_runtime

processor = BatchProcessor(event_type=EventType.SQS, model=ObjectCreatedQueueRecord)


@dataclass
class _BatchState:
    """State shared by the records of one batch; the profile inventory is read once per batch, not per object."""

    runtime: AwsRuntime
    user_key: UserKeyProvider
    profiles: ProfileResolver | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def resolver(self) -> ProfileResolver:
        if self.profiles is None:
            self.profiles = ProfileResolver.from_lake(self.runtime.lake)
        return self.profiles


_user_keys: dict[str, SecretsManagerUserKey] = {}
_state: _BatchState | None = None


def _user_key(runtime: AwsRuntime) -> SecretsManagerUserKey:
    """Return this container's user-key provider; it fetches the secret once and keeps the key."""
    secret = runtime.settings.user_key_secret_arn
    if not secret:
        from ..errors import ConfigError

        raise ConfigError("GENAI_FINOPS_USER_KEY_SECRET_ARN is not set; it names the user-key HMAC secret")
    if secret not in _user_keys:
        _user_keys[secret] = SecretsManagerUserKey(secret, client=runtime.session.client("secretsmanager"))
    return _user_keys[secret]


def ingest_record(record: ObjectCreatedQueueRecord) -> str:
    """Ingest the log object one queue message names; return what happened to it."""
    assert _state is not None, "ingest_record runs only inside lambda_handler"
    created = record.body
    if not is_log_object_key(created.key):
        logger.info("object skipped", extra={"object_key": created.key, "reason": classify_key(created.key)})
        return "skipped"

    runtime = _state.runtime
    work = Path(tempfile.mkdtemp(prefix="logs-", dir=runtime.scratch_dir))
    try:
        downloaded = download_object(runtime.s3, created.bucket, created.key, work)
        log_object = LogObject(key=downloaded.key, etag=downloaded.etag or created.etag, path=downloaded.path)
        report = ingest_log_objects(
            runtime.lake, runtime.config, [log_object], _state.user_key, profiles=_state.resolver()
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    outcome = "unchanged" if report.objects_unchanged else "loaded"
    logger.info(
        "log object processed",
        extra={
            "object_key": created.key,
            "outcome": outcome,
            "lines_read": report.lines_read,
            "rows_loaded": report.rows_loaded,
            "rows_duplicate": report.rows_duplicate,
            "lines_quarantined": report.lines_quarantined,
        },
    )
    return outcome


def _record_handler(record: ObjectCreatedQueueRecord) -> str:
    assert _state is not None
    try:
        outcome = ingest_record(record)
    except Exception:
        # Logged here with the key, then raised again so that the batch processor reports the item.
        logger.exception("log object failed", extra={"object_key": record.body.key, "message_id": record.messageId})
        raise
    _state.counts[outcome] = _state.counts.get(outcome, 0) + 1
    return outcome


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Process one SQS batch and return the ids of the messages that failed."""
    global _state
    runtime = get_runtime()
    _state = _BatchState(runtime=runtime, user_key=_user_key(runtime))
    try:
        response = process_partial_response(
            event=event, record_handler=_record_handler, processor=processor, context=context
        )
    finally:
        counts, _state = _state.counts, None

    failures = len(response.get("batchItemFailures", []))
    for outcome, count in counts.items():
        metrics.add_metric(name=f"LogObjects{outcome.capitalize()}", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="LogObjectsFailed", unit=MetricUnit.Count, value=failures)
    logger.info("batch processed", extra={"outcomes": counts, "failure_count": failures})
    return dict(response)
