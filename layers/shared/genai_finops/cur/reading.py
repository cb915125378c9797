"""Open one billing-export file: undo compression, check integrity, and expose it to DuckDB as Parquet.

CSV text is converted once into a Parquet file of text columns, so that every later step reads a
columnar file with row numbers, whatever the input was. Gzip and zip input is decompressed by Python
first, because a truncated gzip stream must fail the delivery and DuckDB's CSV reader stops at the
break without an error (DuckDB 2.0).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import shutil
import zipfile
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


@dataclass(frozen=True)
class OpenedFile:
    """A billing file ready for SQL.

    ``parquet`` is the file DuckDB reads; ``headers`` are the original column names and ``physical``
    the names in ``parquet`` (``c0``, ``c1``, ... for converted CSV, whose headers may repeat).
    ``first_line`` is the source line number of the file's first row (2 for CSV with a header).
    NOTE: CSV line numbers count records, so they run behind the file's lines after a quoted field
    that spans several lines.
    """

    source: str
    parquet: Path
    headers: tuple[str, ...]
    physical: tuple[str, ...]
    types: dict[str, str]
    first_line: int


def _magic(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(4)


def _gunzip(path: Path, target: Path, source: str) -> None:
    try:
        with gzip.open(path, "rb") as compressed, open(target, "wb") as plain:
            shutil.copyfileobj(compressed, plain, length=1 << 20)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"corrupt gzip file ({error}); download the delivery again", source=source) from error


def expand(path: Path, staging: Path) -> list[tuple[str, Path]]:
    """Return (source name, local plain file) pairs: one for plain or gzip files, one per zip member."""
    source = str(path)
    magic = _magic(path)
    if magic[:2] == _GZIP_MAGIC:
        target = staging / f"{path.name}.plain"
        _gunzip(path, target, source)
        return [(source, target)]
    if magic == _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as archive:
                members = [info for info in archive.infolist() if not info.is_dir()]
                expanded = []
                for index, info in enumerate(members):
                    target = staging / f"{path.name}.{index}.plain"
                    with archive.open(info) as member, open(target, "wb") as plain:
                        shutil.copyfileobj(member, plain, length=1 << 20)
                    expanded.append((f"{source}/{info.filename}", target))
                return expanded
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
            raise InputError(f"corrupt zip file ({error})", source=source) from error
    return [(source, path)]


def _read_csv_header(path: Path, source: str) -> list[str] | None:
    with open(path, "rb") as handle:
        first = handle.readline()
    if not first.strip():
        return None
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"header is not UTF-8 text ({error})", source=source, line=1) from error
    return next(csv.reader(io.StringIO(text)))


# Chooses the physical columns of a CSV file that later steps read, from its headers and physical
# names; None keeps every column.
ColumnChooser = Callable[[tuple[str, ...], tuple[str, ...]], Collection[str] | None]
# The converted file's column that makes DuckDB parse and check the CSV columns that are not kept.
UNUSED_CHECK_COLUMN = "__unused_columns_checked"


def open_file(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    staging: Path,
    index: int,
    choose_columns: ColumnChooser | None = None,
) -> OpenedFile | None:
    """Prepare one plain file for SQL; return None for an empty file. Raise InputError for a corrupt one.

    ``choose_columns`` limits which CSV columns are converted; every column is still parsed and checked.
    """
    if _magic(path) == _PARQUET_MAGIC:
        try:
            schema = pq.read_schema(path)
            pq.ParquetFile(path).metadata  # noqa: B018 - reading the footer checks the file's integrity
        except (pa.ArrowException, OSError) as error:
            raise InputError(f"corrupt Parquet file ({error})", source=source) from error
        names = tuple(schema.names)
        described = connection.execute(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))", [str(path)]
        ).fetchall()
        return OpenedFile(source, path, names, names, {str(n): str(t) for n, t in described}, 1)

    headers = _read_csv_header(path, source)
    if headers is None:
        return None
    physical = tuple(f"c{i}" for i in range(len(headers)))
    target = staging / f"raw-{index:05d}.parquet"
    columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in physical) + "}"
    chosen = choose_columns(tuple(headers), physical) if choose_columns else None
    kept = [name for name in physical if chosen is None or name in chosen]
    unused = [name for name in physical if name not in kept]
    selected = list(kept)
    if unused:
        # DuckDB 2.0.1 skips the UTF-8 check of a CSV column that no expression reads. So the unused columns
        # are read into one boolean, and a bad value fails the file as before without those columns written.
        selected.append(f"hash({', '.join(unused)}) = 0 AS {UNUSED_CHECK_COLUMN}")
    selects = ", ".join(selected)
    # Row order must survive the conversion: the Parquet row number is how a CSV line is named later.
    # The file is scratch and already smaller than the CSV (a fifth of the size of the benchmark's input),
    # so it is not compressed. zstd added 7% to the CPU time of ingesting 1 million lines (DuckDB 2.0.1).
    previous_order = connection.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    connection.execute("SET preserve_insertion_order = true")
    try:
        connection.execute(
            f"COPY (SELECT {selects} FROM read_csv(?, columns = {columns}, header = true, auto_detect = false, "
            "delim = ',', quote = '\"', escape = '\"', strict_mode = true, null_padding = false, "
            "nullstr = ['', 'NULL'], encoding = 'utf-8')) TO ? (FORMAT parquet, COMPRESSION uncompressed)",
            [str(path), str(target)],
        )
    except duckdb.OutOfMemoryException as error:
        raise InputError(
            f"converting the CSV file's {len(headers)} columns ran out of memory ({str(error).splitlines()[0]}); "
            "the file is not known to be malformed. Export fewer columns (for example fewer cost allocation "
            "tags), or raise the memory limit (ingest-cur --memory-limit, or the function's memory in AWS)",
            source=source,
        ) from error
    except duckdb.Error as error:
        message = str(error)
        line = _CSV_LINE.search(message)
        expected = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
        if expected:
            summary = f"expected {expected.group(1)} columns, found {expected.group(2)}"
        else:
            summary = message.splitlines()[0]
        raise InputError(
            f"malformed CSV row ({summary}); fix or re-export the file",
            source=source,
            line=int(line.group(1)) if line else None,
        ) from error
    finally:
        restore = "true" if previous_order is None or previous_order[0] else "false"
        connection.execute(f"SET preserve_insertion_order = {restore}")
    return OpenedFile(source, target, tuple(headers), physical, dict.fromkeys(physical, "VARCHAR"), 2)
