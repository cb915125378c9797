"""Lambda handlers of the monthly state machine's steps and the daily budget check.

Each handler calls one step function, which validates its input, and returns the step's summary. An
error is logged and raised again, so that Step Functions receives its type (for Retry and Catch) and
Lambda retries the scheduled budget check.

With ``GENAI_FINOPS_RUNTIME=aws`` the lake is S3, Glue and Athena and the configuration comes from S3;
with ``local`` (the moto integration test) the lake is a folder. Messages go to SNS when
``GENAI_FINOPS_ALERTS_TOPIC_ARN`` is set, and cap enforcement uses IAM.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import boto3

from ..config import load_config
from ..errors import FinOpsError
from ..lake.local import LocalLake
from ..observability import logger
from ..settings import Settings
from .enforcement import IamEnforcer
from .routing import Router, SnsPublisher
from .steps import (
    GovernanceRuntime,
    attribute_with_package,
    budgets,
    daily_budgets,
    forecast,
    prepare_run,
    publish,
    record_run,
    refresh_attribution,
    showback,
)

StepFunction = Callable[[dict[str, Any], GovernanceRuntime], dict[str, Any]]


@lru_cache(maxsize=1)
def governance_runtime() -> GovernanceRuntime:
    """Build this container's runtime from the environment on the first call."""
    settings = Settings()
    if settings.runtime == "aws":
        from ..handlers.runtime import get_runtime

        base = get_runtime()
        lake: Any = base.lake
        config = base.config
        session = base.session
    else:
        lake = LocalLake(settings.lake_dir)
        config = load_config(settings.config_file)
        session = boto3.Session(region_name=settings.region) if settings.region else boto3.Session()
    publisher = SnsPublisher(session) if settings.alerts_topic_arn else None
    router = Router(lake, config, publisher=publisher, default_topic_arn=settings.alerts_topic_arn)
    return GovernanceRuntime(
        lake=lake, config=config, router=router, enforcer=IamEnforcer(session), attribute=attribute_with_package
    )


def reset_governance_runtime() -> None:
    """Forget the cached runtime so that the next invocation reads the environment again (tests)."""
    governance_runtime.cache_clear()


def _run(name: str, step: StepFunction, event: dict[str, Any]) -> dict[str, Any]:
    period = event.get("billing_period") if isinstance(event, dict) else None
    logger.info("governance step started", extra={"step": name, "billing_period": period})
    try:
        result = step(event, governance_runtime())
    except FinOpsError:
        logger.exception("governance step failed", extra={"step": name, "billing_period": period})
        raise
    logger.info("governance step finished", extra={"step": name, "billing_period": period})
    return result


def prepare_run_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _run("PrepareRun", prepare_run, event)


def refresh_attribution_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _run("RefreshAttribution", refresh_attribution, event)


def forecast_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _run("Forecast", forecast, event)


def showback_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _run("Showback", showback, event)


def budgets_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Serve both the Budgets step (event with billing_period) and the daily schedule (optional date)."""
    if isinstance(event, dict) and "billing_period" in event:
        return _run("Budgets", budgets, event)
    return _run("DailyBudgets", daily_budgets, event if isinstance(event, dict) else {})


def publish_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _run("Publish", publish, event)


def record_run_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _run("RecordRun", record_run, event)
