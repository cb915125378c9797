"""The local lake: Hive-style Parquet folders, a JSON catalog of partition locations, and DuckDB.

Layout under the lake folder::

    tables/<table>/<key>=<value>/.../g=<generation>/part-*.parquet   data files
    _catalog/<table>.json                                             partition -> current location
    documents/<key>                                                   reports, outbox, markers
    _staging/<uuid>/                                                  scratch space before publishing

Publishing a partition writes its files into a new generation folder and then swaps the catalog entry
with an atomic rename, the way the AWS runtime swaps a Glue partition's location. Queries read only
the locations in the catalog, so a reader never sees a half-written or doubled partition.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import LakeError
from ..sql import trino_to_duckdb
from ..tables import TABLES, TableSpec, get_table

GENERATION_KEY = "g"


def partition_path(spec: TableSpec, partition: Mapping[str, str]) -> str:
    """Return the relative Hive path of a partition, checking that every key is given."""
    keys = set(partition)
    expected = set(spec.partition_keys)
    if keys != expected:
        raise LakeError(f"table {spec.name} is partitioned by {list(spec.partition_keys)}, got keys {sorted(keys)}")
    parts = []
    for key in spec.partition_keys:
        value = str(partition[key])
        if not value or "/" in value or value in {".", ".."}:
            raise LakeError(f"invalid partition value {value!r} for {spec.name}.{key}")
        parts.append(f"{key}={value}")
    return "/".join(parts)


class LocalLake:
    """A lake in a local folder, queried with DuckDB."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    # -- catalog -----------------------------------------------------------------------------------

    def _catalog_file(self, table: str) -> Path:
        return self.root / "_catalog" / f"{table}.json"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock_dir = self.root / "_catalog"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read_catalog(self, table: str) -> dict[str, str]:
        path = self._catalog_file(table)
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise LakeError(f"catalog file {path} is unreadable: {error}") from error
        partitions = data.get("partitions", {})
        if not isinstance(partitions, dict):
            raise LakeError(f"catalog file {path} has no 'partitions' object")
        return {str(key): str(value) for key, value in partitions.items()}

    def _write_catalog(self, table: str, partitions: Mapping[str, str]) -> None:
        path = self._catalog_file(table)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        temporary.write_text(json.dumps({"partitions": dict(sorted(partitions.items()))}, indent=1), "utf-8")
        os.replace(temporary, path)

    # -- writing -----------------------------------------------------------------------------------

    def staging_dir(self) -> Path:
        path = self.root / "_staging" / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    def publish_partition(self, table: str, partition: Mapping[str, str], files: Sequence[Path]) -> None:
        spec = get_table(table)
        relative = partition_path(spec, partition)
        generation = uuid.uuid4().hex[:16]
        location = "/".join(p for p in ("tables", table, relative, f"{GENERATION_KEY}={generation}") if p)
        target = self.root / location
        target.mkdir(parents=True)
        for index, source in enumerate(files):
            shutil.move(str(source), target / f"part-{index:05d}.parquet")

        with self._locked():
            catalog = self._read_catalog(table)
            previous = catalog.get(relative)
            catalog[relative] = location
            self._write_catalog(table, catalog)
        if previous and previous != location:
            shutil.rmtree(self.root / previous, ignore_errors=True)

    def write_partition(self, table: str, partition: Mapping[str, str], data: pa.Table) -> None:
        spec = get_table(table)
        missing = [name for name in spec.schema.names if name not in data.column_names]
        if missing:
            raise LakeError(f"cannot write {table}: missing columns {missing}")
        staging = self.staging_dir()
        try:
            file = staging / "part-00000.parquet"
            pq.write_table(data.select(spec.schema.names).cast(spec.schema), file, compression="zstd")
            self.publish_partition(table, partition, [file])
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def drop_partition(self, table: str, partition: Mapping[str, str]) -> bool:
        spec = get_table(table)
        relative = partition_path(spec, partition)
        with self._locked():
            catalog = self._read_catalog(table)
            previous = catalog.pop(relative, None)
            if previous is None:
                return False
            self._write_catalog(table, catalog)
        shutil.rmtree(self.root / previous, ignore_errors=True)
        return True

    def partitions(self, table: str) -> list[dict[str, str]]:
        spec = get_table(table)
        result = []
        for relative in sorted(self._read_catalog(table)):
            values = dict(part.split("=", 1) for part in relative.split("/") if part)
            result.append({key: values[key] for key in spec.partition_keys})
        return result

    # -- reading -----------------------------------------------------------------------------------

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """Open an in-memory DuckDB connection with one view per lake table.

        With ``read_only``, the connection may read the lake's current data files and nothing else on
        disk or the network: no COPY, ATTACH, INSTALL or reads of other files, and the setting is locked.
        """
        connection = duckdb.connect()
        files: list[str] = []
        for spec in TABLES.values():
            files.extend(self._create_view(connection, spec))
        if read_only:
            connection.execute(f"SET allowed_paths = {_sql_list(files)}")
            connection.execute("SET enable_external_access = false")
            connection.execute("SET lock_configuration = true")
        return connection

    def _create_view(self, connection: duckdb.DuckDBPyConnection, spec: TableSpec) -> list[str]:
        """Create the view of one table and return the data files it reads."""
        files: list[str] = []
        for location in self._read_catalog(spec.name).values():
            files.extend(str(path) for path in sorted((self.root / location).glob("*.parquet")))
        if not files:
            # Table.from_batches builds no array from Python objects, so unlike empty_table() it does
            # not make pyarrow 25 import pandas (about 0.8 s of CPU).
            empty = pa.Table.from_batches([], schema=spec.full_schema)
            connection.register(f"{spec.name}__empty", empty)
            connection.execute(f'CREATE VIEW "{spec.name}" AS SELECT * FROM "{spec.name}__empty"')
            return files
        hive_types = {key: "VARCHAR" for key in (*spec.partition_keys, GENERATION_KEY)}
        columns = ", ".join(f'"{name}"' for name in spec.full_schema.names)
        connection.execute(
            f'CREATE VIEW "{spec.name}" AS SELECT {columns} FROM read_parquet($files, '
            f"hive_partitioning = true, hive_types = $hive_types, union_by_name = true)".replace(
                "$files", _sql_list(files)
            ).replace("$hive_types", _sql_struct(hive_types))
        )
        return files

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        return self.query_duckdb(trino_to_duckdb(sql), params)

    def query_duckdb(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run one DuckDB-dialect SELECT (or EXPLAIN) over the lake's views, with no other file access."""
        try:
            connection = self.connect(read_only=True)
        except duckdb.Error as error:
            raise LakeError(f"cannot open the lake at {self.root}: {error}") from error
        try:
            statements = connection.extract_statements(sql)
            if len(statements) != 1:
                raise LakeError(f"expected exactly one SQL statement, got {len(statements)}")
            kind = statements[0].type
            if kind not in (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN):
                raise LakeError(f"only SELECT queries run against the lake, got a {kind.name} statement")
            relation = connection.sql(sql, params=list(params) or None)
            if relation is None:
                return pa.table({})
            return relation.to_arrow_table()
        except duckdb.Error as error:
            raise LakeError(f"query failed: {error}") from error
        finally:
            connection.close()

    # -- documents ---------------------------------------------------------------------------------

    def _document_path(self, key: str) -> Path:
        parts = [part for part in key.split("/") if part]
        if not parts or any(part in {".", ".."} for part in parts):
            raise LakeError(f"invalid document key {key!r}")
        return self.root.joinpath("documents", *parts)

    def put_document(self, key: str, body: bytes) -> None:
        path = self._document_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        temporary.write_bytes(body)
        os.replace(temporary, path)

    def get_document(self, key: str) -> bytes | None:
        path = self._document_path(key)
        return path.read_bytes() if path.is_file() else None

    def list_documents(self, prefix: str) -> list[str]:
        base = self.root / "documents"
        if not base.exists():
            return []
        keys = (path.relative_to(base).as_posix() for path in base.rglob("*") if path.is_file())
        return sorted(key for key in keys if key.startswith(prefix) and not key.rsplit("/", 1)[-1].startswith("."))


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_sql_string(value) for value in values) + "]"


def _sql_struct(values: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{_sql_string(key)}: {_sql_string(value)}" for key, value in values.items()) + "}"
