"""The plan-price comparison: cost per active user and per user against a feature's monthly plan price."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..config import GovernanceConfig
from ..money import MONEY_TYPE, to_money
from ..python_rows import columns_to_table

_PLANS = pa.schema([("feature", pa.string()), ("plan_price", MONEY_TYPE), ("threshold", MONEY_TYPE)])


def _plan_table(config: GovernanceConfig) -> pa.Table:
    plans = config.attribution.plan_prices
    share = config.attribution.plan_outlier_share
    columns: dict[str, list[Any]] = {
        "feature": [plan.feature for plan in plans],
        "plan_price": [to_money(plan.monthly_price) for plan in plans],
        "threshold": [to_money(plan.monthly_price * share) for plan in plans],
    }
    return columns_to_table(columns, _PLANS)


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
    added = columns_to_table(
        {"plan_price": plan_prices, "cost_per_active_user_share_of_plan": shares},
        pa.schema([("plan_price", MONEY_TYPE), ("cost_per_active_user_share_of_plan", pa.float64())]),
    )
    monthly = monthly.append_column("plan_price", added.column("plan_price"))
    return monthly.append_column(
        "cost_per_active_user_share_of_plan", added.column("cost_per_active_user_share_of_plan")
    )


def plan_outliers(user_costs: pa.Table, config: GovernanceConfig) -> pa.Table:
    """Select users whose cost in a feature exceeds the configured share of the feature's plan price."""
    plans = _plan_table(config)
    # Each user's plan by its position in the plan table. pyarrow's Table.join would import pandas.
    plan_index = pc.index_in(user_costs.column("feature"), value_set=plans.column("feature"))
    joined = user_costs.filter(pc.is_valid(plan_index))
    plan_index = plan_index.filter(pc.is_valid(plan_index))
    joined = joined.append_column("plan_price", pc.take(plans.column("plan_price"), plan_index))
    joined = joined.append_column("threshold", pc.take(plans.column("threshold"), plan_index))
    over = joined.filter(pc.greater(joined.column("cost"), joined.column("threshold")))
    shares = pc.divide(pc.cast(over.column("cost"), pa.float64()), pc.cast(over.column("plan_price"), pa.float64()))
    threshold_share = columns_to_table(
        {"threshold_share": [float(config.attribution.plan_outlier_share)] * over.num_rows},
        pa.schema([("threshold_share", pa.float64())]),
    ).column("threshold_share")
    result = pa.table(
        {
            "feature": over.column("feature"),
            "user_key": over.column("user_key"),
            "request_count": over.column("request_count"),
            "cost": over.column("cost"),
            "plan_price": over.column("plan_price"),
            "share_of_plan": shares,
            "threshold_share": threshold_share,
        }
    )
    return result.sort_by([("feature", "ascending"), ("cost", "descending"), ("user_key", "ascending")])
