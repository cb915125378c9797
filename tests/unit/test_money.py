from __future__ import annotations

from decimal import Decimal

import pytest

from genai_finops.money import CENT, QUANTUM, split_by_weights, to_money


def test_split_conserves_total_exactly() -> None:
    parts = split_by_weights(Decimal("10.00"), [1, 1, 1], quantum=CENT)
    assert parts == [Decimal("3.34"), Decimal("3.33"), Decimal("3.33")]
    assert sum(parts) == Decimal("10.00")


def test_split_gives_leftover_to_largest_remainders() -> None:
    # Exact shares 0.857142..., 0.142857... of 0.07 in cents: 6 and 1 cents.
    parts = split_by_weights(Decimal("0.07"), [6, 1], quantum=CENT)
    assert parts == [Decimal("0.06"), Decimal("0.01")]


def test_split_at_money_quantum_by_token_share() -> None:
    total = Decimal("0.0150000001")
    parts = split_by_weights(total, [3000, 400, 7])
    assert sum(parts) == total
    assert all(part == part.quantize(QUANTUM) for part in parts)


def test_split_negative_total_keeps_sign() -> None:
    parts = split_by_weights(Decimal("-1.00"), [1, 2], quantum=CENT)
    assert parts == [Decimal("-0.33"), Decimal("-0.67")]
    assert sum(parts) == Decimal("-1.00")


@pytest.mark.parametrize("weights", [[0, 0], [], [1, -1]])
def test_split_rejects_unusable_weights(weights: list[int]) -> None:
    with pytest.raises(ValueError):
        split_by_weights(Decimal("1.00"), weights, quantum=CENT)


def test_split_rejects_total_finer_than_quantum() -> None:
    with pytest.raises(ValueError, match="not a multiple"):
        split_by_weights(Decimal("1.005"), [1], quantum=CENT)


def test_to_money_rounds_half_even_at_ten_places() -> None:
    assert to_money("0.00000000005") == Decimal("0.0000000000")
    assert to_money("0.00000000015") == Decimal("0.0000000002")
