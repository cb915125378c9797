"""Small Arrow tables built from Python values through DuckDB, so that pyarrow never imports pandas.

pyarrow 25 imports pandas the first time it converts Python values (``pa.array`` of a list,
``pa.table`` of lists, a compute function called with a Python scalar), and that import took about
0.8 s on a 2-core machine (``python -X importtime``). Ingestion and attribution need nothing else from
pandas, so the few tables they build from Python values go through DuckDB's own parameter conversion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pyarrow as pa

from .money import MONEY_SQL_TYPE, MONEY_TYPE
from .tables import UTC_TIMESTAMP

# DuckDB types of the Arrow types these functions convert.
SQL_TYPES = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    UTC_TIMESTAMP: "TIMESTAMPTZ",
    MONEY_TYPE: MONEY_SQL_TYPE,
}


def columns_to_table(columns: Mapping[str, Sequence[Any]], schema: pa.Schema) -> pa.Table:
    """Convert one list of Python values per field of ``schema`` to an Arrow table of ``schema``.

    Raise ValueError when a field has no list, when the lists differ in length, or when a field's type
    is not in SQL_TYPES.
    """
    missing = [field.name for field in schema if field.name not in columns]
    if missing:
        raise ValueError(f"missing values for columns {missing}")
    lengths = {len(columns[field.name]) for field in schema}
    if len(lengths) > 1:
        raise ValueError(f"columns differ in length: {sorted(lengths)}")
    unknown = [field.name for field in schema if field.type not in SQL_TYPES]
    if unknown:
        raise ValueError(f"no DuckDB type for the Arrow types of columns {unknown}")
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        selects = ", ".join(
            f'unnest(?::{SQL_TYPES[field.type]}[]) AS "{field.name.replace(chr(34), chr(34) * 2)}"' for field in schema
        )
        values = [list(columns[field.name]) for field in schema]
        return connection.sql(f"SELECT {selects}", params=values).to_arrow_table().cast(schema)
    finally:
        connection.close()


def rows_to_table(rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Convert rows of Python values (one mapping per row) to an Arrow table of ``schema``."""
    return columns_to_table({field.name: [row[field.name] for row in rows] for field in schema}, schema)
