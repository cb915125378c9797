"""Trino-dialect SQL files and their translation to DuckDB.

Joins and aggregations over the lake are written once, in the Athena (Trino) dialect, in
``sql/queries/<table or purpose>.sql``. Athena runs them as they are; the local lake translates
them to DuckDB with sqlglot before running them.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import sqlglot
from sqlglot.errors import ParseError

from ..errors import FinOpsError


class SqlError(FinOpsError):
    """A SQL file is missing or does not parse in the Trino dialect."""


@lru_cache(maxsize=128)
def load_query(name: str) -> str:
    """Return the text of ``queries/<name>.sql``."""
    resource = resources.files(__package__).joinpath("queries", f"{name}.sql")
    if not resource.is_file():
        raise SqlError(f"SQL file queries/{name}.sql not found in package {__package__}")
    return resource.read_text(encoding="utf-8")


def query_path(name: str) -> Path:
    """Return the file system path of ``queries/<name>.sql`` (for messages that tell users what to run)."""
    return Path(str(resources.files(__package__).joinpath("queries", f"{name}.sql")))


def list_queries() -> list[str]:
    """List the names of all packaged SQL files, without the .sql suffix."""
    folder = resources.files(__package__).joinpath("queries")
    return sorted(entry.name.removesuffix(".sql") for entry in folder.iterdir() if entry.name.endswith(".sql"))


@lru_cache(maxsize=512)
def trino_to_duckdb(sql: str) -> str:
    """Translate Trino SQL to DuckDB SQL, keeping ``?`` parameters in place."""
    try:
        statements = sqlglot.transpile(sql, read="trino", write="duckdb")
    except ParseError as error:
        raise SqlError(f"SQL does not parse as Trino: {error}") from error
    if len(statements) != 1:
        raise SqlError(f"expected exactly one SQL statement, got {len(statements)}")
    return statements[0]
