"""Time the parts of attribution that do not depend on how the bill is allocated.

Attribution must write one request_costs row of 32 columns per request and count distinct users
exactly per day and key and per month and key. This script times those parts alone, on the
attribution benchmark's lake, beside the bare join that the benchmark uses as its baseline:

1. the request_costs rows with the allocation left out (costs copied from token counts), written
   slice by slice through the product's own staging code, with the same slices and writer thread;
2. the exact distinct users per UTC day and key, and per month and key, from invocations;
3. for comparison, rows with only the request id, hour, keys, estimated and billed cost and state.

Their sum is what attribution spends before any allocation work, with the writer and the plain
GROUP BY the product uses today (a cleverer distinct count could take less).
Run ``make bench`` (or ``python -m benchmarks.run --only attribution``) first to
generate the data, then: ``python -m benchmarks.attribution_floor``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.attribution_data import BARE_JOIN_SQL, PERIOD
from genai_finops.attribution import BillingPeriod
from genai_finops.attribution.run import DEFAULT_SLICE_REQUESTS
from genai_finops.attribution.slices import StagedRequestCosts, request_slices
from genai_finops.lake.local import LocalLake
from genai_finops.tables import REQUEST_COSTS

ROOT = Path(__file__).resolve().parents[1]
LAKE = ROOT / "bench-data" / "attribution" / "lake"

# Every request_costs column, in order, from invocations alone: no bill is read and nothing is split.
ROWS_SQL = """
SELECT
    request_id, timestamp, date_trunc('hour', make_timestamp(epoch_us(timestamp))) AS hour,
    CAST(make_timestamp(epoch_us(timestamp)) AS DATE) AS day,
    account_id, region, model, model_id, inference_profile_id, route, principal, iam_role,
    team, feature, environment, tenant, user_key,
    input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens,
    CAST(input_tokens + output_tokens AS DECIMAL(38, 10)) AS estimated_cost,
    CAST(input_tokens + output_tokens AS DECIMAL(38, 10)) AS billed_cost,
    CAST(input_tokens + output_tokens AS DECIMAL(38, 10)) AS cost,
    CAST(input_tokens AS DECIMAL(38, 10)) AS input_cost,
    CAST(cache_read_tokens AS DECIMAL(38, 10)) AS cache_read_cost,
    CAST(cache_write_tokens AS DECIMAL(38, 10)) AS cache_write_cost,
    CAST(output_tokens AS DECIMAL(38, 10)) AS output_cost,
    'billed' AS state, true AS priced, CAST(2 AS BIGINT) AS matched_cells
FROM invocations
WHERE date >= ? AND date < ?
"""

# For comparison, rows with only the request id, hour, keys, estimated and billed cost and state.
MINIMUM_ROWS_SQL = """
SELECT
    request_id, date_trunc('hour', make_timestamp(epoch_us(timestamp))) AS hour,
    account_id, region, model_id, inference_profile_id, principal,
    team, feature, environment, tenant, user_key,
    CAST(input_tokens + output_tokens AS DECIMAL(38, 10)) AS estimated_cost,
    CAST(input_tokens + output_tokens AS DECIMAL(38, 10)) AS billed_cost,
    'billed' AS state
FROM invocations
WHERE date >= ? AND date < ?
"""

KEYS = "team, feature, environment, model_id, inference_profile_id, tenant"
DAILY_USERS_SQL = (
    f"SELECT CAST(make_timestamp(epoch_us(timestamp)) AS DATE) AS day, {KEYS}, count(DISTINCT user_key) "
    "FROM invocations GROUP BY ALL"
)
MONTHLY_USERS_SQL = f"SELECT {KEYS}, count(DISTINCT user_key) FROM invocations GROUP BY ALL"


def timed(label: str, action: Callable[[], object]) -> float:
    """Run ``action``, print its wall time and return it."""
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.2f} s", flush=True)
    return seconds


def write_slices(lake: LocalLake, sql: str, write: Callable[[pa.Table, int], object]) -> None:
    """Run ``sql`` for each request slice of the benchmark month and write each result on a second thread.

    The slices and the writer thread are the product's own, so one slice is written while the next is read.
    """
    period = BillingPeriod.parse(PERIOD)
    connection = lake.connect(read_only=True)
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        for index, window in enumerate(request_slices(lake, period, DEFAULT_SLICE_REQUESTS)):
            rows = connection.sql(sql, params=[window[0], window[1]]).to_arrow_table()
            if pending is not None:
                pending.result()
            pending = writer.submit(write, rows, index)
        if pending is not None:
            pending.result()
    connection.close()


def write_rows(lake: LocalLake, folder: Path) -> None:
    """Write request_costs-shaped rows with the product's staging code, which also sums them."""
    connection = lake.connect(read_only=True)
    columns = connection.sql(ROWS_SQL, params=["", ""]).columns
    connection.close()
    if columns != REQUEST_COSTS.schema.names:
        raise RuntimeError(
            f"ROWS_SQL returns {columns}, but request_costs has {REQUEST_COSTS.schema.names}: update ROWS_SQL"
        )
    staged = StagedRequestCosts()
    write_slices(lake, ROWS_SQL, lambda rows, _index: staged.add(rows, folder))


def write_minimum_rows(lake: LocalLake, folder: Path) -> None:
    """Write only the minimum columns per request, one zstd Parquet file per slice."""
    write_slices(
        lake,
        MINIMUM_ROWS_SQL,
        lambda rows, index: pq.write_table(rows, folder / f"minimum-{index:05d}.parquet", compression="zstd"),
    )


def main() -> int:
    """Print the bare join, each allocation-independent part and their sum against three times the join."""
    if not (LAKE / "tables" / "invocations").exists():
        print(f"no benchmark lake at {LAKE}: run `python -m benchmarks.run --only attribution` first", file=sys.stderr)
        return 2
    lake = LocalLake(LAKE)
    folder = Path(tempfile.mkdtemp(prefix="attribution-floor-"))
    try:
        connection = lake.connect()
        join = timed(
            "bare join (benchmark baseline)",
            lambda: connection.execute(f"COPY ({BARE_JOIN_SQL}) TO '{folder}/bare-join.parquet' (FORMAT parquet)"),
        )
        rows = timed("request_costs rows without allocation", lambda: write_rows(lake, folder))
        daily = timed("distinct users per day and key", lambda: connection.sql(DAILY_USERS_SQL).to_arrow_table())
        monthly = timed("distinct users per month and key", lambda: connection.sql(MONTHLY_USERS_SQL).to_arrow_table())
        minimum = timed("rows with only id, hour, keys, costs and state", lambda: write_minimum_rows(lake, folder))
        connection.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    floor = rows + daily + monthly
    print(f"sum of the parts: {floor:.2f} s = {floor / join:.2f}x the bare join (target: 3x = {3 * join:.2f} s)")
    lean = minimum + daily + monthly
    print(f"with the minimum columns in place of all 32: {lean:.2f} s = {lean / join:.2f}x the bare join")
    return 0


if __name__ == "__main__":
    sys.exit(main())
