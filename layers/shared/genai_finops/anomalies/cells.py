"""Read usage cells from the lake: hourly estimated cost from invocation logs, daily billed cost from the bill."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from ..config import GovernanceConfig
from ..lake.base import Lake
from ..money import MONEY_TYPE, to_money
from ..observability import logger
from ..pricing.catalog import STANDARD_TIER, PriceCatalog, load_list_prices, override_prices
from ..pricing.models import load_model_names
from ..sql import load_query
from .series import CELL_SCHEMA, COST_METRICS, COUNT_METRICS

MILLION = Decimal(1_000_000)
_PRICE_COLUMNS = {
    "input_cost": (("input_tokens", "input"),),
    "cache_read_cost": (("cache_read_tokens", "cache_read"),),
    "cache_write_cost": (("cache_write_5m_tokens", "cache_write"), ("cache_write_1h_tokens", "cache_write_1h")),
    "output_cost": (("output_tokens", "output"),),
}


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def billing_periods(start: dt.datetime, end: dt.datetime) -> list[str]:
    """Return the YYYY-MM periods that [start, end) touches."""
    periods = []
    month = dt.datetime(start.year, start.month, 1, tzinfo=dt.UTC)
    while month < end:
        periods.append(f"{month.year:04d}-{month.month:02d}")
        month = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
    return periods


def price_unpriced(rows: pa.Table, config: GovernanceConfig) -> tuple[pa.Table, int]:
    """Price aggregated rows that the price catalog did not cover, from overrides and shipped list prices.

    Returns the rows with their class costs filled in where a price exists and the number of requests that
    stay unpriced (their cost is left out, never counted as zero, and reported).
    """
    if rows.num_rows == 0:
        return rows, 0
    names = load_model_names(config.attribution.model_names)
    catalog = PriceCatalog(
        [*override_prices(config.attribution.price_overrides, names, config.currency), *load_list_prices()],
        config.currency,
    )
    records = rows.to_pylist()
    unpriced_requests = 0
    for record in records:
        model_id, _ = names.resolve(record["model"])
        day = record["hour"].date()
        region, route = record["region"] or "*", record["route"] or "*"
        record["cache_write_5m_tokens"] = max(record["cache_write_tokens"] - record["cache_write_1h_tokens"], 0)
        complete = True
        for cost_column, parts in _PRICE_COLUMNS.items():
            total = Decimal(0)
            for token_column, token_class in parts:
                tokens = record[token_column]
                if not tokens:
                    continue
                entry = catalog.resolve(model_id, token_class, STANDARD_TIER, region, route, day) if model_id else None
                if entry is None:
                    complete = False
                    break
                total += to_money(Decimal(tokens) * entry.price_per_million / MILLION)
            record[cost_column] = total if complete else None
        if not complete:
            unpriced_requests += record["requests"]
            for cost_column in _PRICE_COLUMNS:
                record[cost_column] = None
    return pa.Table.from_pylist(records), unpriced_requests


def _to_cells(table: pa.Table) -> pa.Table:
    arrays = []
    for schema_field in CELL_SCHEMA:
        if schema_field.name == "cost":
            continue
        column = table.column(schema_field.name) if schema_field.name in table.column_names else None
        if column is None:
            arrays.append(pa.nulls(table.num_rows, schema_field.type))
        else:
            arrays.append(pc.cast(column, schema_field.type))
    names = [name for name in CELL_SCHEMA.names if name != "cost"]
    cells = pa.Table.from_arrays(arrays, names=names)
    # Added in 256-bit decimals because Arrow widens the precision of a sum past 38 digits.
    wide = pa.decimal256(60, 10)
    total = pc.cast(pa.array([Decimal(0)] * cells.num_rows, MONEY_TYPE), wide)
    for name in COST_METRICS:
        if name != "cost":
            total = pc.cast(pc.add(total, pc.cast(pc.fill_null(cells.column(name), Decimal(0)), wide)), wide)
    total = pc.cast(total, MONEY_TYPE)
    for name in COUNT_METRICS:
        index = cells.schema.get_field_index(name)
        cells = cells.set_column(index, name, pc.fill_null(cells.column(name), 0))
    # Billed rows carry their cost without a split by token class.
    if "cost" in table.column_names:
        total = pc.fill_null(pc.cast(table.column("cost"), MONEY_TYPE), Decimal(0))
    cells = cells.append_column("cost", total)
    return cells.select(CELL_SCHEMA.names).cast(CELL_SCHEMA)


def load_hourly_cells(
    lake: Lake, config: GovernanceConfig, start: dt.datetime, end: dt.datetime
) -> tuple[pa.Table, int]:
    """Return the hourly usage cells of [start, end) from invocation logs and the count of unpriced requests."""
    params = [
        start.date().isoformat(),
        (end.date() + dt.timedelta(days=1)).isoformat(),
        _timestamp(start),
        _timestamp(end),
    ]
    rows = lake.query(load_query("anomaly_hourly_usage"), params)
    if rows.num_rows == 0:
        return CELL_SCHEMA.empty_table(), 0
    priced = rows.filter(pc.equal(rows.column("priced"), True))
    missing = rows.filter(pc.invert(pc.equal(rows.column("priced"), True)))
    fallback, unpriced = price_unpriced(missing, config)
    if unpriced:
        logger.warning("requests without a price left out of anomaly detection", extra={"request_count": unpriced})
    tables = [_to_cells(priced)]
    if fallback.num_rows:
        tables.append(_to_cells(fallback))
    return pa.concat_tables(tables), unpriced


def load_daily_billed_cells(lake: Lake, config: GovernanceConfig, start: dt.date, end: dt.date) -> pa.Table:
    """Return daily billed cost cells of the days [start, end) from cost_lines (credits and refunds left out)."""
    start_time = dt.datetime.combine(start, dt.time(), dt.UTC)
    end_time = dt.datetime.combine(end, dt.time(), dt.UTC)
    periods = billing_periods(start_time, end_time)
    if not periods:
        return CELL_SCHEMA.empty_table()
    params = [config.attribution.cost_column, periods[0], periods[-1], _timestamp(start_time), _timestamp(end_time)]
    rows = lake.query(load_query("anomaly_daily_billed"), params)
    return _to_cells(rows) if rows.num_rows else CELL_SCHEMA.empty_table()


def bill_through(lake: Lake, periods: list[str]) -> dt.datetime | None:
    """Return the end of the latest usage interval the bill covers in the periods, or None without lines."""
    if not periods:
        return None
    result = lake.query(load_query("anomaly_bill_reach"), [periods[0], periods[-1]])
    value = result.column("bill_through")[0].as_py() if result.num_rows else None
    if value is None:
        return None
    moment: dt.datetime = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return moment
