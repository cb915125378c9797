"""An in-process stand-in for Athena: DuckDB over the Parquet files that Glue points at in moto S3.

moto records Athena queries but does not run them. The handlers' domain code reads the lake back
through ``Lake.query`` (existing partitions, the profile inventory, ingest runs), so the integration
tests replace ``AthenaQueryEngine`` with this engine. It reads exactly what the Glue catalog
registers: each partition's current location (never older generations), with partition values as
string columns, as Athena does. The SQL is translated from Trino to DuckDB as in the local lake.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from genai_finops.sql import trino_to_duckdb
from genai_finops.tables import TABLES, TableSpec


class GlueDuckDbEngine:
    """Runs Trino SQL with DuckDB over the tables of one Glue database (moto), for tests only."""

    def __init__(self, session: boto3.Session, database: str) -> None:
        self.session = session
        self.database = database
        self.queries: list[tuple[str, list[Any]]] = []

    def _locations(self, spec: TableSpec) -> list[tuple[dict[str, str], str]]:
        glue = self.session.client("glue")
        try:
            table = glue.get_table(DatabaseName=self.database, Name=spec.name)["Table"]
        except glue.exceptions.EntityNotFoundException:
            return []
        if not spec.partition_keys:
            return [({}, table["StorageDescriptor"]["Location"])]
        found = []
        for page in glue.get_paginator("get_partitions").paginate(DatabaseName=self.database, TableName=spec.name):
            for partition in page["Partitions"]:
                values = dict(zip(spec.partition_keys, partition["Values"], strict=True))
                found.append((values, partition["StorageDescriptor"]["Location"]))
        return found

    def _read_table(self, spec: TableSpec, scratch: Path) -> pa.Table:
        s3 = self.session.client("s3")
        pieces = []
        for values, location in self._locations(spec):
            bucket, _, prefix = location.removeprefix("s3://").partition("/")
            listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
            for item in listing.get("Contents", []):
                target = scratch / f"{len(pieces)}.parquet"
                s3.download_file(bucket, item["Key"], str(target))
                data = pq.read_table(target).cast(spec.schema)
                for key in spec.partition_keys:
                    column = pa.array([values[key]] * data.num_rows, pa.string())
                    data = data.append_column(pa.field(key, pa.string()), column)
                pieces.append(data)
        if not pieces:
            return spec.full_schema.empty_table()
        return pa.concat_tables(pieces)

    def run(self, sql: str, params: Sequence[Any]) -> pa.Table:
        self.queries.append((sql, list(params)))
        connection = duckdb.connect()
        try:
            connection.execute("SET TimeZone = 'UTC'")
            with tempfile.TemporaryDirectory(prefix="fake-athena-") as scratch:
                for spec in TABLES.values():
                    folder = Path(scratch) / spec.name
                    folder.mkdir()
                    connection.register(spec.name, self._read_table(spec, folder))
                relation = connection.sql(trino_to_duckdb(sql), params=list(params) or None)
                return relation.to_arrow_table() if relation is not None else pa.table({})
        finally:
            connection.close()
