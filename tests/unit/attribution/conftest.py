"""Fixtures for attribution tests: a governance configuration and a runner for one period."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from genai_finops.attribution import AttributionResult, BillingPeriod, attribute_period
from genai_finops.config import GovernanceConfig, parse_config
from genai_finops.lake.local import LocalLake


@pytest.fixture
def attribute(lake: LocalLake) -> Callable[..., AttributionResult]:
    """Return a function that attributes one period of the test lake with an optional configuration."""

    def run(period: str = "2026-01", config: dict[str, Any] | None = None) -> AttributionResult:
        governance = parse_config(config) if config is not None else GovernanceConfig()
        return attribute_period(lake, governance, BillingPeriod.parse(period))

    return run
