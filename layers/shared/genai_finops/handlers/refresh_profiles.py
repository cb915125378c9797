"""Lambda handler: on a schedule, replace the inference_profiles inventory with what Bedrock lists."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ..errors import FinOpsError
from ..invocations import refresh_profiles
from ..invocations.aws import BedrockProfileSource
from ..observability import logger, metrics, tracer
from .events import ScheduledEvent, parse_event
from .runtime import AwsRuntime, get_runtime


def _bedrock_client(runtime: AwsRuntime) -> Any:
    """Return a Bedrock control-plane client for the function's region."""
    return runtime.session.client("bedrock")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Read the application inference profiles of this function's region and write the inventory."""
    scheduled = parse_event(event, ScheduledEvent)
    runtime = get_runtime()
    region = runtime.session.region_name
    source = BedrockProfileSource(clients=[_bedrock_client(runtime)])
    try:
        count = refresh_profiles(runtime.lake, source, runtime.config)
    except FinOpsError:
        logger.exception("profile refresh failed", extra={"region": region, "event_id": scheduled.id})
        raise
    metrics.add_metric(name="InferenceProfiles", unit=MetricUnit.Count, value=count)
    logger.info("profiles refreshed", extra={"region": region, "profile_count": count})
    return {"region": region, "profile_count": count}
