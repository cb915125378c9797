"""Merging new invocation rows into the ``invocations`` table under the one-row-per-request rule.

Duplicate rule: among all records with the same ``request_id`` (already in the table or new), the
one with the most tokens (input + cache read + cache write + output) counts. Ties go to the smallest
``(source_object, source_line)``, then to the row already in the table, so the result does not depend
on the order in which objects arrive and reloading an object changes nothing. Streaming calls that
first log a zero-count record are therefore counted by their real record.

Each date partition touched is read whole, unioned with the new rows, reduced by the rule and
published as a new generation. Partitions of the neighbouring days are searched for the new request
ids too, so a request whose records straddle midnight UTC still counts once.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ..lake.base import Lake
from ..tables import INVOCATIONS

_TOTAL = (
    "(coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0) "
    "+ coalesce(cache_write_tokens, 0) + coalesce(output_tokens, 0))"
)


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


def _load_partitions(lake: Lake, dates: Sequence[str]) -> pa.Table:
    columns = ", ".join(f'"{name}"' for name in INVOCATIONS.full_schema.names)
    if not dates:
        return INVOCATIONS.full_schema.empty_table()
    return lake.query(f"SELECT {columns} FROM invocations WHERE date IN {_in_list(dates)}", list(dates))


def merge_candidates(
    connection: duckdb.DuckDBPyConnection,
    lake: Lake,
    progress: Callable[[str], None] | None = None,
) -> MergeStats:
    """Merge the ``candidates`` table of ``connection`` into the lake and return what changed."""
    stats = MergeStats()
    new_dates = sorted(str(row[0]) for row in connection.sql("SELECT DISTINCT date FROM candidates").fetchall())
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
            "SELECT DISTINCT n.date FROM neighbour_ids n JOIN candidates c USING (request_id)"
        ).fetchall()
        connection.unregister("neighbour_ids")
        load_dates += sorted(str(row[0]) for row in shared)
    connection.register("existing_rows", _load_partitions(lake, load_dates))

    columns = ", ".join(f'"{name}"' for name in INVOCATIONS.full_schema.names)
    # Only request ids that occur more than once are sorted; every other row is the one kept for its id.
    connection.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ranked AS
        WITH pool AS (
            SELECT {columns}, true AS is_new FROM candidates
            UNION ALL
            SELECT {columns}, false AS is_new FROM existing_rows
        ),
        repeated AS (SELECT request_id FROM pool GROUP BY request_id HAVING count(*) > 1)
        SELECT *, 1::BIGINT AS rank_in_request FROM pool ANTI JOIN repeated USING (request_id)
        UNION ALL
        SELECT *, row_number() OVER (
            PARTITION BY request_id
            ORDER BY {_TOTAL} DESC, source_object, source_line, is_new
        ) AS rank_in_request
        FROM pool SEMI JOIN repeated USING (request_id)
        """
    )
    connection.unregister("existing_rows")
    connection.execute("DROP TABLE candidates")
    _count(connection, stats)

    changed = [
        str(row[0])
        for row in connection.sql(
            "SELECT DISTINCT date FROM ranked "
            "WHERE (is_new AND rank_in_request = 1) OR (NOT is_new AND rank_in_request > 1) ORDER BY date"
        ).fetchall()
    ]
    _publish(connection, lake, changed)
    stats.partitions_written = changed
    if progress is not None and changed:
        progress(f"published {len(changed)} invocations partitions: {', '.join(changed)}")
    return stats


def _count(connection: duckdb.DuckDBPyConnection, stats: MergeStats) -> None:
    counts = connection.sql(
        """
        SELECT
            count(*) FILTER (WHERE is_new AND rank_in_request = 1),
            count(*) FILTER (WHERE is_new AND rank_in_request > 1),
            count(*) FILTER (WHERE NOT is_new AND rank_in_request > 1),
            coalesce(sum(input_tokens) FILTER (WHERE is_new AND rank_in_request = 1), 0),
            coalesce(sum(cache_read_tokens) FILTER (WHERE is_new AND rank_in_request = 1), 0),
            coalesce(sum(cache_write_tokens) FILTER (WHERE is_new AND rank_in_request = 1), 0),
            coalesce(sum(output_tokens) FILTER (WHERE is_new AND rank_in_request = 1), 0),
            count(*) FILTER (WHERE is_new AND rank_in_request = 1 AND model IS NULL
                             AND inference_profile_id LIKE 'arn:%:application-inference-profile/%'),
            count(*) FILTER (WHERE is_new AND rank_in_request = 1 AND model IS NULL
                             AND (inference_profile_id IS NULL OR inference_profile_id NOT LIKE 'arn:%'))
        FROM ranked
        """
    ).fetchall()[0]
    values = [int(value) for value in counts]
    stats.loaded, stats.duplicate, stats.replaced = values[0:3]
    stats.tokens = (values[3], values[4], values[5], values[6])
    stats.unresolved_profile, stats.unknown_model = values[7], values[8]


def _publish(connection: duckdb.DuckDBPyConnection, lake: Lake, dates: Sequence[str]) -> None:
    """Write the kept rows of each date in one parallel Parquet pass, then publish each partition."""
    if not dates:
        return
    columns = ", ".join(f'"{name}"' for name in INVOCATIONS.full_schema.names)
    staging = lake.staging_dir()
    try:
        connection.execute(
            f"COPY (SELECT {columns} FROM ranked WHERE rank_in_request = 1 AND date IN {_in_list(dates)}) "
            f"TO '{_sql_path(staging)}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date))",
            list(dates),
        )
        for date in dates:
            files = sorted((staging / f"date={date}").glob("*.parquet"))
            lake.publish_partition(INVOCATIONS.name, {"date": date}, files)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _shift(date: str, days: int) -> str:
    return (dt.date.fromisoformat(date) + dt.timedelta(days=days)).isoformat()
