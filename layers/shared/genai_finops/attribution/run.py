"""Attribute one billing period: allocate the bill to requests, keep the remainder, derive unit costs.

Every step is a Trino SQL file run through the lake. The intermediate tables (model names, bill-line
groups, price catalog, bill cells) are written first because later SQL reads them. Request costs and
remainder are checked against the bill before they are published. A period whose totals do not
reconcile therefore keeps its previous request costs, remainder and unit costs.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..config import GovernanceConfig
from ..errors import ReconciliationError
from ..lake.base import Lake
from ..money import MONEY_TYPE, to_money
from ..observability import logger
from ..pricing.catalog import PriceCatalog, bill_rates, load_list_prices, override_prices
from ..pricing.models import load_model_names
from ..sql import load_query
from ..tables import REQUEST_COSTS
from .periods import BillingPeriod, day_window


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


def _sum_money(table: pa.Table, column: str) -> Decimal:
    if table.num_rows == 0:
        return to_money(0)
    total = pc.sum(table.column(column)).as_py()
    return to_money(total if total is not None else 0)


def write_model_aliases(lake: Lake, config: GovernanceConfig, period: BillingPeriod) -> pa.Table:
    """Map every model name of the period's bill and requests to its model id and write ``model_aliases``."""
    names = lake.query(load_query("model_names_used"), [str(period), period.start.isoformat(), period.end.isoformat()])
    aliases = load_model_names(config.attribution.model_names).alias_table(names.column("name").to_pylist())
    lake.write_partition("model_aliases", _partition(period), aliases)
    return aliases


def write_bill_lines(lake: Lake, config: GovernanceConfig, period: BillingPeriod) -> pa.Table:
    """Group and classify the period's cost lines and write ``attribution_bill_lines``."""
    params = [
        config.attribution.cost_column,
        str(period),
        list(config.genai_scope.product_codes),
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
    keys = lake.query(load_query("attribution_price_keys"), [str(period), *period.request_window()])
    catalog = PriceCatalog(entries, config.currency).daily_table(keys, period.days())
    lake.write_partition("price_catalog", _partition(period), catalog)
    return catalog


def write_cells(lake: Lake, config: GovernanceConfig, period: BillingPeriod) -> pa.Table:
    """Match requests to bill cells, record estimates and divergence, and write ``attribution_cells``."""
    params = [str(period), *period.request_window(), str(config.attribution.divergence_tolerance_share)]
    cells = lake.query(load_query("attribution_cells"), params)
    lake.write_partition("attribution_cells", _partition(period), cells)
    return cells


@dataclass
class StagedRequestCosts:
    """Parquet files of one period's ``request_costs``, written slice by slice, and their totals."""

    files: list[Path] = field(default_factory=list)
    billed_cost: Decimal = field(default_factory=lambda: to_money(0))
    request_count: int = 0
    billed_requests: int = 0
    estimated_requests: int = 0
    unpriced_requests: int = 0

    def add(self, slice_costs: pa.Table, folder: Path) -> None:
        """Write one slice as a Parquet file in ``folder`` and add its totals."""
        if slice_costs.num_rows == 0:
            return
        path = folder / f"part-{len(self.files):05d}.parquet"
        schema = REQUEST_COSTS.schema
        pq.write_table(slice_costs.select(schema.names).cast(schema), path, compression="zstd")
        self.files.append(path)
        self.billed_cost += _sum_money(slice_costs, "billed_cost")
        self.request_count += slice_costs.num_rows
        states = slice_costs.column("state")
        self.billed_requests += int(pc.sum(pc.equal(states, "billed")).as_py() or 0)
        self.estimated_requests += int(pc.sum(pc.equal(states, "estimated")).as_py() or 0)
        self.unpriced_requests += int(pc.sum(pc.invert(slice_costs.column("priced"))).as_py() or 0)


def request_slices(lake: Lake, period: BillingPeriod, cells: pa.Table, slice_requests: int) -> list[list[str]]:
    """Cut the period into runs of whole UTC days holding at most ``slice_requests`` requests each.

    Cells of hourly or daily bills never span two days, so the requests of one run of days can be
    allocated on their own. A day with more requests than the limit is a slice by itself. A period with
    a monthly bill line is one slice, because its cells span the whole month.
    """
    if cells.num_rows > 0 and "month" in set(cells.column("grain").to_pylist()):
        return [period.request_window()]
    counts = lake.query(load_query("request_counts_by_day"), period.request_window()[:2])
    slices: list[list[str]] = []
    first: dt.date | None = None
    last = period.start
    size = 0
    for row in counts.to_pylist():
        day = dt.date.fromisoformat(row["date"])
        if first is not None and size + row["request_count"] > slice_requests:
            slices.append(day_window(first, last + dt.timedelta(days=1)))
            first, size = None, 0
        if first is None:
            first = day
        last = day
        size += row["request_count"]
    if first is not None:
        slices.append(day_window(first, last + dt.timedelta(days=1)))
    return slices


def stage_request_costs(
    lake: Lake, period: BillingPeriod, cells: pa.Table, folder: Path, slice_requests: int
) -> StagedRequestCosts:
    """Compute ``request_costs`` slice by slice into Parquet files under ``folder``."""
    staged = StagedRequestCosts()
    sql = load_query("request_costs")
    for window in request_slices(lake, period, cells, slice_requests):
        staged.add(lake.query(sql, [str(period), *window]), folder)
    return staged


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


def _plan_table(config: GovernanceConfig) -> pa.Table:
    plans = config.attribution.plan_prices
    share = config.attribution.plan_outlier_share
    return pa.table(
        {
            "feature": pa.array([plan.feature for plan in plans], pa.string()),
            "plan_price": pa.array([to_money(plan.monthly_price) for plan in plans], MONEY_TYPE),
            "threshold": pa.array([to_money(plan.monthly_price * share) for plan in plans], MONEY_TYPE),
        }
    )


def add_plan_columns(monthly: pa.Table, config: GovernanceConfig) -> pa.Table:
    """Add each group's plan price and cost per active user as a share of it (NULL without a plan)."""
    prices = {plan.feature: to_money(plan.monthly_price) for plan in config.attribution.plan_prices}
    features = monthly.column("feature").to_pylist()
    per_user = monthly.column("cost_per_active_user").to_pylist()
    plan_prices = [prices.get(feature) if feature is not None else None for feature in features]
    shares = [
        float(cost / price) if cost is not None and price is not None else None
        for cost, price in zip(per_user, plan_prices, strict=True)
    ]
    monthly = monthly.append_column("plan_price", pa.array(plan_prices, MONEY_TYPE))
    return monthly.append_column("cost_per_active_user_share_of_plan", pa.array(shares, pa.float64()))


def plan_outliers(user_costs: pa.Table, config: GovernanceConfig) -> pa.Table:
    """Select users whose cost in a feature exceeds the configured share of the feature's plan price."""
    plans = _plan_table(config)
    joined = user_costs.join(plans, keys="feature", join_type="inner")
    over = joined.filter(pc.greater(joined.column("cost"), joined.column("threshold")))
    shares = pc.divide(pc.cast(over.column("cost"), pa.float64()), pc.cast(over.column("plan_price"), pa.float64()))
    threshold_share = float(config.attribution.plan_outlier_share)
    result = pa.table(
        {
            "feature": over.column("feature"),
            "user_key": over.column("user_key"),
            "request_count": over.column("request_count"),
            "cost": over.column("cost"),
            "plan_price": over.column("plan_price"),
            "share_of_plan": shares,
            "threshold_share": pa.array([threshold_share] * over.num_rows, pa.float64()),
        }
    )
    return result.sort_by([("feature", "ascending"), ("cost", "descending"), ("user_key", "ascending")])


# Requests per request_costs query. One request_costs row takes a few hundred bytes in Arrow, so a
# slice of this size needs a few hundred MB besides the query engine's own memory.
DEFAULT_SLICE_REQUESTS = 1_000_000


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

    write_model_aliases(lake, config, period)
    write_bill_lines(lake, config, period)
    write_price_catalog(lake, config, period)
    cells = write_cells(lake, config, period)

    folder = lake.staging_dir()
    try:
        staged = stage_request_costs(lake, period, cells, folder, slice_requests)
        remainder = lake.query(load_query("attribution_remainder"), [str(period)])
        total = lake.query(load_query("genai_cost_total"), [cost_column, str(period)])
        bill_total = to_money(total.column("total_cost")[0].as_py())
        reconcile(period, bill_total, staged.billed_cost, _sum_money(remainder, "cost"))
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

    reasons = cells.column("reason") if cells.num_rows else pa.array([], pa.string())
    result = AttributionResult(
        billing_period=str(period),
        cost_column=cost_column,
        bill_total=bill_total,
        billed_request_cost=staged.billed_cost,
        remainder_cost=_sum_money(remainder, "cost"),
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
