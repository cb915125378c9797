from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from genai_finops.config import parse_config
from genai_finops.governance.forecast import build_accuracy, build_forecast, run_forecast, trend_growth
from genai_finops.lake.local import LocalLake
from genai_finops.money import to_money
from genai_finops.tables import FORECASTS

from .builders import Remainder, Requests, day, write_period

MADE_AT = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)


def _history(lake: LocalLake) -> None:
    # Users 8, 9, 10; ten requests per user; 0.50 per request; months 2026-09 to 2026-11.
    for period, users in (("2026-09", 8), ("2026-10", 9), ("2026-11", 10)):
        write_period(
            lake, period, [Requests(day(f"{period}-02"), users * 10, Decimal("0.50"), "support", "chat", users=users)]
        )


def _month_rows(table: pa.Table, target: str, scenario: str, method: str = "bottom_up") -> list[dict]:
    return [
        row
        for row in table.to_pylist()
        if row["target_period"] == target
        and row["granularity"] == "month"
        and row["scenario"] == scenario
        and row["method"] == method
    ]


def test_base_follows_user_trend(lake: LocalLake) -> None:
    _history(lake)
    table = build_forecast(lake, parse_config({}), "2026-11", "run-1", MADE_AT)

    [row] = _month_rows(table, "2026-12", "base")
    growth = math.sqrt(10 / 8) - 1
    assert row["active_users"] == pytest.approx(10 * (1 + growth))
    assert row["requests_per_user"] == pytest.approx(10.0)
    assert row["cost_per_request"] == Decimal("0.50")
    assert float(row["cost"]) == pytest.approx(10 * (1 + growth) * 10 * 0.5, rel=1e-9)
    [third] = _month_rows(table, "2027-02", "base")
    assert third["active_users"] == pytest.approx(10 * (1 + growth) ** 3)


def test_scenarios_with_growth_levers_and_stress(lake: LocalLake) -> None:
    _history(lake)
    config = parse_config(
        {
            "forecast": {
                "user_growth": {"chat": "0.05"},
                "levers": [{"name": "prompt caching", "share_of_requests": "0.4", "saving": "0.5"}],
                "stress_volume_multiplier": "1.5",
            }
        }
    )
    table = build_forecast(lake, config, "2026-11", "run-1", MADE_AT)

    assert _month_rows(table, "2026-12", "base")[0]["cost"] == Decimal("52.5")
    assert _month_rows(table, "2026-12", "optimized")[0]["cost"] == Decimal("42.0")
    assert _month_rows(table, "2026-12", "optimized")[0]["cost_per_request"] == Decimal("0.40")
    assert _month_rows(table, "2026-12", "stress")[0]["cost"] == Decimal("78.75")


def test_interval_from_history_variation(lake: LocalLake) -> None:
    _history(lake)
    table = build_forecast(lake, parse_config({}), "2026-11", "run-1", MADE_AT)

    [row] = _month_rows(table, "2026-12", "base")
    changes = [45 / 40 - 1, 50 / 45 - 1]
    expected_error = float(pc.stddev(pa.array(changes), ddof=1).as_py())
    assert row["relative_error"] == pytest.approx(expected_error)
    spread = 1.6449 * expected_error
    assert float(row["cost_high"]) == pytest.approx(float(row["cost"]) * (1 + spread), rel=1e-6)
    assert float(row["cost_low"]) == pytest.approx(float(row["cost"]) * (1 - spread), rel=1e-6)
    [later] = _month_rows(table, "2027-02", "base")
    assert float(later["cost_high"]) / float(later["cost"]) - 1 == pytest.approx(spread * math.sqrt(3), rel=1e-4)


def test_daily_rows_add_up_to_month(lake: LocalLake) -> None:
    _history(lake)
    table = build_forecast(lake, parse_config({}), "2026-11", "run-1", MADE_AT)

    for scenario in ("base", "optimized", "stress"):
        [month] = _month_rows(table, "2026-12", scenario)
        days = [
            row
            for row in table.to_pylist()
            if row["target_period"] == "2026-12" and row["granularity"] == "day" and row["scenario"] == scenario
        ]
        assert len(days) == 31
        assert sum(row["cost"] for row in days) == month["cost"]
        assert sum(row["cost_high"] for row in days) == month["cost_high"]


def test_daily_profile_follows_weekdays(lake: LocalLake) -> None:
    # All November cost falls on Mondays, so every December forecast day that is not a Monday gets nothing.
    mondays = [day(f"2026-11-{d:02d}") for d in (2, 9, 16, 23, 30)]
    write_period(lake, "2026-11", [Requests(d, 10, Decimal("1.00"), "support", "chat", users=5) for d in mondays])
    table = build_forecast(lake, parse_config({}), "2026-11", "run-1", MADE_AT)

    days = [row for row in table.to_pylist() if row["granularity"] == "day" and row["scenario"] == "base"]
    assert all(row["cost"] == 0 for row in days if row["day"].weekday() != 0)
    assert any(row["cost"] > 0 for row in days if row["day"].weekday() == 0)


def test_remainder_projected_flat(lake: LocalLake) -> None:
    write_period(
        lake,
        "2026-11",
        [Requests(day("2026-11-02"), 10, Decimal("1.00"), "support", "chat", users=5)],
        [Remainder(day("2026-11-03"), Decimal("7.25"), "support", "chat", "prod")],
    )
    table = build_forecast(lake, parse_config({}), "2026-11", "run-1", MADE_AT)

    [flat] = _month_rows(table, "2027-01", "base", method="flat")
    assert flat["cost"] == Decimal("7.25")
    assert flat["team"] == "support"
    [stress] = _month_rows(table, "2027-01", "stress", method="flat")
    assert stress["cost"] == Decimal("7.25") * Decimal("1.5")


def test_requests_without_users(lake: LocalLake) -> None:
    for period, count in (("2026-10", 100), ("2026-11", 110)):
        write_period(lake, period, [Requests(day(f"{period}-02"), count, Decimal("0.10"), "batch", "etl", users=0)])
    table = build_forecast(lake, parse_config({}), "2026-11", "run-1", MADE_AT)

    [row] = _month_rows(table, "2026-12", "base")
    assert row["active_users"] is None
    assert row["requests"] == pytest.approx(121.0)
    assert float(row["cost"]) == pytest.approx(12.1)


def test_accuracy_compares_earlier_forecast(lake: LocalLake) -> None:
    _history(lake)
    earlier = build_forecast(lake, parse_config({}), "2026-10", "run-oct", MADE_AT)
    lake.write_partition(FORECASTS.name, {"billing_period": "2026-10"}, earlier)
    [forecast_row] = _month_rows(earlier, "2026-11", "base")

    accuracy = build_accuracy(lake, "2026-11")
    [row] = [item for item in accuracy.to_pylist() if item["scenario"] == "base"]
    assert row["actual_cost"] == Decimal("50")
    assert row["months_ahead"] == 1
    assert row["forecast_cost"] == forecast_row["cost"]
    expected = abs(forecast_row["cost"] - Decimal(50)) / Decimal(50)
    assert row["absolute_percentage_error"] == pytest.approx(float(expected))


def test_accuracy_feeds_next_interval(lake: LocalLake) -> None:
    _history(lake)
    lake.write_partition(
        FORECASTS.name,
        {"billing_period": "2026-10"},
        build_forecast(lake, parse_config({}), "2026-10", "run-oct", MADE_AT),
    )
    summary = run_forecast(lake, parse_config({}), "2026-11", "run-nov", MADE_AT)
    accuracy = lake.query("SELECT absolute_percentage_error FROM forecast_accuracy WHERE scenario = 'base'")
    mape = accuracy.column(0)[0].as_py()

    forecast = lake.query("SELECT relative_error FROM forecasts WHERE billing_period = '2026-11' LIMIT 1")
    assert forecast.column(0)[0].as_py() == pytest.approx(mape)
    assert summary["accuracy_rows"] == 3
    assert Decimal(summary["next_period_cost"]["base"]) == to_money(
        lake.query(
            "SELECT sum(cost) FROM forecasts WHERE billing_period = '2026-11' AND target_period = '2026-12' "
            "AND granularity = 'month' AND scenario = 'base'"
        )
        .column(0)[0]
        .as_py()
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [([10.0], 0.0), ([8.0, 10.0], 0.25), ([1.0, 100.0], 1.0), ([100.0, 1.0], -0.5), ([0.0, 5.0], 0.0)],
)
def test_trend_growth(values: list[float], expected: float) -> None:
    assert trend_growth(values) == pytest.approx(expected)


def test_interval_level_widens_interval(lake: LocalLake) -> None:
    _history(lake)
    narrow = build_forecast(lake, parse_config({"forecast": {"interval_level": 0.8}}), "2026-11", "r", MADE_AT)
    wide = build_forecast(lake, parse_config({"forecast": {"interval_level": 0.95}}), "2026-11", "r", MADE_AT)

    [narrow_row] = _month_rows(narrow, "2026-12", "base")
    [wide_row] = _month_rows(wide, "2026-12", "base")
    assert narrow_row["interval_level"] == pytest.approx(0.8)
    narrow_spread = float(narrow_row["cost_high"]) / float(narrow_row["cost"]) - 1
    wide_spread = float(wide_row["cost_high"]) / float(wide_row["cost"]) - 1
    assert wide_spread / narrow_spread == pytest.approx(1.96 / 1.2816, rel=1e-4)


def test_lever_applies_to_its_feature_only(lake: LocalLake) -> None:
    write_period(
        lake,
        "2026-11",
        [
            Requests(day("2026-11-02"), 10, Decimal("1.00"), "support", "chat", users=5),
            Requests(day("2026-11-02"), 10, Decimal("1.00"), "search", "rank", users=5),
        ],
    )
    config = parse_config(
        {"forecast": {"levers": [{"name": "cache", "feature": "chat", "share_of_requests": 1, "saving": "0.5"}]}}
    )
    table = build_forecast(lake, config, "2026-11", "r", MADE_AT)

    optimized = {row["feature"]: row["cost"] for row in _month_rows(table, "2026-12", "optimized")}
    assert optimized == {"chat": Decimal("5.00"), "rank": Decimal("10.00")}


def test_short_incident_does_not_set_cost_per_request(lake: LocalLake) -> None:
    # Three ordinary days at 0.50 a request, then one day of a load test at 20.00 a request.
    for period in ("2026-09", "2026-10"):
        earlier = Requests(day(f"{period}-02"), 100, Decimal("0.50"), "risk", "classifier", users=10)
        write_period(lake, period, [earlier])
    ordinary = [Requests(day(f"2026-11-0{d}"), 100, Decimal("0.50"), "risk", "classifier", users=10) for d in (2, 3, 4)]
    incident = Requests(day("2026-11-05"), 100, Decimal("20.00"), "risk", "classifier", users=10)
    write_period(lake, "2026-11", [*ordinary, incident])

    table = build_forecast(lake, parse_config({}), "2026-11", "run-1", MADE_AT)

    [row] = _month_rows(table, "2026-12", "base")
    # The median of the daily costs per request (0.50, 0.50, 0.50, 20.00) is 0.50.
    assert row["cost_per_request"] == Decimal("0.50")
    # Typical monthly costs are 50, 50 and 200 (400 requests at 0.50), so the error is their variation.
    expected_error = float(pc.stddev(pa.array([50 / 50 - 1, 200 / 50 - 1]), ddof=1).as_py())
    assert row["relative_error"] == pytest.approx(expected_error)
