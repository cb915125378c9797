from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from genai_finops.config import parse_config
from genai_finops.governance.credits import credit_runway, remaining_balance
from genai_finops.governance.showback import period_credits
from genai_finops.lake.local import LocalLake
from genai_finops.tables import FORECASTS

from .builders import Requests, day, write_period


def _daily(scenario_costs: dict[str, Decimal], first: dt.date, days: int) -> pa.Table:
    rows = []
    for scenario, cost in scenario_costs.items():
        for offset in range(days):
            rows.append(
                {"scenario": scenario, "granularity": "day", "day": first + dt.timedelta(days=offset), "cost": cost}
            )
    return pa.Table.from_pylist(
        rows, schema=pa.schema([FORECASTS.schema.field(name) for name in ("scenario", "granularity", "day", "cost")])
    )


def test_credits_per_period_from_credit_lines(lake: LocalLake) -> None:
    write_period(lake, "2026-10", [Requests(day("2026-10-02"), 1, Decimal(1), "a", "b")], credits=[Decimal("-7.5")])
    write_period(
        lake, "2026-11", [Requests(day("2026-11-02"), 1, Decimal(1), "a", "b")], credits=[Decimal(-3), Decimal(-2)]
    )

    credits = period_credits(lake, parse_config({}), "2026-10", "2026-11")

    assert credits == {"2026-10": Decimal("-7.5"), "2026-11": Decimal(-5)}


def test_remaining_balance_counts_from_as_of() -> None:
    config = parse_config({"credits": {"balance": 100, "balance_as_of": "2026-10"}})
    used = {"2026-09": Decimal(-50), "2026-10": Decimal(-20), "2026-11": Decimal(-5)}

    assert remaining_balance(config, "2026-11", used) == Decimal(75)
    assert remaining_balance(parse_config({}), "2026-11", used) is None


def test_runway_per_scenario() -> None:
    config = parse_config({"credits": {"balance": 100, "balance_as_of": "2026-11", "expires_on": "2027-12-31"}})
    daily = _daily({"base": Decimal(10), "stress": Decimal(25)}, dt.date(2026, 12, 1), 31)

    runways = {item.scenario: item for item in credit_runway(config, "2026-11", Decimal(100), daily)}

    assert runways["base"].exhausted_on == dt.date(2026, 12, 10)
    assert runways["stress"].exhausted_on == dt.date(2026, 12, 4)


def test_runway_extends_past_horizon() -> None:
    config = parse_config({"credits": {"balance": 1000, "balance_as_of": "2026-11"}})
    daily = _daily({"base": Decimal(10)}, dt.date(2026, 12, 1), 31)

    [runway] = credit_runway(config, "2026-11", Decimal(1000), daily)

    assert runway.exhausted_on == dt.date(2026, 12, 1) + dt.timedelta(days=99)
    assert runway.unused_at_expiry is None


def test_unused_credit_at_expiry() -> None:
    config = parse_config({"credits": {"balance": 100, "balance_as_of": "2026-11", "expires_on": "2026-12-05"}})
    daily = _daily({"optimized": Decimal(4)}, dt.date(2026, 12, 1), 31)

    [runway] = credit_runway(config, "2026-11", Decimal(100), daily)

    assert runway.exhausted_on is None
    assert runway.unused_at_expiry == Decimal(80)
