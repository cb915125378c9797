"""Bottom-up cost forecast per feature, and its accuracy once actuals exist.

For each team and feature with priced requests, monthly cost is the product of three terms, each
projected on its own from the last ``forecast.history_months`` months:

    cost = cost per request x requests per active user x active users

Active users follow ``forecast.user_growth`` for the feature (or "*") when given, else their own trend.
Requests per active user follow their trend. Cost per request is the current month's typical value, the
median of its daily cost per request. An incident of a day or two (a load test on a frontier model, say)
therefore does not set the price of the next quarter. It stays at that value in the base scenario and
is lowered by the configured levers in the optimized scenario. The stress scenario
multiplies volume by ``forecast.stress_volume_multiplier``.

A trend is the geometric mean of month-over-month ratios, clamped to [-50%, +100%] a month so that one
launch month does not explode the projection. Cost that no request received (remainder) is projected flat
at its current month, per team and feature. The stress scenario multiplies it like volume, because most
of it is usage whose requests were not logged (a region with logging off, for example).

The prediction interval is cost x (1 +/- z x e x sqrt(months ahead)). The relative error e is the mean
absolute percentage error of earlier base forecasts of the feature (from ``forecast_accuracy``). Without
those, it is the month-to-month variation of the feature's typical monthly cost (requests x typical cost
per request, at least three months), and without that, ``forecast.default_relative_error``.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ..config import GovernanceConfig
from ..lake.base import Lake
from ..money import QUANTUM, split_by_weights, to_money
from ..sql import load_query
from ..tables import FORECAST_ACCURACY, FORECASTS
from .periods import add_months, months_between, period_days

SCENARIOS = ("base", "optimized", "stress")
# Two-sided standard normal quantiles for the supported interval levels.
Z_SCORES = {Decimal("0.8"): 1.2816, Decimal("0.9"): 1.6449, Decimal("0.95"): 1.9600}
MIN_MONTHLY_GROWTH = -0.5
MAX_MONTHLY_GROWTH = 1.0

FeatureKey = tuple[str | None, str | None]


@dataclass(frozen=True)
class FeatureMonth:
    """Actuals of one team and feature in one month."""

    requests: int
    active_users: int
    cost: Decimal


def trend_growth(values: list[float]) -> float:
    """Return the clamped geometric-mean month-over-month growth of a series (0 with fewer than two points)."""
    ratios = [later / earlier for earlier, later in itertools.pairwise(values) if earlier > 0 and later > 0]
    if not ratios:
        return 0.0
    growth = math.exp(sum(math.log(ratio) for ratio in ratios) / len(ratios)) - 1.0
    return min(max(growth, MIN_MONTHLY_GROWTH), MAX_MONTHLY_GROWTH)


def history_relative_error(costs: list[float]) -> float | None:
    """Return the standard deviation of month-over-month relative changes, or None with under three months."""
    changes = [later / earlier - 1.0 for earlier, later in itertools.pairwise(costs) if earlier > 0]
    if len(changes) < 2:
        return None
    return statistics.stdev(changes)


def lever_reduction(config: GovernanceConfig, feature: str | None) -> Decimal:
    """Return the share of cost per request the configured levers remove for a feature (at most 1)."""
    reduction = sum(
        (lever.share_of_requests * lever.saving for lever in config.forecast.levers if lever.feature in ("*", feature)),
        Decimal(0),
    )
    return min(reduction, Decimal(1))


def _user_growth(config: GovernanceConfig, feature: str | None) -> float | None:
    growth = config.forecast.user_growth
    if feature is not None and feature in growth:
        return float(growth[feature])
    if "*" in growth:
        return float(growth["*"])
    return None


def _load_history(lake: Lake, period: str, months: int) -> tuple[dict[FeatureKey, dict[str, FeatureMonth]], list[str]]:
    first = add_months(period, -(months - 1))
    history: dict[FeatureKey, dict[str, FeatureMonth]] = defaultdict(dict)
    for row in lake.query(load_query("governance_feature_months"), [first, period]).to_pylist():
        history[(row["team"], row["feature"])][row["billing_period"]] = FeatureMonth(
            int(row["requests"]), int(row["active_users"]), to_money(row["cost"])
        )
    periods = [add_months(first, offset) for offset in range(months)]
    return history, periods


def _typical_costs_per_request(lake: Lake, period: str) -> dict[FeatureKey, Decimal]:
    """Return each feature's median daily cost per priced request in the period."""
    daily: dict[FeatureKey, list[Decimal]] = defaultdict(list)
    for row in lake.query(load_query("governance_feature_days"), [period]).to_pylist():
        if row["requests"]:
            daily[(row["team"], row["feature"])].append(Decimal(row["cost"]) / row["requests"])
    return {key: statistics.median(values) for key, values in daily.items()}


def _day_weights(lake: Lake, period: str) -> dict[FeatureKey, list[Decimal]]:
    """Return each feature's mean cost per weekday (Monday first) in the period."""
    sums: dict[FeatureKey, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 7)
    counts = [0] * 7
    for calendar_day in period_days(period):
        counts[calendar_day.weekday()] += 1
    for row in lake.query(load_query("governance_feature_days"), [period]).to_pylist():
        day: date = row["day"]
        sums[(row["team"], row["feature"])][day.weekday()] += Decimal(row["cost"])
    return {key: [total / counts[index] for index, total in enumerate(values)] for key, values in sums.items()}


def _relative_errors(lake: Lake, period: str) -> dict[FeatureKey, float]:
    # In AWS the Glue table exists only after its first write, and querying a missing table fails.
    if not lake.partitions(FORECAST_ACCURACY.name):
        return {}
    rows = lake.query(load_query("governance_accuracy_history"), [period]).to_pylist()
    return {(row["team"], row["feature"]): float(row["mean_absolute_percentage_error"]) for row in rows}


class _Rows:
    """Column lists of the forecasts table, appended row by row (a few rows per feature and day)."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in FORECASTS.schema.names}

    def add(self, **values: Any) -> None:
        for name, column in self.columns.items():
            column.append(values.get(name))

    def table(self) -> pa.Table:
        return pa.table(self.columns, schema=FORECASTS.schema)


def _add_daily_rows(
    rows: _Rows,
    base: dict[str, Any],
    target: str,
    weights: list[Decimal] | None,
    cost: Decimal,
    low: Decimal,
    high: Decimal,
    requests: float | None,
) -> None:
    days = period_days(target)
    day_weights = [weights[day.weekday()] for day in days] if weights and sum(weights) > 0 else [Decimal(1)] * len(days)
    costs = split_by_weights(cost, day_weights, QUANTUM)
    lows = split_by_weights(low, day_weights, QUANTUM)
    highs = split_by_weights(high, day_weights, QUANTUM)
    weight_sum = sum(day_weights)
    for index, day in enumerate(days):
        share = float(day_weights[index] / weight_sum)
        rows.add(
            **base,
            granularity="day",
            day=day,
            active_users=None,
            requests_per_user=None,
            requests=None if requests is None else requests * share,
            cost=costs[index],
            cost_low=lows[index],
            cost_high=highs[index],
        )


def build_forecast(lake: Lake, config: GovernanceConfig, period: str, run_id: str, made_at: datetime) -> pa.Table:
    """Forecast the ``forecast.horizon_months`` months after ``period`` from the actuals up to it."""
    assumptions = config.forecast
    history, periods = _load_history(lake, period, assumptions.history_months)
    weights = _day_weights(lake, period)
    known_errors = _relative_errors(lake, period)
    typical = {month: _typical_costs_per_request(lake, month) for month in periods}
    z = Z_SCORES[assumptions.interval_level]
    level = float(assumptions.interval_level)
    multiplier = assumptions.stress_volume_multiplier
    rows = _Rows()

    for key in sorted(history, key=lambda item: (item[0] or "", item[1] or "")):
        months = history[key]
        current = months.get(period)
        if current is None or current.requests == 0:
            # The feature had no priced requests in the last month: nothing to project from.
            continue
        team, feature = key
        series = [months.get(month, FeatureMonth(0, 0, Decimal(0))) for month in periods]
        typical_costs = [
            float(item.requests * typical[month].get(key, item.cost / item.requests)) if item.requests else 0.0
            for month, item in zip(periods, series, strict=True)
        ]
        relative_error = known_errors.get(key) or history_relative_error(typical_costs)
        if relative_error is None:
            relative_error = float(assumptions.default_relative_error)

        cost_per_request = typical[period].get(key, current.cost / current.requests)
        users_growth = _user_growth(config, feature)
        has_users = current.active_users > 0
        if has_users:
            user_counts = [float(item.active_users) for item in series]
            per_user = [item.requests / item.active_users for item in series if item.active_users > 0]
            users_growth = trend_growth(user_counts) if users_growth is None else users_growth
            per_user_growth = trend_growth(per_user)
        else:
            users_growth = None
            requests_growth = trend_growth([float(item.requests) for item in series])
        reduction = lever_reduction(config, feature)

        for ahead in range(1, assumptions.horizon_months + 1):
            target = add_months(period, ahead)
            if has_users:
                assert users_growth is not None
                users = current.active_users * (1.0 + users_growth) ** ahead
                requests_per_user = current.requests / current.active_users * (1.0 + per_user_growth) ** ahead
                requests = users * requests_per_user
            else:
                users = None
                requests_per_user = None
                requests = current.requests * (1.0 + requests_growth) ** ahead
            spread = Decimal(str(z * relative_error * math.sqrt(ahead)))
            for scenario in SCENARIOS:
                scenario_cpr = cost_per_request * (1 - reduction) if scenario == "optimized" else cost_per_request
                scenario_requests = requests * float(multiplier) if scenario == "stress" else requests
                cost = to_money(scenario_cpr * Decimal(str(scenario_requests)))
                low = to_money(max(cost * (1 - spread), Decimal(0)))
                high = to_money(cost * (1 + spread))
                base = {
                    "run_id": run_id,
                    "made_at": made_at,
                    "target_period": target,
                    "team": team,
                    "feature": feature,
                    "scenario": scenario,
                    "method": "bottom_up",
                    "cost_per_request": to_money(scenario_cpr),
                    "interval_level": level,
                    "relative_error": relative_error,
                }
                rows.add(
                    **base,
                    granularity="month",
                    day=None,
                    active_users=users,
                    requests_per_user=requests_per_user,
                    requests=scenario_requests,
                    cost=cost,
                    cost_low=low,
                    cost_high=high,
                )
                _add_daily_rows(rows, base, target, weights.get(key), cost, low, high, scenario_requests)

    _add_flat_remainder(lake, config, period, run_id, made_at, rows, z, level)
    return rows.table()


def _add_flat_remainder(
    lake: Lake,
    config: GovernanceConfig,
    period: str,
    run_id: str,
    made_at: datetime,
    rows: _Rows,
    z: float,
    level: float,
) -> None:
    relative_error = float(config.forecast.default_relative_error)
    multiplier = config.forecast.stress_volume_multiplier
    remainder = lake.query(load_query("governance_remainder_months"), [period, period]).to_pylist()
    for row in sorted(remainder, key=lambda item: (item["team"] or "", item["feature"] or "")):
        current = to_money(row["cost"])
        if current <= 0:
            continue
        for ahead in range(1, config.forecast.horizon_months + 1):
            target = add_months(period, ahead)
            spread = Decimal(str(z * relative_error * math.sqrt(ahead)))
            low = to_money(max(current * (1 - spread), Decimal(0)))
            high = to_money(current * (1 + spread))
            for scenario in SCENARIOS:
                base = {
                    "run_id": run_id,
                    "made_at": made_at,
                    "target_period": target,
                    "team": row["team"],
                    "feature": row["feature"],
                    "scenario": scenario,
                    "method": "flat",
                    "cost_per_request": None,
                    "interval_level": level,
                    "relative_error": relative_error,
                }
                factor = multiplier if scenario == "stress" else Decimal(1)
                cost, scenario_low, scenario_high = (to_money(value * factor) for value in (current, low, high))
                rows.add(
                    **base,
                    granularity="month",
                    day=None,
                    requests=None,
                    cost=cost,
                    cost_low=scenario_low,
                    cost_high=scenario_high,
                )
                _add_daily_rows(rows, base, target, None, cost, scenario_low, scenario_high, None)


def build_accuracy(lake: Lake, period: str) -> pa.Table:
    """Compare every earlier monthly forecast of ``period`` with its actual cost per team and feature."""
    if not lake.partitions(FORECASTS.name):
        return FORECAST_ACCURACY.schema.empty_table()
    forecasts = lake.query(load_query("governance_earlier_forecasts"), [period, period]).to_pylist()
    actual: dict[FeatureKey, Decimal] = defaultdict(Decimal)
    for row in lake.query(load_query("governance_feature_months"), [period, period]).to_pylist():
        actual[(row["team"], row["feature"])] += to_money(row["cost"])
    for row in lake.query(load_query("governance_remainder_months"), [period, period]).to_pylist():
        actual[(row["team"], row["feature"])] += to_money(row["cost"])

    records = []
    for row in forecasts:
        actual_cost = actual.get((row["team"], row["feature"]), to_money(0))
        forecast_cost = to_money(row["forecast_cost"])
        error = float(abs(forecast_cost - actual_cost) / actual_cost) if actual_cost > 0 else None
        records.append(
            {
                "forecast_period": row["forecast_period"],
                "forecast_run_id": row["forecast_run_id"],
                "months_ahead": months_between(row["forecast_period"], period),
                "team": row["team"],
                "feature": row["feature"],
                "scenario": row["scenario"],
                "forecast_cost": forecast_cost,
                "cost_low": to_money(row["cost_low"]),
                "cost_high": to_money(row["cost_high"]),
                "actual_cost": actual_cost,
                "absolute_percentage_error": error,
                "within_interval": to_money(row["cost_low"]) <= actual_cost <= to_money(row["cost_high"]),
            }
        )
    records.sort(
        key=lambda item: (item["forecast_period"], item["team"] or "", item["feature"] or "", item["scenario"])
    )
    return pa.Table.from_pylist(records, schema=FORECAST_ACCURACY.schema)


def run_forecast(lake: Lake, config: GovernanceConfig, period: str, run_id: str, made_at: datetime) -> dict[str, Any]:
    """Write ``forecast_accuracy`` for the period, then ``forecasts`` made from it; return a short summary."""
    accuracy = build_accuracy(lake, period)
    lake.write_partition(FORECAST_ACCURACY.name, {"billing_period": period}, accuracy)
    forecast = build_forecast(lake, config, period, run_id, made_at)
    lake.write_partition(FORECASTS.name, {"billing_period": period}, forecast)
    next_period = add_months(period, 1)
    totals = {scenario: Decimal(0) for scenario in SCENARIOS}
    for row in forecast.select(["target_period", "granularity", "scenario", "cost"]).to_pylist():
        if row["target_period"] == next_period and row["granularity"] == "month":
            totals[row["scenario"]] += row["cost"]
    return {
        "forecast_rows": forecast.num_rows,
        "accuracy_rows": accuracy.num_rows,
        "next_period": next_period,
        "next_period_cost": {scenario: format(to_money(total), "f") for scenario, total in totals.items()},
    }
