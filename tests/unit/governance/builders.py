"""Builders of attribution output rows (request_costs, attribution_remainder, attribution_coverage) and
Credit lines, written straight into a local lake, for the governance tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa

from genai_finops.lake.base import Lake
from genai_finops.tables import ATTRIBUTION_COVERAGE, ATTRIBUTION_REMAINDER, COST_LINES, REQUEST_COSTS

UTC = dt.UTC


@dataclass(frozen=True)
class Requests:
    """A batch of identical requests on one day."""

    day: dt.date
    count: int
    cost_each: Decimal
    team: str | None
    feature: str | None
    environment: str | None = "prod"
    users: int = 1
    state: str = "billed"
    tokens_each: int = 1000


@dataclass(frozen=True)
class Remainder:
    """One remainder row (bill cost no request received)."""

    day: dt.date
    cost: Decimal
    team: str | None
    feature: str | None = None
    environment: str | None = None
    reason: str = "no_matching_requests"
    line_item_type: str = "Usage"


def request_rows(batches: list[Requests]) -> pa.Table:
    """Expand request batches into request_costs rows; users are numbered per team and feature."""
    rows: list[dict[str, Any]] = []
    for batch_index, batch in enumerate(batches):
        for index in range(batch.count):
            timestamp = dt.datetime(batch.day.year, batch.day.month, batch.day.day, 12, tzinfo=UTC)
            row: dict[str, Any] = {name: None for name in REQUEST_COSTS.schema.names}
            billed = batch.state == "billed"
            row.update(
                request_id=f"r-{batch_index}-{index}",
                timestamp=timestamp,
                hour=timestamp,
                day=batch.day,
                account_id="111122223333",
                region="us-east-1",
                model="anthropic.claude-sonnet-4-5-20250929-v1:0",
                model_id="anthropic.claude-sonnet-4-5-20250929-v1:0",
                team=batch.team,
                feature=batch.feature,
                environment=batch.environment,
                user_key=f"u-{batch.team}-{batch.feature}-{index % batch.users}" if batch.users else None,
                input_tokens=batch.tokens_each,
                cache_read_tokens=0,
                cache_write_tokens=0,
                cache_write_1h_tokens=0,
                output_tokens=0,
                estimated_cost=batch.cost_each,
                billed_cost=batch.cost_each if billed else Decimal(0),
                cost=batch.cost_each,
                input_cost=batch.cost_each,
                cache_read_cost=Decimal(0),
                cache_write_cost=Decimal(0),
                output_cost=Decimal(0),
                state=batch.state,
                priced=True,
                matched_cells=1 if billed else 0,
            )
            rows.append(row)
    return pa.Table.from_pylist(rows, schema=REQUEST_COSTS.schema)


def remainder_rows(items: list[Remainder]) -> pa.Table:
    rows = []
    for item in items:
        start = dt.datetime(item.day.year, item.day.month, item.day.day, tzinfo=UTC)
        row: dict[str, Any] = {name: None for name in ATTRIBUTION_REMAINDER.schema.names}
        row.update(
            usage_start=start,
            usage_end=start + dt.timedelta(days=1),
            usage_account_id="111122223333",
            region="us-east-1",
            line_item_type=item.line_item_type,
            product_code="AmazonBedrock",
            team=item.team,
            feature=item.feature,
            environment=item.environment,
            reason=item.reason,
            line_count=1,
            tokens=0.0,
            cost=item.cost,
        )
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=ATTRIBUTION_REMAINDER.schema)


def credit_lines(period: str, amounts: list[Decimal]) -> pa.Table:
    year, month = (int(part) for part in period.split("-"))
    start = dt.datetime(year, month, 1, tzinfo=UTC)
    rows = []
    for amount in amounts:
        row: dict[str, Any] = {name: None for name in COST_LINES.schema.names}
        row.update(
            usage_start=start,
            usage_end=start + dt.timedelta(days=1),
            payer_account_id="111122223333",
            usage_account_id="111122223333",
            line_item_type="Credit",
            product_code="AmazonBedrock",
            cost_unblended=amount,
            cost_net=amount,
            cost_amortized=amount,
            currency="USD",
            tags=[],
            principal_tags=[],
            account_tags=[],
        )
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=COST_LINES.schema)


def write_period(
    lake: Lake,
    period: str,
    requests: list[Requests],
    remainder: list[Remainder] = (),  # type: ignore[assignment]
    credits: list[Decimal] = (),  # type: ignore[assignment]
) -> dict[str, Decimal]:
    """Write one period's attribution tables and Credit lines; return the coverage totals written."""
    partition = {"billing_period": period}
    lake.write_partition("request_costs", partition, request_rows(list(requests)))
    remainder_items = list(remainder)
    credit_items = [
        Remainder(dt.date.fromisoformat(f"{period}-01"), amount, None, reason="credit", line_item_type="Credit")
        for amount in credits
    ]
    lake.write_partition("attribution_remainder", partition, remainder_rows(remainder_items + credit_items))
    lake.write_partition(
        "cost_lines", {"billing_period": period, "export_id": "test"}, credit_lines(period, list(credits))
    )

    billed = sum((b.cost_each * b.count for b in requests if b.state == "billed"), Decimal(0))
    estimated = sum((b.cost_each * b.count for b in requests if b.state == "estimated"), Decimal(0))
    rest = sum((item.cost for item in remainder_items), Decimal(0))
    credit_total = sum(credits, Decimal(0))
    attributed = sum(
        (b.cost_each * b.count for b in requests if b.state == "billed" and b.team and b.feature and b.environment),
        Decimal(0),
    ) + sum((item.cost for item in remainder_items if item.team and item.feature and item.environment), Decimal(0))
    spend = billed + rest
    coverage = {
        "cost_column": "cost_net",
        "total_cost": spend + credit_total,
        "credit_cost": credit_total,
        "spend": spend,
        "billed_request_cost": billed,
        "remainder_cost": rest,
        "estimated_request_cost": estimated,
        "attributed_cost": attributed,
        "attributable_percent": float(100 * attributed / spend) if spend else None,
        "request_count": sum(b.count for b in requests),
        "billed_requests": sum(b.count for b in requests if b.state == "billed"),
        "estimated_requests": sum(b.count for b in requests if b.state == "estimated"),
        "unpriced_requests": 0,
        "diverging_cells": 0,
    }
    lake.write_partition(
        "attribution_coverage", partition, pa.Table.from_pylist([coverage], schema=ATTRIBUTION_COVERAGE.schema)
    )
    return {"spend": spend, "estimated": estimated, "credits": credit_total}


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
