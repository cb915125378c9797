"""Estimated cost of requests the bill has not reached, unpriced models, re-allocation and divergence."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from genai_finops.attribution import AttributionResult
from genai_finops.lake.local import LocalLake

from .builders import HAIKU, SONNET, cost_line, invocation, rows_by, write_cost_lines, write_invocations

Attribute = Callable[..., AttributionResult]


def requests(lake: LocalLake) -> dict[str, dict[str, object]]:
    return rows_by(lake.query("SELECT * FROM request_costs"), "request_id")


def test_unbilled_hour_keeps_list_estimate(lake: LocalLake, attribute: Attribute) -> None:
    write_invocations(lake, [invocation("r", "2026-01-05 10:00", input_tokens=3000, output_tokens=400)])

    attribute()

    row = requests(lake)["r"]
    assert row["state"] == "estimated"
    assert row["estimated_cost"] == Decimal("0.015")
    assert row["input_cost"] == Decimal("0.009")
    assert row["output_cost"] == Decimal("0.006")
    assert row["billed_cost"] == Decimal("0")
    assert row["cost"] == Decimal("0.015")


def test_unpriced_model_is_never_zero(lake: LocalLake, attribute: Attribute) -> None:
    write_invocations(
        lake,
        [
            invocation("unknown", "2026-01-05 10:00", input_tokens=100, model="acme.secret-model-v9"),
            invocation("unresolved", "2026-01-05 10:00", input_tokens=100, model=None),
        ],
    )

    result = attribute()

    rows = requests(lake)
    for request_id in ("unknown", "unresolved"):
        assert rows[request_id]["priced"] is False
        assert rows[request_id]["estimated_cost"] is None
        assert rows[request_id]["cost"] is None
    assert result.unpriced_requests == 2
    monthly = rows_by(lake.query("SELECT * FROM unit_costs_monthly"), "model_id")
    assert set(monthly) == {"acme.secret-model-v9", None}
    for group in monthly.values():
        assert group["unpriced_requests"] == 1
        assert group["total_cost"] == Decimal("0")
        assert group["cost_per_request"] is None


def test_bill_rate_prices_unbilled_hours(lake: LocalLake, attribute: Attribute) -> None:
    # The bill charged 4.00 per million input tokens (a negotiated or regional rate), not the 3.00 list price.
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "0.004", tokens=1000)])
    write_invocations(
        lake,
        [
            invocation("billed", "2026-01-05 10:10", input_tokens=1000),
            invocation("later", "2026-01-05 12:10", input_tokens=2000),
        ],
    )

    attribute()

    rows = requests(lake)
    assert rows["billed"]["state"] == "billed"
    assert rows["later"]["state"] == "estimated"
    assert rows["later"]["estimated_cost"] == Decimal("0.008")
    catalog = lake.query(
        "SELECT source, price_per_million, reference_source, reference_price_per_million FROM price_catalog "
        "WHERE day = DATE '2026-01-05' AND model_id = ? AND token_class = 'input' AND tier = 'standard'",
        [SONNET],
    ).to_pylist()
    assert catalog == [
        {
            "source": "bill",
            "price_per_million": Decimal("4"),
            "reference_source": "list",
            "reference_price_per_million": Decimal("3"),
        }
    ]


def test_override_beats_bill_and_list(lake: LocalLake, attribute: Attribute) -> None:
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "0.004", tokens=1000)])
    write_invocations(lake, [invocation("later", "2026-01-06 09:00", input_tokens=1_000_000)])
    config = {
        "attribution": {
            "price_overrides": [
                {"model": "Claude3.5Sonnet", "token_class": "input", "price_per_million": "2.50", "region": "us-east-1"}
            ]
        }
    }

    attribute(config=config)

    assert requests(lake)["later"]["estimated_cost"] == Decimal("2.50")


def test_bill_arrival_reallocates(lake: LocalLake, attribute: Attribute) -> None:
    write_invocations(
        lake,
        [
            invocation("a", "2026-01-05 10:10", input_tokens=1000),
            invocation("b", "2026-01-05 11:10", input_tokens=1000),
        ],
    )
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "0.0031", tokens=1000)])
    attribute()
    first = requests(lake)

    write_cost_lines(
        lake,
        "2026-01",
        [cost_line("2026-01-05 10:00", "0.0031", tokens=1000), cost_line("2026-01-05 11:00", "0.0029", tokens=1000)],
    )
    attribute()
    second = requests(lake)

    assert (first["a"]["state"], first["b"]["state"]) == ("billed", "estimated")
    assert first["b"]["cost"] == Decimal("0.0031")
    assert (second["a"]["state"], second["b"]["state"]) == ("billed", "billed")
    assert second["b"]["cost"] == Decimal("0.0029")
    assert second["b"]["billed_cost"] == Decimal("0.0029")


def test_divergence_above_tolerance_is_recorded(lake: LocalLake, attribute: Attribute) -> None:
    hour = "2026-01-05 10:00"
    write_cost_lines(
        lake,
        "2026-01",
        [
            # 1,000 Sonnet input tokens list at 0.003 and are billed 0.0045 (50% above).
            cost_line(hour, "0.0045", tokens=1000),
            # 1,000 Haiku input tokens list at 0.00025 and are billed 0.00026 (4% above).
            cost_line(hour, "0.00026", tokens=1000, model="Claude3Haiku", usage_type="USE1-Claude3Haiku-input-tokens"),
        ],
    )
    write_invocations(
        lake,
        [
            invocation("s", "2026-01-05 10:10", input_tokens=1000),
            invocation("h", "2026-01-05 10:10", input_tokens=1000, model=HAIKU),
        ],
    )

    result = attribute(config={"attribution": {"divergence_tolerance_share": "0.05"}})

    cells = rows_by(lake.query("SELECT * FROM attribution_cells"), "model_id")
    assert cells[SONNET]["estimated_cost"] == Decimal("0.003")
    assert cells[SONNET]["diverges"] is True
    assert abs(cells[SONNET]["divergence_share"] - 1 / 3) < 1e-12
    assert cells[HAIKU]["estimated_cost"] == Decimal("0.00025")
    assert cells[HAIKU]["diverges"] is False
    assert result.diverging_cells == 1
