"""Every packaged SQL file parses as Trino (Athena) and runs on DuckDB after translation.

Each file runs twice: on an empty lake, and on a small lake with bill lines, requests and the
attribution tables of one period. A dialect error in any file fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlglot
from attribution.builders import PROFILE, cost_line, invocation, write_cost_lines, write_invocations
from sqlglot import exp

from genai_finops.attribution import BillingPeriod, attribute_period
from genai_finops.config import GovernanceConfig
from genai_finops.lake.local import LocalLake
from genai_finops.sql import list_queries, load_query, trino_to_duckdb

PERIOD = "2026-01"
WINDOW = ["2026-01-01", "2026-02-01", "2026-01-01 00:00:00", "2026-02-01 00:00:00"]

# Parameters of the attribution files, in placeholder order. Files not listed here get NULL for every
# placeholder, which is enough to check that they translate and run.
PARAMETERS: dict[str, list[Any]] = {
    "attribution_bill_lines": ["cost_net", PERIOD, "AmazonBedrock,AmazonBedrockService", "(Amazon Bedrock Edition)"],
    "attribution_bill_rates": [PERIOD, "2025-12"],
    "attribution_cells": [PERIOD, "0.1"],
    "attribution_group_costs": [PERIOD],
    "attribution_usage_groups": WINDOW,
    "attribution_coverage": [PERIOD, "cost_net"],
    "attribution_price_keys": [PERIOD],
    "attribution_remainder": [PERIOD],
    "genai_cost_total": ["cost_net", PERIOD],
    "model_names_used": [PERIOD, PERIOD],
    "request_costs": [PERIOD, *WINDOW, *WINDOW],
    "request_counts_by_day": WINDOW[:2],
    "unattributed_sources": [PERIOD, 20],
    "unit_costs_daily": [PERIOD],
    "unit_costs_monthly": [PERIOD],
    "user_costs_monthly": [PERIOD],
}


def placeholder_count(sql: str) -> int:
    return len(list(sqlglot.parse_one(sql, read="trino").find_all(exp.Placeholder)))


def parameters(name: str, sql: str) -> list[Any]:
    if name in PARAMETERS:
        return PARAMETERS[name]
    return [None] * placeholder_count(sql)


@pytest.fixture(scope="module")
def fixture_lake(tmp_path_factory: pytest.TempPathFactory) -> LocalLake:
    lake = LocalLake(Path(tmp_path_factory.mktemp("sql")) / "lake")
    write_cost_lines(
        lake,
        PERIOD,
        [
            cost_line("2026-01-05 10:00", "0.30", tokens=100, inference_profile_id=PROFILE, resource_id=PROFILE),
            cost_line(
                "2026-01-05 10:00", "0.50", token_class="output", usage_type="USE1-Claude3.5Sonnet-output-tokens"
            ),
            cost_line("2026-01-05 10:00", "-0.20", line_item_type="Credit", token_class=None, tokens=None),
            cost_line("2026-01-06 00:00", "0.10", hours=1, region="eu-west-1"),
        ],
    )
    write_invocations(
        lake,
        [
            invocation(
                "a",
                "2026-01-05 10:01",
                input_tokens=60,
                output_tokens=5,
                inference_profile_id=PROFILE,
                team="t",
                feature="f",
                environment="prod",
                user_key="u",
            ),
            invocation("b", "2026-01-05 10:02", input_tokens=40, output_tokens=15, user_key="v"),
            invocation("c", "2026-01-07 10:02", input_tokens=40, output_tokens=15, model=None),
        ],
    )
    attribute_period(lake, GovernanceConfig(), BillingPeriod.parse(PERIOD))
    return lake


@pytest.mark.parametrize("name", list_queries())
def test_file_parses_as_trino(name: str) -> None:
    sql = load_query(name)

    statements = sqlglot.parse(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)

    assert len(statements) == 1
    assert trino_to_duckdb(sql)


@pytest.mark.parametrize("name", list_queries())
def test_file_runs_on_empty_lake(name: str, tmp_path: Path) -> None:
    sql = load_query(name)

    result = LocalLake(tmp_path / "empty").query(sql, parameters(name, sql))

    assert result.num_columns > 0


@pytest.mark.parametrize("name", list_queries())
def test_file_runs_on_fixture_lake(name: str, fixture_lake: LocalLake) -> None:
    sql = load_query(name)

    result = fixture_lake.query(sql, parameters(name, sql))

    assert result.num_columns > 0
    if name in PARAMETERS:
        assert result.num_rows > 0, f"{name} returned no rows on the fixture lake"
