"""Cost that no request receives: remainder rows, their reasons and their tags."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from genai_finops.attribution import AttributionResult
from genai_finops.lake.local import LocalLake

from .builders import cost_line, invocation, write_cost_lines, write_invocations

Attribute = Callable[..., AttributionResult]
HOUR = "2026-01-05 10:00"


def remainder_by_reason(lake: LocalLake) -> dict[str, Decimal]:
    table = lake.query("SELECT reason, sum(cost) AS cost FROM attribution_remainder GROUP BY reason")
    return {row["reason"]: row["cost"] for row in table.to_pylist()}


def test_each_reason_keeps_its_cost(lake: LocalLake, attribute: Attribute) -> None:
    lines = [
        cost_line(HOUR, "1.00"),
        cost_line(HOUR, "-5.00", line_item_type="Credit", token_class=None, tokens=None),
        cost_line(HOUR, "0.40", line_item_type="Tax", token_class=None, tokens=None, model=None),
        cost_line(
            HOUR,
            "7.00",
            product_code="AmazonOpenSearchService",
            usage_type="USE1-OCU-Hours",
            model=None,
            token_class=None,
            tokens=None,
            usage_family=None,
            team="search",
            feature="assistant",
            environment="prod",
        ),
        cost_line(
            HOUR,
            "20.00",
            usage_type="USE1-Claude3.5Sonnet-ProvisionedThroughput-NoCommit-ModelUnits",
            token_class=None,
            tokens=None,
            tier="provisioned",
            usage_family="provisioned",
        ),
        cost_line(
            HOUR,
            "0.75",
            usage_type="USE1-Guardrail-ContentPolicyUnits",
            token_class=None,
            tokens=None,
            usage_family="guardrail",
            model=None,
        ),
        cost_line(
            HOUR,
            "0.25",
            usage_type="USE1-KnowledgeBase-StructuredData",
            token_class=None,
            tokens=None,
            usage_family="knowledge-base",
            model=None,
        ),
        cost_line(
            HOUR,
            "0.60",
            usage_type="USE1-anthropic.claude-sonnet-4-5-mantle-input-tokens-standard",
            model="anthropic.claude-sonnet-4-5",
        ),
        cost_line(HOUR, "0.50", usage_type="USE1-Claude3.5Sonnet-input-tokens-batch", tier="batch"),
        cost_line(
            HOUR,
            "0.10",
            usage_type="USE1-NovaCanvas-image",
            token_class=None,
            tokens=None,
            usage_family="image-generation",
            model=None,
        ),
        cost_line(HOUR, "0.20", model=None, usage_type="USE1-MP:USE1_InputTokenCount-Units"),
        cost_line(HOUR, "3.00", region="eu-west-1", usage_type="EUW1-Claude3.5Sonnet-input-tokens"),
        cost_line("2026-01-05 11:00", "0.90"),
    ]
    write_cost_lines(lake, "2026-01", lines)
    write_invocations(lake, [invocation("r", "2026-01-05 10:05", input_tokens=10)])

    result = attribute()

    assert remainder_by_reason(lake) == {
        "credit": Decimal("-5.00"),
        "non_usage_line": Decimal("0.40"),
        "genai_adjacent": Decimal("7.00"),
        "provisioned_throughput": Decimal("20.00"),
        "guardrails": Decimal("0.75"),
        "knowledge_bases": Decimal("0.25"),
        "mantle": Decimal("0.60"),
        "batch_inference": Decimal("0.50"),
        "non_token_usage": Decimal("0.10"),
        "unrecognised_model": Decimal("0.20"),
        "logging_off": Decimal("3.00"),
        "no_matching_requests": Decimal("0.90"),
    }
    assert result.billed_request_cost == Decimal("1.00")
    assert result.remainder_cost + result.billed_request_cost == result.bill_total
    assert result.bill_total == Decimal("29.70")


def test_remainder_keeps_line_tags(lake: LocalLake, attribute: Attribute) -> None:
    tagged = cost_line(
        HOUR,
        "7.00",
        product_code="AmazonOpenSearchService",
        usage_type="USE1-OCU-Hours",
        model=None,
        token_class=None,
        tokens=None,
        resource_id="arn:aws:aoss:us-east-1:012345678901:collection/kb",
        team="search",
        feature="assistant",
        environment="prod",
        cost_center="cc-7",
    )
    write_cost_lines(lake, "2026-01", [tagged])

    attribute()

    rows = lake.query("SELECT * FROM attribution_remainder").to_pylist()
    assert len(rows) == 1
    assert rows[0]["team"] == "search"
    assert rows[0]["feature"] == "assistant"
    assert rows[0]["environment"] == "prod"
    assert rows[0]["cost_center"] == "cc-7"
    assert rows[0]["resource_id"] == "arn:aws:aoss:us-east-1:012345678901:collection/kb"


def test_zero_token_requests_leave_cell_unmatched(lake: LocalLake, attribute: Attribute) -> None:
    write_cost_lines(lake, "2026-01", [cost_line(HOUR, "0.05", token_class="output")])
    write_invocations(lake, [invocation("blocked", "2026-01-05 10:05", guardrail_blocked=True)])

    attribute()

    assert remainder_by_reason(lake) == {"no_matching_requests": Decimal("0.05")}
    row = lake.query("SELECT billed_cost, estimated_cost, state FROM request_costs").to_pylist()[0]
    assert row == {"billed_cost": Decimal("0"), "estimated_cost": Decimal("0"), "state": "billed"}
