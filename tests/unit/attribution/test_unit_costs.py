"""Unit economics, coverage and the plan-price comparison, on data with known expected values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from genai_finops.attribution import AttributionResult
from genai_finops.lake.local import LocalLake

from .builders import PROFILE, SONNET, cost_line, invocation, rows_by, write_cost_lines, write_invocations

Attribute = Callable[..., AttributionResult]
KEYS = {"team": "search", "feature": "chat", "environment": "prod", "tenant": "acme"}


def hour_of(index: int) -> str:
    moment = dt.datetime(2026, 1, 1, 0, 0) + dt.timedelta(hours=index)
    return moment.strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("billed", [False, True], ids=["estimated", "billed"])
def test_worked_example_per_request_and_user(lake: LocalLake, attribute: Attribute, billed: bool) -> None:
    # 3,000 input and 400 output tokens at $3 and $15 per million cost $0.015 a request;
    # 40 requests by one user in a month make $0.60 per active user.
    requests = [
        invocation(f"r{index:02d}", hour_of(index), input_tokens=3000, output_tokens=400, user_key="u1", **KEYS)
        for index in range(40)
    ]
    write_invocations(lake, requests)
    if billed:
        lines = []
        for index in range(40):
            lines.append(cost_line(hour_of(index), "0.009", tokens=3000))
            lines.append(
                cost_line(
                    hour_of(index),
                    "0.006",
                    tokens=400,
                    token_class="output",
                    usage_type="USE1-Claude3.5Sonnet-output-tokens",
                )
            )
        write_cost_lines(lake, "2026-01", lines)

    attribute()

    costs = lake.query("SELECT DISTINCT cost, state FROM request_costs").to_pylist()
    assert costs == [{"cost": Decimal("0.015"), "state": "billed" if billed else "estimated"}]
    monthly = lake.query("SELECT * FROM unit_costs_monthly").to_pylist()
    assert len(monthly) == 1
    assert monthly[0]["request_count"] == 40
    assert monthly[0]["active_users"] == 1
    assert monthly[0]["cost_per_request"] == Decimal("0.015")
    assert monthly[0]["cost_per_active_user"] == Decimal("0.60")
    assert monthly[0]["total_cost"] == Decimal("0.60")
    assert monthly[0]["input_cost_per_million"] == Decimal("3")
    assert monthly[0]["output_cost_per_million"] == Decimal("15")
    assert monthly[0]["billed_share"] == (1.0 if billed else 0.0)
    assert monthly[0]["estimated_share"] == (0.0 if billed else 1.0)


def test_groups_percentiles_and_null_keys(lake: LocalLake, attribute: Attribute) -> None:
    tokens = [100] * 60 + [200] * 39 + [10_000]
    requests = [
        invocation(
            f"k{index:03d}",
            "2026-01-03 10:00",
            input_tokens=value,
            output_tokens=10,
            user_key=f"u{index % 7}",
            inference_profile_id=PROFILE,
            **KEYS,
        )
        for index, value in enumerate(tokens)
    ]
    requests += [
        invocation("n1", "2026-01-03 11:00", input_tokens=1000, user_key="x"),
        invocation("n2", "2026-01-04 11:00", input_tokens=3000, user_key="x"),
    ]
    write_invocations(lake, requests)

    attribute()

    monthly = rows_by(lake.query("SELECT * FROM unit_costs_monthly"), "team")
    keyed = monthly["search"]
    assert keyed["request_count"] == 100
    assert keyed["active_users"] == 7
    assert keyed["inference_profile_id"] == PROFILE
    assert keyed["tenant"] == "acme"
    assert keyed["input_tokens"] == 23_800
    assert keyed["input_tokens_mean"] == pytest.approx(238.0)
    assert keyed["input_tokens_p50"] == 100.0
    assert keyed["input_tokens_p95"] == 200.0
    assert keyed["output_tokens_mean"] == 10.0
    # 23,800 input at $3/M plus 1,000 output at $15/M.
    assert keyed["total_cost"] == Decimal("0.0714") + Decimal("0.015")
    unkeyed = monthly[None]
    assert unkeyed["feature"] is None
    assert unkeyed["request_count"] == 2
    assert unkeyed["active_users"] == 1
    assert unkeyed["total_cost"] == Decimal("0.012")
    assert unkeyed["cost_per_active_user"] == Decimal("0.012")
    daily = lake.query("SELECT day, request_count, total_cost FROM unit_costs_daily WHERE team IS NULL ORDER BY day")
    assert daily.to_pylist() == [
        {"day": dt.date(2026, 1, 3), "request_count": 1, "total_cost": Decimal("0.003")},
        {"day": dt.date(2026, 1, 4), "request_count": 1, "total_cost": Decimal("0.009")},
    ]


def test_coverage_and_unattributed_sources(lake: LocalLake, attribute: Attribute) -> None:
    hour = "2026-01-05 10:00"
    write_cost_lines(
        lake,
        "2026-01",
        [
            cost_line(hour, "6.00", tokens=3),
            cost_line(hour, "-10.00", line_item_type="Credit", token_class=None, tokens=None),
            cost_line(
                hour,
                "3.00",
                usage_type="USE1-Guardrail-ContentPolicyUnits",
                token_class=None,
                tokens=None,
                usage_family="guardrail",
                model=None,
                team="search",
                feature="chat",
                environment="prod",
            ),
            cost_line(
                hour,
                "1.00",
                usage_type="USE1-KnowledgeBase-StructuredData",
                token_class=None,
                tokens=None,
                usage_family="knowledge-base",
                model=None,
                resource_id="arn:kb/1",
            ),
        ],
    )
    principal = "arn:aws:iam::012345678901:user/ci"
    write_invocations(
        lake,
        [
            invocation("known", "2026-01-05 10:01", input_tokens=1, **KEYS),
            invocation("anon", "2026-01-05 10:02", input_tokens=2, principal=principal),
        ],
    )

    attribute()

    coverage = lake.query("SELECT * FROM attribution_coverage").to_pylist()[0]
    assert coverage["total_cost"] == Decimal("0.00")
    assert coverage["credit_cost"] == Decimal("-10.00")
    assert coverage["spend"] == Decimal("10.00")
    assert coverage["billed_request_cost"] == Decimal("6.00")
    assert coverage["remainder_cost"] == Decimal("4.00")
    # known request 2.00 plus tagged guardrail line 3.00 out of 10.00 spend.
    assert coverage["attributed_cost"] == Decimal("5.00")
    assert coverage["attributable_percent"] == pytest.approx(50.0)
    sources = lake.query("SELECT * FROM unattributed_sources ORDER BY cost_rank").to_pylist()
    assert [(row["cost_rank"], row["source"], row["cost"]) for row in sources] == [
        (1, "requests", Decimal("4.00")),
        (2, "remainder", Decimal("1.00")),
    ]
    assert sources[0]["principal"] == principal
    assert sources[0]["request_count"] == 1
    assert sources[1]["reason"] == "knowledge_bases"
    assert sources[1]["resource_id"] == "arn:kb/1"


def test_users_over_plan_share_are_listed(lake: LocalLake, attribute: Attribute) -> None:
    # At list price one request of 100,000 input tokens costs 0.30.
    requests = [
        invocation("a1", "2026-01-02 10:00", input_tokens=100_000, user_key="heavy", **KEYS),
        invocation("a2", "2026-01-03 10:00", input_tokens=100_000, user_key="heavy", **KEYS),
        invocation("b1", "2026-01-02 10:00", input_tokens=100_000, user_key="light", **KEYS),
        invocation("c1", "2026-01-02 10:00", input_tokens=100_000, user_key="other", team="x", feature="search"),
        invocation("c2", "2026-01-02 11:00", input_tokens=100_000, user_key="other", team="x", feature="search"),
    ]
    write_invocations(lake, requests)
    config = {
        "attribution": {"plan_prices": [{"feature": "chat", "monthly_price": "1.00"}], "plan_outlier_share": "0.5"}
    }

    result = attribute(config=config)

    outliers = lake.query("SELECT * FROM plan_cost_outliers").to_pylist()
    assert result.plan_outliers == 1
    assert [(row["feature"], row["user_key"]) for row in outliers] == [("chat", "heavy")]
    assert outliers[0]["cost"] == Decimal("0.60")
    assert outliers[0]["plan_price"] == Decimal("1.00")
    assert outliers[0]["share_of_plan"] == pytest.approx(0.6)
    assert outliers[0]["threshold_share"] == 0.5
    monthly = rows_by(lake.query("SELECT * FROM unit_costs_monthly"), "feature")
    assert monthly["chat"]["plan_price"] == Decimal("1.00")
    assert monthly["chat"]["cost_per_active_user"] == Decimal("0.45")
    assert monthly["chat"]["cost_per_active_user_share_of_plan"] == pytest.approx(0.45)
    assert monthly["search"]["plan_price"] is None
    assert SONNET in {row["model_id"] for row in monthly.values()}
