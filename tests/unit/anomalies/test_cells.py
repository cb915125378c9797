"""Hourly cells from invocation logs: priced with the price catalog where it has a row, else list prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genai_finops.anomalies.cells import load_hourly_cells
from genai_finops.config import GovernanceConfig
from genai_finops.lake.local import LocalLake
from genai_finops.money import MONEY_TYPE
from genai_finops.tables import PRICE_CATALOG

from .builders import SONNET, START, InvocationWriter, Stream

CHAT = Stream("support", "chat", "prod", SONNET, "arn:aws:iam::111122223333:role/support")


def _write_catalog(lake: LocalLake, day: dt.date, input_price: str, output_price: str) -> None:
    rows = [
        {
            "day": day,
            "model_id": SONNET,
            "token_class": token_class,
            "tier": "standard",
            "region": "us-east-1",
            "route": "in_region",
            "price_per_million": Decimal(price),
            "source": "bill",
            "reference_price_per_million": Decimal(price),
            "reference_source": "list",
            "currency": "USD",
        }
        for token_class, price in (("input", input_price), ("output", output_price))
    ]
    table = pa.Table.from_pylist(rows, PRICE_CATALOG.schema)
    lake.write_partition("price_catalog", {"billing_period": day.strftime("%Y-%m")}, table)


def _total(cells: pa.Table, hour: dt.datetime) -> Decimal:
    selected = cells.filter(pc.equal(cells.column("hour"), pa.scalar(hour, cells.schema.field("hour").type)))
    return pc.sum(selected.column("cost")).as_py()  # type: ignore[no-any-return]


def test_catalog_price_used_where_present(lake: LocalLake) -> None:
    writer = InvocationWriter()
    writer.add(CHAT, np.array([10, 10]), first_hour=0)
    writer.add(CHAT, np.array([10]), first_hour=24)
    writer.write(lake)
    # The bill's own rate (2 and 10 per million) on the first day only; the second day has no catalog row.
    _write_catalog(lake, START.date(), "2", "10")
    cells, unpriced = load_hourly_cells(lake, GovernanceConfig(), START, START + dt.timedelta(days=2))
    assert unpriced == 0
    assert cells.schema.field("cost").type == MONEY_TYPE
    # 10 requests of 2,000 input and 400 output tokens: 10 x (0.004 + 0.004) at the catalog's rate.
    assert _total(cells, START) == Decimal("0.0800000000")
    # The list price of the shipped snapshot (3 and 15 per million): 10 x (0.006 + 0.006).
    assert _total(cells, START + dt.timedelta(hours=24)) == Decimal("0.1200000000")


def test_unknown_model_counted_unpriced(lake: LocalLake) -> None:
    writer = InvocationWriter()
    writer.add(Stream("support", "chat", "prod", "example.unknown-model-v1", "role/support"), np.array([7]))
    writer.write(lake)
    cells, unpriced = load_hourly_cells(lake, GovernanceConfig(), START, START + dt.timedelta(hours=1))
    assert unpriced == 7
    assert cells.num_rows == 1
    assert cells.column("requests")[0].as_py() == 7
