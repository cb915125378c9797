"""Lambda handler of the hourly and daily anomaly schedules.

The EventBridge Scheduler input is ``{"mode": "hourly"}`` or ``{"mode": "daily"}``. An optional ``"at"``
(ISO 8601) evaluates another time, and without it the run evaluates the hour (or day) before now.
The runtime (lake, configuration, router with the alerts topic) is the one the governance functions
build, so alerts reach the same topic with the same attributes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import FinOpsError, InputError
from ..governance.lambda_handlers import governance_runtime
from ..observability import logger
from .run import detect_daily, detect_hourly


class DetectEvent(BaseModel):
    """The schedule's input."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    mode: Literal["hourly", "daily"] = "hourly"
    at: dt.datetime | None = None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run one hourly or daily detection and return its summary."""
    try:
        request = DetectEvent.model_validate(event if isinstance(event, dict) else {})
    except ValidationError as error:
        raise InputError(f"invalid detect_anomalies event: {error}") from error
    at = request.at or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    runtime = governance_runtime()
    logger.info("anomaly detection started", extra={"mode": request.mode, "at": at.isoformat()})
    try:
        if request.mode == "daily":
            report = detect_daily(runtime.lake, runtime.config, at, runtime.router)
        else:
            report = detect_hourly(runtime.lake, runtime.config, at, runtime.router)
    except FinOpsError:
        logger.exception("anomaly detection failed", extra={"mode": request.mode, "at": at.isoformat()})
        raise
    return report.as_dict()
