"""Explain an anomaly's change in cost: request volume, tokens per request and rate or model mix.

With N requests, t_c tokens per request of class c and p_c the cost per token of class c, cost is
N x sum_c(t_c x p_c). The change from the expected window (e) to the observed one (o) is split in a
fixed order, each step at the values of the step before:

- volume: (N_o - N_e) x expected cost per request;
- input tokens per request: N_o x sum over input, cache read and cache write of (t_c,o - t_c,e) x p_c,e;
- output tokens per request: N_o x (t_out,o - t_out,e) x p_out,e;
- rate and mix: the rest, which is the observed tokens' cost at the observed prices minus their cost at
  the expected prices (a pricier model or tier, or a different mix of models).

The expected per-class costs are scaled to add up to the expected cost, so with no change in prices the
rate-and-mix part is zero up to the baselines' error. Each part is rounded to the money quantum and the
rate-and-mix part takes the rounding, so the four parts add up to the change exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..money import to_money

INPUT_CLASSES = ("input", "cache_read", "cache_write")
TOKEN_CLASSES = (*INPUT_CLASSES, "output")


@dataclass(frozen=True)
class Usage:
    """Requests, tokens and cost per token class of one window (observed or expected)."""

    requests: float
    tokens: dict[str, float]
    class_cost: dict[str, float]


@dataclass(frozen=True)
class Decomposition:
    """The change in cost split into parts that add up to it exactly."""

    volume: Decimal
    input_tokens: Decimal
    output_tokens: Decimal
    rate_mix: Decimal

    @property
    def total(self) -> Decimal:
        return self.volume + self.input_tokens + self.output_tokens + self.rate_mix


def _money(value: float) -> Decimal:
    return to_money(Decimal(repr(float(value))))


def decompose(observed_cost: Decimal, expected_cost: Decimal, observed: Usage, expected: Usage) -> Decomposition:
    """Split ``observed_cost - expected_cost`` into volume, input and output tokens per request, and rate/mix."""
    change = observed_cost - expected_cost
    if expected.requests <= 0 or observed.requests <= 0:
        # A boundary with no expected requests (or none observed) changed by volume alone.
        zero = to_money(0)
        return Decomposition(volume=change, input_tokens=zero, output_tokens=zero, rate_mix=zero)

    expected_total = float(expected_cost)
    class_total = sum(expected.class_cost.values())
    scale = expected_total / class_total if class_total > 0 else 0.0
    prices = {}
    for token_class in TOKEN_CLASSES:
        expected_tokens = expected.tokens.get(token_class, 0.0)
        if expected_tokens > 0:
            prices[token_class] = expected.class_cost.get(token_class, 0.0) * scale / expected_tokens
        elif observed.tokens.get(token_class, 0.0) > 0:
            # A class the window did not expect is priced at its observed rate.
            prices[token_class] = observed.class_cost.get(token_class, 0.0) / observed.tokens[token_class]
        else:
            prices[token_class] = 0.0

    per_request_expected = expected_total / expected.requests
    volume = (observed.requests - expected.requests) * per_request_expected

    def tokens_effect(classes: tuple[str, ...]) -> float:
        total = 0.0
        for token_class in classes:
            observed_per_request = observed.tokens.get(token_class, 0.0) / observed.requests
            expected_per_request = expected.tokens.get(token_class, 0.0) / expected.requests
            total += (observed_per_request - expected_per_request) * prices[token_class]
        return observed.requests * total

    volume_part = _money(volume)
    input_part = _money(tokens_effect(INPUT_CLASSES))
    output_part = _money(tokens_effect(("output",)))
    return Decomposition(
        volume=volume_part,
        input_tokens=input_part,
        output_tokens=output_part,
        rate_mix=change - volume_part - input_part - output_part,
    )
