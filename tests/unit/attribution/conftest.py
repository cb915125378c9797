"""Fixtures for attribution tests: a governance configuration and a runner for one period."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import genai_finops.attribution.run as run_module
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


@pytest.fixture
def skewed_bill_total(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the bill total one money quantum larger than the sum of the cost lines.

    Allocation conserves every cell exactly, so a mismatch only comes from a defect (matching rules
    that differ between two SQL files, a lost usage group). The skew simulates such a defect.
    """
    original = run_module.load_query

    def load(name: str) -> str:
        sql = original(name)
        if name == "genai_cost_total":
            return sql.replace("AS DECIMAL(38, 10)) AS total_cost", "AS DECIMAL(38, 10)) + 0.0000000001 AS total_cost")
        return sql

    monkeypatch.setattr(run_module, "load_query", load)
