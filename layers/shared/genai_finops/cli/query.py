"""``genai-finops query``: run SQL against the lake and print the result."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import decimal
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import InputError
from .common import Context


def register(subparsers: Any, add_common_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``query`` command."""
    parser = subparsers.add_parser(
        "query",
        help="run SQL against the lake",
        description="Run one SQL statement against the lake's tables. SQL is in the Athena (Trino) dialect "
        "unless --dialect duckdb is given.",
    )
    parser.add_argument("sql", nargs="?", help="the SQL statement, or - to read it from standard input")
    parser.add_argument("--file", type=Path, default=None, help="read the SQL statement from this file instead")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="VALUE",
        help="value for the next ? placeholder, as text (repeat for several placeholders)",
    )
    parser.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output format (default: table)"
    )
    parser.add_argument("--dialect", choices=("trino", "duckdb"), default="trino", help="SQL dialect of the input")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(context: Context, args: argparse.Namespace) -> int:
    """Run the query and print it in the chosen format."""
    if (args.sql is None) == (args.file is None):
        raise InputError("give the SQL statement as an argument or with --file, not both")
    if args.file is not None:
        try:
            sql = args.file.read_text(encoding="utf-8")
        except OSError as error:
            raise InputError(f"cannot read SQL file: {error.strerror}", source=str(args.file)) from error
    else:
        sql = sys.stdin.read() if args.sql == "-" else args.sql
    if not sql.strip():
        raise InputError("the SQL statement is empty")
    if args.dialect == "duckdb":
        result = context.lake.query_duckdb(sql, args.param)
    else:
        result = context.lake.query(sql, args.param)
    write_result(result, args.format, sys.stdout)
    return 0


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        if value and all(isinstance(item, tuple) and len(item) == 2 for item in value):
            return {str(key): _plain(item) for key, item in value}
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


def write_result(table: pa.Table, output_format: str, stream: Any) -> None:
    """Write an Arrow table as an aligned text table, CSV or JSON lines."""
    rows = [{name: _plain(value) for name, value in row.items()} for row in table.to_pylist()]
    if output_format == "json":
        for row in rows:
            stream.write(json.dumps(row, default=str) + "\n")
        return
    if output_format == "csv":
        writer = csv.writer(stream)
        writer.writerow(table.column_names)
        for row in rows:
            writer.writerow(["" if row[name] is None else row[name] for name in table.column_names])
        return
    cells = [[_cell(row[name]) for name in table.column_names] for row in rows]
    widths = [max([len(name), *(len(line[i]) for line in cells)]) for i, name in enumerate(table.column_names)]
    stream.write("  ".join(name.ljust(width) for name, width in zip(table.column_names, widths, strict=True)) + "\n")
    stream.write("  ".join("-" * width for width in widths) + "\n")
    for line in cells:
        stream.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + "\n")
    stream.write(f"({table.num_rows} rows)\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)
