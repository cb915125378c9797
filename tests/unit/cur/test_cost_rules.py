"""Cost rules per line item type: unblended, net and amortised cost (docs/cost-rules.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from genai_finops.lake.local import LocalLake

from .builders import cost_lines, cur2_parquet, cur2_row, focus_columns, focus_row, ingest, legacy_row, write_csv

SP = {
    "savingsPlan/SavingsPlanEffectiveCost": "",
    "savingsPlan/TotalCommitmentToDate": "",
    "savingsPlan/UsedCommitment": "",
    "reservation/EffectiveCost": "",
    "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "",
    "reservation/UnusedRecurringFee": "",
    "reservation/ReservationARN": "",
}


def _legacy(lake: LocalLake, tmp_path: Path, **values: Any) -> dict[str, Any]:
    row = legacy_row(**{**SP, **values})
    ingest(lake, write_csv(tmp_path / "cur.csv", [row]))
    [line] = cost_lines(lake)
    return line


def _costs(line: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    return line["cost_unblended"], line["cost_net"], line["cost_amortized"]


@pytest.mark.parametrize(
    ("line_type", "values", "expected"),
    [
        ("Usage", {"cost": "1.25"}, ("1.25", "1.25", "1.25")),
        ("Tax", {"cost": "0.13", "usage_type": ""}, ("0.13", "0.13", "0.13")),
        ("Fee", {"cost": "5.00"}, ("5.00", "5.00", "5.00")),
        ("Credit", {"cost": "-2.00"}, ("-2.00", "-2.00", "-2.00")),
        ("Refund", {"cost": "-0.40"}, ("-0.40", "-0.40", "-0.40")),
        ("EdpDiscount", {"cost": "-0.10"}, ("-0.10", "-0.10", "-0.10")),
        ("PrivateRateDiscount", {"cost": "-0.05"}, ("-0.05", "-0.05", "-0.05")),
        ("BundledDiscount", {"cost": "-0.02"}, ("-0.02", "-0.02", "-0.02")),
        (
            "SavingsPlanCoveredUsage",
            {"cost": "1.00", "savingsPlan/SavingsPlanEffectiveCost": "0.70"},
            ("1.00", "1.00", "0.70"),
        ),
        ("SavingsPlanNegation", {"cost": "-1.00"}, ("-1.00", "-1.00", "0")),
        (
            "SavingsPlanRecurringFee",
            {"cost": "10.00", "savingsPlan/TotalCommitmentToDate": "10.00", "savingsPlan/UsedCommitment": "8.50"},
            ("10.00", "10.00", "1.50"),
        ),
        ("SavingsPlanUpfrontFee", {"cost": "100.00"}, ("100.00", "100.00", "0")),
        ("DiscountedUsage", {"cost": "0", "reservation/EffectiveCost": "0.45"}, ("0", "0", "0.45")),
        (
            "RIFee",
            {
                "cost": "3.00",
                "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "0.20",
                "reservation/UnusedRecurringFee": "0.30",
            },
            ("3.00", "3.00", "0.50"),
        ),
        (
            "Fee",
            {
                "cost": "300.00",
                "reservation/ReservationARN": "arn:aws:ec2:us-east-1:012345678901:reserved-instances/r1",
            },
            ("300.00", "300.00", "0"),
        ),
    ],
    ids=[
        "Usage",
        "Tax",
        "Fee",
        "Credit",
        "Refund",
        "EdpDiscount",
        "PrivateRateDiscount",
        "BundledDiscount",
        "SavingsPlanCoveredUsage",
        "SavingsPlanNegation",
        "SavingsPlanRecurringFee",
        "SavingsPlanUpfrontFee",
        "DiscountedUsage",
        "RIFee",
        "Fee-reservation",
    ],
)
def test_legacy_cost_rule(
    lake: LocalLake, tmp_path: Path, line_type: str, values: dict[str, str], expected: tuple[str, str, str]
) -> None:
    line = _legacy(lake, tmp_path, type=line_type, **values)
    assert _costs(line) == tuple(Decimal(value) for value in expected)
    assert line["line_item_type"] == line_type


def test_net_column_carries_discount_and_zeroes_discount_line(lake: LocalLake, tmp_path: Path) -> None:
    rows = [
        legacy_row(id="u", cost="1.00", **{"lineItem/NetUnblendedCost": "0.90"}),
        legacy_row(id="d", type="EdpDiscount", cost="-0.10", **{"lineItem/NetUnblendedCost": "0"}),
    ]
    [report] = ingest(lake, write_csv(tmp_path / "cur.csv", rows))
    usage, discount = cost_lines(lake)
    assert _costs(usage) == (Decimal("1.00"), Decimal("0.90"), Decimal("0.90"))
    assert _costs(discount) == (Decimal("-0.10"), Decimal("0"), Decimal("0"))
    assert report.periods[0].in_scope.net == Decimal("0.90")


def test_cur2_discount_map_reduces_net(lake: LocalLake, tmp_path: Path) -> None:
    rows = [
        cur2_row(line_item_unblended_cost=1.0, discount={"bundled_discount": -0.05, "edp_discount": -0.1}),
        cur2_row(line_item_line_item_type="BundledDiscount", line_item_unblended_cost=-0.05),
    ]
    ingest(lake, cur2_parquet(tmp_path / "cur2.parquet", rows))
    usage, discount = cost_lines(lake)
    assert _costs(usage) == (Decimal("1.0"), Decimal("0.85"), Decimal("0.85"))
    assert _costs(discount) == (Decimal("-0.05"), Decimal("0"), Decimal("0"))


def test_cur2_net_unblended_column_wins(lake: LocalLake, tmp_path: Path) -> None:
    rows = [cur2_row(line_item_unblended_cost=1.0, line_item_net_unblended_cost=0.8, discount={"x": -0.1})]
    ingest(lake, cur2_parquet(tmp_path / "cur2.parquet", rows))
    [line] = cost_lines(lake)
    assert line["cost_net"] == Decimal("0.8")


def test_credit_stays_its_own_line(lake: LocalLake, tmp_path: Path) -> None:
    rows = [legacy_row(id="u", cost="5.00"), legacy_row(id="c", type="Credit", cost="-5.00", usage_type="")]
    [report] = ingest(lake, write_csv(tmp_path / "cur.csv", rows))
    lines = cost_lines(lake)
    assert [line["line_item_type"] for line in lines] == ["Usage", "Credit"]
    assert lines[0]["cost_unblended"] == Decimal("5.00")
    assert report.periods[0].in_scope.unblended == Decimal("0")


def test_refund_without_usage_dates_keeps_period(lake: LocalLake, tmp_path: Path) -> None:
    rows = [legacy_row(type="Refund", cost="-1.00", start="", end="", usage_type="")]
    [report] = ingest(lake, write_csv(tmp_path / "cur.csv", rows))
    [period] = report.periods
    assert period.billing_period == "2026-10"
    assert period.quarantined.rows == 0
    [line] = cost_lines(lake)
    assert line["usage_start"] is None
    assert line["cost_unblended"] == Decimal("-1.00")


def test_missing_commitment_columns_warn(lake: LocalLake, tmp_path: Path) -> None:
    rows = [legacy_row(type="SavingsPlanCoveredUsage", cost="1.00")]
    [report] = ingest(lake, write_csv(tmp_path / "cur.csv", rows))
    [line] = cost_lines(lake)
    assert line["cost_amortized"] == Decimal("1.00")
    assert any("SavingsPlanCoveredUsage" in warning for warning in report.warnings)


class TestFocus:
    def test_usage_uses_billed_and_effective(self, lake: LocalLake, tmp_path: Path) -> None:
        rows = [focus_row(BilledCost="1.00", EffectiveCost="0.70")]
        ingest(lake, write_csv(tmp_path / "focus.csv", rows, focus_columns("1.0")))
        [line] = cost_lines(lake)
        assert _costs(line) == (Decimal("1.00"), Decimal("1.00"), Decimal("0.70"))

    def test_commitment_purchase_amortised_to_zero(self, lake: LocalLake, tmp_path: Path) -> None:
        rows = [
            focus_row(ChargeCategory="Purchase", CommitmentDiscountId="sp-1", BilledCost="100", EffectiveCost="0"),
            focus_row(ChargeCategory="Purchase", CommitmentDiscountId="sp-2", BilledCost="50", EffectiveCost="50"),
        ]
        [report] = ingest(lake, write_csv(tmp_path / "focus.csv", rows, focus_columns("1.0")))
        lines = cost_lines(lake)
        assert [line["cost_amortized"] for line in lines] == [Decimal("0"), Decimal("0")]
        assert report.periods[0].read.unblended == Decimal("150")
        assert report.periods[0].read.amortized == Decimal("0")
        assert any("1 commitment purchase rows carry an EffectiveCost" in warning for warning in report.warnings)

    def test_credit_keeps_negative_costs(self, lake: LocalLake, tmp_path: Path) -> None:
        rows = [focus_row(ChargeCategory="Credit", BilledCost="-3", EffectiveCost="-3")]
        ingest(lake, write_csv(tmp_path / "focus.csv", rows, focus_columns("1.2")))
        [line] = cost_lines(lake)
        assert line["line_item_type"] == "Credit"
        assert _costs(line) == (Decimal("-3"), Decimal("-3"), Decimal("-3"))
