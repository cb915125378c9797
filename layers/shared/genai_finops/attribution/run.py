"""Attribute one billing period: allocate the bill to requests, keep the remainder, derive unit costs.

Every step is a Trino SQL file run through the lake. The intermediate tables (usage groups, model
names, bill-line groups, price catalog, bill cells, group costs) are written first because later SQL
reads them. Request costs and
remainder are checked against the bill before they are published. A period whose totals do not
reconcile therefore keeps its previous request costs, remainder and unit costs.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from ..config import GovernanceConfig
from ..errors import ReconciliationError
from ..lake.base import Lake
from ..money import to_money
from ..observability import logger
from ..pricing.catalog import PriceCatalog, bill_rates, load_list_prices, override_prices
from ..pricing.models import load_model_names
from ..sql import load_query
from .periods import BillingPeriod
from .plans import add_plan_columns, plan_outliers
from .slices import stage_request_costs, sum_money


@dataclass(frozen=True)
class AttributionResult:
    """Totals of one attributed billing period, all in the allocated cost column."""

    billing_period: str
    cost_column: str
    bill_total: Decimal
    billed_request_cost: Decimal
    remainder_cost: Decimal
    request_count: int
    billed_requests: int
    estimated_requests: int
    unpriced_requests: int
    cells: int
    allocated_cells: int
    diverging_cells: int
    attributable_percent: float | None
    plan_outliers: int


def _partition(period: BillingPeriod) -> dict[str, str]:
    return {"billing_period": str(period)}


def write_usage_groups(lake: Lake, period: BillingPeriod) -> pa.Table:
    """Group the period's requests by the keys that decide their bill cells and write ``attribution_usage_groups``.

    No other attribution step before request_costs reads invocations row by row, because the model
    names, price keys and bill cells all come from the groups.
    """
    groups = lake.query(load_query("attribution_usage_groups"), period.request_window())
    lake.write_partition("attribution_usage_groups", _partition(period), groups)
    return groups


def write_model_aliases(lake: Lake, config: GovernanceConfig, period: BillingPeriod) -> pa.Table:
    """Map every model name of the period's bill and requests to its model id and write ``model_aliases``."""
    names = lake.query(load_query("model_names_used"), [str(period), str(period)])
    aliases = load_model_names(config.attribution.model_names).alias_table(names.column("name").to_pylist())
    lake.write_partition("model_aliases", _partition(period), aliases)
    return aliases


def write_bill_lines(lake: Lake, config: GovernanceConfig, period: BillingPeriod) -> pa.Table:
    """Group and classify the period's cost lines and write ``attribution_bill_lines``."""
    params = [
        config.attribution.cost_column,
        str(period),
        ",".join(config.genai_scope.product_codes),
        config.genai_scope.marketplace_product_name_suffix,
    ]
    lines = lake.query(load_query("attribution_bill_lines"), params)
    lake.write_partition("attribution_bill_lines", _partition(period), lines)
    return lines


def write_price_catalog(lake: Lake, config: GovernanceConfig, period: BillingPeriod) -> pa.Table:
    """Resolve the price of every model, class, tier, region and route used in the period, per day."""
    names = load_model_names(config.attribution.model_names)
    rates = lake.query(load_query("attribution_bill_rates"), [str(period), str(period.previous())])
    entries = [
        *override_prices(config.attribution.price_overrides, names, config.currency),
        *bill_rates(rates, str(period), config.currency),
        *load_list_prices(),
    ]
    keys = lake.query(load_query("attribution_price_keys"), [str(period)])
    catalog = PriceCatalog(entries, config.currency).daily_table(keys, period.days())
    lake.write_partition("price_catalog", _partition(period), catalog)
    return catalog


def write_cells(lake: Lake, config: GovernanceConfig, period: BillingPeriod) -> pa.Table:
    """Match requests to bill cells, record estimates and divergence, and write ``attribution_cells``."""
    params = [str(period), str(config.attribution.divergence_tolerance_share)]
    cells = lake.query(load_query("attribution_cells"), params)
    lake.write_partition("attribution_cells", _partition(period), cells)
    return cells


def write_group_costs(lake: Lake, period: BillingPeriod) -> pa.Table:
    """Allocate each bill cell to its matched usage groups and write ``attribution_group_costs``."""
    group_costs = lake.query(load_query("attribution_group_costs"), [str(period)])
    lake.write_partition("attribution_group_costs", _partition(period), group_costs)
    return group_costs


def reconcile(
    period: BillingPeriod, bill_total: Decimal, billed_request_cost: Decimal, remainder_cost: Decimal
) -> None:
    """Raise ReconciliationError unless billed request costs plus remainder equal the bill exactly.

    The check is at the money quantum (1e-10), which is stricter than the cent: allocation is exact,
    so any difference at all is a defect.
    """
    billed = billed_request_cost
    rest = remainder_cost
    if billed + rest != bill_total:
        raise ReconciliationError(
            f"billing period {period}: billed request costs {billed} + remainder {rest} = {billed + rest}, "
            f"but the GenAI total of cost_lines is {bill_total} (difference {billed + rest - bill_total}); "
            "nothing was published for the period"
        )


# Requests per request_costs query. One request_costs row takes a few hundred bytes in Arrow, and two
# slices are in memory at a time (one written while the next is computed), so this size needs about
# 1.5 GB besides the query engine's own memory. On the 10M-request benchmark (2 cores), 2M-request
# slices took 10.6 s against 12.2 s for 1M and 11.1 s for 4M.
DEFAULT_SLICE_REQUESTS = 2_000_000


def attribute_period(
    lake: Lake,
    config: GovernanceConfig,
    period: BillingPeriod,
    *,
    slice_requests: int = DEFAULT_SLICE_REQUESTS,
) -> AttributionResult:
    """Attribute one billing period and replace all of its attribution tables.

    ``slice_requests`` bounds how many requests one request_costs query returns. Raises
    ReconciliationError, before publishing request costs, remainder or unit costs, when billed request
    costs plus remainder differ from the GenAI total of ``cost_lines``.
    """
    partition = _partition(period)
    cost_column = config.attribution.cost_column
    logger.info("attribution started", extra={"billing_period": str(period), "cost_column": cost_column})

    write_usage_groups(lake, period)
    write_model_aliases(lake, config, period)
    write_bill_lines(lake, config, period)
    write_price_catalog(lake, config, period)
    cells = write_cells(lake, config, period)
    write_group_costs(lake, period)

    folder = lake.staging_dir()
    try:
        staged = stage_request_costs(lake, period, folder, slice_requests)
        remainder = lake.query(load_query("attribution_remainder"), [str(period)])
        total = lake.query(load_query("genai_cost_total"), [cost_column, str(period)])
        bill_total = to_money(total.column("total_cost")[0].as_py())
        reconcile(period, bill_total, staged.billed_cost, sum_money(remainder, "cost"))
        lake.publish_partition("request_costs", partition, staged.files)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lake.write_partition("attribution_remainder", partition, remainder)

    daily = lake.query(load_query("unit_costs_daily"), [str(period)])
    lake.write_partition("unit_costs_daily", partition, daily)
    monthly = add_plan_columns(lake.query(load_query("unit_costs_monthly"), [str(period)]), config)
    lake.write_partition("unit_costs_monthly", partition, monthly)

    coverage = lake.query(load_query("attribution_coverage"), [str(period), cost_column])
    lake.write_partition("attribution_coverage", partition, coverage)
    limit = config.attribution.unattributed_sources_limit
    sources = lake.query(load_query("unattributed_sources"), [str(period), limit])
    lake.write_partition("unattributed_sources", partition, sources)
    outliers = plan_outliers(lake.query(load_query("user_costs_monthly"), [str(period)]), config)
    lake.write_partition("plan_cost_outliers", partition, outliers)

    reasons = cells.column("reason") if cells.num_rows else pa.nulls(0, pa.string())
    result = AttributionResult(
        billing_period=str(period),
        cost_column=cost_column,
        bill_total=bill_total,
        billed_request_cost=staged.billed_cost,
        remainder_cost=sum_money(remainder, "cost"),
        request_count=staged.request_count,
        billed_requests=staged.billed_requests,
        estimated_requests=staged.estimated_requests,
        unpriced_requests=staged.unpriced_requests,
        cells=cells.num_rows,
        allocated_cells=int(pc.sum(pc.is_null(reasons)).as_py() or 0),
        diverging_cells=int(pc.sum(cells.column("diverges")).as_py() or 0) if cells.num_rows else 0,
        attributable_percent=coverage.column("attributable_percent")[0].as_py(),
        plan_outliers=outliers.num_rows,
    )
    logger.info(
        "attribution finished",
        extra={
            "billing_period": str(period),
            "request_count": result.request_count,
            "bill_total": str(result.bill_total),
            "remainder_cost": str(result.remainder_cost),
        },
    )
    return result


def periods_with_data(lake: Lake) -> list[BillingPeriod]:
    """List the billing periods that have cost lines or invocation partitions, oldest first."""
    periods = {BillingPeriod.parse(part["billing_period"]) for part in lake.partitions("cost_lines")}
    for part in lake.partitions("invocations"):
        day = dt.date.fromisoformat(part["date"])
        periods.add(BillingPeriod(day.year, day.month))
    return sorted(periods)
