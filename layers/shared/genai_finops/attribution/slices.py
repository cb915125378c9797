"""request_costs computed in slices of whole UTC days, staged as Parquet files before publishing."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..lake.base import Lake
from ..money import to_money
from ..sql import load_query
from ..tables import REQUEST_COSTS
from .periods import BillingPeriod, day_window


def sum_money(table: pa.Table, column: str) -> Decimal:
    """Return the exact sum of a money column at the money scale (0 for an empty table)."""
    if table.num_rows == 0:
        return to_money(0)
    total = pc.sum(table.column(column)).as_py()
    return to_money(total if total is not None else 0)


@dataclass
class StagedRequestCosts:
    """Parquet files of one period's ``request_costs``, written slice by slice, and their totals."""

    files: list[Path] = field(default_factory=list)
    billed_cost: Decimal = field(default_factory=lambda: to_money(0))
    request_count: int = 0
    billed_requests: int = 0
    estimated_requests: int = 0
    unpriced_requests: int = 0

    def add(self, slice_costs: pa.Table, folder: Path) -> None:
        """Write one slice as a Parquet file in ``folder`` and add its totals."""
        if slice_costs.num_rows == 0:
            return
        path = folder / f"part-{len(self.files):05d}.parquet"
        schema = REQUEST_COSTS.schema
        pq.write_table(slice_costs.select(schema.names).cast(schema), path, compression="zstd")
        self.files.append(path)
        self.billed_cost += sum_money(slice_costs, "billed_cost")
        self.request_count += slice_costs.num_rows
        # States are counted with value_counts, because comparing with a Python string makes pyarrow import pandas.
        states = {
            str(row["values"]): int(row["counts"]) for row in pc.value_counts(slice_costs.column("state")).to_pylist()
        }
        self.billed_requests += states.get("billed", 0)
        self.estimated_requests += states.get("estimated", 0)
        self.unpriced_requests += slice_costs.num_rows - int(pc.sum(slice_costs.column("priced")).as_py() or 0)


def request_slices(lake: Lake, period: BillingPeriod, slice_requests: int) -> list[list[str]]:
    """Cut the period into runs of whole UTC days holding at most ``slice_requests`` requests each.

    Bill cells are allocated to hourly usage groups first (attribution_group_costs), and a group's
    share is split among the group's own requests only. So the requests of one run of days can be
    allocated on their own, whatever the bill's granularity. A day with more requests than the limit
    is a slice by itself.
    """
    counts = lake.query(load_query("request_counts_by_day"), period.request_window()[:2])
    slices: list[list[str]] = []
    first: dt.date | None = None
    last = period.start
    size = 0
    for row in counts.to_pylist():
        day = dt.date.fromisoformat(row["date"])
        if first is not None and size + row["request_count"] > slice_requests:
            slices.append(day_window(first, last + dt.timedelta(days=1)))
            first, size = None, 0
        if first is None:
            first = day
        last = day
        size += row["request_count"]
    if first is not None:
        slices.append(day_window(first, last + dt.timedelta(days=1)))
    return slices


def stage_request_costs(lake: Lake, period: BillingPeriod, folder: Path, slice_requests: int) -> StagedRequestCosts:
    """Compute ``request_costs`` slice by slice into Parquet files under ``folder``.

    One slice is written to Parquet on a second thread while the query of the next one runs, because
    both release the GIL. At most two slices are in memory at a time.
    """
    staged = StagedRequestCosts()
    sql = load_query("request_costs")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="request-costs-writer") as writer:
        pending: Future[None] | None = None
        for window in request_slices(lake, period, slice_requests):
            # The window's four bounds appear twice: once for the leftover pass, once for the rows.
            costs = lake.query(sql, [str(period), *window, *window])
            if pending is not None:
                pending.result()
            pending = writer.submit(staged.add, costs, folder)
        if pending is not None:
            pending.result()
    return staged
