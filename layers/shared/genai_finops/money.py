"""Exact money arithmetic: the decimal type of every cost column and cent-conserving splits."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

import pyarrow as pa

# Every cost column in the lake is DECIMAL(38, 10). Ten places keep per-token costs
# (a few millionths of a dollar) exact while leaving 28 integer digits.
MONEY_PRECISION = 38
MONEY_SCALE = 10
MONEY_TYPE = pa.decimal128(MONEY_PRECISION, MONEY_SCALE)
MONEY_SQL_TYPE = f"DECIMAL({MONEY_PRECISION},{MONEY_SCALE})"
QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
CENT = Decimal("0.01")


def to_money(value: Decimal | int | str) -> Decimal:
    """Round a value to the lake's money scale, half to even."""
    return Decimal(value).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def split_by_weights(total: Decimal, weights: Sequence[int | Decimal], quantum: Decimal = QUANTUM) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` so that the parts add up to ``total`` exactly.

    Uses the largest-remainder method on multiples of ``quantum``: each part gets the floor of its
    exact share, and the leftover quanta go to the parts with the largest remainders (ties to the
    earlier index). ``total`` must be a multiple of ``quantum``. Zero total weight raises ValueError,
    because the caller must decide where unweighted cost goes.
    """
    if not weights:
        raise ValueError("split_by_weights needs at least one weight")
    weight_sum = sum(Decimal(w) for w in weights)
    if weight_sum <= 0:
        raise ValueError(f"weights must have a positive sum, got {weight_sum}")
    if any(Decimal(w) < 0 for w in weights):
        raise ValueError("weights must not be negative")
    units_total = total / quantum
    if units_total != units_total.to_integral_value():
        raise ValueError(f"total {total} is not a multiple of {quantum}")
    sign = -1 if units_total < 0 else 1
    units = int(abs(units_total))

    floors: list[int] = []
    remainders: list[tuple[Decimal, int]] = []
    for index, weight in enumerate(weights):
        exact = Decimal(units) * Decimal(weight) / weight_sum
        floor = int(exact)
        floors.append(floor)
        remainders.append((exact - floor, index))
    leftover = units - sum(floors)
    for _, index in sorted(remainders, key=lambda item: (-item[0], item[1]))[:leftover]:
        floors[index] += 1
    return [sign * quantum * floor for floor in floors]
