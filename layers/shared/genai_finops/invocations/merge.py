"""Merging new invocation rows into the ``invocations`` table under the one-row-per-request rule.

Duplicate rule: among all records with the same ``request_id`` (already in the table or new), the
one with the most tokens (input + cache read + cache write + output) counts. Ties go to the smallest
``(source_object, source_line)``, then to the row already in the table, so the result does not depend
on the order in which objects arrive and reloading an object changes nothing. Streaming calls that
first log a zero-count record are therefore counted by their real record.

Each date partition touched is read whole, unioned with the new rows, reduced by the rule and
published as a new generation. Partitions of the neighbouring days are searched for the new request
ids too, so a request whose records straddle midnight UTC still counts once.

The new rows are never materialised as a whole. The rule is applied to their keys and token counts
only, which gives a small table of the rows that lose. Each changed partition is then written by one
query that evaluates the new rows of that date and leaves out the losers.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..lake.base import Lake
from ..tables import INVOCATIONS

_TOTAL = (
    "(coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0) "
    "+ coalesce(cache_write_tokens, 0) + coalesce(output_tokens, 0))"
)
_KEY_COLUMNS = "request_id, date, source_object, source_line"


@dataclass(frozen=True)
class CandidateRows:
    """A SELECT over the connection's tables that returns the new rows (``invocations`` columns and ``date``).

    ``keys_sql`` returns the same rows with only the columns that the duplicate rule and the counts read:
    ``request_id``, ``date``, ``source_object``, ``source_line``, the four token counts, ``model`` and
    ``inference_profile_id``. It skips the joins that only the other columns need. ``params`` are the
    named parameters of ``sql``. A new row is identified by ``(source_object, source_line)``.
    """

    sql: str
    keys_sql: str
    params: dict[str, Any]


@dataclass
class MergeStats:
    """What a merge did: new rows kept or dropped as duplicates, old rows replaced, partitions written.

    ``tokens`` sums the input, cache read, cache write and output tokens of the new rows that were kept.
    ``unresolved_profile`` counts kept new rows whose application profile is not in the inventory.
    ``unknown_model`` counts those whose model id has no known form. Both kinds of row have a null model.
    """

    loaded: int = 0
    duplicate: int = 0
    replaced: int = 0
    tokens: tuple[int, int, int, int] = (0, 0, 0, 0)
    unresolved_profile: int = 0
    unknown_model: int = 0
    partitions_written: list[str] = field(default_factory=list)


def _in_list(values: Sequence[str]) -> str:
    return "(" + ", ".join("?" for _ in values) + ")"


def _load_partitions(connection: duckdb.DuckDBPyConnection, lake: Lake, dates: Sequence[str]) -> None:
    """Copy the rows of the given date partitions into table ``existing_rows`` of ``connection``."""
    columns = ", ".join(f'"{name}"' for name in INVOCATIONS.full_schema.names)
    if dates:
        rows = lake.query(f"SELECT {columns} FROM invocations WHERE date IN {_in_list(dates)}", list(dates))
    else:
        # Table.from_batches builds no array from Python objects, so it does not import pandas.
        rows = pa.Table.from_batches([], schema=INVOCATIONS.full_schema)
    connection.register("existing_rows_arrow", rows)
    try:
        connection.execute("CREATE OR REPLACE TABLE existing_rows AS SELECT * FROM existing_rows_arrow")
    finally:
        connection.unregister("existing_rows_arrow")


def merge_candidates(
    connection: duckdb.DuckDBPyConnection,
    lake: Lake,
    candidates: CandidateRows,
    progress: Callable[[str], None] | None = None,
) -> MergeStats:
    """Merge the candidate rows into the lake and return what changed."""
    stats = MergeStats()
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE new_keys AS "
        f"SELECT {_KEY_COLUMNS}, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, "
        f"model, inference_profile_id FROM ({candidates.keys_sql})",
        _used(candidates.params, candidates.keys_sql),
    )
    new_dates = sorted(str(row[0]) for row in connection.sql("SELECT DISTINCT date FROM new_keys").fetchall())
    if not new_dates:
        return stats
    existing_dates = {partition["date"] for partition in lake.partitions(INVOCATIONS.name)}

    load_dates = [date for date in new_dates if date in existing_dates]
    neighbours = sorted(
        {_shift(date, step) for date in new_dates for step in (-1, 1)} & existing_dates - set(new_dates)
    )
    if neighbours:
        ids = lake.query(f"SELECT request_id, date FROM invocations WHERE date IN {_in_list(neighbours)}", neighbours)
        connection.register("neighbour_ids", ids)
        shared = connection.sql(
            "SELECT DISTINCT n.date FROM neighbour_ids n JOIN new_keys c USING (request_id)"
        ).fetchall()
        connection.unregister("neighbour_ids")
        load_dates += sorted(str(row[0]) for row in shared)
    _load_partitions(connection, lake, load_dates)
    _find_losers(connection)
    _count(connection, stats)
    changed = [
        str(row[0])
        for row in connection.sql(
            "SELECT date FROM new_keys ANTI JOIN losers "
            "ON losers.is_new AND losers.source_object = new_keys.source_object "
            "AND losers.source_line = new_keys.source_line "
            "UNION SELECT date FROM losers WHERE NOT is_new ORDER BY date"
        ).fetchall()
    ]
    _publish(connection, lake, candidates, changed)
    stats.partitions_written = changed
    if progress is not None and changed:
        progress(f"published {len(changed)} invocations partitions: {', '.join(changed)}")
    return stats


def _find_losers(connection: duckdb.DuckDBPyConnection) -> None:
    """Fill ``losers``: the new and existing rows that the duplicate rule drops.

    Only request ids that occur more than once are sorted; every other row is the one kept for its id.
    A new row is identified by ``(source_object, source_line)``, because each object occurs once in a
    batch. An existing row is identified by its key columns, because a partition written by this merge
    contains one row per request id.
    """
    connection.execute(
        f"""
        CREATE OR REPLACE TABLE losers AS
        WITH pool AS (
            SELECT {_KEY_COLUMNS}, {_TOTAL} AS total, true AS is_new FROM new_keys
            UNION ALL
            SELECT {_KEY_COLUMNS}, {_TOTAL} AS total, false AS is_new FROM existing_rows
        ),
        repeated AS (SELECT request_id FROM pool GROUP BY request_id HAVING count(*) > 1),
        ranked AS (
            SELECT *, row_number() OVER (
                PARTITION BY request_id
                ORDER BY total DESC, source_object, source_line, is_new
            ) AS rank_in_request
            FROM pool SEMI JOIN repeated USING (request_id)
        )
        SELECT {_KEY_COLUMNS}, is_new FROM ranked WHERE rank_in_request > 1
        """
    )


def _count(connection: duckdb.DuckDBPyConnection, stats: MergeStats) -> None:
    counts = connection.sql(
        """
        SELECT
            count(*) FILTER (WHERE NOT lost),
            count(*) FILTER (WHERE lost),
            coalesce(sum(input_tokens) FILTER (WHERE NOT lost), 0),
            coalesce(sum(cache_read_tokens) FILTER (WHERE NOT lost), 0),
            coalesce(sum(cache_write_tokens) FILTER (WHERE NOT lost), 0),
            coalesce(sum(output_tokens) FILTER (WHERE NOT lost), 0),
            count(*) FILTER (WHERE NOT lost AND model IS NULL
                             AND inference_profile_id LIKE 'arn:%:application-inference-profile/%'),
            count(*) FILTER (WHERE NOT lost AND model IS NULL
                             AND (inference_profile_id IS NULL OR inference_profile_id NOT LIKE 'arn:%')),
            (SELECT count(*) FROM losers WHERE NOT is_new)
        FROM (
            SELECT new_keys.*, losers.is_new IS NOT NULL AS lost
            FROM new_keys LEFT JOIN losers
            ON losers.is_new AND losers.source_object = new_keys.source_object
            AND losers.source_line = new_keys.source_line
        )
        """
    ).fetchall()[0]
    values = [int(value) for value in counts]
    stats.loaded, stats.duplicate = values[0:2]
    stats.tokens = (values[2], values[3], values[4], values[5])
    stats.unresolved_profile, stats.unknown_model = values[6], values[7]
    stats.replaced = values[8]


def _publish(
    connection: duckdb.DuckDBPyConnection, lake: Lake, candidates: CandidateRows, dates: Sequence[str]
) -> None:
    """Write the kept rows of each date to its own Parquet file, then publish each partition.

    One COPY per date, filtered on the date, costs about half the CPU of one COPY with PARTITION_BY,
    which buffers every partition before writing (measured with DuckDB 2.0.1 on 430k rows). A COPY
    of one day writes one row group, which one thread compresses, so the dates are spread over as many
    cursors as DuckDB has threads and written concurrently.
    """
    if not dates:
        return
    staging = lake.staging_dir()
    try:
        for date in dates:
            (staging / f"date={date}").mkdir()
        threads = int(connection.sql("SELECT current_setting('threads')").fetchall()[0][0])
        time_zone = str(connection.sql("SELECT current_setting('TimeZone')").fetchall()[0][0])
        workers = max(1, min(threads, len(dates)))
        groups = [list(dates[index::workers]) for index in range(workers)]

        def write_group(group: list[str]) -> None:
            cursor = connection.cursor()
            try:
                cursor.execute("SET TimeZone = $zone", {"zone": time_zone})
                # Row order within a partition carries no meaning, and an ordered COPY uses fewer threads.
                cursor.execute("SET preserve_insertion_order = false")
                for date in group:
                    _write_date(cursor, candidates, date, staging / f"date={date}" / "data_0.parquet")
            finally:
                cursor.close()

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(write_group, groups):
                pass
        for date in dates:
            files = sorted((staging / f"date={date}").glob("*.parquet"))
            lake.publish_partition(INVOCATIONS.name, {"date": date}, files)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_date(cursor: duckdb.DuckDBPyConnection, candidates: CandidateRows, date: str, path: Path) -> None:
    """Write the kept new and existing rows of one date to ``path``, or no file when no row is kept."""
    columns = ", ".join(f'"{name}"' for name in INVOCATIONS.schema.names)
    kept_rows = f"""
        SELECT {columns} FROM ({candidates.sql}) AS candidates
        WHERE candidates."timestamp" >= $merge_day_start AND candidates."timestamp" < $merge_day_end
        AND candidates.date = $merge_date AND NOT EXISTS (
            SELECT 1 FROM losers WHERE losers.is_new AND losers.source_object = candidates.source_object
            AND losers.source_line = candidates.source_line)
        UNION ALL
        SELECT {columns} FROM existing_rows
        WHERE existing_rows.date = $merge_date AND NOT EXISTS (
            SELECT 1 FROM losers WHERE NOT losers.is_new AND losers.request_id = existing_rows.request_id
            AND losers.date = existing_rows.date
            AND losers.source_object IS NOT DISTINCT FROM existing_rows.source_object
            AND losers.source_line IS NOT DISTINCT FROM existing_rows.source_line)
    """

    # The timestamp range only lets the scan skip row groups of other days, so that a day's COPY does not
    # format the date of every record. It is a day wider on each side than the UTC day, which covers any
    # session time zone, and ``date`` alone decides which rows belong to the day.
    day = dt.datetime.combine(dt.date.fromisoformat(date), dt.time(), dt.UTC)
    params = {
        **_used(candidates.params, candidates.sql),
        "merge_date": date,
        "merge_day_start": day - dt.timedelta(days=1),
        "merge_day_end": day + dt.timedelta(days=2),
    }

    result = cursor.execute(f"COPY ({kept_rows}) TO '{_sql_path(path)}' (FORMAT parquet, COMPRESSION zstd)", params)
    count = result.fetchone()
    # A date whose every row lost to a row of another date is published empty, without a file.
    if count is not None and int(count[0]) == 0:
        path.unlink()


def _used(params: dict[str, Any], sql: str) -> dict[str, Any]:
    # DuckDB rejects named parameters that a statement does not use.
    return {name: value for name, value in params.items() if f"${name}" in sql}


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _shift(date: str, days: int) -> str:
    return (dt.date.fromisoformat(date) + dt.timedelta(days=days)).isoformat()
