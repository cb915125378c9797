"""Small string tables built from Python lists inside an ingest connection.

The tables are created from list parameters with ``unnest`` rather than from Arrow tables, for two
reasons. They live in the connection's database, so the cursors that write partitions in parallel can
read them, while a registered Arrow table is visible to one cursor only. And building a pyarrow array
from a Python list imports pandas (pyarrow 25 checks for pandas objects), which costs about 0.8 s of
CPU in an ingest that needs nothing else from pandas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb


def create_string_table(
    connection: duckdb.DuckDBPyConnection, name: str, columns: Mapping[str, Sequence[str | None]]
) -> None:
    """Create (or replace) table ``name`` with one VARCHAR column per entry of ``columns``.

    Raises ``ValueError`` when the lists differ in length.
    """
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of table {name} have different lengths: {sorted(lengths)}")
    names = list(columns)
    items = ", ".join(f'CAST(unnest($column_{index}) AS VARCHAR) AS "{column}"' for index, column in enumerate(names))
    params = {f"column_{index}": list(columns[column]) for index, column in enumerate(names)}
    connection.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT {items}', params)
