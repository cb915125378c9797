"""The plan-price comparison: cost per active user and per user against a feature's monthly plan price."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..config import GovernanceConfig
from ..money import MONEY_TYPE, to_money


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
