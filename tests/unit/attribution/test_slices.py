"""request_costs computed in slices of whole days gives the same rows as one query."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from genai_finops.attribution import BillingPeriod, attribute_period
from genai_finops.attribution.slices import request_slices
from genai_finops.config import GovernanceConfig
from genai_finops.lake.local import LocalLake

from .builders import cost_line, invocation, write_cost_lines, write_invocations

PERIOD = BillingPeriod.parse("2026-01")


DAILY_ACCOUNT = "111122223333"


def requests_on_days(lake: LocalLake, counts: dict[int, int], daily_days: tuple[int, ...] = ()) -> None:
    rows = []
    for day, count in counts.items():
        account = DAILY_ACCOUNT if day in daily_days else "012345678901"
        for index in range(count):
            rows.append(
                invocation(
                    f"d{day:02d}-{index}", f"2026-01-{day:02d} 10:{index:02d}", input_tokens=index + 1, account=account
                )
            )
    write_invocations(lake, rows)


def test_days_are_packed_up_to_limit(lake: LocalLake) -> None:
    requests_on_days(lake, {2: 2, 3: 1, 5: 4, 9: 1})

    slices = request_slices(lake, PERIOD, slice_requests=3)

    assert [window[:2] for window in slices] == [
        ["2026-01-02", "2026-01-04"],
        ["2026-01-05", "2026-01-06"],
        ["2026-01-09", "2026-01-10"],
    ]


def test_sliced_costs_equal_single_query(tmp_path: Path) -> None:
    results = {}
    for limit in (1, 1_000_000):
        lake = LocalLake(tmp_path / f"lake-{limit}")
        write_cost_lines(
            lake,
            "2026-01",
            [
                cost_line("2026-01-02 10:00", "1.0000000001", tokens=3),
                cost_line("2026-01-05 00:00", "2.00", hours=24, account=DAILY_ACCOUNT),
            ],
        )
        requests_on_days(lake, {2: 3, 5: 4, 7: 2}, daily_days=(5,))

        result = attribute_period(lake, GovernanceConfig(), PERIOD, slice_requests=limit)

        assert result.request_count == 9
        assert result.billed_request_cost == Decimal("3.0000000001")
        results[limit] = lake.query("SELECT * FROM request_costs ORDER BY request_id")
    assert results[1].equals(results[1_000_000])


def test_monthly_bill_sliced_by_day_equals_single_query(tmp_path: Path) -> None:
    # A monthly cell spans every slice: it is allocated to hourly groups first, so slicing by day
    # still gives each request the same share.
    results = {}
    for limit in (1, 1_000_000):
        lake = LocalLake(tmp_path / f"lake-{limit}")
        write_cost_lines(lake, "2026-01", [cost_line("2026-01-01 00:00", "1.0000000001", hours=31 * 24, tokens=9)])
        requests_on_days(lake, {2: 2, 3: 1, 20: 3})

        result = attribute_period(lake, GovernanceConfig(), PERIOD, slice_requests=limit)

        assert result.billed_request_cost == Decimal("1.0000000001")
        results[limit] = lake.query("SELECT * FROM request_costs ORDER BY request_id")
    assert results[1].equals(results[1_000_000])
    assert results[1].num_rows == 6
