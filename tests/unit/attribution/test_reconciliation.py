"""Billed request costs plus remainder equal the bill in every period; re-runs replace one period only."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from genai_finops.attribution import AttributionResult, BillingPeriod, reconcile
from genai_finops.errors import ReconciliationError
from genai_finops.lake.local import LocalLake

from .builders import cost_line, invocation, write_cost_lines, write_invocations

Attribute = Callable[..., AttributionResult]
OUTPUTS = (
    "request_costs",
    "attribution_remainder",
    "unit_costs_daily",
    "unit_costs_monthly",
    "attribution_coverage",
    "unattributed_sources",
    "plan_cost_outliers",
)


def two_periods(lake: LocalLake) -> None:
    write_cost_lines(
        lake,
        "2026-01",
        [
            cost_line("2026-01-31 23:00", "1.0000000001", tokens=3),
            cost_line("2026-01-31 23:00", "-0.50", line_item_type="Credit", token_class=None, tokens=None),
            cost_line("2026-01-10 02:00", "2.00", region="us-west-2"),
        ],
    )
    write_cost_lines(lake, "2026-02", [cost_line("2026-02-01 00:00", "0.3333333333", tokens=3)])
    write_invocations(
        lake,
        [
            invocation("jan-1", "2026-01-31 23:10", input_tokens=1),
            invocation("jan-2", "2026-01-31 23:59", input_tokens=2),
            invocation("feb-1", "2026-02-01 00:00", input_tokens=1),
            invocation("feb-2", "2026-02-01 00:30", input_tokens=1),
            invocation("feb-3", "2026-02-01 00:59", input_tokens=1),
        ],
    )


def totals(lake: LocalLake, period: str) -> tuple[Decimal, Decimal, Decimal]:
    bill = lake.query("SELECT sum(cost_net) AS c FROM cost_lines WHERE billing_period = ?", [period])
    requests = lake.query("SELECT sum(billed_cost) AS c FROM request_costs WHERE billing_period = ?", [period])
    rest = lake.query("SELECT sum(cost) AS c FROM attribution_remainder WHERE billing_period = ?", [period])
    return bill.column("c")[0].as_py(), requests.column("c")[0].as_py(), rest.column("c")[0].as_py() or Decimal(0)


@pytest.mark.parametrize("period", ["2026-01", "2026-02"])
def test_every_period_reconciles(lake: LocalLake, attribute: Attribute, period: str) -> None:
    two_periods(lake)
    attribute("2026-01")
    attribute("2026-02")

    bill, requests, rest = totals(lake, period)

    assert requests + rest == bill


def test_period_boundary_requests_stay_in_their_period(lake: LocalLake, attribute: Attribute) -> None:
    two_periods(lake)
    attribute("2026-01")
    attribute("2026-02")

    table = lake.query("SELECT request_id, billing_period, billed_cost FROM request_costs ORDER BY request_id")

    assert table.to_pylist() == [
        {"request_id": "feb-1", "billing_period": "2026-02", "billed_cost": Decimal("0.1111111111")},
        {"request_id": "feb-2", "billing_period": "2026-02", "billed_cost": Decimal("0.1111111111")},
        {"request_id": "feb-3", "billing_period": "2026-02", "billed_cost": Decimal("0.1111111111")},
        {"request_id": "jan-1", "billing_period": "2026-01", "billed_cost": Decimal("0.3333333334")},
        {"request_id": "jan-2", "billing_period": "2026-01", "billed_cost": Decimal("0.6666666667")},
    ]


def test_mismatch_fails_and_keeps_previous_costs(
    lake: LocalLake, attribute: Attribute, request: pytest.FixtureRequest
) -> None:
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "1.00")])
    write_invocations(lake, [invocation("same", "2026-01-05 10:01", input_tokens=1)])
    attribute()
    before = lake.query("SELECT request_id, billed_cost FROM request_costs").to_pylist()
    write_invocations(lake, [invocation("other", "2026-01-05 10:02", input_tokens=1)])
    request.getfixturevalue("skewed_bill_total")

    with pytest.raises(ReconciliationError, match=r"billing period 2026-01: .*difference -1E-10"):
        attribute()

    assert lake.query("SELECT request_id, billed_cost FROM request_costs").to_pylist() == before


def test_reconcile_rejects_quantum_difference() -> None:
    with pytest.raises(ReconciliationError, match=r"difference -1E-10"):
        reconcile(
            BillingPeriod.parse("2026-01"), Decimal("1.0000000000"), Decimal("0.3333333333"), Decimal("0.6666666666")
        )


def test_rerun_replaces_only_its_period(lake: LocalLake, attribute: Attribute) -> None:
    two_periods(lake)
    attribute("2026-01")
    attribute("2026-02")
    february = {name: lake.query(f"SELECT * FROM {name} WHERE billing_period = '2026-02'") for name in OUTPUTS}
    catalog = {name: lake._read_catalog(name)["billing_period=2026-02"] for name in OUTPUTS}
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-31 23:00", "9.00", tokens=3)])

    attribute("2026-01")
    attribute("2026-01")

    assert (
        lake.query("SELECT count(*) AS n FROM request_costs WHERE billing_period = '2026-01'").column("n")[0].as_py()
        == 2
    )
    assert totals(lake, "2026-01") == (Decimal("9.00"), Decimal("9.00"), Decimal(0))
    for name in OUTPUTS:
        assert lake._read_catalog(name)["billing_period=2026-02"] == catalog[name]
        assert lake.query(f"SELECT * FROM {name} WHERE billing_period = '2026-02'").equals(february[name])
