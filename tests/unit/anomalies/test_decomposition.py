"""The decomposition of a change in cost adds up exactly and puts each cause in its part."""

from __future__ import annotations

from decimal import Decimal

from genai_finops.anomalies.decomposition import Usage, decompose

PRICES = {"input": 3e-6, "cache_read": 0.3e-6, "cache_write": 3.75e-6, "output": 15e-6}


def _usage(requests: float, input_tokens: float, output_tokens: float, prices: dict[str, float] = PRICES) -> Usage:
    tokens = {
        "input": requests * input_tokens,
        "cache_read": 0.0,
        "cache_write": 0.0,
        "output": requests * output_tokens,
    }
    return Usage(requests=requests, tokens=tokens, class_cost={c: tokens[c] * prices[c] for c in tokens})


def _cost(usage: Usage) -> Decimal:
    return Decimal(repr(sum(usage.class_cost.values()))).quantize(Decimal("1e-10"))


def test_volume_change_is_all_volume() -> None:
    expected, observed = _usage(100, 3000, 400), _usage(300, 3000, 400)
    parts = decompose(_cost(observed), _cost(expected), observed, expected)
    assert parts.volume == Decimal("3.0000000000")
    assert parts.input_tokens == 0
    assert parts.output_tokens == 0
    assert parts.total == _cost(observed) - _cost(expected)


def test_output_tokens_change_is_output_part() -> None:
    expected, observed = _usage(100, 3000, 400), _usage(100, 3000, 2400)
    parts = decompose(_cost(observed), _cost(expected), observed, expected)
    assert parts.output_tokens == Decimal("3.0000000000")
    assert parts.volume == 0
    assert parts.rate_mix == 0


def test_price_change_is_rate_and_mix() -> None:
    doubled = {name: price * 2 for name, price in PRICES.items()}
    expected, observed = _usage(100, 3000, 400, PRICES), _usage(100, 3000, 400, doubled)
    parts = decompose(_cost(observed), _cost(expected), observed, expected)
    assert parts.rate_mix == Decimal("1.5000000000")
    assert parts.volume == 0
    assert parts.input_tokens == 0
    assert parts.output_tokens == 0


def test_mixed_change_adds_up_exactly() -> None:
    expected = _usage(97, 2890, 410)
    observed = _usage(313, 3170, 977, {name: price * 1.37 for name, price in PRICES.items()})
    observed_cost, expected_cost = Decimal("12.3456789012"), Decimal("1.2345678901")
    parts = decompose(observed_cost, expected_cost, observed, expected)
    assert parts.volume + parts.input_tokens + parts.output_tokens + parts.rate_mix == observed_cost - expected_cost
    assert parts.volume > 0
    assert parts.input_tokens > 0
    assert parts.output_tokens > 0


def test_no_expected_requests_is_volume() -> None:
    observed = _usage(50, 2000, 300)
    parts = decompose(Decimal("0.5250000000"), Decimal(0), observed, _usage(0, 0, 0))
    assert parts.volume == Decimal("0.5250000000")
    assert parts.total == Decimal("0.5250000000")
