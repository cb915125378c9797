"""Lambda handler: one billing-export manifest created in S3 -> one delivery loaded into the lake.

EventBridge invokes the function asynchronously with the S3 "Object Created" event of a manifest.
The handler copies the manifest and the files it names to scratch space, finds the delivery there and
ingests it. Ingesting a delivery that is already loaded changes nothing, so a redelivered event is
harmless. Errors are logged and raised again: Lambda retries the event twice, then sends it to the
failed-events queue.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ..adapters.s3_objects import download_delivery
from ..cur import Delivery, DeliveryReport, discover_deliveries, ingest_delivery
from ..errors import FinOpsError, InputError
from ..observability import logger, metrics, tracer
from .events import ObjectCreatedEvent, parse_event
from .runtime import get_runtime, user_key_provider

# Share of the function's memory that DuckDB may use; the rest is left for Arrow buffers.
DUCKDB_MEMORY_FRACTION = 0.6


def _select_delivery(deliveries: list[Delivery], manifest: Path) -> Delivery:
    """Return the delivery described by the downloaded manifest."""
    for delivery in deliveries:
        if delivery.manifest == manifest:
            return delivery
    # A legacy CUR assembly manifest is folded into its period manifest when both were copied.
    if len(deliveries) == 1:
        return deliveries[0]
    raise InputError(f"no delivery found for manifest among {len(deliveries)} deliveries", source=str(manifest))


def _memory_limit(context: LambdaContext | None) -> str | None:
    memory = getattr(context, "memory_limit_in_mb", None)
    if not memory:
        return None
    return f"{int(int(memory) * DUCKDB_MEMORY_FRACTION)}MB"


def ingest_manifest(event: ObjectCreatedEvent, memory_limit: str | None) -> DeliveryReport:
    """Download the delivery a manifest event names and ingest it."""
    runtime = get_runtime()
    work = Path(tempfile.mkdtemp(prefix="export-", dir=runtime.scratch_dir))
    try:
        manifest = download_delivery(runtime.s3, event.bucket, event.key, work)
        delivery = _select_delivery(discover_deliveries([work]), manifest)
        options: dict[str, Any] = {"memory_limit": memory_limit} if memory_limit else {}
        return ingest_delivery(runtime.lake, runtime.config, delivery, user_key=user_key_provider(runtime), **options)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Ingest the billing-export delivery whose manifest was created; return a short summary."""
    created = parse_event(event, ObjectCreatedEvent)
    logger.append_keys(bucket=created.bucket, object_key=created.key, etag=created.etag)
    logger.info("manifest received")
    try:
        report = ingest_manifest(created, _memory_limit(context))
    except FinOpsError:
        logger.exception("delivery ingestion failed")
        metrics.add_metric(name="DeliveriesFailed", unit=MetricUnit.Count, value=1)
        raise

    periods = {period.billing_period: period.status for period in report.periods}
    loaded = sum(1 for status in periods.values() if status == "loaded")
    metrics.add_metric(name="BillingPeriodsLoaded", unit=MetricUnit.Count, value=loaded)
    logger.info("delivery processed", extra={"periods": periods, "period_count": len(periods)})
    return {
        "manifest": f"s3://{created.bucket}/{created.key}",
        "export_id": report.export_id,
        "delivery_id": report.delivery_id,
        "periods": periods,
    }
