"""Builders of small cost_lines and invocations fixtures written straight into a local lake."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pyarrow as pa

from genai_finops.lake.local import LocalLake
from genai_finops.tables import COST_LINES, INVOCATIONS

UTC = dt.UTC
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
ACCOUNT = "012345678901"
REGION = "us-east-1"
PROFILE = "arn:aws:bedrock:us-east-1:012345678901:application-inference-profile/abc123"


def at(text: str) -> dt.datetime:
    """Parse 'YYYY-MM-DD HH:MM' as a UTC datetime."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def cost_line(
    start: str,
    cost: str,
    *,
    hours: int = 1,
    usage_type: str = "USE1-Claude3.5Sonnet-input-tokens",
    model: str | None = "Claude3.5Sonnet",
    token_class: str | None = "input",
    tokens: float | None = 1000.0,
    tier: str | None = "standard",
    route: str | None = "in_region",
    usage_family: str | None = "model-inference",
    line_item_type: str = "Usage",
    product_code: str = "AmazonBedrock",
    account: str = ACCOUNT,
    region: str = REGION,
    **extra: Any,
) -> dict[str, Any]:
    """Return one cost_lines row; every money column gets ``cost`` unless given in ``extra``."""
    begin = at(start)
    row: dict[str, Any] = {name: None for name in COST_LINES.schema.names}
    row.update(
        usage_start=begin,
        usage_end=begin + dt.timedelta(hours=hours),
        payer_account_id=account,
        usage_account_id=account,
        line_item_type=line_item_type,
        billing_entity="AWS",
        product_code=product_code,
        region=region,
        usage_type=usage_type,
        model=model,
        token_class=token_class,
        tokens=tokens,
        tier=tier,
        route=route,
        usage_family=usage_family,
        cost_unblended=Decimal(cost),
        cost_net=Decimal(cost),
        cost_amortized=Decimal(cost),
        currency="USD",
        tags=[],
        principal_tags=[],
        account_tags=[],
    )
    row.update(extra)
    return row


def invocation(
    request_id: str,
    timestamp: str,
    *,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
    model: str | None = SONNET,
    account: str = ACCOUNT,
    region: str = REGION,
    route: str = "in_region",
    **extra: Any,
) -> dict[str, Any]:
    """Return one invocations row."""
    row: dict[str, Any] = {name: None for name in INVOCATIONS.schema.names}
    row.update(
        request_id=request_id,
        timestamp=at(timestamp),
        account_id=account,
        region=region,
        model_id=model,
        model=model,
        route=route,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read_tokens,
        cache_write_tokens=cache_write_tokens,
        cache_write_1h_tokens=cache_write_1h_tokens,
        status="success",
        guardrail_blocked=False,
        request_metadata=[],
        key_sources=[],
    )
    row.update(extra)
    return row


def write_cost_lines(lake: LocalLake, period: str, rows: list[dict[str, Any]], export_id: str = "cur2") -> None:
    """Write rows as the cost_lines partition of one billing period and export."""
    table = pa.Table.from_pylist(rows, schema=COST_LINES.schema)
    lake.write_partition("cost_lines", {"billing_period": period, "export_id": export_id}, table)


def write_invocations(lake: LocalLake, rows: list[dict[str, Any]]) -> None:
    """Write rows into invocations partitions by UTC date."""
    by_date: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_date[row["timestamp"].date().isoformat()].append(row)
    for date, day_rows in by_date.items():
        lake.write_partition("invocations", {"date": date}, pa.Table.from_pylist(day_rows, schema=INVOCATIONS.schema))


def rows_by(table: pa.Table, key: str) -> dict[Any, dict[str, Any]]:
    """Index a table's rows by one column."""
    return {row[key]: row for row in table.to_pylist()}
