"""Credits: what was applied per month, what is left, and how long it lasts under each forecast scenario."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pyarrow as pa

from ..config import GovernanceConfig
from ..money import to_money
from .periods import parse_period

# Beyond the forecast horizon the last forecast month's daily average is extended, for at most this long.
MAX_RUNWAY_DAYS = 3660


@dataclass(frozen=True)
class Runway:
    """Credit runway under one scenario: the day the balance runs out, or what is unused at expiry."""

    scenario: str
    exhausted_on: date | None
    unused_at_expiry: Decimal | None


def remaining_balance(config: GovernanceConfig, period: str, credits_by_period: dict[str, Decimal]) -> Decimal | None:
    """Return the credit balance left after ``period``: the configured balance plus the (negative) Credit
    lines of ``balance_as_of`` through ``period``. None when the configuration gives no balance."""
    settings = config.credits
    if settings.balance is None or settings.balance_as_of is None:
        return None
    used = sum(
        (amount for month, amount in credits_by_period.items() if settings.balance_as_of <= month <= period),
        Decimal(0),
    )
    return to_money(max(settings.balance + used, Decimal(0)))


def credit_runway(config: GovernanceConfig, period: str, balance: Decimal, daily_forecast: pa.Table) -> list[Runway]:
    """Project when ``balance`` runs out under each scenario of the daily forecast made after ``period``.

    Credits are assumed to cover all GenAI spend from the first day after the period. The exhaustion day
    is the day the cumulative forecast reaches the balance. When the expiry date comes first, the balance
    left on that date is reported as unused.
    """
    expires = config.credits.expires_on
    daily: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in daily_forecast.select(["scenario", "granularity", "day", "cost"]).to_pylist():
        if row["granularity"] == "day":
            daily[row["scenario"]][row["day"]] += row["cost"]

    start = parse_period(period)
    first_day = date(start.year + (start.month // 12), start.month % 12 + 1, 1)
    runways = []
    for scenario in sorted(daily):
        days = daily[scenario]
        last_month = max(days).replace(day=1) if days else first_day
        tail = [cost for day, cost in days.items() if day >= last_month]
        extension = sum(tail, Decimal(0)) / len(tail) if tail else Decimal(0)
        left = balance
        exhausted = None
        day = first_day
        for _ in range(MAX_RUNWAY_DAYS):
            if expires is not None and day > expires:
                break
            spend = days.get(day, extension if not days or day > max(days) else Decimal(0))
            left -= spend
            if left <= 0:
                exhausted = day
                break
            day += timedelta(days=1)
        unused = to_money(max(left, Decimal(0))) if exhausted is None and expires is not None else None
        runways.append(Runway(scenario, exhausted, unused))
    return runways
