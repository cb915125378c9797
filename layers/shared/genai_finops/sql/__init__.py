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
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.optimizer.annotate_types import annotate_types

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


def _utc_wall_clock(node: exp.Expression) -> exp.Expression:
    """Rewrite ``column AT TIME ZONE 'UTC'`` to ``make_timestamp(epoch_us(column))``.

    Every timestamp column of the lake is a UTC instant. DuckDB converts one to its UTC wall-clock
    time through ICU calendars, at about 60 ns a row on the benchmark machine. Reading the instant's
    microseconds gives the same naive timestamp about six times faster. Expressions other than a
    column keep the generic translation.
    """
    if (
        isinstance(node, exp.AtTimeZone)
        and isinstance(node.this, exp.Column)
        and isinstance(node.args.get("zone"), exp.Literal)
        and node.args["zone"].this.upper() == "UTC"
    ):
        microseconds = exp.Anonymous(this="epoch_us", expressions=[node.this])
        return exp.Anonymous(this="make_timestamp", expressions=[microseconds])
    return node


def _exact_percentile(node: exp.Expression) -> exp.Expression:
    """Rewrite Trino's ``approx_percentile(x, p)`` to DuckDB's exact ``quantile_disc(x, p)``.

    Locally the exact percentile is both faster than DuckDB's approximate one (it sorts each group
    once for all requested percentiles) and the same on every run. Athena keeps approx_percentile.
    ``approx_percentile(x, ARRAY[...])[n]`` becomes ``list_extract(quantile_disc(x, [...]), n)``: both
    engines count list positions from 1.
    """
    if isinstance(node, exp.Bracket) and isinstance(node.this, exp.ApproxQuantile) and len(node.expressions) == 1:
        quantiles = node.this
        percentile = exp.Anonymous(this="quantile_disc", expressions=[quantiles.this, quantiles.args["quantile"]])
        return exp.Anonymous(this="list_extract", expressions=[percentile, node.expressions[0]])
    if isinstance(node, exp.ApproxQuantile):
        return exp.Anonymous(this="quantile_disc", expressions=[node.this, node.args["quantile"]])
    return node


def _integer_division(node: exp.Expression) -> exp.Expression:
    """Keep Trino's integer division where both operands are integers by type.

    In Trino, BIGINT / BIGINT truncates toward zero. DuckDB's ``/`` returns a double, which loses
    exactness above 2^53, and its ``//`` truncates toward zero like Trino.
    """
    if isinstance(node, exp.Div) and node.args.get("typed"):
        integer_types = exp.DataType.INTEGER_TYPES
        if node.this.type.is_type(*integer_types) and node.expression.type.is_type(*integer_types):
            return exp.IntDiv(this=node.this, expression=node.expression)
    return node


def _local_rewrites(node: exp.Expression) -> exp.Expression:
    return _integer_division(_exact_percentile(_utc_wall_clock(node)))


@lru_cache(maxsize=512)
def trino_to_duckdb(sql: str) -> str:
    """Translate Trino SQL to DuckDB SQL, keeping ``?`` parameters in place."""
    try:
        statements = sqlglot.parse(sql, read="trino")
    except ParseError as error:
        raise SqlError(f"SQL does not parse as Trino: {error}") from error
    if len(statements) != 1 or statements[0] is None:
        raise SqlError(f"expected exactly one SQL statement, got {len(statements)}")
    return annotate_types(statements[0]).transform(_local_rewrites).sql(dialect="duckdb")
