"""Allocation of bill cells to requests: exact shares, matching keys and bill granularity.

A cell is split across its usage groups (the requests of one hour with the same matching keys) by
largest remainder. Each group's share is then split across its requests by floors, and the quanta
left over go to the group's first request by id. The reference splits below use rational arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import pytest

from genai_finops.attribution import AttributionResult
from genai_finops.lake.local import LocalLake

from .builders import HAIKU, PROFILE, cost_line, invocation, rows_by, write_cost_lines, write_invocations

QUANTUM = Fraction(1, 10**10)

Attribute = Callable[..., AttributionResult]


def group_split(total: str, weights: dict[str, int]) -> dict[str, Decimal]:
    """Split a group's ``total`` across its requests: floors, then the leftover quanta to the first request id."""
    units = Fraction(Decimal(total)) / QUANTUM
    assert units.denominator == 1
    weight_sum = sum(weights.values())
    floors = {key: int(units) * weight // weight_sum for key, weight in weights.items()}
    first = min(key for key, weight in weights.items() if weight > 0)
    floors[first] += int(units) - sum(floors.values())
    return {key: Decimal(floor) * Decimal("1e-10") for key, floor in floors.items()}


def largest_remainder(total: str, weights: dict[str, int]) -> dict[str, Decimal]:
    """Split ``total`` by ``weights`` with rational arithmetic: floors, then leftover quanta by remainder."""
    units = Fraction(Decimal(total)) / QUANTUM
    assert units.denominator == 1
    weight_sum = sum(weights.values())
    exact = {key: units * weight / weight_sum for key, weight in weights.items()}
    floors = {key: value.numerator // value.denominator for key, value in exact.items()}
    leftover = int(units) - sum(floors.values())
    order = sorted(weights, key=lambda key: (-(exact[key] - floors[key]), key))
    for key in order[:leftover]:
        floors[key] += 1
    return {key: Decimal(floor) * Decimal("1e-10") for key, floor in floors.items()}


def billed(lake: LocalLake) -> dict[str, Decimal]:
    table = lake.query("SELECT request_id, billed_cost FROM request_costs")
    return {row["request_id"]: row["billed_cost"] for row in table.to_pylist()}


def test_group_share_is_split_exactly(lake: LocalLake, attribute: Attribute) -> None:
    weights = {"r1": 1, "r2": 1, "r3": 1, "r4": 7, "r5": 13, "r6": 2, "r7": 5}
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "10.0000000007", tokens=30)])
    write_invocations(
        lake, [invocation(key, "2026-01-05 10:30", input_tokens=weight) for key, weight in weights.items()]
    )

    attribute()

    expected = group_split("10.0000000007", weights)
    assert billed(lake) == expected
    # r1 takes the 4 quanta left after flooring. A group leaves fewer quanta than it has requests.
    assert expected["r1"] == Decimal("0.3333333337")
    assert sum(billed(lake).values()) == Decimal("10.0000000007")


def test_leftover_goes_to_first_request_with_tokens(lake: LocalLake, attribute: Attribute) -> None:
    # 2 quanta over 8 tokens: floors give "a" 1 and "b", "c" 0, and the leftover quantum goes to "a".
    weights = {"a": 4, "b": 2, "c": 2}
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "0.0000000002", tokens=8)])
    write_invocations(
        lake, [invocation(key, "2026-01-05 10:30", input_tokens=weight) for key, weight in weights.items()]
    )

    attribute()

    assert billed(lake) == group_split("0.0000000002", weights)
    assert billed(lake) == {"a": Decimal("2E-10"), "b": Decimal(0), "c": Decimal(0)}


def test_cell_split_across_groups_is_largest_remainder(lake: LocalLake, attribute: Attribute) -> None:
    # One daily cell over three hourly groups with 1, 1 and 1 tokens: 10 quanta split 4, 3, 3.
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 00:00", "0.0000000010", hours=24, tokens=3)])
    write_invocations(
        lake,
        [
            invocation("late", "2026-01-05 12:00", input_tokens=1),
            invocation("early", "2026-01-05 01:00", input_tokens=1),
            invocation("middle", "2026-01-05 06:00", input_tokens=1),
        ],
    )

    attribute()

    # Groups are numbered by hour, so the 01:00 group wins the tie on remainder.
    assert billed(lake) == {"early": Decimal("4E-10"), "middle": Decimal("3E-10"), "late": Decimal("3E-10")}
    assert billed(lake) == largest_remainder("0.0000000010", {"early": 1, "middle": 1, "late": 1})


def test_evenly_divided_cell_has_no_leftover(lake: LocalLake, attribute: Attribute) -> None:
    weights = {"a": 3, "b": 1, "c": 6}
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "1.0000000000", tokens=10)])
    write_invocations(
        lake, [invocation(key, "2026-01-05 10:30", input_tokens=weight) for key, weight in weights.items()]
    )

    attribute()

    assert billed(lake) == {"a": Decimal("0.3000000000"), "b": Decimal("0.1000000000"), "c": Decimal("0.6000000000")}


def test_large_cell_cost_is_exact(lake: LocalLake, attribute: Attribute) -> None:
    # Large costs and weights make the first quotient inexact in double precision.
    weights = {"a": 999_999_937, "b": 3, "c": 7_777_777, "d": 123_456_789}
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "98765432.0123456789", tokens=1.1e9)])
    write_invocations(
        lake, [invocation(key, "2026-01-05 10:30", input_tokens=weight) for key, weight in weights.items()]
    )

    attribute()

    assert billed(lake) == group_split("98765432.0123456789", weights)


@pytest.mark.parametrize(
    ("total", "weights"),
    [
        # A group weight of 3,037,000,499 tokens is the largest split in 64-bit integers.
        ("98765432.0123456789", {"a": 3_037_000_000, "b": 498, "c": 1}),
        # One token more, and the split falls back to 38-digit decimals.
        ("98765432.0123456789", {"a": 3_037_000_000, "b": 499, "c": 1}),
        ("98765432.0123456789", {"a": 9_999_999_967, "b": 12_345_678_901, "c": 7}),
        # More than 9e18 quanta in the group share also falls back.
        ("987654321.0123456789", {"a": 1_000_000_000, "b": 1_999_999_989, "c": 11}),
    ],
)
def test_split_exact_at_integer_limits(
    lake: LocalLake, attribute: Attribute, total: str, weights: dict[str, int]
) -> None:
    # A second group in the next hour stays small, so both kinds of split run in the same query.
    small = {"x": 2, "y": 3}
    write_cost_lines(
        lake,
        "2026-01",
        [
            cost_line("2026-01-05 10:00", total, tokens=float(sum(weights.values()))),
            cost_line("2026-01-05 11:00", "0.0000000007", tokens=5),
        ],
    )
    write_invocations(
        lake,
        [invocation(key, "2026-01-05 10:30", input_tokens=weight) for key, weight in weights.items()]
        + [invocation(key, "2026-01-05 11:30", input_tokens=weight) for key, weight in small.items()],
    )

    attribute()

    assert billed(lake) == group_split(total, weights) | group_split("0.0000000007", small)


def test_negative_cell_cost_is_split(lake: LocalLake, attribute: Attribute) -> None:
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "-1.0000000000", tokens=3)])
    write_invocations(lake, [invocation(key, "2026-01-05 10:30", input_tokens=1) for key in ("a", "b", "c")])

    attribute()

    assert billed(lake) == {
        "a": Decimal("-0.3333333334"),
        "b": Decimal("-0.3333333333"),
        "c": Decimal("-0.3333333333"),
    }


def test_token_classes_split_separately(lake: LocalLake, attribute: Attribute) -> None:
    hour = "2026-01-05 10:00"
    write_cost_lines(
        lake,
        "2026-01",
        [
            cost_line(hour, "0.30", token_class="input"),
            cost_line(hour, "1.50", token_class="output", usage_type="USE1-Claude3.5Sonnet-output-tokens"),
            cost_line(
                hour, "0.03", token_class="cache_read", usage_type="USE1-Claude3.5Sonnet-cache-read-input-token-count"
            ),
            cost_line(
                hour,
                "0.40",
                token_class="cache_write",
                usage_type="USE1-Claude3.5Sonnet-cache-write-input-token-count",
            ),
            cost_line(
                hour,
                "0.90",
                token_class="cache_write_1h",
                usage_type="USE1-Claude3.5Sonnet-cache-write-input-token-count-1-hour",
            ),
        ],
    )
    write_invocations(
        lake,
        [
            invocation(
                "a",
                "2026-01-05 10:10",
                input_tokens=100,
                output_tokens=10,
                cache_read_tokens=0,
                cache_write_tokens=300,
                cache_write_1h_tokens=200,
            ),
            invocation(
                "b",
                "2026-01-05 10:20",
                input_tokens=200,
                output_tokens=40,
                cache_read_tokens=50,
                cache_write_tokens=300,
                cache_write_1h_tokens=100,
            ),
        ],
    )

    attribute()

    rows = rows_by(lake.query("SELECT * FROM request_costs"), "request_id")
    # input 0.30 by 100:200, output 1.50 by 10:40, cache read 0.03 to b only,
    # 5-minute writes 0.40 by 100:200, 1-hour writes 0.90 by 200:100.
    assert rows["a"]["input_cost"] == Decimal("0.1")
    assert rows["b"]["input_cost"] == Decimal("0.2")
    assert rows["a"]["output_cost"] == Decimal("0.3")
    assert rows["b"]["output_cost"] == Decimal("1.2")
    assert rows["a"]["cache_read_cost"] == Decimal("0")
    assert rows["b"]["cache_read_cost"] == Decimal("0.03")
    # 5-minute writes are cache_write_tokens minus the 1-hour share: a has 100, b has 200.
    assert rows["a"]["cache_write_cost"] == Decimal("0.1333333334") + Decimal("0.6")
    assert rows["b"]["cache_write_cost"] == Decimal("0.2666666666") + Decimal("0.3")
    assert rows["a"]["billed_cost"] + rows["b"]["billed_cost"] == Decimal("3.13")
    assert rows["a"]["matched_cells"] == 4
    assert rows["b"]["matched_cells"] == 5


def test_profile_cell_takes_only_its_requests(lake: LocalLake, attribute: Attribute) -> None:
    hour = "2026-01-05 10:00"
    write_cost_lines(
        lake,
        "2026-01",
        [
            cost_line(hour, "1.00", inference_profile_id=PROFILE, resource_id=PROFILE),
            cost_line(hour, "3.00"),
        ],
    )
    write_invocations(
        lake,
        [
            invocation("p1", "2026-01-05 10:01", input_tokens=10, inference_profile_id=PROFILE),
            invocation("p2", "2026-01-05 10:02", input_tokens=30, inference_profile_id=PROFILE),
            invocation("n1", "2026-01-05 10:03", input_tokens=10),
            invocation("n2", "2026-01-05 10:04", input_tokens=20, inference_profile_id="us.anthropic.claude"),
        ],
    )

    attribute()

    assert billed(lake) == {
        "p1": Decimal("0.25"),
        "p2": Decimal("0.75"),
        "n1": Decimal("1.00"),
        "n2": Decimal("2.00"),
    }


def test_profile_cell_ignores_resolved_model(lake: LocalLake, attribute: Attribute) -> None:
    write_cost_lines(
        lake,
        "2026-01",
        [cost_line("2026-01-05 10:00", "0.80", inference_profile_id=PROFILE, resource_id=PROFILE)],
    )
    write_invocations(
        lake,
        [
            invocation("haiku", "2026-01-05 10:01", input_tokens=30, inference_profile_id=PROFILE, model=HAIKU),
            invocation("unresolved", "2026-01-05 10:02", input_tokens=10, inference_profile_id=PROFILE, model=None),
            invocation("other", "2026-01-05 10:03", input_tokens=10, model=HAIKU),
        ],
    )

    attribute()

    assert billed(lake) == {"haiku": Decimal("0.6"), "unresolved": Decimal("0.2"), "other": Decimal("0")}
    states = rows_by(lake.query("SELECT request_id, state, cost FROM request_costs"), "request_id")
    assert states["haiku"]["state"] == "billed"
    assert states["haiku"]["cost"] == Decimal("0.6")
    assert states["unresolved"]["cost"] == Decimal("0.2")


def test_system_profile_arn_matches_profile_id(lake: LocalLake, attribute: Attribute) -> None:
    system_arn = "arn:aws:bedrock:us-east-1:012345678901:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"
    write_cost_lines(
        lake,
        "2026-01",
        [
            cost_line("2026-01-05 10:00", "1.00", inference_profile_id=system_arn, resource_id=system_arn, route="geo"),
            cost_line("2026-01-05 10:00", "2.00"),
        ],
    )
    write_invocations(
        lake,
        [
            invocation(
                "geo",
                "2026-01-05 10:01",
                input_tokens=10,
                inference_profile_id="us.anthropic.claude-3-5-sonnet-20240620-v1:0",
                route="geo",
            ),
            invocation("local", "2026-01-05 10:02", input_tokens=10),
        ],
    )

    attribute()

    assert billed(lake) == {"geo": Decimal("1.00"), "local": Decimal("2.00")}


def test_principal_on_bill_restricts_match(lake: LocalLake, attribute: Attribute) -> None:
    hour = "2026-01-05 10:00"
    alice = "arn:aws:iam::012345678901:user/alice"
    bob = "arn:aws:iam::012345678901:user/bob"
    write_cost_lines(
        lake,
        "2026-01",
        [cost_line(hour, "2.00", iam_principal=alice), cost_line(hour, "5.00", iam_principal=bob)],
    )
    write_invocations(
        lake,
        [
            invocation("a1", "2026-01-05 10:01", input_tokens=10, principal=alice),
            invocation("a2", "2026-01-05 10:02", input_tokens=30, principal=alice),
            invocation("b1", "2026-01-05 10:03", input_tokens=99, principal=bob),
        ],
    )

    attribute()

    assert billed(lake) == {"a1": Decimal("0.5"), "a2": Decimal("1.5"), "b1": Decimal("5.00")}


def test_in_region_cell_takes_geo_requests(lake: LocalLake, attribute: Attribute) -> None:
    write_cost_lines(
        lake,
        "2026-01",
        [
            cost_line("2026-01-05 10:00", "0.90", route="in_region"),
            cost_line(
                "2026-01-05 10:00",
                "0.50",
                route="global",
                usage_type="USE1-Claude3.5Sonnet-input-tokens-cross-region-global",
            ),
        ],
    )
    write_invocations(
        lake,
        [
            invocation("local", "2026-01-05 10:01", input_tokens=1, route="in_region"),
            invocation("geo", "2026-01-05 10:02", input_tokens=2, route="geo"),
            invocation("global", "2026-01-05 10:03", input_tokens=5, route="global"),
        ],
    )

    attribute()

    assert billed(lake) == {"local": Decimal("0.30"), "geo": Decimal("0.60"), "global": Decimal("0.50")}


def test_absent_bill_keys_do_not_restrict(lake: LocalLake, attribute: Attribute) -> None:
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "4.00", route=None)])
    write_invocations(
        lake,
        [
            invocation("x", "2026-01-05 10:01", input_tokens=1, principal="arn:aws:iam::1:user/x", route="global"),
            invocation("y", "2026-01-05 10:02", input_tokens=3, inference_profile_id=PROFILE, route="geo"),
        ],
    )

    attribute()

    assert billed(lake) == {"x": Decimal("1.00"), "y": Decimal("3.00")}


def test_daily_bill_matches_whole_day(lake: LocalLake, attribute: Attribute) -> None:
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 00:00", "6.00", hours=24)])
    write_invocations(
        lake,
        [
            invocation("early", "2026-01-05 00:00", input_tokens=1),
            invocation("late", "2026-01-05 23:59", input_tokens=2),
            invocation("next", "2026-01-06 00:00", input_tokens=5),
        ],
    )

    attribute()

    rows = rows_by(lake.query("SELECT * FROM request_costs"), "request_id")
    assert rows["early"]["billed_cost"] == Decimal("2.00")
    assert rows["late"]["billed_cost"] == Decimal("4.00")
    assert rows["next"]["billed_cost"] == Decimal("0")
    assert rows["next"]["state"] == "estimated"
    cell = lake.query("SELECT grain FROM attribution_cells").to_pylist()
    assert cell == [{"grain": "day"}]


def test_marketplace_model_name_matches_model_id(lake: LocalLake, attribute: Attribute) -> None:
    write_cost_lines(
        lake,
        "2026-01",
        [
            cost_line(
                "2026-01-05 10:00",
                "0.50",
                usage_type="USE1-MP:USE1_InputTokenCount-Units",
                model="Claude 3 Haiku",
                billing_entity="AWS Marketplace",
                product_code="prod-abc123",
                product_name="Claude 3 Haiku (Amazon Bedrock Edition)",
            ),
            cost_line("2026-01-05 10:00", "0.70", model="Acme Writer", usage_type="USE1-AcmeWriter-input-tokens"),
        ],
    )
    write_invocations(
        lake,
        [
            invocation("h", "2026-01-05 10:01", input_tokens=5, model=HAIKU),
            invocation("w", "2026-01-05 10:02", input_tokens=5, model="acme.writer-v1:0"),
        ],
    )

    attribute(config={"attribution": {"model_names": {"Acme Writer": "acme.writer-v1:0"}}})

    assert billed(lake) == {"h": Decimal("0.50"), "w": Decimal("0.70")}
    aliases = rows_by(lake.query("SELECT * FROM model_aliases"), "name")
    assert aliases["Claude 3 Haiku"]["model_id"] == HAIKU
    assert aliases["Claude 3 Haiku"]["source"] == "shipped"
    assert aliases["Acme Writer"]["source"] == "config"


@pytest.mark.parametrize("column", ["cost_unblended", "cost_net", "cost_amortized"])
def test_configured_cost_column_is_allocated(lake: LocalLake, attribute: Attribute, column: str) -> None:
    line = cost_line(
        "2026-01-05 10:00",
        "1",
        cost_unblended=Decimal("1.00"),
        cost_net=Decimal("0.90"),
        cost_amortized=Decimal("0.95"),
    )
    write_cost_lines(lake, "2026-01", [line])
    write_invocations(lake, [invocation("r", "2026-01-05 10:01", input_tokens=5)])

    result = attribute(config={"attribution": {"cost_column": column}})

    expected = {"cost_unblended": "1.00", "cost_net": "0.90", "cost_amortized": "0.95"}[column]
    assert billed(lake) == {"r": Decimal(expected)}
    assert result.bill_total == Decimal(expected)
