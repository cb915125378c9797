"""The local rewrites of the Trino-to-DuckDB translation keep Trino's results."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from genai_finops.sql import trino_to_duckdb


def run(sql: str, **tables: pa.Table) -> list[tuple[object, ...]]:
    connection = duckdb.connect()
    try:
        for name, table in tables.items():
            connection.register(name, table)
        return connection.sql(trino_to_duckdb(sql)).fetchall()
    finally:
        connection.close()


def test_utc_column_reads_wall_clock() -> None:
    instants = pa.table(
        {"t": pa.array([dt.datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)], pa.timestamp("us", tz="UTC"))}
    )

    rows = run(
        "SELECT t AT TIME ZONE 'UTC' AS wall, date_trunc('hour', t AT TIME ZONE 'UTC') AS hour FROM x", x=instants
    )

    assert "MAKE_TIMESTAMP(EPOCH_US(t))" in trino_to_duckdb("SELECT t AT TIME ZONE 'UTC' FROM x")
    assert rows == [(dt.datetime(2026, 1, 31, 23, 59, 59, 999999), dt.datetime(2026, 1, 31, 23, 0))]


def test_integer_division_truncates_exactly() -> None:
    # 2^53 + 1 is not a double, so a float division would lose the last digit.
    rows = run(
        "SELECT (CAST(9007199254740993 AS BIGINT) * CAST(3 AS BIGINT) + 5) / CAST(7 AS BIGINT) AS q,"
        " CAST(-7 AS BIGINT) / CAST(2 AS BIGINT) AS negative"
    )

    assert rows == [((9007199254740993 * 3 + 5) // 7, -3)]


def test_decimal_division_is_not_rewritten() -> None:
    assert run("SELECT CAST(7 AS DECIMAL(10, 2)) / CAST(2 AS DECIMAL(10, 2)) AS q") == [(3.5,)]


def test_percentiles_are_exact_values() -> None:
    values = pa.table({"x": pa.array(list(range(1, 101)), pa.int64())})

    rows = run(
        "SELECT approx_percentile(x, ARRAY[0.5, 0.95])[1] AS p50, approx_percentile(x, ARRAY[0.5, 0.95])[2] AS p95,"
        " approx_percentile(x, 0.5) AS single FROM v",
        v=values,
    )

    assert rows == [(50, 95, 50)]
